"""XLRS-Bench lite adapter: the lmms-eval Arrow and Parquet copies, VLMEvalKit JSON Lines, scoring."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from lrsgro.benchmarks import get_benchmark
from lrsgro.errors import InputError
from lrsgro.eval.runner import EvalSettings, run_eval
from tests.benchmark_files import (
    XLRS_SCHEMA,
    eval_with_replay,
    group,
    image_bytes,
    write_jsonl,
    write_parquet,
    write_replay,
    xlrs_row,
    xlrs_vlmevalkit_row,
)
from tests.openai_stub import Reply, ScriptedOpenAIServer, by_marker

OPTIONS = ["(A) farmland", "(B) water", "(C) residential", "(D) forest"]
COUNTS = ["(A) 2", "(B) 4", "(C) 6", "(D) 8"]
# (index, image seeds, question, options, answer, "<group>/<sub-task>")
QUESTIONS = [
    (0, [1], "How many storage tanks are in the image?", COUNTS, "B", "Counting/Overall counting"),
    (1, [2, 3], "How many buildings were built between the two images?", COUNTS, "C",
     "Counting/Counting with changing detection"),
    (2, [4], "Which land-use types does the image contain?", OPTIONS, "AC",
     "Land use classification/Overall Land use classification"),
    (3, [5], "What color is the largest ship?", ["(A) white", "(B) red", "(C) blue", "(D) black"], "A",
     "Object properties/Object color"),
]
SIZE = (40, 28)


def rows() -> list[dict]:
    return [
        xlrs_row(index, [image_bytes(SIZE, seed) for seed in seeds], question, options, answer, category)
        for index, seeds, question, options, answer, category in QUESTIONS
    ]


def saved_to_disk(folder: Path) -> Path:
    """Write the lmms-eval copy as ``datasets`` saves it: Arrow files, state.json, dataset_info.json."""
    from datasets import Dataset, Features, Image as ImageFeature, List, Value

    features = Features({
        "index": Value("int32"), "question": Value("string"), "multi-choice options": List(Value("string")),
        "answer": Value("string"), "category": Value("string"), "l2-category": Value("string"),
        "image": List(ImageFeature()), "path": Value("string"),
    })
    Dataset.from_list(rows(), features=features).save_to_disk(str(folder))
    return folder


def vlmevalkit_release(folder: Path) -> Path:
    records = []
    for index, seeds, question, options, answer, category in QUESTIONS:
        group_name, subtask = category.split("/")
        images = [image_bytes(SIZE, seed) for seed in seeds]
        records.append(xlrs_vlmevalkit_row(index, images, question, options, answer, group_name, subtask))
    return write_jsonl(folder / "XLRS-Bench-lite_part0.jsonl", records)


def test_arrow_folder_loads_groups_and_images(tmp_path: Path) -> None:
    data = get_benchmark("xlrs-bench-lite").load(saved_to_disk(tmp_path / "XLRS-Bench-lite"))

    assert [sample.id for sample in data.samples] == ["0", "1", "2", "3"]
    change = data.samples[1]
    assert (change.level, change.category) == ("Counting", "Counting with changing detection")
    assert len(change.images) == 2
    assert change.images[0] != change.images[1]
    assert data.samples[2].answer == "AC"
    assert data.samples[2].options == ("farmland", "water", "residential", "forest")
    assert data.samples[0].image_size == SIZE
    assert data.notes["several-images"].count == 1
    assert data.notes["multiple-answer"].count == 1


def test_three_layouts_give_same_questions(tmp_path: Path) -> None:
    adapter = get_benchmark("xlrs-bench-lite")
    loaded = [
        adapter.load(saved_to_disk(tmp_path / "arrow")),
        adapter.load(write_parquet(tmp_path / "parquet" / "train-0.parquet", rows(), XLRS_SCHEMA)),
        adapter.load(vlmevalkit_release(tmp_path / "vlmevalkit")),
    ]

    first = [(s.id, s.question, s.options, s.answer, s.level, s.category, len(s.images)) for s in loaded[0].samples]
    for data in loaded[1:]:
        assert [(s.id, s.question, s.options, s.answer, s.level, s.category, len(s.images)) for s in data.samples] == first
        assert [s.images for s in data.samples] == [s.images for s in loaded[0].samples]


def test_missing_options_rejected(tmp_path: Path) -> None:
    broken = rows()
    broken[3]["multi-choice options"] = None
    path = write_parquet(tmp_path / "train.parquet", broken, XLRS_SCHEMA)

    with pytest.raises(InputError, match=r"train\.parquet:4: record lacks multi-choice options"):
        get_benchmark("xlrs-bench-lite").load(path)


def test_land_use_replies_with_rule_named(tmp_path: Path) -> None:
    release = saved_to_disk(tmp_path / "XLRS-Bench-lite")
    outcomes = {}
    for reply in ("A C", "C, A", "A"):
        replay = write_replay(tmp_path / f"{reply}.jsonl", {"2": reply})
        scores = eval_with_replay("xlrs-bench-lite", release, replay, tmp_path / f"run-{len(outcomes)}", "--limit", "3")
        key = "Land use classification/Overall Land use classification"
        outcomes[reply] = (group(scores, "paper", key)["correct"], group(scores, "robust", key)["correct"])

    assert outcomes == {"A C": (1.0, 1.0), "C, A": (1.0, 1.0), "A": (0.0, 0.0)}
    assert "exact_set" in scores["rule_descriptions"]["robust"]
    assert "letter" in scores["rule_descriptions"]["paper"]


def test_direct_sends_both_change_images(tmp_path: Path) -> None:
    release = saved_to_disk(tmp_path / "XLRS-Bench-lite")
    script = by_marker(
        {
            "storage tanks": [Reply(text="B")],
            "built between": [Reply(text="The answer is C.")],
            "land-use types": [Reply(text="A C")],
            "largest ship": [Reply(text="I am not sure.")],
        },
        Reply(status=400, error="unexpected request"),
    )
    with ScriptedOpenAIServer(script) as server:
        summary = run_eval(EvalSettings(data=release, model="openai:stub-vlm", benchmark="xlrs-bench-lite",
                                        protocol="direct", endpoint=server.url, out=tmp_path / "run",
                                        max_side=32, api_key="EMPTY", resamples=0, concurrency=2))
        change_request = next(request for request in server.requests if "built between" in request.text)

    views = [Image.open(io.BytesIO(data)) for data in change_request.images]
    assert len(views) == 2
    assert all(view.size == (32, 22) for view in views)
    assert "(C) 6" in change_request.text
    robust = summary.scores["rules"]["robust"]["final"]
    assert robust["micro"]["correct"] == 3
    assert robust["micro"]["no_answers"] == 1
    # lmms-eval's macro score is the mean over sub-tasks.
    assert robust["macro_over_types"]["accuracy"] == pytest.approx(3 / 4)
