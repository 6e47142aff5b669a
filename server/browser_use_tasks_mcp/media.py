"""The only module that touches image bytes.

Everything here is synchronous and CPU-bound: callers run it in a worker thread. Every
image is opened lazily (header only) and its pixel count is checked before a single
pixel is decoded, so a small file claiming a huge canvas (a decompression bomb) costs
nothing. Only PNG, JPEG, GIF and WEBP decoders are ever used. Output images are
re-encoded from pixels with no EXIF, ICC profile or text chunks, and any Pillow failure
becomes a `MediaError` whose message says what happened and what to do next.
"""

from __future__ import annotations

import codecs
import io
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from .errors import MediaError

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

# --------------------------------------------------------------------------- sniffing

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"\x1a\x45\xdf\xa3", "video/webm"),  # EBML header (WebM/Matroska)
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"PK\x05\x06", "application/zip"),  # empty archive
)
# ISO-BMFF files all start with an `ftyp` box; the brand tells still images from video.
_FTYP_BRANDS = {
    b"avif": "image/avif",
    b"avis": "image/avif",
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"qt  ": "video/quicktime",
}
_TEXT_SAMPLE = 8192
# Control characters that never appear in text (tab, newline, CR, form feed and ESC do:
# ESC for ANSI colours in logs).
_BINARY_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")


def sniff_mime(data: bytes) -> str | None:
    """MIME type from the leading bytes, or None when unknown. Never trusts names or headers."""
    head = data[:16]
    for magic, mime in _MAGIC:
        if head.startswith(magic):
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        return _FTYP_BRANDS.get(head[8:12], "video/mp4")
    return _sniff_text(data)


def _sniff_text(data: bytes) -> str | None:
    sample = data[:_TEXT_SAMPLE]
    if not sample or _BINARY_CONTROL.search(sample):
        return None
    try:
        # Incremental, so a multi-byte character cut at the sample's end is not an error.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=len(data) <= _TEXT_SAMPLE)
    except UnicodeDecodeError:
        return None
    start = sample.lstrip(b"\xef\xbb\xbf \t\r\n")[:15].lower()
    if start.startswith((b"<!doctype html", b"<html")):
        return "text/html"
    # Cheap shape check rather than a full parse: this runs on the event loop for big files.
    if start[:1] in (b"{", b"[") and data.rstrip()[-1:] in (b"}", b"]"):
        return "application/json"
    return "text/plain"


# --------------------------------------------------------------------------- probing


@dataclass(frozen=True)
class ImageInfo:
    mime_type: str
    width: int
    height: int
    size_bytes: int
    frames: int


@contextmanager
def _open(data: bytes) -> Iterator[Image.Image]:
    """Open lazily, refuse bombs before decoding, and turn any Pillow failure into MediaError.

    The `except` clauses also cover the caller's `with` body, where the actual decoding
    (load, convert, seek, save) happens.
    """
    try:
        with Image.open(io.BytesIO(data), formats=_FORMATS) as im:
            _check_pixels(im.width, im.height)
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


def _check_pixels(width: int, height: int, frames: int = 1) -> None:
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
    with _open(data) as im:
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


def _pixels(im: Image.Image) -> Image.Image:
    """The current frame as RGB or RGBA, upright per its EXIF orientation.

    Orientation is applied before metadata is dropped, or phone photos would turn sideways.
    """
    upright = ImageOps.exif_transpose(im)
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
    return upright.convert("RGBA" if has_alpha else "RGB")


def _flatten(im: Image.Image) -> Image.Image:
    """RGB with transparency composited onto white (plain convert() would turn it black)."""
    if im.mode != "RGBA":
        return im.convert("RGB")
    background = Image.new("RGB", im.size, "white")
    background.paste(im, mask=im.getchannel("A"))
    return background


def _encode(im: Image.Image, fmt: _OutFormat, quality: int = 90) -> bytes:
    # convert()/resize() copy `info`, which is where EXIF, ICC and PNG text live; an empty
    # info plus no metadata arguments means none of it is written.
    if fmt == "jpeg" and im.mode != "RGB":
        im = _flatten(im)
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


def _too_big(what: str, max_bytes: int, hint: str) -> MediaError:
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
) -> Rendered:
    """A small, metadata-free RGB preview (first frame of animations)."""
    with _open(data) as im:
        original = _info(im, data)
        im.draft("RGB", (max_side, max_side))  # JPEG only: decode at a reduced scale, much faster
        rgb = _flatten(_pixels(im))
    # reducing_gap: cheap integer reduce first, then LANCZOS for the last step.
    rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    img = rgb
    for _ in range(_MAX_SHRINKS):
        for quality in _QUALITY_STEPS:
            out = _encode(img, fmt, quality)
            if len(out) <= max_bytes:
                return Rendered(out, f"image/{fmt}", img.width, img.height, original)
        if max(img.size) <= _MIN_PREVIEW_SIDE:
            break
        # Too big even at the lowest quality: shrink the area in proportion to the overshoot,
        # but not below a size that still shows something.
        scale = min(0.85, 0.9 * (max_bytes / len(out)) ** 0.5)
        img = _scaled(img, max(scale, _MIN_PREVIEW_SIDE / max(img.size)))
    raise _too_big("a preview", max_bytes, "Allow a larger preview size.")


def make_full(data: bytes, *, max_bytes: int = 5_000_000) -> Rendered:
    """The image at full resolution with metadata stripped, in its own format when it fits.

    PNG stays lossless PNG (GIF becomes PNG of its first frame); JPEG and WEBP are
    re-encoded at high quality. If that is over `max_bytes`, lossy WEBP (JPEG for images
    too large for WEBP) at falling quality; still at full resolution.
    """
    with _open(data) as im:
        original = _info(im, data)
        img = _pixels(im)
    own = _FULL_FORMAT[original.mime_type]
    out = _encode(img, own, _FULL_QUALITY.get(own, 90))
    if len(out) <= max_bytes:
        return Rendered(out, f"image/{own}", img.width, img.height, original)
    fallback: _OutFormat = "webp" if max(img.size) <= _WEBP_MAX_SIDE else "jpeg"
    for quality in _FULL_FALLBACK_QUALITY:
        out = _encode(img, fallback, quality)
        if len(out) <= max_bytes:
            return Rendered(out, f"image/{fallback}", img.width, img.height, original)
    raise _too_big(
        f"the {img.width}×{img.height} image at full resolution", max_bytes, "Use the preview instead."
    )


def make_png(data: bytes, *, max_bytes: int = 25_000_000) -> Rendered:
    """The image at full resolution as lossless PNG, metadata stripped (one fixed type for resources)."""
    with _open(data) as im:
        original = _info(im, data)
        img = _pixels(im)
    out = _encode(img, "png")
    if len(out) > max_bytes:
        raise _too_big(f"the {img.width}×{img.height} image as PNG", max_bytes, "Use the preview instead.")
    return Rendered(out, "image/png", img.width, img.height, original)


# --------------------------------------------------------------------------- GIFs


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
        paletted = [_gif_frame(frame, size, max_side, colors) for frame in frames]
        data = _save_gif(paletted, frame_ms)
        if len(data) <= max_bytes:
            width, height = paletted[0].size
            return GifResult(data, _count_frames(data), width, height, frame_ms)
    raise _too_big(f"a GIF of {len(frames)} frames", max_bytes, "Use fewer frames or a larger size budget.")


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
    with _open(data) as im:
        im.draft("RGB", (max_side, max_side))
        rgb = _flatten(_pixels(im))
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
    with _open(data) as im:
        return int(getattr(im, "n_frames", 1))


def gif_frames(data: bytes, indexes: Sequence[int]) -> list[bytes]:
    """Frames of an animated image as PNG bytes, in the order asked; negative = from the end."""
    with _open(data) as im:
        count = int(getattr(im, "n_frames", 1))
        wanted = [_frame_index(i, count) for i in indexes]
        if not wanted:
            return []
        _check_pixels(im.width, im.height, frames=max(wanted) + 1)
        pngs: dict[int, bytes] = {}
        for index in sorted(set(wanted)):  # forward order: each seek only decodes onwards
            im.seek(index)
            pngs[index] = _encode(_pixels(im), "png")
    return [pngs[i] for i in wanted]


def _frame_index(index: int, count: int) -> int:
    if -count <= index < count:
        return index % count
    raise MediaError(
        f"Frame {index} does not exist: the image has {count} frame(s), "
        f"so valid indexes are 0..{count - 1} (or -{count}..-1 from the end)."
    )
