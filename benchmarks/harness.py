"""What every benchmark needs: the emulator in a subprocess, the server over stdio, statistics.

The MCP session is a minimal JSON-RPC-over-stdio client (one line per message, as the
stdio transport frames them). It adds almost nothing on the client side, so what it
times is the server plus the pipe, not a client library's validation.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shlex
import statistics
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
from tests.emulator import DEFAULT_API_KEY

REPO = Path(__file__).resolve().parents[1]
PROTOCOL_VERSION = "2025-11-25"  # newest revision reached by the initialize handshake
LINE_LIMIT = 256 * 1024 * 1024  # responses with images run to megabytes on one line


def server_script() -> Path:
    """The console script the package installs next to this interpreter."""
    return Path(sys.executable).with_name("browser-use-tasks-mcp")


def server_command() -> list[str]:
    """The console script; `BENCHMARK_SERVER_COMMAND` (shell words) swaps in another build to compare."""
    override = os.environ.get("BENCHMARK_SERVER_COMMAND")
    if override:
        return shlex.split(override)
    script = server_script()
    return [str(script)] if script.exists() else [sys.executable, "-m", "browser_use_tasks_mcp"]


def server_env(base_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROWSER_USE_")}
    env.update(
        BROWSER_USE_SOURCE="cloud",
        BROWSER_USE_API_KEY=DEFAULT_API_KEY,
        BROWSER_USE_BASE_URL=base_url,
        **extra,
    )
    return env


# ---------------------------------------------------------------------------------------------
# statistics


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): an observed value, no interpolation."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return float(ordered[rank - 1])


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in KiB, from /proc/<pid>/status."""
    values: dict[str, int] = {}
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return values
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


# ---------------------------------------------------------------------------------------------
# the emulator


class EmulatorProcess:
    """`python -m benchmarks.emulator_proc` as a subprocess, with its control endpoints."""

    def __init__(
        self,
        *,
        url_expires: int | None = None,
        prewarm: bool = False,
        generations: int = 0,
        distinct: int = 0,
    ) -> None:
        self.url_expires = url_expires
        self.prewarm = prewarm
        self.generations = generations
        self.distinct = distinct
        self.process: asyncio.subprocess.Process | None = None
        self.base_url = ""
        self.api_key = DEFAULT_API_KEY
        self._control: httpx2.AsyncClient | None = None

    @property
    def v2_url(self) -> str:
        return f"{self.base_url}/api/v2"

    @property
    def v2_headers(self) -> dict[str, str]:
        return {"X-Browser-Use-API-Key": self.api_key}

    async def __aenter__(self) -> EmulatorProcess:
        args = [sys.executable, "-m", "benchmarks.emulator_proc"]
        if self.url_expires is not None:
            args += ["--url-expires", str(self.url_expires)]
        if self.prewarm:
            args.append("--prewarm")
        if self.generations:
            args += ["--generations", str(self.generations)]
        if self.distinct:
            args += ["--distinct", str(self.distinct)]
        self.process = await asyncio.create_subprocess_exec(
            *args,
            cwd=REPO,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout=60)
        if not line.startswith(b"http://"):
            raise RuntimeError(f"the emulator did not start: {line!r}")
        self.base_url = line.decode().strip()
        self._control = httpx2.AsyncClient(base_url=self.base_url, timeout=30)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._control is not None:
            await self._control.aclose()
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), timeout=10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()

    async def counts(self, path_prefix: str = "/api/") -> dict[str, int]:
        """Requests the emulator saw, per path (only paths under `path_prefix`)."""
        assert self._control is not None
        response = await self._control.get("/_emulator/requests", params={"path_prefix": path_prefix})
        response.raise_for_status()
        counts: dict[str, int] = response.json()["counts"]
        return {path: n for path, n in counts.items() if path.startswith(path_prefix)}

    async def count(self, path: str) -> int:
        return (await self.counts(path)).get(path, 0)

    async def total(self, path_prefix: str = "/") -> int:
        return sum((await self.counts(path_prefix)).values())

    async def reset(self) -> None:
        assert self._control is not None
        (await self._control.post("/_emulator/reset")).raise_for_status()


# ---------------------------------------------------------------------------------------------
# the server over stdio


class RpcError(RuntimeError):
    pass


@dataclass
class ToolAnswer:
    result: dict[str, Any]
    seconds: float

    @property
    def is_error(self) -> bool:
        return bool(self.result.get("isError"))

    @property
    def text(self) -> str:
        return "\n".join(
            block.get("text", "") for block in self.result.get("content", []) if block.get("type") == "text"
        )


class StdioSession:
    """One server subprocess spoken to in JSON-RPC lines over its stdin and stdout."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.pid = process.pid
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._stderr_tail = bytearray()
        self.stderr_cap = 4 * 1024 * 1024  # enough for a whole `-X importtime` report
        self._reader = asyncio.create_task(self._read_stdout())
        self._stderr_reader = asyncio.create_task(self._read_stderr())
        self.server_info: dict[str, Any] = {}

    @classmethod
    async def spawn(
        cls, env: dict[str, str], *, args: Sequence[str] = (), command: Sequence[str] | None = None
    ) -> StdioSession:
        process = await asyncio.create_subprocess_exec(
            *(server_command() if command is None else command),
            *args,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=LINE_LIMIT,
        )
        return cls(process)

    async def initialize(self) -> dict[str, Any]:
        result = await self.request(
            "initialize",
            {
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "browser-use-tasks-mcp-benchmarks", "version": "0"},
            },
        )
        await self.notify("notifications/initialized")
        self.server_info = result
        return result

    async def _send(self, message: dict[str, Any]) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
        await stdin.drain()

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        await self._send(message)

    async def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        request_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        await self._send(message)
        answer = await future
        if "error" in answer:
            raise RpcError(f"{method}: {answer['error']}")
        return answer["result"]  # type: ignore[no-any-return]

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> ToolAnswer:
        started = time.perf_counter()
        result = await self.request("tools/call", {"name": name, "arguments": arguments})
        return ToolAnswer(result, time.perf_counter() - started)

    async def read_resource(self, uri: str) -> dict[str, Any]:
        return await self.request("resources/read", {"uri": uri})

    async def _read_stdout(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while True:
            line = await stdout.readline()
            if not line:
                break
            try:
                message = json.loads(line)
            except ValueError:
                continue  # stdout must carry only JSON-RPC; the transport tests check that
            if "id" in message and ("result" in message or "error" in message):
                future = self._pending.pop(message["id"], None)
                if future is not None and not future.done():
                    future.set_result(message)
            elif "id" in message and "method" in message:  # a request from the server (ping)
                await self._send({"jsonrpc": "2.0", "id": message["id"], "result": {}})
        error = RpcError("the server closed stdout: " + self.stderr_tail()[-2000:])
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        self._pending.clear()

    async def _read_stderr(self) -> None:
        stderr = self.process.stderr
        assert stderr is not None
        while chunk := await stderr.read(65536):
            self._stderr_tail += chunk
            del self._stderr_tail[: -self.stderr_cap]

    def stderr_tail(self) -> str:
        return self._stderr_tail.decode(errors="replace")

    def memory(self) -> dict[str, int]:
        return proc_status(self.pid)

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    async def close(self, wait_s: float = 10.0) -> float:
        """Close stdin (how a stdio client says goodbye); return seconds until the server exited."""
        started = time.perf_counter()
        stdin = self.process.stdin
        if stdin is not None and not stdin.is_closing():
            stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), timeout=wait_s)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        elapsed = time.perf_counter() - started
        for task in (self._reader, self._stderr_reader):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, timeout=2)
        return elapsed


@contextlib.asynccontextmanager
async def stdio_session(
    env: dict[str, str], command: Sequence[str] | None = None
) -> AsyncIterator[StdioSession]:
    """A server subprocess over stdio, initialized: ours, or `command` (e.g. the SDK floor)."""
    session = await StdioSession.spawn(env, command=command)
    try:
        await asyncio.wait_for(session.initialize(), timeout=60)
        yield session
    finally:
        await session.close()
