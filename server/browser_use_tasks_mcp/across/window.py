"""What a scan considers (`Window`) and what it found (`Scan`), apart from the walk itself.

The result models (`results.py`) and the tools' schemas need these shapes at start-up; the
walk over a listing (`scan.py`) is loaded by the first call that scans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from .digest import RunDigest

#: Runs a scan lists at most unless told otherwise, and the most it may be told.
DEFAULT_SCAN = 500
MAX_SCAN = 10_000

Stopped = Literal["end", "since", "scan_limit", "deadline", "listing"]


@dataclass(frozen=True)
class Window:
    """Which runs a scan considers: a status, a time window, one source."""

    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    source: str | None = None
    scan_limit: int = DEFAULT_SCAN
    #: Only runs of this instruction; rows whose listing shows another one are not read at all.
    instruction: str | None = None


@dataclass
class Scan:
    """The runs read, newest first, and how far the walk got."""

    runs: list[RunDigest] = field(default_factory=list)
    listed: int = 0
    unread: int = 0
    stopped: Stopped = "end"
    errors: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.stopped in ("end", "since") and not self.unread


def widen_hint(found: Scan, window: Window) -> str | None:
    """One sentence on how to see past where the scan stopped; None when it saw everything."""
    if found.stopped == "scan_limit":
        more = min(MAX_SCAN, max(window.scan_limit * 4, 100))
        return (
            f"Scanned the newest {found.listed} runs (the scan limit). Pass scan_limit={more} or a "
            "`since`/`until` window to look further back."
        )
    if found.stopped == "listing":
        return (
            f"The listing could not be read past {found.listed} runs (see errors): the answer covers those."
        )
    if found.stopped == "deadline":
        return (
            f"Stopped after {found.listed} runs listed ({found.unread} not read) at the call deadline: the "
            "answer is partial. Narrow it with `since`/`until` or `status`, or call again (runs read once "
            "are answered from cache)."
        )
    return None
