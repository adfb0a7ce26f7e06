"""``lrsgro leaderboard``: tables and plots from run logs."""

from __future__ import annotations

from pathlib import Path

import click

from lrsgro.cli.common import console
from lrsgro.leaderboard import build_leaderboards


@click.command()
@click.argument("runs", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("leaderboards"),
    show_default=True,
    help="Folder to write README.md and one folder per benchmark (CSV, PNG plots) into.",
)
@click.option(
    "--reported",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("leaderboards/reported"),
    show_default=True,
    help="Folder of YAML tables copied from papers; a missing folder means none.",
)
@click.option("--note", "notes", multiple=True, help="Text shown as a note at the top of the README; repeat for more.")
@click.option("--no-plots", is_flag=True, help="Write the Markdown and CSV files only, without PNG plots.")
def leaderboard(runs: tuple[Path, ...], out: Path, reported: Path, notes: tuple[str, ...], no_plots: bool) -> None:
    """Write leaderboards from RUNS: run directories of `lrsgro eval`, or folders of them.

    Only the run logs are read; no model is run. Numbers from papers come from the
    --reported folder and are shown apart from the reproduced rows.
    """
    result = build_leaderboards(list(runs), out, reported, notes=list(notes), draw_plots=not no_plots)
    console.print(
        f"{len(result.runs)} runs and {len(result.reported)} reported tables -> {len(result.files)} files in {out}",
        soft_wrap=True,
    )
