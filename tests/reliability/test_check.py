"""`browser-use-tasks-mcp check` says in plain words what works and what does not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.emulator import DEFAULT_API_KEY, Emulator


def run_check(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BROWSER_USE_")}
    return subprocess.run(
        [sys.executable, "-m", "browser_use_tasks_mcp", "check"],
        capture_output=True,
        text=True,
        env={**clean, **env},
        timeout=60,
        check=False,
    )


def test_check_passes_on_the_bundled_runs() -> None:
    result = run_check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Source: local" in result.stdout
    assert "OK: listed tasks (3 in total)." in result.stdout


def test_check_passes_against_the_cloud_api(fresh_emulator: Emulator) -> None:
    result = run_check(BROWSER_USE_API_KEY=DEFAULT_API_KEY, BROWSER_USE_BASE_URL=fresh_emulator.v2_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "API version: v2" in result.stdout and "API key: set" in result.stdout
    assert "OK: listed tasks" in result.stdout


def test_check_explains_a_rejected_key_and_fails(fresh_emulator: Emulator) -> None:
    key = "bu-wrong-key-for-check-000"
    result = run_check(BROWSER_USE_API_KEY=key, BROWSER_USE_BASE_URL=fresh_emulator.v1_url)
    assert result.returncode == 1
    assert "API version: v1" in result.stdout
    assert "FAIL: Authentication failed" in result.stdout and "BROWSER_USE_API_KEY" in result.stdout
    assert key not in result.stdout + result.stderr


def test_check_explains_an_unreachable_api() -> None:
    result = run_check(BROWSER_USE_API_KEY="k" * 12, BROWSER_USE_BASE_URL="http://127.0.0.1:9/api/v2")
    assert result.returncode == 1
    assert "FAIL: Connection failed" in result.stdout


def test_check_refuses_an_unusable_configuration(tmp_path: Path) -> None:
    missing = run_check(BROWSER_USE_RUNS_DIR=str(tmp_path / "nope"))
    cleartext = run_check(BROWSER_USE_API_KEY="k" * 12, BROWSER_USE_BASE_URL="http://api.example.com/api/v2")
    cloud_without_key = run_check(BROWSER_USE_SOURCE="cloud")
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    assert cleartext.returncode == 2 and "clear text" in cleartext.stderr
    assert cloud_without_key.returncode == 1 and "no API key" in cloud_without_key.stdout
