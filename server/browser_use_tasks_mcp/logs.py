"""Logging to stderr with secrets redacted and control characters escaped.

stdout belongs to the MCP protocol in stdio mode, so logs only ever go to stderr. A
filter on the handler removes the API key, the HTTP auth token and presigned URL
signatures from every formatted record, whatever logger produced it, and shows control
characters (ANSI escape sequences from an upstream URL, say) as escapes.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

_SIGNED_QUERY = re.compile(
    r"([?&](?:X-Amz-[A-Za-z-]+|Signature|Expires|Key-Pair-Id|Policy|token|sig|se|sp|sv)=)[^&\s\"'<>]*",
    re.IGNORECASE,
)


# C0 controls but newline, DEL, C1 controls, and the bidirectional overrides and isolates
# that reorder how a terminal shows a line.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def escape_controls(text: str) -> str:
    """`text` with control characters shown as escapes (`\\x1b`), so a value from upstream (a
    URL, an error message) cannot colour, move the cursor of, or rewrite the operator's terminal.
    Newlines are kept, so tracebacks stay readable."""
    return _CONTROL.sub(_escape, text)


class RedactingFilter(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s and len(s) >= 4]

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return _SIGNED_QUERY.sub(r"\1[redacted]", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = escape_controls(self.redact(message))
        record.args = None
        if record.exc_text:
            record.exc_text = escape_controls(self.redact(record.exc_text))
        if record.stack_info:
            record.stack_info = escape_controls(self.redact(record.stack_info))
        return True


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper() if level.upper() in logging.getLevelNamesMapping() else "WARNING")
    # httpx-style libraries log full URLs (with signatures) at INFO; keep them quiet.
    for noisy in ("httpx2", "httpcore", "httpcore2", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
