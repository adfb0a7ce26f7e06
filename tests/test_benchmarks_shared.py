"""Helpers every adapter uses: duplicate ids, split names, image roots, record boxes and error locations."""

from __future__ import annotations

from pathlib import Path

import pytest

from lrsgro.benchmarks import get_benchmark
from lrsgro.benchmarks._embedded import image_roots
from lrsgro.benchmarks._records import locate_errors, record_box, require_fields
from lrsgro.benchmarks.base import BenchmarkData, EvalSample, wanted_splits
from lrsgro.errors import InputError
from tests.benchmark_files import write_jsonl


def sample(qid: str, answer: str) -> EvalSample:
    return EvalSample(id=qid, images=(), question="How many ships?", answer=answer, category="count", level="global")


def test_add_samples_keeps_first_id(tmp_path: Path) -> None:
    data = BenchmarkData("test", tmp_path, [sample("a", "1")])

    data.add_samples([sample("b", "2"), sample("a", "3"), sample("b", "4"), sample("c", "5")])

    assert [(item.id, item.answer) for item in data.samples] == [("a", "1"), ("b", "2"), ("c", "5")]
    assert data.notes["duplicate-id"].count == 2
    assert data.notes["duplicate-id"].examples == ["a", "b"]


def test_adapter_notes_repeated_id(tmp_path: Path) -> None:
    first = {"question_id": "FAIR_1", "image": "a.tif", "text": "Is it a port?", "category": "reasoning", "ground_truth": "yes"}
    second = {**first, "ground_truth": "no"}
    path = write_jsonl(tmp_path / "LRS_VQA_merged.jsonl", [first, second])

    data = get_benchmark("lrs-vqa").load(path)

    assert [item.answer for item in data.samples] == ["yes"]
    assert data.notes["duplicate-id"].examples == ["FAIR_1"]


def test_wanted_splits_normalised() -> None:
    assert wanted_splits(None) is None
    assert wanted_splits([" RL", "test "]) == {"rl", "test"}
    assert wanted_splits([]) == set()


def test_image_roots_order(tmp_path: Path) -> None:
    data = tmp_path / "release" / "questions.jsonl"
    for folder in ("release/images", "release/image", "image"):
        (tmp_path / folder).mkdir(parents=True)
    data.touch()

    roots = image_roots(data, None, ("", "image", "images", "absent"))

    assert roots == [tmp_path / "release", tmp_path / "release" / "image", tmp_path / "release" / "images",
                     tmp_path, tmp_path / "image"]


def test_image_roots_without_parent(tmp_path: Path) -> None:
    (tmp_path / "data" / "images").mkdir(parents=True)
    (tmp_path / "images").mkdir()

    roots = image_roots(tmp_path / "data", None, ("", "images"), search_parent=False)

    assert roots == [tmp_path / "data", tmp_path / "data" / "images"]


def test_image_roots_given_folder_only(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()

    assert image_roots(tmp_path, tmp_path / "elsewhere", ("", "images")) == [tmp_path / "elsewhere"]


@pytest.mark.parametrize("value", [None, []])
def test_record_box_absent(value: object) -> None:
    assert record_box(value, "hbox", "q1", Path("q.jsonl"), 3) is None


def test_record_box_numbers() -> None:
    assert record_box(["1", 2, 3.5, 4], "bbox", "q1", Path("q.jsonl"), 3) == (1.0, 2.0, 3.5, 4.0)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ([1, 2, 3], "must be \\[\\] or four numbers"),
        ("0,0,5,5", "must be \\[\\] or four numbers"),
        ([1, 2, "x", 4], "not a number"),
        ([1, 2, None, 4], "not a number"),
        ([5, 0, 1, 4], "x1 < x0"),
        ([0, 5, 4, 1], "y1 < y0"),
    ],
)
def test_record_box_invalid(value: object, reason: str) -> None:
    with pytest.raises(InputError, match=f"question q1: bbox .*{reason}") as caught:
        record_box(value, "bbox", "q1", Path("q.jsonl"), 3)

    assert caught.value.path == "q.jsonl"
    assert caught.value.line == 3


def test_require_fields_lists_missing() -> None:
    record = {"question": "How many?", "answer": None}

    with pytest.raises(InputError, match="record lacks answer, category") as caught:
        require_fields(record, ("question", "answer", "category"), Path("q.jsonl"), 7, fix="add the fields")

    assert caught.value.line == 7
    assert caught.value.fix == "add the fields"


def test_locate_errors_adds_question_and_line() -> None:
    with pytest.raises(InputError) as caught, locate_errors("q9", Path("q.parquet"), 12):
        raise InputError("an embedded image is not valid base64", fix="check that the file is complete")

    assert caught.value.reason == "question q9: an embedded image is not valid base64"
    assert caught.value.path == "q.parquet"
    assert caught.value.line == 12
    assert caught.value.fix == "check that the file is complete"
