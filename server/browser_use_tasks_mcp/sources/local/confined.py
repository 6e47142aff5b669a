"""Reading a file inside the runs folder, and nothing else: confined, bounded, no symlink out."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path, PurePosixPath, PureWindowsPath

from ...errors import FetchRefusedError, NotFoundError
from .runs_folder import inside


def check_relative_path(rel: str) -> None:
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


def read_file(root: Path, rel: str, max_bytes: int) -> bytes:
    """The bytes of `rel` (relative to `root`), refusing anything that resolves outside it."""
    try:
        target = (root / rel).resolve(strict=True)
    except FileNotFoundError:
        raise NotFoundError(
            f"{rel} does not exist in the runs folder (deleted since it was listed?)."
        ) from None
    except (OSError, RuntimeError):
        raise FetchRefusedError(f"Refused to read {rel}: the path cannot be resolved.") from None
    if not inside(target, root) or target == root:
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
        if opened.is_symlink() and not inside(Path(os.readlink(opened)), root):
            raise FetchRefusedError(f"Refused to read {rel}: it resolves outside the runs folder.")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FetchRefusedError(f"Refused to read {rel}: it grew beyond the {max_bytes}-byte limit.")
    return data
