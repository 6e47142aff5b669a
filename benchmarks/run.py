"""`python -m benchmarks [--quick]` and `python -m benchmarks soak [--calls N]`.

Also runs as `python benchmarks/run.py` from the repository root.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` and `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.report import markdown_table, notes, write_json


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark browser-use-tasks-mcp against the Cloud API emulator; every figure is a "
        "ratio against a baseline measured in the same run.",
    )
    parser.add_argument(
        "command", nargs="?", default="all", choices=["all", "soak"], help="all (default) or soak"
    )
    parser.add_argument("--quick", action="store_true", help="a smaller run (the smoke test uses it)")
    parser.add_argument("--json", type=Path, help="where to write the JSON (default: benchmarks/results/)")
    parser.add_argument("--calls", type=int, default=10_000, help="soak: number of calls (default 10000)")
    parser.add_argument(
        "--concurrency", type=int, default=4, help="soak: calls in flight at once (default 4)"
    )
    parser.add_argument("--time-limit", type=float, default=900.0, help="soak: stop after this many seconds")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    if args.command == "soak":
        from benchmarks.soak import run_soak

        soak = asyncio.run(run_soak(args.calls, args.concurrency, args.time_limit))
        rows, payload, extra_text, name = soak.rows, soak.payload, soak.text, "soak-latest.json"
        title = f"## Soak: {args.calls:,} mixed calls through one stdio session"
    else:
        from benchmarks.measure import Plan, import_markdown, run_all

        plan = Plan.make(args.quick)
        results = asyncio.run(run_all(plan))
        rows = results.rows
        if not args.quick:  # worker processes, Redis and two GIF builds: about a minute more
            from benchmarks.team import run_team

            rows = [*rows, *asyncio.run(run_team(quick=False))]
        payload = {
            "mode": "quick" if args.quick else "full",
            "durations_s": results.durations_s,
            **results.info,
        }
        extra_text = import_markdown(results.info)
        name = "latest-quick.json" if args.quick else "latest.json"
        title = f"## browser-use-tasks-mcp benchmarks ({'quick' if args.quick else 'full'} run)"
    total = time.perf_counter() - started
    payload["total_s"] = total
    path = write_json(args.json or name, payload, rows)
    unmet = [r for r in rows if r.met is False]
    print(title)
    print()
    print(markdown_table(rows))
    print()
    print(f"{len([r for r in rows if r.met])} goals met, {len(unmet)} not met; took {total:.0f} s.")
    durations = payload.get("durations_s")
    if isinstance(durations, dict):
        print("Time per part: " + ", ".join(f"{k} {v:.1f} s" for k, v in durations.items()) + ".")
    text = notes(rows)
    if text:
        print()
        print("### Notes")
        print()
        print(text)
    if extra_text:
        print()
        print(extra_text)
    print()
    print(f"JSON: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
