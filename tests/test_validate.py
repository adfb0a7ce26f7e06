"""`lrsgro validate` finds what would make a benchmark's numbers wrong."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lrsgro.build import BuildConfig, build
from lrsgro.dataset import read_questions, write_questions
from lrsgro.validate import validate_dataset
from tests.synthetic import Painted, rectangle, write_scene

OBJECTS = [
    Painted("small-vehicle", rectangle(40, 40, 36, 12), (200, 30, 30)),
    Painted("ship", rectangle(420, 60, 60, 16), (128, 128, 128)),
    Painted("ship", rectangle(430, 300, 40, 12), (235, 235, 235)),
]


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    for index in range(3):
        write_scene(tmp_path / "src", f"scene_{index}", OBJECTS, background=(60, 120 + index, 60))
    out = tmp_path / "out"
    build(BuildConfig(labels=[tmp_path / "src" / "labelTxt"], images=tmp_path / "src" / "images", out=out, split="test=0.67,train=0.33"))
    return out


def _run_cli(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lrsgro", "validate", str(folder)], capture_output=True, text=True)


def test_fresh_build_is_valid(dataset: Path):
    report = validate_dataset(dataset)
    assert report.ok, report.problems
    assert _run_cli(dataset).returncode == 0


def test_image_in_two_splits_is_reported(dataset: Path):
    questions = read_questions(dataset)
    moved = questions[0].model_copy(update={"split": "train" if questions[0].split == "test" else "test"})
    write_questions(dataset, [moved, *questions[1:]])
    report = validate_dataset(dataset)
    assert any("more than one split" in p for p in report.problems)
    result = _run_cli(dataset)
    assert result.returncode == 1
    assert "more than one split" in result.stdout


def test_same_question_in_two_splits_is_reported(dataset: Path):
    questions = read_questions(dataset)
    first = questions[0]
    twin = first.model_copy(update={"qid": first.qid + "-copy", "split": "other", "question": first.question.upper() + " "})
    write_questions(dataset, [*questions, twin])
    assert any("questions appear in more than one split" in p for p in validate_dataset(dataset).problems)


def test_duplicate_ids_reported(dataset: Path):
    questions = read_questions(dataset)
    write_questions(dataset, [*questions, questions[0].model_copy(update={"question": "another text?"})])
    assert any("not unique" in p for p in validate_dataset(dataset).problems)


def test_unbalanced_yes_no_reported(dataset: Path):
    questions = read_questions(dataset)
    flipped = [q.model_copy(update={"answer": "yes"}) if q.category == "Object existence" else q for q in questions]
    assert any(q.category == "Object existence" for q in questions)
    write_questions(dataset, flipped)
    assert any("yes and" in p for p in validate_dataset(dataset).problems)


def test_missing_image_file_reported(dataset: Path):
    next((dataset / "images").glob("*.tif")).unlink()
    assert any("missing from the store" in p for p in validate_dataset(dataset).problems)


def test_not_a_dataset_exits_one(tmp_path: Path):
    result = _run_cli(tmp_path)
    assert result.returncode == 1
    assert "no Parquet shards" in result.stdout


def test_interrupted_shard_swap_recovers(dataset: Path):
    questions = read_questions(dataset)
    (dataset / "data").rename(dataset / ".data.old")
    assert [q.qid for q in read_questions(dataset)] == [q.qid for q in questions]
    assert (dataset / "data").is_dir()


def test_same_image_under_two_names_reported(tmp_path: Path):
    for name in ("original", "renamed_copy"):
        write_scene(tmp_path / "src", name, OBJECTS)
    out = tmp_path / "out"
    build(BuildConfig(labels=[tmp_path / "src" / "labelTxt"], images=tmp_path / "src" / "images", out=out, split="test=0.5,train=0.5"))
    problems = validate_dataset(out).problems
    assert any("original = renamed_copy" in p for p in problems), problems
