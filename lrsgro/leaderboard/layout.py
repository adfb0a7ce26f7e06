"""Benchmark titles for leaderboards and the order of their sections and columns.

LRS-GRO columns follow the taxonomy: the three levels, then the 17 types in table order.
Other benchmarks show the levels and categories their run logs report (the adapter takes
them from the benchmark's paper), sorted by name.
"""

from __future__ import annotations

from collections.abc import Iterable

from lrsgro.leaderboard.runs import RunSummary
from lrsgro.taxonomy import LEVELS, QUESTION_TYPES

LRS_GRO = "lrs-gro"
# Known benchmarks in the order their sections appear; others follow, sorted by id.
BENCHMARK_TITLES: dict[str, str] = {
    LRS_GRO: "LRS-GRO",
    "mme-realworld-rs": "MME-RealWorld (remote-sensing subset)",
    "xlrs-bench-lite": "XLRS-Bench (lite)",
    "geollava-8k": "GeoLLaVA-8K",
    "lrs-vqa": "LRS-VQA",
}
BASELINE_ORDER = ("blind", "majority", "random")


def benchmark_title(benchmark: str) -> str:
    return BENCHMARK_TITLES.get(benchmark, benchmark)


def ordered_benchmarks(benchmarks: Iterable[str]) -> list[str]:
    """Sort benchmark ids: known ones in :data:`BENCHMARK_TITLES` order, then the rest by id."""
    known = list(BENCHMARK_TITLES)
    return sorted(set(benchmarks), key=lambda b: (known.index(b) if b in known else len(known), b))


def level_columns(benchmark: str, runs: list[RunSummary]) -> list[str]:
    if benchmark == LRS_GRO:
        extra = sorted({level for run in runs for level in run.per_level} - set(LEVELS))
        return [*LEVELS, *extra]
    return sorted({level for run in runs for level in run.per_level})


def type_rows(benchmark: str, runs: list[RunSummary]) -> list[str]:
    """Return the type keys (``level/category``) to show, one row each."""
    reported = {key for run in runs for key in run.per_type}
    if benchmark == LRS_GRO:
        taxonomy = [f"{t.level}/{t.category}" for t in QUESTION_TYPES]
        return [*taxonomy, *sorted(reported - set(taxonomy))]
    return sorted(reported)


def ordered_runs(runs: list[RunSummary]) -> list[RunSummary]:
    """Sort models by micro accuracy, best first, then baselines: blind, majority, random."""

    def key(run: RunSummary) -> tuple:
        accuracy = run.micro.accuracy
        if run.baseline is None:
            return (0, -(accuracy if accuracy is not None else -1.0), run.run_id)
        return (1 + BASELINE_ORDER.index(run.baseline), -(accuracy or 0.0), run.run_id)

    return sorted(runs, key=key)
