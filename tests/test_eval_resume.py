"""Kill -9 or Ctrl-C in the middle of `lrsgro eval`, restart, and every question is answered exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from lrsgro.errors import InputError
from lrsgro.eval.runlog import read_predictions
from lrsgro.eval.runner import EvalSettings, run_eval
from tests.eval_support import rl_record, write_geotiff, write_jsonl
from tests.openai_stub import Reply, ScriptedOpenAIServer

QUESTIONS = 12
SECRET = "sk-resume-test-SECRET-42"


@pytest.fixture
def release(tmp_path: Path) -> Path:
    write_geotiff(tmp_path / "image" / "0001.tif", (900, 700))
    records = [
        rl_record(f"q{n:02d}", "0001.tif", "Counting", f"How many ships are in dock {n}?", str(n % 4), "global", None,
                  split="test")
        for n in range(QUESTIONS)
    ]
    return write_jsonl(tmp_path / "test.jsonl", records)


def eval_command(release: Path, url: str, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "lrsgro", "eval", "--data", str(release), "--model", "openai:stub-vlm",
        "--protocol", "direct", "--max-side", "256", "--endpoint", url, "--out", str(out),
        "--concurrency", "2", "--resamples", "10", "--timeout", "30",
    ]


def final_ok_counts(out: Path) -> Counter[str]:
    return Counter(r.qid for r in read_predictions(out / "predictions.jsonl") if r.final and r.ok)


def wait_for_records(path: Path, count: int, process: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.is_file() and path.read_bytes().count(b"\n") >= count:
            return
        if process.poll() is not None:
            raise AssertionError(f"lrsgro eval exited early with status {process.returncode}")
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} records after {timeout_s} s")


@pytest.mark.server
def test_kill_and_resume_answers_each_once(release: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    env = {**os.environ, "OPENAI_API_KEY": SECRET}
    slow = Reply(text="<answer>2</answer>", delay_s=0.4)
    with ScriptedOpenAIServer([slow]) as server:
        process = subprocess.Popen(
            eval_command(release, server.url, out), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            wait_for_records(out / "predictions.jsonl", 3, process)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        asked_before = {request.text for request in server.requests}

    answered_before = set(final_ok_counts(out))
    assert 3 <= len(answered_before) < QUESTIONS
    # A kill can tear the last line; simulate the worst case on top of the real kill.
    with (out / "predictions.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"qid": "q11", "stage": "answer", "final": tr')

    with ScriptedOpenAIServer([Reply(text="<answer>2</answer>")]) as server:
        result = subprocess.run(
            eval_command(release, server.url, out), env=env, capture_output=True, text=True, timeout=120
        )
        asked_after = [request.text for request in server.requests]

    assert result.returncode == 0, result.stderr
    counts = final_ok_counts(out)
    assert sorted(counts) == [f"q{n:02d}" for n in range(QUESTIONS)]
    assert set(counts.values()) == {1}
    assert len(asked_after) == QUESTIONS - len(answered_before)
    for qid in answered_before:
        assert not any(f"dock {int(qid[1:])}?" in text for text in asked_after), qid
    assert asked_before
    for path in out.iterdir():
        assert SECRET not in path.read_text(encoding="utf-8"), path


@pytest.mark.server
def test_interrupt_names_run_dir_and_resume(release: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    slow = Reply(text="<answer>2</answer>", delay_s=0.4)
    with ScriptedOpenAIServer([slow]) as server:
        command = eval_command(release, server.url, out)
        process = subprocess.Popen(
            command, env={**os.environ, "OPENAI_API_KEY": SECRET}, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )
        try:
            wait_for_records(out / "predictions.jsonl", 2, process)
            process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)

        answered_before = len(final_ok_counts(out))
        message = " ".join((stdout + stderr).split())
        assert process.returncode == 130, message
        assert f"{answered_before} answered questions are saved in {out}" in message
        assert "Rerun the same command to resume" in message
        assert "aborted" not in message

        resumed = subprocess.run(command, env={**os.environ, "OPENAI_API_KEY": SECRET}, capture_output=True,
                                 text=True, timeout=120)

    assert resumed.returncode == 0, resumed.stderr
    assert f"{answered_before} answered before" in resumed.stdout
    assert set(final_ok_counts(out).values()) == {1}
    assert len(final_ok_counts(out)) == QUESTIONS


def test_changed_setup_rejected(release: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    run_eval(EvalSettings(data=release, model="random", split="test", out=out, seed=1, resamples=0))

    with pytest.raises(InputError, match="new --out") as caught:
        run_eval(EvalSettings(data=release, model="random", split="test", out=out, seed=2, resamples=0))
    assert "seed" in str(caught.value)
    assert len(read_predictions(out / "predictions.jsonl")) == QUESTIONS


def test_torn_line_in_middle_is_rejected(release: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    run_eval(EvalSettings(data=release, model="majority", split="test", out=out, resamples=0))
    lines = (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2][:20] + "\n"
    (out / "predictions.jsonl").write_text("".join(lines), encoding="utf-8")

    with pytest.raises(InputError) as caught:
        run_eval(EvalSettings(data=release, model="majority", split="test", out=out, resamples=0))
    assert caught.value.line == 3
