"""Accuracy tables, bootstrap intervals and box IoU."""

from __future__ import annotations

import json
import random

import pytest

from lrsgro.errors import InputError
from lrsgro.scoring import Box, Score, ScoredQuestion, accuracy_report, box_iou, mean_iou


def _question(question_id: str, level: str, category: str, outcome: str) -> ScoredQuestion:
    if outcome == "right":
        score = Score(1.0, True, "x", "x", "robust[max]", "exact match")
    elif outcome == "wrong":
        score = Score(0.0, False, "y", "x", "robust[max]", "differs")
    elif outcome == "none":
        score = Score.no_answer("x", "robust[max]", "empty output")
    else:
        score = Score.error("x", "robust[max]", "the model call timed out")
    return ScoredQuestion(question_id, level, category, score)


def _small_run() -> list[ScoredQuestion]:
    outcomes = [
        ("global", "Scene Type", ["right", "right", "wrong"]),
        ("global", "Season", ["wrong", "error"]),
        ("region", "Counting", ["right", "none", "right", "right", "error", "error"]),
        ("object", "Object color / pattern", ["right", "wrong"]),
    ]
    questions = []
    for level, category, results in outcomes:
        for index, outcome in enumerate(results):
            questions.append(_question(f"{category}-{index}", level, category, outcome))
    return questions


def test_small_run_by_hand() -> None:
    report = accuracy_report(_small_run())

    # Counted questions leave out the 3 errors: 3 + 1 + 4 + 2 = 10, of which 2 + 0 + 3 + 1 = 6 right.
    assert report.micro.accuracy == pytest.approx(6 / 10)
    assert report.micro.counted == 10
    assert report.micro.correct == 6
    assert report.questions == 13
    assert report.errors == 3
    assert report.no_answers == 1

    assert report.per_type["global/Scene Type"].accuracy == pytest.approx(2 / 3)
    assert report.per_type["global/Season"].accuracy == 0.0
    assert report.per_type["global/Season"].errors == 1
    assert report.per_type["region/Counting"].accuracy == pytest.approx(3 / 4)
    assert report.per_type["region/Counting"].no_answers == 1
    assert report.per_type["region/Counting"].errors == 2
    assert report.per_type["object/Object color / pattern"].accuracy == pytest.approx(1 / 2)

    assert report.per_level["global"].accuracy == pytest.approx(2 / 4)
    assert report.per_level["region"].accuracy == pytest.approx(3 / 4)
    assert report.per_level["object"].accuracy == pytest.approx(1 / 2)

    assert report.macro_over_levels.accuracy == pytest.approx((2 / 4 + 3 / 4 + 1 / 2) / 3)
    assert report.macro_over_levels.groups == 3
    assert report.macro_over_types.accuracy == pytest.approx((2 / 3 + 0 + 3 / 4 + 1 / 2) / 4)
    assert report.macro_over_types.groups == 4


def test_counting_keyed_by_level() -> None:
    questions = [
        _question("g1", "global", "Counting", "right"),
        _question("r1", "region", "Counting", "wrong"),
    ]

    report = accuracy_report(questions, resamples=0)

    assert report.per_type["global/Counting"].accuracy == 1.0
    assert report.per_type["region/Counting"].accuracy == 0.0


def test_type_with_only_errors() -> None:
    questions = [_question("a", "global", "Season", "error"), _question("b", "global", "Scene Type", "right")]

    report = accuracy_report(questions)

    season = report.per_type["global/Season"]
    assert season.accuracy is None
    assert season.ci_low is None
    assert season.errors == 1
    assert report.macro_over_types.groups == 1
    assert report.macro_over_types.accuracy == 1.0


def test_report_is_json() -> None:
    report = accuracy_report(_small_run())

    decoded = json.loads(json.dumps(report.to_dict()))

    assert decoded["micro"]["accuracy"] == pytest.approx(0.6)
    assert decoded["per_type"]["region/Counting"]["errors"] == 2
    assert decoded["resamples"] == 1000


def _random_run(seed: int, size: int) -> list[ScoredQuestion]:
    generator = random.Random(seed)
    types = [("global", "Scene Type"), ("region", "Counting"), ("object", "Object color / pattern")]
    questions = []
    for index in range(size):
        level, category = types[index % len(types)]
        outcome = generator.choices(["right", "wrong", "none", "error"], weights=[6, 3, 1, 1])[0]
        questions.append(_question(str(index), level, category, outcome))
    return questions


def test_interval_contains_estimate() -> None:
    report = accuracy_report(_random_run(seed=7, size=300))

    groups = [report.micro, *report.per_level.values(), *report.per_type.values()]
    for group in groups:
        assert group.ci_low <= group.accuracy <= group.ci_high
        assert group.ci_low < group.ci_high
    for macro in (report.macro_over_levels, report.macro_over_types):
        assert macro.ci_low <= macro.accuracy <= macro.ci_high


def test_bootstrap_seeded_and_stable() -> None:
    questions = _random_run(seed=3, size=200)

    first = accuracy_report(questions, seed=11)
    again = accuracy_report(questions, seed=11)
    other = accuracy_report(questions, seed=12)

    assert first.to_dict() == again.to_dict()
    assert (first.micro.ci_low, first.micro.ci_high) != (other.micro.ci_low, other.micro.ci_high)
    assert first.micro.accuracy == other.micro.accuracy


def test_interval_width_matches_binomial() -> None:
    # 400 questions, half right: the normal approximation gives a 95 % half-width of
    # 1.96 * sqrt(0.25 / 400) = 0.049.
    questions = [_question(str(i), "global", "Scene Type", "right" if i % 2 else "wrong") for i in range(400)]

    report = accuracy_report(questions, resamples=2000, seed=5)

    half_width = (report.micro.ci_high - report.micro.ci_low) / 2
    assert half_width == pytest.approx(0.049, abs=0.01)


def test_no_bootstrap_when_zero_resamples() -> None:
    report = accuracy_report(_small_run(), resamples=0)

    assert report.micro.accuracy == pytest.approx(0.6)
    assert report.micro.ci_low is None
    assert report.macro_over_types.ci_high is None


@pytest.mark.parametrize(("resamples", "confidence"), [(-1, 0.95), (100, 0.0), (100, 1.5)])
def test_bootstrap_arguments_checked(resamples: int, confidence: float) -> None:
    with pytest.raises(InputError):
        accuracy_report(_small_run(), resamples=resamples, confidence=confidence)


def test_empty_run() -> None:
    report = accuracy_report([])

    assert report.micro.accuracy is None
    assert report.macro_over_levels.accuracy is None
    assert report.questions == 0


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ((0, 0, 10, 10), (0, 0, 10, 10), 1.0),
        ((0, 0, 10, 10), (5, 0, 15, 10), 50 / 150),
        ((0, 0, 10, 10), (0, 0, 5, 5), 25 / 100),
        ((0, 0, 10, 10), (20, 20, 30, 30), 0.0),
        ((0, 0, 10, 10), (10, 0, 20, 10), 0.0),
        ((10, 10, 0, 0), (0, 0, 5, 10), 50 / 100),
        ((3, 3, 3, 3), (3, 3, 3, 3), 0.0),
    ],
)
def test_box_iou_table(first: tuple[float, ...], second: tuple[float, ...], expected: float) -> None:
    assert box_iou(first, second) == pytest.approx(expected)
    assert box_iou(second, first) == pytest.approx(expected)


def test_box_iou_frames_must_match() -> None:
    with pytest.raises(InputError, match="same frame"):
        box_iou(Box(0, 0, 10, 10, "view"), Box(0, 0, 10, 10, "norm1000"))

    assert box_iou(Box(0, 0, 10, 10, "view"), (0, 0, 10, 10)) == 1.0


def test_box_iou_rejects_bad_box() -> None:
    with pytest.raises(InputError, match="four finite numbers"):
        box_iou((0, 0, 10), (0, 0, 10, 10))
    with pytest.raises(InputError, match="four finite numbers"):
        box_iou((0, 0, float("nan"), 10), (0, 0, 10, 10))


def test_mean_iou_missing_box_zero() -> None:
    pairs = [
        ((0, 0, 10, 10), (0, 0, 10, 10)),
        (None, (0, 0, 10, 10)),
        ((0, 0, 10, 10), (5, 0, 15, 10)),
        (None, (4, 4, 8, 8)),
    ]

    summary = mean_iou(pairs)

    assert summary.mean_iou == pytest.approx((1.0 + 0.0 + 1 / 3 + 0.0) / 4)
    assert summary.questions == 4
    assert summary.missing_boxes == 2
    assert summary.ci_low <= summary.mean_iou <= summary.ci_high
    assert json.loads(json.dumps(summary.to_dict()))["missing_boxes"] == 2


def test_mean_iou_empty() -> None:
    summary = mean_iou([])

    assert summary.mean_iou is None
    assert summary.questions == 0
