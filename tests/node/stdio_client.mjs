#!/usr/bin/env node
// Connect to the MCP server over stdio with the official TypeScript SDK, the way a
// TypeScript-based host would, list its tools, call get_task once, and print a JSON
// summary on stdout.
//
//   node tests/node/stdio_client.mjs --task order-blue-widget [--env NAME=VALUE ...] -- COMMAND [ARG ...]
//
// The server is started with the SDK's default inherited environment (PATH, HOME, ...)
// plus the --env values, so variables such as BROWSER_USE_API_KEY from the calling shell
// never reach it by accident. Exit code 0 when the session worked, whatever get_task said;
// 1 with {"error": ...} on stdout when it did not.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { getDefaultEnvironment, StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const TIMEOUT_MS = 45_000;

function parseArgs(argv) {
  const split = argv.indexOf("--");
  if (split < 0 || split === argv.length - 1) {
    throw new Error("usage: stdio_client.mjs --task ID [--env NAME=VALUE ...] -- COMMAND [ARG ...]");
  }
  const options = { task: null, env: {} };
  const own = argv.slice(0, split);
  for (let i = 0; i < own.length; i += 1) {
    const flag = own[i];
    const value = own[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === "--task") options.task = value;
    else if (flag === "--env") {
      const eq = value.indexOf("=");
      if (eq <= 0) throw new Error(`--env wants NAME=VALUE, got ${value}`);
      options.env[value.slice(0, eq)] = value.slice(eq + 1);
    } else throw new Error(`unknown option ${flag}`);
    i += 1;
  }
  if (!options.task) throw new Error("--task is required");
  const [command, ...args] = argv.slice(split + 1);
  return { ...options, command, args };
}

function textOf(result) {
  return (result.content ?? [])
    .filter((block) => block.type === "text")
    .map((block) => block.text)
    .join("\n");
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const transport = new StdioClientTransport({
    command: options.command,
    args: options.args,
    env: { ...getDefaultEnvironment(), ...options.env },
    stderr: "pipe",
  });
  let serverLog = "";
  transport.stderr?.on("data", (chunk) => {
    serverLog = (serverLog + chunk.toString()).slice(-4000);
  });
  const client = new Client({ name: "browser-use-tasks-mcp-ts-test", version: "0.1.0" });
  const timer = setTimeout(() => {
    process.stdout.write(JSON.stringify({ error: `timed out after ${TIMEOUT_MS} ms`, serverLog }) + "\n");
    process.exit(1);
  }, TIMEOUT_MS);
  try {
    await client.connect(transport);
    const { tools } = await client.listTools();
    const task = await client.callTool({ name: "get_task", arguments: { task_id: options.task } });
    const summary = {
      server: client.getServerVersion() ?? null,
      capabilities: Object.keys(client.getServerCapabilities() ?? {}).sort(),
      tools: tools.map((tool) => tool.name),
      get_task: {
        isError: Boolean(task.isError),
        text: textOf(task),
        structuredContent: task.structuredContent ?? null,
      },
    };
    process.stdout.write(JSON.stringify(summary) + "\n");
  } catch (error) {
    process.stdout.write(JSON.stringify({ error: String(error?.stack ?? error), serverLog }) + "\n");
    process.exitCode = 1;
  } finally {
    clearTimeout(timer);
    await client.close().catch(() => {});
  }
}

main().catch((error) => {
  process.stdout.write(JSON.stringify({ error: String(error?.message ?? error) }) + "\n");
  process.exit(1);
});
