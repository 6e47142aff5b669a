"""One frame of a recording, with PyAV (the optional `video` extra).

Recordings are decoded only here, only when a frame is asked for, in a worker thread: the
container is opened from bytes already bounded by the caller, its frame size is checked
against the same pixel limit as images before anything is decoded, and decoding stops at
the caller's cancellation check or after MAX_DECODED_FRAMES.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from ..errors import MediaError, NotAvailableError
from .images import check_pixels, encode

#: Frames decoded from the nearest key frame to the one wanted, at most.
MAX_DECODED_FRAMES = 3_000
ENABLE_HINT = (
    "Frames of recordings need the optional video decoder PyAV: install the server's `video` extra (from a "
    "clone: pip install -e '.[video]'; or pip install av into the server's environment) and restart it. "
    "The recording itself can still be read whole as a resource."
)


def frame_at(data: bytes, fraction: float, *, cancelled: Callable[[], None] = lambda: None) -> bytes:
    """The frame `fraction` (0 to 1) of the way through the video, as PNG bytes."""
    try:
        import av
    except ImportError:
        raise NotAvailableError(ENABLE_HINT) from None
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            return _frame(container, min(1.0, max(0.0, fraction)), cancelled)
    except (MediaError, NotAvailableError):
        raise
    except (av.FFmpegError, ValueError, OSError, EOFError) as exc:  # what a damaged container raises
        raise MediaError(f"The recording could not be decoded ({type(exc).__name__}).") from None


def _frame(container: Any, fraction: float, cancelled: Callable[[], None]) -> bytes:
    if not container.streams.video:
        raise MediaError("The recording has no video stream.")
    stream = container.streams.video[0]
    check_pixels(int(stream.width or 0), int(stream.height or 0))
    seconds = (container.duration or 0) / 1_000_000
    target = fraction * seconds
    if stream.time_base and target > 0:
        container.seek(int(target / stream.time_base), stream=stream, backward=True, any_frame=False)
    chosen = None
    for count, frame in enumerate(container.decode(stream)):
        if count % 30 == 0:
            cancelled()
        chosen = frame
        if (frame.time or 0.0) >= target - 1e-6 or count >= MAX_DECODED_FRAMES:
            break
    if chosen is None:
        raise MediaError("The recording holds no decodable frame.")
    return encode(chosen.to_image(), "png")
