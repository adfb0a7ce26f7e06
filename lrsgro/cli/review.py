"""``lrsgro review push|pull|status``: human review of candidate questions in Label Studio.

The API key comes only from the ``LABEL_STUDIO_API_KEY`` environment variable.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import click
from rich.table import Table

from lrsgro.cli.common import console, progress_callback
from lrsgro.review import (
    ImageServing,
    LabelStudioClient,
    PullReport,
    RenderSettings,
    StatusReport,
    parse_review_filters,
    pull_verdicts,
    push_questions,
    review_status,
)
from lrsgro.review.previews import CROP_MAX_SIDE, PREVIEW_MAX_SIDE

_DATASET = click.argument("dataset", type=click.Path(exists=True, file_okay=False, path_type=Path))
_URL = click.option(
    "--url", required=True, metavar="URL", help="Base URL of the Label Studio server, e.g. http://127.0.0.1:8080."
)
_PROJECT_ID = click.option(
    "--project",
    "project_id",
    required=True,
    type=int,
    metavar="ID",
    help="Label Studio project id, as printed by `review push`.",
)
_JSON = click.option("--json", "as_json", is_flag=True, help="Print the report as JSON instead of tables.")


@click.group()
def review() -> None:
    """Review candidate questions in Label Studio (API key from LABEL_STUDIO_API_KEY)."""


@review.command()
@_DATASET
@_URL
@click.option(
    "--project",
    "project_title",
    default=None,
    metavar="NAME",
    help="Project title; created when missing. Default: 'lrsgro review: <dataset folder name>'.",
)
@click.option(
    "--filter",
    "filters",
    multiple=True,
    metavar="KEY=VALUE[,VALUE]",
    help="Push only matching questions; keys: status, level, category, split, provenance, image. Repeat to combine. "
    "status=candidate is added unless one of them filters on status (status=candidate,accepted pushes accepted questions too).",
)
@click.option(
    "--images-url-root",
    default=None,
    metavar="URL",
    help="URL that serves --images-dir; use it when Label Studio cannot read the files itself.",
)
@click.option(
    "--local-files-root",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=["LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT", "LOCAL_FILES_DOCUMENT_ROOT"],
    default=None,
    help="The server's LOCAL_FILES_DOCUMENT_ROOT, for serving images through local-files storage (default: that environment variable). Ignored with --images-url-root.",
)
@click.option(
    "--images-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for previews and crops. Default: DATASET/review/images.",
)
@click.option(
    "--preview-max-side",
    type=click.IntRange(min=64),
    default=PREVIEW_MAX_SIDE,
    show_default=True,
    help="Long side of the whole-image preview, in pixels.",
)
@click.option(
    "--crop-max-side",
    type=click.IntRange(min=64),
    default=CROP_MAX_SIDE,
    show_default=True,
    help="Long side of the ROI crop, in pixels; larger windows are downsampled.",
)
@click.option(
    "--reviews-per-task",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Reviewers per task in a new project (Label Studio's overlap), for measuring agreement.",
)
@_JSON
def push(
    dataset: Path,
    url: str,
    project_title: str | None,
    filters: tuple[str, ...],
    images_url_root: str | None,
    local_files_root: Path | None,
    images_dir: Path | None,
    preview_max_side: int,
    crop_max_side: int,
    reviews_per_task: int,
    as_json: bool,
) -> None:
    """Create one review task per selected question of DATASET; repeating it adds no duplicates.

    The API key is read from the LABEL_STUDIO_API_KEY environment variable.
    """
    serving = ImageServing(
        images_dir=images_dir or dataset / "review" / "images",
        local_files_root=None if images_url_root else local_files_root,
        images_url_root=images_url_root,
    )
    settings = RenderSettings(preview_max_side=preview_max_side, crop_max_side=crop_max_side)
    title = project_title or f"lrsgro review: {dataset.resolve().name}"

    with LabelStudioClient.from_env(url) as client, ExitStack() as bars:
        report = push_questions(
            dataset,
            client,
            project_title=title,
            filters=parse_review_filters(filters),
            serving=serving,
            settings=settings,
            reviews_per_task=reviews_per_task,
            progress=None if as_json else _render_progress(bars),
        )

    if as_json:
        click.echo(report.model_dump_json(indent=2))
        return
    state = "created" if report.project_created else "existing"
    console.print(f"project {report.project_id} ({state}): {report.project_title}  {report.project_url}")
    console.print(
        f"{report.selected} questions selected, {report.created} tasks created, {report.already_present} already in the project"
    )
    if report.changed_since_push:
        console.print(
            f"[yellow]{len(report.changed_since_push)} questions changed after their task was made; their tasks were kept as they are[/]"
        )
    if report.duplicate_tasks:
        console.print(
            f"[yellow]{len(report.duplicate_tasks)} questions have more than one task; pull merges their verdicts[/]"
        )


@review.command()
@_DATASET
@_URL
@_PROJECT_ID
@_JSON
def pull(dataset: Path, url: str, project_id: int, as_json: bool) -> None:
    """Apply the project's accept / edit / reject verdicts to DATASET (safe to repeat).

    The API key is read from the LABEL_STUDIO_API_KEY environment variable.
    """
    with LabelStudioClient.from_env(url) as client:
        report = pull_verdicts(dataset, client, project_id)

    if as_json:
        click.echo(report.model_dump_json(indent=2))
        return
    _print_pull(report)


@review.command()
@_DATASET
@_URL
@_PROJECT_ID
@_JSON
def status(dataset: Path, url: str, project_id: int, as_json: bool) -> None:
    """Show verdicts per type and the answer balance after review; writes nothing.

    The API key is read from the LABEL_STUDIO_API_KEY environment variable.
    """
    with LabelStudioClient.from_env(url) as client:
        report = review_status(dataset, client, project_id)

    if as_json:
        click.echo(report.model_dump_json(indent=2))
        return
    _print_status(report)


def _render_progress(bars: ExitStack) -> Callable[[int, int], None]:
    # One rich bar, started at the first rendered image, so a push with nothing to render
    # prints no bar. Off a terminal, rich prints the bar once, when it stops.
    update: Callable[[str, int, int], None] | None = None
    rendered = 0

    def advance(done: int, total: int) -> None:
        nonlocal update, rendered
        if update is None:
            update = bars.enter_context(progress_callback())
        rendered += done
        update("rendering review images", rendered, total)

    return advance


def _print_pull(report: PullReport) -> None:
    verdicts = ", ".join(f"{count} {name}" for name, count in report.verdicts.items())
    console.print(
        f"project {report.project_id}: {report.tasks} tasks, {report.with_verdict} reviewed ({verdicts}), {report.unreviewed} not reviewed yet"
    )
    if report.written:
        console.print(f"{len(report.changed)} questions updated; previous shards saved in {report.backup}")
    else:
        console.print("dataset already up to date; nothing written")
    console.print(f"export saved as {report.export_file}")

    for qid, notes in sorted(report.notes.items()):
        for note in notes:
            console.print(f"  {qid}: {note}", highlight=False)
    if report.stale:
        console.print(
            f"[yellow]{len(report.stale)} questions changed after push and were left alone; push them to a new project: {', '.join(report.stale[:10])}[/]"
        )
    if report.unknown_qids:
        console.print(f"[yellow]{len(report.unknown_qids)} tasks name questions not in this dataset[/]")
    if report.problems:
        console.print(f"[red]{len(report.problems)} annotations could not be read:[/]")
        for problem in report.problems[:20]:
            console.print(f"  {problem}", highlight=False)
    if report.disagreements:
        console.print(f"{len(report.disagreements)} questions have conflicting verdicts; the latest verdict is kept")
        _print_agreement(report.agreement)


def _print_status(report: StatusReport) -> None:
    totals = ", ".join(f"{count} {name}" for name, count in report.totals.items())
    console.print(
        f"project {report.project_id}: {report.questions_in_project} questions ({totals}); {report.not_pulled} not pulled yet"
    )

    table = Table(title="Verdicts and answer balance per type (after review)")
    for column in ("type", "candidate", "accepted", "edited", "rejected", "balance of kept answers"):
        table.add_column(column)
    for item in report.types:
        if item.yes_share is not None:
            balance = f"yes {item.yes_share:.0%} / no {1 - item.yes_share:.0%}"
        else:
            balance = ", ".join(f"{answer}: {count}" for answer, count in item.answers.items())
            if item.other_answers:
                balance += f", other: {item.other_answers}"
        table.add_row(
            item.type, *(str(item.counts[s]) for s in ("candidate", "accepted", "edited", "rejected")), balance
        )
    console.print(table)
    _print_agreement(report.agreement)


def _print_agreement(agreement: list) -> None:
    if not agreement:
        return
    table = Table(title="Reviewer agreement (questions reviewed more than once)")
    for column in ("type", "reviewed twice or more", "agreeing", "rate"):
        table.add_column(column)
    for item in agreement:
        table.add_row(item.type, str(item.reviewed_more_than_once), str(item.agreeing), f"{item.rate:.0%}")
    console.print(table)
