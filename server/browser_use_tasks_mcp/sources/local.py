"""Local runs of the open-source `browser-use` agent, read from a folder on disk.

Layout (browser-use 0.13): each run is a folder directly inside `runs_dir` holding the
history file written by `agent.save_history()` (`AgentHistory.json`, or any `*.json`
whose top level is `{"history": [...]}`), its `screenshots/step_N.png`, and optionally
`agent_history.gif`, video recordings (`*.mp4`/`*.webm`), conversation logs and other
files. A bare history file directly in `runs_dir` is a run too. The run id is the folder
name (or the file name without `.json`).

The folder is rescanned on every call, so runs added or rewritten while the server runs
show up without a restart; parsed histories are cached by (path, inode, mtime, size).
All file I/O happens in worker threads. Every path handed out is relative to
`runs_dir`, and `read_bytes` refuses anything that resolves outside it.
"""

from __future__ import annotations

import json
import math
import mimetypes
import os
import re
import stat
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import anyio.to_thread

from ..errors import FetchRefusedError, InvalidInputError, LocalRunError, NotFoundError
from ..ids import validate_file_name, validate_id
from ..models import (
    Action,
    Judgement,
    MediaBundle,
    MediaItem,
    OutputFile,
    Screenshot,
    Step,
    Task,
    TaskPage,
    TaskSummary,
    normalize_status,
)
from .base import Locatable, TaskSource

HISTORY_FILE_NAME = "AgentHistory.json"
DEFAULT_GIF_NAME = "agent_history.gif"
#: A history larger than this is not parsed (a real one is tens to hundreds of KiB per step).
MAX_HISTORY_BYTES = 64 * 1024 * 1024
#: Parsed histories kept in memory.
DEFAULT_CACHE_SIZE = 256
#: Bounds on walking one run folder for media and output files.
MAX_FILES_PER_RUN = 2000
MAX_WALK_DEPTH = 8
#: Listing errors and missing-file names are capped so a pathological folder stays readable.
MAX_LISTED_ERRORS = 20
MAX_LISTED_NAMES = 30

_USER_REQUEST = re.compile(r"<user_request>\s*(.*?)\s*</user_request>", re.DOTALL)
_RECORDING_SUFFIXES = {".mp4": "video/mp4", ".webm": "video/webm"}
_MIME_BY_SUFFIX = {
    ".txt": "text/plain",
    ".log": "text/plain",
    ".md": "text/markdown",
    ".csv": "text/csv",
    ".json": "application/json",
    ".jsonl": "application/x-ndjson",
    ".html": "text/html",
    ".htm": "text/html",
    ".xml": "application/xml",
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
    ".zip": "application/zip",
    **_RECORDING_SUFFIXES,
}

NO_RECORDING_NOTE = "No video recording in this run (browser-use writes one only with record_video_dir)."
NO_GIF_NOTE = "No GIF in this run (browser-use writes agent_history.gif only with generate_gif=True)."
NO_CONVERSATION_NOTE = (
    "No conversation logs in this run (browser-use writes them only with save_conversation_path)."
)
BARE_RUN_NOTE = (
    "This run is a bare history file: no screenshots, GIF, recordings or conversation logs are "
    "stored next to it. Keep a run in its own folder to have them found."
)


# --------------------------------------------------------------------------- parsed data


@dataclass
class _Parsed:
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

    @property
    def status(self) -> str:
        if not self.done:
            return "failed"
        return "failed" if self.success is False else "finished"

    @property
    def raw_status(self) -> str:
        return "done" if self.done else "incomplete"

    @property
    def is_success(self) -> bool | None:
        return self.success if self.done else None


@dataclass(frozen=True)
class _Broken:
    """A history file that could not be read, with a reason and what to do about it."""

    reason: str
    hint: str = ""


@dataclass(frozen=True)
class _Run:
    """A run found on disk."""

    id: str
    folder: Path | None  # the run folder (unresolved, inside root); None for a bare history file
    history: Path  # the history file (unresolved, inside root)

    @property
    def rel_history(self) -> str:
        return f"{self.id}/{self.history.name}" if self.folder is not None else self.history.name


@dataclass
class _Loaded:
    run: _Run
    result: _Parsed
    mtime: float


@dataclass
class _Inventory:
    """Files of one run folder, by kind. Paths are relative to runs_dir (posix)."""

    recordings: list[MediaItem] = field(default_factory=list)
    conversations: list[MediaItem] = field(default_factory=list)
    logs: list[MediaItem] = field(default_factory=list)
    gif: MediaItem | None = None
    output_files: list[OutputFile] = field(default_factory=list)
    truncated: bool = False


# --------------------------------------------------------------------------- small helpers


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _non_empty(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _timestamp(value: float | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _natural_key(text: str) -> list[tuple[int, int | str]]:
    """Sort 'step_10' after 'step_9'."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text) if part]


def _guess_mime(name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in _MIME_BY_SUFFIX:
        return _MIME_BY_SUFFIX[suffix]
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


def _inside(path: Path, root: Path) -> bool:
    """`path` (already resolved) is `root` or below it."""
    return path == root or path.is_relative_to(root)


def _resolved_inside(path: Path, root: Path) -> Path | None:
    """Resolve `path` following symlinks; return it if it exists and stays inside `root`."""
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError, ValueError):  # ValueError: embedded NUL byte
        return None
    return resolved if _inside(resolved, root) else None


def _points_outside(path: Path, root: Path) -> bool:
    """`path` is a symbolic link (possibly dangling) whose target lies outside `root`."""
    try:
        return path.is_symlink() and not _inside(path.resolve(strict=False), root)
    except (OSError, RuntimeError, ValueError):
        return True


def _is_valid_id(name: str) -> bool:
    try:
        validate_id(name)
    except InvalidInputError:
        return False
    return True


def _basename(raw: str) -> str | None:
    """The file name of a path written on any OS; None when there is no plain name."""
    name = re.split(r"[\\/]", raw.strip())[-1]
    if not name or name in {".", ".."} or "\x00" in name:
        return None
    return name


def _cap_join(items: list[str], limit: int = MAX_LISTED_NAMES) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


# --------------------------------------------------------------------------- history mapping


def _map_history(data: dict[str, Any]) -> _Parsed:
    """Map a `{"history": [...]}` document into the common model. Never raises on odd shapes."""
    history = data["history"]
    notes: list[str] = []
    steps: list[Step] = []
    refs: list[str | None] = []
    prompt: str | None = None
    first_start: float | None = None
    last_end: float | None = None
    last_results: list[dict[str, Any]] = []

    for index, item in enumerate(history):
        if not isinstance(item, dict):
            notes.append(f"History item {index + 1} is not an object; it was skipped.")
            continue
        model_output = _dict(item.get("model_output"))
        state = _dict(item.get("state"))
        metadata = _dict(item.get("metadata"))
        raw_results = item.get("result")
        results = [r for r in raw_results if isinstance(r, dict)] if isinstance(raw_results, list) else []
        last_results = results

        if prompt is None:
            match = _USER_REQUEST.search(_str_or_none(item.get("state_message")) or "")
            if match and match.group(1).strip():
                prompt = match.group(1).strip()

        raw_number = metadata.get("step_number")
        number = raw_number if isinstance(raw_number, int) and not isinstance(raw_number, bool) else index + 1
        start = _number(metadata.get("step_start_time"))
        end = _number(metadata.get("step_end_time"))
        duration = end - start if start is not None and end is not None and end >= start else None
        if start is not None and first_start is None:
            first_start = start
        if end is not None:
            last_end = end

        actions: list[Action] = []
        raw_actions = model_output.get("action")
        for entry in raw_actions if isinstance(raw_actions, list) else []:
            if not isinstance(entry, dict):
                continue
            for name, params in entry.items():
                if params is None or not isinstance(name, str):
                    continue
                actions.append(
                    Action(name=name, params=params if isinstance(params, dict) else {"value": params})
                )

        step_results = [text for r in results if (text := _non_empty(r.get("extracted_content")))]
        step_errors = [text for r in results if (text := _non_empty(r.get("error")))]

        steps.append(
            Step(
                number=number,
                url=_str_or_none(state.get("url")),
                title=_str_or_none(state.get("title")),
                evaluation_previous_goal=_str_or_none(model_output.get("evaluation_previous_goal")),
                memory=_str_or_none(model_output.get("memory")),
                next_goal=_str_or_none(model_output.get("next_goal")),
                thinking=_str_or_none(model_output.get("thinking")),
                actions=actions,
                results=step_results,
                errors=step_errors,
                duration_s=duration,
                started_at=_timestamp(start),
            )
        )
        refs.append(_non_empty(state.get("screenshot_path")))

    final = last_results[-1] if last_results else {}
    done = final.get("is_done") is True
    success = final.get("success") if isinstance(final.get("success"), bool) else None
    judgement = _map_judgement(final.get("judgement"))
    return _Parsed(
        prompt=prompt,
        steps=steps,
        screenshot_refs=refs,
        done=done,
        success=success,
        output=_str_or_none(final.get("extracted_content")) if done else None,
        judgement=judgement,
        created_at=_timestamp(first_start),
        finished_at=_timestamp(last_end),
        last_end_ts=last_end,
        notes=notes,
    )


def _map_judgement(raw: object) -> Judgement | None:
    if not isinstance(raw, dict):
        return None

    def flag(key: str) -> bool | None:
        value = raw.get(key)
        return value if isinstance(value, bool) else None

    return Judgement(
        verdict=flag("verdict"),
        reasoning=_non_empty(raw.get("reasoning")),
        failure_reason=_non_empty(raw.get("failure_reason")),
        impossible_task=flag("impossible_task"),
        reached_captcha=flag("reached_captcha"),
    )


# --------------------------------------------------------------------------- the source


class LocalRunsSource(TaskSource):
    """Runs of the open-source browser-use agent saved in a folder."""

    kind = "local"

    def __init__(self, runs_dir: Path, *, cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        self.runs_dir = Path(runs_dir).expanduser()
        self.label = f"local browser-use runs in {self.runs_dir}"
        self._cache: OrderedDict[tuple[str, int, int, int], _Parsed | _Broken] = OrderedDict()
        self._cache_size = max(1, cache_size)
        self._lock = threading.Lock()
        #: How many times a history file was actually parsed (observable by tests).
        self.parse_count = 0

    # ----------------------------------------------------------------- public API

    async def get_task(self, task_id: str) -> Task:
        run_id = self.validate_task_id(task_id)
        return await anyio.to_thread.run_sync(self._get_task_sync, run_id)

    async def list_tasks(self, *, status: str | None, page: int, page_size: int) -> TaskPage:
        if isinstance(page, bool) or not isinstance(page, int) or page < 1:
            raise InvalidInputError("`page` must be a whole number of at least 1.")
        if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
            raise InvalidInputError("`page_size` must be a whole number of at least 1.")
        wanted = normalize_status(status) if status else None
        return await anyio.to_thread.run_sync(self._list_sync, wanted, page, page_size)

    async def get_source_gif(self, task: Task) -> MediaItem | None:
        inventory = await self._inventory_for(task)
        return inventory.gif if inventory else None

    async def get_media(self, task: Task) -> MediaBundle:
        inventory = await self._inventory_for(task)
        if inventory is None:
            return MediaBundle(task_id=task.id, notes=[BARE_RUN_NOTE])
        gif = inventory.gif
        notes: list[str] = []
        if not inventory.recordings:
            notes.append(NO_RECORDING_NOTE)
        if gif is None:
            notes.append(NO_GIF_NOTE)
        if not inventory.conversations:
            notes.append(NO_CONVERSATION_NOTE)
        if inventory.truncated:
            notes.append(
                f"The run folder holds more than {MAX_FILES_PER_RUN} files; only the first were listed."
            )
        return MediaBundle(
            task_id=task.id,
            recordings=inventory.recordings,
            logs=inventory.logs,
            conversations=inventory.conversations,
            output_files=inventory.output_files,
            gif=gif,
            notes=notes,
        )

    async def get_log(self, task: Task) -> MediaItem | None:
        inventory = await self._inventory_for(task)
        return inventory.logs[0] if inventory and inventory.logs else None

    async def resolve_output_file(self, task: Task, file: str) -> OutputFile:
        name = validate_file_name(file)
        media = await self.get_media(task)
        for output in media.output_files:
            if output.name == name:
                return output
        names = [f.name for f in media.output_files]
        available = f"Available: {_cap_join(names)}." if names else "This run has no output files."
        raise NotFoundError(f"Run '{task.id}' has no output file named '{name}'. {available}")

    async def read_bytes(self, item: Locatable, *, max_bytes: int) -> bytes:
        rel = item.path
        if not rel:
            raise FetchRefusedError(
                "The local source reads only files inside its runs folder, and this item has no path."
            )
        self._check_relative_path(rel)
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
            raise InvalidInputError("`max_bytes` must be a positive whole number.")
        return await anyio.to_thread.run_sync(self._read_sync, rel, max_bytes)

    # ----------------------------------------------------------------- root and locating runs

    def _root(self) -> Path:
        try:
            root = self.runs_dir.resolve(strict=True)
        except (OSError, RuntimeError):
            raise LocalRunError(
                f"The runs folder {self.runs_dir} does not exist. Point the server at the folder that holds "
                "your browser-use run folders."
            ) from None
        if not root.is_dir():
            raise LocalRunError(f"The runs folder {self.runs_dir} is not a folder.")
        return root

    def _locate(self, root: Path, run_id: str) -> _Run | _Broken | None:
        """The run named `run_id`: a folder, else a bare `<run_id>.json`. None if neither exists."""
        folder = root / run_id
        if os.path.lexists(folder):
            if _resolved_inside(folder, root) is None:
                if _points_outside(folder, root):
                    return _Broken(
                        "its folder is a symbolic link that points outside the runs folder, "
                        "so it is not served"
                    )
            elif folder.is_dir():
                found = self._history_in_folder(root, run_id, folder)
                if found is not None:
                    return found
        bare = root / f"{run_id}.json"
        if os.path.lexists(bare):
            if _resolved_inside(bare, root) is None:
                if _points_outside(bare, root):
                    return _Broken("its history file is a symbolic link that points outside the runs folder")
            elif bare.is_file():
                return _Run(id=run_id, folder=None, history=bare)
        return None

    def _history_in_folder(self, root: Path, run_id: str, folder: Path) -> _Run | _Broken | None:
        """Find the history file of a run folder: AgentHistory.json, else a history-shaped *.json."""
        preferred = folder / HISTORY_FILE_NAME
        if os.path.lexists(preferred):
            if _resolved_inside(preferred, root) is None:
                return _Broken(f"{HISTORY_FILE_NAME} is a symbolic link that points outside the runs folder")
            return _Run(id=run_id, folder=folder, history=preferred)
        try:
            candidates = sorted(
                (p for p in folder.iterdir() if p.suffix.lower() == ".json" and not p.name.startswith(".")),
                key=lambda p: _natural_key(p.name),
            )
        except OSError as exc:
            return _Broken(f"its folder cannot be listed ({exc.strerror or exc})")
        if not candidates:
            return None
        first_broken: _Broken | None = None
        for candidate in candidates:
            if _resolved_inside(candidate, root) is None or not candidate.is_file():
                continue
            result = self._load(candidate)
            if isinstance(result, _Parsed):
                return _Run(id=run_id, folder=folder, history=candidate)
            first_broken = first_broken or result
        names = ", ".join(c.name for c in candidates[:5])
        return _Broken(
            f"no browser-use history found among its JSON files ({names})"
            + (f"; first problem: {first_broken.reason}" if first_broken else ""),
            first_broken.hint if first_broken else "",
        )

    # ----------------------------------------------------------------- parsing with a cache

    def _load(self, path: Path) -> _Parsed | _Broken:
        """Parse a history file, reusing the cached result while the file is unchanged."""
        try:
            st = path.stat()
        except OSError as exc:
            return _Broken(f"history file {path.name} cannot be read ({exc.strerror or exc})")
        if not stat.S_ISREG(st.st_mode):
            return _Broken(f"{path.name} is not a regular file")
        key = (str(path), st.st_ino, st.st_mtime_ns, st.st_size)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        result = self._parse(path, st.st_size)
        with self._lock:
            self.parse_count += 1
            self._cache[key] = result
            self._cache.move_to_end(key)
            # Older versions of the same file are dead weight: drop them, then bound the size.
            for stale in [k for k in self._cache if k[0] == key[0] and k != key]:
                del self._cache[stale]
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return result

    @staticmethod
    def _parse(path: Path, size: int) -> _Parsed | _Broken:
        retry = "If browser-use is still writing it, try again when the run has finished."
        if size > MAX_HISTORY_BYTES:
            return _Broken(
                f"history file {path.name} is {size // (1024 * 1024)} MiB, larger than the "
                f"{MAX_HISTORY_BYTES // (1024 * 1024)} MiB this server reads"
            )
        if size == 0:
            return _Broken(f"history file {path.name} is empty (truncated?)", retry)
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_HISTORY_BYTES + 1)
        except OSError as exc:
            return _Broken(f"history file {path.name} cannot be read ({exc.strerror or exc})")
        try:
            data = json.loads(raw)
        except UnicodeDecodeError:
            return _Broken(f"history file {path.name} is not UTF-8 text")
        except json.JSONDecodeError as exc:
            return _Broken(
                f"history file is not valid JSON (truncated?): {path.name} "
                f"line {exc.lineno} column {exc.colno}",
                retry + " Otherwise the file is damaged; save it again with agent.save_history().",
            )
        except RecursionError:
            return _Broken(f"history file {path.name} is nested too deeply to read")
        if not isinstance(data, dict) or not isinstance(data.get("history"), list):
            found = (
                type(data).__name__ if not isinstance(data, dict) else "an object without a 'history' list"
            )
            return _Broken(
                f'{path.name} is not a browser-use history: expected {{"history": [...]}}, found {found}',
                "Write it with agent.save_history(path).",
            )
        try:
            return _map_history(data)
        except (RecursionError, ValueError, TypeError) as exc:  # pragma: no cover - defensive
            return _Broken(f"history file {path.name} has an unexpected shape ({type(exc).__name__})")

    # ----------------------------------------------------------------- listing

    def _scan(self, root: Path) -> tuple[list[_Loaded], list[str]]:
        loaded: list[_Loaded] = []
        errors: list[str] = []
        seen: set[str] = set()
        try:
            entries = sorted(os.scandir(root), key=lambda e: _natural_key(e.name))
        except OSError as exc:
            raise LocalRunError(
                f"The runs folder {self.runs_dir} cannot be listed ({exc.strerror or exc})."
            ) from None

        def add(run_id: str, located: _Run | _Broken | None) -> None:
            if located is None:
                return
            seen.add(run_id)
            if isinstance(located, _Broken):
                errors.append(f"run '{run_id}': {located.reason}")
                return
            result = self._load(located.history)
            if isinstance(result, _Broken):
                errors.append(f"run '{run_id}': {result.reason}")
                return
            try:
                mtime = located.history.stat().st_mtime
            except OSError:
                mtime = 0.0
            loaded.append(_Loaded(located, result, mtime))

        folders = [e for e in entries if not e.name.startswith(".") and self._entry_is_dir(e)]
        files = [e for e in entries if not e.name.startswith(".") and e.name.lower().endswith(".json")]
        for entry in folders:
            folder = Path(entry.path)
            if _resolved_inside(folder, root) is None:
                errors.append(
                    f"run '{entry.name[:60]}': its folder is a symbolic link that points outside the runs "
                    "folder, so it is not served"
                )
                continue
            if not _is_valid_id(entry.name):
                if self._has_json(folder):
                    errors.append(
                        f"folder '{entry.name[:60]}' skipped: its name is not a valid run id (use letters, "
                        "digits, '-', '_' and '.')"
                    )
                continue
            add(entry.name, self._history_in_folder(root, entry.name, folder))
        for entry in files:
            if self._entry_is_dir(entry):
                continue
            run_id = entry.name[: -len(".json")]
            if not _is_valid_id(run_id):
                errors.append(f"file '{entry.name[:60]}' skipped: its name is not a valid run id")
                continue
            if run_id in seen:
                errors.append(f"file '{entry.name}' skipped: a run folder '{run_id}' has the same id")
                continue
            bare = Path(entry.path)
            if _resolved_inside(bare, root) is None:
                if _points_outside(bare, root):
                    errors.append(
                        f"run '{run_id}': its history file is a symbolic link that points outside the runs "
                        "folder, so it is not served"
                    )
                continue
            add(run_id, _Run(id=run_id, folder=None, history=bare))
        return loaded, errors

    @staticmethod
    def _entry_is_dir(entry: os.DirEntry[str]) -> bool:
        try:
            return entry.is_dir(follow_symlinks=True)
        except OSError:
            return False

    @staticmethod
    def _has_json(folder: Path) -> bool:
        try:
            return any(p.suffix.lower() == ".json" for p in folder.iterdir())
        except OSError:
            return False

    def _list_sync(self, status: str | None, page: int, page_size: int) -> TaskPage:
        root = self._root()
        loaded, errors = self._scan(root)
        loaded.sort(key=lambda entry: entry.run.id)
        loaded.sort(key=self._newest_key, reverse=True)
        summaries = [self._summary(entry) for entry in loaded]
        if status:
            summaries = [s for s in summaries if s.status == status]
        total = len(summaries)
        start = (page - 1) * page_size
        if len(errors) > MAX_LISTED_ERRORS:
            errors = [
                *errors[:MAX_LISTED_ERRORS],
                f"... and {len(errors) - MAX_LISTED_ERRORS} more unreadable entries",
            ]
        return TaskPage(
            items=summaries[start : start + page_size],
            page=page,
            page_size=page_size,
            total_items=total,
            total_pages=max(1, math.ceil(total / page_size)),
            errors=errors,
        )

    @staticmethod
    def _newest_key(entry: _Loaded) -> float:
        parsed = entry.result
        return parsed.last_end_ts if parsed.last_end_ts is not None else entry.mtime

    @staticmethod
    def _summary(entry: _Loaded) -> TaskSummary:
        parsed = entry.result
        return TaskSummary(
            id=entry.run.id,
            task=parsed.prompt,
            status=parsed.status,
            raw_status=parsed.raw_status,
            is_success=parsed.is_success,
            created_at=parsed.created_at,
            finished_at=parsed.finished_at,
            output=parsed.output,
            step_count=len(parsed.steps),
        )

    # ----------------------------------------------------------------- one task

    def _require_run(self, root: Path, run_id: str) -> _Run:
        located = self._locate(root, run_id)
        if located is None:
            raise NotFoundError(
                f"No run named '{run_id}' in {self.runs_dir}. Call list_tasks to see the available run ids."
            )
        if isinstance(located, _Broken):
            raise LocalRunError(f"Run '{run_id}' cannot be read: {located.reason}. {located.hint}".strip())
        return located

    def _get_task_sync(self, run_id: str) -> Task:
        root = self._root()
        run = self._require_run(root, run_id)
        parsed = self._load(run.history)
        if isinstance(parsed, _Broken):
            raise LocalRunError(
                f"Run '{run_id}' cannot be read: {parsed.reason} ({run.rel_history}). {parsed.hint}".strip()
            )
        steps: list[Step] = []
        missing: list[str] = []
        for step, ref in zip(parsed.steps, parsed.screenshot_refs, strict=True):
            shot: Screenshot | None = None
            if ref is not None:
                rel = self._resolve_screenshot(root, run, ref, step.number)
                if rel is None:
                    missing.append(str(step.number))
                else:
                    shot = Screenshot(step=step.number, path=rel)
            steps.append(step.model_copy(update={"screenshot": shot}, deep=True))
        notes = list(parsed.notes)
        if missing:
            note = f"Screenshots missing on disk for steps {_cap_join(missing)}"
            if run.folder is None:
                note += (
                    " (a bare history file: keep it in a run folder next to its screenshots/ "
                    "to have them found)"
                )
            notes.append(note + ".")
        if not parsed.done:
            notes.append("The run never reached `done` (interrupted, out of steps, or still running).")
        inventory = self._inventory_sync(root, run)
        return Task(
            id=run.id,
            source="local",
            task=parsed.prompt,
            status=parsed.status,
            raw_status=parsed.raw_status,
            is_success=parsed.is_success,
            judgement=parsed.judgement.model_copy() if parsed.judgement else None,
            output=parsed.output,
            created_at=parsed.created_at,
            started_at=parsed.created_at,
            finished_at=parsed.finished_at,
            metadata={"history_file": run.rel_history, "run_folder": run.id if run.folder else None},
            steps=steps,
            output_files=inventory.output_files if inventory else [],
            notes=notes,
        )

    def _resolve_screenshot(self, root: Path, run: _Run, ref: str, number: int) -> str | None:
        """The screenshot's path relative to root: the recorded path, else screenshots/<name>."""
        try:
            recorded = Path(ref)
            if recorded.is_absolute():
                resolved = _resolved_inside(recorded, root)
                if resolved is not None and resolved.is_file():
                    return resolved.relative_to(root).as_posix()
        except (OSError, ValueError):
            pass
        if run.folder is None:
            return None
        names = [n for n in (_basename(ref), f"step_{number}.png") if n]
        for name in dict.fromkeys(names):
            candidate = run.folder / "screenshots" / name
            resolved = _resolved_inside(candidate, root)
            if resolved is not None and resolved.is_file():
                return f"{run.id}/screenshots/{name}"
        return None

    # ----------------------------------------------------------------- media

    async def _inventory_for(self, task: Task) -> _Inventory | None:
        run_id = self.validate_task_id(task.id)

        def work() -> _Inventory | None:
            root = self._root()
            return self._inventory_sync(root, self._require_run(root, run_id))

        return await anyio.to_thread.run_sync(work)

    def _walk(self, root: Path, folder: Path) -> Iterator[tuple[PurePosixPath, int]]:
        """Regular files below `folder` (relative path, size), bounded, never leaving root."""
        pending: list[tuple[Path, PurePosixPath, int]] = [(folder, PurePosixPath(), 0)]
        while pending:
            current, rel, depth = pending.pop()
            try:
                entries = sorted(os.scandir(current), key=lambda e: _natural_key(e.name))
            except OSError:
                continue
            subfolders: list[tuple[Path, PurePosixPath, int]] = []
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                path = Path(entry.path)
                try:
                    if entry.is_symlink():
                        target = _resolved_inside(path, root)
                        if target is None or not target.is_file():
                            continue  # symlinked folders are not followed; outside targets never listed
                        size = target.stat().st_size
                    elif entry.is_dir(follow_symlinks=False):
                        if depth < MAX_WALK_DEPTH:
                            subfolders.append((path, rel / entry.name, depth + 1))
                        continue
                    elif entry.is_file(follow_symlinks=False):
                        size = entry.stat(follow_symlinks=False).st_size
                    else:
                        continue
                except OSError:
                    continue
                yield rel / entry.name, size
            pending.extend(reversed(subfolders))

    def _inventory_sync(self, root: Path, run: _Run) -> _Inventory | None:
        if run.folder is None:
            return None
        if _resolved_inside(run.folder, root) is None:
            raise LocalRunError(f"Run '{run.id}' is not served: its folder points outside the runs folder.")
        inventory = _Inventory()
        outputs: list[tuple[PurePosixPath, int]] = []
        gifs: list[tuple[PurePosixPath, int]] = []
        count = 0
        for rel, size in self._walk(root, run.folder):
            count += 1
            if count > MAX_FILES_PER_RUN:
                inventory.truncated = True
                break
            path = f"{run.id}/{rel.as_posix()}"
            name = rel.name
            suffix = rel.suffix.lower()
            top = rel.parts[0] if len(rel.parts) > 1 else ""
            if rel == PurePosixPath(run.history.name):
                continue
            if top == "screenshots":
                continue
            if suffix == ".gif":
                gifs.append((rel, size))
            elif suffix in _RECORDING_SUFFIXES:
                inventory.recordings.append(
                    MediaItem(
                        kind="recording",
                        name=name,
                        path=path,
                        mime_type=_RECORDING_SUFFIXES[suffix],
                        size_bytes=size,
                    )
                )
            elif suffix == ".txt" and (top == "conversation" or name.startswith("conversation_")):
                inventory.conversations.append(
                    MediaItem(
                        kind="conversation", name=name, path=path, mime_type="text/plain", size_bytes=size
                    )
                )
            elif suffix == ".log":
                inventory.logs.append(
                    MediaItem(kind="log", name=name, path=path, mime_type="text/plain", size_bytes=size)
                )
            else:
                outputs.append((rel, size))
        if gifs:
            # browser-use's own GIF is `agent_history.gif`; prefer it, nearest the top. Other GIFs
            # are ordinary output files.
            gifs.sort(key=lambda g: (g[0].name != DEFAULT_GIF_NAME, len(g[0].parts), _natural_key(str(g[0]))))
            (gif_rel, gif_size), others = gifs[0], gifs[1:]
            inventory.gif = MediaItem(
                kind="gif",
                name=gif_rel.name,
                path=f"{run.id}/{gif_rel.as_posix()}",
                mime_type="image/gif",
                size_bytes=gif_size,
            )
            outputs.extend(others)
        inventory.output_files = list(self._name_outputs(run.id, outputs))
        return inventory

    @staticmethod
    def _name_outputs(run_id: str, outputs: Iterable[tuple[PurePosixPath, int]]) -> Iterator[OutputFile]:
        """Output files named by their file name; names shared by several files get their folders in."""
        items = list(outputs)
        counts: dict[str, int] = {}
        for rel, _ in items:
            counts[rel.name] = counts.get(rel.name, 0) + 1
        for rel, size in items:
            name = rel.name if counts[rel.name] == 1 else "__".join(rel.parts)
            yield OutputFile(
                name=name, path=f"{run_id}/{rel.as_posix()}", size_bytes=size, mime_type=_guess_mime(rel.name)
            )

    # ----------------------------------------------------------------- reading bytes

    @staticmethod
    def _check_relative_path(rel: str) -> None:
        """Refuse, before any I/O, a path that is absolute or climbs with '..'."""
        refused = FetchRefusedError(
            f"Refused to read {rel[:80]!r}: only paths relative to the runs folder, without '..', are served."
        )
        if "\x00" in rel or PurePosixPath(rel).is_absolute() or PureWindowsPath(rel).is_absolute():
            raise refused
        if rel.startswith(("\\", "~")) or PureWindowsPath(rel).drive:
            raise refused
        if any(part == ".." for part in re.split(r"[\\/]", rel)):
            raise refused

    def _read_sync(self, rel: str, max_bytes: int) -> bytes:
        root = self._root()
        try:
            target = (root / rel).resolve(strict=True)
        except FileNotFoundError:
            raise NotFoundError(
                f"{rel} does not exist in the runs folder (deleted since it was listed?)."
            ) from None
        except (OSError, RuntimeError):
            raise FetchRefusedError(f"Refused to read {rel}: the path cannot be resolved.") from None
        if not _inside(target, root) or target == root:
            raise FetchRefusedError(
                f"Refused to read {rel}: it resolves outside the runs folder (a symbolic link?)."
            )
        try:
            st = os.stat(target)
        except OSError:
            raise NotFoundError(f"{rel} does not exist in the runs folder.") from None
        if not stat.S_ISREG(st.st_mode):
            raise FetchRefusedError(f"Refused to read {rel}: it is not a regular file.")
        if st.st_size > max_bytes:
            raise FetchRefusedError(
                f"Refused to read {rel}: it is {st.st_size} bytes, more than the {max_bytes}-byte limit."
            )
        flags = (
            os.O_RDONLY
            | getattr(os, "O_NOFOLLOW", 0)
            | getattr(os, "O_NONBLOCK", 0)
            | getattr(os, "O_CLOEXEC", 0)
        )
        try:
            fd = os.open(target, flags)
        except OSError as exc:
            raise FetchRefusedError(f"Refused to read {rel}: {exc.strerror or 'cannot open it'}.") from None
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise FetchRefusedError(f"Refused to read {rel}: it is not a regular file.")
            # O_NOFOLLOW guards only the last component: a folder swapped for a symlink between
            # resolve() and open() would be followed. Where the OS says what was opened, check it.
            opened = Path(f"/proc/self/fd/{handle.fileno()}")
            if opened.is_symlink() and not _inside(Path(os.readlink(opened)), root):
                raise FetchRefusedError(f"Refused to read {rel}: it resolves outside the runs folder.")
            data = handle.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise FetchRefusedError(f"Refused to read {rel}: it grew beyond the {max_bytes}-byte limit.")
        return data
