"""Which files a --data folder gives each zero-shot adapter, and how a missing image is reported.

Also checks that the README's "Zero-shot benchmarks" section names every file pattern the
adapters read and that its example records load, since users lay out their data from it.
"""

from __future__ import annotations

import importlib
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from lrsgro.benchmarks import get_benchmark
from lrsgro.cli import cli
from lrsgro.errors import InputError
from tests.benchmark_files import image_bytes, mme_annotation, mme_base64_row, run_cli, write_json, write_jsonl
from tests.test_benchmarks_geollava import release as geollava_release
from tests.test_benchmarks_lrs_vqa import RECORDS as LRS_VQA_RECORDS
from tests.test_benchmarks_lrs_vqa import release as lrs_vqa_release
from tests.test_benchmarks_mme import CHOICES, annotation_release, base64_release
from tests.test_benchmarks_xlrs import saved_to_disk

README = Path(__file__).resolve().parents[1] / "README.md"
ADAPTER_MODULES = {
    "mme-realworld-rs": "lrsgro.benchmarks.mme_realworld_rs",
    "xlrs-bench-lite": "lrsgro.benchmarks.xlrs_bench",
    "geollava-8k": "lrsgro.benchmarks.geollava_8k",
    "lrs-vqa": "lrsgro.benchmarks.lrs_vqa",
}


def geollava_folder(folder: Path) -> Path:
    """Return the release root: every JSON file inside geollava_raw_format/ is a question file."""
    geollava_release(folder)
    return folder


def lrs_vqa_folder(folder: Path) -> Path:
    lrs_vqa_release(folder)
    return folder


# Each writer returns the folder to pass as --data.
RELEASES: dict[str, Callable[[Path], Path]] = {
    "mme-realworld-rs": lambda folder: annotation_release(folder).parent,
    "xlrs-bench-lite": saved_to_disk,
    "geollava-8k": geollava_folder,
    "lrs-vqa": lrs_vqa_folder,
}


def add_stray_files(folder: Path) -> None:
    """Add files no adapter can read: a JSON list of numbers and, one level down, broken JSON Lines."""
    write_json(folder / "stray.json", [1, 2])
    (folder / "notes").mkdir()
    (folder / "notes" / "old.jsonl").write_text("not JSON\n", encoding="utf-8")


def zero_shot_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Zero-shot benchmarks")
    end = text.find("\n## ", start + 1)
    return text[start:] if end == -1 else text[start:end]


@pytest.mark.parametrize("benchmark", sorted(RELEASES))
def test_stray_files_in_folder_left_out(benchmark: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = RELEASES[benchmark](tmp_path / "release")
    expected = [sample.id for sample in get_benchmark(benchmark).load(folder).samples]
    add_stray_files(folder)

    with caplog.at_level(logging.INFO, logger="lrsgro.benchmarks"):
        data = get_benchmark(benchmark).load(folder)

    assert [sample.id for sample in data.samples] == expected
    listed = [record.getMessage() for record in caplog.records if "left out" in record.getMessage()]
    assert len(listed) == 1
    assert "notes/old.jsonl" in listed[0]
    assert "stray.json" in listed[0]


@pytest.mark.parametrize("benchmark", sorted(RELEASES))
def test_folder_without_question_file_lists_names(benchmark: str, tmp_path: Path) -> None:
    add_stray_files(tmp_path)
    patterns = importlib.import_module(ADAPTER_MODULES[benchmark]).DATA_FILES

    with pytest.raises(InputError, match=f"no {benchmark} question file found") as caught:
        get_benchmark(benchmark).load(tmp_path)

    assert all(pattern in caught.value.fix for pattern in patterns)
    assert "stray.json" in caught.value.fix


def test_file_named_outside_patterns_read_when_given(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "my_questions.jsonl", LRS_VQA_RECORDS[:2])

    data = get_benchmark("lrs-vqa").load(path)

    assert [sample.id for sample in data.samples] == ["FAIR_1", "FAIR_2"]


def test_base64_folder_of_chinese_version_left_out(tmp_path: Path) -> None:
    base64_release(tmp_path)
    chinese = mme_base64_row(40, image_bytes((48, 32), 7), "屋顶是什么颜色？", CHOICES["color"], "A", "color")
    write_json(tmp_path / "MME-RealWorld-CN" / "MME_RealWorld_CN_base64_0.json", [chinese])

    data = get_benchmark("mme-realworld-rs").load(tmp_path)

    assert [sample.id for sample in data.samples] == ["0", "1", "2"]


def test_missing_mme_image_named_with_path_and_fix(tmp_path: Path) -> None:
    (tmp_path / "remote_sensing").mkdir()
    (tmp_path / "remote_sensing" / "00001.png").write_bytes(image_bytes((48, 32), 1))
    qid = "perception/remote_sensing/color/0001"
    record = mme_annotation(qid, "00001.png", "What color is the roof?", CHOICES["color"], "D", "color")
    path = write_json(tmp_path / "MME_RealWorld.json", [record])

    note = get_benchmark("mme-realworld-rs").load(path).notes["image-missing"]

    assert note.examples == [qid]
    assert f"question {qid}" in note.message
    assert "Image '00001.png'" in note.message
    assert str(tmp_path.resolve() / "00001.png") in note.message
    assert "remote_sensing/" in note.message
    assert "--images" in note.message


def test_missing_image_message_printed_by_eval(tmp_path: Path) -> None:
    qid = "perception/remote_sensing/count/0002"
    record = mme_annotation(qid, "00002.png", "How many ships?", CHOICES["count"], "B", "count")
    path = write_json(tmp_path / "data" / "MME_RealWorld.json", [record])

    result = run_cli("eval", "--benchmark", "mme-realworld-rs", "--data", str(path), "--model", "majority",
                     "--out", str(tmp_path / "run"), "--resamples", "0")

    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert f"data: image file not found (first: question {qid}, Image '00002.png', tried" in output
    assert "remote_sensing/" in output


@pytest.mark.parametrize(
    ("benchmark", "field", "record"),
    [
        ("lrs-vqa", "image", {**LRS_VQA_RECORDS[0], "image": "LRS_VQA/image/gone.tif"}),
        ("geollava-8k", "image", {"id": "g1", "image": "SuperRS-VQA/gone.png",
                                  "conversations": [{"from": "human", "value": "Is there a port?"},
                                                    {"from": "gpt", "value": "yes"}]}),
        ("xlrs-bench-lite", "image", {"index": 3, "image": "gone.png", "question": "What color is the ship?",
                                      "multi-choice options": ["(A) white", "(B) red"], "answer": "A",
                                      "category": "Object properties/Object color"}),
    ],
)
def test_missing_image_named_by_each_adapter(benchmark: str, field: str, record: dict, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "questions.jsonl", [record])
    value = record[field]

    note = get_benchmark(benchmark).load(path).notes["image-missing"]

    qid = str(record.get("question_id", record.get("id", record.get("index"))))
    assert f"question {qid}, {field} {value!r}, tried {tmp_path.resolve() / value}" in note.message
    assert "--images" in note.message


def test_readme_names_every_file_pattern() -> None:
    section = zero_shot_section()

    for name, module in ADAPTER_MODULES.items():
        subsection = section[section.index(f"### {name}"):]
        subsection = subsection[: subsection.find("\n### ", 1)] if "\n### " in subsection[1:] else subsection
        for pattern in importlib.import_module(module).DATA_FILES:
            assert f"`{pattern}`" in subsection, f"{name}: {pattern}"


def test_readme_example_records_load(tmp_path: Path) -> None:
    section = zero_shot_section()
    # One example per subsection, in the order mme-realworld-rs, xlrs-bench-lite, geollava-8k, lrs-vqa.
    headings = [section.index(f"### {name}") for name in ADAPTER_MODULES]
    assert headings == sorted(headings)
    records = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", section, re.DOTALL)]
    assert len(records) == len(ADAPTER_MODULES)
    (tmp_path / "remote_sensing").mkdir()
    (tmp_path / "remote_sensing" / "00001.png").write_bytes(image_bytes((48, 32), 1))

    mme = get_benchmark("mme-realworld-rs").load(write_json(tmp_path / "MME_RealWorld.json", records[:1]))
    xlrs = get_benchmark("xlrs-bench-lite").load(write_jsonl(tmp_path / "XLRS-Bench-lite.jsonl", records[1:2]))
    geo = get_benchmark("geollava-8k").load(write_json(tmp_path / "geo.json", records[2:3]))
    lrs = get_benchmark("lrs-vqa").load(write_jsonl(tmp_path / "LRS_VQA_merged.jsonl", records[3:]))

    assert mme.samples[0].image == (tmp_path / "remote_sensing" / "00001.png").resolve()
    assert (mme.samples[0].level, mme.samples[0].category, mme.samples[0].answer) == ("Perception", "Color", "D")
    assert (xlrs.samples[0].level, xlrs.samples[0].category, xlrs.samples[0].answer) == (
        "Counting", "Overall counting", "B")
    assert geo.samples[0].options == ("2", "4", "6", "8")
    assert geo.samples[0].answer == "B"
    assert lrs.samples[0].question == "How many bridges are there in the image?"


def test_help_points_data_to_readme_section() -> None:
    result = CliRunner().invoke(cli, ["eval", "--help"], terminal_width=80)
    lines = result.output.splitlines()
    start = next(index for index, line in enumerate(lines) if line.strip().startswith("--data"))
    end = next(index for index in range(start + 1, len(lines)) if lines[index].strip().startswith("--"))

    data_help = " ".join(" ".join(lines[start:end]).split())

    assert 'README section "Zero-shot benchmarks"' in data_help
    assert "## Zero-shot benchmarks" in README.read_text(encoding="utf-8")
