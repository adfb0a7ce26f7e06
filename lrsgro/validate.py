"""``lrsgro validate``: check a dataset folder before review, push or evaluation."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from lrsgro.dataset import read_image_index, read_questions
from lrsgro.errors import DatasetError
from lrsgro.records import Question
from lrsgro.taxonomy import AnswerKind, find_type

# A yes/no type is unbalanced when either answer falls below this share of its questions.
MIN_YES_NO_SHARE = 0.4
MAX_LISTED = 20


@dataclass
class ValidationReport:
    """Problems found in a dataset; ``ok`` when there are none."""

    questions: int = 0
    images: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def validate_dataset(folder: str | Path) -> ValidationReport:
    """Check schema, unique ids, image-disjoint splits, answer balance and the image store.

    Raises:
        DatasetError: when the folder cannot be read at all (no shards, no image index).
    """
    folder = Path(folder)
    report = ValidationReport()
    try:
        questions = read_questions(folder)
    except DatasetError as error:
        report.problems.append(str(error))
        return report
    images = read_image_index(folder)
    report.questions, report.images = len(questions), len(images)

    _check_ids(questions, report)
    _check_types(questions, report)
    _check_images(folder, questions, images, report)
    _check_splits(questions, report)
    _check_duplicates_across_splits(questions, report)
    _check_balance(questions, report)
    return report


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_LISTED])
    return shown + (f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")


def _check_ids(questions: list[Question], report: ValidationReport) -> None:
    repeated = sorted(qid for qid, n in Counter(q.qid for q in questions).items() if n > 1)
    if repeated:
        report.problems.append(f"{len(repeated)} question ids are not unique: {_listed(repeated)}")


def _check_types(questions: list[Question], report: ValidationReport) -> None:
    unknown = Counter(f"{q.level}/{q.category}" for q in questions if find_type(q.level, q.category) is None)
    for key, count in sorted(unknown.items()):
        report.problems.append(f"{count} questions have a type outside the 17 LRS-GRO types: {key!r}")

    missing_roi = [q.qid for q in questions if (t := find_type(q.level, q.category)) and t.needs_roi and q.roi is None]
    if missing_roi:
        report.problems.append(f"{len(missing_roi)} region or object questions have no ROI box: {_listed(missing_roi)}")

    outside = [q.qid for q in questions if q.roi and (q.roi[0] < 0 or q.roi[1] < 0 or q.roi[2] > q.image_width or q.roi[3] > q.image_height)]
    if outside:
        report.problems.append(f"{len(outside)} ROI boxes lie outside their image: {_listed(outside)}")


def _check_images(folder: Path, questions: list[Question], images: dict, report: ValidationReport) -> None:
    unknown = sorted({q.image_id for q in questions} - set(images))
    if unknown:
        report.problems.append(f"questions refer to images missing from images/index.jsonl: {_listed(unknown)}")

    missing = sorted(r.file for r in images.values() if not (folder / r.file).is_file())
    if missing:
        report.problems.append(f"image files missing from the store: {_listed(missing)}")

    splits_of_content: dict[str, set[str]] = defaultdict(set)
    names_of_content: dict[str, set[str]] = defaultdict(set)
    for record in images.values():
        splits_of_content[record.sha256].add(record.split)
        names_of_content[record.sha256].add(record.image_id)
    leaked = sorted(
        " = ".join(sorted(names_of_content[digest])) for digest, splits in splits_of_content.items() if len(splits) > 1
    )
    if leaked:
        report.problems.append(f"{len(leaked)} images appear under different names in more than one split: {_listed(leaked)}")

    wrong_split = sorted({q.qid for q in questions if q.image_id in images and images[q.image_id].split != q.split})
    if wrong_split:
        report.problems.append(f"{len(wrong_split)} questions are in another split than their image: {_listed(wrong_split)}")


def _check_splits(questions: list[Question], report: ValidationReport) -> None:
    splits_of: dict[str, set[str]] = defaultdict(set)
    for question in questions:
        splits_of[question.image_id].add(question.split)
    shared = sorted(f"{image} ({', '.join(sorted(s))})" for image, s in splits_of.items() if len(s) > 1)
    if shared:
        report.problems.append(f"{len(shared)} images appear in more than one split: {_listed(shared)}")


def normalize_question_text(text: str) -> str:
    """Return a question's text in the form used to find the same question twice."""
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _check_duplicates_across_splits(questions: list[Question], report: ValidationReport) -> None:
    splits_of: dict[tuple[str, str], set[str]] = defaultdict(set)
    for question in questions:
        splits_of[(question.image_id, normalize_question_text(question.question))].add(question.split)
    shared = sorted(f"{image}: {text!r}" for (image, text), s in splits_of.items() if len(s) > 1)
    if shared:
        report.problems.append(f"{len(shared)} questions appear in more than one split: {_listed(shared)}")


def _check_balance(questions: list[Question], report: ValidationReport) -> None:
    groups: dict[tuple[str, str, str], list[Question]] = defaultdict(list)
    for question in questions:
        if question.answer_kind == AnswerKind.YES_NO and question.review_status != "rejected":
            groups[(question.split, question.level, question.category)].append(question)

    for (split, level, category), members in sorted(groups.items()):
        yes = sum(q.answer.strip().lower() == "yes" for q in members)
        share = yes / len(members)
        if min(share, 1 - share) < MIN_YES_NO_SHARE:
            report.problems.append(
                f"{split} {level}/{category}: {yes} yes and {len(members) - yes} no answers; "
                f"each answer should be at least {MIN_YES_NO_SHARE:.0%}"
            )
