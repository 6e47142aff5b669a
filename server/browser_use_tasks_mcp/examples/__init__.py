"""Bundled example data: a real local run of the open-source browser-use agent.

`runs/order-blue-widget/` was written by browser-use 0.13.8 (history, screenshots,
GIF, conversation logs, video). Point the local source at `BUNDLED_RUNS_DIR` to try the
server without running an agent.
"""

from __future__ import annotations

from pathlib import Path

BUNDLED_RUNS_DIR = Path(__file__).parent / "runs"
