"""`lrsgro score` on ZoomEarth result files and run directories; baselines and their table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lrsgro.cli import cli
from lrsgro.eval import run_baselines
from lrsgro.eval.runner import EvalSettings, run_eval
from tests.eval_support import rl_record, write_built_dataset, write_jsonl


def zoomearth_line(qid, truth, answer1, answer2, bbox, bbox_ref, category, level, stage1=None, stage2=None):
    """Return one line of a ZoomEarth result file; raw stage texts default to tagged answers."""
    if stage1 is None:
        stage1 = f"<answer>{answer1}</answer>"
    if stage2 is None:
        stage2 = f"<answer>{answer2}</answer>" if answer2 else ""
    return {
        "question_id": qid, "ground_truth": truth, "answer1": answer1, "answer2": answer2, "bbox_ref": bbox_ref,
        "bbox": bbox, "prompt": "...", "category": category, "stage1": stage1, "stage2": stage2,
        "type": level, "image": f"{qid}.png", "error": False, "model_id": "ZoomEarth---LRS-GRO",
    }


@pytest.fixture
def zoomearth_file(tmp_path: Path) -> Path:
    lines = [
        # Zoom fixes the answer; the predicted box is the reference box in the 512 view frame.
        zoomearth_line("a1", "white", "red", "white", [[50, 50, 100, 80]], [100, 100, 200, 160], "Object color / pattern", "object"),
        # No box: answer2 is null and stage 2 is empty; the stage-1 answer stands.
        zoomearth_line("a2", "Yes", "yes", None, [], [30, 30, 60, 60], "Object existence", "region"),
        # The raw-output variant of the authors' vLLM script: answer1 holds the whole reply.
        zoomearth_line("a3", "summer", "<think>scene</think><answer>Summer</answer>", "", [], [], "Season", "global", stage2=""),
        # A failed request as the authors record it.
        zoomearth_line("a4", "3", "Error: Connection refused", "", "", [10, 10, 20, 20], "Counting", "region",
                       stage1="Error: Connection refused", stage2=""),
        # Zoom breaks a right answer; the flat box list variant; a category outside the 17.
        zoomearth_line("a5", "port", "port", "airport", [0, 0, 512, 512], [0, 0, 10, 10], "Land use", "global"),
    ]
    path = tmp_path / "zoomearth.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def score_json(target: Path, *args: str) -> dict:
    result = CliRunner().invoke(cli, ["score", str(target), "--json", "--resamples", "20", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_zoomearth_counts_and_stages(zoomearth_file: Path) -> None:
    scores = score_json(zoomearth_file)

    assert scores["format"] == "zoomearth"
    assert scores["questions"]["answered"] == 4
    assert scores["questions"]["errors"] == 1
    assert scores["questions"]["outside_taxonomy"] == 1

    paper = scores["rules"]["paper"]
    assert paper["final"]["micro"]["counted"] == 3
    assert paper["final"]["micro"]["correct"] == 3
    assert paper["stage1"]["micro"]["correct"] == 2
    assert paper["outside_taxonomy"]["micro"]["correct"] == 0
    assert scores["zoom"]["questions_zoomed"] == 2
    assert scores["zoom"]["changes"]["paper"] == {"fixed_by_zoom": 1, "broken_by_zoom": 1}


def test_zoomearth_iou_in_common_frame(zoomearth_file: Path) -> None:
    iou = score_json(zoomearth_file)["roi_iou"]["full_resolution"]
    # a1 matches exactly, a2 needs a region but has no box, a5 is apart but still in the IoU.
    assert iou["questions"] == 3
    assert iou["missing_boxes"] == 1
    expected_a5 = (10 * 10) / (1024 * 1024)
    assert iou["mean_iou"] == pytest.approx((1.0 + 0.0 + expected_a5) / 3)


def test_score_run_directory_rewrites_scores(tmp_path: Path) -> None:
    records = [
        rl_record("t1", "a.tif", "Urban-Rural", "Is the area urban or rural?", "urban", "global", None, split="test"),
        rl_record("t2", "a.tif", "Urban-Rural", "Urban or rural?", "rural", "global", None, split="test"),
        rl_record("r1", "b.tif", "Urban-Rural", "Is it urban or rural?", "urban", "global", None, split="RL"),
    ]
    data = write_jsonl(tmp_path / "release.jsonl", records)
    out = tmp_path / "run"
    run_eval(EvalSettings(data=data, model="majority", out=out, reference_split="rl", resamples=0))
    (out / "scores.json").unlink()

    scores = score_json(out)
    assert (out / "scores.json").is_file()
    assert scores["model"] == "majority"
    assert scores["rules"]["paper"]["final"]["micro"]["correct"] == 1
    assert scores["rules"]["robust"]["final"]["micro"]["counted"] == 2


def test_score_prints_labelled_rule(zoomearth_file: Path) -> None:
    result = CliRunner().invoke(cli, ["score", str(zoomearth_file), "--rule", "robust", "--resamples", "0"])
    assert result.exit_code == 0, result.output
    assert "rule: robust" in result.output
    assert "micro accuracy, rule paper" in result.output


def test_majority_reference_fallback_is_reported(tmp_path: Path) -> None:
    records = [rl_record(f"t{n}", "a.tif", "Season", "Which season?", s, "global", None, split="test")
               for n, s in enumerate(["summer", "winter", "summer"])]
    data = write_jsonl(tmp_path / "release.jsonl", records)
    summary = run_eval(EvalSettings(data=data, model="majority", out=tmp_path / "run", resamples=0))

    assert any("overstates" in message for message in summary.messages)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["baseline"]["reference_split"] == "test"
    assert summary.scores["rules"]["paper"]["final"]["micro"]["correct"] == 2


def test_run_baselines_per_level_table(tmp_path: Path) -> None:
    def row(qid, split, level, category, answer, roi=None):
        return {"qid": qid, "image_id": f"img-{split}", "split": split, "level": level, "category": category,
                "question": f"Question {qid}?", "answer": answer, "roi": roi}

    rows = [
        row("tr1", "train", "region", "Object existence", "yes", [0, 0, 50, 50]),
        row("tr2", "train", "region", "Object existence", "yes", [0, 0, 50, 50]),
        row("tr3", "train", "region", "Object existence", "no", [0, 0, 50, 50]),
        row("tr4", "train", "global", "Urban-Rural", "rural"),
        row("te1", "test", "region", "Object existence", "yes", [10, 10, 60, 60]),
        row("te2", "test", "region", "Object existence", "no", [10, 10, 60, 60]),
        row("te3", "test", "global", "Urban-Rural", "rural"),
        row("te4", "test", "global", "Urban-Rural", "urban"),
    ]
    folder = write_built_dataset(tmp_path / "ds", rows)

    table = run_baselines(folder)
    by_level = {r.level: r for r in table.rows}
    assert table.split == "test"
    assert table.reference_split == "train"
    assert [r.level for r in table.rows] == ["global", "region", "all"]
    assert by_level["region"].majority == pytest.approx(0.5)
    assert by_level["global"].majority == pytest.approx(0.5)
    assert by_level["all"].questions == 4
    assert by_level["global"].random == pytest.approx(0.5)
    assert 0.0 <= by_level["region"].random <= 1.0
    assert run_baselines(folder).rows == table.rows


def season_row(qid: str, split: str, answer: str, category: str = "Season") -> dict:
    return {"qid": qid, "image_id": f"img-{split}", "split": split, "level": "global", "category": category,
            "question": f"Which {category.lower()} is question {qid} about?", "answer": answer}


def test_score_table_hides_interval_below_five(tmp_path: Path) -> None:
    rows = [season_row("tr1", "train", "summer"), season_row("tr2", "train", "rural", "Urban-Rural")]
    rows += [season_row(f"s{n}", "test", "summer" if n % 2 else "winter") for n in range(6)]
    rows += [season_row(f"u{n}", "test", "rural", "Urban-Rural") for n in range(2)]
    folder = write_built_dataset(tmp_path / "ds", rows)
    run_eval(EvalSettings(data=folder, model="majority", out=tmp_path / "run", resamples=200))

    result = CliRunner().invoke(cli, ["score", str(tmp_path / "run"), "--resamples", "200"], env={"COLUMNS": "160"})

    assert result.exit_code == 0, result.output
    rows = {cells[0]: cells[1:] for cells in table_cells(result.output)}
    # Cells after the group: accuracy, interval, n, no answer, failed.
    assert rows["global/Urban-Rural"][1:3] == ["n<5", "2"]
    assert rows["global/Season"][2] == "6"
    assert rows["global/Season"][1].endswith("%")
    assert rows["macro over types"][2] == "8 (2 types)"
    assert "100.00%-100.00%" not in result.output


def table_cells(output: str) -> list[list[str]]:
    """Return the cells of each body row of the rich tables in ``output``."""
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in output.splitlines() if line.startswith("│")]


def test_limited_run_records_question_set(tmp_path: Path) -> None:
    rows = [season_row("tr1", "train", "summer")]
    rows += [season_row(f"s{n}", "test", "summer") for n in range(6)]
    folder = write_built_dataset(tmp_path / "ds", rows)

    limited = run_eval(EvalSettings(data=folder, model="majority", out=tmp_path / "limited", limit=3, resamples=0))
    full = run_eval(EvalSettings(data=folder, model="majority", out=tmp_path / "full", resamples=0))

    manifest = json.loads((tmp_path / "limited" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["questions_selected"] == 3
    assert manifest["questions_in_split"] == 6
    assert limited.scores["questions"]["in_split"] == 6
    assert limited.scores["questions"]["scored"] == 3
    assert limited.scores["questions"]["scored_ids_sha256"] != full.scores["questions"]["scored_ids_sha256"]

    # Scoring the run directory again keeps both values.
    rescored = score_json(tmp_path / "limited")
    assert rescored["questions"]["in_split"] == 6
    assert rescored["questions"]["scored_ids_sha256"] == limited.scores["questions"]["scored_ids_sha256"]
