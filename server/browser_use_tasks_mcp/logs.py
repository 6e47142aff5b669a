"""Logging to stderr with secrets redacted.

stdout belongs to the MCP protocol in stdio mode, so logs only ever go to stderr. A
filter on the handler removes the API key, the HTTP auth token and presigned URL
signatures from every formatted record, whatever logger produced it.
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
        record.msg = self.redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
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
