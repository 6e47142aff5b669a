"""The API key never leaves the server except in the API request header; signatures stay out of logs.

Scenarios run with a recognisable key (CANARY) against an emulator that accepts it:
every tool and resource and a prompt, on Cloud v2 and v1, successes and errors (401, 500,
a read timeout, an unknown task, an expired presigned screenshot, connection refused),
twice:

- in-process, with the server's own logging set up at DEBUG (`configure_logging`, the
  redacting filter included) and captured;
- as a subprocess over stdio at `--log-level DEBUG`, every stdout and stderr byte captured.

The key must appear in no tool result (text or structured), resource, prompt, error or
exception text, log line or stdout byte. Presigned URL signatures (the emulator's
X-Amz-Signature values) may be in tool results, as download links, but never in logs.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from browser_use_tasks_mcp.logs import configure_logging
from tests.emulator import (
    EXPIRED_SCREENSHOT_TASK,
    FILES_TASK,
    FINISHED_TASK,
    MANY_TASKS,
    UNKNOWN_ID,
    Emulator,
    run_emulator,
)
from tests.helpers import client_for, cloud_settings, text_of

pytestmark = pytest.mark.anyio
CANARY = "bu-SECRET-canary-5f1d2e"
SIGNATURE = re.compile(r"X-Amz-Signature=([0-9a-f]{16,})", re.IGNORECASE)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def canary_emulator() -> Iterator[Emulator]:
    with run_emulator(api_key=CANARY) as emu:
        yield emu


@pytest.fixture
def emu(canary_emulator: Emulator) -> Iterator[Emulator]:
    canary_emulator.reset()
    yield canary_emulator
    canary_emulator.reset()


def signatures_seen(emu: Emulator) -> set[str]:
    """Every presigned signature a client presented to the emulator's media host."""
    found: set[str] = set()
    for record in emu.requests("/media/"):
        found |= set(SIGNATURE.findall(record.query))
    return found


def tool_calls(version: str) -> list[tuple[str, dict[str, Any]]]:
    csv = "sales_q1_q4.csv"
    png = "revenue_chart.png"
    return [
        ("list_tasks", {"page_size": 5}),
        ("get_task", {"task_id": FINISHED_TASK}),
        ("get_step", {"task_id": FINISHED_TASK, "step": 2, "include_screenshot": True}),
        ("list_screenshots", {"task_id": FINISHED_TASK, "steps": [1, 2], "include_images": True}),
        ("get_gif", {"task_id": FINISHED_TASK, "include_preview": True}),
        ("get_media", {"task_id": FILES_TASK}),
        ("get_output_file", {"task_id": FILES_TASK, "file": csv}),
        ("get_output_file", {"task_id": FILES_TASK, "file": png}),
        ("wait_for_task", {"task_id": FINISHED_TASK, "timeout_s": 1}),
        # Errors
        ("get_task", {"task_id": UNKNOWN_ID}),
        ("get_task", {"task_id": "../../etc/passwd"}),
        ("get_step", {"task_id": EXPIRED_SCREENSHOT_TASK, "step": 2, "include_screenshot": True}),
    ]


RESOURCES = [
    f"browser-use://tasks/{FINISHED_TASK}/steps",
    f"browser-use://tasks/{FINISHED_TASK}/steps/1",
    f"browser-use://tasks/{FINISHED_TASK}/gif",
    f"browser-use://tasks/{FILES_TASK}/logs",
    f"browser-use://tasks/{FINISHED_TASK}/screenshots/1",
    f"browser-use://tasks/{FINISHED_TASK}/screenshots/1/full",
    f"browser-use://tasks/{FILES_TASK}/files/sales_q1_q4.csv",
    f"browser-use://tasks/{EXPIRED_SCREENSHOT_TASK}/screenshots/2",  # an error: expired link
    f"browser-use://tasks/{UNKNOWN_ID}/steps",  # an error: unknown task
]


def faulted_calls(emu: Emulator, version: str) -> list[tuple[str, dict[str, Any], Any]]:
    """Calls made while the API fails: 401, 500 (retried), a read timeout."""
    prefix = f"/api/{version}/tasks/" if version == "v2" else f"/api/{version}/task/"
    return [
        ("get_task", {"task_id": MANY_TASKS[1]}, (401, {"regex": f"^{prefix}{MANY_TASKS[1]}"})),
        (
            "get_task",
            {"task_id": MANY_TASKS[2]},
            (500, {"regex": f"^{prefix}{MANY_TASKS[2]}", "retry_after": 0}),
        ),
        (
            "get_task",
            {"task_id": MANY_TASKS[3]},
            ("delay", {"regex": f"^{prefix}{MANY_TASKS[3]}", "delay": 3}),
        ),
    ]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dump(value: Any) -> str:
    return json.dumps(value, default=str)


# --------------------------------------------------------------------------------------
# In-process, with the server's own logging at DEBUG
# --------------------------------------------------------------------------------------


@pytest.fixture
def debug_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The server's logging set up as the CLI does it, at DEBUG, into a buffer; restored after."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    noisy = {
        name: logging.getLogger(name).level for name in ("httpx2", "httpcore", "httpcore2", "uvicorn.access")
    }
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buffer)
    configure_logging("DEBUG", [CANARY])
    monkeypatch.undo()
    try:
        yield buffer
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)
        for name, level in noisy.items():
            logging.getLogger(name).setLevel(level)


@pytest.mark.parametrize("version", ["v2", "v1"])
async def test_key_never_leaks_in_process(
    version: str, emu: Emulator, debug_logs: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    base = emu.v2_url if version == "v2" else emu.v1_url
    settings = cloud_settings(
        base, version=version, key=CANARY, request_timeout_s=0.3, call_deadline_s=1.5, log_level="DEBUG"
    )
    outputs: list[str] = []
    results_text: list[str] = []
    async with client_for(settings) as client:
        for tool, args in tool_calls(version):
            result = await client.call_tool(tool, args)
            texts = text_of(result)
            results_text.append(texts)
            outputs += [texts, dump(result.structured_content)]
            outputs += [
                base64.b64decode(b.data).decode("latin-1") for b in result.content if b.type == "image"
            ]
        for uri in RESOURCES:
            try:
                read = await client.read_resource(uri)
            except Exception as exc:  # an error answer: its text must be clean too
                outputs.append(f"{type(exc).__name__}: {exc}")
            else:
                for content in read.contents:
                    outputs.append(
                        getattr(content, "text", "")
                        or base64.b64decode(getattr(content, "blob", "")).decode("latin-1")
                    )
        prompt = await client.get_prompt("debug_task", {"task_id": FINISHED_TASK})
        outputs.append(dump(prompt.model_dump(mode="json")))
        for tool, args, (kind, options) in faulted_calls(emu, version):
            fault = emu.faults.add(kind, **options)
            try:
                result = await client.call_tool(tool, args)
            finally:
                emu.faults.remove(fault)
            assert result.is_error
            outputs.append(text_of(result))
    # A server pointed at a closed port: connection errors carry no key either.
    refused = cloud_settings(
        f"http://127.0.0.1:{closed_port()}/api/{version}",
        version=version,
        key=CANARY,
        request_timeout_s=0.5,
        call_deadline_s=2.0,
    )
    async with client_for(refused) as client:
        result = await client.call_tool("get_task", {"task_id": FINISHED_TASK})
        assert result.is_error
        outputs.append(text_of(result))

    logs = debug_logs.getvalue()
    captured = capsys.readouterr()
    assert logs.strip(), "no log lines were captured at DEBUG"
    assert "DEBUG" in logs
    for where, text in [
        ("results", "\n".join(outputs)),
        ("logs", logs),
        ("stdout", captured.out),
        ("stderr", captured.err),
    ]:
        assert CANARY not in text, f"the API key leaked into {where}"
    # Every request carried the key in its header, the emulator saw it under the right name.
    api = [r for r in emu.requests(f"/api/{version}/")]
    assert api and all(
        r.auth_header == ("x-browser-use-api-key" if version == "v2" else "authorization") for r in api
    )
    assert all(r.auth_header is None for r in emu.requests("/media/")), "the key went to the media host"
    # Presigned links: in the results (download links), never in the logs.
    signatures = signatures_seen(emu)
    assert signatures, "no presigned media was fetched"
    links = set(SIGNATURE.findall("\n".join(results_text)))
    assert links, "no presigned link was handed out"
    for signature in signatures | links:
        assert signature not in logs, "a presigned URL signature reached the logs"


# --------------------------------------------------------------------------------------
# A subprocess over stdio at --log-level DEBUG, every byte captured
# --------------------------------------------------------------------------------------


def rpc_request(request_id: int, method: str, params: dict[str, Any] | None = None) -> bytes:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return (json.dumps(message) + "\n").encode()


def start_stdio(emu: Emulator, version: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROWSER_USE_")}
    env.update(
        BROWSER_USE_API_KEY=CANARY,
        BROWSER_USE_BASE_URL=emu.v2_url if version == "v2" else emu.v1_url,
        BROWSER_USE_API_VERSION=version,
        BROWSER_USE_TIMEOUT="0.3",
        BROWSER_USE_CALL_DEADLINE="1.5",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "browser_use_tasks_mcp", "--log-level", "DEBUG"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def converse(emu: Emulator, version: str) -> tuple[bytes, bytes, list[dict[str, Any]]]:
    """Drive the server by hand; return every stdout byte, every stderr byte, the answers."""
    process = start_stdio(emu, version)
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    stdout = bytearray()
    answers: list[dict[str, Any]] = []

    def ask(request_id: int, method: str, params: dict[str, Any] | None = None) -> None:
        process.stdin.write(rpc_request(request_id, method, params))  # type: ignore[union-attr]
        process.stdin.flush()  # type: ignore[union-attr]
        while True:
            line = process.stdout.readline()  # type: ignore[union-attr]
            assert line, "the server closed stdout"
            stdout.extend(line)
            message = json.loads(line)
            if message.get("id") == request_id:
                answers.append(message)
                return

    try:
        ask(
            1,
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "secrets", "version": "0"},
            },
        )
        process.stdin.write(b'{"jsonrpc": "2.0", "method": "notifications/initialized"}\n')
        process.stdin.flush()
        next_id = 2
        for tool, args in tool_calls(version):
            ask(next_id, "tools/call", {"name": tool, "arguments": args})
            next_id += 1
        for uri in RESOURCES:
            ask(next_id, "resources/read", {"uri": uri})
            next_id += 1
        ask(next_id, "prompts/get", {"name": "debug_task", "arguments": {"task_id": FINISHED_TASK}})
        next_id += 1
        for tool, args, (kind, options) in faulted_calls(emu, version):
            fault = emu.faults.add(kind, **options)
            try:
                ask(next_id, "tools/call", {"name": tool, "arguments": args})
            finally:
                emu.faults.remove(fault)
            next_id += 1
        process.stdin.close()
        process.wait(timeout=10)
        stdout.extend(process.stdout.read())
        stderr = process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return bytes(stdout), stderr, answers


@pytest.mark.parametrize("version", ["v2", "v1"])
def test_key_never_leaks_over_stdio_at_debug(version: str, emu: Emulator) -> None:
    started = time.monotonic()
    stdout, stderr, answers = converse(emu, version)
    assert time.monotonic() - started < 30
    assert len(answers) == 1 + len(tool_calls(version)) + len(RESOURCES) + 1 + 3
    assert any(a.get("result", {}).get("isError") for a in answers)  # the errors were exercised
    assert b"DEBUG" in stderr, "the server logged nothing at DEBUG"
    assert CANARY.encode() not in stdout, "the API key reached stdout"
    assert CANARY.encode() not in stderr, "the API key reached the logs"
    signatures = signatures_seen(emu)
    assert signatures, "no presigned media was fetched"
    handed_out = set(SIGNATURE.findall(stdout.decode("utf-8", "replace")))
    assert handed_out, "no presigned link was handed out"
    for signature in signatures | handed_out:
        assert signature.encode() not in stderr, "a presigned URL signature reached the logs"


def test_settings_and_errors_never_print_the_key() -> None:
    settings = cloud_settings("https://api.browser-use.com/api/v2", key=CANARY)
    assert isinstance(settings.api_key, SecretStr)
    for text in (repr(settings), str(settings), f"{settings}"):
        assert CANARY not in text
    # The check command and a configuration error do not print it either.
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROWSER_USE_")}
    env.update(BROWSER_USE_API_KEY=CANARY, BROWSER_USE_BASE_URL="http://example.com/api/v2")
    done = subprocess.run(
        [sys.executable, "-m", "browser_use_tasks_mcp", "--log-level", "DEBUG"],
        env=env,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2 and b"BROWSER_USE_BASE_URL" in done.stderr
    assert CANARY.encode() not in done.stdout + done.stderr


def test_log_filter_redacts_whatever_logger_writes_the_key_or_a_signature(debug_logs: io.StringIO) -> None:
    """The safety net: even a third-party logger quoting a key, a signed URL or an exception is redacted."""
    signed = (
        "https://bucket.s3.amazonaws.com/a.png?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAEXAMPLE%2F20250101&X-Amz-Signature=0123456789abcdef0123456789abcdef"
    )
    logging.getLogger("some.library").warning("GET %s with key %s", signed, CANARY)
    try:
        raise RuntimeError(f"upstream said no to {CANARY} at {signed}")
    except RuntimeError:
        logging.getLogger("browser_use_tasks_mcp.guard").exception("crashed")
    logs = debug_logs.getvalue()
    assert "crashed" in logs and "RuntimeError" in logs and "[redacted]" in logs
    assert CANARY not in logs
    assert "0123456789abcdef0123456789abcdef" not in logs
    assert "AKIAEXAMPLE" not in logs
