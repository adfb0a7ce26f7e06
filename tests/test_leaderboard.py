"""Tests for ``lrsgro leaderboard``: tables, baselines, cost, plots and reported numbers.

Run logs are written by seeded code here with the run-log models of ``lrsgro.eval.runlog``
and scored by ``lrsgro.eval.report.score_records``, the code behind ``lrsgro eval``; every
expected number is counted again from the generated questions, never copied from the
command's output.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from lrsgro.errors import InputError
from lrsgro.eval.report import score_records
from lrsgro.eval.runlog import PredictionRecord, RunManifest
from lrsgro.leaderboard import build_leaderboards, read_run
from lrsgro.taxonomy import QUESTION_TYPES

REPO_ROOT = Path(__file__).resolve().parents[1]
LEADERBOARDS = REPO_ROOT / "leaderboards"
FINGERPRINT = "f" * 64
REFERENCE_ROI = [0.0, 0.0, 10.0, 10.0]
WRONG_ANSWER = "qqqwrong"


@dataclass(frozen=True)
class Outcome:
    """One generated question of a run: its type, whether the answer was right, its cost.

    ``box`` is the stage-1 box of a zoom run; None in a zoom run means the model gave none.
    """

    qid: str
    level: str
    category: str
    correct: bool
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    seconds: float | None = None
    error: bool = False
    box: list[float] | None = None

    @property
    def reference_answer(self) -> str:
        return f"answer-{self.qid}"


def generate_outcomes(seed: int, accuracy: float, per_type: int = 6, tokens: bool = True) -> list[Outcome]:
    rng = random.Random(seed)
    outcomes = []
    for qtype in QUESTION_TYPES:
        for index in range(per_type):
            outcomes.append(
                Outcome(
                    qid=f"q-{qtype.slug}-{index}",
                    level=qtype.level,
                    category=qtype.category,
                    correct=rng.random() < accuracy,
                    prompt_tokens=rng.randint(200, 900) if tokens else None,
                    completion_tokens=rng.randint(2, 40) if tokens else None,
                    seconds=round(rng.uniform(0.1, 2.0), 3) if tokens else None,
                    box=rng.choice([REFERENCE_ROI, [0.0, 0.0, 10.0, 5.0], None]),
                )
            )
    return outcomes


def records_for(outcome: Outcome, zoom: bool) -> list[PredictionRecord]:
    """Return the prediction records ``lrsgro eval`` would write for one question."""
    reference = {
        "answer": outcome.reference_answer,
        "level": outcome.level,
        "category": outcome.category,
        "options": [],
        "roi": REFERENCE_ROI,
        "needs_roi": True,
        "report_apart": False,
    }
    answer = outcome.reference_answer if outcome.correct else WRONG_ANSWER
    common = {
        "qid": outcome.qid,
        "reference": reference,
        "prompt_tokens": outcome.prompt_tokens,
        "completion_tokens": outcome.completion_tokens,
        "elapsed_s": outcome.seconds,
        "attempts": 1,
        "created_at": "2026-01-01T00:00:00+00:00",
    }
    if outcome.error:
        return [PredictionRecord(stage="answer", final=False, error="server error", error_kind="server", **common)]
    if not zoom:
        return [PredictionRecord(stage="answer", final=True, raw_output=answer, answer=answer, **common)]

    stage1 = PredictionRecord(
        stage="stage1", final=outcome.box is None, raw_output=answer, answer=answer,
        box_full=outcome.box, crop_window=outcome.box, **common,
    )
    if outcome.box is None:
        return [stage1]
    return [stage1, PredictionRecord(stage="stage2", final=True, raw_output=answer, answer=answer, crops=1, **common)]


def write_run(
    folder: Path,
    outcomes: list[Outcome],
    *,
    model: str,
    backend: str = "openai",
    protocol: str = "direct",
    benchmark: str = "lrs-gro",
    in_split: int | None = None,
) -> Path:
    """Write manifest.json, predictions.jsonl and scores.json as ``lrsgro eval`` does.

    ``in_split`` is the size of the split the questions were selected from, for a run made
    with ``--limit``.
    """
    folder.mkdir(parents=True)
    manifest = RunManifest(
        benchmark=benchmark,
        data="synthetic",
        split="test",
        dataset_fingerprint=FINGERPRINT,
        questions_selected=len(outcomes),
        questions_in_split=in_split,
        model=model,
        backend=backend,
        protocol=protocol,
        lrsgro_version="0.0.0",
        created_at="2026-01-01T00:00:00+00:00",
    )
    (folder / "manifest.json").write_text(manifest.model_dump_json(indent=2))

    records = [record for outcome in outcomes for record in records_for(outcome, zoom=protocol == "zoom")]
    with (folder / "predictions.jsonl").open("w") as handle:
        for record in records:
            handle.write(record.model_dump_json() + "\n")

    # Scored with the LRS-GRO rules whatever the manifest names: only the tables matter here.
    scores = score_records(
        records, expected=len(outcomes), resamples=50, context={"benchmark": benchmark}, in_split=in_split
    )
    (folder / "scores.json").write_text(json.dumps(scores, indent=2))
    return folder


def micro(outcomes: list[Outcome]) -> float:
    counted = [o for o in outcomes if not o.error]
    return sum(o.correct for o in counted) / len(counted)


def level_accuracy(outcomes: list[Outcome], level: str) -> float:
    return micro([o for o in outcomes if o.level == level])


def csv_rows(path: Path) -> dict[str, dict[str, str]]:
    return {row["run_id"]: row for row in csv.DictReader(io.StringIO(path.read_text()))}


def table_row(readme: str, run_id: str) -> list[str]:
    """Return the cells of the first table row that starts with the run's id."""
    for line in readme.splitlines():
        if line.startswith(f"| `{run_id}` |"):
            return [cell.strip() for cell in line.strip("|").split("|")]
    raise AssertionError(f"no table row for {run_id}")


@pytest.fixture
def runs(tmp_path: Path) -> dict[str, list[Outcome]]:
    """A model, its blind run, and a majority baseline on the same data."""
    outcomes = {
        "model-zoom": generate_outcomes(1, 0.7),
        "model-blind": generate_outcomes(2, 0.4),
        "majority": generate_outcomes(3, 0.3, tokens=False),
    }
    root = tmp_path / "runs"
    write_run(root / "model-zoom", outcomes["model-zoom"], model="tiny-vlm", protocol="zoom")
    write_run(root / "model-blind", outcomes["model-blind"], model="tiny-vlm", protocol="blind")
    write_run(root / "majority", outcomes["majority"], model="majority", backend="majority", protocol="none")
    return outcomes


def test_summary_matches_recounted_accuracy(tmp_path: Path, runs: dict[str, list[Outcome]]) -> None:
    build_leaderboards([tmp_path / "runs"], tmp_path / "out", draw_plots=False)

    readme = (tmp_path / "out" / "README.md").read_text()
    rows = csv_rows(tmp_path / "out" / "lrs-gro" / "results.csv")
    for run_id, outcomes in runs.items():
        assert float(rows[run_id]["micro"]) == pytest.approx(micro(outcomes), abs=1e-6)
        cells = table_row(readme, run_id)
        for level, cell in zip(("global", "region", "object"), cells[6:9]):
            assert cell == f"{100 * level_accuracy(outcomes, level):.2f}", (run_id, level)
        levels = [level_accuracy(outcomes, level) for level in ("global", "region", "object")]
        assert cells[9] == f"{100 * sum(levels) / 3:.2f}"
        assert cells[10] == f"{100 * micro(outcomes):.2f}"


def test_delta_against_baselines(tmp_path: Path, runs: dict[str, list[Outcome]]) -> None:
    build_leaderboards([tmp_path / "runs"], tmp_path / "out", draw_plots=False)

    cells = table_row((tmp_path / "out" / "README.md").read_text(), "model-zoom")
    expected_blind = 100 * (micro(runs["model-zoom"]) - micro(runs["model-blind"]))
    expected_majority = 100 * (micro(runs["model-zoom"]) - micro(runs["majority"]))
    assert cells[12] == f"{expected_blind:+.2f}"
    assert cells[13] == f"{expected_majority:+.2f}"
    ious = [{None: 0.0, 5.0: 0.5, 10.0: 1.0}[o.box[3] if o.box else None] for o in runs["model-zoom"]]
    assert cells[14] == f"{100 * sum(ious) / len(ious):.2f}"


def test_baselines_listed_after_models(tmp_path: Path, runs: dict[str, list[Outcome]]) -> None:
    build_leaderboards([tmp_path / "runs"], tmp_path / "out", draw_plots=False)

    readme = (tmp_path / "out" / "README.md").read_text()
    positions = {run_id: readme.index(f"| `{run_id}` |") for run_id in runs}
    assert positions["model-zoom"] < positions["model-blind"] < positions["majority"]
    assert "*majority baseline*" in readme
    assert "tiny-vlm *(blind baseline)*" in readme
    assert "No blind" not in readme


def test_missing_blind_baseline_noted(tmp_path: Path) -> None:
    write_run(tmp_path / "runs" / "alone", generate_outcomes(4, 0.5), model="tiny-vlm")

    build_leaderboards([tmp_path / "runs"], tmp_path / "out", draw_plots=False)

    readme = (tmp_path / "out" / "README.md").read_text()
    assert "No blind and majority baseline run was given" in readme
    assert table_row(readme, "alone")[12] == "–"


def test_delta_needs_same_questions(tmp_path: Path) -> None:
    # A 10-question run made with --limit beside a majority run over the whole split, on the
    # same dataset fingerprint: subtracting their accuracies compares different questions.
    split = generate_outcomes(11, 0.5)
    limited = generate_outcomes(12, 0.5)[:10]
    write_run(tmp_path / "runs" / "limited", limited, model="tiny-vlm", in_split=len(split))
    write_run(tmp_path / "runs" / "majority", generate_outcomes(13, 0.3, tokens=False), model="majority",
              backend="majority", protocol="none", in_split=len(split))

    build_leaderboards([tmp_path / "runs"], tmp_path / "out", draw_plots=False)

    readme = (tmp_path / "out" / "README.md").read_text()
    cells = table_row(readme, "limited")
    assert cells[13] == "–†"
    assert "† No Δ: the baseline run scored other questions than this run" in readme
    assert cells[1] == "tiny-vlm *(partial)*"
    assert cells[4] == f"10 of {len(split)}"
    assert table_row(readme, "majority")[4] == str(len(split))
    row = csv_rows(tmp_path / "out" / "lrs-gro" / "results.csv")["limited"]
    assert row["partial"] == "yes"
    assert row["questions_in_split"] == str(len(split))


def test_delta_with_limited_baseline(tmp_path: Path) -> None:
    split = generate_outcomes(14, 0.5)
    limited = generate_outcomes(15, 0.5)[:10]
    baseline = generate_outcomes(16, 0.3, tokens=False)
    write_run(tmp_path / "runs" / "limited", limited, model="tiny-vlm", in_split=len(split))
    write_run(tmp_path / "runs" / "majority-all", baseline, model="majority", backend="majority", protocol="none",
              in_split=len(split))
    write_run(tmp_path / "runs" / "majority-top10", baseline[:10], model="majority", backend="majority",
              protocol="none", in_split=len(split))

    build_leaderboards([tmp_path / "runs"], tmp_path / "out", draw_plots=False)

    readme = (tmp_path / "out" / "README.md").read_text()
    expected = 100 * (micro(limited) - micro(baseline[:10]))
    assert table_row(readme, "limited")[13] == f"{expected:+.2f}"
    assert "† No Δ" not in readme


def test_interval_hidden_below_five_questions(tmp_path: Path) -> None:
    outcomes = [Outcome(f"t{n}", "global", "Season", n % 2 == 0) for n in range(4)]
    write_run(tmp_path / "runs" / "tiny", outcomes, model="tiny-vlm")

    build_leaderboards([tmp_path / "runs"], tmp_path / "out", draw_plots=False)

    assert table_row((tmp_path / "out" / "README.md").read_text(), "tiny")[11] == "n<5"


def test_cost_per_question_read(tmp_path: Path, runs: dict[str, list[Outcome]]) -> None:
    summary = read_run(tmp_path / "runs" / "model-zoom")

    # A zoom question costs its stage-1 record plus, when a box came back, its stage-2 record.
    outcomes = runs["model-zoom"]
    records = [1 if o.box is None else 2 for o in outcomes]
    assert summary.cost.prompt_tokens == pytest.approx(sum(o.prompt_tokens * n for o, n in zip(outcomes, records)) / len(outcomes))
    assert summary.cost.completion_tokens == pytest.approx(sum(o.completion_tokens * n for o, n in zip(outcomes, records)) / len(outcomes))
    assert summary.cost.seconds == pytest.approx(sum(o.seconds * n for o, n in zip(outcomes, records)) / len(outcomes))
    assert summary.cost.crops == pytest.approx(sum(n - 1 for n in records) / len(outcomes))
    assert read_run(tmp_path / "runs" / "majority").cost.tokens == 0.0


def test_failed_calls_left_out(tmp_path: Path) -> None:
    outcomes = generate_outcomes(5, 0.6)
    outcomes[:5] = [Outcome(o.qid, o.level, o.category, True, error=True) for o in outcomes[:5]]
    write_run(tmp_path / "runs" / "flaky", outcomes, model="tiny-vlm")

    summary = read_run(tmp_path / "runs" / "flaky")

    assert summary.errors == 5
    assert summary.micro.accuracy == pytest.approx(micro(outcomes))


def test_per_type_table_lists_all_types(tmp_path: Path, runs: dict[str, list[Outcome]]) -> None:
    build_leaderboards([tmp_path / "runs"], tmp_path / "out", draw_plots=False)

    readme = (tmp_path / "out" / "README.md").read_text()
    outcomes = runs["model-zoom"]
    for qtype in QUESTION_TYPES:
        matching = [o for o in outcomes if (o.level, o.category) == qtype.key]
        expected = f"{100 * micro(matching):.2f}"
        line = next(line for line in readme.splitlines() if line.startswith(f"| {qtype.level} | {qtype.category} |"))
        assert line.split("|")[3].strip() == expected, qtype.key


def test_reported_tables_kept_apart(tmp_path: Path, runs: dict[str, list[Outcome]]) -> None:
    build_leaderboards([tmp_path / "runs"], tmp_path / "out", LEADERBOARDS / "reported", draw_plots=False)

    readme = (tmp_path / "out" / "README.md").read_text()
    reproduced = readme.index("### Reproduced from run logs")
    reported = readme.index("### Reported in papers: ZoomEarth paper, LRS-GRO")
    assert reproduced < reported
    assert "| ZoomEarth-3B |  | 63.09 | 46.11 | 51.80 | 53.76 | 34.39 |" in readme
    assert "| Qwen2.5-VL-7B | 1024 px | 69.39 | 38.47 | 43.58 | 49.62 | – |" in readme
    assert "| ZoomEarth | 44.10 | 40.20 | 38.61 | 40.97 |" in readme
    assert "ZoomEarth" not in (tmp_path / "out" / "lrs-gro" / "results.csv").read_text()
    assert "ZoomEarth-3B" not in readme[reproduced:reported]


def test_plots_are_png(tmp_path: Path, runs: dict[str, list[Outcome]]) -> None:
    result = build_leaderboards([tmp_path / "runs"], tmp_path / "out")

    for name in ("per_type.png", "cost.png"):
        path = tmp_path / "out" / "lrs-gro" / name
        assert path in result.files
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert image.width > 400
            assert image.height > 200
    assert "![Accuracy per question type](lrs-gro/per_type.png)" in (tmp_path / "out" / "README.md").read_text()


def test_run_without_scores_rejected(tmp_path: Path) -> None:
    folder = write_run(tmp_path / "runs" / "unscored", generate_outcomes(6, 0.5), model="tiny-vlm")
    (folder / "scores.json").unlink()

    with pytest.raises(InputError, match="scores.json not found"):
        build_leaderboards([folder], tmp_path / "out")


def test_duplicate_run_names_rejected(tmp_path: Path) -> None:
    write_run(tmp_path / "a" / "same", generate_outcomes(7, 0.5), model="one")
    write_run(tmp_path / "b" / "same", generate_outcomes(8, 0.5), model="two")

    with pytest.raises(InputError, match="two run directories are named 'same'"):
        build_leaderboards([tmp_path / "a", tmp_path / "b"], tmp_path / "out")


def test_invalid_reported_table_rejected(tmp_path: Path) -> None:
    reported = tmp_path / "reported"
    reported.mkdir()
    text = (LEADERBOARDS / "reported" / "zoomearth-lrs-gro.yaml").read_text()
    (reported / "broken.yaml").write_text(text.replace("object: 51.80, ", ""))

    with pytest.raises(InputError, match="broken.yaml.*must give every column"):
        build_leaderboards([], tmp_path / "out", reported)


def test_other_benchmark_uses_run_categories(tmp_path: Path) -> None:
    outcomes = [
        Outcome(f"m-{index}", "perception", category, index % 3 == 0)
        for index, category in enumerate(["Color", "Count", "Position"] * 4)
    ]
    write_run(tmp_path / "runs" / "mme", outcomes, model="tiny-vlm", benchmark="mme-realworld-rs")

    build_leaderboards([tmp_path / "runs"], tmp_path / "out", LEADERBOARDS / "reported", draw_plots=False)

    readme = (tmp_path / "out" / "README.md").read_text()
    section = readme[readme.index("## MME-RealWorld") :]
    for category in ["Color", "Count", "Position"]:
        expected = micro([o for o in outcomes if o.category == category])
        assert f"| perception | {category} | {100 * expected:.2f} |" in section
    assert "## ZoomEarth paper, zero-shot UHR benchmarks" in readme


# -- the committed leaderboard ---------------------------------------------------------------

DEMO_NOTE_FILE = LEADERBOARDS / "runs" / "NOTE.md"


def test_committed_readme_regenerates(tmp_path: Path) -> None:
    note = DEMO_NOTE_FILE.read_text(encoding="utf-8").strip()
    command = [
        sys.executable, "-m", "lrsgro", "leaderboard", str(LEADERBOARDS / "runs"),
        "--out", str(tmp_path / "out"), "--reported", str(LEADERBOARDS / "reported"), "--note", note,
    ]

    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}

    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "README.md").read_bytes() == (LEADERBOARDS / "README.md").read_bytes()
    for committed in sorted(LEADERBOARDS.glob("*/results.csv")):
        regenerated = tmp_path / "out" / committed.relative_to(LEADERBOARDS)
        assert regenerated.read_bytes() == committed.read_bytes(), committed.name
    for committed in sorted(LEADERBOARDS.glob("*/README.md")):
        regenerated = tmp_path / "out" / committed.relative_to(LEADERBOARDS)
        assert regenerated.read_bytes() == committed.read_bytes(), committed.parent.name
