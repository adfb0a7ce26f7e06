"""Awkward multiple-choice replies, end to end through each multiple-choice adapter.

Each reply goes through ``lrsgro eval --model replay:FILE``: the adapter reads a file in its
published layout, the replay backend re-extracts the answer, and the report scores it. The
run log is then re-scored question by question with the adapter, as the report does.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from lrsgro.benchmarks import get_benchmark
from lrsgro.eval.runlog import read_predictions
from tests.benchmark_files import (
    XLRS_SCHEMA,
    eval_with_replay,
    image_bytes,
    mme_annotation,
    write_json,
    write_parquet,
    write_replay,
    xlrs_row,
)

VEHICLES = ["blue truck", "white bus", "green van", "red car"]
SIDES = ["图像的右侧", "图像的左侧", "图像的上方", "图像的下方"]
# (question id, reply, options, expected letter or None for a no-answer)
CASES = [
    ("q1", "Answer: B", VEHICLES, "B"),
    ("q2", "The correct answer is (B).", VEHICLES, "B"),
    ("q3", "Based on the image, the answer is C", VEHICLES, "C"),
    ("q4", "The answer is B because a car moves.", VEHICLES, "B"),
    ("q5", "<answer>red car</answer>", VEHICLES, "D"),
    ("q6", "图像的右侧", SIDES, "A"),
    ("q7", "I cannot determine this from the picture.", VEHICLES, None),
]


def truth(expected: str | None) -> str:
    # The unparseable reply gets a reference too; it must score as a no-answer, not a guess.
    return expected or "A"


def mme_release(folder: Path) -> Path:
    (folder / "remote_sensing").mkdir(parents=True)
    (folder / "remote_sensing" / "scene.png").write_bytes(image_bytes((32, 32), 7))
    records = []
    for qid, _, options, expected in CASES:
        choices = [f"({letter}){'' if options is SIDES else ' '}{text}" for letter, text in zip("ABCD", options)]
        choices.append("(E) The image does not feature it.")
        records.append(mme_annotation(qid, "remote_sensing/scene.png", f"Question {qid}?", choices, truth(expected), "position"))
    return write_json(folder / "MME_RealWorld.json", records)


def xlrs_release(folder: Path) -> Path:
    rows = []
    for index, (qid, _, options, expected) in enumerate(CASES):
        choices = [f"({letter}){'' if options is SIDES else ' '}{text}" for letter, text in zip("ABCD", options)]
        row = xlrs_row(index, [image_bytes((32, 32), 7)], f"Question {qid}?", choices, truth(expected),
                       "Object spatial relationship/Object spatial relationship")
        rows.append({**row, "index": int(qid[1:])})
    return write_parquet(folder / "data" / "train-0.parquet", rows, XLRS_SCHEMA)


def geollava_release(folder: Path) -> Path:
    (folder / "SuperRS-VQA").mkdir(parents=True)
    (folder / "SuperRS-VQA" / "scene.png").write_bytes(image_bytes((32, 32), 7))
    records = []
    for qid, _, options, expected in CASES:
        lines = [f"({letter}){text}" if options is SIDES else f"{letter}. {text}" for letter, text in zip("ABCD", options)]
        prompt = "<image>\n" + f"Question {qid}?\n" + "\n".join(lines)
        records.append({"id": qid, "image": "SuperRS-VQA/scene.png",
                        "conversations": [{"from": "human", "value": prompt}, {"from": "gpt", "value": truth(expected)}]})
    return write_json(folder / "test.json", records)


# XLRS-Bench ids are the integer ``index`` column, so its questions are "1".."7".
ADAPTERS: dict[str, tuple[Callable[[Path], Path], Callable[[str], str]]] = {
    "mme-realworld-rs": (mme_release, lambda qid: qid),
    "xlrs-bench-lite": (xlrs_release, lambda qid: qid[1:]),
    "geollava-8k": (geollava_release, lambda qid: qid),
}


@pytest.mark.parametrize("benchmark", sorted(ADAPTERS))
def test_awkward_replies_end_to_end(benchmark: str, tmp_path: Path) -> None:
    write_release, question_id = ADAPTERS[benchmark]
    data = write_release(tmp_path / "data")
    replay = write_replay(tmp_path / "replay.jsonl", {question_id(qid): reply for qid, reply, _, _ in CASES})

    scores = eval_with_replay(benchmark, data, replay, tmp_path / "run")

    robust = scores["rules"]["robust"]["final"]["micro"]
    assert robust["counted"] == len(CASES)
    assert robust["correct"] == len(CASES) - 1
    assert robust["no_answers"] == 1

    adapter = get_benchmark(benchmark)
    expected = {question_id(qid): letter for qid, _, _, letter in CASES}
    for record in read_predictions(tmp_path / "run" / "predictions.jsonl"):
        score = adapter.score("robust", record.answer, record.reference, record.raw_output)
        assert score.answer == expected[record.qid], (record.qid, record.raw_output, score.explanation)
        assert score.status == ("no_answer" if expected[record.qid] is None else "scored")


def test_option_text_loaded_whole(tmp_path: Path) -> None:
    for benchmark, (write_release, question_id) in ADAPTERS.items():
        data = get_benchmark(benchmark).load(write_release(tmp_path / benchmark))
        sides = next(sample for sample in data.samples if sample.id == question_id("q6"))
        assert sides.options[:4] == tuple(SIDES), benchmark


def test_mme_published_rule_quirks(tmp_path: Path) -> None:
    data = mme_release(tmp_path / "data")
    replay = write_replay(tmp_path / "replay.jsonl", {qid: reply for qid, reply, _, _ in CASES})
    eval_with_replay("mme-realworld-rs", data, replay, tmp_path / "run")

    adapter = get_benchmark("mme-realworld-rs")
    read = {
        record.qid: adapter.score("paper", record.answer, record.reference, record.raw_output)
        for record in read_predictions(tmp_path / "run" / "predictions.jsonl")
    }
    # "Answer: B": the first capital A-E is the "A" of "Answer".
    assert read["q1"].answer == "A"
    # The prefix "The correct answer is" is removed, leaving "(B).".
    assert read["q2"].answer == "B"
    # "Based ...": the first capital A-E is the "B" of "Based".
    assert read["q3"].answer == "B"
    assert read["q7"].status == "no_answer"
