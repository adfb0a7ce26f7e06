"""``lrsgro validate``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape

from lrsgro.cli.common import console
from lrsgro.validate import validate_dataset


@click.command()
@click.argument("dataset", type=click.Path(exists=True, file_okay=False, path_type=Path))
def validate(dataset: Path) -> None:
    """Check a dataset folder written by `lrsgro build` (or by review pull).

    Checks the question schema, unique ids, known types, ROI boxes inside their image, the
    image store, image-disjoint splits, questions repeated across splits and the yes/no
    balance per type. Exits with status 0 when the dataset is valid and 1 when it is not,
    listing every problem.
    """
    report = validate_dataset(dataset)
    console.print(f"{dataset}: {report.questions} questions on {report.images} images")
    if report.ok:
        console.print("[green]valid[/]")
        return
    for problem in report.problems:
        console.print(f"[red]problem:[/] {escape(problem)}", highlight=False)
    console.print(f"[red]invalid[/]: {len(report.problems)} problems")
    sys.exit(1)
