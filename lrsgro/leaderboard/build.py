"""Write a leaderboard folder from run directories and reported tables.

Layout of the output folder::

    README.md                      every benchmark section, then tables spanning benchmarks
    <benchmark>/README.md          that benchmark's section alone
    <benchmark>/results.csv        one row per run, every aggregate, level and type
    <benchmark>/per_type.png       accuracy per type, one bar per run
    <benchmark>/cost.png           accuracy against tokens and seconds per question

Files of benchmarks that no longer have runs or reported tables are left in place.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lrsgro.errors import InputError
from lrsgro.leaderboard import plots
from lrsgro.leaderboard.layout import ordered_benchmarks
from lrsgro.leaderboard.render import BenchmarkPage, render_csv, render_readme, render_section
from lrsgro.leaderboard.reported import ReportedTable, load_reported
from lrsgro.leaderboard.runs import RunSummary, find_run_dirs, read_run

logger = logging.getLogger(__name__)

README = "README.md"
CSV_FILE = "results.csv"
PER_TYPE_PLOT = "per_type.png"
COST_PLOT = "cost.png"
_BENCHMARK_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


@dataclass(frozen=True)
class LeaderboardResult:
    """The runs and reported tables one build read, and the files it wrote."""

    runs: list[RunSummary]
    reported: list[ReportedTable]
    files: list[Path]


def build_leaderboards(
    run_paths: list[Path],
    out: Path,
    reported_dir: Path | None = None,
    *,
    notes: list[str] | None = None,
    draw_plots: bool = True,
) -> LeaderboardResult:
    """Read runs and reported tables and write the leaderboard folder ``out``.

    ``run_paths`` may name run directories or folders that contain them. ``notes`` are
    printed at the top of the README, one blockquote each.

    Raises:
        InputError: a run or reported table is invalid, two runs share a folder name, or a
            benchmark id cannot be used as a folder name.
    """
    runs = [read_run(folder) for folder in find_run_dirs(run_paths)] if run_paths else []
    _check_unique_ids(runs)
    tables = load_reported(reported_dir) if reported_dir is not None else []
    logger.info("read %d runs and %d reported tables", len(runs), len(tables))

    single = [table for table in tables if len(table.benchmarks) == 1]
    shared = [table for table in tables if len(table.benchmarks) > 1]
    benchmarks = ordered_benchmarks({run.benchmark for run in runs} | {table.benchmarks[0] for table in single})

    written: list[Path] = []
    pages: list[BenchmarkPage] = []
    for benchmark in benchmarks:
        _check_benchmark_id(benchmark)
        benchmark_runs = [run for run in runs if run.benchmark == benchmark]
        page = BenchmarkPage(
            benchmark=benchmark,
            runs=benchmark_runs,
            reported=[table for table in single if table.benchmarks[0] == benchmark],
            csv_path=f"{benchmark}/{CSV_FILE}" if benchmark_runs else None,
            plot_paths=_plot_paths(benchmark) if benchmark_runs and draw_plots else {},
        )
        pages.append(page)
        written += _write_benchmark(out, page)

    readme = out / README
    _write_text(readme, render_readme(pages, shared, notes or []))
    written.append(readme)
    return LeaderboardResult(runs=runs, reported=tables, files=written)


def _write_benchmark(out: Path, page: BenchmarkPage) -> list[Path]:
    folder = out / page.benchmark
    written = []
    if page.csv_path:
        _write_text(out / page.csv_path, render_csv(page.benchmark, page.runs))
        written.append(out / page.csv_path)

    drawers = {PER_TYPE_PLOT: plots.plot_per_type, COST_PLOT: plots.plot_cost}
    for path in page.plot_paths.values():
        target = out / path
        drawers[target.name](page.benchmark, page.runs, target)
        written.append(target)

    section = render_section(page, heading="#", link_prefix="../")
    _write_text(folder / README, "\n".join(section).rstrip("\n") + "\n")
    written.append(folder / README)
    return written


def _plot_paths(benchmark: str) -> dict[str, str]:
    return {
        "Accuracy per question type": f"{benchmark}/{PER_TYPE_PLOT}",
        "Accuracy against cost per question": f"{benchmark}/{COST_PLOT}",
    }


def _check_unique_ids(runs: list[RunSummary]) -> None:
    seen: set[str] = set()
    for run in runs:
        if run.run_id in seen:
            raise InputError(
                f"two run directories are named {run.run_id!r}",
                fix="rename one; the folder name identifies a run in the tables",
            )
        seen.add(run.run_id)


def _check_benchmark_id(benchmark: str) -> None:
    if not _BENCHMARK_ID.match(benchmark):
        raise InputError(
            f"invalid benchmark id {benchmark!r}: it names the output folder",
            fix="use lower-case letters, digits, '.', '_' or '-', as lrsgro eval --benchmark does",
        )


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
        out.write(text)
    os.replace(temp, path)
