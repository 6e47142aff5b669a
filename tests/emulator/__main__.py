"""Run the emulator standalone: ``python -m tests.emulator --port 8765``.

Prints its base URL (e.g. ``http://127.0.0.1:8765``) on one line of stdout, then serves
until interrupted. The socket is listening before the line is printed, so a client may
connect as soon as it reads it.
"""

from __future__ import annotations

import argparse

from .server import DEFAULT_API_KEY, Emulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--url-expires", type=int, default=None, help="expiry (s) of fresh media URLs")
    parser.add_argument(
        "--prewarm", action="store_true", help="render the MANY_TASKS screenshots before serving (~3 s)"
    )
    args = parser.parse_args(argv)
    emulator = Emulator(args.api_key, url_expires=args.url_expires)
    if args.prewarm:
        emulator.prewarm()
    emulator.serve_forever(args.host, args.port)


if __name__ == "__main__":
    main()
