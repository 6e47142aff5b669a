#!/usr/bin/env node
// Play an MCP Apps host for the run viewer in a real headless Chromium, against the real server.
//
//   node tests/node/viewer_host.mjs SPEC.json
//
// SPEC: {"command": "...", "args": [...], "env": {...}, "chromium": "/usr/bin/chromium", "out": DIR,
//        "tasks": [{"id": "...", "png": "name.png" | null, "width": 900, "theme": "light"}]}
//
// The server is started over stdio with the official MCP TypeScript SDK client, which says it
// renders MCP Apps. For each task the script reads the `ui://` resource `get_task` names, calls
// `get_task`, and loads the viewer into a sandboxed iframe whose parent page relays postMessage
// to the official ext-apps `AppBridge` running here; the bridge answers `ui/initialize`, sends
// the tool input and result, and forwards the viewer's `tools/call` to the server. It then
// reads the DOM, moves with the keyboard, saves a PNG, and prints one JSON summary on stdout
// for pytest to assert on. Every request Chromium makes is recorded (and refused).

import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";

import { AppBridge, RESOURCE_URI_META_KEY } from "@modelcontextprotocol/ext-apps/app-bridge";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { getDefaultEnvironment, StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { chromium } from "playwright-core";

const APP_MIME = "text/html;profile=mcp-app";
const WAIT_MS = 30_000;
const HOST_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>host</title>
<style>body{margin:0;background:#888}iframe{border:0;display:block;width:100%;height:100vh}</style></head>
<body><iframe id="app" sandbox="allow-scripts" title="run viewer"></iframe>
<script>
  const frame = document.getElementById("app");
  window.addEventListener("message", (event) => {
    if (event.source === frame.contentWindow) window.__fromView(event.data);
  });
  window.__toView = (message) => frame.contentWindow.postMessage(message, "*");
</script></body></html>`;

// The AppBridge's transport: postMessage with the iframe, relayed through the host page.
class PageTransport {
  constructor(page) {
    this.page = page;
  }
  async start() {}
  async send(message) {
    await this.page.evaluate((m) => window.__toView(m), message);
  }
  async close() {
    this.onclose?.();
  }
}

async function openServer(spec) {
  const transport = new StdioClientTransport({
    command: spec.command,
    args: spec.args,
    env: { ...getDefaultEnvironment(), ...(spec.env ?? {}) },
    stderr: "pipe",
  });
  let log = "";
  transport.stderr?.on("data", (chunk) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const client = new Client(
    { name: "viewer-host-test", version: "0.1.0" },
    { capabilities: { extensions: { "io.modelcontextprotocol/ui": { mimeTypes: [APP_MIME] } } } },
  );
  await client.connect(transport);
  return { client, serverLog: () => log };
}

async function viewerResource(client) {
  const { tools } = await client.listTools();
  const getTask = tools.find((tool) => tool.name === "get_task");
  const uri = getTask?._meta?.ui?.resourceUri;
  if (!uri) throw new Error("get_task names no ui resource");
  const { contents } = await client.readResource({ uri });
  const [html] = contents;
  if (html.mimeType !== APP_MIME) throw new Error(`viewer served as ${html.mimeType}`);
  // The flat key of the first drafts, as the official package spells it.
  const flatUri = getTask._meta[RESOURCE_URI_META_KEY] ?? null;
  return { uri, flatUri, html: html.text, meta: html._meta ?? null };
}

async function showTask(browser, client, resource, task, out) {
  const context = await browser.newContext({
    viewport: { width: task.width ?? 900, height: task.height ?? 900 },
    colorScheme: task.theme ?? "light",
  });
  const requests = [];
  context.on("request", (request) => requests.push(request.url()));
  await context.route("**/*", (route) => route.abort());
  const page = await context.newPage();
  const pageErrors = [];
  const bridgeCalls = [];
  const transport = new PageTransport(page);
  await page.exposeFunction("__fromView", (message) => transport.onmessage?.(message));
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  await page.setContent(HOST_PAGE);

  const bridge = new AppBridge(
    null,
    { name: "viewer-host-test", version: "0.1.0" },
    { serverTools: {}, serverResources: {} },
    { hostContext: { theme: task.theme ?? "light", displayMode: "inline", ...(task.styles ? { styles: { variables: task.styles } } : {}) } },
  );
  bridge.oncalltool = async (params) => {
    bridgeCalls.push({ method: "tools/call", name: params.name, arguments: params.arguments ?? {} });
    return client.callTool({ name: params.name, arguments: params.arguments });
  };
  bridge.onreadresource = async (params) => {
    bridgeCalls.push({ method: "resources/read", uri: params.uri });
    return client.readResource({ uri: params.uri });
  };
  const initialized = new Promise((resolve) => {
    bridge.oninitialized = resolve;
  });
  await bridge.connect(transport);
  // As a host's sandbox does: the viewer runs under the policy built from its declared `_meta.ui.csp`,
  // on top of its own.
  const hostPolicy = hostCsp(resource.meta?.ui?.csp ?? {});
  const framed = resource.html.replace("<head>", `<head><meta http-equiv="Content-Security-Policy" content="${hostPolicy}">`);
  await page.evaluate((html) => {
    document.getElementById("app").srcdoc = html;
  }, framed);
  await withTimeout(initialized, "the viewer never initialized");

  const args = { task_id: task.id };
  const result = await client.callTool({ name: "get_task", arguments: args });
  await bridge.sendToolInput({ arguments: args });
  await bridge.sendToolResult(result);

  const frame = page.frameLocator("#app");
  const body = frame.locator("body");
  await body.and(frame.locator('body[data-state="ready"], body[data-state="error"]')).waitFor({ timeout: WAIT_MS });
  const fed = result.structuredContent ?? {};
  const summary = {
    id: task.id,
    state: await body.getAttribute("data-state"),
    fed: { step_count: fed.step_count ?? null, failing_steps: fed.failing_steps ?? null, isError: Boolean(result.isError) },
  };
  summary.notice = await frame.locator("#notice").textContent();
  if (summary.state !== "ready" || (await frame.locator('[data-testid="step-row"]').count()) === 0) {
    summary.rows = 0;
    await savePng(page, task, out, summary);
    await context.close();
    return { ...summary, requests, pageErrors, bridgeCalls };
  }
  summary.title = await frame.locator("#title").textContent();
  summary.badges = await frame.locator("#badges .badge").allTextContents();
  summary.rows = await frame.locator('[data-testid="step-row"]').count();
  summary.errorRows = await frame
    .locator('[data-testid="step-row"]:has([data-testid="error-badge"])')
    .evaluateAll((rows) => rows.map((row) => Number(row.dataset.step)));
  summary.selected = Number(await body.getAttribute("data-selected"));
  summary.ariaSelected = await frame.locator('[aria-selected="true"]').evaluateAll((r) => r.map((x) => Number(x.dataset.step)));
  summary.first = await stepView(frame, summary.selected);
  summary.callsAfterFirst = bridgeCalls.length;
  await savePng(page, task, out, summary); // the first failing step, as the person first sees it

  // Keyboard: the next step (or the previous one when the failing step is the last).
  const rows = await frame.locator('[data-testid="step-row"]').evaluateAll((r) => r.map((x) => Number(x.dataset.step)));
  const index = rows.indexOf(summary.selected);
  const key = index < rows.length - 1 ? "ArrowDown" : "ArrowUp";
  if (rows.length > 1) {
    await page.locator("#app").focus();
    await frame.locator("#timeline").focus();
    await page.keyboard.press(key);
    summary.moved = { key, expected: rows[index + (key === "ArrowDown" ? 1 : -1)] };
    summary.moved.selected = Number(await body.getAttribute("data-selected"));
    summary.moved.view = await stepView(frame, summary.moved.expected);
  }
  summary.callsBeforeMedia = bridgeCalls.length;
  if (task.media) summary.media = await showMedia(frame);
  // The page title as the viewer shows it, and whether anything in it was parsed as HTML.
  summary.pageTitles = await frame.locator('[data-testid="page-title"], [data-testid="tab"]').allTextContents();
  summary.injected = await frame.locator("#detail img:not(#shot), #detail script, #detail b, #timeline img").count();
  summary.pwned = await page.frames()[1].evaluate(() => window.__pwned === true);
  summary.theme = await frame.locator("html").getAttribute("data-theme");
  summary.background = await body.evaluate((node) => getComputedStyle(node).backgroundColor);
  summary.overflowX = await frame.locator("html").evaluate((node) => node.scrollWidth - node.clientWidth);
  if (task.switchTheme) {
    // The host switches theme mid-conversation: the viewer follows.
    const other = summary.theme === "dark" ? "light" : "dark";
    await bridge.sendHostContextChange({ theme: other });
    await frame.locator(`html[data-theme="${other}"]`).waitFor({ timeout: WAIT_MS });
    summary.switchedTo = other;
    summary.backgroundAfterSwitch = await body.evaluate((node) => getComputedStyle(node).backgroundColor);
  }
  summary.htmlBytes = Buffer.byteLength(resource.html);
  await context.close();
  return { ...summary, requests, pageErrors, bridgeCalls };
}

// The run's GIF and recordings, loaded when the person asks for them.
async function showMedia(frame) {
  await frame.locator('[data-testid="gif-button"]').click();
  await frame.locator('#media[data-media="done"]').waitFor({ timeout: WAIT_MS });
  const gif = frame.locator("#gif:not([hidden])");
  const status = frame.locator("#gif-status");
  const shown = {
    gif: (await gif.count()) ? await gif.evaluate((img) => ({ width: img.naturalWidth, height: img.naturalHeight, scheme: img.src.split(":")[0] })) : null,
    status: await status.textContent(),
    recordings: await frame.locator('[data-testid="recordings"] li').allTextContents(),
    video: null,
  };
  const play = frame.locator('[data-testid="play"]').first();
  if (await play.count()) {
    await play.click();
    const video = frame.locator('video[data-ready="true"], video[data-failed="true"]');
    await video.waitFor({ timeout: WAIT_MS });
    shown.video = await video.evaluate((v) => ({
      played: v.dataset.ready === "true", duration: v.duration, width: v.videoWidth, scheme: v.src.split(":")[0],
    }));
  }
  return shown;
}

async function savePng(page, task, out, summary) {
  if (!task.png) return;
  mkdirSync(out, { recursive: true });
  summary.png = path.join(out, task.png);
  await page.locator("#app").screenshot({ path: summary.png });
}

// The CSP the MCP Apps specification has a host build from a resource's `_meta.ui.csp`
// (its restrictive defaults when a list is empty or missing).
function hostCsp(csp) {
  const list = (domains) => (domains ?? []).join(" ");
  const resources = list(csp.resourceDomains);
  return [
    "default-src 'none'",
    `script-src 'self' 'unsafe-inline' ${resources}`,
    `style-src 'self' 'unsafe-inline' ${resources}`,
    `img-src 'self' data: ${resources}`,
    `font-src 'self' ${resources}`,
    `media-src 'self' data: ${resources}`,
    `connect-src ${list(csp.connectDomains) || "'none'"}`,
    `frame-src ${list(csp.frameDomains) || "'none'"}`,
    `base-uri ${list(csp.baseUriDomains) || "'self'"}`,
    "object-src 'none'",
  ].map((d) => d.trim()).join("; ");
}

// One step as shown once its screenshot has loaded (or the viewer said there is none).
async function stepView(frame, number) {
  const shot = frame.locator(`#shot[data-step="${number}"]`);
  const none = frame.locator('[data-testid="shot-status"]', { hasText: /No screenshot/ });
  await shot.or(none).first().waitFor({ timeout: WAIT_MS });
  const loaded = await shot.count();
  const view = {
    heading: await frame.locator("#step-title").textContent(),
    screenshot: loaded
      ? await shot.evaluate((img) => {
          // Shown whole: scaled into its box, never cropped by it.
          const box = img.parentElement.getBoundingClientRect();
          const shown = img.getBoundingClientRect();
          const fits = shown.left >= box.left - 0.5 && shown.right <= box.right + 0.5 && shown.width > 0;
          return { width: img.naturalWidth, height: img.naturalHeight, scheme: img.src.split(":")[0], fits };
        })
      : null,
    status: await frame.locator('[data-testid="shot-status"]').textContent(),
  };
  view.sections = await frame.locator("#step-body [data-section]").evaluateAll((s) => s.map((x) => x.dataset.section));
  return view;
}

function withTimeout(promise, message) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), WAIT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function main() {
  const spec = JSON.parse(readFileSync(process.argv[2], "utf8"));
  const { client, serverLog } = await openServer(spec);
  // Playwright gives every launch a new temporary profile (user-data-dir), removed on close.
  const browser = await chromium.launch({
    executablePath: spec.chromium,
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  try {
    const resource = await viewerResource(client);
    const tasks = [];
    for (const task of spec.tasks) tasks.push(await showTask(browser, client, resource, task, spec.out));
    process.stdout.write(JSON.stringify({ resource: { uri: resource.uri, flatUri: resource.flatUri, meta: resource.meta }, tasks }) + "\n");
  } catch (error) {
    process.stdout.write(JSON.stringify({ error: String(error?.stack ?? error), serverLog: serverLog() }) + "\n");
    process.exitCode = 1;
  } finally {
    await browser.close();
    await client.close();
  }
}

await main();
