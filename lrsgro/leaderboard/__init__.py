"""Leaderboards from evaluation run logs, with numbers reported in papers kept apart.

:func:`build_leaderboards` reads run directories (never re-running a model) and the YAML
tables under ``reported/``, then writes Markdown, CSV and PNG files per benchmark.
"""

from lrsgro.leaderboard.build import LeaderboardResult, build_leaderboards
from lrsgro.leaderboard.reported import ReportedTable, load_reported
from lrsgro.leaderboard.runs import RunSummary, find_run_dirs, read_run

__all__ = [
    "LeaderboardResult",
    "ReportedTable",
    "RunSummary",
    "build_leaderboards",
    "find_run_dirs",
    "load_reported",
    "read_run",
]
