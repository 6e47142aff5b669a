"""deploy/compose.yaml, run as its processes: Redis, two workers with the compose file's own command
and environment, and a round-robin balancer in front (containers cannot run on the test machine)."""

from __future__ import annotations

import re
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.emulator import FAILED_TASK, FINISHED_TASK, Emulator
from tests.helpers import server_env, server_process, text_of
from tests.team.balancer import balancer
from tests.team.conftest import RedisServer

pytestmark = pytest.mark.anyio
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
TOKEN = "compose-test-token-3c9a"
ALICE = "alice-compose-key-01"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())  # type: ignore[no-any-return]


def workers_of(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: service for name, service in spec["services"].items() if name.startswith("worker")}


def test_the_compose_file_puts_two_workers_behind_the_balancer() -> None:
    spec = compose()
    workers = workers_of(spec)
    assert len(workers) == 2
    upstreams = re.findall(r"^\s*server\s+([\w-]+):8000\b", (DEPLOY / "nginx.conf").read_text(), re.M)
    assert sorted(upstreams) == sorted(workers)
    assert set(spec["services"]["balancer"]["depends_on"]) == set(workers)
    for service in workers.values():
        assert "--stateless" in service["command"]
        assert service["environment"]["BROWSER_USE_MCP_CACHE_URL"].startswith("redis://redis:")
        assert "BROWSER_USE_MCP_AUTH_TOKEN" in service["environment"]  # it binds 0.0.0.0
    assert (DEPLOY / "Dockerfile").read_text().count("'.[team]'") == 1


def _as_local_process(
    service: dict[str, Any], emu: Emulator, redis: RedisServer
) -> tuple[list[str], dict[str, str]]:
    """The worker's command and environment, pointed at this machine's Redis and emulator, on loopback."""
    command = list(service["command"])
    for flag in ("--host", "--port"):  # the test binds 127.0.0.1 on a free port instead of 0.0.0.0:8000
        at = command.index(flag)
        del command[at : at + 2]
    env = {k: str(v) for k, v in service["environment"].items()}
    env["BROWSER_USE_MCP_CACHE_URL"] = redis.url
    env["BROWSER_USE_MCP_AUTH_TOKEN"] = TOKEN
    env["BROWSER_USE_BASE_URL"] = emu.v2_url
    return command, server_env(**env)


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_the_compose_deployment_serves_a_user_through_the_balancer(
    fresh_emulator: Emulator, redis: RedisServer, mode: str
) -> None:
    fresh_emulator.guest_keys[ALICE] = frozenset({FINISHED_TASK, FAILED_TASK})
    with ExitStack() as stack:
        ports = []
        for service in workers_of(compose()).values():
            command, env = _as_local_process(service, fresh_emulator, redis)
            port, _ = stack.enter_context(server_process(*command, env=env))
            ports.append(port)
        front = stack.enter_context(balancer(ports))
        url = f"http://127.0.0.1:{front}/mcp"
        headers = {"Authorization": f"Bearer {TOKEN}", "X-Browser-Use-API-Key": ALICE}
        texts = []
        for _ in range(6):  # a new connection each time: the balancer alternates workers
            async with (
                httpx2.AsyncClient(headers=headers, timeout=30) as http,
                Client(streamable_http_client(url, http_client=http), mode=mode) as session,  # type: ignore[arg-type]
            ):
                result = await session.call_tool("get_task", {"task_id": FINISHED_TASK})
                assert not result.is_error, text_of(result)
                texts.append(text_of(result))
        async with httpx2.AsyncClient() as http:
            ready = await http.get(f"http://127.0.0.1:{front}/readyz")
            refused = await http.post(url, json={}, headers={"X-Browser-Use-API-Key": ALICE})
    assert len(set(texts)) == 1
    assert (
        fresh_emulator.count(f"/api/v2/tasks/{FINISHED_TASK}") == 1
    )  # one worker asked; Redis served the rest
    assert ready.json()["shared_cache"] == "reachable"
    assert refused.status_code == 401  # no bearer token, no answer, whatever key is sent
