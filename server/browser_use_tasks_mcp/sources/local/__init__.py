"""Local runs of the open-source `browser-use` agent: one module per job.

`history` parses and maps a history file; `runs_folder` finds runs, confined to the
folder; `inventory` lists what a run folder holds; `confined` reads one file safely;
`source` ties them into a `TaskSource`.
"""

from .history import map_history
from .source import LocalRunsSource

__all__ = ["LocalRunsSource", "map_history"]
