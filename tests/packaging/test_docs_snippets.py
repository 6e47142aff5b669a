"""Every ```json block in README.md and docs/*.md is real JSON, and client configs would work.

Readers paste these blocks into claude_desktop_config.json, .vscode/mcp.json or
~/.cursor/mcp.json, where a comment or a trailing comma is a syntax error. For each block
that configures MCP servers ("mcpServers" or VS Code's "servers"), every server must
start a command that exists for this project (uvx, pipx, the console script or Python)
with arguments the CLI accepts, set only environment variables the server reads, and
refer only to VS Code inputs the block declares. Remote entries must point at /mcp.

The package is not on PyPI yet, so README.md and docs/clients.md may show the registry forms
(`uvx browser-use-tasks-mcp`, `pipx run browser-use-tasks-mcp`, ...) only inside a note marked
"After the first release" between `<!-- after-first-release:begin -->` and
`<!-- after-first-release:end -->`; everywhere else they lead with the routes that work from a
clone, which tests/packaging/test_install_paths.py runs for real.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from browser_use_tasks_mcp.cli import _parser
from tests.helpers import REPO

CONFIG_PY = REPO / "server" / "browser_use_tasks_mcp" / "config.py"
DOC_FILES = [p for p in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))] if p.is_file()]
FENCE = re.compile(r"^([ \t]*)```json[ \t]*\n(.*?)^\1```[ \t]*$", re.MULTILINE | re.DOTALL)
PACKAGE = "browser-use-tasks-mcp"
COMMANDS = {"uvx", "pipx", "browser-use-tasks-mcp", "python", "python3"}
INPUT_REF = re.compile(r"\$\{input:([^}]+)\}")
INSTALL_DOCS = [REPO / "README.md", REPO / "docs" / "clients.md"]
NOTE = re.compile(r"<!-- after-first-release:begin -->\n(.*?)<!-- after-first-release:end -->", re.DOTALL)
NOTE_TITLE = "after the first release"
CLONE = "/absolute/path/to/clone"  # the placeholder the docs use for the clone's absolute path
# Routes that work today, from a clone; each is run for real in tests/packaging/test_install_paths.py.
CLONE_ROUTES = (
    f"{CLONE}/.venv/bin/browser-use-tasks-mcp",
    f"uvx --from {CLONE} browser-use-tasks-mcp",
    f"pipx install {CLONE}",
)


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


def _note_spans(text: str) -> list[tuple[int, int]]:
    return [match.span() for match in NOTE.finditer(text)]


def _in_note(block: Block) -> bool:
    text = block.path.read_text(encoding="utf-8")
    offset = sum(len(line) + 1 for line in text.split("\n")[: block.line - 1])
    return any(start <= offset < end for start, end in _note_spans(text))


def _outside_notes(text: str) -> str:
    """The text with every "after the first release" note blanked out (line numbers kept)."""
    return NOTE.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def _server_env_names() -> set[str]:
    """The variables the server reads: the quoted BROWSER_USE_* names in config.py."""
    return set(re.findall(r"\"(BROWSER_USE_[A-Z0-9_]+)\"", CONFIG_PY.read_text(encoding="utf-8")))


def _is_package(token: str) -> bool:
    """`browser-use-tasks-mcp` as a registry requirement (possibly pinned or with extras)."""
    return re.fullmatch(rf"{PACKAGE}(\[[^\]]*\])?([=@<>~!].*)?", token) is not None


LAUNCHER = re.compile(r"(?<![\w.-])(uvx|pipx\s+run|pipx\s+install|pip\s+install)(?![\w-])(?=([^\n]*))")
VALUE_OPTIONS = {"--from", "--spec", "--with", "--python", "-p", "--index", "--index-url", "--pip-args"}
COMMAND_END = {"`", "&&", "||", ";", "|", "#", "\\"}


def _fetched(launcher: str, args: list[str]) -> list[str]:
    """What `launcher args...` fetches: uvx's --from or command, pipx run's --spec or app, the
    positional arguments of pipx/pip install."""
    options: dict[str, str] = {}
    positionals: list[str] = []
    tokens = iter(args)
    for token in tokens:
        if token in COMMAND_END or token.startswith("#"):
            break
        if token.startswith("-"):
            name, equals, value = token.partition("=")
            if name in VALUE_OPTIONS:
                options[name] = value if equals else next(tokens, "")
            continue
        positionals.append(token)
        if launcher in ("uvx", "pipx run"):
            break  # the rest are the server's own arguments
    if launcher == "uvx":
        return [options.get("--from") or "".join(positionals[:1])]
    if launcher == "pipx run":
        return [options.get("--spec") or "".join(positionals[:1])]
    return positionals


def _unquote(token: str) -> str:
    """A word as the shell or a JSON array would see it: no quotes, commas or enclosing brackets."""
    token = token.strip("\"',()").lstrip("[")
    while token.count("]") > token.count("["):
        token = token[:-1]
    return token.strip("\"',")


def registry_commands(text: str) -> list[str]:
    """Shell commands in `text` that would fetch browser-use-tasks-mcp from a package registry.

    `uvx browser-use-tasks-mcp`, `pipx run browser-use-tasks-mcp`, `pipx install browser-use-tasks-mcp`
    (with any options, pins or extras) would; `uvx --from PATH browser-use-tasks-mcp`,
    `pipx run --spec PATH browser-use-tasks-mcp` and `pipx install PATH` would not.
    """
    found = []
    for match in LAUNCHER.finditer(text.replace("`", " ` ")):
        launcher = " ".join(match.group(1).split())
        args = [t for t in (_unquote(t) for t in match.group(2).split()) if t]
        if any(_is_package(t) for t in _fetched(launcher, args)):
            found.append(f"{launcher} {match.group(2).split('`')[0].strip()}")
    return found


def _registry_config(server: dict[str, Any]) -> bool:
    """A stdio config whose uvx or pipx would fetch the package from a registry."""
    name = _command_name(server.get("command", ""))
    args = [str(a) for a in server.get("args", [])]
    if name == "uvx":
        return any(_is_package(t) for t in _fetched("uvx", args))
    if name == "pipx" and args[:1] == ["run"]:
        return any(_is_package(t) for t in _fetched("pipx run", args[1:]))
    return False


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
        f"claude mcp add browser-use-tasks -- uvx --from {CLONE} browser-use-tasks-mcp",
        "-e BROWSER_USE_API_KEY=",
        ".vscode/mcp.json",
        "~/.cursor/mcp.json",
        "--transport streamable-http",
        *CLONE_ROUTES,
    ):
        assert phrase in _outside_notes(text), phrase
    notes = "".join(NOTE.findall(text))
    for phrase in ("uvx browser-use-tasks-mcp", "pipx run browser-use-tasks-mcp"):
        assert phrase in notes, f"{phrase!r} belongs in the after-the-first-release note"


# --------------------------------------------------------------------------- install routes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("uvx browser-use-tasks-mcp", ["uvx browser-use-tasks-mcp"]),
        ("X=1 uvx browser-use-tasks-mcp check", ["uvx browser-use-tasks-mcp check"]),
        (
            "uvx --python 3.12 browser-use-tasks-mcp@latest demo",
            ["uvx --python 3.12 browser-use-tasks-mcp@latest demo"],
        ),
        (
            "uvx --from browser-use-tasks-mcp==0.1.0 browser-use-tasks-mcp",
            ["uvx --from browser-use-tasks-mcp==0.1.0 browser-use-tasks-mcp"],
        ),
        ("run `pipx run browser-use-tasks-mcp` or", ["pipx run browser-use-tasks-mcp"]),
        (
            "pipx install browser-use-tasks-mcp  # for good",
            ["pipx install browser-use-tasks-mcp  # for good"],
        ),
        ("pip install 'browser-use-tasks-mcp[test]'", ["pip install 'browser-use-tasks-mcp[test]'"]),
        ("claude mcp add x -e K=v -- uvx browser-use-tasks-mcp", ["uvx browser-use-tasks-mcp"]),
        (".venv/bin/pip install browser-use-tasks-mcp", ["pip install browser-use-tasks-mcp"]),
        ("~/.local/bin/uvx browser-use-tasks-mcp", ["uvx browser-use-tasks-mcp"]),
        (
            "`uvx --from /a/clone browser-use-tasks-mcp`, not `uvx browser-use-tasks-mcp`",
            ["uvx browser-use-tasks-mcp"],
        ),
        (f"uvx --from {CLONE} browser-use-tasks-mcp check", []),
        (f"uvx --reinstall --from {CLONE} browser-use-tasks-mcp", []),
        ("pipx run --spec /a/clone browser-use-tasks-mcp demo", []),
        (f"pipx install --force {CLONE}", []),
        (
            "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/browser-use-tasks-mcp demo",
            [],
        ),
        ("If it cannot find `uvx`, use its full path (`which uvx`, usually `~/.local/bin/uvx`).", []),
        ("`pip install` of the clone into any environment", []),
    ],
)
def test_registry_command_detector(text: str, expected: list[str]) -> None:
    assert registry_commands(text) == expected


@pytest.mark.parametrize("path", INSTALL_DOCS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_registry_forms_only_after_the_first_release(path: Path) -> None:
    """The package is not on PyPI: outside the marked note, no command or config fetches it from there."""
    text = path.read_text(encoding="utf-8")
    where = path.relative_to(REPO).as_posix()
    found = registry_commands(_outside_notes(text))
    assert not found, f"{where} recommends registry installs outside an after-the-first-release note: {found}"
    for block in CONFIG_BLOCKS:
        if block.path == path and not _in_note(block):
            servers = _servers(json.loads(block.text)) or {}
            for name, server in servers.items():
                assert not _registry_config(server), (
                    f"{block.where} server {name!r}: {server.get('command')} {server.get('args')} fetches the "
                    f"package from a registry; use --from/--spec {CLONE} or move it into the note"
                )


@pytest.mark.parametrize("path", INSTALL_DOCS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_after_the_first_release_notes_are_marked(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    where = path.relative_to(REPO).as_posix()
    begins, ends = (
        text.count("<!-- after-first-release:begin -->"),
        text.count("<!-- after-first-release:end -->"),
    )
    assert begins == ends == len(NOTE.findall(text)), f"{where}: unbalanced after-first-release markers"
    for note in NOTE.findall(text):
        title = next(line for line in note.splitlines() if line.strip())
        assert NOTE_TITLE in title.lower(), (
            f"{where}: a note must open with 'After the first release': {title!r}"
        )


@pytest.mark.parametrize("path", INSTALL_DOCS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_docs_lead_with_routes_that_work_from_a_clone(path: Path) -> None:
    text = _outside_notes(path.read_text(encoding="utf-8"))
    for route in CLONE_ROUTES:
        assert route in text, f"{path.relative_to(REPO).as_posix()} should show {route!r}"
