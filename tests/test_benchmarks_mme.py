"""MME-RealWorld remote-sensing adapter: three published layouts, filtering, image cache, scoring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lrsgro.benchmarks import _records, get_benchmark
from lrsgro.errors import InputError
from tests.benchmark_files import (
    MME_LMMS_EVAL_SCHEMA,
    eval_with_replay,
    group,
    image_bytes,
    mme_annotation,
    mme_base64_row,
    mme_lmms_eval_row,
    write_json,
    write_parquet,
    write_replay,
)

CHOICES = {
    "color": ["(A) Red", "(B) Blue", "(C) Gray", "(D) White", "(E) The image does not feature the roof."],
    "count": ["(A) 3", "(B) 7", "(C) 12", "(D) 15", "(E) The image does not feature the ships."],
    "position": ["(A)图像的右侧", "(B)图像的左侧", "(C)图像的上方", "(D)图像的下方", "(E)图像的中央"],
}
# (id, image seed, question, category, answer letter)
QUESTIONS = [
    ("perception/remote_sensing/color/0001", 1, "What color is the roof of the square building?", "color", "D"),
    ("perception/remote_sensing/count/0002", 2, "How many ships are docked at the pier?", "count", "B"),
    ("perception/remote_sensing/position/0003", 1, "Where is the airport in the image?", "position", "A"),
]
OTHER_SUBTASK = ("perception/ocr_cc/0004", 3, "What does the sign say?", "text", "A")


def annotation_release(folder: Path) -> Path:
    """Write ``MME_RealWorld.json`` and ``remote_sensing/*.png`` as the image archives unpack."""
    for _, seed, *_ in [*QUESTIONS, OTHER_SUBTASK]:
        (folder / "remote_sensing").mkdir(parents=True, exist_ok=True)
        (folder / "remote_sensing" / f"{seed:05d}.png").write_bytes(image_bytes((48, 32), seed))
    records = [
        mme_annotation(qid, f"remote_sensing/{seed:05d}.png", text, CHOICES[category], answer, category)
        for qid, seed, text, category, answer in QUESTIONS
    ]
    qid, seed, text, _, answer = OTHER_SUBTASK
    records.append(mme_annotation(qid, f"remote_sensing/{seed:05d}.png", text, CHOICES["color"], answer,
                                  "text", subtask="OCR with Complex Context"))
    return write_json(folder / "MME_RealWorld.json", records)


def base64_release(folder: Path) -> Path:
    """Write the MME-RealWorld-Base64 layout: ``MME-RealWorld/MME_RealWorld_base64_<n>.json``."""
    rows = [
        mme_base64_row(index, image_bytes((48, 32), seed), text, CHOICES[category], answer, category)
        for index, (_, seed, text, category, answer) in enumerate(QUESTIONS)
    ]
    _, seed, text, _, answer = OTHER_SUBTASK
    rows.append(mme_base64_row(9, image_bytes((48, 32), seed), text, CHOICES["color"], answer, "text",
                               category="Perception/OCR with Complex Context"))
    write_json(folder / "MME-RealWorld" / "MME_RealWorld_base64_0.json", rows[:2])
    write_json(folder / "MME-RealWorld" / "MME_RealWorld_base64_1.json", rows[2:])
    return folder / "MME-RealWorld"


def parquet_release(folder: Path) -> Path:
    """Write the lmms-eval layout: ``data/train-*.parquet`` with base64 text in ``bytes``."""
    rows = [
        mme_lmms_eval_row(index, image_bytes((48, 32), seed, "JPEG"), text, CHOICES[category], answer, category)
        for index, (_, seed, text, category, answer) in enumerate(QUESTIONS)
    ]
    return write_parquet(folder / "data" / "train-00000-of-00001.parquet", rows, MME_LMMS_EVAL_SCHEMA).parent


def test_annotation_layout_keeps_remote_sensing_only(tmp_path: Path) -> None:
    data = get_benchmark("mme-realworld-rs").load(annotation_release(tmp_path))

    assert [sample.id for sample in data.samples] == [qid for qid, *_ in QUESTIONS]
    color = data.samples[0]
    assert color.options == ("Red", "Blue", "Gray", "White", "The image does not feature the roof.")
    assert color.answer == "D"
    assert (color.level, color.category) == ("Perception", "Color")
    assert color.image_size == (48, 32)
    assert color.image == tmp_path / "remote_sensing" / "00001.png"


def test_option_without_space_keeps_first_character(tmp_path: Path) -> None:
    data = get_benchmark("mme-realworld-rs").load(annotation_release(tmp_path))

    position = data.samples[2]
    assert position.options[0] == "图像的右侧"
    assert position.options[4] == "图像的中央"


def test_three_layouts_give_same_questions(tmp_path: Path) -> None:
    adapter = get_benchmark("mme-realworld-rs")
    loaded = [
        adapter.load(annotation_release(tmp_path / "annotation")),
        adapter.load(base64_release(tmp_path / "base64")),
        adapter.load(parquet_release(tmp_path / "parquet")),
    ]

    for data in loaded:
        assert [(s.question, s.options, s.answer, s.category, s.level) for s in data.samples] == [
            (s.question, s.options, s.answer, s.category, s.level) for s in loaded[0].samples
        ]
        assert all(sample.image_size == (48, 32) for sample in data.samples)


def test_embedded_images_decoded_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LRSGRO_CACHE", str(tmp_path / "cache"))
    release = base64_release(tmp_path / "base64")
    adapter = get_benchmark("mme-realworld-rs")
    first = adapter.load(release)
    cache = first.samples[0].image.parent
    written = {path: path.stat().st_mtime_ns for path in cache.iterdir()}

    second = adapter.load(release)

    assert cache == tmp_path / "cache" / "decoded"
    assert [s.images for s in second.samples] == [s.images for s in first.samples]
    # Questions 1 and 3 share an image, so three records hold two distinct images.
    assert len({s.image for s in first.samples}) == 2
    assert sorted(written) == sorted({s.image for s in first.samples})
    assert {path: path.stat().st_mtime_ns for path in cache.iterdir()} == written
    assert all(path.suffix == ".png" and len(path.stem) == 64 for path in written)


def test_parquet_images_keep_their_format(tmp_path: Path) -> None:
    data = get_benchmark("mme-realworld-rs").load(parquet_release(tmp_path))

    assert {sample.image.suffix for sample in data.samples} == {".jpg"}
    assert data.samples[0].image.read_bytes()[:3] == b"\xff\xd8\xff"


def test_large_json_read_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    release = base64_release(tmp_path)
    monkeypatch.setattr(_records, "JSON_CHUNK_BYTES", 97)

    data = get_benchmark("mme-realworld-rs").load(release)

    assert [sample.answer for sample in data.samples] == [answer for *_, answer in QUESTIONS]


def test_record_without_ground_truth_rejected(tmp_path: Path) -> None:
    path = annotation_release(tmp_path)
    records = json.loads(path.read_text(encoding="utf-8"))
    del records[1]["Ground truth"]
    write_json(path, records)

    with pytest.raises(InputError, match=r"MME_RealWorld\.json:2: record lacks answer"):
        get_benchmark("mme-realworld-rs").load(path)


def test_invalid_base64_named(tmp_path: Path) -> None:
    path = write_json(tmp_path / "bad.json", [{**mme_base64_row(7, b"", "Q?", CHOICES["count"], "A", "count"),
                                               "image": "not base64 !" * 100}])

    with pytest.raises(InputError, match=r"bad\.json:1: question 7: an embedded image is not valid base64"):
        get_benchmark("mme-realworld-rs").load(path)


def test_answer_outside_options_rejected(tmp_path: Path) -> None:
    path = annotation_release(tmp_path)
    records = json.loads(path.read_text(encoding="utf-8"))
    records[0]["Ground truth"] = "F"
    write_json(path, records)

    with pytest.raises(InputError, match="neither option letters"):
        get_benchmark("mme-realworld-rs").load(path)


def test_report_uses_paper_categories(tmp_path: Path) -> None:
    release = annotation_release(tmp_path)
    replay = write_replay(tmp_path / "replay.jsonl", {
        QUESTIONS[0][0]: "D",
        QUESTIONS[1][0]: "Answer: B",
        QUESTIONS[2][0]: "(B) 图像的左侧",
    })

    scores = eval_with_replay("mme-realworld-rs", release, replay, tmp_path / "run")

    assert set(scores["rules"]) == {"paper", "robust"}
    assert "MME-RealWorld's published letter extraction" in scores["rule_descriptions"]["paper"]
    assert group(scores, "robust", "Perception/Color")["accuracy"] == 1.0
    assert group(scores, "robust", "Perception/Count")["accuracy"] == 1.0
    assert group(scores, "robust", "Perception/Position")["accuracy"] == 0.0
    # The published extraction reads the "A" of "Answer" before the chosen letter.
    assert group(scores, "paper", "Perception/Count")["accuracy"] == 0.0
    assert scores["rules"]["paper"]["final"]["per_level"]["Perception"]["counted"] == 3


def test_parquet_binary_image_column(tmp_path: Path) -> None:
    import pyarrow as pa

    schema = pa.schema([
        ("index", pa.int64()), ("question", pa.string()), ("multi-choice options", pa.list_(pa.string())),
        ("answer", pa.string()), ("category", pa.string()), ("l2-category", pa.string()),
        ("image", pa.struct([("bytes", pa.binary()), ("path", pa.string())])),
    ])
    png = image_bytes((24, 16), 11)
    row = {**mme_base64_row(5, png, "How many planes?", CHOICES["count"], "C", "count"),
           "image": {"bytes": png, "path": "remote_sensing/00005.png"}}

    data = get_benchmark("mme-realworld-rs").load(write_parquet(tmp_path / "rs.parquet", [row], schema))

    assert data.samples[0].image.read_bytes() == png
    assert data.samples[0].image_size == (24, 16)


@pytest.mark.parametrize(
    ("model", "protocol"),
    [("openai:stub-vlm", "zoom"), ("openai:stub-vlm", "direct"), ("openai:stub-vlm", "blind"),
     ("openai:stub-vlm", "oracle-crop"), ("majority", None), ("random", None)],
)
def test_every_protocol_and_baseline_runs(model: str, protocol: str | None, tmp_path: Path) -> None:
    from lrsgro.eval.runner import EvalSettings, run_eval
    from tests.openai_stub import Reply, ScriptedOpenAIServer

    release = annotation_release(tmp_path / "data")
    reply = '<think>The roof is near the top left.</think> [{"bbox_2d": [2, 2, 20, 20]}] <answer>D</answer>'
    with ScriptedOpenAIServer([Reply(text=reply)]) as server:
        summary = run_eval(EvalSettings(data=release, model=model, benchmark="mme-realworld-rs", protocol=protocol,
                                        endpoint=server.url, out=tmp_path / "run", api_key="EMPTY", resamples=0))

    assert summary.failed == 0
    assert summary.scores["questions"]["answered"] == len(QUESTIONS)
    assert set(summary.scores["rules"]) == {"paper", "robust"}
    if protocol == "zoom":
        assert summary.scores["zoom"]["questions_zoomed"] == len(QUESTIONS)
        # Question 1's reference is D, so zooming gives the right letter there.
        assert group(summary.scores, "robust", "Perception/Color")["accuracy"] == 1.0
