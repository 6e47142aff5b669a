"""Downloadable bytes of the emulator: presigned-looking URLs and the files behind them.

URLs look like S3 presigned URLs (``X-Amz-Date``, ``X-Amz-Expires``, ``X-Amz-Signature``
as 64 hex digits). The signature is a real HMAC over path, date and expiry, so a URL
whose query was altered or stripped is refused like S3 would (403, XML body), and a URL
whose date plus expiry lies in the past answers 403 "Request has expired".
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from urllib.parse import quote, urlencode

from PIL import Image, ImageDraw, ImageFont

from .seed import SeedData, SeedFile, SeedStep, SeedTask

SIGNING_KEY = b"browser-use-emulator-signing-key"
CREDENTIAL_ID = "EMULATORACCESSKEY"
SCREENSHOT_SIZE = (1280, 960)
GIF_SIZE = (320, 240)
GIF_MAX_FRAMES = 60
BIG_FILE_MIN_BYTES = 2 * 1024 * 1024 + 1

# Expiry (seconds) of freshly issued URLs per kind of media.
EXPIRES = {"screenshot": 86_400, "default": 604_800}
# The expired screenshot was issued at its step's time with this short expiry.
EXPIRED_SCREENSHOT_EXPIRES = 300


# --------------------------------------------------------------------------------------
# Signing
# --------------------------------------------------------------------------------------


def _amz_date(when: datetime) -> str:
    return when.strftime("%Y%m%dT%H%M%SZ")


def sign(path: str, amz_date: str, expires: int) -> str:
    message = f"GET\n{path}\n{amz_date}\n{expires}".encode()
    return hmac.new(SIGNING_KEY, message, hashlib.sha256).hexdigest()


def presign(base_url: str, path: str, *, issued: datetime, expires: int) -> str:
    """A presigned-looking URL for `path` (already URL-quoted) on `base_url`."""
    amz_date = _amz_date(issued)
    query = urlencode(
        [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", f"{CREDENTIAL_ID}/{issued:%Y%m%d}/us-east-1/s3/aws4_request"),
            ("X-Amz-Date", amz_date),
            ("X-Amz-Expires", str(expires)),
            ("X-Amz-SignedHeaders", "host"),
            ("X-Amz-Signature", sign(path, amz_date, expires)),
        ]
    )
    return f"{base_url}{path}?{query}"


@dataclass(frozen=True)
class Verdict:
    ok: bool
    code: str = ""
    message: str = ""
    extra: str = ""


def verify(path: str, query: dict[str, str], now: datetime | None = None) -> Verdict:
    """Check a presigned request the way S3 would, in S3's order: signature, then expiry."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    signature = query.get("X-Amz-Signature")
    amz_date = query.get("X-Amz-Date")
    expires = query.get("X-Amz-Expires")
    if not signature or not amz_date or not expires:
        return Verdict(
            False,
            "AccessDenied",
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
        )
    try:
        issued = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
        seconds = int(expires)
    except ValueError:
        return Verdict(
            False, "AuthorizationQueryParametersError", "X-Amz-Date or X-Amz-Expires is malformed."
        )
    if not hmac.compare_digest(signature, sign(path, amz_date, seconds)):
        return Verdict(
            False,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
        )
    deadline = issued + timedelta(seconds=seconds)
    if now > deadline:
        return Verdict(
            False,
            "AccessDenied",
            "Request has expired",
            f"<X-Amz-Expires>{seconds}</X-Amz-Expires><Expires>{deadline:%Y-%m-%dT%H:%M:%SZ}</Expires>"
            f"<ServerTime>{now:%Y-%m-%dT%H:%M:%SZ}</ServerTime>",
        )
    return Verdict(True)


def s3_error_xml(code: str, message: str, extra: str = "", resource: str = "") -> bytes:
    request_id = hashlib.sha1(f"{code}{resource}".encode(), usedforsecurity=False).hexdigest()[:16].upper()
    host_id = hashlib.sha256(f"{code}{resource}".encode()).hexdigest()
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>{extra}"
        f"<Resource>{resource}</Resource><RequestId>{request_id}</RequestId><HostId>{host_id}</HostId></Error>"
    ).encode()


# --------------------------------------------------------------------------------------
# Generated content (cached)
# --------------------------------------------------------------------------------------


def _palette(key: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    d = hashlib.sha256(key.encode()).digest()
    accent = (40 + d[0] % 170, 40 + d[1] % 170, 40 + d[2] % 170)
    soft = (225 + d[3] % 25, 225 + d[4] % 25, 225 + d[5] % 25)
    return accent, soft


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # pragma: no cover - very old Pillow
        return ImageFont.load_default()


def _ascii(text: str, limit: int) -> str:
    clean = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)
    return clean if len(clean) <= limit else clean[: limit - 3] + "..."


@lru_cache(maxsize=2048)
def screenshot_png(task_id: str, number: int, url: str, goal: str, title: str) -> bytes:
    """A 1280x960 fake browser screenshot, distinct per task and step."""
    width, height = SCREENSHOT_SIZE
    accent, soft = _palette(f"{task_id}/{title}")
    # Palette mode with inks indexed up front: several times cheaper to draw and encode
    # than RGB, and still a valid 1280x960 PNG.
    colors: dict[tuple[int, int, int], int] = {(255, 255, 255): 0}

    def ink(rgb: tuple[int, int, int]) -> int:
        return colors.setdefault(rgb, len(colors))

    img = Image.new("P", SCREENSHOT_SIZE, 0)
    draw = ImageDraw.Draw(img)
    # Browser chrome: tab strip, address bar.
    draw.rectangle((0, 0, width, 40), fill=ink((222, 225, 230)))
    draw.rounded_rectangle((12, 6, 300, 40), radius=8, fill=ink((255, 255, 255)))
    draw.text((24, 14), _ascii(title, 30), fill=ink((30, 30, 30)), font=_font(14))
    draw.rectangle((0, 40, width, 84), fill=ink((255, 255, 255)))
    draw.rounded_rectangle((90, 48, width - 90, 78), radius=14, fill=ink((241, 243, 244)))
    draw.text((110, 54), _ascii(url, 120), fill=ink((60, 64, 67)), font=_font(16))
    draw.line((0, 84, width, 84), fill=ink((200, 200, 200)), width=1)
    # Page: header band, navigation, content blocks.
    draw.rectangle((0, 85, width, 165), fill=ink(accent))
    draw.text((40, 108), _ascii(title, 40), fill=ink((255, 255, 255)), font=_font(34))
    for i in range(5):
        draw.text((640 + i * 120, 115), f"Menu {i + 1}", fill=ink((255, 255, 255)), font=_font(18))
    seed = hashlib.sha256(f"{task_id}/{number}".encode()).digest()
    y = 200
    for i in range(6):
        h = 60 + seed[i] % 90
        w = 500 + seed[i + 6] % 500
        draw.rounded_rectangle((40, y, 40 + w, y + h), radius=6, fill=ink(soft), outline=ink((210, 210, 210)))
        for line in range(h // 22):
            lw = 120 + (seed[(i * 3 + line) % 32] * 3) % (w - 160)
            draw.rectangle((60, y + 14 + line * 22, 60 + lw, y + 24 + line * 22), fill=ink((190, 194, 200)))
        y += h + 20
        if y > height - 200:
            break
    # browser-use style element highlights with their indices.
    for i in range(4):
        x0 = 60 + (seed[12 + i] * 4) % 900
        y0 = 200 + (seed[16 + i] * 3) % 600
        color = ((seed[20 + i] * 7) % 255, (seed[24 + i] * 5) % 200, 200)
        draw.rectangle((x0, y0, x0 + 180, y0 + 44), outline=ink(color), width=3)
        draw.rectangle((x0 + 150, y0 - 18, x0 + 180, y0), fill=ink(color))
        draw.text((x0 + 154, y0 - 17), str(seed[28 + i % 4] % 60), fill=ink((255, 255, 255)), font=_font(14))
    # The step number and goal, large, so frames are tellable apart.
    draw.rounded_rectangle(
        (width - 330, height - 200, width - 30, height - 30), radius=16, fill=ink((20, 20, 20))
    )
    draw.text((width - 310, height - 190), f"Step {number}", fill=ink((255, 255, 255)), font=_font(64))
    draw.text((40, height - 60), _ascii(goal, 90), fill=ink((80, 80, 80)), font=_font(20))
    palette = [0] * 768
    for (r, g, b), index in colors.items():
        palette[index * 3 : index * 3 + 3] = [r, g, b]
    img.putpalette(palette)
    out = io.BytesIO()
    img.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def _gif_frame(task_id: str, step: SeedStep) -> Image.Image:
    accent, soft = _palette(f"{task_id}/{step.number}")
    img = Image.new("RGB", GIF_SIZE, soft)
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, GIF_SIZE[0], 24), fill=(222, 225, 230))
    draw.text((6, 5), _ascii(step.url, 48), fill=(40, 40, 40), font=_font(11))
    draw.rectangle((0, 24, GIF_SIZE[0], 60), fill=accent)
    draw.text((12, 150), f"Step {step.number}", fill=(20, 20, 20), font=_font(36))
    draw.text((12, 205), _ascii(step.next_goal, 44), fill=(60, 60, 60), font=_font(11))
    return img.convert("P", palette=Image.Palette.ADAPTIVE, colors=64)


@lru_cache(maxsize=32)
def _gif_bytes(task_id: str, steps: tuple[SeedStep, ...]) -> bytes:
    if len(steps) > GIF_MAX_FRAMES:  # keep generation cheap for the 500-step task
        stride = len(steps) / GIF_MAX_FRAMES
        steps = tuple(steps[int(i * stride)] for i in range(GIF_MAX_FRAMES))
    frames = [_gif_frame(task_id, s) for s in steps]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=700, loop=0)
    return out.getvalue()


def task_gif(task: SeedTask) -> bytes:
    return _gif_bytes(task.id, tuple(task.screenshot_steps))


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _filler(key: str, size: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{key}/{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


@lru_cache(maxsize=8)
def mp4_bytes(key: str) -> bytes:
    """Starts with a valid ISO-BMFF `ftyp` box, then `free` and `mdat` boxes."""
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 0x200) + b"isomiso2avc1mp41")
    return ftyp + _box(b"free", b"") + _box(b"mdat", _filler(key, 24_000))


def _ebml(element_id: bytes, payload: bytes) -> bytes:
    size = len(payload)
    assert size < 0x7F
    return element_id + bytes([0x80 | size]) + payload


@lru_cache(maxsize=8)
def webm_bytes(key: str) -> bytes:
    """Starts with a valid EBML header declaring DocType `webm`."""
    header = b"".join(
        [
            _ebml(b"\x42\x86", b"\x01"),  # EBMLVersion
            _ebml(b"\x42\xf7", b"\x01"),  # EBMLReadVersion
            _ebml(b"\x42\xf2", b"\x04"),  # EBMLMaxIDLength
            _ebml(b"\x42\xf3", b"\x08"),  # EBMLMaxSizeLength
            _ebml(b"\x42\x82", b"webm"),  # DocType
            _ebml(b"\x42\x87", b"\x04"),  # DocTypeVersion
            _ebml(b"\x42\x85", b"\x02"),  # DocTypeReadVersion
        ]
    )
    ebml = _ebml(b"\x1a\x45\xdf\xa3", header)
    segment = b"\x18\x53\x80\x67" + b"\x01\xff\xff\xff\xff\xff\xff\xff"  # Segment, unknown size
    return ebml + segment + _filler(key, 16_000)


def _fmt_log_time(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S,") + f"{when.microsecond // 1000:03d}"


@lru_cache(maxsize=16)
def _log_text(task_id: str) -> bytes:
    from .seed import get_seed

    task = get_seed().tasks[task_id]
    t = task.started_at or task.created_at
    lines: list[str] = []

    def emit(level: str, logger: str, text: str, advance: float = 0.013) -> None:
        nonlocal t
        t = t + timedelta(seconds=advance)
        lines.append(f"{_fmt_log_time(t)} {level:<8} [{logger}] {text}")

    emit("INFO", "service", f"Task {task.id} created (llm={task.llm})")
    emit("INFO", "agent", f"🚀 Starting task: {task.task}")
    emit("INFO", "browser", "Launching Chromium 131.0.6778.85 (headless=False, viewport=1280x960)")
    emit("DEBUG", "browser", "CDP connected: ws://127.0.0.1:9222/devtools/browser/3f1e7c2a")
    per_step = max(8, -(-400 // max(1, len(task.steps))))
    for step in task.steps:
        emit("INFO", "agent", f"📍 Step {step.number}:", 0.2)
        emit("INFO", "agent", f"  👍 Eval: {step.evaluation_previous_goal}")
        emit("INFO", "agent", f"  🧠 Memory: {step.memory}")
        emit("INFO", "agent", f"  🎯 Next goal: {step.next_goal}")
        for action in step.actions:
            emit("INFO", "tools", f"  ▶️ {action}")
        for j in range(per_step - 4 - len(step.actions)):
            kind = j % 4
            if kind == 0:
                emit(
                    "DEBUG",
                    "dom",
                    f"Found {80 + (step.number * 7 + j) % 140} interactive elements on {step.url}",
                )
            elif kind == 1:
                emit(
                    "DEBUG", "llm", f"Input tokens: {4000 + step.number * 13 % 900}, output tokens: {150 + j}"
                )
            elif kind == 2:
                emit("DEBUG", "network", f"GET {step.url} -> 200 ({20 + j} ms)")
            else:
                emit("DEBUG", "browser", f"Screenshot captured ({SCREENSHOT_SIZE[0]}x{SCREENSHOT_SIZE[1]})")
        if step.evaluation_previous_goal.startswith("Failed"):
            emit(
                "WARNING",
                "agent",
                "⚠️ Previous action did not have the expected effect; retrying differently.",
            )
    if task.is_terminal:
        emit(
            "INFO",
            "agent",
            f"✅ Task finished with status {task.v2_status or task.v1_status}: {task.output}",
            1.0,
        )
        emit("INFO", "browser", "Browser closed.")
    else:
        emit("INFO", "agent", "⏳ Task still running...")
    return ("\n".join(lines) + "\n").encode()


def log_text(task: SeedTask) -> bytes:
    return _log_text(task.id)


@lru_cache(maxsize=8)
def _file_bytes(task_id: str, file: SeedFile) -> bytes:
    if file.kind == "csv":
        rows = [
            "quarter,revenue_usd,orders,avg_order_usd",
            "2025-Q1,412300,5120,80.53",
            "2025-Q2,455120,5511,82.58",
            "2025-Q3,498760,5890,84.68",
            "2025-Q4,530410,6021,88.09",
        ]
        return ("\n".join(rows) + "\n").encode()
    if file.kind == "json":
        data = {
            "year": 2025,
            "currency": "USD",
            "quarters": {"Q1": 412300, "Q2": 455120, "Q3": 498760, "Q4": 530410},
            "total": 1896590,
            "source": "demo.metabase.example.com/dashboard/7-sales",
        }
        return json.dumps(data, indent=2).encode()
    if file.kind == "png":
        img = Image.new("RGB", (400, 300), (255, 255, 255))
        draw = ImageDraw.Draw(img)
        values = [412300, 455120, 498760, 530410]
        for i, value in enumerate(values):
            h = int(value / 600000 * 240)
            draw.rectangle((40 + i * 90, 270 - h, 100 + i * 90, 270), fill=(66, 133, 244))
            draw.text((52 + i * 90, 276), f"Q{i + 1}", fill=(0, 0, 0), font=_font(14))
        draw.text((120, 8), "Revenue 2025", fill=(0, 0, 0), font=_font(18))
        out = io.BytesIO()
        img.save(out, format="PNG")
        return out.getvalue()
    # bigtext: > 2 MB of a plausible export log
    base = datetime(2026, 11, 20, 8, 34, 50)
    parts = []
    i = 0
    size = 0
    while size < BIG_FILE_MIN_BYTES:
        line = (
            f"{base + timedelta(milliseconds=i * 37):%Y-%m-%dT%H:%M:%S.%f} export row={i:07d} "
            f"region={('EMEA', 'AMER', 'APAC')[i % 3]} sku=SKU-{(i * 7919) % 100000:05d} "
            f"amount_usd={(i * 104729) % 99999 / 100:.2f} status=ok\n"
        )
        parts.append(line)
        size += len(line)
        i += 1
    return "".join(parts).encode()


def file_bytes(task: SeedTask, file: SeedFile) -> bytes:
    return _file_bytes(task.id, file)


# --------------------------------------------------------------------------------------
# Registry: media path -> producer
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaEntry:
    content_type: str
    produce: Callable[[], bytes]
    kind: str  # "screenshot" | "gif" | "recording" | "log" | "file"


def prewarm_screenshots(seed: SeedData, task_ids: list[str] | tuple[str, ...]) -> int:
    """Generate (and cache) the screenshots of these tasks now; returns how many."""
    count = 0
    for task_id in task_ids:
        task = seed.tasks[task_id]
        for step in task.screenshot_steps:
            screenshot_png(task.id, step.number, step.url, step.next_goal, _title(task))
            count += 1
    return count


def screenshot_path(task_id: str, step: SeedStep) -> str:
    return f"/media/screenshots/{task_id}/{step.screenshot}"


def gif_path(task_id: str) -> str:
    return f"/media/gifs/{task_id}/execution.gif"


def recording_paths(task_id: str) -> list[str]:
    return [f"/media/recordings/{task_id}/session.mp4", f"/media/recordings/{task_id}/screen.webm"]


def session_recording_path(session_id: str) -> str:
    return f"/media/sessions/{session_id}/recording.mp4"


def log_path(task_id: str) -> str:
    return f"/media/logs/{task_id}/execution.log"


def file_path(task_id: str, name: str) -> str:
    return f"/media/files/{task_id}/{quote(name)}"


def _title(task: SeedTask) -> str:
    return " ".join(task.task.split()[:6])


def build_registry(seed: SeedData) -> dict[str, MediaEntry]:
    registry: dict[str, MediaEntry] = {}
    for task in seed.tasks.values():
        title = _title(task)
        for step in task.screenshot_steps:
            registry[screenshot_path(task.id, step)] = MediaEntry(
                "image/png",
                lambda t=task, s=step, ti=title: screenshot_png(t.id, s.number, s.url, s.next_goal, ti),
                "screenshot",
            )
        if len(task.screenshot_steps) >= 2:
            registry[gif_path(task.id)] = MediaEntry("image/gif", lambda t=task: task_gif(t), "gif")
        if task.v1_recordings:
            mp4, webm = recording_paths(task.id)
            registry[mp4] = MediaEntry("video/mp4", lambda k=mp4: mp4_bytes(k), "recording")
            registry[webm] = MediaEntry("video/webm", lambda k=webm: webm_bytes(k), "recording")
        registry[log_path(task.id)] = MediaEntry(
            "text/plain; charset=utf-8", lambda t=task: log_text(t), "log"
        )
        for f in task.output_files:
            registry[file_path(task.id, f.name)] = MediaEntry(
                f.content_type, lambda t=task, ff=f: file_bytes(t, ff), "file"
            )
    for key, item in [
        *(("v3", s) for s in seed.v3_sessions.values()),
        *(("v4", r) for r in seed.v4_runs.values()),
    ]:
        if item.recorded:
            path = session_recording_path(f"{key}-{item.id}")
            registry[path] = MediaEntry("video/mp4", lambda k=path: mp4_bytes(k), "recording")
    for session in seed.sessions.values():
        if session.recorded:
            path = session_recording_path(session.id)
            registry[path] = MediaEntry("video/mp4", lambda k=path: mp4_bytes(k), "recording")
    return registry
