"""The team deployment's figures: two workers against one, and a GIF build's effect on other calls.

Both talk to the server the way a load balancer's clients do: stateless streamable HTTP, one
JSON-RPC request per POST (no session). The load is mixed: cached task reads, step reads with a
screenshot preview, listings. Redis is a real `redis-server` the benchmark starts on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2
from tests.emulator import HUNDRED_STEP_TASK, LONG_TASK, MANY_TASKS
from tests.helpers import free_port

from benchmarks.harness import EmulatorProcess, percentile, server_command, server_env
from benchmarks.report import Row, ratio

SECTION = "Team deployment"
HEADERS = {
    "accept": "application/json, text/event-stream",
    "content-type": "application/json",
    "mcp-protocol-version": "2025-11-25",
}
TASKS = MANY_TASKS[:40]


def _wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited while starting")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError("the server did not start listening")


@contextlib.contextmanager
def redis_server() -> Iterator[str | None]:
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    port = free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port, process)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.kill()
        process.wait()


@contextlib.contextmanager
def http_server(base_url: str, workers: int, **env: str) -> Iterator[str]:
    port = free_port()
    command = [*server_command(), "--transport", "streamable-http", "--stateless", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--workers", str(workers)],
        env=server_env(base_url, **env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def call(http: httpx2.AsyncClient, url: str, name: str, arguments: dict[str, Any]) -> None:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }
    response = await http.post(url, json=body, headers=HEADERS)
    text = response.text
    payload = _answer(text)
    if response.status_code != 200 or "result" not in payload or payload["result"].get("isError"):
        raise RuntimeError(f"{name} failed: HTTP {response.status_code}, {text[:200]!r}")


def _answer(text: str) -> dict[str, Any]:
    """The JSON-RPC answer: the body, or the server-sent event that carries it (after pings, progress)."""
    if not text.lstrip().startswith(("event:", "data:", ":")):
        return json.loads(text)  # type: ignore[no-any-return]
    for line in text.splitlines():
        if line.startswith("data:") and line[5:].strip():
            message = json.loads(line[5:])
            if "result" in message or "error" in message:
                return message  # type: ignore[no-any-return]
    return {}


def _mixed() -> Iterator[tuple[str, dict[str, Any]]]:
    for n in itertools.count():
        task = TASKS[n % len(TASKS)]
        kind = n % 10
        if kind < 6:
            yield "get_task", {"task_id": task}
        elif kind < 9:
            yield "get_step", {"task_id": task, "step": 2, "include_screenshot": True}
        else:
            yield "list_tasks", {}


async def throughput(url: str, seconds: float, concurrency: int = 16) -> float:
    """Calls per second of the mixed load, after one warm pass over its tasks."""
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(timeout=60, limits=limits) as http:
        warm = _mixed()
        for _ in range(len(TASKS) * 3):
            await call(http, url, *next(warm))
        calls = _mixed()
        done = 0
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                await call(http, url, *next(calls))
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done / (time.perf_counter() - started)


async def latencies_while(url: str, busy: asyncio.Task[Any] | None, seconds: float) -> list[float]:
    """`get_task` latencies at 4 in flight, until `busy` finishes (or for `seconds` when idle)."""
    samples: list[float] = []
    stop = time.perf_counter() + seconds
    async with httpx2.AsyncClient(timeout=60) as http:
        for task in TASKS[:4]:
            await call(http, url, "get_task", {"task_id": task})

        async def worker(offset: int) -> None:
            n = offset
            while (busy is not None and not busy.done()) or (busy is None and time.perf_counter() < stop):
                started = time.perf_counter()
                await call(http, url, "get_task", {"task_id": TASKS[n % 4]})
                samples.append(time.perf_counter() - started)
                n += 1

        await asyncio.gather(*(worker(i) for i in range(4)))
    return samples


@contextlib.asynccontextmanager
async def emulator() -> AsyncIterator[EmulatorProcess]:
    async with EmulatorProcess(prewarm=True) as emu:
        yield emu


async def run_team(quick: bool) -> list[Row]:
    seconds = 3.0 if quick else 8.0
    with redis_server() as redis_url:
        if redis_url is None:
            return [Row(SECTION, "two workers, one Redis", "skipped: no redis-server on this machine")]
        async with emulator() as emu:
            rates = {}
            for workers in (1, 2):
                with http_server(emu.base_url, workers, BROWSER_USE_MCP_CACHE_URL=redis_url) as url:
                    rates[workers] = await throughput(url, seconds)
            threads = await _gif_stall(emu.base_url)
            processes = await _gif_stall(emu.base_url, BROWSER_USE_MCP_CPU_PROCESSES="1")
    return [
        Row(
            SECTION,
            "mixed load (cached tasks, previews, listings), 16 in flight: calls/s, 2 workers vs 1",
            rates[2],
            "calls/s",
            baseline=rates[1],
            ratio=ratio(rates[2], rates[1]),
            goal="≥ 1.6×",
            met=rates[2] >= 1.6 * rates[1],
            note="2 cores shared by the workers, the emulator, Redis and this load generator.",
        ),
        _stall_row(threads, "image work in threads (the default)", goal=False),
        _stall_row(processes, "image work in a process (BROWSER_USE_MCP_CPU_PROCESSES=1)", goal=True),
    ]


def _stall_row(stall: dict[str, Any], how: str, *, goal: bool) -> Row:
    return Row(
        SECTION,
        f"`get_task` p95 while two GIFs (100 and 500 steps) are built in the same worker vs idle: {how}",
        stall["busy_p95_ms"],
        "ms",
        baseline=stall["idle_p95_ms"],
        ratio=ratio(stall["busy_p95_ms"], stall["idle_p95_ms"]),
        goal="≤ 2×" if goal else "report",
        met=stall["busy_p95_ms"] <= 2 * stall["idle_p95_ms"] if goal else None,
        note=f"{stall['busy_calls']} calls during {stall['gif_s']:.1f} s of GIF building",
    )


async def _gif_stall(base_url: str, **env: str) -> dict[str, Any]:
    with http_server(base_url, 1, **env) as url:
        idle = await latencies_while(url, None, 3.0)
        async with httpx2.AsyncClient(timeout=120) as http:
            started = time.perf_counter()
            build = asyncio.ensure_future(
                asyncio.gather(
                    call(http, url, "get_gif", {"task_id": HUNDRED_STEP_TASK}),
                    call(http, url, "get_gif", {"task_id": LONG_TASK}),
                )
            )
            busy = await latencies_while(url, build, 0)
            await build
            gif_s = time.perf_counter() - started
    return {
        "idle_p95_ms": percentile(idle, 95) * 1000,
        "busy_p95_ms": percentile(busy, 95) * 1000 if busy else 0.0,
        "busy_calls": len(busy),
        "gif_s": gif_s,
    }


if __name__ == "__main__":  # python -m benchmarks.team
    for row in asyncio.run(run_team(quick=False)):
        print(row.metric, "|", row.measured, "|", row.baseline, "|", row.ratio, "|", row.met, "|", row.note)
