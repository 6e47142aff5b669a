"""Counters of one server process, served at `/metrics` in Prometheus' text format.

Each worker counts its own calls; Prometheus adds workers up with `sum()`. The `worker` label
(the process id) keeps the series of workers that share one port apart.
"""

from __future__ import annotations

import bisect
import os
from collections import Counter
from collections.abc import Callable

#: Upstream latency buckets, in seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Names are ours (tools, cache kinds) or fixed words; a label value is capped anyway.
_MAX_LABEL = 64


class Metrics:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.cache_events: Counter[tuple[str, str]] = Counter()
        self.coalesced = 0
        self.upstream_counts = [0] * (len(BUCKETS) + 1)
        self.upstream_sum = 0.0
        self.upstream_failures = 0
        #: Read when scraped: counters kept elsewhere (the shared cache's).
        self.collectors: list[Callable[[], dict[str, int]]] = []

    def call(self, tool: str, *, failed: bool) -> None:
        self.calls[tool] += 1
        if failed:
            self.errors[tool] += 1

    def cache(self, kind: str, *, hit: bool) -> None:
        self.cache_events[(kind, "hit" if hit else "miss")] += 1

    def upstream(self, seconds: float, *, failed: bool) -> None:
        self.upstream_counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.upstream_sum += seconds
        if failed:
            self.upstream_failures += 1

    def render(self) -> str:
        worker = f'worker="{os.getpid()}"'
        lines: list[str] = []

        def family(name: str, kind: str, text: str) -> None:
            lines.extend([f"# HELP {name} {text}", f"# TYPE {name} {kind}"])

        family("browser_use_mcp_tool_calls_total", "counter", "Tool calls, by tool.")
        lines += [
            f'browser_use_mcp_tool_calls_total{{tool="{_label(t)}",{worker}}} {n}'
            for t, n in self._sorted(self.calls)
        ]
        family("browser_use_mcp_tool_errors_total", "counter", "Tool calls answered with isError, by tool.")
        lines += [
            f'browser_use_mcp_tool_errors_total{{tool="{_label(t)}",{worker}}} {n}'
            for t, n in self._sorted(self.errors)
        ]
        family("browser_use_mcp_cache_total", "counter", "In-memory cache lookups of tasks, by result.")
        lines += [
            f'browser_use_mcp_cache_total{{kind="{_label(k)}",result="{r}",{worker}}} {n}'
            for (k, r), n in sorted(self.cache_events.items())
        ]
        self._render_shared(lines, worker, family)
        family(
            "browser_use_mcp_coalesced_requests_total",
            "counter",
            "Reads that waited for another's instead of asking upstream.",
        )
        lines.append(
            f"browser_use_mcp_coalesced_requests_total{{{worker}}} {self.coalesced + self._shared('coalesced')}"
        )
        self._render_upstream(lines, worker, family)
        return "\n".join(lines) + "\n"

    def _render_shared(self, lines: list[str], worker: str, family: Callable[[str, str, str], None]) -> None:
        family(
            "browser_use_mcp_shared_cache_total",
            "counter",
            "Shared (Redis) cache reads by result, and its errors.",
        )
        for result in ("hits", "misses", "errors"):
            lines.append(
                f'browser_use_mcp_shared_cache_total{{result="{result}",{worker}}} {self._shared(result)}'
            )

    def _render_upstream(
        self, lines: list[str], worker: str, family: Callable[[str, str, str], None]
    ) -> None:
        family("browser_use_mcp_upstream_seconds", "histogram", "Browser Use API requests, retries included.")
        running = 0
        for bound, count in zip((*map(str, BUCKETS), "+Inf"), self.upstream_counts, strict=True):
            running += count
            lines.append(f'browser_use_mcp_upstream_seconds_bucket{{le="{bound}",{worker}}} {running}')
        lines.append(f"browser_use_mcp_upstream_seconds_sum{{{worker}}} {self.upstream_sum:.6f}")
        lines.append(f"browser_use_mcp_upstream_seconds_count{{{worker}}} {running}")
        family("browser_use_mcp_upstream_failures_total", "counter", "Browser Use API requests that failed.")
        lines.append(f"browser_use_mcp_upstream_failures_total{{{worker}}} {self.upstream_failures}")

    def _shared(self, name: str) -> int:
        return sum(collect().get(name, 0) for collect in self.collectors)

    @staticmethod
    def _sorted(counter: Counter[str]) -> list[tuple[str, int]]:
        return sorted(counter.items())


def _label(value: str) -> str:
    return value[:_MAX_LABEL].replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


#: The process's one set of counters.
METRICS = Metrics()
