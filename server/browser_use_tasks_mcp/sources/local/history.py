"""A browser-use history file: parsing it (bounded, cached by file identity) and mapping it to steps.

browser-use 0.13 writes `{"history": [item, ...]}` with one item per step: `model_output`
(goals, memory, actions), `result` (per action: error, extracted content, done, success,
judgement), `state` (url, title, screenshot path) and `metadata` (step number, times).
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from ...errors import LocalRunError
from ...jsondata import loads
from ...models import Action, Element, Judgement, Step, Tab
from ..parse import (
    actions_from_entries,
    as_dict,
    as_float,
    as_int,
    as_list,
    as_str,
    as_text,
    bounded_steps,
    judgement_from,
    mark_judged_failures,
)

#: A history larger than this is not parsed (a real one is tens to hundreds of KiB per step).
MAX_HISTORY_BYTES = 32 * 1024 * 1024
#: Whole parsed histories kept in memory (a task read again within seconds is served by the service).
DEFAULT_CACHE_SIZE = 32
#: Listing rows kept: small, so a folder of thousands of runs is listed without parsing again.
MAX_SUMMARIES = 20_000
#: The final output kept in a listing row.
SUMMARY_OUTPUT_CHARS = 2_000

_USER_REQUEST = re.compile(r"<user_request>\s*(.*?)\s*</user_request>", re.DOTALL)


@dataclass
class Parsed:
    """What a history file says, independent of which files exist on disk now."""

    prompt: str | None
    steps: list[Step]
    screenshot_refs: list[str | None]  # raw `state.screenshot_path`, one per step
    done: bool
    success: bool | None
    output: str | None
    judgement: Judgement | None
    created_at: datetime | None
    finished_at: datetime | None
    last_end_ts: float | None
    notes: list[str] = field(default_factory=list)
    #: Without `done`: what the last action returned, shown as that and never as the final output.
    last_returned: str | None = None
    #: Token usage and cost (when the history carries `usage`), structured output, attachments.
    extras: dict[str, Any] = field(default_factory=dict)
    cost_usd: str | None = None
    #: The run ended without `done` on a limit browser-use reports (max steps): over, and failed.
    ended: bool = False
    #: Read from a file that is not valid JSON (being rewritten, or cut short): the steps that parse,
    #: or the last complete copy of the same file.
    salvaged: bool = False

    @property
    def status(self) -> str:
        """The status the file alone says (a run without `done` may still be running: `live_status`)."""
        if not self.done:
            return "failed"
        return "failed" if self.success is False else "finished"

    @property
    def raw_status(self) -> str:
        return "done" if self.done else "incomplete"

    def live(self, age_s: float, stale_after_s: float) -> tuple[str, str, bool]:
        """(status, raw status, has finished) now that its files last changed `age_s` seconds ago."""
        return live_status(self.done, self.success, self.ended, self.salvaged, age_s, stale_after_s)

    @property
    def is_success(self) -> bool | None:
        return self.success if self.done else None

    def summary(self) -> Summary:
        output = self.output[:SUMMARY_OUTPUT_CHARS] if self.output else self.output
        return Summary(
            prompt=self.prompt,
            status=self.status,
            raw_status=self.raw_status,
            is_success=self.is_success,
            created_at=self.created_at,
            finished_at=self.finished_at,
            output=output,
            step_count=len(self.steps),
            last_end_ts=self.last_end_ts,
            done=self.done,
            success=self.success,
            ended=self.ended,
            salvaged=self.salvaged,
        )


@dataclass(frozen=True)
class Summary:
    """What a listing shows of a run: a few hundred bytes, whatever the history's size."""

    prompt: str | None
    status: str
    raw_status: str
    is_success: bool | None
    created_at: datetime | None
    finished_at: datetime | None
    output: str | None
    step_count: int
    last_end_ts: float | None
    done: bool = False
    success: bool | None = None
    ended: bool = False
    salvaged: bool = False
    #: Modification time of the history file this row was read from (its cache identity).
    mtime: float = 0.0

    def live(self, age_s: float, stale_after_s: float) -> tuple[str, str, bool]:
        return live_status(self.done, self.success, self.ended, self.salvaged, age_s, stale_after_s)

    @property
    def settled(self) -> bool:
        """Its status does not depend on how long its files have been still (it called done, or hit the
        step limit), so a listing need not stat its folder."""
        return not self.salvaged and (self.done or self.ended)


def live_status(
    done: bool, success: bool | None, ended: bool, salvaged: bool, age_s: float, stale_after_s: float
) -> tuple[str, str, bool]:
    """A run's (status, raw status, has finished), from its history and how long its files have been still.

    A run without `done` is `running` while its files keep changing, and `interrupted` (status
    `stopped`: over, but not a failure the agent reported) once they have been still for
    `stale_after_s`; a run that hit browser-use's step limit has failed.
    """
    fresh = age_s < stale_after_s
    if salvaged:
        return ("running", "running", False) if fresh else ("stopped", "interrupted", False)
    if done:
        return ("failed" if success is False else "finished", "done", True)
    if ended:
        return "failed", "incomplete", True
    return ("running", "running", False) if fresh else ("stopped", "interrupted", False)


#: The error browser-use records when a run stops at `max_steps` without `done`.
_MAX_STEPS = re.compile(r"maximum (number of )?steps|max_steps", re.IGNORECASE)


@dataclass(frozen=True)
class Broken:
    """A history file that could not be read, with a reason and what to do about it."""

    reason: str
    hint: str = ""


def _timestamp(value: float | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def map_history(data: dict[str, Any]) -> Parsed:
    """Map a `{"history": [...]}` document into the common model. Never raises on odd shapes."""
    notes: list[str] = []
    steps: list[Step] = []
    refs: list[str | None] = []
    prompt: str | None = None
    times: list[tuple[float | None, float | None]] = []
    last_results: list[dict[str, Any]] = []
    items = list(data["history"])
    if items and _in_progress(items[-1]):
        number = as_dict(items[-1].get("metadata")).get("step_number")
        label = (
            f"Step {number}" if isinstance(number, int) and not isinstance(number, bool) else "The last step"
        )
        notes.append(f"{label} is in progress (no result yet); it is not listed.")
        items.pop()
    kept, skipped = bounded_steps(items)
    if skipped:
        notes.append(skipped)
    for index, item in kept:
        if not isinstance(item, dict):
            notes.append(f"History item {index + 1} is not an object; it was skipped.")
            continue
        results = [r for r in as_list(item.get("result")) if isinstance(r, dict)]
        last_results = results
        if prompt is None:
            match = _USER_REQUEST.search(as_text(item.get("state_message")) or "")
            prompt = match.group(1).strip() or None if match else None
        step, start, end = _step(item, results, index)
        steps.append(step)
        times.append((start, end))
        refs.append(as_text(as_dict(item.get("state")).get("screenshot_path")))
    mark_judged_failures(steps)
    starts = [t[0] for t in times if t[0] is not None]
    ends = [t[1] for t in times if t[1] is not None]
    final = last_results[-1] if last_results else {}
    done = final.get("is_done") is True
    ended = not done and bool(steps) and any(_MAX_STEPS.search(e) for e in steps[-1].errors)
    return Parsed(
        prompt=prompt,
        steps=steps,
        screenshot_refs=refs,
        done=done,
        success=final.get("success") if isinstance(final.get("success"), bool) else None,
        output=as_str(final.get("extracted_content")) if done else None,
        last_returned=None if done else as_str(final.get("extracted_content")),
        extras=_extras(data.get("usage"), steps, final),
        cost_usd=_cost(as_dict(data.get("usage")).get("total_cost")),
        judgement=judgement_from(final.get("judgement"))
        if isinstance(final.get("judgement"), dict)
        else None,
        created_at=_timestamp(starts[0] if starts else None),
        finished_at=_timestamp(ends[-1] if ends else None),
        last_end_ts=ends[-1] if ends else None,
        notes=notes,
        ended=ended,
    )


MAX_ATTACHMENTS = 20


def _extras(usage: object, steps: list[Step], final: dict[str, Any]) -> dict[str, Any]:
    """Token usage (browser-use's UsageSummary, saved once `save_history()` keeps it), the `done`
    action's structured `data`, and the names of the files the agent attached to its answer."""
    counts = as_dict(usage)
    done = next((a for a in reversed(steps[-1].actions) if a.name == "done"), None) if steps else None
    attachments = [
        Path(p).name for p in as_list(final.get("attachments")) if isinstance(p, str) and p.strip()
    ]
    found = {
        "total_input_tokens": as_int(counts.get("total_prompt_tokens")),
        "total_output_tokens": as_int(counts.get("total_completion_tokens")),
        "total_tokens": as_int(counts.get("total_tokens")),
        "output_data": done.params.get("data") if done is not None else None,
        "attachments": attachments[:MAX_ATTACHMENTS],
    }
    return {key: value for key, value in found.items() if value not in (None, [])}


def _cost(value: object) -> str | None:
    """A cost in USD as written: a number's shortest exact text, never a rounded float."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    text = str(value).strip()
    try:
        return text if math.isfinite(float(text)) and float(text) >= 0 else None
    except ValueError:
        return None


def _in_progress(item: object) -> bool:
    """A history item written before its step ended: a start time, but no results and no end time."""
    if not isinstance(item, dict):
        return False
    metadata = as_dict(item.get("metadata"))
    results = [r for r in as_list(item.get("result")) if isinstance(r, dict)]
    return (
        not results
        and _seconds(metadata.get("step_start_time")) is not None
        and _seconds(metadata.get("step_end_time")) is None
    )


def _step(
    item: dict[str, Any], results: list[dict[str, Any]], index: int
) -> tuple[Step, float | None, float | None]:
    """One history item as a step, with its start and end times (epoch seconds)."""
    model_output = as_dict(item.get("model_output"))
    state = as_dict(item.get("state"))
    metadata = as_dict(item.get("metadata"))
    raw_number = metadata.get("step_number")
    number = raw_number if isinstance(raw_number, int) and not isinstance(raw_number, bool) else index + 1
    start = _seconds(metadata.get("step_start_time"))
    end = _seconds(metadata.get("step_end_time"))
    step = Step(
        number=number,
        url=as_str(state.get("url")),
        title=as_str(state.get("title")),
        evaluation_previous_goal=as_str(model_output.get("evaluation_previous_goal")),
        memory=as_str(model_output.get("memory")),
        next_goal=as_str(model_output.get("next_goal")),
        thinking=as_str(model_output.get("thinking")),
        actions=_with_elements(
            actions_from_entries(model_output.get("action")), state.get("interacted_element")
        ),
        results=[text for r in results if (text := as_text(r.get("extracted_content")))],
        errors=[text for r in results if (text := as_text(r.get("error")))],
        duration_s=end - start if start is not None and end is not None and end >= start else None,
        started_at=_timestamp(start),
        tabs=_tabs(state.get("tabs"), as_str(state.get("url"))),
        page_seen=bool(as_text(item.get("state_message"))),
    )
    return step, start, end


MAX_TABS = 20


def _tabs(raw: object, current_url: str | None) -> list[Tab]:
    """`state.tabs`; the active one is the first whose URL is the step's page."""
    tabs = [
        Tab(url=as_str(t.get("url")), title=as_str(t.get("title")), target_id=as_str(t.get("target_id")))
        for t in as_list(raw)[:MAX_TABS]
        if isinstance(t, dict)
    ]
    active = next((t for t in tabs if current_url and t.url == current_url), None)
    if active is not None:
        active.active = True
    return tabs


def _with_elements(actions: list[Action], raw: object) -> list[Action]:
    """Each action with the element `state.interacted_element` recorded for it (same order), if any."""
    elements = as_list(raw)
    for action, element in zip(actions, elements, strict=False):
        data = as_dict(element)
        if data:
            attributes = as_dict(data.get("attributes"))
            action.element = Element(
                tag=(as_str(data.get("node_name")) or as_str(data.get("tag_name")) or "").lower() or None,
                id=as_str(attributes.get("id")),
                name=as_str(attributes.get("name")),
                text=as_str(data.get("ax_name")) or as_str(data.get("node_value")) or None,
                xpath=as_str(data.get("x_path")) or as_str(data.get("xpath")),
            )
    return actions


def _seconds(value: object) -> float | None:
    """An epoch time as browser-use writes it: a finite number, never a string."""
    return None if isinstance(value, str) else as_float(value)


_Key = tuple[str, int, int, int]
V = TypeVar("V")


class HistoryCache:
    """Histories by file identity (path, inode, mtime, size): a file is parsed again only when it changes.

    Whole parses are few and large; listing rows are many and small, and outlive the parse they
    came from, so listing thousands of runs parses each one once.
    """

    def __init__(self, size: int = DEFAULT_CACHE_SIZE, summaries: int = MAX_SUMMARIES) -> None:
        #: One entry per file (by path): the version it was read at, and what was read.
        self._parsed: OrderedDict[str, tuple[_Key, Parsed | Broken]] = OrderedDict()
        self._summaries: OrderedDict[str, tuple[_Key, Summary | Broken]] = OrderedDict()
        #: The last parse of each file that was valid JSON, shown while the file is being rewritten.
        self._complete: OrderedDict[str, Parsed] = OrderedDict()
        self._limits = (max(1, size), max(1, summaries))
        self._lock = threading.Lock()
        #: How many times a history file was actually parsed (observable by tests).
        self.parse_count = 0

    def __len__(self) -> int:
        return len(self._parsed)

    def load(self, path: Path) -> Parsed | Broken:
        """The parsed history, reusing the cached parse while the file is unchanged."""
        key = _identity(path)
        if isinstance(key, Broken):
            return key
        with self._lock:
            cached = _get(self._parsed, key)
        if cached is not None:
            return cached
        result = parse_file(path, key[3])
        with self._lock:
            self.parse_count += 1
            result = self._with_last_complete(key[0], result)
            _put(self._parsed, key, result, self._limits[0])
            _put(self._summaries, key, _row(result, key), self._limits[1])
        return result

    def _with_last_complete(self, path: str, result: Parsed | Broken) -> Parsed | Broken:
        """A file cut short while being rewritten is shown as its last complete copy, when that has more."""
        if not isinstance(result, Parsed):
            return result
        if not result.salvaged:
            self._complete[path] = result
            self._complete.move_to_end(path)
            while len(self._complete) > self._limits[0]:
                self._complete.popitem(last=False)
            return result
        previous = self._complete.get(path)
        if previous is None or len(previous.steps) < len(result.steps):
            return result
        note = (
            "The history file is being rewritten (not valid JSON right now): showing its last complete copy, "
            f"with {len(previous.steps)} steps."
        )
        return replace(previous, salvaged=True, notes=[note, *previous.notes])

    def summary(self, path: Path, known: os.stat_result | None = None) -> Summary | Broken:
        """The listing row of a history, parsing it only when no row is cached for this version."""
        key = _identity(path, known)
        if isinstance(key, Broken):
            return key
        with self._lock:
            cached = _get(self._summaries, key)
        if cached is not None:
            return cached
        return _row(self.load(path), key)


def _row(result: Parsed | Broken, key: _Key) -> Summary | Broken:
    """The listing row of a parse, stamped with the file's modification time from its identity."""
    return replace(result.summary(), mtime=key[2] / 1e9) if isinstance(result, Parsed) else result


def _identity(path: Path, known: os.stat_result | None = None) -> _Key | Broken:
    """The file's identity; `known`: a stat of it the caller just made (an lstat of a plain file)."""
    try:
        st = known if known is not None else path.stat()
    except OSError as exc:
        return Broken(f"history file {path.name} cannot be read ({exc.strerror or exc})")
    if not stat.S_ISREG(st.st_mode):
        return Broken(f"{path.name} is not a regular file")
    return (str(path), st.st_ino, st.st_mtime_ns, st.st_size)


def _get(entries: OrderedDict[str, tuple[_Key, V]], key: _Key) -> V | None:
    """What is cached for this version of the file; None when nothing is, or another version's."""
    held = entries.get(key[0])
    if held is None or held[0] != key:
        return None
    entries.move_to_end(key[0])
    return held[1]


def _put(entries: OrderedDict[str, tuple[_Key, V]], key: _Key, value: V, limit: int) -> None:
    # One entry per file: a newer version replaces the older (dead weight), then the count is bounded.
    # Filed by path, so a cold listing of thousands of runs does not look through every entry per file.
    entries[key[0]] = (key, value)
    entries.move_to_end(key[0])
    while len(entries) > limit:
        entries.popitem(last=False)


def parse_file(path: Path, size: int) -> Parsed | Broken:
    retry = "If browser-use is still writing it, try again when the run has finished."
    if size > MAX_HISTORY_BYTES:
        return Broken(
            f"history file {path.name} is {size // (1024 * 1024)} MiB, larger than the "
            f"{MAX_HISTORY_BYTES // (1024 * 1024)} MiB this server reads"
        )
    if size == 0:
        return Broken(f"history file {path.name} is empty (truncated?)", retry)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_HISTORY_BYTES + 1)
    except OSError as exc:
        return Broken(f"history file {path.name} cannot be read ({exc.strerror or exc})")
    try:
        data = loads(raw)
    except UnicodeDecodeError:
        return Broken(f"history file {path.name} is not UTF-8 text")
    except json.JSONDecodeError as exc:  # a ValueError: caught before the general case below
        salvaged = _salvage(raw)
        if salvaged is not None:
            salvaged.salvaged = True
            salvaged.notes.insert(
                0,
                f"The history file is not valid JSON at line {exc.lineno} column {exc.colno} (being rewritten, "
                f"or cut short): showing the {len(salvaged.steps)} steps that parse.",
            )
            return salvaged
        return Broken(
            f"history file is not valid JSON (truncated?): {path.name} line {exc.lineno} column {exc.colno}",
            retry + " Otherwise the file is damaged; save it again with agent.save_history().",
        )
    except RecursionError:
        return Broken(f"history file {path.name} is nested too deeply to read")
    except ValueError:
        return Broken(f"history file {path.name} is not valid JSON")
    if not isinstance(data, dict) or not isinstance(data.get("history"), list):
        found = type(data).__name__ if not isinstance(data, dict) else "an object without a 'history' list"
        return Broken(
            f'{path.name} is not a browser-use history: expected {{"history": [...]}}, found {found}',
            "Write it with agent.save_history(path).",
        )
    try:
        return map_history(data)
    except (RecursionError, ValueError, TypeError) as exc:  # pragma: no cover - defensive
        return Broken(f"history file {path.name} has an unexpected shape ({type(exc).__name__})")


_HISTORY_START = re.compile(rb'^\s*\{\s*"history"\s*:\s*\[')


def _salvage(raw: bytes) -> Parsed | None:
    """The complete steps at the start of a history cut short while being written, if it begins like one."""
    match = _HISTORY_START.match(raw)
    if match is None:
        return None
    text = raw[match.end() :].decode("utf-8", errors="replace")
    decoder = json.JSONDecoder(parse_int=lambda t: int(t) if len(t.lstrip("-")) <= 4300 else None)
    items: list[Any] = []
    pos = 0
    try:
        while True:
            while pos < len(text) and text[pos] in " \t\r\n,":
                pos += 1
            if pos >= len(text) or text[pos] == "]":
                break
            item, pos = decoder.raw_decode(text, pos)
            items.append(item)
    except (ValueError, RecursionError):
        pass
    try:
        return map_history({"history": items})
    except (RecursionError, ValueError, TypeError):  # pragma: no cover - defensive
        return None


#: The most of one step's page view (`state_message`) handed out: pages of a few thousand elements fit.
MAX_PAGE_SEEN_CHARS = 60_000


def page_seen(path: Path, number: int) -> tuple[str, bool] | None:
    """What the agent's LLM was sent at step `number` (its `state_message`), cut to MAX_PAGE_SEEN_CHARS,
    and whether it was cut; None when the step has none. Read from the file on demand: these texts are
    too large to keep in the parse cache for every step."""
    try:
        size = path.stat().st_size
        if size > MAX_HISTORY_BYTES:
            raise LocalRunError(f"The history file {path.name} is too large to read ({size // 2**20} MiB).")
        with path.open("rb") as handle:
            data = loads(handle.read(MAX_HISTORY_BYTES + 1))
    except (OSError, ValueError, RecursionError) as exc:
        raise LocalRunError(
            f"The history file {path.name} cannot be read now ({type(exc).__name__}); if browser-use is still "
            "writing it, try again when the run has finished."
        ) from None
    items = as_list(data.get("history")) if isinstance(data, dict) else []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        raw = as_dict(item.get("metadata")).get("step_number")
        own = raw if isinstance(raw, int) and not isinstance(raw, bool) else index + 1
        if own == number:
            text = item.get("state_message")
            if not isinstance(text, str) or not text.strip():
                return None
            return text[:MAX_PAGE_SEEN_CHARS], len(text) > MAX_PAGE_SEEN_CHARS
    return None
