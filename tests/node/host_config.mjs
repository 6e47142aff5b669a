#!/usr/bin/env node
// Resolve a bundle's server.mcp_config exactly as an MCPB host does, with the official
// @anthropic-ai/mcpb library (platform_overrides, user_config defaults, ${__dirname} and
// ${user_config.*} substitution), and print the resulting {command, args, env} as JSON.
//
//   node tests/node/host_config.mjs UNPACKED_BUNDLE_DIR '{"api_key": ""}'
//
// The second argument is the user's settings as the host would store them (JSON object);
// omit it for "the user never opened the settings".

import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, sep } from "node:path";

import { getMcpConfigForManifest } from "@anthropic-ai/mcpb";

async function main() {
  const [bundleDir, userConfigJson] = process.argv.slice(2);
  if (!bundleDir) throw new Error("usage: host_config.mjs UNPACKED_BUNDLE_DIR [USER_CONFIG_JSON]");
  const manifest = JSON.parse(readFileSync(join(bundleDir, "manifest.json"), "utf-8"));
  const home = homedir();
  const config = await getMcpConfigForManifest({
    manifest,
    extensionPath: bundleDir,
    systemDirs: {
      HOME: home,
      DESKTOP: join(home, "Desktop"),
      DOCUMENTS: join(home, "Documents"),
      DOWNLOADS: join(home, "Downloads"),
    },
    userConfig: userConfigJson ? JSON.parse(userConfigJson) : undefined,
    pathSeparator: sep,
  });
  if (!config) throw new Error("the host would not start this bundle (required configuration missing)");
  const { platform_overrides: _ignored, ...resolved } = config;
  process.stdout.write(JSON.stringify(resolved) + "\n");
}

main().catch((error) => {
  process.stderr.write(`host_config: ${error?.message ?? error}\n`);
  process.exit(1);
});
