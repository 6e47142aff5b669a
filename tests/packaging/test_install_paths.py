"""The ways README.md and docs/clients.md tell people to run the server work, for real.

Today, from a clone (the package is not on PyPI yet): the virtual environment's script started by
its absolute path with a bare PATH, `uvx --from <clone>` and `pipx install <clone>`, each pointed at
this working copy. After the first release: `uvx` and `pipx run` of the package, proven with a
wheel built from this checkout in place of the one PyPI would serve. uv and pipx install into
their own throwaway homes and caches, as they would for a user; package dependencies come from
the configured index.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp_types import TextResourceContents

from tests.helpers import REPO, text_of

BIN = Path(sys.executable).parent


def tool(name: str) -> Path:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed next to {sys.executable}: install the test extras ('.[test]')")
    return path


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("browser_use_tasks_mcp-*.whl")
    yield built


def isolated_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BROWSER_USE_", "VIRTUAL_ENV"))}
    env.update(
        UV_CACHE_DIR=str(tmp / "uv-cache"),
        UV_TOOL_DIR=str(tmp / "uv-tools"),
        PIPX_HOME=str(tmp / "pipx-home"),
        PIPX_BIN_DIR=str(tmp / "pipx-bin"),
    )
    return env


async def serves_the_example_runs(command: str, args: list[str], env: dict[str, str]) -> None:
    """Start the server the way a desktop client does (stdio) and read a bundled run through it."""
    params = StdioServerParameters(command=command, args=args, env=env)
    async with Client(params, read_timeout_seconds=120) as client:
        result = await client.call_tool("get_task", {"task_id": "order-blue-widget"})
        viewer = await client.read_resource("ui://browser-use-tasks/run-viewer.html")
    assert "ACME-1042" in text_of(result)
    # The run viewer's HTML is package data: installed with the code and served whole.
    [html] = viewer.contents
    assert isinstance(html, TextResourceContents) and html.text.rstrip().endswith("</html>")


# --------------------------------------------------------------------------- today: from a clone


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_venv_script_by_absolute_path(tmp_path: Path, anyio_backend: str) -> None:
    """README "From nothing to Claude Desktop": the clone's .venv/bin/browser-use-tasks-mcp, given by
    its absolute path to a client that does not share the shell's PATH or activated environment."""
    script = tool("browser-use-tasks-mcp")
    env = isolated_env(tmp_path)
    env["PATH"] = "/usr/bin:/bin"
    await serves_the_example_runs(str(script.absolute()), [], env)


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_uvx_from_the_clone_serves_over_stdio(tmp_path: Path, anyio_backend: str) -> None:
    """`uvx --from /absolute/path/to/clone browser-use-tasks-mcp`, with this working copy as the clone."""
    await serves_the_example_runs(
        str(tool("uvx")), ["--from", str(REPO), "browser-use-tasks-mcp"], isolated_env(tmp_path)
    )


@pytest.fixture
def pipx_installed_script(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """`pipx install /absolute/path/to/clone`, with this working copy as the clone."""
    env = isolated_env(tmp_path)
    completed = subprocess.run(
        [str(tool("pipx")), "install", str(REPO)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    script = Path(env["PIPX_BIN_DIR"]) / "browser-use-tasks-mcp"
    assert script.is_file(), f"pipx did not install the script: {completed.stdout[-2000:]}"
    return script, env


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_pipx_install_from_the_clone(
    pipx_installed_script: tuple[Path, dict[str, str]], anyio_backend: str
) -> None:
    """The script `pipx install <clone>` put in its bin folder, started by its full path."""
    script, env = pipx_installed_script
    await serves_the_example_runs(str(script), [], env)


# --------------------------------------------------------------------------- after the first release


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_uvx_serves_over_stdio(wheel: Path, tmp_path: Path, anyio_backend: str) -> None:
    """`uvx browser-use-tasks-mcp`, with the wheel standing in for the published one."""
    await serves_the_example_runs(
        str(tool("uvx")), ["--from", str(wheel), "browser-use-tasks-mcp"], isolated_env(tmp_path)
    )


def test_pipx_run(wheel: Path, tmp_path: Path) -> None:
    """`pipx run browser-use-tasks-mcp`, with the wheel standing in for the published one."""
    pipx = tool("pipx")
    completed = subprocess.run(
        [str(pipx), "run", "--spec", str(wheel), "browser-use-tasks-mcp", "demo"],
        capture_output=True,
        text=True,
        env=isolated_env(tmp_path),
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "Connected. Tools: get_task" in completed.stdout
