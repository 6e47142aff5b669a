"""Local runs of the open-source `browser-use` agent, read from a folder on disk.

The folder is rescanned on every call, so runs added or rewritten while the server runs
show up without a restart; parsed histories are cached by file identity (`history.py`).
All file I/O happens in worker threads. Every path handed out is relative to the runs
folder, and reads refuse anything that resolves outside it (`confined.py`).
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import anyio.to_thread

from ...errors import FetchRefusedError, InvalidInputError, LocalRunError, NotFoundError
from ...ids import file_not_found, pick_name, validate_file_name
from ...models import (
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
from ..base import Capabilities, Locatable, TaskSource
from .confined import (
    agent_screenshot_shape,
    allowed_screenshot_roots,
    check_relative_path,
    find_agent_screenshot,
    read_agent_screenshot,
    read_file,
)
from .history import DEFAULT_CACHE_SIZE, Broken, HistoryCache, Parsed, page_seen
from .inventory import MAX_FILES_PER_RUN, MAX_MEDIA_PER_KIND, Inventory, inventory
from .run_ids import validate_run_id
from .runs_folder import MAX_LISTED_ERRORS, Loaded, Run, RunsFolder, resolved_inside

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
#: Names of missing files are capped so a pathological folder stays readable.
MAX_LISTED_NAMES = 30

NO_RECORDING_NOTE = "No video recording in this run (browser-use writes one only with record_video_dir)."
NO_GIF_NOTE = "No GIF in this run (browser-use writes agent_history.gif only with generate_gif=True)."
NO_CONVERSATION_NOTE = (
    "No conversation logs in this run (browser-use writes them only with save_conversation_path)."
)
BARE_RUN_NOTE = (
    "This run is a bare history file: no screenshots, GIF, recordings or conversation logs are "
    "stored next to it. Keep a run in its own folder to have them found."
)


#: Rows of one listing call for a scan across runs (`across/scan.py`).
MAX_SCAN_PAGE = 10_000
#: Seconds a run without `done` may go without a file changing before it counts as interrupted.
DEFAULT_STALE_AFTER_S = 600.0


class LocalRunsSource(TaskSource):
    """Runs of the open-source browser-use agent saved in a folder."""

    kind = "local"
    # Files on disk: nothing expires, the folder changes under us, and a run folder may hold
    # its own GIF, logs and the conversation of each step; the history keeps the page each step saw.
    capabilities = Capabilities(
        links_expire=False,
        live_listing=True,
        own_gif=True,
        execution_log=True,
        conversations=True,
        page_seen=True,
    )
    #: One listing is one folder scan whatever its size: a scan of thousands of runs asks once.
    max_page_size = MAX_SCAN_PAGE

    def __init__(
        self,
        runs_dir: Path,
        *,
        cache_size: int = DEFAULT_CACHE_SIZE,
        notices: tuple[str, ...] = (),
        screenshot_dirs: tuple[Path, ...] = (),
        stale_after_s: float = DEFAULT_STALE_AFTER_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.runs_dir = Path(runs_dir).expanduser()
        self.notices = notices
        #: Folders besides the system temp folder where an agent's temp folder may hold screenshots.
        self.screenshot_dirs = tuple(Path(d) for d in screenshot_dirs)
        #: A run without `done` whose files have been still this long was interrupted, not running.
        self.stale_after_s = stale_after_s
        self._clock = clock
        self.label = f"local browser-use runs in {self.runs_dir}"
        self._histories = HistoryCache(cache_size)
        self._folder = RunsFolder(self.runs_dir, self._histories)

    @property
    def parse_count(self) -> int:
        """How many times a history file was actually parsed (observable by tests)."""
        return self._histories.parse_count

    # ----------------------------------------------------------------- tasks

    def validate_task_id(self, task_id: object) -> str:
        """A run id is the run folder's path below the runs folder (`project-a/run 1`), checked before I/O."""
        return validate_run_id(task_id)

    async def get_task(self, task_id: str) -> Task:
        run_id = self.validate_task_id(task_id)
        return await anyio.to_thread.run_sync(self._get_task_sync, run_id, abandon_on_cancel=True)

    async def list_tasks(self, *, status: str | None, page: int, page_size: int) -> TaskPage:
        if isinstance(page, bool) or not isinstance(page, int) or page < 1:
            raise InvalidInputError("`page` must be a whole number of at least 1.")
        if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
            raise InvalidInputError("`page_size` must be a whole number of at least 1.")
        wanted = normalize_status(status) if status else None
        return await anyio.to_thread.run_sync(
            self._list_sync, wanted, page, page_size, abandon_on_cancel=True
        )

    def _list_sync(self, status: str | None, page: int, page_size: int) -> TaskPage:
        loaded, errors = self._folder.scan(self._folder.root())
        loaded.sort(key=lambda entry: entry.run.id)
        loaded.sort(key=_newest_key, reverse=True)
        now = self._clock()
        # A run's age matters only while it may still be running; rows are built for the page alone.
        aged = [(e, 0.0 if e.summary.settled else now - _activity(e.run, e.mtime)) for e in loaded]
        if status:
            aged = [(e, age) for e, age in aged if e.summary.live(age, self.stale_after_s)[0] == status]
        total = len(aged)
        start = (page - 1) * page_size
        summaries = [_summary(e, age, self.stale_after_s) for e, age in aged[start : start + page_size]]
        if len(errors) > MAX_LISTED_ERRORS:
            more = f"... and {len(errors) - MAX_LISTED_ERRORS} more unreadable entries"
            errors = [*errors[:MAX_LISTED_ERRORS], more]
        return TaskPage(
            items=summaries,
            page=page,
            page_size=page_size,
            total_items=total,
            total_pages=max(1, math.ceil(total / page_size)),
            errors=errors,
        )

    async def diagnose_empty(self) -> list[str]:
        """Why no run is found in the runs folder (for `check`): each cause with what to do."""

        def work() -> list[str]:
            root = self._folder.root()
            _, errors = self._folder.scan(root)
            return self._folder.diagnose(root, errors)

        return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)

    def _require_run(self, root: Path, run_id: str) -> Run:
        located = self._folder.locate(root, run_id)
        if located is None:
            cloud_like = " It looks like a Browser Use Cloud task id." if _UUID.fullmatch(run_id) else ""
            raise NotFoundError(
                f"No run named '{run_id}' in {self.runs_dir}.{cloud_like} Call list_tasks to see the available "
                "run ids." + "".join(f" {n}" for n in self.notices)
            )
        if isinstance(located, Broken):
            raise LocalRunError(f"Run '{run_id}' cannot be read: {located.reason}. {located.hint}".strip())
        return located

    async def get_task_for_scan(self, task_id: str) -> Task:
        run_id = self.validate_task_id(task_id)
        return await anyio.to_thread.run_sync(
            lambda: self._get_task_sync(run_id, media=False), abandon_on_cancel=True
        )

    def _get_task_sync(self, run_id: str, *, media: bool = True) -> Task:
        """The run as a task; without `media`, its screenshots and files are not looked up (a scan)."""
        root = self._folder.root()
        run = self._require_run(root, run_id)
        parsed = self._histories.load(run.history)
        if isinstance(parsed, Broken):
            raise LocalRunError(
                f"Run '{run_id}' cannot be read: {parsed.reason} ({run.rel_history}). {parsed.hint}".strip()
            )
        steps, missing = self._with_screenshots(root, run, parsed) if media else (list(parsed.steps), [])
        age = self._clock() - _activity(run)
        status, raw_status, has_finished = parsed.live(age, self.stale_after_s)
        missing_notes = self._missing_notes(run, parsed, missing)
        files = inventory(root, run) if media else None
        return Task(
            id=run.id,
            source="local",
            task=parsed.prompt,
            status=status,
            raw_status=raw_status,
            is_success=parsed.is_success,
            judgement=parsed.judgement.model_copy() if parsed.judgement else None,
            output=parsed.output,
            last_action_result=parsed.last_returned,
            created_at=parsed.created_at,
            started_at=parsed.created_at,
            finished_at=parsed.finished_at if has_finished else None,
            cost_usd=parsed.cost_usd,
            metadata={
                "history_file": run.rel_history,
                "run_folder": run.id if run.folder else None,
                **parsed.extras,
            },
            steps=steps,
            # As the library's total_duration_seconds(): the sum of step durations.
            duration_s=sum(d for s in steps if (d := s.duration_s) is not None) if steps else None,
            output_files=files.output_files if files else [],
            notes=_notes(parsed, missing_notes, raw_status, age),
        )

    def _with_screenshots(self, root: Path, run: Run, parsed: Parsed) -> tuple[list[Step], list[str]]:
        """The parsed steps with the screenshots found on disk, and the steps whose screenshot is gone."""
        steps: list[Step] = []
        missing: list[str] = []
        roots = allowed_screenshot_roots(self.screenshot_dirs)
        for step, ref in zip(parsed.steps, parsed.screenshot_refs, strict=True):
            shot: Screenshot | None = None
            if ref is not None:
                rel = _find_screenshot(root, run, ref, step.number, roots)
                if rel is None:
                    missing.append(str(step.number))
                else:
                    shot = Screenshot(step=step.number, path=rel)
            steps.append(step.model_copy(update={"screenshot": shot}, deep=True))
        return steps, missing

    def _missing_notes(self, run: Run, parsed: Parsed, missing: list[str]) -> list[str]:
        """Which screenshots are gone; where browser-use had left them and how to keep them next time."""
        if not missing:
            return []
        note = f"Screenshots missing on disk for steps {_cap_join(missing)}"
        if run.folder is None:
            note += (
                " (a bare history file: keep it in a run folder next to its screenshots/ to have them found)"
            )
        wanted = set(missing)
        refs = [
            ref
            for step, ref in zip(parsed.steps, parsed.screenshot_refs, strict=True)
            if str(step.number) in wanted and ref
        ]
        shapes = [shape for ref in refs if (shape := agent_screenshot_shape(ref)) is not None]
        folders = list(dict.fromkeys(str(container / agent) for container, agent, _ in shapes))
        notes = [note + "."]
        if folders:
            more = f" (and {len(folders) - 1} more)" if len(folders) > 1 else ""
            notes.append(
                f"browser-use left them in its temp folder {folders[0]}{more}: gone, or outside the folders "
                "this server reads (the system temp folder and BROWSER_USE_SCREENSHOT_DIRS)."
            )
        notes.append(
            "To keep screenshots next time, run `browser-use-tasks-mcp keep <history file>` right after "
            "agent.run(), or the few lines in docs/local-runs.md."
        )
        return notes

    # ----------------------------------------------------------------- media and files

    async def _inventory_for(self, task: Task) -> Inventory | None:
        run_id = self.validate_task_id(task.id)

        def work() -> Inventory | None:
            root = self._folder.root()
            return inventory(root, self._require_run(root, run_id))

        return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)

    async def get_source_gif(self, task: Task) -> MediaItem | None:
        found = await self._inventory_for(task)
        return found.gif if found else None

    async def get_media(self, task: Task) -> MediaBundle:
        found = await self._inventory_for(task)
        if found is None:
            return MediaBundle(task_id=task.id, notes=[BARE_RUN_NOTE])
        notes = [
            note
            for note, missing in (
                (NO_RECORDING_NOTE, not found.recordings),
                (NO_GIF_NOTE, found.gif is None),
                (NO_CONVERSATION_NOTE, not found.conversations),
                (
                    f"The run folder holds more files than are listed (at most {MAX_FILES_PER_RUN} output "
                    f"files and {MAX_MEDIA_PER_KIND} of each kind of media); only the first were listed.",
                    found.truncated,
                ),
            )
            if missing
        ]
        return MediaBundle(
            task_id=task.id,
            recordings=found.recordings,
            logs=found.logs,
            conversations=found.conversations,
            output_files=found.output_files,
            gif=found.gif,
            notes=notes,
        )

    async def get_page_seen(self, task: Task, step: int) -> tuple[str, bool] | None:
        def work() -> tuple[str, bool] | None:
            run = self._require_run(self._folder.root(), task.id)
            return page_seen(run.history, step)

        return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)

    async def get_log(self, task: Task) -> MediaItem | None:
        found = await self._inventory_for(task)
        return found.logs[0] if found and found.logs else None

    async def resolve_output_file(self, task: Task, file: str) -> OutputFile:
        name = validate_file_name(file)
        outputs = (await self.get_media(task)).output_files
        index = pick_name([f.name for f in outputs], name)
        if index is None:
            raise NotFoundError(file_not_found(task.id, name, [f.name for f in outputs]))
        return outputs[index]

    async def read_bytes(self, item: Locatable, *, max_bytes: int) -> bytes:
        rel = item.path
        if not rel:
            raise FetchRefusedError(
                "The local source reads only files inside its runs folder, and this item has no path."
            )
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
            raise InvalidInputError("`max_bytes` must be a positive whole number.")
        if agent_screenshot_shape(rel) is not None:
            # The one absolute path served: a screenshot left in an agent's temp folder.
            dirs = self.screenshot_dirs
            return await anyio.to_thread.run_sync(
                lambda: read_agent_screenshot(rel, allowed_screenshot_roots(dirs), max_bytes),
                abandon_on_cancel=True,
            )
        check_relative_path(rel)
        return await anyio.to_thread.run_sync(
            lambda: read_file(self._folder.root(), rel, max_bytes), abandon_on_cancel=True
        )


def _newest_key(entry: Loaded) -> float:
    last = entry.summary.last_end_ts
    return last if last is not None else entry.mtime


def _activity(run: Run, history_mtime: float | None = None) -> float:
    """When the run's files last changed: its history file, or its folder (a file added or removed).

    A listing already knows the history's modification time (`history_mtime`): only the folder is stat-ed.
    """
    times = [] if history_mtime is None else [history_mtime]
    for path in (run.history if history_mtime is None else None, run.folder):
        if path is not None:
            try:
                times.append(os.stat(path).st_mtime)
            except OSError:
                continue
    return max(times, default=0.0)


def _summary(entry: Loaded, age_s: float, stale_after_s: float) -> TaskSummary:
    row = entry.summary
    status, raw_status, has_finished = row.live(age_s, stale_after_s)
    return TaskSummary(
        id=entry.run.id,
        task=row.prompt,
        status=status,
        raw_status=raw_status,
        is_success=row.is_success,
        created_at=row.created_at,
        finished_at=row.finished_at if has_finished else None,
        output=row.output,
        step_count=row.step_count,
    )


def _notes(parsed: Parsed, missing_notes: list[str], raw_status: str, age_s: float) -> list[str]:
    notes = [*parsed.notes, *missing_notes]
    still = f"{max(0, round(age_s))} s" if age_s < 120 else f"{round(age_s / 60)} min"
    if raw_status == "running":
        notes.append(
            f"The run has not reached `done` yet and its files changed {still} ago: it counts as running."
        )
    elif raw_status == "interrupted":
        notes.append(
            f"The run never reached `done` and its files have not changed for {still}: it was interrupted "
            "(Ctrl+C or an exception) or saved before it ended."
        )
    elif not parsed.done:
        notes.append("The run never reached `done` (interrupted, out of steps, or still running).")
    return notes


def _find_screenshot(root: Path, run: Run, ref: str, number: int, temp_roots: list[Path]) -> str | None:
    """Where a step's screenshot is: relative to root (the recorded path, else the run folder's
    screenshots/<name>), else the absolute path in the agent's temp folder, when that may be served."""
    try:
        recorded = Path(ref)
        if recorded.is_absolute():
            resolved = resolved_inside(recorded, root)
            if resolved is not None and resolved.is_file():
                return resolved.relative_to(root).as_posix()
    except (OSError, ValueError):
        pass
    if run.folder is not None:
        names = [n for n in (_basename(ref), f"step_{number}.png") if n]
        for name in dict.fromkeys(names):
            resolved = resolved_inside(run.folder / "screenshots" / name, root)
            if resolved is not None and resolved.is_file():
                return f"{run.id}/screenshots/{name}"
    found = find_agent_screenshot(ref, temp_roots)
    return str(found) if found is not None else None


def _basename(raw: str) -> str | None:
    """The file name of a path written on any OS; None when there is no plain name."""
    name = re.split(r"[\\/]", raw.strip())[-1]
    if not name or name in {".", ".."} or "\x00" in name:
        return None
    return name


def _cap_join(items: list[str], limit: int = MAX_LISTED_NAMES) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
