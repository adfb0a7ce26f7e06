"""Pull verdicts from Label Studio into a dataset folder without ever losing one.

The order of the steps is what keeps verdicts safe:

1. take ``review/.lock`` so two pulls never interleave on one dataset;
2. save the raw JSON export under ``review/exports/`` (named by its content hash, so an
   unchanged project adds no file) before anything else is touched;
3. apply the verdicts in memory (see :mod:`lrsgro.review.apply`) and check that every question
   is still there;
4. when something changed, copy the current shards to ``review/backups/<time>-project-<id>/``
   and write the new shards with :func:`lrsgro.dataset.write_questions`, which builds them in a
   staging folder and swaps it in. A crash before the swap leaves the old shards in place;
5. regenerate the dataset card (``README.md``), when the folder has one, with the new review
   counts and the reviewer agreement per type.

Nothing is written when nothing changed, so a second pull leaves the folder as it was.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from lrsgro.card import CardInfo, read_card_info, render_card
from lrsgro.dataset import DATA_DIR, read_image_index, read_questions, write_json, write_questions
from lrsgro.errors import DatasetError
from lrsgro.records import Question
from lrsgro.review.apply import ApplyResult, Disagreement, TypeAgreement, apply_verdicts
from lrsgro.review.client import LabelStudioClient
from lrsgro.review.verdicts import ParsedExport, parse_export

logger = logging.getLogger(__name__)

CARD_FILE = "README.md"
EXPORTS_DIR = "review/exports"
BACKUPS_DIR = "review/backups"
LOCK_FILE = "review/.lock"


class PullReport(BaseModel):
    """Summary of one pull: counts, changed questions, problems and reviewer agreement."""

    project_id: int
    tasks: int = Field(description="lrsgro tasks in the project")
    with_verdict: int = Field(description="pushed questions with at least one verdict")
    unreviewed: int = Field(description="pushed questions with no verdict yet")
    verdicts: dict[str, int] = Field(description="latest verdict per question: accept, edit, reject")
    changed: list[str] = Field(description="qids whose record this pull changed")
    stale: list[str] = Field(description="qids changed after push and not yet reviewed in this project; left alone")
    newer_elsewhere: list[str] = Field(description="qids whose newest verdict comes from another project; kept")
    unknown_qids: list[str] = Field(description="qids in the project but not in the dataset")
    foreign_tasks: int = Field(description="tasks without lrsgro task data; ignored")
    cancelled_annotations: int
    annotations_without_verdict: int
    problems: list[str] = Field(description="annotations that could not be read")
    notes: dict[str, list[str]] = Field(
        description="how verdicts were read, per qid (rotated boxes, reinterpreted choices)"
    )
    disagreements: list[Disagreement]
    agreement: list[TypeAgreement]
    written: bool
    backup: str | None = None
    export_file: str


def pull_verdicts(dataset: Path, client: LabelStudioClient, project_id: int) -> PullReport:
    """Apply the project's verdicts to the dataset folder and return what happened.

    Raises:
        DatasetError: the folder is not a dataset, or the result would drop a question.
        InputError: the project does not exist.
        ServiceError: Label Studio failed or rejected the API key.
    """
    dataset = Path(dataset)
    with _locked(dataset):
        export = client.export_tasks(project_id)
        export_file = save_export(dataset, project_id, export)
        questions = read_questions(dataset)
        parsed = parse_export(export, project_id)
        applied = apply_verdicts(questions, parsed)
        _check_nothing_dropped(dataset, questions, applied)

        backup = None
        if applied.changed:
            backup = _backup_shards(dataset, project_id)
            write_questions(dataset, applied.questions)
            _refresh_card(dataset, applied)
            logger.info("pull: %d questions changed; old shards in %s", len(applied.changed), backup)
        return build_report(parsed, applied, written=bool(applied.changed), backup=backup, export_file=export_file)


def save_export(dataset: Path, project_id: int, export: list[dict[str, Any]]) -> str:
    """Save the raw export under ``review/exports``; return its path relative to the dataset."""
    text = json.dumps(export, sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    relative = f"{EXPORTS_DIR}/project-{project_id}-{digest}.json"
    path = dataset / relative
    if not path.is_file():
        write_json(path, export)
    return relative


def build_report(
    parsed: ParsedExport,
    applied: ApplyResult,
    *,
    written: bool,
    backup: str | None,
    export_file: str,
) -> PullReport:
    """Summarise a parsed export and its application."""
    by_qid = {q.qid: q for q in applied.questions}
    verdicts = {"accept": 0, "edit": 0, "reject": 0}
    with_verdict = 0
    for qid, reviews in parsed.tasks.items():
        question = by_qid.get(qid)
        if question is None:
            continue
        events = [
            e for e in question.reviews if e.project_id == parsed.project_id and e.task_id in set(reviews.task_ids)
        ]
        if events:
            with_verdict += 1
            verdicts[events[-1].verdict] += 1
    pushed = sum(1 for qid in parsed.tasks if qid in by_qid)

    return PullReport(
        project_id=parsed.project_id,
        tasks=sum(len(r.task_ids) for r in parsed.tasks.values()),
        with_verdict=with_verdict,
        unreviewed=pushed - with_verdict,
        verdicts=verdicts,
        changed=applied.changed,
        stale=applied.stale,
        newer_elsewhere=applied.newer_elsewhere,
        unknown_qids=applied.unknown_qids,
        foreign_tasks=parsed.foreign_tasks,
        cancelled_annotations=sum(r.cancelled for r in parsed.tasks.values()),
        annotations_without_verdict=sum(len(r.without_verdict) for r in parsed.tasks.values()),
        problems=parsed.problems,
        notes=applied.notes,
        disagreements=applied.disagreements,
        agreement=applied.agreement,
        written=written,
        backup=backup,
        export_file=export_file,
    )


@contextmanager
def _locked(dataset: Path) -> Iterator[None]:
    if not (dataset / DATA_DIR).is_dir():
        raise DatasetError("no data/ folder", path=dataset, fix="pass a folder written by `lrsgro build`")
    lock_path = dataset / LOCK_FILE
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatasetError(
                "another review pull is running on this dataset",
                path=lock_path,
                fix="wait for it to finish, then pull again",
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _refresh_card(dataset: Path, applied: ApplyResult) -> None:
    path = dataset / CARD_FILE
    if not path.is_file():
        return

    info = read_card_info(path.read_text(encoding="utf-8")) or CardInfo()
    agreement = dict(info.review_agreement or {})
    agreement.update({item.type: item.rate for item in applied.agreement})
    info = dataclasses.replace(
        info,
        unreviewed=any(q.review_status == "candidate" for q in applied.questions),
        review_agreement=agreement or None,
    )
    text = render_card(applied.questions, list(read_image_index(dataset).values()), info)

    handle, temp = tempfile.mkstemp(prefix=f".{CARD_FILE}.", dir=dataset)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temp, path)


def _check_nothing_dropped(dataset: Path, before: list[Question], applied: ApplyResult) -> None:
    old = {q.qid for q in before}
    new = {q.qid for q in applied.questions}
    if old != new or len(before) != len(applied.questions):
        missing = ", ".join(sorted(old - new)[:5])
        raise DatasetError(
            f"applying verdicts would change the set of questions (missing: {missing or 'none'}); nothing written",
            path=dataset,
        )


def _backup_shards(dataset: Path, project_id: int) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    relative = f"{BACKUPS_DIR}/{stamp}-project-{project_id}"
    target = dataset / relative / DATA_DIR
    target.mkdir(parents=True)
    for shard in sorted((dataset / DATA_DIR).glob("*.parquet")):
        shutil.copy2(shard, target / shard.name)
    return relative
