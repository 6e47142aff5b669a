"""Benchmarks of browser-use-tasks-mcp against the Cloud API emulator (issue 6, soak: issue 5).

    python -m benchmarks            # the full run (< ~3 min on 2 cores): table to stdout, JSON to results/
    python -m benchmarks --quick    # a smaller run (smoke test)
    python -m benchmarks soak       # 10,000 mixed calls through one session; server RSS growth

Everything is measured as a ratio against a baseline taken in the same run, because
absolute times on a shared machine mean little.
"""
