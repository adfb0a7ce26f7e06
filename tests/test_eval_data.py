"""LRS-GRO data loading for eval: release layouts, noise normalisation, built datasets, duplicates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lrsgro.benchmarks import get_benchmark
from lrsgro.benchmarks.lrs_gro import find_cross_split_duplicates
from lrsgro.errors import InputError
from tests.eval_support import (
    IMAGE_SIZE,
    old_test_record,
    rl_record,
    sft_record,
    write_built_dataset,
    write_geotiff,
    write_jsonl,
)

BOX_1024 = [100.0, 200.0, 300.0, 400.0]


@pytest.fixture
def release(tmp_path: Path) -> Path:
    """A release folder: one JSONL mixing the three layouts and the known noise, images in image/."""
    write_geotiff(tmp_path / "image" / "0001.tif")
    records = [
        sft_record("LRS-GRO-1", "0001.tif", "Object color / pattern", "What color is the ship?", "red", "object",
                   BOX_1024, IMAGE_SIZE[0]),
        rl_record("LRS-GRO-2", "0001.tif", "Object existence", "Are there boats in the harbour?", "Yes",
                  "region", [0, 0, 50, 60], split="RL"),
        rl_record("LRS-GRO-3", "0001.tif", "Season", "Which season is it?\n", "Winter.\n", "global", None, split="rl"),
        rl_record("LRS-GRO-4", "0001.tif", "Land use", "What is the land use?", "farmland", "global", None,
                  split="test"),
        rl_record("LRS-GRO-5", "0001.tif", "object color /  Pattern", "What color is the roof?", "grey", "object",
                  BOX_1024, split="test"),
        old_test_record("LRS-GRO-6", "0001.tif", "Counting", "How many ships are in the harbour?", "3", "region",
                        [10, 20, 200, 220]),
        old_test_record("LRS-GRO-7", "missing.tif", "Scene Type", "What is the main type of area?", "port", "global",
                        None),
    ]
    write_jsonl(tmp_path / "lrs_gro.jsonl", records)
    return tmp_path


def load(path: Path, splits=None):
    return get_benchmark("lrs-gro").load(path, splits)


def by_id(data):
    return {sample.id: sample for sample in data.samples}


def test_release_layouts_all_read(release: Path) -> None:
    data = load(release / "lrs_gro.jsonl")
    assert sorted(by_id(data)) == [f"LRS-GRO-{n}" for n in range(1, 8)]
    assert set(data.splits) == {"sft", "rl", "test"}


def test_release_box_converted_to_full_resolution(release: Path) -> None:
    sample = by_id(load(release / "lrs_gro.jsonl"))["LRS-GRO-1"]
    scale = max(IMAGE_SIZE) / 1024
    assert sample.image_size == IMAGE_SIZE
    assert sample.roi == pytest.approx([v * scale for v in BOX_1024])
    assert sample.extra["roi_1024"] == BOX_1024
    assert sample.needs_roi


def test_release_noise_normalised_and_noted(release: Path) -> None:
    data = load(release / "lrs_gro.jsonl")
    samples = by_id(data)

    assert samples["LRS-GRO-2"].answer == "yes"
    assert samples["LRS-GRO-3"].answer == "Winter"
    assert samples["LRS-GRO-3"].question == "Which season is it?"
    assert samples["LRS-GRO-2"].split == samples["LRS-GRO-3"].split == "rl"
    for code in ("answer-case", "answer-period", "answer-whitespace", "question-whitespace", "split-name"):
        assert data.notes[code].count >= 1, code
    assert "LRS-GRO-2" in data.notes["answer-case"].examples


def test_release_category_outside_taxonomy_kept_apart(release: Path) -> None:
    data = load(release / "lrs_gro.jsonl")
    samples = by_id(data)

    other = samples["LRS-GRO-4"]
    assert other.category == "global-other"
    assert other.extra["raw_category"] == "Land use"
    assert other.reference()["report_apart"] is True
    assert data.notes["category-other"].examples == ["LRS-GRO-4"]

    respelled = samples["LRS-GRO-5"]
    assert respelled.category == "Object color / pattern"
    assert respelled.reference()["report_apart"] is False


def test_release_missing_image_noted(release: Path) -> None:
    data = load(release / "lrs_gro.jsonl")
    sample = by_id(data)["LRS-GRO-7"]
    assert sample.images == ()
    assert sample.image_size is None
    assert data.notes["image-missing"].examples == ["LRS-GRO-7"]


def test_release_split_filter(release: Path) -> None:
    data = load(release / "lrs_gro.jsonl", ["RL"])
    assert sorted(by_id(data)) == ["LRS-GRO-2", "LRS-GRO-3"]


def test_release_invalid_box_names_line(tmp_path: Path) -> None:
    record = rl_record("q1", "a.tif", "Counting", "How many?", "2", "region", [5, 5, 1])
    path = write_jsonl(tmp_path / "bad.jsonl", [record])
    with pytest.raises(InputError) as caught:
        load(path)
    assert caught.value.line == 1
    assert "bbox" in str(caught.value)
    assert "question q1" in str(caught.value)


def test_release_hugging_face_folder(tmp_path: Path) -> None:
    from datasets import Dataset, DatasetDict

    write_geotiff(tmp_path / "image" / "0001.tif")
    columns = {
        "question_id": ["h1", "h2"],
        "image_name": ["0001.tif", "0001.tif"],
        "category": ["Counting", "Object existence"],
        "question": ["How many ships are there?", "Is there a boat in the marina?"],
        "ground_truth": ["4", "No"],
        "bbox": [[], [10, 10, 100, 100]],
    }
    folder = tmp_path / "LRS-GRO"
    DatasetDict({"test": Dataset.from_dict(columns), "sft": Dataset.from_dict(columns | {"question_id": ["s1", "s2"]})}).save_to_disk(str(folder))

    data = load(folder, ["test"])
    samples = by_id(data)
    assert sorted(samples) == ["h1", "h2"]
    assert samples["h1"].level == "global"
    assert samples["h2"].level == "region"
    assert samples["h2"].answer == "no"
    assert samples["h2"].roi is not None
    assert data.notes["level-derived"].count == 2


def test_built_dataset_samples(tmp_path: Path) -> None:
    rows = [
        {"qid": "b1", "image_id": "img1", "split": "test", "level": "region", "category": "Counting",
         "question": "How many cars are in the top-left part?", "answer": "2", "roi": [0, 0, 200, 150]},
        {"qid": "b2", "image_id": "img1", "split": "test", "level": "global", "category": "Urban-Rural",
         "question": "Is the area urban or rural?", "answer": "urban", "status": "rejected"},
    ]
    folder = write_built_dataset(tmp_path / "ds", rows)

    data = load(folder)
    assert [sample.id for sample in data.samples] == ["b1"]
    sample = data.samples[0]
    assert sample.roi == (0.0, 0.0, 200.0, 150.0)
    assert sample.image_size == (800, 600)
    assert sample.image is not None and sample.image.is_file()
    assert data.notes["rejected"].examples == ["b2"]


def test_cross_split_duplicates_found(release: Path, tmp_path: Path) -> None:
    records = [
        rl_record("r1", "0001.tif", "Counting", "How many  ships are there?", "3", "global", None, split="RL"),
        rl_record("t1", "0001.tif", "Counting", "how many ships are there", "3", "global", None, split="test"),
        rl_record("t2", "0002.tif", "Counting", "How many ships are there?", "3", "global", None, split="test"),
        rl_record("r2", "0001.tif", "Season", "Which season is it?", "summer", "global", None, split="RL"),
    ]
    data = load(write_jsonl(tmp_path / "dup.jsonl", records))

    duplicates = find_cross_split_duplicates(data.samples)
    assert len(duplicates) == 1
    assert duplicates[0].image == "0001.tif"
    assert duplicates[0].ids_by_split == {"rl": ["r1"], "test": ["t1"]}


def test_release_parquet_files_named_by_split(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    write_geotiff(tmp_path / "image" / "0001.tif")
    (tmp_path / "data").mkdir()
    table = pa.Table.from_pylist([
        rl_record("p1", "0001.tif", "Scene Type", "What is the main type of area?", "port", "global", None),
        rl_record("p2", "0001.tif", "Counting", "How many cranes are on the quay?", "2", "region", [5, 5, 50, 50]),
    ])
    pq.write_table(table.drop_columns(["split"]), tmp_path / "data" / "test-00000-of-00001.parquet")

    data = load(tmp_path)
    assert data.splits == ["test"]
    assert sorted(by_id(data)) == ["p1", "p2"]
    assert by_id(data)["p2"].roi is not None


def test_release_json_array_read(tmp_path: Path) -> None:
    write_geotiff(tmp_path / "image" / "0001.tif")
    records = [
        rl_record("j1", "0001.tif", "Counting", "How many ships are there?", "4", "global", None, split="test"),
        rl_record("j2", "0001.tif", "Season", "Which season is it?", "Winter.", "global", None, split="test"),
    ]
    path = tmp_path / "lrs_gro.json"
    path.write_text(json.dumps(records, indent=1), encoding="utf-8")

    data = load(path)

    assert [sample.id for sample in data.samples] == ["j1", "j2"]
    assert data.samples[1].answer == "Winter"
    assert data.samples[0].image == tmp_path / "image" / "0001.tif"


def test_release_non_object_record_names_line(tmp_path: Path) -> None:
    record = rl_record("q1", "a.tif", "Counting", "How many?", "2", "global", None)
    path = write_jsonl(tmp_path / "bad.jsonl", [record])
    path.write_text(path.read_text(encoding="utf-8") + '["q2", "a.tif"]\n', encoding="utf-8")

    with pytest.raises(InputError, match="not an object") as caught:
        load(path)

    assert caught.value.line == 2
