"""Configuration and command line, through the real CLI as a subprocess: plain one-line errors
(exit 2, no traceback), blank tokens, the bearer scheme, a missing runs folder, control
characters in logs, and `check` output with the API key redacted."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest

from tests.emulator import FINISHED_TASK, Emulator
from tests.helpers import cloud_env, free_port, server_env, server_process

from .helpers import RawStdio

pytestmark = pytest.mark.anyio


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "browser_use_tasks_mcp", *args],
        capture_output=True,
        text=True,
        env=env if env is not None else server_env(),
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def assert_one_plain_line(completed: subprocess.CompletedProcess[str], *words: str) -> str:
    assert completed.returncode == 2, completed.stderr
    assert "Traceback" not in completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith("browser-use-tasks-mcp: configuration error:")
    for word in words:
        assert word in lines[0]
    assert "serving" not in completed.stderr
    return lines[0]


# --- 4. blank tokens; the bearer scheme in any case --------------------------------------------


@pytest.mark.parametrize("token", [" ", "\t  "])
def test_blank_auth_token_flag_is_refused(token: str) -> None:
    completed = run_cli("--transport", "streamable-http", "--host", "0.0.0.0", "--auth-token", token)
    assert_one_plain_line(completed, "auth token is blank", "BROWSER_USE_MCP_AUTH_TOKEN")


def test_blank_auth_token_environment_is_refused() -> None:
    env = server_env(BROWSER_USE_MCP_AUTH_TOKEN="   ")
    completed = run_cli("--transport", "sse", env=env)
    assert_one_plain_line(completed, "auth token is blank")


def test_bearer_scheme_is_case_insensitive() -> None:
    token = "tok-5d2e8a"
    with server_process("--transport", "streamable-http", "--auth-token", token) as (port, _):
        url = f"http://127.0.0.1:{port}/mcp"
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        headers = {"accept": "application/json, text/event-stream", "content-type": "application/json"}

        def status(authorization: str) -> int:
            return httpx2.post(
                url, json=body, headers={**headers, "authorization": authorization}
            ).status_code

        for accepted in (f"Bearer {token}", f"bearer {token}", f"BEARER {token}", f"bEaReR  {token}"):
            assert status(accepted) != 401, accepted
        for refused in (f"Basic {token}", f"Bearer {token}x", "Bearer", token, f"Bearer{token}"):
            assert status(refused) == 401, refused


# --- 5. one plain line, exit 2, for settings that used to crash ---------------------------------


def test_ipv6_loopback_base_url_is_served() -> None:
    """`http://[::1]:PORT` is an allowed loopback base URL: it used to crash with a traceback."""
    port = free_port()
    env = server_env(BROWSER_USE_API_KEY="bu-key-1234", BROWSER_USE_BASE_URL=f"http://[::1]:{port}/api/v2")
    completed = run_cli("check", env=env)
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr + completed.stdout
    assert "FAIL: Connection failed" in completed.stdout


@pytest.mark.parametrize("port", ["99999", "0", "-1"])
def test_out_of_range_port_gives_one_plain_line(port: str) -> None:
    completed = run_cli("--transport", "streamable-http", "--port", port)
    assert_one_plain_line(completed, "--port", "1 to 65535")


def test_port_in_use_gives_one_plain_line_before_serving() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        completed = run_cli("--transport", "sse", "--port", str(port))
    assert_one_plain_line(completed, "already in use", "--port", str(port))


def test_unresolvable_host_gives_one_plain_line() -> None:
    completed = run_cli("--transport", "sse", "--host", "no-such-host.invalid", "--auth-token", "t-123456")
    assert_one_plain_line(completed, "--host")


# --- 6. a missing runs folder: start, and answer every tool with the problem ---------------------


def test_missing_runs_folder_starts_and_every_tool_answers_with_the_problem(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-runs"
    session = RawStdio(server_env(BROWSER_USE_RUNS_DIR=str(missing)))
    session.initialize()  # the handshake succeeds
    tools = [t["name"] for t in session.request("tools/list")["result"]["tools"]]
    arguments = {
        "task_id": "some-run",
        "task_a": "some-run",
        "task_b": "other-run",
        "step": 1,
        "file": "x.txt",
        "timeout_s": 1,
    }
    for name in tools:
        schema = next(
            t["inputSchema"] for t in session.request("tools/list")["result"]["tools"] if t["name"] == name
        )
        args = {k: v for k, v in arguments.items() if k in schema.get("properties", {})}
        result = session.call_tool(name, args)
        text = result["content"][0]["text"]
        assert result["isError"] is True, (name, text)
        assert str(missing) in text and "does not exist" in text, (name, text)
    code, stderr = session.close()
    assert code == 0
    assert "BROWSER_USE_RUNS_DIR" in stderr and "Traceback" not in stderr


def test_check_fails_on_a_missing_runs_folder(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-runs"
    completed = run_cli("check", "--runs-dir", str(missing))
    line = assert_one_plain_line(
        completed, str(missing), "does not exist", "BROWSER_USE_RUNS_DIR", "--runs-dir"
    )
    assert line


# --- 7. control characters from upstream never reach the log raw --------------------------------


def test_ansi_escapes_from_an_upstream_url_are_escaped_in_the_log(fresh_emulator: Emulator) -> None:
    emu = fresh_emulator
    task = httpx2.get(f"{emu.v2_url}/tasks/{FINISHED_TASK}", headers=emu.v2_headers).json()
    for step in task["steps"]:
        step["screenshotUrl"] = "http://evil.example/\x1b[31mRED\x1b[0m\x07\r.png"
    emu.faults.add("wrong_shape", regex=f"^/api/v2/tasks/{FINISHED_TASK}$", body=task)
    session = RawStdio(cloud_env(emu), "--log-level", "INFO")
    session.initialize()
    session.call_tool("get_step", {"task_id": FINISHED_TASK, "step": 2, "include_screenshot": True})
    code, stderr = session.close()
    assert code == 0
    assert "evil.example" in stderr  # the refusal was logged ...
    assert "\\x1b[31mRED" in stderr  # ... with the escape shown, not sent to the terminal
    for raw in ("\x1b", "\x07", "\r"):
        assert raw not in stderr


# --- 8. `check` never prints the API key, even when the upstream echoes it -----------------------


def test_check_redacts_a_key_the_upstream_echoes(fresh_emulator: Emulator) -> None:
    emu = fresh_emulator
    echoed = {"code": "spend_cap_exceeded", "message": f"Key {emu.api_key} has reached its cap"}
    emu.faults.add(402, path="/api/v2/tasks", detail=echoed)
    completed = run_cli("check", env=cloud_env(emu))
    assert completed.returncode == 1
    assert "FAIL" in completed.stdout and "402" in completed.stdout
    assert "[redacted]" in completed.stdout
    assert emu.api_key not in completed.stdout + completed.stderr
