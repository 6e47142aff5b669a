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
#: Bounds on walking one run folder for media and output files.
MAX_FILES_PER_RUN = 2000
MAX_WALK_DEPTH = 8

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
    """Regular files below `folder` (relative path, size), bounded, never leaving root."""
    pending: list[tuple[Path, PurePosixPath, int]] = [(folder, PurePosixPath(), 0)]
    while pending:
        current, rel, depth = pending.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda e: natural_key(e.name))
        except OSError:
            continue
        subfolders: list[tuple[Path, PurePosixPath, int]] = []
        for entry in entries:
            if entry.name.startswith("."):
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
    inventory = Inventory()
    outputs: list[tuple[PurePosixPath, int]] = []
    gifs: list[tuple[PurePosixPath, int]] = []
    count = 0
    for rel, size in walk(root, run.folder):
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
                MediaItem(kind="conversation", name=name, path=path, mime_type="text/plain", size_bytes=size)
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
        gifs.sort(key=lambda g: (g[0].name != DEFAULT_GIF_NAME, len(g[0].parts), natural_key(str(g[0]))))
        (gif_rel, gif_size), others = gifs[0], gifs[1:]
        inventory.gif = MediaItem(
            kind="gif",
            name=gif_rel.name,
            path=f"{run.id}/{gif_rel.as_posix()}",
            mime_type="image/gif",
            size_bytes=gif_size,
        )
        outputs.extend(others)
    inventory.output_files = list(name_outputs(run.id, outputs))
    return inventory


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
