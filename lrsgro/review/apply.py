"""Apply pulled verdicts to the questions of a dataset.

Rules for each question that has a task in the project:

- A question without any verdict from the task stays as it is, so a candidate stays a candidate.
- A question that changed after it was pushed, and has no verdict from this task yet, is left
  alone and reported as stale, because its reviewer saw another proposal.
- Review events are keyed by (project, task, annotation, the annotation's ``updated_at``). An
  annotation updated in Label Studio after a pull adds a new event next to the earlier one, so
  ``reviews`` is the full history. An event pulled again replaces its identical earlier copy.
  An event whose annotation was deleted in Label Studio is kept. So a verdict once pulled is
  never lost, and pulling twice changes nothing.
- The **latest** event of the task (by ``updated_at``) sets the answer, ROI, provenance and
  status. It is applied to the proposal stored in the task. ``accept`` restores the proposal.
  ``edit`` replaces the answer and/or ROI and sets provenance ``human``. ``reject`` keeps the
  proposal with status ``rejected``.
- Agreement compares the current verdict of each annotation, so a reviewer who changed their
  own verdict does not disagree with themselves. Disagreements among annotations are reported.
- A question whose newest event comes from another project keeps its state.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from pydantic import BaseModel

from lrsgro.records import Question, ReviewEvent
from lrsgro.review.geometry import to_lrsgro_frame
from lrsgro.review.verdicts import ParsedExport, TaskReviews, event_order

_STATUS = {"accept": "accepted", "edit": "edited", "reject": "rejected"}


class VerdictByReviewer(BaseModel):
    """One reviewer's verdict on a question."""

    reviewer: str
    verdict: str
    reviewed_at: str


class Disagreement(BaseModel):
    """A question reviewed more than once with different verdicts."""

    qid: str
    type: str
    verdicts: list[VerdictByReviewer]
    kept: str


class TypeAgreement(BaseModel):
    """Agreement among reviewers for one question type.

    ``rate`` is the share of questions reviewed more than once whose verdicts all agree.
    """

    type: str
    reviewed_more_than_once: int
    agreeing: int
    rate: float


@dataclass
class ApplyResult:
    """The questions after applying verdicts, and what happened to them."""

    questions: list[Question]
    changed: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    newer_elsewhere: list[str] = field(default_factory=list)
    unknown_qids: list[str] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)
    disagreements: list[Disagreement] = field(default_factory=list)
    agreement: list[TypeAgreement] = field(default_factory=list)


def apply_verdicts(questions: list[Question], parsed: ParsedExport) -> ApplyResult:
    """Return the questions with the project's verdicts applied; the input is not modified."""
    known = {q.qid for q in questions}
    result = ApplyResult(questions=[])
    result.unknown_qids = sorted(qid for qid in parsed.tasks if qid not in known)
    multi: dict[str, list[bool]] = defaultdict(list)

    for question in questions:
        reviews = parsed.tasks.get(question.qid)
        if reviews is None:
            result.questions.append(question)
            continue

        updated = _apply_one(question, reviews, parsed.project_id, result)
        if updated != question:
            result.changed.append(question.qid)
        result.questions.append(updated)

        current = _current_per_annotation(_task_events(updated.reviews, parsed.project_id, reviews.task_ids))
        if len(current) > 1:
            agree = len({e.verdict for e in current}) == 1
            multi[_type_label(question)].append(agree)
            if not agree:
                result.disagreements.append(
                    Disagreement(
                        qid=question.qid,
                        type=_type_label(question),
                        verdicts=[
                            VerdictByReviewer(reviewer=e.reviewer, verdict=e.verdict, reviewed_at=e.reviewed_at)
                            for e in current
                        ],
                        kept=current[-1].verdict,
                    )
                )

    result.agreement = [
        TypeAgreement(type=label, reviewed_more_than_once=len(flags), agreeing=sum(flags), rate=sum(flags) / len(flags))
        for label, flags in sorted(multi.items())
    ]
    return result


def _apply_one(question: Question, reviews: TaskReviews, project_id: int, result: ApplyResult) -> Question:
    task_keys = {(project_id, task_id) for task_id in reviews.task_ids}
    had_task_events = any((e.project_id, e.task_id) in task_keys for e in question.reviews)
    if not reviews.events and not had_task_events:
        return question
    if not had_task_events and not reviews.data.proposal_matches(question):
        result.stale.append(question.qid)
        return question

    pulled = {_key(e) for e in reviews.events}
    merged = [e for e in question.reviews if _key(e) not in pulled] + reviews.events
    merged.sort(key=event_order)
    for event in reviews.events:
        if event.note:
            result.notes.setdefault(question.qid, []).append(f"annotation {event.annotation_id}: {event.note}")

    task_events = _task_events(merged, project_id, reviews.task_ids)
    latest = task_events[-1]
    if merged[-1] is not latest:
        result.newer_elsewhere.append(question.qid)
        return question.model_copy(update={"reviews": merged})

    proposal = reviews.data
    update: dict[str, object] = {
        "reviews": merged,
        "review_status": _STATUS[latest.verdict],
        "answer": proposal.proposal_answer,
        "roi": proposal.proposal_roi,
        "roi_1024": proposal.proposal_roi_1024,
        "provenance": proposal.proposal_provenance,
    }
    if latest.verdict == "edit":
        update["provenance"] = "human"
        if latest.new_answer is not None:
            update["answer"] = latest.new_answer
        if latest.new_roi is not None:
            update["roi"] = latest.new_roi
            update["roi_1024"] = list(
                to_lrsgro_frame(tuple(latest.new_roi), question.image_width, question.image_height)
            )

    # Validate the result the same way a freshly read record is validated.
    return Question.model_validate({**question.model_dump(), **{k: _dump(v) for k, v in update.items()}})


def _task_events(events: list[ReviewEvent], project_id: int, task_ids: list[int]) -> list[ReviewEvent]:
    task_id_set = set(task_ids)
    return [e for e in events if e.project_id == project_id and e.task_id in task_id_set]


def _current_per_annotation(events: list[ReviewEvent]) -> list[ReviewEvent]:
    """Return the latest event of each annotation, in the order of ``events`` (oldest first)."""
    latest = {event.annotation_id: event for event in events}
    return [event for event in events if latest[event.annotation_id] is event]


def _key(event: ReviewEvent) -> tuple[int | None, int | None, int | None, str]:
    return (event.project_id, event.task_id, event.annotation_id, event.reviewed_at)


def _type_label(question: Question) -> str:
    return f"{question.level} / {question.category}"


def _dump(value: object) -> object:
    if isinstance(value, list) and value and isinstance(value[0], ReviewEvent):
        return [event.model_dump() for event in value]
    return value
