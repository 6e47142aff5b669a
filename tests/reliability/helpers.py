"""Helpers for the transport and configuration tests: hostile run folders, a raw stdio session."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR
from tests.helpers import server_env

SOURCE_RUN = BUNDLED_RUNS_DIR / "order-blue-widget"
SURROGATE_RUN = "lone-surrogate"
#: A run folder whose name is not valid UTF-8 (byte 0xFF).
BAD_NAME = os.fsdecode(b"bad-\xff-name")


def hostile_runs(root: Path) -> Path:
    """A runs folder with a run whose history holds a lone surrogate (as the JSON escape
    `\\ud800`), and a run folder whose name is not valid UTF-8."""
    history = json.loads((SOURCE_RUN / "AgentHistory.json").read_text())
    history["history"][0]["model_output"]["memory"] = "\ud800"
    history["history"][0]["model_output"]["next_goal"] = "goal \udcff end"
    run = root / SURROGATE_RUN
    run.mkdir()
    # ensure_ascii keeps the escape in the file, as browser-use's own writer does.
    (run / "AgentHistory.json").write_text(json.dumps(history, ensure_ascii=True))
    bad = root / BAD_NAME
    bad.mkdir()
    shutil.copy(SOURCE_RUN / "AgentHistory.json", bad / "AgentHistory.json")
    return root


def server_command() -> list[str]:
    return [sys.executable, "-m", "browser_use_tasks_mcp"]


class RawStdio:
    """The server as a subprocess over stdio, driven with raw JSON lines."""

    def __init__(self, env: dict[str, str] | None = None, *args: str) -> None:
        self.process = subprocess.Popen(
            [*server_command(), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env if env is not None else server_env(),
        )
        self._ids = 100

    def send_line(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data + b"\n")
        self.process.stdin.flush()

    def send(self, message: dict[str, Any]) -> None:
        self.send_line(json.dumps(message).encode())

    def read(self, timeout: float = 10.0) -> dict[str, Any] | None:
        """The next stdout line as JSON, or None if nothing comes within `timeout`."""
        stdout = self.process.stdout
        assert stdout is not None
        ready, _, _ = select.select([stdout], [], [], timeout)
        if not ready:
            return None
        line = stdout.readline()
        if not line:
            return None
        message: dict[str, Any] = json.loads(line)
        return message

    def request(self, method: str, params: dict[str, Any] | None = None, timeout: float = 10.0) -> Any:
        self._ids += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self._ids, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        answer = self.read(timeout)
        assert answer is not None, f"no answer to {method} within {timeout}s; stderr: {self.stderr_tail()}"
        assert answer.get("id") == self._ids, answer
        return answer

    def initialize(self) -> None:
        self.request(
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "raw-test", "version": "0"},
            },
        )
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def call_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        answer = self.request("tools/call", {"name": name, "arguments": arguments})
        assert "result" in answer, answer
        result: dict[str, Any] = answer["result"]
        return result

    def stderr_tail(self) -> str:
        if self.process.poll() is None:
            return "(server still running)"
        assert self.process.stderr is not None
        return self.process.stderr.read().decode(errors="replace")[-3000:]

    def close(self) -> tuple[int, str]:
        """Close stdin (the client's goodbye); return the exit status and stderr."""
        assert self.process.stdin is not None and self.process.stderr is not None
        self.process.stdin.close()
        try:
            code = self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        return code, self.process.stderr.read().decode(errors="replace")


def peak_rss_kib(pid: int) -> int:
    """VmHWM of a live process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def wait_until(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False
