"""Read reviewer verdicts from a Label Studio JSON export.

Each annotation that is not cancelled (skipped) becomes at most one :class:`ReviewEvent`. The
verdict recorded is what the reviewer did, which can differ from the choice they ticked:

- ``reject`` is a rejection whatever else changed;
- a changed answer or box is an ``edit``, also when the reviewer ticked ``accept`` or nothing;
- ``edit`` ticked with nothing changed is an ``accept``;
- no choice and no change is no verdict (the annotation is counted, not applied).

Every such reinterpretation, a rotated or clipped box, an edit or rejection without a reason
and a new answer outside the expected form (choices, whole number, yes/no) are described in
the event's ``note``. The answer is stored as the reviewer wrote it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from lrsgro.records import ReviewEvent
from lrsgro.review.geometry import Box, boxes_equal, rectangle_to_box
from lrsgro.review.tasks import ANSWER_CONTROL, REASON_CONTROL, ROI_CONTROL, VERDICT_CONTROL, TaskData
from lrsgro.taxonomy import AnswerKind

logger = logging.getLogger(__name__)

VERDICTS = ("accept", "edit", "reject")
REVIEWER_PREFIX = "label-studio-user-"
_RECTANGLE_TYPES = frozenset({"rectanglelabels", "rectangle"})


@dataclass
class TaskReviews:
    """The verdicts on one question in one project (one task, or several if it was duplicated)."""

    qid: str
    data: TaskData
    task_ids: list[int] = field(default_factory=list)
    events: list[ReviewEvent] = field(default_factory=list)
    cancelled: int = 0
    without_verdict: list[int] = field(default_factory=list)


@dataclass
class ParsedExport:
    """The lrsgro tasks of an export, keyed by qid, and what could not be read."""

    project_id: int
    tasks: dict[str, TaskReviews] = field(default_factory=dict)
    foreign_tasks: int = 0
    problems: list[str] = field(default_factory=list)


def parse_export(export: Iterable[dict[str, Any]], project_id: int) -> ParsedExport:
    """Turn the tasks of a JSON export into review events grouped by qid."""
    parsed = ParsedExport(project_id)
    for task in export:
        task_id = int(task["id"])
        try:
            data = TaskData.model_validate(task.get("data") or {})
        except ValidationError:
            parsed.foreign_tasks += 1
            continue

        reviews = parsed.tasks.setdefault(data.qid, TaskReviews(data.qid, data))
        reviews.task_ids.append(task_id)
        for annotation in task.get("annotations") or []:
            if annotation.get("was_cancelled"):
                reviews.cancelled += 1
                continue
            try:
                event = annotation_event(annotation, data, task_id, project_id)
            except ValueError as error:
                parsed.problems.append(f"task {task_id} annotation {annotation.get('id')}: {error}")
                continue
            if event is None:
                reviews.without_verdict.append(int(annotation["id"]))
            else:
                reviews.events.append(event)

    for reviews in parsed.tasks.values():
        reviews.task_ids.sort()
        reviews.events.sort(key=event_order)
    return parsed


def annotation_event(annotation: dict[str, Any], data: TaskData, task_id: int, project_id: int) -> ReviewEvent | None:
    """Return the review event of one annotation, or None when it carries no verdict.

    Raises:
        ValueError: the annotation contains an unknown verdict or a malformed rectangle.
    """
    results = annotation.get("result") or []
    choice = _choice(results)
    if choice is not None and choice not in VERDICTS:
        raise ValueError(f"verdict {choice!r} is not one of {', '.join(VERDICTS)}")

    notes: list[str] = []
    new_answer = _answer(results, data)
    answer_changed = new_answer is not None and new_answer != normalize_answer(data.proposal_answer, data.answer_kind)
    new_roi = _roi(results, data, notes)
    tolerance = 0.5 / min(data.preview_scale)  # half a preview pixel, in full-resolution pixels
    roi_changed = new_roi is not None and not boxes_equal(new_roi, _box(data.proposal_roi), tolerance)

    if choice == "reject":
        verdict = "reject"
    elif answer_changed or roi_changed:
        verdict = "edit"
        if choice != "edit":
            notes.append(
                f"ticked {choice or 'no verdict'} but changed the {_what(answer_changed, roi_changed)}; recorded as edit"
            )
    elif choice == "edit":
        verdict = "accept"
        notes.append("ticked edit but changed neither answer nor box; recorded as accept")
    elif choice == "accept":
        verdict = "accept"
    else:
        return None

    reason = _text(results, REASON_CONTROL)
    if verdict != "accept" and reason is None:
        notes.append(f"{verdict} without a reason")

    editing = verdict == "edit"
    if editing and answer_changed:
        notes.extend(_answer_form_problems(new_answer, data))
    return ReviewEvent(
        verdict=verdict,
        reviewer=_reviewer(annotation.get("completed_by")),
        reviewed_at=str(annotation.get("updated_at") or annotation.get("created_at") or ""),
        task_id=task_id,
        annotation_id=int(annotation["id"]),
        project_id=project_id,
        reason=reason,
        old_answer=data.proposal_answer if editing and answer_changed else None,
        new_answer=new_answer if editing and answer_changed else None,
        old_roi=data.proposal_roi if editing and roi_changed else None,
        new_roi=list(new_roi) if editing and roi_changed else None,
        note="; ".join(notes) or None,
    )


def event_order(event: ReviewEvent) -> tuple:
    """Sort key putting events in the order they were made; ties break on the ids."""
    return (event.reviewed_at, event.project_id or 0, event.task_id or 0, event.annotation_id or 0)


def normalize_answer(text: str, answer_kind: str) -> str:
    """Collapse whitespace; yes/no answers are also lower-cased."""
    answer = " ".join(text.split())
    if answer_kind == AnswerKind.YES_NO.value:
        answer = answer.lower()
    return answer


def _choice(results: list[dict[str, Any]]) -> str | None:
    for item in results:
        if item.get("from_name") == VERDICT_CONTROL:
            choices = (item.get("value") or {}).get("choices") or []
            if choices:
                return str(choices[0])
    return None


def _answer(results: list[dict[str, Any]], data: TaskData) -> str | None:
    # The answer box allows one submission, so an edit replaces the text; should a result still
    # hold several texts, the last one is the reviewer's latest.
    pieces = _texts(results, ANSWER_CONTROL)
    if not pieces:
        return None
    return normalize_answer(pieces[-1], data.answer_kind) or None


def _text(results: list[dict[str, Any]], control: str) -> str | None:
    text = " ".join(" ".join(_texts(results, control)).split())
    return text or None


def _texts(results: list[dict[str, Any]], control: str) -> list[str]:
    pieces: list[str] = []
    for item in results:
        if item.get("from_name") == control:
            value = (item.get("value") or {}).get("text") or []
            pieces.extend(str(piece) for piece in ([value] if isinstance(value, str) else value))
    return [piece for piece in pieces if piece.strip()]


def _answer_form_problems(answer: str, data: TaskData) -> list[str]:
    if data.choices and answer not in data.choices:
        return [f"new answer {answer!r} is not one of the choices {data.choices}"]
    if data.answer_kind == AnswerKind.INTEGER.value and not answer.isdigit():
        return [f"new answer {answer!r} is not a whole number"]
    if data.answer_kind == AnswerKind.YES_NO.value and answer not in ("yes", "no"):
        return [f"new answer {answer!r} is not yes or no"]
    return []


def _roi(results: list[dict[str, Any]], data: TaskData, notes: list[str]) -> Box | None:
    rectangles = [
        item for item in results if item.get("from_name") == ROI_CONTROL and item.get("type") in _RECTANGLE_TYPES
    ]
    if not rectangles:
        return None
    if data.proposal_roi is None:
        notes.append("box drawn on a question without an ROI; ignored")
        return None

    boxes = []
    for rectangle in rectangles:
        pulled = rectangle_to_box(rectangle.get("value") or {}, data.frame)
        if pulled.rotation:
            notes.append(f"box rotated by {pulled.rotation:g} degrees; stored its axis-aligned bounding box")
        if pulled.clipped:
            notes.append("box reached outside the image; clipped to the image")
        boxes.append(pulled.box)

    if len(boxes) > 1:
        notes.append(f"{len(boxes)} boxes drawn; stored the box enclosing all of them")
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _box(values: list[float] | None) -> Box | None:
    return tuple(values) if values is not None else None


def _what(answer_changed: bool, roi_changed: bool) -> str:
    if answer_changed and roi_changed:
        return "answer and box"
    return "answer" if answer_changed else "box"


def _reviewer(completed_by: Any) -> str:
    # The export gives the user id, or a user object in some versions. The id keeps reviewers
    # apart without putting e-mail addresses into a dataset that may be published.
    if isinstance(completed_by, dict):
        completed_by = completed_by.get("id")
    return f"{REVIEWER_PREFIX}{completed_by}" if completed_by is not None else f"{REVIEWER_PREFIX}unknown"
