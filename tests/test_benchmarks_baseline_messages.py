"""The message `lrsgro eval` prints about the baselines' reference split on single-split benchmarks.

The zero-shot benchmarks have only a test split, so the baselines fall back to it. The
majority baseline then learns its answers from the questions it is scored on, which the run
says once. The random baseline picks among a question's options and learns nothing, so on
multiple-choice benchmarks it says nothing; on open questions it draws from the split's
answers, and says that.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.benchmark_files import run_cli
from tests.test_benchmarks_lrs_vqa import release as lrs_vqa_release
from tests.test_benchmarks_mme import annotation_release

FALLBACK = "no other split exists"


def count_mentions(phrase: str, output: str, caplog: pytest.LogCaptureFixture) -> int:
    """Count ``phrase`` in the printed output and in the log records of the run."""
    printed = " ".join(output.split()).count(phrase)
    logged = sum(phrase in record.getMessage() for record in caplog.records)
    return printed + logged


def eval_baseline(benchmark: str, data: Path, model: str, out: Path) -> str:
    result = run_cli("eval", "--benchmark", benchmark, "--data", str(data), "--model", model,
                     "--out", str(out), "--resamples", "0")
    assert result.exit_code == 0, result.output
    return result.output


def test_random_multiple_choice_no_message(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    release = annotation_release(tmp_path / "mme")

    output = eval_baseline("mme-realworld-rs", release, "random", tmp_path / "run")

    assert count_mentions(FALLBACK, output, caplog) == 0
    assert count_mentions("overstates", output, caplog) == 0


def test_majority_fallback_printed_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    release = annotation_release(tmp_path / "mme")

    output = eval_baseline("mme-realworld-rs", release, "majority", tmp_path / "run")

    assert count_mentions("learns from the evaluated split 'test' itself", output, caplog) == 1


def test_random_open_questions_fallback_printed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    release = lrs_vqa_release(tmp_path / "lrs")

    output = eval_baseline("lrs-vqa", release, "random", tmp_path / "run")

    assert count_mentions("draws its answers to open questions from the evaluated split 'test'", output, caplog) == 1
    assert count_mentions(FALLBACK, output, caplog) == 1
