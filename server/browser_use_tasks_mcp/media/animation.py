"""Animations: assembling a captioned GIF from screenshots, and reading single frames of one.

Both loops check `cancelled` between frames, so a call that ran out of time or was cancelled
stops burning CPU within one frame instead of finishing work nobody will read.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont, ImageOps

from ..errors import MediaError
from .images import check_pixels, encode, flatten, open_image, pixels_of, too_big

#: Called between frames; raises to stop the work (see `service.TaskService.cpu`).
Check = Callable[[], None]


def _never() -> None:
    return None


@dataclass(frozen=True)
class Frame:
    image: bytes
    caption: str  # e.g. "Step 3 · Open the cart"


@dataclass(frozen=True)
class GifResult:
    data: bytes
    frame_count: int
    width: int
    height: int
    frame_ms: int


# (scale of the fitted size, palette colours) tried in order until the GIF fits max_bytes.
_GIF_STEPS = ((1.0, 256), (1.0, 128), (0.75, 128), (0.6, 64), (0.45, 64), (0.3, 32))
_BANNER_BG = (24, 27, 33)
_BANNER_FG = (255, 255, 255)
_PAD_COLOR = (255, 255, 255)


def assemble_gif(
    frames: Sequence[Frame],
    *,
    max_side: int = 800,
    frame_ms: int = 1200,
    max_bytes: int = 8_000_000,
    cancelled: Check = _never,
) -> GifResult:
    """An animated, looping GIF of `frames` in order, each with its caption in a banner below.

    Every frame is fitted (aspect kept, padded) into the first frame's size, scaled so its
    long side is at most `max_side`. The banner is added below the screenshot rather than
    over it, so no page content is hidden.
    """
    if len(frames) < 2:
        raise MediaError(
            f"A GIF needs at least 2 frames but {len(frames)} were given. Show the single screenshot instead."
        )
    base_w, base_h = _decode_fitted(frames[0].image, max_side).size
    for scale, colors in _GIF_STEPS:
        size = (max(16, round(base_w * scale)), max(16, round(base_h * scale)))
        # One frame at a time, decoded, fitted, captioned and reduced to its palette before
        # the next is read: memory holds small paletted frames, never all the screenshots.
        paletted = []
        for frame in frames:
            cancelled()
            paletted.append(_gif_frame(frame, size, max_side, colors))
        data = _save_gif(paletted, frame_ms)
        if len(data) <= max_bytes:
            width, height = paletted[0].size
            return GifResult(data, _count_frames(data), width, height, frame_ms)
    raise too_big(f"a GIF of {len(frames)} frames", max_bytes, "Use fewer frames or a larger size budget.")


def _gif_frame(frame: Frame, size: tuple[int, int], max_side: int, colors: int) -> Image.Image:
    fitted = ImageOps.pad(
        _decode_fitted(frame.image, max_side), size, Image.Resampling.LANCZOS, color=_PAD_COLOR
    )
    # One adaptive palette per frame. No dithering: screenshots are flat UI colours, where
    # dithering adds noise and defeats GIF's LZW compression.
    return _captioned(fitted, frame.caption).quantize(
        colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
    )


def _decode_fitted(data: bytes, max_side: int) -> Image.Image:
    with open_image(data) as im:
        im.draft("RGB", (max_side, max_side))
        rgb = flatten(pixels_of(im))
    rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return rgb


def _captioned(img: Image.Image, caption: str) -> Image.Image:
    band = max(16, round(img.height * 0.07))
    out = Image.new("RGB", (img.width, img.height + band), _BANNER_BG)
    out.paste(img, (0, 0))
    font = ImageFont.load_default(size=max(8, round(band * 0.55)))
    margin = max(4, band // 3)
    text = _fit_text(" ".join(caption.split()), font, img.width - 2 * margin)
    draw = ImageDraw.Draw(out)
    draw.text((margin, img.height + band // 2), text, fill=_BANNER_FG, font=font, anchor="lm")
    return out


def _fit_text(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int) -> str:
    """The longest prefix of `text` (with an ellipsis when cut) that fits `width` pixels."""
    if font.getlength(text) <= width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # binary search on the number of characters kept
        mid = (lo + hi + 1) // 2
        if font.getlength(text[:mid].rstrip() + "…") <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "…"


def _save_gif(paletted: Sequence[Image.Image], frame_ms: int) -> bytes:
    buf = io.BytesIO()
    first, *rest = paletted
    first.save(buf, "GIF", save_all=True, append_images=rest, duration=frame_ms, loop=0, optimize=True)
    return buf.getvalue()


def _count_frames(data: bytes) -> int:
    # Pillow merges identical consecutive frames when saving, so count what was written.
    with open_image(data) as im:
        return int(getattr(im, "n_frames", 1))


def gif_frames(data: bytes, indexes: Sequence[int], cancelled: Check = _never) -> list[bytes]:
    """Frames of an animated image as PNG bytes, in the order asked; negative = from the end."""
    with open_image(data) as im:
        count = int(getattr(im, "n_frames", 1))
        wanted = [_frame_index(i, count) for i in indexes]
        if not wanted:
            return []
        check_pixels(im.width, im.height, frames=max(wanted) + 1)
        pngs: dict[int, bytes] = {}
        for index in sorted(set(wanted)):  # forward order: each seek only decodes onwards
            cancelled()
            im.seek(index)
            pngs[index] = encode(pixels_of(im), "png")
    return [pngs[i] for i in wanted]


def _frame_index(index: int, count: int) -> int:
    if -count <= index < count:
        return index % count
    raise MediaError(
        f"Frame {index} does not exist: the image has {count} frame(s), "
        f"so valid indexes are 0..{count - 1} (or -{count}..-1 from the end)."
    )
