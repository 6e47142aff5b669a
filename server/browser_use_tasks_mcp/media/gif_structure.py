"""The frames of a GIF, from its block headers alone: sizes known before a single pixel is decoded.

Pillow checks the canvas of the first frame only, and decoding frame N decodes every frame
before it on a canvas that grows to fit each one: a GIF whose first frame is 1×1 and whose
later frames are 7000×7000 would decode billions of pixels. This walk reads each image
descriptor (a few bytes) and refuses such a file up front.
"""

from __future__ import annotations

from ..errors import MediaError

#: More frames than any run's GIF has; walking the headers of more is refused.
MAX_FRAMES = 10_000


def canvas_areas(data: bytes) -> list[int]:
    """The canvas area Pillow decodes for each frame, in order (the canvas grows to fit frames)."""
    if len(data) < 13:
        return []
    width, height = int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    pos = 13 + _table_size(data[10])
    areas: list[int] = []
    while pos < len(data):
        kind = data[pos]
        if kind == 0x3B:  # trailer
            break
        if kind == 0x21:  # extension: label, then sub-blocks
            pos = _skip_sub_blocks(data, pos + 2)
        elif kind == 0x2C:  # image descriptor
            if pos + 10 > len(data):
                break
            left, top, w, h = (int.from_bytes(data[pos + i : pos + i + 2], "little") for i in (1, 3, 5, 7))
            width, height = max(width, left + w), max(height, top + h)
            areas.append(width * height)
            if len(areas) > MAX_FRAMES:
                raise MediaError(f"The GIF has more than {MAX_FRAMES} frames; it was not decoded.")
            pos = _skip_sub_blocks(data, pos + 10 + _table_size(data[pos + 9]) + 1)
        else:
            break  # damaged: Pillow will say so when it decodes
    return areas


def check_gif_frames(data: bytes, max_pixels: int, max_total: int) -> None:
    """Refuse a GIF any of whose frames is over `max_pixels`, or whose frames add up past `max_total`."""
    areas = canvas_areas(data)
    for index, area in enumerate(areas):
        if area > max_pixels:
            raise MediaError(
                f"Frame {index} of this GIF needs a canvas of {area / 1e6:.0f} megapixels, above the "
                f"{max_pixels // 1_000_000} megapixel safety limit, so it was not decoded. "
                "Download it as a file instead of viewing it."
            )
    if sum(areas) > max_total:
        raise MediaError(
            f"Decoding this GIF's {len(areas)} frames means decoding {sum(areas) / 1e6:.0f} megapixels, "
            f"above the {max_total // 1_000_000} megapixel limit for one animation, so it was not decoded."
        )


def _table_size(packed: int) -> int:
    return 3 * (1 << ((packed & 0x07) + 1)) if packed & 0x80 else 0


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    while pos < len(data):
        size = data[pos]
        pos += 1 + size
        if size == 0:
            break
    return pos
