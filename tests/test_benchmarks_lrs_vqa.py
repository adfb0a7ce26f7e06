"""LRS-VQA adapter: the question-file layout, boxes in full resolution, dataset groups, scoring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lrsgro.benchmarks import get_benchmark
from lrsgro.benchmarks.lrs_vqa import source_dataset
from lrsgro.errors import InputError
from lrsgro.eval.runlog import read_predictions
from tests.benchmark_files import eval_with_replay, group, image_bytes, run_cli, write_jsonl, write_replay
from tests.eval_support import write_geotiff

SUFFIX = "\n Answer the question using a single word or phrase."
SIZES = {"0101.tif": (900, 700), "test-7.png": (320, 320), "0042.png": (250, 150)}


def record(qid: str, image: str, category: str, question: str, truth: str, hbox: list[int] | None = None) -> dict:
    """Return a record in the LRS-VQA question-file layout (boxes in full-resolution pixels)."""
    width, height = SIZES[image]
    entry = {"question_id": qid, "image": f"LRS_VQA/image/{image}", "category": category,
             "text": question + SUFFIX, "ground_truth": truth, "image_size": [width, height]}
    if hbox is not None:
        x0, y0, x1, y1 = hbox
        entry.update(hbox=hbox, rbox=[float(x0), float(y1), float(x0), float(y0), float(x1), float(y0), float(x1), float(y1)],
                     abs_size="small", size_bin="32x32")
    return entry


RECORDS = [
    record("FAIR_1", "0101.tif", "reasoning", "Is the lowest bridge crossing a river?", "yes", [120, 640, 300, 720]),
    record("FAIR_2", "0101.tif", "count", "How many bridges are there in the image?", "3"),
    record("GLH-Bridge_1", "test-7.png", "rural or urban", "Is the area around the right-most bridge urban?", "no",
           [300, 150, 315, 165]),
    record("STAR_1", "0042.png", "object shape", "What shape is the tank left of the pier?", "circular",
           [40, 50, 80, 90]),
]


def release(folder: Path) -> Path:
    for seed, (name, size) in enumerate(SIZES.items()):
        path = folder / "LRS_VQA" / "image" / name
        if name.endswith(".tif"):
            write_geotiff(path, size, seed=seed)
        else:
            path.write_bytes(image_bytes(size, seed))
    return write_jsonl(folder / "LRS_VQA_merged.jsonl", RECORDS)


def test_records_load_with_boxes_and_groups(tmp_path: Path) -> None:
    data = get_benchmark("lrs-vqa").load(release(tmp_path))

    fair = data.samples[0]
    assert fair.question == "Is the lowest bridge crossing a river?"
    assert fair.extra["prompt_text"].endswith("single word or phrase.")
    assert (fair.level, fair.category, fair.answer) == ("LRS-FAIR", "reasoning", "yes")
    assert fair.image_size == (900, 700)
    assert fair.image == tmp_path / "LRS_VQA" / "image" / "0101.tif"
    # The box reaches 20 pixels past the bottom edge, as some published boxes do.
    assert fair.roi == (120.0, 640.0, 300.0, 700.0)
    assert data.notes["box-clipped"].examples == ["FAIR_1"]
    assert data.samples[1].roi is None
    assert [sample.level for sample in data.samples] == ["LRS-FAIR", "LRS-FAIR", "LRS-Bridge", "LRS-STAR"]
    assert data.samples[2].needs_roi


def test_source_dataset_names() -> None:
    assert source_dataset("GLH-Bridge_418") == "LRS-Bridge"
    assert source_dataset("STAR_3003") == "LRS-STAR"
    assert source_dataset("OTHER_1") == "OTHER"


def test_record_size_used_without_image(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "questions.jsonl", RECORDS[:1])

    data = get_benchmark("lrs-vqa").load(path)

    assert data.samples[0].images == ()
    assert data.samples[0].image_size == (900, 700)
    assert data.notes["image-missing"].count == 1


def test_header_size_wins_over_record(tmp_path: Path) -> None:
    path = release(tmp_path)
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    records[3]["image_size"] = [150, 250]
    write_jsonl(path, records)

    data = get_benchmark("lrs-vqa").load(path)

    assert data.samples[3].image_size == (250, 150)
    assert data.notes["image-size-differs"].examples == ["STAR_1"]


def test_bad_box_named(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "questions.jsonl", [{**RECORDS[0], "hbox": [300, 640, 120, 720]}])

    with pytest.raises(InputError, match=r"questions\.jsonl:1: question FAIR_1: hbox .* has x1 < x0"):
        get_benchmark("lrs-vqa").load(path)


def test_missing_ground_truth_named(tmp_path: Path) -> None:
    broken = dict(RECORDS[1])
    del broken["ground_truth"]
    path = write_jsonl(tmp_path / "questions.jsonl", [RECORDS[0], broken])

    with pytest.raises(InputError, match=r"questions\.jsonl:2: record lacks ground_truth"):
        get_benchmark("lrs-vqa").load(path)


def test_report_per_dataset_and_category(tmp_path: Path) -> None:
    data = release(tmp_path)
    replay = write_replay(tmp_path / "replay.jsonl", {
        "FAIR_1": "Yes",
        "FAIR_2": "There are 3 bridges.",
        "GLH-Bridge_1": "<answer>No</answer>",
        "STAR_1": "circle",
    })

    scores = eval_with_replay("lrs-vqa", data, replay, tmp_path / "run")

    assert "path similarity above 0.8" in scores["rule_descriptions"]["paper"]
    assert set(scores["rules"]["paper"]["final"]["per_level"]) == {"LRS-FAIR", "LRS-Bridge", "LRS-STAR"}
    assert group(scores, "paper", "LRS-FAIR/reasoning")["accuracy"] == 1.0
    # The published script compares the whole reply; the robust rule reads the count.
    assert group(scores, "paper", "LRS-FAIR/count")["accuracy"] == 0.0
    assert group(scores, "robust", "LRS-FAIR/count")["accuracy"] == 1.0
    assert group(scores, "paper", "LRS-Bridge/rural or urban")["accuracy"] == 1.0
    records = read_predictions(tmp_path / "run" / "predictions.jsonl")
    assert {record.reference["roi"] is not None for record in records} == {True, False}

    # `lrsgro score` re-scores the run log alone, raw replies included, to the same tables.
    rescored = json.loads(run_cli("score", str(tmp_path / "run"), "--json", "--resamples", "0").output)
    for rule in ("paper", "robust"):
        assert rescored["rules"][rule]["final"]["per_type"] == scores["rules"][rule]["final"]["per_type"]


def test_shared_excerpt_loads(shared_data: Path) -> None:
    excerpt = shared_data / "label-formats" / "lrs_gro" / "lrs_vqa_excerpt.jsonl"
    if not excerpt.is_file():
        pytest.skip(f"LRS-VQA excerpt not found at {excerpt}")

    data = get_benchmark("lrs-vqa").load(excerpt)

    assert {sample.level for sample in data.samples} == {"LRS-FAIR", "LRS-Bridge", "LRS-STAR"}
    assert all(sample.question and not sample.question.endswith("phrase.") for sample in data.samples)
    # FAIR_1's box ends at y=4050 on a 4000-pixel image.
    fair = next(sample for sample in data.samples if sample.id == "FAIR_1")
    assert fair.roi is not None and fair.roi[3] == 4000.0
