"""The across-runs analysis on its own: step alignment, failure signatures, percentiles, time windows, and
the digest cache's notion of a run's version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from browser_use_tasks_mcp.across.align import align, page_key, same_instruction
from browser_use_tasks_mcp.across.digest import DigestCache, digest, digest_bytes
from browser_use_tasks_mcp.across.match import Needles, reasons
from browser_use_tasks_mcp.across.scan import check_window, parse_time
from browser_use_tasks_mcp.across.stats import distribution, failure_signatures, percentile, signature
from browser_use_tasks_mcp.errors import InvalidInputError
from browser_use_tasks_mcp.models import Action, Judgement, Step, Task, TaskSummary


def _task(task_id: str, steps: list[tuple[str, str, bool]], **fields: object) -> Task:
    """A task from (action, url path, failed) per step."""
    return Task(
        id=task_id,
        source="local",
        status=str(fields.pop("status", "finished")),
        steps=[
            Step(
                number=n,
                url=f"https://shop.example{path}?n={n}",
                actions=[Action(name=name)],
                errors=["Element not found"] if failed else [],
            )
            for n, (name, path, failed) in enumerate(steps, 1)
        ],
        **fields,  # type: ignore[arg-type]
    )


BASE = [
    ("navigate", "/", False),
    ("click", "/list", False),
    ("input", "/item", False),
    ("click", "/item", False),
]


def test_identical_runs_do_not_part() -> None:
    found = align(_task("a", BASE), _task("b", BASE))
    assert found.parting is None and found.matched == 4 and found.only_a == found.only_b == []


def test_an_inserted_step_is_a_detour_and_the_runs_meet_again() -> None:
    detour = [*BASE[:2], ("scroll", "/list", False), *BASE[2:]]
    found = align(_task("a", BASE), _task("b", detour))
    assert found.only_b == [3] and found.matched == 4
    assert found.parting is not None and (found.parting.a_step, found.parting.b_step) == (None, 3)
    assert "detour" in found.parting.why and found.meet_again == (3, 4)


def test_a_replaced_step_is_the_parting_point_even_after_a_detour() -> None:
    other = [BASE[0], ("scroll", "/", False), BASE[1], ("go_back", "/", False)]
    found = align(_task("a", BASE), _task("b", other))
    assert found.parting is not None
    assert (found.parting.a_step, found.parting.b_step) == (3, 4)  # not the detour at B 2
    assert found.parting.screenshot_a == 3 and found.parting.screenshot_b == 4


def test_the_same_action_failing_in_one_run_only_parts_them_and_shows_the_next_pages() -> None:
    failing = [*BASE[:3], ("click", "/item", True), ("done", "/error", False)]
    found = align(_task("a", [*BASE, ("done", "/thanks", False)]), _task("b", failing))
    assert found.parting is not None and (found.parting.a_step, found.parting.b_step) == (4, 4)
    assert "failed in run B only" in found.parting.why
    assert (found.parting.screenshot_a, found.parting.screenshot_b) == (5, 5)


def test_one_run_going_on_after_the_other_ended() -> None:
    found = align(_task("a", BASE[:2]), _task("b", BASE))
    assert found.parting is not None and found.parting.a_step is None and found.parting.b_step == 3
    assert "Run A had ended" in found.parting.why and found.meet_again is None


def test_pages_match_by_host_and_path() -> None:
    assert page_key("https://Shop.example/item/?q=1#x") == page_key("https://shop.example/item?q=2")
    assert page_key("about:blank") == page_key("chrome://new-tab-page/") == "blank"
    assert page_key("https://a.example/x") != page_key("https://b.example/x")
    assert same_instruction("Order  3 units", "order 3 UNITS") and not same_instruction(None, "x")


def test_signatures_and_their_examples() -> None:
    runs = [
        digest(_task(f"r{i}", [("click", "/", True)], status="failed", created_at=datetime(2026, 1, i + 1)))
        for i in range(3)
    ]
    runs.append(digest(_task("ok", [("click", "/", True)])))  # a successful run's error does not count
    judged = _task("j", [("done", "/", False)], status="failed", judgement=Judgement(verdict=False))
    judged.judgement.failure_reason = "Price 12.99 did not match 13.49"  # type: ignore[union-attr]
    runs.append(digest(judged))
    top = failure_signatures(runs)
    assert top[0].signature == "Element not found" and top[0].runs == 3
    assert [e.task_id for e in top[0].examples] == ["r0", "r1"]
    assert top[1].signature == "Price <n> did not match <n>" and top[1].examples[0].step is None
    assert len(signature("x" * 10_000)) == 160


def test_percentiles_and_empty_distributions() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0 and percentile([1.0, 2.0, 3.0, 4.0], 0.95) == 4.0
    assert percentile([], 0.5) is None
    assert distribution([None, None]).count == 0
    assert distribution([3, None, 1]).total == 4.0


def test_time_windows() -> None:
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    assert parse_time("7d", "since", now=now) == now - timedelta(days=7)
    assert parse_time("2026-11-01", "since") == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_time("2026-11-01T10:00:00+02:00", "since") == datetime(2026, 11, 1, 8, tzinfo=UTC)
    assert parse_time("", "since") is None
    for bad in ("soon", "7 days ago", "2026-02-30", "99999999d", "999999w", "0001-01-01T00:00:00+01:00"):
        with pytest.raises(InvalidInputError):
            parse_time(bad, "since", now=now)
    with pytest.raises(InvalidInputError, match="after"):
        check_window(now, now - timedelta(days=1))


def test_a_search_matches_every_filter_and_quotes_where() -> None:
    run = digest(
        _task("r", [("navigate", "/", False), ("click", "/pay", True)], task="Buy a lamp", llm="gpt-4.1-mini")
    )
    found = reasons(
        run, Needles.of(query="LAMP", url_contains="/pay", error_contains="not found", model="gpt-4.1")
    )
    assert found is not None
    assert [(r.filter, r.field, r.step) for r in found] == [
        ("query", "instruction", None),
        ("url_contains", "url", 2),
        ("error_contains", "error", 2),
        ("model", "llm", None),
    ]
    assert reasons(run, Needles.of(query="lamp", model="claude")) is None
    with pytest.raises(InvalidInputError):
        Needles.of(query="x" * 201)


def test_digests_are_kept_per_version_of_a_finished_run() -> None:
    value = digest(_task("a", BASE[:3]))
    cache = DigestCache(max_bytes=2 * digest_bytes(value))
    row = TaskSummary(id="a", status="finished", step_count=3)
    cache.put("local", row, value)
    assert cache.get("local", row) is value
    assert cache.get("local", row.model_copy(update={"step_count": 4})) is None  # rewritten: read again
    running = TaskSummary(id="b", status="running", step_count=1)
    cache.put("local", running, value)
    assert cache.get("local", running) is None  # a running run may change: never kept
    for name in ("c", "d"):
        cache.put("local", row.model_copy(update={"id": name}), value)
    assert len(cache) == 2 and cache.get("local", row) is None  # bounded, oldest out
