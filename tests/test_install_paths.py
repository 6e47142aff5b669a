"""The published ways to run the server work: `uvx` and `pipx run`, from a freshly built wheel.

The wheel is built from this checkout (it is not on PyPI from here); uv and pipx then install
it with its dependencies into their own throwaway environments, as they would for a user.
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

from tests.helpers import REPO, text_of

BIN = Path(sys.executable).parent


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


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_uvx_serves_over_stdio(wheel: Path, tmp_path: Path, anyio_backend: str) -> None:
    uvx = BIN / "uvx"
    if not uvx.exists():
        pytest.skip("uv is not installed in this environment (it comes with the test extras)")
    params = StdioServerParameters(
        command=str(uvx), args=["--from", str(wheel), "browser-use-tasks-mcp"], env=isolated_env(tmp_path)
    )
    async with Client(params, read_timeout_seconds=120) as client:
        result = await client.call_tool("get_task", {"task_id": "order-blue-widget"})
    assert "ACME-1042" in text_of(result)


def test_pipx_run(wheel: Path, tmp_path: Path) -> None:
    pipx = BIN / "pipx"
    if not pipx.exists():
        pytest.skip("pipx is not installed in this environment (it comes with the test extras)")
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
