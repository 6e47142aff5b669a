"""media: sniffing, probing, previews, full-size renders, GIF assembly and frame extraction."""

from __future__ import annotations

import contextlib
import io
import random
import struct
import time
import zipfile
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from browser_use_tasks_mcp import media
from browser_use_tasks_mcp.errors import MediaError
from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR
from browser_use_tasks_mcp.media import Frame, assemble_gif, gif_frames, make_full, make_preview, probe_image

# A real run of the browser-use agent, shipped in the package: its screenshots, GIF and video.
SAMPLE_RUN = BUNDLED_RUNS_DIR / "order-blue-widget"
SCREENSHOTS = sorted((SAMPLE_RUN / "screenshots").glob("step_*.png"))
SAMPLE_GIF = SAMPLE_RUN / "agent_history.gif"
SAMPLE_VIDEOS = sorted((SAMPLE_RUN / "video").glob("*.mp4"))

# Chunk types / markers that carry metadata in each output format.
PNG_METADATA_CHUNKS = (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP")
WEBP_METADATA_CHUNKS = (b"EXIF", b"ICCP", b"XMP ")


def test_the_bundled_sample_run_has_its_media() -> None:
    """The real-media tests below read these files; if one goes missing they must fail, not skip."""
    assert [p.name for p in SCREENSHOTS] == [f"step_{n}.png" for n in range(2, 8)]
    assert SAMPLE_GIF.is_file()
    assert len(SAMPLE_VIDEOS) == 1


def encode(im: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


def noise(width: int, height: int, seed: int = 0) -> Image.Image:
    """Incompressible pixels, to force the size-budget fallbacks."""
    return Image.frombytes("RGB", (width, height), random.Random(seed).randbytes(width * height * 3))


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_claiming(width: int, height: int) -> bytes:
    """A ~60-byte PNG whose header claims width×height RGB pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\0" * 16))
        + png_chunk(b"IEND", b"")
    )


def gif_with_canvas(width: int, height: int, frames: int) -> bytes:
    """A tiny GIF with a huge logical screen and `frames` one-pixel frames."""
    header = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return header + frame * frames + b"\x3b"


def jpeg_with_exif(width: int = 300, height: int = 200, orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0131] = "secret-software"  # Software
    exif[0x0112] = orientation
    return encode(
        Image.new("RGB", (width, height), "red"), "JPEG", exif=exif.tobytes(), icc_profile=b"x" * 64
    )


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret-text-chunk")
    info.add_itxt("Author", "secret-itxt-chunk")
    info.add_text("Description", "secret-ztxt-chunk", zip=True)
    return encode(Image.new("RGBA", (64, 48), (0, 128, 0, 255)), "PNG", pnginfo=info)


# --------------------------------------------------------------------------- sniffing


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("a.txt", "hi")
    return buf.getvalue()


SNIFF_CASES = [
    (encode(Image.new("RGB", (4, 4)), "PNG"), "image/png"),
    (encode(Image.new("RGB", (4, 4)), "JPEG"), "image/jpeg"),
    (encode(Image.new("RGB", (4, 4)), "GIF"), "image/gif"),
    (encode(Image.new("RGB", (4, 4)), "WEBP"), "image/webp"),
    (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2mp41", "video/mp4"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "video/webm"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "application/pdf"),
    (_zip(), "application/zip"),
    (b'{"steps": [1, 2, 3]}\n', "application/json"),
    (b"[1, 2]", "application/json"),
    ("Schritt 1: Warenkorb öffnen ✓\n".encode(), "text/plain"),
    (b"\x1b[32mINFO\x1b[0m [agent] step 1\r\n", "text/plain"),
    (b"<!DOCTYPE html><html><body>x</body></html>", "text/html"),
    (b"", None),
    (b"abc\x00def", None),
    (b"\xff\xfe\xfd not utf-8", None),
    (b"\x01\x02\x03\x04 control bytes", None),
]


@pytest.mark.parametrize(("data", "expected"), SNIFF_CASES)
def test_sniff_mime(data: bytes, expected: str | None) -> None:
    assert media.sniff_mime(data) == expected


def test_sniff_ignores_a_multibyte_character_cut_by_the_sample() -> None:
    text = ("a" * 8191 + "é" * 10).encode()  # the 8 kB sample ends inside "é"
    assert media.sniff_mime(text) == "text/plain"


def test_sniff_real_recording() -> None:
    assert media.sniff_mime(SAMPLE_VIDEOS[0].read_bytes()[:64]) == "video/mp4"


KNOWN_TYPES = {mime for _, mime in SNIFF_CASES} | {"image/avif", "image/heic", "video/quicktime"}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_sniff_never_crashes(data: bytes) -> None:
    assert media.sniff_mime(data) in KNOWN_TYPES


# --------------------------------------------------------------------------- probing


def test_probe_png() -> None:
    data = encode(Image.new("RGB", (640, 480)), "PNG")
    assert probe_image(data) == media.ImageInfo("image/png", 640, 480, len(data), 1)


def test_probe_real_screenshot_and_gif() -> None:
    info = probe_image(SCREENSHOTS[0].read_bytes())
    assert (info.mime_type, info.width, info.height, info.frames) == ("image/png", 1920, 1080, 1)
    info = probe_image(SAMPLE_GIF.read_bytes())
    assert info.mime_type == "image/gif"
    assert info.frames > 1


# Pillow only warns (not raises) between 1× and 2× its limit, and warning filters vary
# (pytest resets them): the refusal must not depend on them.
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("render", [probe_image, make_preview, make_full])
@pytest.mark.parametrize(
    ("width", "height"), [(100_000, 100_000), (8000, 7000)]
)  # 10 Gpx, and just over 50 Mpx
def test_decompression_bomb_refused_before_decoding(render: object, width: int, height: int) -> None:
    bomb = png_claiming(width, height)
    assert len(bomb) < 100
    started = time.monotonic()
    with pytest.raises(MediaError, match="megapixel safety limit"):
        render(bomb)  # type: ignore[operator]
    assert time.monotonic() - started < 0.5


def test_gif_assembly_refuses_a_bomb_frame() -> None:
    ok = encode(Image.new("RGB", (40, 30)), "PNG")
    with pytest.raises(MediaError, match="megapixel safety limit"):
        assemble_gif([Frame(ok, "a"), Frame(png_claiming(100_000, 100_000), "b")])


def test_animation_decode_budget_refused() -> None:
    # 48 Mpx canvas (allowed) × 25 frames: reaching the last frame decodes 1.2 Gpx.
    data = gif_with_canvas(8000, 6000, 25)
    started = time.monotonic()
    with pytest.raises(MediaError, match=r"decoding too many pixels|frames means decoding"):
        gif_frames(data, [-1])
    assert time.monotonic() - started < 2


def _truncated_png() -> bytes:
    data = encode(noise(200, 200), "PNG")
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    "data",
    [
        _truncated_png(),
        encode(noise(200, 200), "JPEG")[:300],
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,  # right signature, garbage after it
        png_claiming(10, 10)[:-12] + b"garbage!",  # IDAT too short, no IEND
    ],
)
def test_corrupt_or_truncated_images_refused(data: bytes) -> None:
    with pytest.raises(MediaError, match="corrupt or truncated"):
        probe_image(data)


@pytest.mark.parametrize(
    ("data", "detected"),
    [
        (b"<html>login</html>", "text/html"),
        (b"%PDF-1.4 ...", "application/pdf"),
        (b"\x00\x01", "unknown data"),
    ],
)
def test_non_images_refused(data: bytes, detected: str) -> None:
    with pytest.raises(
        MediaError, match=f"not a PNG, JPEG, GIF or WEBP image \\(it looks like {detected}\\)"
    ):
        probe_image(data)


def test_other_image_formats_refused() -> None:
    # Only four decoders are ever used, however valid the file.
    with pytest.raises(MediaError, match="not a PNG, JPEG, GIF or WEBP"):
        probe_image(encode(Image.new("RGB", (4, 4)), "BMP"))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096))
def test_probe_random_bytes_only_media_error(data: bytes) -> None:
    with contextlib.suppress(MediaError):
        probe_image(data)


SMALL_IMAGES = [
    encode(Image.new("RGB", (16, 12), "blue"), fmt)
    for fmt in ("PNG", "JPEG", "GIF", "WEBP")  # hypothesis mutates these
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(SMALL_IMAGES),
    st.lists(st.tuples(st.integers(min_value=0, max_value=400), st.integers(0, 255)), max_size=8),
    st.integers(min_value=0, max_value=400),
)
def test_probe_mutated_images_only_media_error(image: bytes, flips: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(image)
    for position, value in flips:
        if position < len(data):
            data[position] = value
    try:
        info = probe_image(bytes(data[: len(data) - cut]))
    except MediaError:
        return
    assert info.width * info.height <= media.MAX_PIXELS


# --------------------------------------------------------------------------- previews


@pytest.mark.parametrize(("fmt", "magic"), [("webp", b"RIFF"), ("jpeg", b"\xff\xd8\xff")])
def test_preview_of_real_screenshot(fmt: str, magic: bytes) -> None:
    rendered = make_preview(SCREENSHOTS[0].read_bytes(), fmt=fmt)  # type: ignore[arg-type]
    assert rendered.data.startswith(magic)
    assert rendered.mime_type == f"image/{fmt}"
    assert (rendered.width, rendered.height) == (1024, 576)
    assert len(rendered.data) <= 300_000
    assert rendered.original.width == 1920
    with Image.open(io.BytesIO(rendered.data)) as im:
        assert im.size == (1024, 576)


NOISE_PNG = encode(noise(1100, 700), "PNG")


@pytest.mark.parametrize("max_side", [64, 300, 1024])
def test_preview_respects_both_budgets_on_noise(max_side: int) -> None:
    max_bytes = 12_000
    rendered = make_preview(NOISE_PNG, max_side=max_side, max_bytes=max_bytes)
    assert max(rendered.width, rendered.height) <= max_side
    assert len(rendered.data) <= max_bytes
    assert rendered.data[8:12] == b"WEBP"


def test_preview_never_upscales_and_flattens_alpha_onto_white() -> None:
    transparent = encode(Image.new("RGBA", (40, 20), (0, 0, 0, 0)), "PNG")
    rendered = make_preview(transparent, fmt="jpeg")
    with Image.open(io.BytesIO(rendered.data)) as im:
        assert im.size == (40, 20)
        assert im.mode == "RGB"
        r, g, b = im.getpixel((5, 5))  # type: ignore[misc]
        assert min(r, g, b) > 240


def test_preview_budget_impossible_is_refused() -> None:
    with pytest.raises(MediaError, match="Could not fit a preview into 100 bytes"):
        make_preview(encode(noise(300, 300), "PNG"), max_bytes=100)


def test_preview_of_animation_uses_first_frame() -> None:
    frames = [Image.new("RGB", (50, 50), color) for color in ("red", "blue", "green")]
    gif = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    rendered = make_preview(gif, fmt="jpeg")
    assert rendered.original.frames == 3
    with Image.open(io.BytesIO(rendered.data)) as im:
        r, g, b = im.getpixel((25, 25))  # type: ignore[misc]
        assert r > 200 and g < 50 and b < 50


def test_exif_orientation_is_applied_before_stripping() -> None:
    rendered = make_preview(jpeg_with_exif(300, 200, orientation=6))  # "rotate 90° clockwise"
    assert (rendered.width, rendered.height) == (200, 300)


# --------------------------------------------------------------------------- metadata


def _assert_no_metadata(data: bytes) -> None:
    for secret in (b"SecretCam", b"secret-software", b"secret-text-chunk", b"secret-itxt-chunk", b"Exif"):
        assert secret not in data
    if data.startswith(b"\x89PNG"):
        assert not any(chunk in data for chunk in PNG_METADATA_CHUNKS)
    elif data[8:12] == b"WEBP":
        assert not any(chunk in data for chunk in WEBP_METADATA_CHUNKS)
    with Image.open(io.BytesIO(data)) as im:
        assert not im.getexif()
        assert "icc_profile" not in im.info
        assert not {"Comment", "Author", "Description", "exif"} & set(im.info)


@pytest.mark.parametrize("source", [jpeg_with_exif(), png_with_text()], ids=["jpeg-exif-icc", "png-text"])
@pytest.mark.parametrize(
    "render",
    [make_preview, lambda d: make_preview(d, fmt="jpeg"), make_full],
    ids=["preview-webp", "preview-jpeg", "full"],
)
def test_metadata_is_stripped(source: bytes, render: object) -> None:
    assert b"secret" in source.lower() or b"SecretCam" in source  # the input really carries it
    _assert_no_metadata(render(source).data)  # type: ignore[operator]


def test_gif_frames_and_assembly_strip_metadata() -> None:
    gif = assemble_gif([Frame(jpeg_with_exif(), "one"), Frame(png_with_text(), "two")])
    assert b"secret" not in gif.data.lower()
    for png in gif_frames(gif.data, [0, 1]):
        _assert_no_metadata(png)


# --------------------------------------------------------------------------- full size


def test_full_real_screenshot_stays_lossless_png() -> None:
    source = SCREENSHOTS[0].read_bytes()
    rendered = make_full(source)
    assert rendered.mime_type == "image/png"
    assert (rendered.width, rendered.height) == (1920, 1080)
    with Image.open(io.BytesIO(rendered.data)) as a, Image.open(io.BytesIO(source)) as b:
        assert a.convert("RGB").tobytes() == b.convert("RGB").tobytes()


def test_full_jpeg_stays_jpeg() -> None:
    rendered = make_full(jpeg_with_exif())
    assert rendered.mime_type == "image/jpeg"
    assert rendered.data.startswith(b"\xff\xd8\xff")


def test_full_over_budget_falls_back_to_lossy_at_full_resolution() -> None:
    source = encode(noise(600, 400), "PNG")  # ~720 kB of noise
    rendered = make_full(source, max_bytes=250_000)
    assert rendered.mime_type == "image/webp"
    assert (rendered.width, rendered.height) == (600, 400)
    assert len(rendered.data) <= 250_000


def test_full_impossible_budget_refused() -> None:
    with pytest.raises(MediaError, match="Use the preview instead"):
        make_full(encode(noise(300, 300), "PNG"), max_bytes=1000)


# --------------------------------------------------------------------------- GIFs


def _sample_frames(n: int = 5) -> list[Frame]:
    images = [p.read_bytes() for p in SCREENSHOTS]
    return [Frame(images[i % len(images)], f"Step {i + 1} · Open the cart") for i in range(n)]


def test_assemble_gif_five_frames() -> None:
    result = assemble_gif(_sample_frames(5))
    assert result.data.startswith(b"GIF89a")
    assert result.frame_count == 5
    assert len(result.data) <= 8_000_000
    assert result.width <= 800
    assert result.frame_ms == 1200
    with Image.open(io.BytesIO(result.data)) as im:
        assert getattr(im, "n_frames", 1) == 5
        assert im.size == (result.width, result.height)
        assert im.info["loop"] == 0
        assert im.info["duration"] == 1200


def test_captions_change_pixels() -> None:
    blank = encode(Image.new("RGB", (400, 300), "white"), "PNG")
    one = assemble_gif([Frame(blank, "Step 1 · Open the cart"), Frame(blank, "Step 2")])
    other = assemble_gif([Frame(blank, "Something else entirely"), Frame(blank, "Step 2")])
    first_one, first_other = gif_frames(one.data, [0])[0], gif_frames(other.data, [0])[0]
    assert first_one != first_other
    with Image.open(io.BytesIO(first_one)) as im:
        banner = im.convert("RGB").crop((0, 300, im.width, im.height))
        assert len(banner.getcolors(maxcolors=4096) or []) > 2  # text, not a flat bar


def test_long_caption_is_cut_to_fit() -> None:
    blank = encode(Image.new("RGB", (200, 100), "white"), "PNG")
    result = assemble_gif([Frame(blank, "word " * 200), Frame(blank, "x\n\ty")])
    assert result.frame_count == 2


def test_mixed_sizes_share_one_canvas() -> None:
    wide = encode(Image.new("RGB", (1600, 900), "red"), "PNG")
    tall = encode(Image.new("RGB", (300, 900), "blue"), "JPEG")
    result = assemble_gif([Frame(wide, "wide"), Frame(tall, "tall")], max_side=400)
    assert result.width == 400
    frames = gif_frames(result.data, [0, 1])
    sizes = {Image.open(io.BytesIO(f)).size for f in frames}
    assert sizes == {(result.width, result.height)}


def test_gif_budget_reduces_size() -> None:
    frames = [Frame(encode(noise(320, 240, seed=i), "PNG"), f"Step {i}") for i in range(3)]
    result = assemble_gif(frames, max_side=320, max_bytes=100_000)
    assert len(result.data) <= 100_000
    assert result.width < 320
    assert result.frame_count == 3


def test_gif_budget_impossible_is_refused() -> None:
    frames = [Frame(encode(noise(120, 120, seed=i), "PNG"), "x") for i in range(2)]
    with pytest.raises(MediaError, match="Could not fit a GIF of 2 frames"):
        assemble_gif(frames, max_bytes=500)


@pytest.mark.parametrize("count", [0, 1])
def test_gif_needs_two_frames(count: int) -> None:
    with pytest.raises(MediaError, match="at least 2 frames"):
        assemble_gif(_sample_frames(2)[:count])


def test_gif_frames_extracts_requested_frames_in_order() -> None:
    colors = ["red", "lime", "blue", "yellow", "black"]
    images = [Image.new("RGB", (30, 20), c) for c in colors]
    gif = encode(images[0], "GIF", save_all=True, append_images=images[1:], duration=100)
    pngs = gif_frames(gif, [-1, 0, 2, 2])
    assert len(pngs) == 4
    got = []
    for png in pngs:
        assert png.startswith(b"\x89PNG")
        with Image.open(io.BytesIO(png)) as im:
            got.append(im.convert("RGB").getpixel((1, 1)))
    assert got == [(0, 0, 0), (255, 0, 0), (0, 0, 255), (0, 0, 255)]
    assert gif_frames(gif, []) == []


@pytest.mark.parametrize("index", [5, -6])
def test_gif_frames_out_of_range(index: int) -> None:
    images = [Image.new("RGB", (10, 10), c) for c in ("red", "blue", "green", "white", "black")]
    gif = encode(images[0], "GIF", save_all=True, append_images=images[1:])
    with pytest.raises(MediaError, match=r"valid indexes are 0\.\.4"):
        gif_frames(gif, [index])


def test_gif_frames_of_real_agent_history_gif() -> None:
    first, last = gif_frames(SAMPLE_GIF.read_bytes(), [0, -1])
    for png in (first, last):
        assert Image.open(io.BytesIO(png)).size == (1920, 1080)
    assert first != last
