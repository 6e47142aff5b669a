"""Text that comes from the web or the agent is data, never instructions.

Task outputs, step memories, page titles and URLs may carry prompt injection. Before
such text reaches a model it is stripped of invisible and bidirectional control
characters, capped, and (for multi-line text) put inside a fence that the text itself
cannot close.
"""

from __future__ import annotations

import re
import unicodedata

# Zero-width characters, bidi embeddings/overrides/isolates, the BOM, soft hyphen,
# the Mongolian vowel separator, and Unicode tag characters (used to smuggle text).
_INVISIBLE = re.compile(
    "[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000e0000-\U000e007f]"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Halves of UTF-16 pairs alone (from JSON escapes, or names decoded with surrogateescape) are not
# text: they cannot be encoded, and a message holding one cannot be sent.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_BACKTICK_RUN = re.compile(r"`+")


def sanitize(text: str) -> str:
    """Drop invisible, bidi and control characters, replace lone surrogates; keep newlines and tabs."""
    text = unicodedata.normalize("NFC", _LONE_SURROGATE.sub("\ufffd", text))
    text = _INVISIBLE.sub("", text)
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


def clean_line(text: str | None, limit: int = 200) -> str:
    """One line of untrusted text, safe to put inline in markdown."""
    if not text:
        return ""
    flat = " ".join(sanitize(text).split())
    return truncate(flat, limit)


def fence(text: str, *, limit: int = 2000, label: str = "untrusted") -> str:
    """A fenced block the content cannot break out of.

    The fence is one backtick longer than the longest backtick run inside the text, so
    no line of the content can close it early.
    """
    body = truncate(sanitize(text).strip("\n"), limit)
    longest = max((len(m) for m in _BACKTICK_RUN.findall(body)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{label}\n{body}\n{ticks}"


_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]<>!#|~])")


def inline(text: str | None, limit: int = 200) -> str:
    """One line of untrusted prose, safe inline in markdown: no emphasis, links, images or HTML."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", clean_line(text, limit))


def code(text: str | None, limit: int = 200) -> str:
    """Untrusted text (a URL, a path, a name) as an inline code span it cannot break out of."""
    flat = clean_line(text, limit)
    if not flat:
        return "``"
    longest = max((len(m) for m in _BACKTICK_RUN.findall(flat)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{ticks}{pad}{flat}{pad}{ticks}"
