"""`browser-use-tasks-mcp keep HISTORY_JSON`: make a self-contained run folder from a saved history.

browser-use leaves a run's pieces in several places: the history where `save_history()` wrote it,
screenshots in its temp folder (`<temp>/browser_use_agent_<id>_<time>/screenshots/step_N.png`),
the GIF in the working folder, conversation logs and videos where the script said, and the
agent's own files in `browseruse_agent_data/`. This command copies what it finds into one folder
below the runs folder, rewrites each `state.screenshot_path` to the copied file, and says what
it could not find. It never changes or deletes the originals.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEFAULT_RUNS_DIR = Path("browser-use-runs")
HISTORY_NAME = "AgentHistory.json"
GIF_NAME = "agent_history.gif"
AGENT_DATA = "browseruse_agent_data"
_VIDEO_SUFFIXES = {".mp4", ".webm"}
_UNSAFE_NAME = re.compile(r"[\\/\x00-\x1f%]|^\.+")


@dataclass
class Kept:
    folder: Path
    copied: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="browser-use-tasks-mcp keep",
        description="Copy a saved browser-use history and everything it refers to (screenshots from the "
        "agent's temp folder, GIF, conversation logs, videos, agent files) into one run folder.",
    )
    parser.add_argument(
        "history", type=Path, metavar="HISTORY_JSON", help="the file agent.save_history() wrote"
    )
    parser.add_argument(
        "--runs-dir",
        type=Path,
        help=f"where the run folder goes (default: BROWSER_USE_RUNS_DIR, else ./{DEFAULT_RUNS_DIR})",
    )
    parser.add_argument(
        "--name", help="the run folder's name (default: from the history's file name or time)"
    )
    parser.add_argument("--gif", type=Path, help=f"the GIF (default: {GIF_NAME} next to the history)")
    parser.add_argument(
        "--conversation",
        type=Path,
        help="the save_conversation_path folder (default: conversation/ next to the history)",
    )
    parser.add_argument(
        "--video-dir", type=Path, help="the record_video_dir folder (default: video/ next to it)"
    )
    parser.add_argument(
        "--agent-files",
        type=Path,
        help=f"the agent's {AGENT_DATA}/ folder (default: next to the history, else in the agent's temp folder)",
    )
    return parser


def _load(history: Path) -> dict[str, Any]:
    data = json.loads(history.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("history"), list):
        raise ValueError(f'{history} is not a browser-use history (expected {{"history": [...]}})')
    return data


def _default_name(history: Path, data: dict[str, Any]) -> str:
    if history.stem not in {"AgentHistory", "agent_history", "history"}:
        return history.stem
    for item in data["history"]:
        start = (item.get("metadata") or {}).get("step_start_time") if isinstance(item, dict) else None
        if isinstance(start, int | float) and not isinstance(start, bool):
            try:
                return "run-" + datetime.fromtimestamp(start, tz=UTC).strftime("%Y%m%d-%H%M%S")
            except (OverflowError, OSError, ValueError):
                break
    return "run-" + datetime.now(tz=UTC).strftime("%Y%m%d-%H%M%S")


def _fresh_folder(runs_dir: Path, name: str) -> Path:
    clean = _UNSAFE_NAME.sub("_", name.strip()) or "run"
    folder = runs_dir / clean
    number = 2
    while folder.exists():
        folder = runs_dir / f"{clean}-{number}"
        number += 1
    folder.mkdir(parents=True)
    return folder


def _copy_tree(source: Path, target: Path) -> None:
    shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)


def keep(
    history: Path,
    runs_dir: Path,
    name: str | None = None,
    *,
    gif: Path | None = None,
    conversation: Path | None = None,
    video_dir: Path | None = None,
    agent_files: Path | None = None,
) -> Kept:
    """Write the run folder; raise OSError or ValueError when the history itself cannot be read."""
    data = _load(history)
    folder = _fresh_folder(runs_dir, name or _default_name(history, data))
    kept = Kept(folder)
    beside = history.parent
    agent_folders = _keep_screenshots(data, folder, kept)
    _keep_gif(gif or beside / GIF_NAME, folder, kept)
    _keep_conversations(conversation, beside, folder, kept)
    _keep_videos(video_dir or beside / "video", folder, kept)
    candidates = (
        [agent_files] if agent_files else [beside / AGENT_DATA, *(a / AGENT_DATA for a in agent_folders)]
    )
    _keep_agent_files(candidates, folder, kept)
    (folder / HISTORY_NAME).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return kept


def _keep_screenshots(data: dict[str, Any], folder: Path, kept: Kept) -> list[Path]:
    """Copy each recorded screenshot and point the history at the copy; return the agent folders seen."""
    agent_folders: list[Path] = []
    for index, item in enumerate(data["history"]):
        state = item.get("state") if isinstance(item, dict) else None
        ref = state.get("screenshot_path") if isinstance(state, dict) else None
        if not isinstance(state, dict) or not isinstance(ref, str) or not ref:
            continue
        source = Path(ref)
        if source.parent.name == "screenshots" and source.parent.parent not in agent_folders:
            agent_folders.append(source.parent.parent)
        target = folder / "screenshots" / (source.name or f"step_{index + 1}.png")
        if source.is_file():
            target.parent.mkdir(exist_ok=True)
            shutil.copyfile(source, target)
            state["screenshot_path"] = str(target.resolve())
            kept.copied.append(f"screenshots/{target.name}")
        else:
            kept.missing.append(f"screenshot {ref}")
    return agent_folders


def _keep_gif(source: Path, folder: Path, kept: Kept) -> None:
    if source.is_file():
        shutil.copyfile(source, folder / GIF_NAME)
        kept.copied.append(GIF_NAME)
    else:
        kept.missing.append(f"GIF {source}")


def _keep_conversations(given: Path | None, beside: Path, folder: Path, kept: Kept) -> None:
    conv = given or beside / "conversation"
    if conv.is_dir():
        _copy_tree(conv, folder / "conversation")
        kept.copied.append("conversation/")
        return
    files: list[Path] = []
    if given is not None and conv.parent.is_dir():  # a file prefix, as save_conversation_path takes
        files = [f for f in sorted(conv.parent.glob(f"{conv.name}*")) if f.is_file()]
        for file in files:
            (folder / "conversation").mkdir(exist_ok=True)
            shutil.copyfile(file, folder / "conversation" / file.name)
    if files:
        kept.copied.append("conversation/")
    else:
        kept.missing.append(f"conversation logs {conv}")


def _keep_videos(videos: Path, folder: Path, kept: Kept) -> None:
    found = (
        [p for p in sorted(videos.iterdir()) if p.suffix.lower() in _VIDEO_SUFFIXES and p.is_file()]
        if videos.is_dir()
        else []
    )
    if not found:
        kept.missing.append(f"videos in {videos}")
        return
    (folder / "video").mkdir()
    for video in found:
        shutil.copyfile(video, folder / "video" / video.name)
    kept.copied.append("video/")


def _keep_agent_files(candidates: Sequence[Path | None], folder: Path, kept: Kept) -> None:
    data_folder = next((c for c in candidates if c is not None and c.is_dir()), None)
    if data_folder is None:
        kept.missing.append(f"agent files ({AGENT_DATA}/)")
        return
    _copy_tree(data_folder, folder / AGENT_DATA)
    kept.copied.append(f"{AGENT_DATA}/")


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    env_runs = os.environ.get("BROWSER_USE_RUNS_DIR", "").strip()
    runs_dir = (args.runs_dir or (Path(env_runs) if env_runs else DEFAULT_RUNS_DIR)).expanduser()
    try:
        kept = keep(
            args.history.expanduser(),
            runs_dir,
            args.name,
            gif=args.gif,
            conversation=args.conversation,
            video_dir=args.video_dir,
            agent_files=args.agent_files,
        )
    except (OSError, ValueError) as exc:  # json.JSONDecodeError is a ValueError
        print(f"browser-use-tasks-mcp keep: cannot keep {args.history}: {exc}", file=sys.stderr)
        return 1
    print(f"Kept the run in {kept.folder.resolve()}")
    print(f"Copied: {HISTORY_NAME}" + "".join(f", {c}" for c in _summarised(kept.copied)))
    for missing in kept.missing:
        print(f"Not found: {missing}")
    return 0


def _summarised(copied: list[str]) -> list[str]:
    shots = [c for c in copied if c.startswith("screenshots/")]
    rest = [c for c in copied if not c.startswith("screenshots/")]
    return ([f"{len(shots)} screenshot(s)"] if shots else []) + rest
