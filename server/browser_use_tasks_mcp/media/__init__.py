"""The only package that touches image bytes: sniffing, still images, animations.

Everything here is synchronous and CPU-bound: callers run it in a worker thread. Every
image is opened lazily (header only) and its pixel count is checked before a single
pixel is decoded (for a GIF, every frame's), so a small file claiming a huge canvas (a
decompression bomb) costs nothing. Only PNG, JPEG, GIF and WEBP decoders are ever used.
Output images are re-encoded from pixels with no EXIF, ICC profile or text chunks, and
any Pillow failure becomes a `MediaError` that says what happened and what to do next.
"""

from .animation import Frame, GifResult, assemble_gif, gif_frames
from .images import (
    MAX_ANIMATION_PIXELS,
    MAX_PIXELS,
    ImageInfo,
    Rendered,
    make_full,
    make_png,
    make_preview,
    probe_image,
)
from .sniff import sniff_mime

__all__ = [
    "MAX_ANIMATION_PIXELS",
    "MAX_PIXELS",
    "Frame",
    "GifResult",
    "ImageInfo",
    "Rendered",
    "assemble_gif",
    "gif_frames",
    "make_full",
    "make_png",
    "make_preview",
    "probe_image",
    "sniff_mime",
]
