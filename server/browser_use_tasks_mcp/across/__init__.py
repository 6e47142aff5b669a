"""Across runs: search, statistics and step alignment over many tasks, apart from how they are shown.

`digest.py` reduces a task to what these questions need (kept per task, so a warm scan of thousands
of local runs parses nothing), `scan.py` walks a source's listing within a bound and the call
deadline (`window.py` holds what a scan considers and found, which the result models need at
start-up), `match.py` says why a run matches a search, `stats.py` aggregates and groups failure
signatures, and `align.py` lines up the steps of two runs and finds where they part.
"""
