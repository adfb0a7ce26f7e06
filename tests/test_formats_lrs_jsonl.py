"""LRS-GRO / LRS-VQA question records: normalised records and regions of interest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lrsgro.errors import LabelFormatError
from lrsgro.formats import detect_format, read_labels
from lrsgro.formats.base import ReadContext
from lrsgro.formats.lrs_jsonl import read_question_records, referent_class
from lrsgro.vocab import load_classes


def _write_lines(tmp_path: Path, records: list[object], name: str = "q.jsonl") -> Path:
    path = tmp_path / name
    lines = [record if isinstance(record, str) else json.dumps(record) for record in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _gro(qid: str, image: str, kind: str, bbox: list[int], question: str, **extra: object) -> dict:
    return {
        "question_id": qid,
        "image_name": image,
        "category": "Counting",
        "question": question,
        "ground_truth": "3",
        "bbox": bbox,
        "type": kind,
        "split": "RL",
        **extra,
    }


def _vqa(qid: str, image: str, text: str, hbox: list[int] | None = None, rbox: list[float] | None = None) -> dict:
    record = {
        "question_id": qid,
        "image": f"LRS_VQA/image/{image}",
        "category": "object category",
        "text": text + "\n Answer the question using a single word or phrase.",
        "ground_truth": "yes",
        "image_size": [4000, 3000],
    }
    if hbox is not None:
        record["hbox"] = hbox
    if rbox is not None:
        record["rbox"] = rbox
    return record


def test_question_records_normalised(tmp_path: Path) -> None:
    path = _write_lines(
        tmp_path,
        [
            _gro("G-1", "13.tif", "global", [], "What is the scene?"),
            _gro("G-2", "13.tif", "object", [10, 20, 30, 40], "What color is the left-most ship?", scale=4.0),
            _vqa("V-1", "15565.tif", "Is the largest bridge crossing a river?", hbox=[5, 6, 7, 8]),
        ],
    )

    records = read_question_records(path)

    assert [record["question_id"] for record in records] == ["G-1", "G-2", "V-1"]
    assert records[0]["roi"] is None
    assert records[0]["level"] == "global"
    assert records[1]["roi"] == [40.0, 80.0, 120.0, 160.0]
    assert records[1]["roi_frame"] == "full"
    assert records[1]["bbox"] == [10, 20, 30, 40]
    assert records[2]["image_name"] == "15565.tif"
    assert records[2]["question"] == "Is the largest bridge crossing a river?"
    assert records[2]["text"].endswith("single word or phrase.")
    assert records[2]["record_format"] == "lrs-vqa"
    assert records[2]["roi"] == [5.0, 6.0, 7.0, 8.0]
    assert records[2]["source_line"] == 3


def test_question_records_reject_bad_line(tmp_path: Path) -> None:
    path = _write_lines(tmp_path, [_gro("G-1", "1.tif", "global", [], "q"), '{"question_id": "G-2", "bbox": ['])

    with pytest.raises(LabelFormatError) as caught:
        read_question_records(path)

    assert caught.value.line == 2


def test_regions_deduplicated_by_box(tmp_path: Path) -> None:
    path = _write_lines(
        tmp_path,
        [
            _gro("G-1", "13.tif", "object", [163, 78, 196, 601], "What color is the left-most vertical breakwater?"),
            _gro("G-2", "13.tif", "object", [163, 78, 196, 601], "Is the left-most breakwater made of concrete?"),
            _gro("G-3", "13.tif", "region", [687, 72, 876, 166], "Are there any boats near the top-right cluster?"),
            _gro("G-4", "13.tif", "global", [], "What is the main type of area?"),
        ],
    )

    format_name, images = read_labels(path, "auto", ReadContext(image_size=(4096, 3072), image_path=tmp_path / "13.tif"))

    assert format_name == "lrs_jsonl"
    labels = images[0]
    assert len(labels.objects) == 2
    breakwater, region = labels.objects
    assert breakwater.category == "breakwater"
    assert breakwater.is_region is False
    assert breakwater.attributes["question_ids"] == "G-1,G-2"
    assert breakwater.bounds == (163 * 4.0, 78 * 4.0, 196 * 4.0, 601 * 4.0)
    assert region.category == "region"
    assert region.is_region is True
    assert labels.metadata["records"] == "4"


def test_unscaled_box_kept_in_preview_frame_with_warning(tmp_path: Path) -> None:
    path = _write_lines(tmp_path, [_gro("G-1", "9.tif", "object", [1, 2, 30, 40], "the ship")])

    _, images = read_labels(path, "lrs_jsonl")

    labels = images[0]
    assert labels.objects[0].bounds == (1.0, 2.0, 30.0, 40.0)
    assert labels.objects[0].attributes["frame"] == "preview-1024"
    assert len(labels.warnings) == 1


def test_rbox_preferred_and_clipped(tmp_path: Path) -> None:
    rbox = [282.0, 2990.0, 334.0, 3050.0, 763.0, 2456.0, 713.0, 2418.0]
    path = _write_lines(
        tmp_path,
        [_vqa("V-1", "15565.tif", "Is the bottom-most bridge crossing a river?", hbox=[282, 2418, 763, 3050], rbox=rbox)],
    )

    _, images = read_labels(path, "lrs_jsonl")

    labels = images[0]
    assert (labels.width, labels.height) == (4000, 3000)
    obj = labels.objects[0]
    assert obj.category == "bridge"
    assert obj.polygon[1] == (334.0, 3000.0)
    assert labels.clipped == 1


def test_label_field_names_the_referent(tmp_path: Path) -> None:
    path = _write_lines(
        tmp_path,
        [
            _gro("S-1", "1.png", "object", [1, 1, 9, 9], "Is it a tanker?", label="right-side cargo ship", scale=1.0),
            _gro("S-2", "1.png", "object", [20, 20, 29, 29], "flat or domed?", label="cluster of storage silos", scale=1.0),
        ],
    )

    _, images = read_labels(path, "lrs_jsonl")

    assert [(obj.category, obj.is_region) for obj in images[0].objects] == [("ship", False), ("region", True)]


def test_bad_lines_are_record_errors(tmp_path: Path) -> None:
    path = _write_lines(
        tmp_path,
        [
            _gro("G-1", "1.tif", "object", [1, 2, 3], "the ship", scale=1.0),
            "not json",
            {"question_id": "G-3", "bbox": [1, 2, 3, 4]},
            _gro("G-4", "1.tif", "object", [1, 2, 30, 40], "the ship", scale=1.0),
        ],
    )

    _, images = read_labels(path, "lrs_jsonl")

    lines = sorted(issue.line for labels in images for issue in labels.errors)
    assert lines == [1, 2, 3]
    assert sum(len(labels.objects) for labels in images) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Is the bottom-most and largest bridge crossing a river?", "bridge"),
        ("How many storage tanks are there?", "storage tank"),
        ("What kind of energy does the right-most wind mill produce?", "windmill"),
        ("How many ferries are docked?", "ferry"),
        ("What shape is the building to the left of the left-most tank?", None),
        ("What is the main type of area shown?", None),
    ],
)
def test_referent_class(text: str, expected: str | None) -> None:
    assert referent_class(text, load_classes()) == expected


def test_sniff_question_records(tmp_path: Path) -> None:
    path = _write_lines(tmp_path, [_gro("G-1", "1.tif", "global", [], "q")])

    assert detect_format(path)[0] == "lrs_jsonl"
