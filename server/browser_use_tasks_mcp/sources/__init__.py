"""The source table: which configuration reads tasks from where.

Each row names a source and how to open it. To add a source, write its module (a
`TaskSource` subclass declaring its `capabilities`) and add one row here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx2

from ..config import Settings
from .base import TaskSource
from .unconfigured import UnconfiguredSource

BUNDLED_NOTICE = (
    "These are the bundled example runs: neither BROWSER_USE_RUNS_DIR nor BROWSER_USE_API_KEY is set. "
    "Set BROWSER_USE_RUNS_DIR to your browser-use runs folder, or BROWSER_USE_API_KEY to read Browser Use "
    "Cloud tasks, and restart the server."
)
KEY_IGNORED_NOTICE = (
    "BROWSER_USE_API_KEY is set but not used: a runs folder (BROWSER_USE_RUNS_DIR or --runs-dir) selects "
    "local runs. To read Browser Use Cloud tasks instead, set BROWSER_USE_SOURCE=cloud and restart."
)


# Each row's module loads when the row is chosen: a server reads one kind of source, and the
# others' parsers and models are start-up time spent for nothing.


def _local(settings: Settings, client: httpx2.AsyncClient) -> TaskSource:
    from ..examples import BUNDLED_RUNS_DIR
    from .local import LocalRunsSource

    if settings.runs_dir is None:
        return LocalRunsSource(BUNDLED_RUNS_DIR, notices=(BUNDLED_NOTICE,))
    notices = (KEY_IGNORED_NOTICE,) if settings.api_key is not None and settings.source == "auto" else ()
    return LocalRunsSource(settings.runs_dir, notices=notices, screenshot_dirs=settings.screenshot_dirs)


def _cloud_v1(settings: Settings, client: httpx2.AsyncClient) -> TaskSource:
    from .cloud_v1 import CloudV1Source

    return CloudV1Source.open(settings, client)


def _cloud_v2(settings: Settings, client: httpx2.AsyncClient) -> TaskSource:
    from .cloud_v2 import CloudV2Source

    return CloudV2Source.open(settings, client)


def _cloud_v3(settings: Settings, client: httpx2.AsyncClient) -> TaskSource:
    from .cloud_v3 import CloudV3Source

    return CloudV3Source.open(settings, client)


def _cloud_v4(settings: Settings, client: httpx2.AsyncClient) -> TaskSource:
    from .cloud_v4 import CloudV4Source

    return CloudV4Source.open(settings, client)


def _cloud_auto(settings: Settings, client: httpx2.AsyncClient) -> TaskSource:
    from .cloud_auto import AutoCloudSource

    return AutoCloudSource.open(settings, client)


@dataclass(frozen=True)
class SourceRow:
    name: str
    #: The Cloud API choice (`BROWSER_USE_API_VERSION`) this row serves; None for local runs.
    api_version: str | None
    open: Callable[[Settings, httpx2.AsyncClient], TaskSource]


SOURCES: tuple[SourceRow, ...] = (
    SourceRow("local", None, _local),
    SourceRow("cloud-v1", "v1", _cloud_v1),
    SourceRow("cloud-v2", "v2", _cloud_v2),
    SourceRow("cloud-v3", "v3", _cloud_v3),
    SourceRow("cloud-v4", "v4", _cloud_v4),
    SourceRow("cloud-auto", "auto", _cloud_auto),
)


def choose(settings: Settings) -> SourceRow | None:
    """The row the settings select; None when they select the cloud but give no key."""
    if settings.effective_source == "local":
        return SOURCES[0]
    if settings.api_key is None:
        return None
    return next(r for r in SOURCES if r.api_version == settings.effective_api_version)


def make_source(settings: Settings, client: httpx2.AsyncClient) -> TaskSource:
    row = choose(settings)
    return UnconfiguredSource() if row is None else row.open(settings, client)


__all__ = ["SOURCES", "SourceRow", "TaskSource", "UnconfiguredSource", "choose", "make_source"]
