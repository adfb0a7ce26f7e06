"""GeoLLaVA-8K adapter: LLaVA conversation records, subsets, the subset option, scoring."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from lrsgro.benchmarks import get_benchmark
from lrsgro.cli import cli
from lrsgro.errors import InputError
from tests.benchmark_files import eval_with_replay, group, image_bytes, write_json, write_jsonl, write_replay
from tests.eval_support import write_geotiff

COUNT_PROMPT = (
    "<image>\nHow many ships are moored along the quay?\nA. 2\nB. 4\nC. 6\nD. 8\n"
    "Answer with the option's letter from the given choices directly."
)


def conversation(record_id: str, image: str, *turns: tuple[str, str]) -> dict:
    """Return a record in the LLaVA layout of ``geollava_raw_format``."""
    messages = []
    for human, gpt in turns:
        messages += [{"from": "human", "value": human}, {"from": "gpt", "value": gpt}]
    return {"id": record_id, "image": image, "conversations": messages}


def release(folder: Path) -> Path:
    (folder / "SuperRS-VQA").mkdir(parents=True)
    (folder / "HighRS-VQA").mkdir(parents=True)
    (folder / "SuperRS-VQA" / "port.png").write_bytes(image_bytes((64, 48), 1))
    (folder / "HighRS-VQA" / "town.jpg").write_bytes(image_bytes((64, 48), 2, "JPEG"))
    write_geotiff(folder / "unsorted" / "wide.tif", (4100, 40), seed=3)
    write_geotiff(folder / "unsorted" / "small.tif", (300, 200), seed=4)
    records = [
        conversation("0001", "SuperRS-VQA/port.png", (COUNT_PROMPT, "B"),
                     ("What color is the largest ship?", "white")),
        conversation("0002", "HighRS-VQA/town.jpg", ("<image>\nIs there a bridge over the river?", "Yes")),
        conversation("0003", "unsorted/wide.tif",
                     ("<image>\nWhich object is north of the runway?\n(A) a hangar\n(B) a lake\n(C) a road", "C. a road")),
        conversation("0004", "unsorted/small.tif", ("<image>\nWhat is the main land use?", "farmland")),
    ]
    return write_json(folder / "geollava_raw_format" / "test.json", records)


def test_conversations_become_questions(tmp_path: Path) -> None:
    data = get_benchmark("geollava-8k").load(release(tmp_path))

    assert [sample.id for sample in data.samples] == ["0001", "0001#2", "0002", "0003", "0004"]
    count = data.samples[0]
    assert count.question == "How many ships are moored along the quay?"
    assert count.options == ("2", "4", "6", "8")
    assert count.answer == "B"
    assert count.category == "multiple choice"
    assert data.samples[1].options == ()
    assert data.samples[1].answer == "white"
    assert data.samples[3].answer == "C"
    assert data.samples[4].category == "open"


def test_subsets_from_paths_and_sizes(tmp_path: Path) -> None:
    data = get_benchmark("geollava-8k").load(release(tmp_path))

    levels = {sample.id: sample.level for sample in data.samples}
    assert levels == {
        "0001": "SuperRS-VQA", "0001#2": "SuperRS-VQA", "0002": "HighRS-VQA",
        "0003": "SuperRS-VQA", "0004": "HighRS-VQA",
    }
    assert data.notes["subset-from-size"].examples == ["0003", "0004"]


def test_subset_option_filters(tmp_path: Path) -> None:
    adapter = get_benchmark("geollava-8k")
    path = release(tmp_path)

    superrs = adapter.with_options({"subset": "superrs"}).load(path)
    highrs = adapter.with_options({"subset": "highrs"}).load(path)

    assert [sample.id for sample in superrs.samples] == ["0001", "0001#2", "0003"]
    assert [sample.id for sample in highrs.samples] == ["0002", "0004"]
    assert superrs.notes["subset-left-out"].count == 2
    assert adapter.setting("subset") == "all"


def test_invalid_subset_rejected(tmp_path: Path) -> None:
    adapter = get_benchmark("geollava-8k")

    with pytest.raises(InputError, match="invalid value 'super' for option 'subset'"):
        adapter.with_options({"subset": "super"})
    with pytest.raises(InputError, match="has no option 'split'"):
        adapter.with_options({"split": "test"})


def test_flat_records_read(tmp_path: Path) -> None:
    (tmp_path / "SuperRS").mkdir()
    (tmp_path / "SuperRS" / "a.png").write_bytes(image_bytes((32, 32), 5))
    path = write_jsonl(tmp_path / "questions.jsonl", [{
        "question_id": "q1", "image": "SuperRS/a.png", "question": "Which is larger?",
        "options": ["(A) the ship", "(B) the boat"], "answer": "A", "category": "comparison",
    }])

    sample = get_benchmark("geollava-8k").load(path).samples[0]

    assert (sample.level, sample.category, sample.options, sample.answer) == (
        "SuperRS-VQA", "comparison", ("the ship", "the boat"), "A")


def test_cli_option_and_report(tmp_path: Path) -> None:
    data = release(tmp_path)
    replay = write_replay(tmp_path / "replay.jsonl", {
        "0001": "The answer is B.", "0001#2": "White.", "0003": "<answer>a road</answer>",
    })

    scores = eval_with_replay("geollava-8k", data, replay, tmp_path / "run", "--benchmark-option", "subset=superrs")

    assert scores["questions"]["answered"] == 3
    assert set(scores["rules"]["robust"]["final"]["per_level"]) == {"SuperRS-VQA"}
    assert group(scores, "robust", "SuperRS-VQA/multiple choice")["accuracy"] == 1.0
    assert group(scores, "robust", "SuperRS-VQA/open")["accuracy"] == 1.0
    # The published letter rule reads "B" in "The answer is B." but no capital in the tag
    # content "a road", which is a no-answer there.
    assert group(scores, "paper", "SuperRS-VQA/multiple choice")["correct"] == 1.0
    assert group(scores, "paper", "SuperRS-VQA/multiple choice")["no_answers"] == 1


def test_cli_rejects_malformed_option(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["eval", "--benchmark", "geollava-8k", "--data", str(release(tmp_path)),
                                      "--model", "majority", "--benchmark-option", "subset"])

    assert result.exit_code != 0
    assert isinstance(result.exception, InputError)
    assert "KEY=VALUE" in str(result.exception)


def test_option_beyond_e_scored(tmp_path: Path) -> None:
    (tmp_path / "HighRS").mkdir()
    (tmp_path / "HighRS" / "b.png").write_bytes(image_bytes((32, 32), 6))
    lines = "\n".join(f"{letter}. item {letter}" for letter in "ABCDEF")
    path = write_json(tmp_path / "test.json", [
        conversation("0009", "HighRS/b.png", (f"<image>\nWhich item is red?\n{lines}", "F")),
    ])
    sample = get_benchmark("geollava-8k").load(path).samples[0]
    adapter = get_benchmark("geollava-8k")

    assert sample.answer == "F"
    assert adapter.score("robust", "F", sample.reference(), "F").correct
    assert not adapter.score("paper", "F", sample.reference(), "F").correct
