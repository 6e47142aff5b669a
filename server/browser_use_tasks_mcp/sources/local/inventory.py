"""What a run folder holds besides its history: recordings, conversation logs, logs, the GIF, files.

The walk is bounded (depth and file count), never follows a symbolic link out of the
runs folder, and names each output file so that it can be asked for again.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ...errors import LocalRunError
from ...models import MediaItem, OutputFile
from .runs_folder import Run, natural_key, resolved_inside

DEFAULT_GIF_NAME = "agent_history.gif"
#: Output files listed of one run; media of each kind are capped apart, so no cap hides a kind.
MAX_FILES_PER_RUN = 2000
MAX_MEDIA_PER_KIND = 500
#: Bounds on walking one run folder: depth, and entries looked at (screenshots/ is never walked).
MAX_WALK_DEPTH = 8
MAX_ENTRIES_SCANNED = 20_000
SCREENSHOTS_FOLDER = "screenshots"

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


@dataclass
class Inventory:
    """Files of one run folder, by kind. Paths are relative to runs_dir (posix)."""

    recordings: list[MediaItem] = field(default_factory=list)
    conversations: list[MediaItem] = field(default_factory=list)
    logs: list[MediaItem] = field(default_factory=list)
    gif: MediaItem | None = None
    output_files: list[OutputFile] = field(default_factory=list)
    truncated: bool = False


def guess_mime(name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in _MIME_BY_SUFFIX:
        return _MIME_BY_SUFFIX[suffix]
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


def walk(root: Path, folder: Path) -> Iterator[tuple[PurePosixPath, int]]:
    """Regular files below `folder` (relative path, size), bounded, never leaving root.

    The run's own screenshots/ folder is skipped: screenshots are found through the history.
    """
    pending: list[tuple[Path, PurePosixPath, int]] = [(folder, PurePosixPath(), 0)]
    scanned = 0
    while pending and scanned < MAX_ENTRIES_SCANNED:
        current, rel, depth = pending.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda e: natural_key(e.name))
        except OSError:
            continue
        subfolders: list[tuple[Path, PurePosixPath, int]] = []
        for entry in entries[: MAX_ENTRIES_SCANNED - scanned]:
            scanned += 1
            if entry.name.startswith(".") or (depth == 0 and entry.name == SCREENSHOTS_FOLDER):
                continue
            path = Path(entry.path)
            try:
                if entry.is_symlink():
                    target = resolved_inside(path, root)
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


def inventory(root: Path, run: Run) -> Inventory | None:
    if run.folder is None:
        return None
    if resolved_inside(run.folder, root) is None:
        raise LocalRunError(f"Run '{run.id}' is not served: its folder points outside the runs folder.")
    found = Inventory()
    outputs: list[tuple[PurePosixPath, int]] = []
    gifs: list[tuple[PurePosixPath, int]] = []
    for rel, size in walk(root, run.folder):
        if rel == PurePosixPath(run.history.name):
            continue
        kind = _kind(rel)
        if kind == "gif":
            gifs.append((rel, size))
        elif kind == "output":
            if len(outputs) < MAX_FILES_PER_RUN:
                outputs.append((rel, size))
            else:
                found.truncated = True
        else:
            shelf = {"recording": found.recordings, "conversation": found.conversations, "log": found.logs}[
                kind
            ]
            if len(shelf) < MAX_MEDIA_PER_KIND:
                shelf.append(_media_item(kind, run.id, rel, size))
            else:
                found.truncated = True
    if gifs:
        # browser-use's own GIF is `agent_history.gif`; prefer it, nearest the top. Other GIFs
        # are ordinary output files.
        gifs.sort(key=lambda g: (g[0].name != DEFAULT_GIF_NAME, len(g[0].parts), natural_key(str(g[0]))))
        found.gif = _media_item("gif", run.id, *gifs[0])
        outputs.extend(gifs[1 : 1 + max(0, MAX_FILES_PER_RUN - len(outputs))])
    found.output_files = list(name_outputs(run.id, outputs))
    return found


def _kind(rel: PurePosixPath) -> str:
    suffix = rel.suffix.lower()
    top = rel.parts[0] if len(rel.parts) > 1 else ""
    if suffix == ".gif":
        return "gif"
    if suffix in _RECORDING_SUFFIXES:
        return "recording"
    if suffix == ".txt" and (top == "conversation" or rel.name.startswith("conversation_")):
        return "conversation"
    return "log" if suffix == ".log" else "output"


def _media_item(kind: str, run_id: str, rel: PurePosixPath, size: int) -> MediaItem:
    mime = {"gif": "image/gif", "conversation": "text/plain", "log": "text/plain"}.get(kind)
    return MediaItem(
        kind=kind,
        name=rel.name,
        path=f"{run_id}/{rel.as_posix()}",
        mime_type=mime or _RECORDING_SUFFIXES.get(rel.suffix.lower()),
        size_bytes=size,
    )


def name_outputs(run_id: str, outputs: Iterable[tuple[PurePosixPath, int]]) -> Iterator[OutputFile]:
    """Output files named by their file name; names shared by several files get their folders in."""
    items = list(outputs)
    counts: dict[str, int] = {}
    for rel, _ in items:
        counts[rel.name] = counts.get(rel.name, 0) + 1
    for rel, size in items:
        name = rel.name if counts[rel.name] == 1 else "__".join(rel.parts)
        yield OutputFile(
            name=name, path=f"{run_id}/{rel.as_posix()}", size_bytes=size, mime_type=guess_mime(rel.name)
        )
