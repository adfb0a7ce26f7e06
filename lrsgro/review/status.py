"""Review progress of a project: counts per type and verdict, and the answer balance after review.

Status reads the project's export and applies it in memory exactly as pull would, so its
numbers describe the dataset as it will be after the next pull. It writes nothing.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from pydantic import BaseModel, Field

from lrsgro.dataset import read_questions
from lrsgro.records import Question
from lrsgro.review.apply import TypeAgreement, apply_verdicts
from lrsgro.review.client import LabelStudioClient
from lrsgro.review.verdicts import parse_export
from lrsgro.taxonomy import QUESTION_TYPES, AnswerKind, find_type

TOP_ANSWERS = 5
STATUSES = ("candidate", "accepted", "edited", "rejected")


class TypeStatus(BaseModel):
    """Counts and answer balance of one question type among the questions in the project."""

    type: str
    answer_kind: str
    counts: dict[str, int] = Field(description="questions per review status: candidate, accepted, edited, rejected")
    kept: int = Field(description="accepted plus edited")
    yes_share: float | None = Field(default=None, description="share of 'yes' among kept yes/no answers")
    answers: dict[str, int] = Field(default_factory=dict, description=f"the {TOP_ANSWERS} most frequent kept answers")
    other_answers: int = Field(default=0, description="kept answers outside the most frequent ones")


class StatusReport(BaseModel):
    """Review progress of one project against one dataset."""

    project_id: int
    questions_in_project: int
    not_pulled: int = Field(description="questions the next pull would change")
    totals: dict[str, int]
    types: list[TypeStatus]
    agreement: list[TypeAgreement]
    unknown_qids: int


def review_status(dataset: Path, client: LabelStudioClient, project_id: int) -> StatusReport:
    """Return the project's review progress as it will look after pulling."""
    questions = read_questions(dataset)
    parsed = parse_export(client.export_tasks(project_id), project_id)
    applied = apply_verdicts(questions, parsed)
    in_project = [q for q in applied.questions if q.qid in parsed.tasks]
    return StatusReport(
        project_id=project_id,
        questions_in_project=len(in_project),
        not_pulled=len(applied.changed),
        totals={status: sum(q.review_status == status for q in in_project) for status in STATUSES},
        types=summarize_types(in_project),
        agreement=applied.agreement,
        unknown_qids=len(applied.unknown_qids),
    )


def summarize_types(questions: list[Question]) -> list[TypeStatus]:
    """Count statuses and kept answers per type, in taxonomy order, then unknown types."""
    groups: dict[tuple[str, str], list[Question]] = {}
    for question in questions:
        groups.setdefault((question.level, question.category), []).append(question)
    order = [t.key for t in QUESTION_TYPES if t.key in groups] + sorted(k for k in groups if find_type(*k) is None)

    summaries = []
    for key in order:
        members = groups[key]
        kept = [q for q in members if q.review_status in ("accepted", "edited")]
        kind = members[0].answer_kind.value
        answers = Counter(q.answer for q in kept)
        top = dict(answers.most_common(TOP_ANSWERS))
        summary = TypeStatus(
            type=f"{key[0]} / {key[1]}",
            answer_kind=kind,
            counts={status: sum(q.review_status == status for q in members) for status in STATUSES},
            kept=len(kept),
            answers=top,
            other_answers=len(kept) - sum(top.values()),
        )
        if kind == AnswerKind.YES_NO.value and kept:
            summary.yes_share = sum(q.answer.strip().lower() == "yes" for q in kept) / len(kept)
        summaries.append(summary)
    return summaries
