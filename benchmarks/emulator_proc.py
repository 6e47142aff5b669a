"""The Cloud API emulator in its own process, so it never shares a GIL with the measuring client.

    python -m benchmarks.emulator_proc [--url-expires S] [--prewarm] [--generations N] [--distinct N]

Prints its base URL on one line once the socket listens, then serves until terminated.
`--prewarm` renders the screenshots of MANY_TASKS and HUNDRED_STEP_TASK first, so no
measurement pays for the emulator drawing a screenshot. `--generations N` adds N copies of
HUNDRED_STEP_TASK that are also Cloud v4 runs and v3 sessions (`add_generation_copies`); `--distinct N`
serves N distinct finished v2 tasks for the soak (`add_distinct_copies`).
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import uuid

from tests.emulator import DEFAULT_API_KEY, HUNDRED_STEP_TASK, MANY_TASKS, Emulator, get_seed
from tests.emulator.seed import SeedV3Session, SeedV4Run


def _copy_ids(kind: str, count: int) -> list[str]:
    """Ids of benchmark-only copies of seeded tasks: the same in every process."""
    return [str(uuid.uuid5(uuid.NAMESPACE_URL, f"benchmark/{kind}/{i}")) for i in range(count)]


def generation_task_ids(copies: int) -> list[str]:
    """Ids of the copies of HUNDRED_STEP_TASK that `--generations N` serves."""
    return _copy_ids("generations", copies)


def add_generation_copies(copies: int) -> None:
    """Copies of HUNDRED_STEP_TASK, each also a Cloud v4 run (events) and a v3 session (messages): every
    call of the benchmark's per-generation rows reads one it never read, so none is served from the
    server's cache. Only in this process's seed; the test suite's emulator is unchanged."""
    seed = get_seed()
    task = seed.tasks[HUNDRED_STEP_TASK]
    when = task.finished_at or task.created_at
    for number, task_id in enumerate(generation_task_ids(copies)):
        seed.tasks[task_id] = dataclasses.replace(task, id=task_id, key=f"BENCHMARK_COPY_{number}")
        seed.v4_runs[task_id] = SeedV4Run(
            id=task_id,
            status="completed",
            model="claude-sonnet-4.6",
            title=task.task[:60],
            error=None,
            judgement=None,
            total_cost_usd="0.612",
            updated_at=when,
        )
        seed.v3_sessions[task_id] = SeedV3Session(
            id=task_id,
            status="stopped",
            model="bu-max",
            title=task.task[:60],
            is_task_successful=True,
            total_cost_usd="0.612",
            updated_at=when,
        )


def distinct_task_ids(count: int) -> list[str]:
    """`count` ids of finished v2 tasks: MANY_TASKS, then copies of them (`add_distinct_copies`)."""
    return [*MANY_TASKS[:count], *_copy_ids("distinct", max(0, count - len(MANY_TASKS)))]


def add_distinct_copies(count: int) -> None:
    """Copies of MANY_TASKS (v2 tasks) under new ids, so the soak can read `count` distinct tasks; only in
    this process's seed (the soak adds the same ones to its own, to pick steps)."""
    seed = get_seed()
    for number, task_id in enumerate(distinct_task_ids(count)[len(MANY_TASKS) :]):
        original = seed.tasks[MANY_TASKS[number % len(MANY_TASKS)]]
        seed.tasks[task_id] = dataclasses.replace(original, id=task_id, key=f"BENCHMARK_DISTINCT_{number}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.emulator_proc")
    parser.add_argument("--url-expires", type=int, default=None)
    parser.add_argument("--prewarm", action="store_true")
    parser.add_argument("--generations", type=int, default=0, metavar="N")
    parser.add_argument("--distinct", type=int, default=0, metavar="N")
    args = parser.parse_args(argv)
    if args.distinct:
        add_distinct_copies(args.distinct)
    if args.generations:
        add_generation_copies(args.generations)
    emulator = Emulator(DEFAULT_API_KEY, url_expires=args.url_expires)
    if args.prewarm:
        emulator.prewarm([*MANY_TASKS, HUNDRED_STEP_TASK])
    # Long-lived seed data and screenshots: keep full collections from scanning them mid-measurement.
    gc.collect()
    gc.freeze()
    emulator.serve_forever("127.0.0.1", 0)


if __name__ == "__main__":
    main()
