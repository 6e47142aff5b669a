"""The README's quick start stays true: two commands, the first shows the server working with no key.

CI runs the two commands literally (scripts/readme_commands.py); these tests check their shape
and run the newcomer's command against this checkout.
"""

from __future__ import annotations

import os
import subprocess
import sys

from scripts.readme_commands import README, quickstart_commands

from tests.helpers import REPO


def test_quickstart_has_one_run_command_and_one_test_command() -> None:
    commands = quickstart_commands(README.read_text(encoding="utf-8"))
    assert len(commands) == 2
    setup_and_run, tests = commands
    assert "pip install" in setup_and_run and setup_and_run.rstrip().endswith("browser-use-tasks-mcp demo")
    assert "pytest" in tests and "npm ci --prefix tests/node" in tests


def test_demo_runs_on_the_bundled_runs_without_a_key() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROWSER_USE_")}
    completed = subprocess.run(
        [sys.executable, "-m", "browser_use_tasks_mcp", "demo"],
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
        cwd=REPO,
    )
    out = completed.stdout.decode()
    assert completed.returncode == 0, completed.stderr.decode()[-2000:]
    assert "Connected. Tools: get_task" in out
    for run in ("order-blue-widget", "red-gadget-expired-coupon", "trade-login-max-steps"):
        assert run in out
    assert "$ get_task(" in out and "## Steps" in out
