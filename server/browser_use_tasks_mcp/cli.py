"""Command line: serve (the default), `demo`, `check`, and `keep` (its own arguments, in `keep.py`).

Environment variables configure everything; flags override them. In stdio mode
nothing but protocol messages may reach stdout, so all messages go to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.util
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from pydantic import SecretStr

from . import __version__
from .config import ConfigError, Settings, settings_from_env
from .logs import configure_logging


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="browser-use-tasks-mcp",
        description="MCP server to inspect Browser Use agent runs (Cloud API v2, v3, v4, legacy v1, local runs).",
        epilog="Environment: BROWSER_USE_API_KEY, BROWSER_USE_API_VERSION, BROWSER_USE_BASE_URL, "
        "BROWSER_USE_RUNS_DIR, BROWSER_USE_SCREENSHOT_DIRS, BROWSER_USE_SOURCE, BROWSER_USE_TIMEOUT, "
        "BROWSER_USE_CALL_DEADLINE, "
        "BROWSER_USE_MCP_AUTH_TOKEN, BROWSER_USE_MCP_LOG_LEVEL, BROWSER_USE_MCP_HEADER_TIMEOUT, "
        "BROWSER_USE_MCP_IDLE_TIMEOUT, BROWSER_USE_MCP_WORKERS, BROWSER_USE_MCP_STATELESS, "
        "BROWSER_USE_MCP_CACHE_URL, BROWSER_USE_MCP_CLIENT_KEYS, BROWSER_USE_MCP_CACHE_SECRET, "
        "BROWSER_USE_MCP_CPU_PROCESSES. Flags override them.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "command",
        nargs="?",
        default="serve",
        choices=["serve", "demo", "check"],
        help="serve (default): run the MCP server; demo: print what an assistant sees for the runs; "
        "check: verify configuration and connectivity. Also: `keep HISTORY_JSON [--runs-dir DIR] [--name NAME]` "
        "copies a saved browser-use run into its own run folder (see `keep --help`)",
    )
    parser.add_argument("--transport", choices=["stdio", "sse", "streamable-http"], help="default: stdio")
    parser.add_argument("--host", help="HTTP bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="HTTP port (default 8000)")
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING (default), ERROR")
    parser.add_argument(
        "--source", choices=["auto", "cloud", "local"], help="where tasks come from (default auto)"
    )
    parser.add_argument("--runs-dir", type=Path, help="folder of local browser-use runs")
    parser.add_argument(
        "--api-version",
        choices=["auto", "v1", "v2", "v3", "v4"],
        help="Browser Use Cloud API generation (default auto: v4, v3 and v2 with one key; "
        "or the one the base URL ends with)",
    )
    parser.add_argument(
        "--base-url", help="Browser Use Cloud API root (default https://api.browser-use.com), or .../api/vN"
    )
    parser.add_argument("--auth-token", help="bearer token required by the HTTP transports")
    parser.add_argument(
        "--workers",
        type=int,
        help="streamable HTTP: this many worker processes on one port (implies --stateless; default 1)",
    )
    parser.add_argument(
        "--stateless",
        action="store_true",
        default=None,
        help="streamable HTTP without sessions, so any worker behind a load balancer answers any request",
    )
    return parser


def load_settings(argv: Sequence[str] | None = None) -> tuple[str, Settings]:
    args = _parser().parse_args(argv)
    settings = settings_from_env().with_overrides(
        transport=args.transport,
        host=args.host,
        port=args.port,
        log_level=args.log_level.upper() if args.log_level else None,
        source=args.source,
        runs_dir=args.runs_dir.expanduser() if args.runs_dir else None,
        api_version=args.api_version,
        base_url=args.base_url,
        # Kept when blank, so that validation refuses it; a header value never carries the
        # surrounding whitespace, so a token is compared without it.
        auth_token=SecretStr(args.auth_token.strip()) if args.auth_token is not None else None,
        workers=args.workers,
        stateless_http=args.stateless,
    )
    return args.command, settings.validate()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["keep"]:
        from .keep import main as keep_main

        return keep_main(args[1:])
    try:
        command, settings = load_settings(args)
    except ConfigError as exc:
        return _config_error(exc)
    secrets = [
        s.get_secret_value()
        for s in (settings.api_key, settings.auth_token, settings.cache_url)
        if s is not None
    ]
    configure_logging(settings.log_level, secrets)

    if command == "demo":
        from .demo import run_demo

        return run_demo(settings)
    if command == "check":
        from .check import run_check

        problems = settings.problems()
        for problem in problems:  # the server would start, but check's verdict is: not usable
            print(f"browser-use-tasks-mcp: configuration error: {problem}", file=sys.stderr)
        return 2 if problems else run_check(settings)
    return _serve(settings)


def _config_error(exc: ConfigError) -> int:
    print(f"browser-use-tasks-mcp: configuration error: {exc}", file=sys.stderr)
    return 2


def _serve(settings: Settings) -> int:
    with _collector_off():
        from .app import build_server, settle_heap
        from .transports import listen_socket, run

        for problem in settings.problems():
            # The server still starts: every tool then answers with the problem (a host that
            # cannot reach the server only shows "connection closed").
            print(f"browser-use-tasks-mcp: configuration problem: {problem}", file=sys.stderr, flush=True)
        if settings.cache_url is not None and importlib.util.find_spec("redis") is None:
            return _config_error(
                ConfigError("BROWSER_USE_MCP_CACHE_URL needs the `team` extra: pip install -e '.[team]'.")
            )
        sock = None
        if settings.transport != "stdio":
            try:
                sock = listen_socket(settings)
            except ConfigError as exc:
                return _config_error(exc)
        server = None if settings.workers > 1 and sock is not None else build_server(settings)
        if server is not None:
            settle_heap()  # before the collector is back on: see `_collector_off`
    if server is None:
        assert sock is not None  # workers only with an HTTP transport's socket (above)
        from .workers import serve_workers

        _announce(settings)
        return serve_workers(settings, sock)
    if settings.transport != "stdio":
        _announce(settings)
    with contextlib.suppress(KeyboardInterrupt):
        run(server, settings, sock)
    return 0


@contextlib.contextmanager
def _collector_off() -> Iterator[None]:
    """No garbage collection while the SDK and the server are imported and built.

    Nearly every object made then lives as long as the process: the ~230 collections the default
    thresholds would run find almost nothing and cost tens of ms of start-up. `app.settle_heap`
    then freezes what start-up built and turns the collector back on; called after it is back on,
    the first young collection would walk every object of the start-up once more.
    """
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _announce(settings: Settings) -> None:
    """Where an HTTP transport serves, on stderr (stdout may be a protocol pipe)."""
    path = "/sse" if settings.transport == "sse" else "/mcp"
    host = (
        f"[{settings.host}]" if ":" in settings.host and not settings.host.startswith("[") else settings.host
    )
    print(
        f"browser-use-tasks-mcp {__version__}: serving {settings.transport} at "
        f"http://{host}:{settings.port}{path} "
        f"({'auth token required' if settings.auth_token else 'no auth token'}"
        f"{f'; {settings.workers} workers' if settings.workers > 1 else ''}). Ctrl+C stops.",
        file=sys.stderr,
        flush=True,
    )
