"""Configuration: environment first, command-line flags override.

The API key is held as a `SecretStr` so that printing or logging the settings never
shows it.
"""

from __future__ import annotations

import ipaddress
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import SecretStr

Transport = Literal["stdio", "sse", "streamable-http"]
SourceChoice = Literal["auto", "cloud", "local"]
ApiVersion = Literal["v1", "v2", "v3", "v4"]
API_VERSIONS: tuple[ApiVersion, ...] = ("v1", "v2", "v3", "v4")
#: `auto` reads v4, v3 and v2 with the one key; a version pins one generation.
ApiChoice = Literal["auto", "v1", "v2", "v3", "v4"]

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: The API root; each generation lives under `/api/vN` of it.
DEFAULT_API_ROOT = "https://api.browser-use.com"


class ConfigError(ValueError):
    """A setting is unusable; the message says which and how to fix it."""


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Settings:
    source: SourceChoice = "auto"
    api_key: SecretStr | None = None
    api_version: ApiChoice | None = None  # None: pinned by a base URL ending in /api/vN, else auto
    base_url: str | None = None
    runs_dir: Path | None = None
    # Folders besides the system temp folder where browser-use's agent folders (and their
    # screenshots) may be read from (BROWSER_USE_SCREENSHOT_DIRS, os.pathsep-separated).
    screenshot_dirs: tuple[Path, ...] = ()
    # Per-attempt HTTP timeout, and the budget of a whole tool call (retries included).
    # The call deadline stays well under the 60 s many MCP clients wait for a result.
    request_timeout_s: float = 15.0
    call_deadline_s: float = 40.0
    max_retries: int = 3
    transport: Transport = "stdio"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "WARNING"
    auth_token: SecretStr | None = field(default=None)
    # HTTP transports: seconds a client may take to send a request's headers, seconds a
    # connection may stay idle between requests, and the most open connections.
    http_header_timeout_s: float = 10.0
    http_idle_timeout_s: int = 5
    # Open connections and requests at once; the load test runs 200 concurrent calls on one session.
    http_max_connections: int = 1000
    # A team deployment (docs/deploy.md): worker processes on one port, streamable HTTP without
    # sessions (any worker answers any request), a Redis cache they share, and each user's own key.
    workers: int = 1
    stateless_http: bool = False
    cache_url: SecretStr | None = None
    client_keys: bool = False
    # Image work (previews, GIFs) in this many worker processes instead of threads; 0: threads.
    cpu_processes: int = 0

    @property
    def effective_api_version(self) -> ApiChoice:
        """An explicit version wins; else a base URL ending in `/api/vN` pins vN; else `auto`."""
        if self.api_version and self.api_version != "auto":
            return self.api_version
        pinned = self._url_version()
        return "auto" if pinned is None or self.api_version == "auto" else pinned

    def _url_version(self) -> ApiVersion | None:
        base = (self.base_url or "").rstrip("/")
        return next((v for v in API_VERSIONS if base.endswith(f"/api/{v}")), None)

    @property
    def api_root(self) -> str:
        """The base URL without its `/api/vN`, or the default root."""
        base = (self.base_url or DEFAULT_API_ROOT).rstrip("/")
        pinned = self._url_version()
        return base[: -len(f"/api/{pinned}")] if pinned else base

    def base_url_for(self, version: ApiVersion) -> str:
        """Where one generation lives: the configured URL when it names that generation, else the root's."""
        base = (self.base_url or "").rstrip("/")
        return base if self._url_version() == version else f"{self.api_root}/api/{version}"

    @property
    def effective_base_url(self) -> str:
        version = self.effective_api_version
        return self.api_root if version == "auto" else self.base_url_for(version)

    @property
    def effective_source(self) -> Literal["cloud", "local"]:
        """`auto`: a runs folder means local runs; else a key or a base URL means the cloud; else the
        bundled example runs."""
        if self.source != "auto":
            return self.source
        if self.runs_dir is not None:
            return "local"
        return "cloud" if (self.api_key or self.base_url) else "local"

    def validate(self) -> Settings:
        """Refuse settings that would leak the key or cannot work; return self for chaining."""
        if self.base_url is not None:
            parts = urlsplit(self.base_url)
            if parts.scheme not in ("https", "http") or not parts.hostname:
                raise ConfigError(f"BROWSER_USE_BASE_URL must be an https URL such as {DEFAULT_API_ROOT}.")
            if parts.scheme == "http" and not is_loopback_host(parts.hostname):
                raise ConfigError(
                    "BROWSER_USE_BASE_URL uses plain http to a non-loopback host; the API key would travel "
                    "in clear text. Use https (plain http is accepted only for 127.0.0.1/localhost)."
                )
            if parts.username or parts.password:
                raise ConfigError(
                    "BROWSER_USE_BASE_URL must not contain credentials; use BROWSER_USE_API_KEY."
                )
        if self.api_version is not None and self.api_version not in ("auto", *API_VERSIONS):
            raise ConfigError("BROWSER_USE_API_VERSION must be auto, v1, v2, v3 or v4.")
        timeouts = (self.request_timeout_s, self.call_deadline_s, self.http_header_timeout_s)
        if not all(math.isfinite(t) and t > 0 for t in timeouts) or self.http_idle_timeout_s <= 0:
            raise ConfigError("Timeouts must be positive numbers of seconds.")
        if self.log_level.upper() not in LOG_LEVELS:
            raise ConfigError(
                f"The log level must be one of {', '.join(LOG_LEVELS)}, got {self.log_level!r}."
            )
        if self.auth_token is not None and not self.auth_token.get_secret_value().strip():
            raise ConfigError(
                "The auth token is blank, so no client could ever match it. Set BROWSER_USE_MCP_AUTH_TOKEN "
                "(or --auth-token) to a non-blank secret, or leave it unset and bind 127.0.0.1."
            )
        if self.transport != "stdio" and not is_loopback_host(self.host) and not self.auth_token:
            raise ConfigError(
                f"Refusing to serve HTTP on non-loopback address {self.host} without an auth token. "
                "Set BROWSER_USE_MCP_AUTH_TOKEN (or --auth-token), or bind 127.0.0.1."
            )
        self._validate_team()
        if self.transport != "stdio" and not 1 <= self.port <= 65535:
            raise ConfigError(f"Port {self.port} is out of range: use --port with a number from 1 to 65535.")
        return self

    def _validate_team(self) -> None:
        if not 0 <= self.cpu_processes <= 32:
            raise ConfigError(
                f"BROWSER_USE_MCP_CPU_PROCESSES must be a number from 0 (threads) to 32, got {self.cpu_processes}."
            )
        if not 1 <= self.workers <= 64:
            raise ConfigError(f"--workers must be a number from 1 to 64, got {self.workers}.")
        if self.transport == "stdio" and (self.workers > 1 or self.stateless_http or self.client_keys):
            raise ConfigError(
                "--workers, --stateless and BROWSER_USE_MCP_CLIENT_KEYS apply to the HTTP transports: "
                "add --transport streamable-http."
            )
        if self.workers > 1 and self.transport == "sse":
            raise ConfigError(
                "SSE keeps each client on the worker it connected to, so it cannot be spread over workers: "
                "use --transport streamable-http with --workers."
            )
        if self.cache_url is not None:
            scheme = urlsplit(self.cache_url.get_secret_value()).scheme
            if scheme not in ("redis", "rediss", "unix"):
                raise ConfigError(
                    "BROWSER_USE_MCP_CACHE_URL must be a Redis URL such as redis://127.0.0.1:6379/0 "
                    "(or rediss:// for TLS, unix:// for a socket)."
                )

    @property
    def stateless(self) -> bool:
        """Streamable HTTP without sessions: asked for, or implied by several workers behind one port."""
        return self.stateless_http or self.workers > 1

    def problems(self) -> list[str]:
        """Settings that leave the server unable to answer, but not unable to start: it starts, so the
        client sees each tool answer with the problem instead of a closed connection."""
        if self.effective_source == "local" and self.runs_dir is not None and not self.runs_dir.is_dir():
            return [
                f"The runs folder {self.runs_dir} does not exist or is not a folder. Set BROWSER_USE_RUNS_DIR "
                "(or --runs-dir) to the folder that holds your browser-use run folders."
            ]
        return []

    def with_overrides(self, **changes: object) -> Settings:
        clean = {k: v for k, v in changes.items() if v is not None}
        return replace(self, **clean)  # type: ignore[arg-type]


def _env_float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}.") from None


def settings_from_env(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    key = get("BROWSER_USE_API_KEY")
    token = get("BROWSER_USE_MCP_AUTH_TOKEN")
    if token is None and env.get("BROWSER_USE_MCP_AUTH_TOKEN"):  # set, but only to blanks
        token = env["BROWSER_USE_MCP_AUTH_TOKEN"]
    runs = get("BROWSER_USE_RUNS_DIR")
    source = (get("BROWSER_USE_SOURCE") or "auto").lower()
    if source not in ("auto", "cloud", "local"):
        raise ConfigError("BROWSER_USE_SOURCE must be auto, cloud or local.")
    version = get("BROWSER_USE_API_VERSION")
    shot_dirs = tuple(
        Path(part.strip()).expanduser()
        for part in (get("BROWSER_USE_SCREENSHOT_DIRS") or "").split(os.pathsep)
        if part.strip()
    )
    return Settings(
        source=source,  # type: ignore[arg-type]
        api_key=SecretStr(key) if key else None,
        api_version=version.lower() if version else None,  # type: ignore[arg-type]
        base_url=get("BROWSER_USE_BASE_URL"),
        runs_dir=Path(runs).expanduser() if runs else None,
        screenshot_dirs=shot_dirs,
        request_timeout_s=_env_float(env, "BROWSER_USE_TIMEOUT", 15.0),
        call_deadline_s=_env_float(env, "BROWSER_USE_CALL_DEADLINE", 40.0),
        log_level=(get("BROWSER_USE_MCP_LOG_LEVEL") or "WARNING").upper(),
        http_header_timeout_s=_env_float(env, "BROWSER_USE_MCP_HEADER_TIMEOUT", 10.0),
        http_idle_timeout_s=max(1, round(_env_float(env, "BROWSER_USE_MCP_IDLE_TIMEOUT", 5.0))),
        auth_token=SecretStr(token) if token is not None else None,
        workers=_env_int(env, "BROWSER_USE_MCP_WORKERS", 1),
        stateless_http=_env_flag(env, "BROWSER_USE_MCP_STATELESS"),
        cache_url=SecretStr(cache) if (cache := get("BROWSER_USE_MCP_CACHE_URL")) else None,
        client_keys=_env_flag(env, "BROWSER_USE_MCP_CLIENT_KEYS"),
        cpu_processes=_env_int(env, "BROWSER_USE_MCP_CPU_PROCESSES", 0),
    )


def _env_int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}.") from None


def _env_flag(env: dict[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name} must be 1 or 0 (true or false), got {raw!r}.")
