"""Finding runs in the runs folder, confined to it: each run folder, or a bare history file.

A run is a folder holding the history file written by `agent.save_history()` (`AgentHistory.json`,
or any `*.json` whose top level is `{"history": [...]}`), directly inside the runs folder or in
folders below it (`<project>/<run>`, up to `MAX_RUN_DEPTH` deep; its id is that path), or a bare
`<run id>.json` directly inside the runs folder. A run folder is not searched for further runs.
Nothing outside the folder is ever followed: symbolic links that leave it are reported, not served.
"""

from __future__ import annotations

import functools
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import LocalRunError
from .history import Broken, HistoryCache, Summary
from .run_ids import MAX_RUN_DEPTH, id_problem, name_problem

HISTORY_FILE_NAME = "AgentHistory.json"
#: Listing errors are capped so a pathological folder stays readable.
MAX_LISTED_ERRORS = 20
#: Folders looked into by one scan, so a runs folder pointed at a huge tree stays quick.
MAX_FOLDERS_SCANNED = 20_000


@dataclass(frozen=True)
class Run:
    """A run found on disk."""

    id: str
    folder: Path | None  # the run folder (unresolved, inside root); None for a bare history file
    history: Path  # the history file (unresolved, inside root)
    #: The history's lstat when the scan found it a plain file: the listing's one stat of it.
    history_stat: os.stat_result | None = field(default=None, compare=False, repr=False)

    @property
    def rel_history(self) -> str:
        return f"{self.id}/{self.history.name}" if self.folder is not None else self.history.name


@dataclass
class Loaded:
    run: Run
    summary: Summary
    mtime: float


#: A history file's identity as the listing checks it: inode, modification time (ns) and size.
Identity = tuple[int, int, int]


def identity(found: os.stat_result) -> Identity:
    return (found.st_ino, found.st_mtime_ns, found.st_size)


@dataclass
class _Scan:
    """One scan's state: its error lines, how many folders it may still look into, and the listing rows
    of plain run folders by history path: those of the last scan (`known`) and those found now (`rows`)."""

    errors: list[str]
    known: dict[str, tuple[Identity, Loaded]]
    rows: dict[str, tuple[Identity, Loaded]] = field(default_factory=dict)
    budget: int = MAX_FOLDERS_SCANNED


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort 'step_10' after 'step_9'. Keys of ordinary names are remembered: every listing sorts the same
    names again (the cache holds at most 20,000 keys of names up to 100 characters, a few MB)."""
    return _remembered_key(text) if len(text) <= 100 else _natural_key(text)


def _natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text) if part)


_remembered_key = functools.lru_cache(maxsize=20_000)(_natural_key)


def inside(path: Path, root: Path) -> bool:
    """`path` (already resolved) is `root` or below it."""
    return path == root or path.is_relative_to(root)


def resolved_inside(path: Path, root: Path) -> Path | None:
    """Resolve `path` following symlinks; return it if it exists and stays inside `root`."""
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError, ValueError):  # ValueError: embedded NUL byte
        return None
    return resolved if inside(resolved, root) else None


def points_outside(path: Path, root: Path) -> bool:
    """`path` is a symbolic link (possibly dangling) whose target lies outside `root`."""
    try:
        return path.is_symlink() and not inside(path.resolve(strict=False), root)
    except (OSError, RuntimeError, ValueError):
        return True


def _plain_file(path: str) -> os.stat_result | None:
    """The lstat of a regular file that is not a symbolic link; None for anything else."""
    try:
        found = os.lstat(path)
    except OSError:
        return None
    return found if stat.S_ISREG(found.st_mode) else None


class RunsFolder:
    """The runs folder: locating one run, or scanning all of them, parsed through one cache."""

    def __init__(self, runs_dir: Path, histories: HistoryCache) -> None:
        self.runs_dir = runs_dir
        self.histories = histories
        #: The last scan's root and its rows of plain run folders (`_Scan.rows`). A run whose history
        #: has the same identity at the same path is listed again from its row: a warm scan costs one
        #: lstat per run, not a path parse, an id check and a cache lookup. Rows of runs gone from the
        #: folder leave with the next scan.
        self._last: tuple[Path | None, dict[str, tuple[Identity, Loaded]]] = (None, {})
        #: The runs folder's visible names in natural order, as the last scan sorted them.
        self._order: tuple[Path | None, list[str]] = (None, [])

    def root(self) -> Path:
        try:
            root = self.runs_dir.resolve(strict=True)
        except (OSError, RuntimeError):
            raise LocalRunError(
                f"The runs folder {self.runs_dir} does not exist. Set BROWSER_USE_RUNS_DIR (or --runs-dir) to "
                "the folder that holds your browser-use run folders, and restart the server."
            ) from None
        if not root.is_dir():
            raise LocalRunError(f"The runs folder {self.runs_dir} is not a folder.")
        return root

    def locate(self, root: Path, run_id: str) -> Run | Broken | None:
        """The run named `run_id`: a folder, else a bare `<run_id>.json`. None if neither exists."""
        folder = root / run_id
        if os.path.lexists(folder):
            if resolved_inside(folder, root) is None:
                if points_outside(folder, root):
                    return Broken(
                        "its folder is a symbolic link that points outside the runs folder, "
                        "so it is not served"
                    )
            elif folder.is_dir():
                found = self.history_in_folder(root, run_id, folder)
                if found is not None:
                    return found
        bare = root / f"{run_id}.json"
        if os.path.lexists(bare):
            if resolved_inside(bare, root) is None:
                if points_outside(bare, root):
                    return Broken("its history file is a symbolic link that points outside the runs folder")
            elif bare.is_file():
                return Run(id=run_id, folder=None, history=bare)
        return None

    def history_in_folder(self, root: Path, run_id: str, folder: Path) -> Run | Broken | None:
        """Find the history file of a run folder: AgentHistory.json, else a history-shaped *.json."""
        preferred = folder / HISTORY_FILE_NAME
        if os.path.lexists(preferred):
            if resolved_inside(preferred, root) is None:
                return Broken(f"{HISTORY_FILE_NAME} is a symbolic link that points outside the runs folder")
            return Run(id=run_id, folder=folder, history=preferred)
        try:
            candidates = sorted(
                (p for p in folder.iterdir() if p.suffix.lower() == ".json" and not p.name.startswith(".")),
                key=lambda p: natural_key(p.name),
            )
        except OSError as exc:
            return Broken(f"its folder cannot be listed ({exc.strerror or exc})")
        if not candidates:
            return None
        first_broken: Broken | None = None
        for candidate in candidates:
            if resolved_inside(candidate, root) is None or not candidate.is_file():
                continue
            result = self.histories.summary(candidate)
            if isinstance(result, Summary):
                return Run(id=run_id, folder=folder, history=candidate)
            first_broken = first_broken or result
        names = ", ".join(c.name for c in candidates[:5])
        return Broken(
            f"no browser-use history found among its JSON files ({names})"
            + (f"; first problem: {first_broken.reason}" if first_broken else ""),
            first_broken.hint if first_broken else "",
        )

    def scan(self, root: Path) -> tuple[list[Loaded], list[str]]:
        """Every readable run, and one line for each entry that looks like a run but cannot be read."""
        try:
            entries = self._top_entries(root)
        except OSError as exc:
            raise LocalRunError(
                f"The runs folder {self.runs_dir} cannot be listed ({exc.strerror or exc})."
            ) from None
        last_root, last_rows = self._last
        scan = _Scan(errors=[], known=last_rows if last_root == root else {})
        found: list[tuple[str, Run | Broken | Loaded]] = []
        for entry in (e for e in entries if self._entry_is_dir(e)):
            found.extend(self._scan_folder(root, entry, (), scan))
        seen = {run_id for run_id, _ in found}
        for entry in (e for e in entries if e.name.lower().endswith(".json") and not self._entry_is_dir(e)):
            bare = self._scan_bare_file(root, entry, seen, scan.errors)
            if bare is not None:
                found.append((bare.id, bare))
        loaded = self._load_all(found, scan)
        self._last = (root, scan.rows)  # concurrent scans: the last one to finish is kept
        return loaded, scan.errors

    def diagnose(self, root: Path, errors: list[str]) -> list[str]:
        """Why a scan found no run: one sentence per cause, each saying what to do."""
        try:
            top = self._entries(root)
        except OSError as exc:
            return [f"The runs folder {self.runs_dir} cannot be listed ({exc.strerror or exc})."]
        if not top:
            return [
                f"The runs folder {self.runs_dir} is empty. Save a run into it with agent.save_history(path) "
                "(or `browser-use-tasks-mcp keep <history file>`), one folder per run."
            ]
        deep: list[str] = []
        empty: list[str] = []
        pending: list[tuple[Path, tuple[str, ...]]] = [(root, ())]
        looked = 0
        while pending and looked < MAX_FOLDERS_SCANNED:
            folder, parts = pending.pop()
            looked += 1
            try:
                entries = self._entries(folder)
            except OSError:
                continue
            jsons = [
                e.name for e in entries if e.name.lower().endswith(".json") and not self._entry_is_dir(e)
            ]
            subfolders = [e for e in entries if self._entry_is_dir(e) and not e.is_symlink()]
            if parts and jsons and len(parts) > MAX_RUN_DEPTH:
                deep.append("/".join((*parts, jsons[0])))
                continue
            if parts and not jsons and not subfolders and len(parts) <= MAX_RUN_DEPTH:
                empty.append("/".join(parts))
            if len(parts) < MAX_RUN_DEPTH + 5:
                pending.extend((Path(e.path), (*parts, e.name)) for e in reversed(subfolders))
        reasons: list[str] = []
        if deep:
            reasons.append(
                f"History files lie deeper than the {MAX_RUN_DEPTH} folder levels searched (e.g. "
                f"'{deep[0][:120]}'): set BROWSER_USE_RUNS_DIR (or --runs-dir) to a folder nearer to them."
            )
        if empty:
            names = ", ".join(f"'{n[:60]}'" for n in sorted(empty, key=natural_key)[:3])
            reasons.append(
                f"{len(empty)} folder(s) hold no history file ({names}): browser-use writes one only when your "
                "script calls agent.save_history(path), and screenshots alone are not a run."
            )
        if errors:
            reasons.append(
                f"{len(errors)} entr{'y' if len(errors) == 1 else 'ies'} could not be read as runs (JSON files "
                "that are not browser-use histories, or unusable names): see the warnings above."
            )
        if not reasons:
            reasons.append(
                f"The runs folder {self.runs_dir} holds no run folders and no history (.json) files."
            )
        return reasons

    def _top_entries(self, root: Path) -> list[os.DirEntry[str]]:
        """`_entries(root)`, in the order of the last scan while the folder holds exactly the same names:
        sorting thousands of names by natural key costs a third of a warm scan."""
        found = {e.name: e for e in os.scandir(root) if not e.name.startswith(".")}
        order_root, order = self._order
        if order_root == root and len(order) == len(found) and all(name in found for name in order):
            return [found[name] for name in order]
        entries = sorted(found.values(), key=lambda e: natural_key(e.name))
        self._order = (root, [e.name for e in entries])
        return entries

    @staticmethod
    def _entries(folder: Path | str) -> list[os.DirEntry[str]]:
        """The visible entries of a folder, in natural order."""
        return sorted(
            (e for e in os.scandir(folder) if not e.name.startswith(".")), key=lambda e: natural_key(e.name)
        )

    def _scan_folder(
        self,
        root: Path,
        entry: os.DirEntry[str],
        parents: tuple[str, ...],
        scan: _Scan,
    ) -> list[tuple[str, Run | Broken | Loaded]]:
        """The runs in this folder: itself when it holds a history, else the runs in its subfolders."""
        scan.budget -= 1
        if scan.budget < 0:
            return []
        history, plain = "", None
        if not entry.is_symlink():
            # The common case: a real folder (reached from the root through real folders only, so inside
            # by construction) holding a plain AgentHistory.json, unchanged since the last scan.
            history = entry.path + os.sep + HISTORY_FILE_NAME  # os.path.join, at a tenth of the cost
            plain = _plain_file(history)
            known = scan.known.get(history) if plain is not None else None
            if plain is not None and known is not None and known[0] == identity(plain):
                scan.rows[history] = known
                return [(known[1].run.id, known[1])]
        run_id = "/".join((*parents, entry.name))
        errors = scan.errors
        # The walk starts in the resolved root and never descends through a link, so only a link
        # itself needs resolving to know it stays inside.
        if entry.is_symlink() and resolved_inside(Path(entry.path), root) is None:
            errors.append(
                f"run '{run_id[:80]}': its folder is a symbolic link that points outside the runs "
                "folder, so it is not served"
            )
            return []
        problem = id_problem(run_id)
        if problem is not None:
            if self._has_json(Path(entry.path)):
                errors.append(f"folder '{run_id[:80]}' skipped: {problem}")
            return []
        if plain is not None:
            path = Path(history)
            return [(run_id, Run(id=run_id, folder=path.parent, history=path, history_stat=plain))]
        folder = Path(entry.path)
        located = self.history_in_folder(root, run_id, folder)
        if isinstance(located, Run):
            return [(run_id, located)]
        below: list[tuple[str, Run | Broken | Loaded]] = []
        if len(parents) + 1 < MAX_RUN_DEPTH and not entry.is_symlink():
            try:
                children = [e for e in self._entries(folder) if self._entry_is_dir(e)]
            except OSError:
                children = []
            for child in children:
                below.extend(self._scan_folder(root, child, (*parents, entry.name), scan))
        if located is not None and not any(isinstance(r, Run | Loaded) for _, r in below):
            below.insert(0, (run_id, located))
        return below

    @staticmethod
    def _scan_bare_file(root: Path, entry: os.DirEntry[str], seen: set[str], errors: list[str]) -> Run | None:
        run_id = entry.name[: -len(".json")]
        problem = name_problem(run_id) or id_problem(run_id)
        if problem is not None:
            errors.append(f"file '{entry.name[:60]}' skipped: its name cannot be a run id ({problem})")
            return None
        if run_id in seen:
            errors.append(f"file '{entry.name}' skipped: a run folder '{run_id}' has the same id")
            return None
        bare = Path(entry.path)
        if resolved_inside(bare, root) is None:
            if points_outside(bare, root):
                errors.append(
                    f"run '{run_id}': its history file is a symbolic link that points outside the runs "
                    "folder, so it is not served"
                )
            return None
        return Run(id=run_id, folder=None, history=bare)

    def _load_all(self, found: list[tuple[str, Run | Broken | Loaded]], scan: _Scan) -> list[Loaded]:
        loaded: list[Loaded] = []
        for run_id, located in found:
            if isinstance(located, Loaded):
                loaded.append(located)  # unchanged since the last scan
                continue
            if isinstance(located, Broken):
                scan.errors.append(f"run '{run_id}': {located.reason}")
                continue
            result = self.histories.summary(located.history, located.history_stat)
            if isinstance(result, Broken):
                scan.errors.append(f"run '{run_id}': {result.reason}")
                continue
            row = Loaded(located, result, result.mtime)  # stat once: the row carries it
            loaded.append(row)
            if located.history_stat is not None:  # a plain run folder: its row can be reused
                scan.rows[str(located.history)] = (identity(located.history_stat), row)
        return loaded

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
