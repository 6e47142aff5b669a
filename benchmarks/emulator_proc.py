"""The Cloud API emulator in its own process, so it never shares a GIL with the measuring client.

    python -m benchmarks.emulator_proc [--url-expires S] [--prewarm]

Prints its base URL on one line once the socket listens, then serves until terminated.
`--prewarm` renders the screenshots of MANY_TASKS and HUNDRED_STEP_TASK first, so no
measurement pays for the emulator drawing a screenshot.
"""

from __future__ import annotations

import argparse
import gc

from tests.emulator import DEFAULT_API_KEY, HUNDRED_STEP_TASK, MANY_TASKS, Emulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.emulator_proc")
    parser.add_argument("--url-expires", type=int, default=None)
    parser.add_argument("--prewarm", action="store_true")
    args = parser.parse_args(argv)
    emulator = Emulator(DEFAULT_API_KEY, url_expires=args.url_expires)
    if args.prewarm:
        emulator.prewarm([*MANY_TASKS, HUNDRED_STEP_TASK])
    # Long-lived seed data and screenshots: keep full collections from scanning them mid-measurement.
    gc.collect()
    gc.freeze()
    emulator.serve_forever("127.0.0.1", 0)


if __name__ == "__main__":
    main()
