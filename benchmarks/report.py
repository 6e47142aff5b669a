"""Rows of figures, the markdown table printed to stdout, and the JSON written next to it."""

from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Row:
    """One measured figure against its baseline from the same run.

    `met` is None when there is no goal (the figure is reported for the record).
    """

    section: str
    metric: str
    measured: float | int | str
    unit: str = ""
    baseline: float | int | str | None = None
    ratio: float | None = None
    goal: str = "report"
    met: bool | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def ratio(measured: float, baseline: float) -> float | None:
    return measured / baseline if baseline else None


def _number(value: float | int | str | None, unit: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        text = f"{value:,}"
    elif abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def _ratio(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 0.01:
        return f"{value:.2%}"
    if value < 0.1:
        return f"{value:.3f}× ({value:.1%})"
    return f"{value:.2f}×"


def _met(value: bool | None) -> str:
    return "—" if value is None else ("yes" if value else "**NO**")


def markdown_table(rows: list[Row]) -> str:
    lines = [
        "| section | metric | measured | baseline | ratio | goal | met? |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.section} | {row.metric} | {_number(row.measured, row.unit)} | "
            f"{_number(row.baseline, row.unit)} | {_ratio(row.ratio)} | {row.goal} | {_met(row.met)} |"
        )
    return "\n".join(lines)


def notes(rows: list[Row]) -> str:
    """One line per row that carries a note; goals not met first."""
    ordered = [r for r in rows if r.met is False] + [r for r in rows if r.met is not False]
    lines = []
    for row in ordered:
        if row.note:
            flag = "NOT MET — " if row.met is False else ""
            lines.append(f"- **{row.metric}**: {flag}{row.note}")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "executable": sys.executable,
    }


def write_json(name: str | Path, payload: dict[str, Any], rows: list[Row]) -> Path:
    """Write the figures to `name` (a bare name goes into benchmarks/results/)."""
    path = RESULTS / name if isinstance(name, str) else name
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        **payload,
        "rows": [asdict(r) for r in rows],
    }
    path.write_text(json.dumps(document, indent=1, default=str) + "\n")
    return path
