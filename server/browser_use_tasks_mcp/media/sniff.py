"""What bytes are, from their first bytes only: never trusts names or headers."""

from __future__ import annotations

import codecs
import re

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
