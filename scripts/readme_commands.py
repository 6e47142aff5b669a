"""Print or run the README's quick-start commands, exactly as a newcomer would type them.

The commands sit in ```bash blocks between `<!-- quickstart:begin -->` and
`<!-- quickstart:end -->` in README.md. CI runs them with this script, so the README
cannot drift from what works.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def quickstart_commands(text: str) -> list[str]:
    match = re.search(r"<!-- quickstart:begin -->(.*?)<!-- quickstart:end -->", text, re.S)
    if not match:
        raise SystemExit("README.md has no quickstart block")
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", match.group(1), re.S)]


def main() -> int:
    commands = quickstart_commands(README.read_text(encoding="utf-8"))
    if sys.argv[1:] == ["list"]:
        print("\n".join(commands))
        return 0
    for number, command in enumerate(commands, 1):
        print(f"--- README command {number}: {command}", flush=True)
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=README.parent, check=False)  # noqa: S603,S607
        if result.returncode != 0:
            print(f"--- README command {number} failed with exit code {result.returncode}", flush=True)
            return result.returncode
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
