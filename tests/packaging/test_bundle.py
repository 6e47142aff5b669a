"""The Claude Desktop bundle: manifest, packing, and the packed server started as a host would.

Needs Node.js 20+ and `npm ci --prefix tests/node` (the official `@anthropic-ai/mcpb` CLI and
library). The bundle is built once per session with `scripts/build_bundle.py --target host`:
the real build, vendoring the dependencies for this interpreter and machine only.
"""

from __future__ import annotations

import importlib.util
import json
import platform
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp_types import TextContent

import browser_use_tasks_mcp
from browser_use_tasks_mcp.tools import TOOLS
from tests.helpers import REPO

NODE_DIR = REPO / "tests" / "node"
MANIFEST_PATH = REPO / "manifest.json"
MANIFEST: dict[str, Any] = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
CONFIG_PY = REPO / "server" / "browser_use_tasks_mcp" / "config.py"
NODE = shutil.which("node")
NPX = shutil.which("npx")

needs_node = pytest.mark.skipif(
    NODE is None or NPX is None,
    reason="Node.js (node and npx) is not installed; the bundle tests run the official mcpb CLI, "
    "so install Node.js 20+ and run `npm ci --prefix tests/node`",
)

# The one tool list the server registers, so the manifest cannot drift from it.
EXPECTED_TOOLS = {spec.name for spec in TOOLS}
EXPECTED_PROMPTS = {"debug_task", "summarize_task"}


def _load_build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_bundle", REPO / "scripts" / "build_bundle.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_bundle"] = module
    spec.loader.exec_module(module)
    return module


build_bundle = _load_build_script()


def _mcpb() -> list[str]:
    local = NODE_DIR / "node_modules" / ".bin" / "mcpb"
    if not local.exists():
        pytest.fail("tests/node/node_modules is missing: run `npm ci --prefix tests/node` before pytest")
    return [str(local)]


def _server_env_names() -> set[str]:
    """Environment variables the server reads: the quoted BROWSER_USE_* literals in config.py."""
    return set(re.findall(r"\"(BROWSER_USE_[A-Z0-9_]+)\"", CONFIG_PY.read_text(encoding="utf-8")))


# ------------------------------------------------------------------ the manifest itself


def test_manifest_describes_this_server() -> None:
    assert MANIFEST["manifest_version"] == "0.3"
    assert MANIFEST["name"] == "browser-use-tasks-mcp"
    assert MANIFEST["version"] == browser_use_tasks_mcp.__version__ == build_bundle.project_version()
    assert MANIFEST["license"] == "MIT"
    assert {t["name"] for t in MANIFEST["tools"]} == EXPECTED_TOOLS
    assert all(t["description"] for t in MANIFEST["tools"])
    assert {p["name"] for p in MANIFEST["prompts"]} == EXPECTED_PROMPTS
    server = MANIFEST["server"]
    assert server["type"] == "python"
    assert server["entry_point"] == "server/main.py"
    assert server["mcp_config"]["args"] == ["${__dirname}/server/main.py"]
    compat = MANIFEST["compatibility"]
    assert set(compat["platforms"]) == {"darwin", "win32", "linux"}
    # What the default build vendors (CPython 3.11 wheels), no more.
    assert compat["runtimes"]["python"] == build_bundle.runtime_range(build_bundle.DEFAULT_PYTHONS)


def test_manifest_env_maps_user_config_onto_variables_the_server_reads() -> None:
    env = MANIFEST["server"]["mcp_config"]["env"]
    user_config = MANIFEST["user_config"]
    server_names = _server_env_names()
    assert {"BROWSER_USE_API_KEY", "BROWSER_USE_API_VERSION", "BROWSER_USE_BASE_URL"} <= server_names
    used: set[str] = set()
    for name, value in env.items():
        refs = re.findall(r"\$\{user_config\.([a-z_]+)\}", value)
        used.update(refs)
        if refs:
            assert name in server_names, f"{name} is not read by config.py"
    assert used == set(user_config), "every user_config entry is passed on, and only those"
    assert env["BROWSER_USE_API_KEY"] == "${user_config.api_key}"
    assert env["BROWSER_USE_RUNS_DIR"] == "${user_config.runs_dir}"
    key = user_config["api_key"]
    assert key["sensitive"] is True and key["required"] is False and "empty" in key["description"].lower()
    assert user_config["api_version"]["default"] == "auto"
    assert user_config["runs_dir"]["type"] == "directory"
    for name, option in user_config.items():
        # The host substitutes only values it has (a default or the user's): an optional entry
        # without a default would reach the server as the literal text "${user_config.NAME}".
        assert option["required"] or "default" in option, name


def test_empty_and_default_user_config_values_are_accepted_by_the_server() -> None:
    from browser_use_tasks_mcp.config import settings_from_env

    for version in ("", "auto", "v2", "v1"):
        settings = settings_from_env(
            {
                "BROWSER_USE_API_KEY": "",
                "BROWSER_USE_API_VERSION": version,
                "BROWSER_USE_BASE_URL": "",
                "BROWSER_USE_RUNS_DIR": "",
            }
        ).validate()
        assert settings.effective_source == "local"
        assert settings.api_key is None and settings.base_url is None and settings.runs_dir is None


@needs_node
def test_manifest_passes_the_official_validator() -> None:
    result = subprocess.run(
        [*_mcpb(), "validate", str(MANIFEST_PATH)], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "validation passes" in result.stdout


# ------------------------------------------------------------------ build helpers (no network)


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_fold_targets_shares_identical_packages_and_keeps_compiled_ones_apart(tmp_path: Path) -> None:
    installed = {
        "cp311-linux_x86_64": _tree(
            tmp_path / "a",
            {"pure/__init__.py": "x", "abi3/_r.so": "L", "core/_c.so": "L311", "only_here.py": "1"},
        ),
        "cp312-linux_x86_64": _tree(
            tmp_path / "b", {"pure/__init__.py": "x", "abi3/_r.so": "L", "core/_c.so": "L312"}
        ),
        "cp311-win_amd64": _tree(
            tmp_path / "c", {"pure/__init__.py": "x", "abi3/_r.so": "W", "core/_c.so": "W311"}
        ),
    }
    placement = build_bundle.fold_targets(installed, tmp_path / "lib")
    assert placement == {
        "common": ["pure"],
        "linux_x86_64": ["abi3"],
        "cp311-win_amd64": ["abi3", "core"],
        "cp311-linux_x86_64": ["core", "only_here.py"],
        "cp312-linux_x86_64": ["core"],
    }
    lib = tmp_path / "lib"
    assert (lib / "cp312-linux_x86_64" / "core" / "_c.so").read_text() == "L312"
    assert (lib / "linux_x86_64" / "abi3" / "_r.so").read_text() == "L"
    for tag in installed:
        assert (lib / tag / build_bundle.MARKER).read_text().strip() == tag


def _dist(root: Path, name: str, *requires: str) -> None:
    info = root / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", "Version: 1.0"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    (info / "METADATA").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_missing_requirements_judges_markers_for_the_target_platform(tmp_path: Path) -> None:
    _dist(tmp_path, "browser-use-tasks-mcp", "mcp>=2.3")
    _dist(tmp_path, "mcp", "pywin32>=311; sys_platform == 'win32'", "pyjwt[crypto]>=2.10", "uvicorn")
    _dist(tmp_path, "pyjwt", "cryptography>=3.4; extra == 'crypto'", "sphinx; extra == 'docs'")
    _dist(tmp_path, "uvicorn", "uvloop; sys_platform != 'win32' and extra == 'standard'")
    windows = build_bundle.marker_environment("3.11", "win_amd64")
    linux = build_bundle.marker_environment("3.11", "linux_x86_64")
    assert build_bundle.missing_requirements(tmp_path, "browser-use-tasks-mcp", windows) == [
        "cryptography>=3.4",
        "pywin32>=311",
    ]
    assert build_bundle.missing_requirements(tmp_path, "browser-use-tasks-mcp", linux) == [
        "cryptography>=3.4"
    ]


def test_targets_and_runtime_ranges() -> None:
    host = build_bundle.resolve_targets(["3.11"], ["host"])
    assert host == [(f"{sys.version_info.major}.{sys.version_info.minor}", build_bundle.host_platform_key())]
    everything = build_bundle.resolve_targets(["3.11"], ["all"])
    assert [p for _, p in everything] == list(build_bundle.DEFAULT_PLATFORMS)
    assert build_bundle.runtime_range(["3.11"]) == ">=3.11,<3.12"
    assert build_bundle.runtime_range(["3.12", "3.11", "3.13"]) == ">=3.11,<3.14"
    with pytest.raises(build_bundle.BuildError):
        build_bundle.runtime_range(["3.11", "3.13"])
    with pytest.raises(build_bundle.BuildError):
        build_bundle.resolve_targets(["3.11"], ["amiga_68k"])


def test_launcher_and_build_name_this_machine_alike(tmp_path: Path) -> None:
    namespace: dict[str, Any] = {"__name__": "bundle_launcher", "__file__": str(tmp_path / "main.py")}
    exec(compile(build_bundle.LAUNCHER, "server/main.py", "exec"), namespace)
    assert namespace["platform_key"]() == build_bundle.host_platform_key()
    assert namespace["python_key"]() == build_bundle.python_tag(platform.python_version())
    assert build_bundle.host_platform_key() in build_bundle.PLATFORMS


# ------------------------------------------------------------------ the packed bundle


@pytest.fixture(scope="session")
def packed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Build the bundle for this machine once: (the .mcpb file, the folder it was unzipped into)."""
    if NODE is None or NPX is None:
        pytest.skip("Node.js is not installed")
    _mcpb()
    root = tmp_path_factory.mktemp("bundle")
    output = root / "browser-use-tasks-mcp.mcpb"
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "build_bundle.py"),
            "--target",
            "host",
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    unpacked = root / "unpacked"
    with zipfile.ZipFile(output) as archive:
        archive.extractall(unpacked)
    return output, unpacked


@needs_node
def test_packed_bundle_holds_the_server_its_dependencies_and_a_valid_manifest(
    packed: tuple[Path, Path],
) -> None:
    output, unpacked = packed
    with zipfile.ZipFile(output) as archive:
        names = set(archive.namelist())
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}-{build_bundle.host_platform_key()}"
    for required in (
        "manifest.json",
        "server/main.py",
        "server/browser_use_tasks_mcp/__init__.py",
        "server/browser_use_tasks_mcp/examples/runs/order-blue-widget/AgentHistory.json",
        "server/browser_use_tasks_mcp/apps/run_viewer.html",
        f"server/lib/{tag}/{build_bundle.MARKER}",
    ):
        assert required in names, required
    lib = unpacked / "server" / "lib"
    for package in ("mcp", "mcp_types", "pydantic", "pydantic_core", "PIL", "httpx2", "anyio"):
        assert any((folder / package).is_dir() for folder in lib.iterdir()), package
    assert not any("__pycache__" in n or n.startswith("server/lib/bin/") for n in names)
    packed_manifest = json.loads((unpacked / "manifest.json").read_text(encoding="utf-8"))
    # Built for this machine only: the packed manifest promises this platform and nothing else.
    expected = json.loads(json.dumps(MANIFEST))
    expected["compatibility"]["platforms"] = [
        {"darwin": "darwin", "win32": "win32"}.get(sys.platform, "linux")
    ]
    assert packed_manifest == expected
    result = subprocess.run(
        [*_mcpb(), "validate", str(unpacked / "manifest.json")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _host_config(unpacked: Path, user_config: dict[str, Any] | None) -> dict[str, Any]:
    """The command, args and env the host derives from the manifest (run through the mcpb library)."""
    cmd = [str(NODE), str(NODE_DIR / "host_config.mjs"), str(unpacked)]
    if user_config is not None:
        cmd.append(json.dumps(user_config))
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=NODE_DIR)
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = json.loads(result.stdout)
    return config


def _text(result: Any) -> str:
    return "\n".join(b.text for b in result.content if isinstance(b, TextContent))


async def _session(command: str, args: list[str], env: dict[str, str], cwd: Path) -> dict[str, Any]:
    params = StdioServerParameters(command=command, args=args, env=env, cwd=str(cwd))
    with anyio.fail_after(45):
        async with Client(params) as client:
            listed = await client.call_tool("list_tasks", {})
            task = await client.call_tool("get_task", {"task_id": "order-blue-widget"})
            tools = {t.name for t in (await client.list_tools()).tools}
            prompts = {p.name for p in (await client.list_prompts()).prompts}
    return {"list": listed, "task": task, "tools": tools, "prompts": prompts}


def _start_args(config: dict[str, Any]) -> tuple[str, list[str]]:
    """The host runs `python`/`python3` from PATH; here that is this test's CPython, which has the
    version the bundle was built for. `-S` keeps the interpreter's own site-packages (this venv,
    which has every dependency installed) off sys.path, so only the bundle's packages can be used:
    a dependency missing from the bundle fails the test instead of being borrowed."""
    assert config["command"] in ("python", "python3")
    return sys.executable, ["-S", *config["args"]]


@needs_node
@pytest.mark.parametrize(
    ("label", "user_config"),
    [
        ("never configured", None),
        ("empty key", {"api_key": ""}),
        ("every field set empty", {"api_key": "", "api_version": "", "base_url": "", "runs_dir": ""}),
        ("explicit v2, empty key", {"api_key": "", "api_version": "v2"}),
        ("runs folder", {"runs_dir": "<bundled runs>"}),
    ],
)
def test_packed_server_started_like_the_host_answers(
    packed: tuple[Path, Path], label: str, user_config: dict[str, Any] | None, tmp_path: Path
) -> None:
    _, unpacked = packed
    if user_config and user_config.get("runs_dir") == "<bundled runs>":
        runs = unpacked / "server" / "browser_use_tasks_mcp" / "examples" / "runs"
        user_config = {**user_config, "runs_dir": str(runs)}
    config = _host_config(unpacked, user_config)
    assert config["args"] == [f"{unpacked}/server/main.py"]
    assert not any("${" in value for value in config["env"].values()), config["env"]
    command, args = _start_args(config)
    outcome = anyio.run(_session, command, args, config["env"], tmp_path)
    listed, task = outcome["list"], outcome["task"]
    assert not listed.is_error, _text(listed)
    assert "order-blue-widget" in _text(listed), label
    assert not task.is_error, _text(task)
    assert "ACME-1042" in _text(task)
    assert outcome["tools"] == {t["name"] for t in MANIFEST["tools"]}
    assert outcome["prompts"] == {p["name"] for p in MANIFEST["prompts"]}


@needs_node
def test_packed_server_ignores_placeholders_a_host_left_unreplaced(
    packed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, unpacked = packed
    config = _host_config(unpacked, {"api_key": ""})
    env = dict(config["env"])
    for name, value in MANIFEST["server"]["mcp_config"]["env"].items():
        if "${user_config." in value:
            env[name] = value  # e.g. BROWSER_USE_BASE_URL="${user_config.base_url}" verbatim
    command, args = _start_args(config)
    outcome = anyio.run(_session, command, args, env, tmp_path)
    assert "order-blue-widget" in _text(outcome["list"])


@needs_node
def test_launcher_explains_an_interpreter_the_bundle_was_not_built_for(
    packed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, unpacked = packed
    copy = tmp_path / "bundle"
    shutil.copytree(unpacked / "server", copy / "server", ignore=shutil.ignore_patterns("__pycache__"))
    lib = copy / "server" / "lib"
    for folder in lib.iterdir():
        if folder.name.startswith("cp"):
            folder.rename(lib / folder.name.replace(folder.name.split("-")[0], "cp39", 1))
    result = subprocess.run(
        [sys.executable, "-S", str(copy / "server" / "main.py")],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 1
    assert "no bundled dependencies" in result.stderr
    assert "3.9" in result.stderr and "uvx browser-use-tasks-mcp" in result.stderr
    assert "Traceback" not in result.stderr
