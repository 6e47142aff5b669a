"""Reading a file inside the runs folder, and nothing else: confined, bounded, no symlink out.

One exception, as narrow as browser-use makes it: a screenshot the agent left in its temp folder,
`<allowed folder>/browser_use_agent_<id>_<time>/screenshots/step_N.png`, where the allowed folders
are the system temp folder and those named in BROWSER_USE_SCREENSHOT_DIRS. Only a path of exactly
that shape, only a regular image file, and never through a symbolic link.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path, PurePosixPath, PureWindowsPath

from ...errors import FetchRefusedError, NotFoundError
from ...media import sniff_mime
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


_AGENT_FOLDER = re.compile(r"browser_use_agent_[0-9A-Za-z][0-9A-Za-z-]{0,63}_[0-9]{1,20}")
_AGENT_SHOT = re.compile(r"step_[0-9]{1,9}\.png")
_SNIFF_BYTES = 16


def agent_screenshot_shape(ref: str) -> tuple[Path, str, str] | None:
    """(containing folder, agent folder name, file name) when `ref` has the temp-folder shape; no I/O."""
    if not ref or "\x00" in ref or len(ref) > 4096:
        return None
    path = Path(ref)
    parts = path.parts
    if not path.is_absolute() or len(parts) < 4 or any(p in {".", ".."} for p in parts):
        return None
    name, shots, agent = parts[-1], parts[-2], parts[-3]
    if shots != "screenshots" or not _AGENT_FOLDER.fullmatch(agent) or not _AGENT_SHOT.fullmatch(name):
        return None
    return path.parents[2], agent, name


def allowed_screenshot_roots(extra: tuple[Path, ...]) -> list[Path]:
    """The resolved folders an agent's temp folder may sit in: the system temp folder, then `extra`."""
    roots: list[Path] = []
    for folder in (Path(tempfile.gettempdir()), *extra):
        try:
            resolved = folder.expanduser().resolve(strict=True)
        except (OSError, RuntimeError, ValueError):
            continue
        if resolved.is_dir() and resolved not in roots and resolved != Path(resolved.anchor):
            roots.append(resolved)
    return roots


def find_agent_screenshot(ref: str, roots: list[Path]) -> Path | None:
    """The screenshot file `ref` names in an agent's temp folder, if it is there and may be served.

    Its folder must resolve to one of `roots`; below that nothing may be a symbolic link; the file
    must be a regular file whose bytes are an image.
    """
    shape = agent_screenshot_shape(ref)
    if shape is None:
        return None
    container, agent, name = shape
    try:
        resolved_container = container.resolve(strict=True)
        if resolved_container not in roots:
            return None
        target = resolved_container / agent / "screenshots" / name
        if target.resolve(strict=True) != target:
            return None  # a symbolic link somewhere below the allowed folder
        st = os.stat(target, follow_symlinks=False)
        if not stat.S_ISREG(st.st_mode):
            return None
        with target.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except (OSError, RuntimeError, ValueError):
        return None
    mime = sniff_mime(head)
    return target if mime is not None and mime.startswith("image/") else None


def read_agent_screenshot(ref: str, roots: list[Path], max_bytes: int) -> bytes:
    """The bytes of a screenshot in an agent's temp folder; refuses anything else."""
    target = find_agent_screenshot(ref, roots)
    if target is None:
        if os.path.lexists(ref):
            raise FetchRefusedError(
                f"Refused to read {ref[:200]}: only image files in an agent's temp folder (or a folder in "
                "BROWSER_USE_SCREENSHOT_DIRS), not reached through a symbolic link, are served."
            )
        raise NotFoundError(f"{ref[:200]} no longer exists (the agent's temp folder was cleaned up?).")
    agent_folder = target.parent.parent
    data = read_file(agent_folder, f"screenshots/{target.name}", max_bytes)
    mime = sniff_mime(data[:_SNIFF_BYTES])
    if mime is None or not mime.startswith("image/"):
        raise FetchRefusedError(f"Refused to read {ref[:200]}: it is not an image.")
    return data
