"""Model-free baselines on questions that offer choices: LRS-GRO two-way questions and multiple choice."""

from __future__ import annotations

from pathlib import Path

import pytest

from lrsgro.benchmarks.base import EvalSample
from lrsgro.eval.baselines import MajorityBaseline, RandomBaseline
from lrsgro.eval.runlog import read_predictions
from lrsgro.eval.runner import EvalSettings, run_eval
from tests.eval_support import write_built_dataset

REFINEMENT = "Object category refinement"
VEHICLES = ["small vehicle", "large vehicle"]


def refinement_row(qid: str, split: str, question: str, answer: str, choices: list[str]) -> dict:
    return {
        "qid": qid, "image_id": f"img-{split}", "split": split, "level": "object", "category": REFINEMENT,
        "question": question, "answer": answer, "choices": choices, "roi": [10, 10, 60, 60],
    }


@pytest.fixture
def refinement_dataset(tmp_path: Path) -> Path:
    """Train: "bridge" is the most common answer of the type, "large vehicle" beats "small vehicle".

    Test: only vehicle questions, with the choices in both orders, so the majority answer of
    the type ("bridge") is never offered.
    """
    crossing = "Is the left-most crossing a bridge or a dam?"
    rows = [refinement_row(f"tr-bridge-{n}", "train", crossing, "bridge", ["bridge", "dam"]) for n in range(4)]
    rows += [
        refinement_row("tr-vehicle-0", "train", "Is the top-most vehicle a small vehicle or a large vehicle?",
                       "large vehicle", VEHICLES),
        refinement_row("tr-vehicle-1", "train", "Is the largest vehicle a large vehicle or a small vehicle?",
                       "large vehicle", VEHICLES[::-1]),
        refinement_row("tr-vehicle-2", "train", "Is the lowest vehicle a small vehicle or a large vehicle?",
                       "small vehicle", VEHICLES),
    ]
    rows += [
        refinement_row("te-1", "test", "Is the top-most vehicle a small vehicle or a large vehicle?", "large vehicle",
                       VEHICLES),
        refinement_row("te-2", "test", "Is the right-most vehicle a large vehicle or a small vehicle?", "large vehicle",
                       VEHICLES[::-1]),
        refinement_row("te-3", "test", "Is the left-most vehicle a small vehicle or a large vehicle?", "small vehicle",
                       VEHICLES),
    ]
    return write_built_dataset(tmp_path / "ds", rows)


def answers_of(out: Path) -> dict[str, str | None]:
    return {record.qid: record.answer for record in read_predictions(out / "predictions.jsonl")}


def test_majority_answers_offered_choice(refinement_dataset: Path, tmp_path: Path) -> None:
    summary = run_eval(EvalSettings(data=refinement_dataset, model="majority", out=tmp_path / "run", resamples=0))

    answers = answers_of(tmp_path / "run")
    # "large vehicle" is choice B in te-1 and te-3, choice A in te-2.
    assert answers == {"te-1": "B", "te-2": "A", "te-3": "B"}
    assert summary.scores["rules"]["paper"]["final"]["micro"]["correct"] == 2


def test_random_answers_offered_choice(refinement_dataset: Path, tmp_path: Path) -> None:
    run_eval(EvalSettings(data=refinement_dataset, model="random", out=tmp_path / "run", resamples=0, seed=3))

    for qid, answer in answers_of(tmp_path / "run").items():
        assert answer in ("A", "B"), qid


def test_majority_tie_takes_first_choice(tmp_path: Path) -> None:
    rows = [
        refinement_row("tr-1", "train", "Is the top-most vehicle a small vehicle or a large vehicle?", "small vehicle",
                       VEHICLES),
        refinement_row("tr-2", "train", "Is the lowest vehicle a small vehicle or a large vehicle?", "large vehicle",
                       VEHICLES),
        refinement_row("te-1", "test", "Is the right-most vehicle a large vehicle or a small vehicle?", "small vehicle",
                       VEHICLES[::-1]),
    ]
    folder = write_built_dataset(tmp_path / "ds", rows)
    run_eval(EvalSettings(data=folder, model="majority", out=tmp_path / "run", resamples=0))

    assert answers_of(tmp_path / "run") == {"te-1": "A"}


def choice_sample(qid: str, answer: str, options: int, category: str = "Color", split: str = "train") -> EvalSample:
    return EvalSample(
        id=qid, images=(), question=f"Question {qid}?", answer=answer, category=category, level="perception",
        options=tuple(f"option {index}" for index in range(options)), split=split,
    )


def test_majority_letter_restricted_to_offered() -> None:
    # D is the most common letter of the category, then B; A and C never occur.
    reference = [choice_sample(f"r{n}", letter, 4) for n, letter in enumerate("DDDBB")]
    majority = MajorityBaseline(reference)

    four = next(majority.answer(choice_sample("t1", "A", 4, split="test"), {}))
    three = next(majority.answer(choice_sample("t2", "A", 3, split="test"), {}))
    two = next(majority.answer(choice_sample("t3", "A", 2, split="test"), {}))

    assert four.answer == "D"
    assert three.answer == "B"
    assert two.answer == "B"


def test_majority_letter_for_unseen_category() -> None:
    reference = [choice_sample(f"r{n}", letter, 4) for n, letter in enumerate("CCA")]
    majority = MajorityBaseline(reference)

    record = next(majority.answer(choice_sample("t1", "A", 4, category="Count", split="test"), {}))

    assert record.answer == "C"
    assert "type-unseen" in record.flags


def test_random_letter_within_offered() -> None:
    reference = [choice_sample(f"r{n}", "A", 5) for n in range(3)]
    baseline = RandomBaseline(reference, seed=1)

    answers = {next(baseline.answer(choice_sample(f"t{n}", "A", 2, split="test"), {})).answer for n in range(40)}

    assert answers == {"A", "B"}
