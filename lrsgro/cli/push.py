"""``lrsgro push``: upload a dataset folder to the Hugging Face Hub."""

from __future__ import annotations

from pathlib import Path

import click

from lrsgro.cli.common import console
from lrsgro.publish import PushPlan, check_repo_id, plan_push, push_dataset


@click.command()
@click.argument("dataset", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--repo-id", required=True, help="Hub dataset repository to push to, as ORG/NAME.")
@click.option(
    "--revision",
    default="main",
    show_default=True,
    help="Branch to commit to; a missing branch is created from the default branch.",
)
@click.option("--private", is_flag=True, help="Create the repository as private; an existing one keeps its visibility.")
@click.option(
    "--endpoint",
    default=None,
    metavar="URL",
    help="Hub base URL. Default: the HF_ENDPOINT environment variable, else https://huggingface.co.",
)
@click.option("--dry-run", is_flag=True, help="List each file that would be uploaded with its size in bytes; send nothing.")
@click.option(
    "--allow-unreviewed",
    is_flag=True,
    help="Push even when questions are still 'candidate'; the card then marks the dataset as not fully reviewed.",
)
@click.option(
    "--include-rejected",
    is_flag=True,
    help="Also publish questions whose review status is 'rejected'. Default: leave them out and state how many in the card.",
)
def push(
    dataset: Path,
    repo_id: str,
    revision: str,
    private: bool,
    endpoint: str | None,
    dry_run: bool,
    allow_unreviewed: bool,
    include_rejected: bool,
) -> None:
    """Upload DATASET (a folder written by `lrsgro build`) to a Hub dataset repository.

    Uploaded in one commit: the Parquet shards under data/, the image store (images/index.jsonl
    and every image it lists) and a dataset card (README.md) regenerated from the published
    questions.

    Not uploaded: build_report.json, which can contain paths of the building machine, and
    questions whose review status is 'rejected' unless --include-rejected is given. To leave
    them out, the other questions are written as new shards into a temporary folder; DATASET
    itself is never changed. The card, the dry-run listing and the output state how many
    were left out. Questions still 'candidate' stop the push unless --allow-unreviewed is given.

    The Hub token comes from the HF_TOKEN environment variable, else from the login file that
    `hf auth login` writes (HF_HOME/token by default); lrsgro never prints it.
    """
    check_repo_id(repo_id)
    with plan_push(dataset, allow_unreviewed=allow_unreviewed, include_rejected=include_rejected) as plan:
        if plan.candidates:
            console.print(
                f"[yellow]{plan.candidates} of {plan.questions} questions are not reviewed; the card marks the dataset as not fully reviewed[/]",
                soft_wrap=True,
            )

        if dry_run:
            _print_plan(plan, repo_id, revision)
            return

        if plan.rejected_excluded:
            console.print(_rejected_line(plan), soft_wrap=True)
        with console.status(f"pushing {len(plan.files)} files to {repo_id}@{revision}"):
            result = push_dataset(plan, repo_id, revision=revision, private=private, endpoint=endpoint)

    if not result.changed:
        console.print(f"{repo_id}@{revision} already has all {len(result.unchanged)} files; nothing to commit", soft_wrap=True)
        return
    console.print(
        f"committed {result.commit} to {repo_id}@{revision}: {len(result.uploaded)} files uploaded "
        f"({result.uploaded_bytes} bytes), {len(result.unchanged)} unchanged, {len(result.deleted)} stale files deleted",
        soft_wrap=True,
    )
    console.print(result.url, soft_wrap=True)


def _print_plan(plan: PushPlan, repo_id: str, revision: str) -> None:
    # Plain lines, one file each, so scripts can read the listing; rich would wrap long paths.
    click.echo(f"dry run: would upload to {repo_id}@{revision}")
    click.echo(f"{'bytes':>14}  path in repository")
    for planned in plan.files:
        click.echo(f"{planned.size:>14}  {planned.path_in_repo}")
    click.echo(f"{len(plan.files)} files, {plan.total_bytes} bytes in total; nothing was sent")
    if plan.rejected_excluded:
        click.echo(_rejected_line(plan))


def _rejected_line(plan: PushPlan) -> str:
    return (
        f"{plan.rejected_excluded} rejected questions left out, {plan.questions} published "
        "(pass --include-rejected to publish them too)"
    )
