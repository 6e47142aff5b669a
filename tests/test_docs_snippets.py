"""Every ```json block in README.md and docs/*.md is real JSON, and client configs would work.

Readers paste these blocks into claude_desktop_config.json, .vscode/mcp.json or
~/.cursor/mcp.json, where a comment or a trailing comma is a syntax error. For each block
that configures MCP servers ("mcpServers" or VS Code's "servers"), every server must
start a command that exists for this project (uvx, pipx, the console script or Python)
with arguments the CLI accepts, set only environment variables the server reads, and
refer only to VS Code inputs the block declares. Remote entries must point at /mcp.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from browser_use_tasks_mcp.cli import _parser

REPO = Path(__file__).resolve().parents[1]
CONFIG_PY = REPO / "server" / "browser_use_tasks_mcp" / "config.py"
DOC_FILES = [p for p in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))] if p.is_file()]
FENCE = re.compile(r"^([ \t]*)```json[ \t]*\n(.*?)^\1```[ \t]*$", re.MULTILINE | re.DOTALL)
PACKAGE = "browser-use-tasks-mcp"
COMMANDS = {"uvx", "pipx", "browser-use-tasks-mcp", "python", "python3"}
INPUT_REF = re.compile(r"\$\{input:([^}]+)\}")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int
    text: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO).as_posix()}:{self.line}"


def _blocks() -> list[Block]:
    found = []
    for path in DOC_FILES:
        source = path.read_text(encoding="utf-8")
        for match in FENCE.finditer(source):
            indent = match.group(1)
            body = "\n".join(
                line[len(indent) :] if line.startswith(indent) else line
                for line in match.group(2).splitlines()
            )
            found.append(Block(path, source.count("\n", 0, match.start()) + 1, body))
    return found


BLOCKS = _blocks()


def _server_env_names() -> set[str]:
    """The variables the server reads: the quoted BROWSER_USE_* names in config.py."""
    return set(re.findall(r"\"(BROWSER_USE_[A-Z0-9_]+)\"", CONFIG_PY.read_text(encoding="utf-8")))


def _servers(config: Any) -> dict[str, dict[str, Any]] | None:
    if not isinstance(config, dict):
        return None
    for key in ("mcpServers", "servers"):
        servers = config.get(key)
        if isinstance(servers, dict) and all(isinstance(v, dict) for v in servers.values()):
            return servers
    return None


def _command_name(command: str) -> str:
    name = re.split(r"[\\/]", command)[-1].lower()
    return name.removesuffix(".exe")


def _cli_args(command: str, args: list[str]) -> list[str]:
    """The arguments that reach browser-use-tasks-mcp's own parser, after the launcher's."""
    name = _command_name(command)
    if name == "uvx":
        package = next((i for i, a in enumerate(args) if a.split("==")[0].split("@")[0] == PACKAGE), None)
        assert package is not None, f"uvx must run {PACKAGE}: {args}"
        return args[package + 1 :]
    if name == "pipx":
        assert args[:1] == ["run"], f"pipx needs `run`: {args}"
        package = next((i for i, a in enumerate(args) if a.split("==")[0] == PACKAGE), None)
        assert package is not None, f"pipx must run {PACKAGE}: {args}"
        return args[package + 1 :]
    if name in ("python", "python3"):
        assert args[:2] == ["-m", "browser_use_tasks_mcp"], (
            f"python must run -m browser_use_tasks_mcp: {args}"
        )
        return args[2:]
    return args


def test_the_docs_have_json_blocks() -> None:
    assert BLOCKS, "expected ```json blocks in README.md and docs/*.md"


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.where)
def test_json_block_is_plain_json(block: Block) -> None:
    try:
        json.loads(block.text)
    except json.JSONDecodeError as exc:
        pytest.fail(f"{block.where}: not plain JSON ({exc}); JSON config files allow no comments")


def _try_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None  # reported by test_json_block_is_plain_json


CONFIG_BLOCKS = [b for b in BLOCKS if _servers(_try_json(b.text))]


@pytest.mark.parametrize("block", CONFIG_BLOCKS, ids=lambda b: b.where)
def test_client_config_block_would_start_this_server(block: Block) -> None:
    config = json.loads(block.text)
    servers = _servers(config)
    assert servers
    known = _server_env_names()
    inputs = {entry.get("id"): entry for entry in config.get("inputs", [])}
    for name, server in servers.items():
        where = f"{block.where} server {name!r}"
        if "url" in server:
            assert re.fullmatch(r"https?://[^/\s]+/mcp", server["url"]), f"{where}: URL should end in /mcp"
            for header, value in server.get("headers", {}).items():
                if header.lower() == "authorization":
                    assert value.startswith("Bearer "), f"{where}: the server expects a bearer token"
        else:
            assert "command" in server, f"{where}: needs a command or a url"
            command = server["command"]
            assert _command_name(command) in COMMANDS, f"{where}: unknown command {command!r}"
            args = server.get("args", [])
            assert isinstance(args, list) and all(isinstance(a, str) for a in args), where
            try:
                _parser().parse_args(_cli_args(command, args))
            except SystemExit:
                pytest.fail(f"{where}: browser-use-tasks-mcp would reject the arguments {args}")
        env = server.get("env", {})
        unknown = set(env) - known
        assert not unknown, (
            f"{where}: the server does not read {sorted(unknown)} (config.py reads {sorted(known)})"
        )
        for value in [*env.values(), *server.get("headers", {}).values()]:
            for ref in INPUT_REF.findall(value):
                assert ref in inputs, f"{where}: ${{input:{ref}}} is not declared in inputs"
                assert inputs[ref].get("type") == "promptString", where
                assert inputs[ref].get("password") is True, f"{where}: secrets should be password inputs"


def test_clients_page_covers_each_client() -> None:
    page = REPO / "docs" / "clients.md"
    text = page.read_text(encoding="utf-8")
    configs = [json.loads(b.text) for b in CONFIG_BLOCKS if b.path == page]
    commands = {
        _command_name(s["command"]) for c in configs for s in (_servers(c) or {}).values() if "command" in s
    }
    assert {"uvx", "pipx", "browser-use-tasks-mcp", "python"} <= commands
    assert any("inputs" in c and "servers" in c for c in configs), "a VS Code config with inputs"
    assert any("url" in s and "headers" in s for c in configs for s in (_servers(c) or {}).values()), (
        "a remote config with a bearer token"
    )
    for phrase in (
        "claude_desktop_config.json",
        ".mcpb",
        "claude mcp add browser-use-tasks -- uvx browser-use-tasks-mcp",
        "-e BROWSER_USE_API_KEY=",
        ".vscode/mcp.json",
        "~/.cursor/mcp.json",
        "--transport streamable-http",
        "pipx run browser-use-tasks-mcp",
        "uvx browser-use-tasks-mcp",
    ):
        assert phrase in text, phrase
