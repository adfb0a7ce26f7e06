"""Accuracy per question type and level, micro and macro, with bootstrap intervals; box IoU.

Counting rules: a question whose model call failed (score status ``error``) is left out of
every accuracy and counted in ``errors``. A question without an answer (status
``no_answer``) counts as wrong and is also counted in ``no_answers``.

Definitions, with a type keyed by ``"level/category"`` because ``Counting`` exists at two
levels:

* micro accuracy: mean score over all counted questions;
* accuracy of a level or type: mean score over its counted questions;
* macro over types: unweighted mean of the type accuracies;
* macro over levels: unweighted mean of the level accuracies.

Intervals are percentile bootstrap intervals. Each resample draws, within every type, as
many questions as the type has, with replacement (a bootstrap stratified by type), so every
type keeps its size and every macro average is defined in every resample.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from lrsgro.errors import InputError
from lrsgro.scoring.types import Box, BoxTuple, Score

DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 0
DEFAULT_CONFIDENCE = 0.95
# Resample draws held in memory at once (rows x questions of one type).
_DRAWS_PER_CHUNK = 2_000_000

BoxLike = Box | Sequence[float]


@dataclass(frozen=True)
class ScoredQuestion:
    """One question's score together with the type it belongs to."""

    question_id: str
    level: str
    category: str
    score: Score

    @property
    def type_key(self) -> str:
        return f"{self.level}/{self.category}"


@dataclass(frozen=True)
class GroupAccuracy:
    """Accuracy of one group of questions (all, one level or one type).

    Attributes:
        accuracy: mean score of the counted questions; ``None`` when none was counted.
        ci_low, ci_high: bounds of the bootstrap interval; ``None`` with ``accuracy``.
        correct: sum of the scores (a count when every score is 0 or 1).
        counted: questions scored or without an answer.
        no_answers: counted questions that had no answer (scored 0).
        errors: questions left out because the model call failed.
    """

    accuracy: float | None
    ci_low: float | None
    ci_high: float | None
    correct: float
    counted: int
    no_answers: int
    errors: int


@dataclass(frozen=True)
class MacroAccuracy:
    """Unweighted mean of group accuracies, over the groups that have counted questions."""

    accuracy: float | None
    ci_low: float | None
    ci_high: float | None
    groups: int


@dataclass(frozen=True)
class AccuracyReport:
    """Every accuracy of one run under one rule; ``to_dict`` gives plain JSON types."""

    micro: GroupAccuracy
    macro_over_levels: MacroAccuracy
    macro_over_types: MacroAccuracy
    per_level: dict[str, GroupAccuracy]
    per_type: dict[str, GroupAccuracy]
    questions: int
    errors: int
    no_answers: int
    resamples: int
    seed: int
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class IouSummary:
    """Mean IoU of predicted boxes against reference boxes, with a bootstrap interval.

    Attributes:
        mean_iou: mean over the questions; a missing predicted box counts as IoU 0.
        questions: questions averaged.
        missing_boxes: questions without a predicted box.
    """

    mean_iou: float | None
    ci_low: float | None
    ci_high: float | None
    questions: int
    missing_boxes: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def accuracy_report(
    questions: Iterable[ScoredQuestion],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = DEFAULT_CONFIDENCE,
) -> AccuracyReport:
    """Compute micro, macro, per-level and per-type accuracy with bootstrap intervals.

    The same ``seed`` gives the same intervals for the same questions. With
    ``resamples=0`` the bootstrap is skipped and every interval is ``None``.

    Raises:
        InputError: ``resamples`` is negative or ``confidence`` is not between 0 and 1.
    """
    _check_bootstrap_arguments(resamples, confidence)
    questions = list(questions)

    values_by_type: dict[str, list[float]] = defaultdict(list)
    level_of_type: dict[str, str] = {}
    errors_by_type: dict[str, int] = defaultdict(int)
    no_answers_by_type: dict[str, int] = defaultdict(int)
    for question in questions:
        key = question.type_key
        level_of_type[key] = question.level
        if question.score.status == "error":
            errors_by_type[key] += 1
            continue
        values_by_type[key].append(float(question.score.value))
        if question.score.status == "no_answer":
            no_answers_by_type[key] += 1

    type_keys = sorted(level_of_type)
    levels = sorted(set(level_of_type.values()))
    counted_types = [key for key in type_keys if values_by_type[key]]
    draws = _bootstrap_sums(values_by_type, counted_types, resamples, seed)

    def group(keys: list[str]) -> GroupAccuracy:
        counted = sum(len(values_by_type[key]) for key in keys)
        correct = sum(sum(values_by_type[key]) for key in keys)
        errors = sum(errors_by_type[key] for key in keys)
        no_answers = sum(no_answers_by_type[key] for key in keys)
        if counted == 0:
            return GroupAccuracy(None, None, None, correct, 0, no_answers, errors)

        low = high = None
        if draws is not None:
            sampled = sum(draws[key] for key in keys if key in draws) / counted
            low, high = _percentile_interval(sampled, confidence)
        return GroupAccuracy(correct / counted, low, high, correct, counted, no_answers, errors)

    per_type = {key: group([key]) for key in type_keys}
    per_level = {level: group([key for key in type_keys if level_of_type[key] == level]) for level in levels}
    micro = group(type_keys)

    macro_types = _macro(
        {key: [key] for key in counted_types}, values_by_type, draws, confidence
    )
    level_groups = {
        level: [key for key in counted_types if level_of_type[key] == level] for level in levels
    }
    macro_levels = _macro(
        {level: keys for level, keys in level_groups.items() if keys}, values_by_type, draws, confidence
    )

    return AccuracyReport(
        micro=micro,
        macro_over_levels=macro_levels,
        macro_over_types=macro_types,
        per_level=per_level,
        per_type=per_type,
        questions=len(questions),
        errors=sum(errors_by_type.values()),
        no_answers=sum(no_answers_by_type.values()),
        resamples=resamples,
        seed=seed,
        confidence=confidence,
    )


def box_iou(first: BoxLike, second: BoxLike) -> float:
    """Return the intersection over union of two xyxy boxes; 0.0 when the union is empty.

    Raises:
        InputError: both are :class:`Box` objects in different frames, or a box does not
            have four finite numbers.
    """
    if isinstance(first, Box) and isinstance(second, Box) and first.frame != second.frame:
        raise InputError(
            f"cannot compare a box in frame {first.frame!r} with one in frame {second.frame!r}",
            fix="convert both boxes to the same frame with lrsgro.imagery first",
        )
    ax1, ay1, ax2, ay2 = _xyxy(first)
    bx1, by1, bx2, by2 = _xyxy(second)

    width = max(0.0, min(ax2, bx2) - max(ax1, bx1))
    height = max(0.0, min(ay2, by2) - max(ay1, by1))
    intersection = width * height
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - intersection
    if union <= 0.0:
        return 0.0
    return intersection / union


def mean_iou(
    pairs: Iterable[tuple[BoxLike | None, BoxLike]],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = DEFAULT_CONFIDENCE,
) -> IouSummary:
    """Average IoU over (predicted box or ``None``, reference box) pairs.

    Pass only the questions that need a crop and whose model call did not fail; a
    ``None`` prediction counts as IoU 0.
    """
    _check_bootstrap_arguments(resamples, confidence)
    values: list[float] = []
    missing = 0
    for predicted, reference in pairs:
        if predicted is None:
            missing += 1
            values.append(0.0)
        else:
            values.append(box_iou(predicted, reference))

    if not values:
        return IouSummary(None, None, None, 0, 0)

    low = high = None
    draws = _bootstrap_sums({"iou": values}, ["iou"], resamples, seed)
    if draws is not None:
        low, high = _percentile_interval(draws["iou"] / len(values), confidence)
    return IouSummary(sum(values) / len(values), low, high, len(values), missing)


def _check_bootstrap_arguments(resamples: int, confidence: float) -> None:
    if resamples < 0:
        raise InputError(f"invalid number of bootstrap resamples {resamples}", fix="use 0 or more")
    if not 0.0 < confidence < 1.0:
        raise InputError(f"invalid confidence level {confidence}", fix="use a value between 0 and 1, such as 0.95")


def _bootstrap_sums(
    values_by_group: dict[str, list[float]] | defaultdict[str, list[float]],
    groups: list[str],
    resamples: int,
    seed: int,
) -> dict[str, np.ndarray] | None:
    """Return, per group, the score sums of ``resamples`` resamples drawn within the group."""
    if resamples == 0:
        return None

    rng = np.random.default_rng(seed)
    sums: dict[str, np.ndarray] = {}
    for key in groups:
        values = np.asarray(values_by_group[key], dtype=float)
        size = len(values)
        rows_per_chunk = max(1, _DRAWS_PER_CHUNK // size)
        parts = []
        for start in range(0, resamples, rows_per_chunk):
            rows = min(rows_per_chunk, resamples - start)
            indices = rng.integers(0, size, size=(rows, size))
            parts.append(values[indices].sum(axis=1))
        sums[key] = np.concatenate(parts)
    return sums


def _percentile_interval(samples: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(samples, [tail, 1.0 - tail])
    return float(low), float(high)


def _macro(
    groups: dict[str, list[str]],
    values_by_type: dict[str, list[float]] | defaultdict[str, list[float]],
    draws: dict[str, np.ndarray] | None,
    confidence: float,
) -> MacroAccuracy:
    """Average the accuracies of ``groups`` (each a list of type keys with counted questions)."""
    if not groups:
        return MacroAccuracy(None, None, None, 0)

    accuracies = []
    sampled = []
    for keys in groups.values():
        counted = sum(len(values_by_type[key]) for key in keys)
        accuracies.append(sum(sum(values_by_type[key]) for key in keys) / counted)
        if draws is not None:
            sampled.append(sum(draws[key] for key in keys) / counted)

    point = math.fsum(accuracies) / len(accuracies)
    if draws is None:
        return MacroAccuracy(point, None, None, len(groups))
    low, high = _percentile_interval(np.mean(sampled, axis=0), confidence)
    return MacroAccuracy(point, low, high, len(groups))


def _xyxy(box: BoxLike) -> BoxTuple:
    numbers = box.as_tuple() if isinstance(box, Box) else tuple(float(value) for value in box)
    if len(numbers) != 4 or not all(math.isfinite(value) for value in numbers):
        raise InputError(f"invalid box {box!r}", fix="give four finite numbers x1, y1, x2, y2")
    x1, y1, x2, y2 = numbers
    return (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
