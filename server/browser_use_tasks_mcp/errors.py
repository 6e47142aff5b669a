"""One typed error tree for everything a tool can fail on.

Every error carries a `message` written for the model: what went wrong and what to do
next. Messages are built from parsed fields only, never from a raw upstream body, and
never contain the API key.
"""

from __future__ import annotations


class TasksError(Exception):
    """Base class: a failure that becomes an `isError` tool result."""

    title = "Error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInputError(TasksError):
    """An argument was refused before any request was made."""

    title = "Invalid argument"


class NotConfiguredError(TasksError):
    """The server has no usable source (e.g. the cloud source without an API key)."""

    title = "Not configured"


class NotFoundError(TasksError):
    title = "Not found"


class NoScreenshotError(NotFoundError):
    """The task has no screenshot for that step (as opposed to one that could not be read)."""


class NotAvailableError(TasksError):
    """The thing exists but cannot be had now (running task, GIF with too few frames, …)."""

    title = "Not available"


class LocalRunError(TasksError):
    """A local run folder or history file could not be read."""

    title = "Unreadable run"


class FetchRefusedError(TasksError):
    """The safe fetcher refused a download (scheme, host, size, type, expiry)."""

    title = "Download refused"

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        # A presigned link that has expired: a fresh read of the task gives a fresh one.
        self.expired = expired


class MediaError(TasksError):
    """Bytes were fetched but are not a usable image (corrupt, bomb, wrong type)."""

    title = "Unusable media"


class UpstreamError(TasksError):
    """The Browser Use Cloud API answered with an error or not at all."""

    title = "Browser Use API error"

    def __init__(
        self, message: str, *, status_code: int | None = None, retry_after_s: float | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        # What a Retry-After header asked for, when the API sent one.
        self.retry_after_s = retry_after_s


class AuthenticationError(UpstreamError):
    title = "Authentication failed"


class PermissionDeniedError(UpstreamError):
    title = "Permission denied"


class PaymentRequiredError(UpstreamError):
    title = "Payment required"


class UpstreamValidationError(UpstreamError):
    title = "Request rejected"


class RateLimitError(UpstreamError):
    title = "Rate limited"


class ServerError(UpstreamError):
    title = "Browser Use API unavailable"


class UpstreamTimeoutError(UpstreamError):
    title = "Timed out"


class ConnectionFailedError(UpstreamError):
    title = "Connection failed"


class MalformedResponseError(UpstreamError):
    title = "Malformed response"
