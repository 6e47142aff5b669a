"""Still images: opening safely, probing, previews and full-resolution copies.

Everything here is synchronous and CPU-bound: callers run it in a worker thread. Every
image is opened lazily (header only) and its pixel count is checked before a single
pixel is decoded, so a small file claiming a huge canvas (a decompression bomb) costs
nothing. Only PNG, JPEG, GIF and WEBP decoders are ever used. Output images are
re-encoded from pixels with no EXIF, ICC profile or text chunks, and any Pillow failure
becomes a `MediaError` whose message says what happened and what to do next.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import MediaError
from .gif_structure import check_gif_frames
from .sniff import sniff_mime

MAX_PIXELS = 50_000_000
# Pillow itself warns above MAX_IMAGE_PIXELS and raises above twice that. We refuse at
# MAX_PIXELS in `_open` (thread-safe, independent of warning filters) and also make the
# warning an error process-wide, so no other code path can decode a bomb quietly.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)

# Animated images decode frame N by decoding every frame before it; bound that total too.
MAX_ANIMATION_PIXELS = 1_000_000_000

_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
_MIME_BY_FORMAT = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",  # multi-picture JPEG from phone cameras; Pillow reports it separately
    "GIF": "image/gif",
    "WEBP": "image/webp",
}
_WEBP_MAX_SIDE = 16383  # the WEBP format cannot store larger images

# --------------------------------------------------------------------------- probing


@dataclass(frozen=True)
class ImageInfo:
    mime_type: str
    width: int
    height: int
    size_bytes: int
    frames: int


@contextmanager
def open_image(data: bytes) -> Iterator[Image.Image]:
    """Open lazily, refuse bombs before decoding, and turn any Pillow failure into MediaError.

    The `except` clauses also cover the caller's `with` body, where the actual decoding
    (load, convert, seek, save) happens.
    """
    try:
        if data[:6] in (b"GIF87a", b"GIF89a"):
            check_gif_frames(data, MAX_PIXELS, MAX_ANIMATION_PIXELS)  # every frame, before any decoding
        with Image.open(io.BytesIO(data), formats=_FORMATS) as im:
            check_pixels(im.width, im.height)
            yield im
    except MediaError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaError(
            "The image claims a canvas above the "
            f"{MAX_PIXELS // 1_000_000} megapixel safety limit, so it was not decoded. "
            "Ask for a smaller image, or download it as a file instead of viewing it."
        ) from exc
    except UnidentifiedImageError as exc:
        detected = sniff_mime(data)
        if detected in _MIME_BY_FORMAT.values():  # right signature, unreadable header
            raise _corrupt("unreadable header") from exc
        raise MediaError(
            f"The data is not a PNG, JPEG, GIF or WEBP image (it looks like {detected or 'unknown data'}). "
            "Check that you asked for an image; other files can be downloaded as files."
        ) from exc
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, struct.error, …
        raise _corrupt(_reason(exc)) from exc


def _corrupt(reason: str) -> MediaError:
    return MediaError(
        f"The image data is corrupt or truncated and could not be decoded ({reason}). "
        "Try fetching it again; if it keeps failing, the file itself is damaged."
    )


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:120]
    return text or type(exc).__name__


def check_pixels(width: int, height: int, frames: int = 1) -> None:
    pixels = width * height
    if pixels > MAX_PIXELS:
        raise MediaError(
            f"The image is {width}×{height} pixels ({pixels / 1e6:.0f} megapixels), above the "
            f"{MAX_PIXELS // 1_000_000} megapixel safety limit, so it was not decoded. Ask for a "
            "smaller image, or download it as a file instead of viewing it."
        )
    if pixels * frames > MAX_ANIMATION_PIXELS:
        raise MediaError(
            f"Reaching frame {frames - 1} of this {width}×{height} animation means decoding too "
            "many pixels, so it was refused. Ask for an earlier frame or a single screenshot instead."
        )


def _info(im: Image.Image, data: bytes) -> ImageInfo:
    return ImageInfo(
        mime_type=_MIME_BY_FORMAT[im.format or ""],
        width=im.width,
        height=im.height,
        size_bytes=len(data),
        frames=getattr(im, "n_frames", 1),  # walks frame headers without decoding pixels
    )


def probe_image(data: bytes) -> ImageInfo:
    """Type, size and frame count; decodes the first frame so corrupt data is caught here."""
    with open_image(data) as im:
        info = _info(im, data)
        im.load()
    return info


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class Rendered:
    data: bytes
    mime_type: str
    width: int
    height: int
    original: ImageInfo
    #: Which part of a tall page this preview shows (1 is the top), and how many parts it has.
    part: int = 1
    parts: int = 1


#: A page more than this many times taller than wide (a full-page screenshot) is previewed in parts:
#: squares as wide as the page, so text stays readable instead of shrinking into a thin strip.
TALL_RATIO = 1.5


def parts_of(width: int, height: int) -> int:
    """How many square parts a preview of this page has (1 unless it is tall)."""
    if width <= 0 or height <= width * TALL_RATIO:
        return 1
    return -(-height // width)


def _part(rgb: Image.Image, part: int) -> tuple[Image.Image, int]:
    """Part `part` (1-based, clamped by the caller's check) of a tall page, and the count of parts."""
    parts = parts_of(rgb.width, rgb.height)
    if parts == 1:
        return rgb, 1
    if not 1 <= part <= parts:
        raise PartOutOfRange(parts)
    top = (part - 1) * rgb.width
    return rgb.crop((0, top, rgb.width, min(rgb.height, top + rgb.width))), parts


class PartOutOfRange(MediaError):
    def __init__(self, parts: int) -> None:
        super().__init__(
            f"This screenshot is a tall page in {parts} parts; ask for a part from 1 to {parts}."
        )
        self.parts = parts


_QUALITY_STEPS = (82, 70, 55, 40)
_MAX_SHRINKS = 5
_MIN_PREVIEW_SIDE = 64
_FULL_QUALITY = {"jpeg": 92, "webp": 90}
_FULL_FALLBACK_QUALITY = (85, 75, 60, 45)
_OutFormat = Literal["png", "jpeg", "webp"]
_FULL_FORMAT: dict[str, _OutFormat] = {
    "image/png": "png",
    "image/gif": "png",  # first frame, losslessly
    "image/jpeg": "jpeg",
    "image/webp": "webp",
}


def pixels_of(im: Image.Image) -> Image.Image:
    """The current frame as RGB or RGBA, upright per its EXIF orientation.

    Orientation is applied before metadata is dropped, or phone photos would turn sideways.
    """
    upright = ImageOps.exif_transpose(im)
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
    return upright.convert("RGBA" if has_alpha else "RGB")


def flatten(im: Image.Image) -> Image.Image:
    """RGB with transparency composited onto white (plain convert() would turn it black)."""
    if im.mode != "RGBA":
        return im.convert("RGB")
    background = Image.new("RGB", im.size, "white")
    background.paste(im, mask=im.getchannel("A"))
    return background


def encode(im: Image.Image, fmt: _OutFormat, quality: int = 90) -> bytes:
    # convert()/resize() copy `info`, which is where EXIF, ICC and PNG text live; an empty
    # info plus no metadata arguments means none of it is written.
    if fmt == "jpeg" and im.mode != "RGB":
        im = flatten(im)
    im.info = {}
    buf = io.BytesIO()
    if fmt == "png":
        im.save(buf, "PNG", optimize=True)
    elif fmt == "jpeg":
        im.save(buf, "JPEG", quality=quality, optimize=True)
    else:
        im.save(buf, "WEBP", quality=quality)
    return buf.getvalue()


def _scaled(im: Image.Image, scale: float) -> Image.Image:
    if scale == 1.0:
        return im
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    return im.resize(size, Image.Resampling.LANCZOS)


def too_big(what: str, max_bytes: int, hint: str) -> MediaError:
    return MediaError(f"Could not fit {what} into {_human_bytes(max_bytes)} even at reduced quality. {hint}")


def _human_bytes(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} MB"
    return f"{n / 1000:.0f} kB" if n >= 1000 else f"{n} bytes"


def make_preview(
    data: bytes,
    *,
    max_side: int = 1024,
    max_bytes: int = 300_000,
    fmt: Literal["jpeg", "webp"] = "webp",
    part: int = 1,
) -> Rendered:
    """A small, metadata-free RGB preview (first frame of animations); of a tall page, one square part."""
    with open_image(data) as im:
        original = _info(im, data)
        if parts_of(im.width, im.height) == 1:
            im.draft("RGB", (max_side, max_side))  # JPEG only: decode at a reduced scale, much faster
        rgb = flatten(pixels_of(im))
    rgb, parts = _part(rgb, part)
    # reducing_gap: cheap integer reduce first, then LANCZOS for the last step.
    rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    img = rgb
    for _ in range(_MAX_SHRINKS):
        for quality in _QUALITY_STEPS:
            out = encode(img, fmt, quality)
            if len(out) <= max_bytes:
                return Rendered(out, f"image/{fmt}", img.width, img.height, original, min(part, parts), parts)
        if max(img.size) <= _MIN_PREVIEW_SIDE:
            break
        # Too big even at the lowest quality: shrink the area in proportion to the overshoot,
        # but not below a size that still shows something.
        scale = min(0.85, 0.9 * (max_bytes / len(out)) ** 0.5)
        img = _scaled(img, max(scale, _MIN_PREVIEW_SIDE / max(img.size)))
    raise too_big("a preview", max_bytes, "Allow a larger preview size.")


def make_full(data: bytes, *, max_bytes: int = 5_000_000) -> Rendered:
    """The image at full resolution with metadata stripped, in its own format when it fits.

    PNG stays lossless PNG (GIF becomes PNG of its first frame); JPEG and WEBP are
    re-encoded at high quality. If that is over `max_bytes`, lossy WEBP (JPEG for images
    too large for WEBP) at falling quality; still at full resolution.
    """
    with open_image(data) as im:
        original = _info(im, data)
        img = pixels_of(im)
    own = _FULL_FORMAT[original.mime_type]
    out = encode(img, own, _FULL_QUALITY.get(own, 90))
    if len(out) <= max_bytes:
        return Rendered(out, f"image/{own}", img.width, img.height, original)
    fallback: _OutFormat = "webp" if max(img.size) <= _WEBP_MAX_SIDE else "jpeg"
    for quality in _FULL_FALLBACK_QUALITY:
        out = encode(img, fallback, quality)
        if len(out) <= max_bytes:
            return Rendered(out, f"image/{fallback}", img.width, img.height, original)
    raise too_big(
        f"the {img.width}×{img.height} image at full resolution", max_bytes, "Use the preview instead."
    )


def make_png(data: bytes, *, max_bytes: int = 25_000_000) -> Rendered:
    """The image at full resolution as lossless PNG, metadata stripped (one fixed type for resources)."""
    with open_image(data) as im:
        original = _info(im, data)
        img = pixels_of(im)
    out = encode(img, "png")
    if len(out) > max_bytes:
        raise too_big(f"the {img.width}×{img.height} image as PNG", max_bytes, "Use the preview instead.")
    return Rendered(out, "image/png", img.width, img.height, original)
