"""The run log of one evaluation: ``manifest.json``, ``predictions.jsonl`` and ``scores.json``.

``predictions.jsonl`` contains one :class:`PredictionRecord` per question per stage, appended as
each model reply arrives. Every line is written whole, then flushed and fsync'd, so a process
killed at any moment leaves at most one torn last line; reopening the log truncates it and the
question it belonged to is asked again.

A question is done when it has a record with ``final`` set and no ``error``. A rerun with the
same manifest skips done questions, continues a zoom question from its stored stage-1 record,
and asks again every question whose last attempt ended in an error. A rerun whose manifest
differs in anything that changes the answers is rejected, so one log never mixes two setups.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lrsgro.dataset import write_json
from lrsgro.errors import InputError

logger = logging.getLogger(__name__)

RUNLOG_VERSION = "1"
MANIFEST_FILE = "manifest.json"
PREDICTIONS_FILE = "predictions.jsonl"
SCORES_FILE = "scores.json"

# Manifest fields that describe the run but do not change any answer. The endpoint is one:
# a server restarted on another port still serves the same model (served_model says which).
# The split size follows from the dataset fingerprint, and manifests written before it was
# recorded lack it, so it is left out too.
_NOT_IDENTITY = {
    "created_at", "git_commit", "data", "data_notes", "questions_selected", "questions_in_split", "endpoint"
}

Stage = Literal["stage1", "stage2", "answer"]


class RunManifest(BaseModel):
    """The setup of a run: everything needed to reproduce it, and never a secret.

    Attributes:
        runlog_version: the version of this file layout.
        benchmark: the adapter name, e.g. ``lrs-gro``.
        benchmark_options: the adapter settings (``--benchmark-option``), which can change
            the questions or the rules.
        data: the benchmark path as given (not part of the identity: a moved copy resumes).
        split: the evaluated split.
        dataset_fingerprint: SHA-256 over the questions of the split (see
            :func:`lrsgro.benchmarks.base.fingerprint`).
        questions_selected: how many questions this invocation selected (``--limit``).
        questions_in_split: how many questions the evaluated split has; fewer selected
            questions make the run partial. None in run logs written before it was recorded.
        model: the model name or spec given on the command line.
        backend: ``openai``, ``transformers``, ``replay``, ``majority`` or ``random``.
        served_model: the model name sent to the server, or the weights folder.
        endpoint: the server URL without user info, query or fragment (not part of the
            identity, so a restarted server on another port resumes the run).
        protocol: ``zoom``, ``direct``, ``blind``, ``oracle-crop`` or ``none``.
        prompt_hash: SHA-256 of the prompt templates in use.
        prompts: SHA-256 of each template, by name.
        pixel_limits: side lengths and pixel caps of the images sent.
        decoding: sampling settings sent with each request.
        box_convention: how the model writes boxes: ``absolute`` or ``norm1000``.
        baseline: settings of a model-free baseline (reference split, seed).
        lrsgro_version: the package version.
        git_commit: the commit of the source tree, when it is a git checkout.
        created_at: when the run directory was created (UTC, ISO 8601).
        data_notes: the noise the adapter normalised, with counts.
    """

    model_config = ConfigDict(extra="forbid")

    runlog_version: str = RUNLOG_VERSION
    benchmark: str
    benchmark_options: dict[str, str] = Field(default_factory=dict)
    data: str
    split: str
    dataset_fingerprint: str
    questions_selected: int
    questions_in_split: int | None = None
    model: str
    backend: str
    served_model: str | None = None
    endpoint: str | None = None
    protocol: str
    prompt_hash: str | None = None
    prompts: dict[str, str] = Field(default_factory=dict)
    pixel_limits: dict[str, int | None] = Field(default_factory=dict)
    decoding: dict[str, Any] = Field(default_factory=dict)
    box_convention: str | None = None
    baseline: dict[str, Any] = Field(default_factory=dict)
    lrsgro_version: str
    git_commit: str | None = None
    created_at: str = Field(default_factory=lambda: _utc_now())
    data_notes: list[dict[str, Any]] = Field(default_factory=list)

    def identity(self) -> dict[str, Any]:
        """Return the fields that must match for a rerun to resume this run."""
        return self.model_dump(mode="json", exclude=_NOT_IDENTITY)


class PredictionRecord(BaseModel):
    """One model reply (or failure) for one stage of one question.

    Attributes:
        qid: the question id.
        stage: ``stage1`` or ``stage2`` of the zoom protocol, or ``answer`` for one-pass
            protocols and baselines.
        final: whether this record completes the question (its answer is the final one).
        raw_output: the model's text as received.
        answer: the answer extracted from ``raw_output``; None when the output contains none.
        answer_source: where the answer came from (``answer_tag``, ``assistant_turn``,
            ``plain``, or ``baseline``/``stage1`` for answers not read from this output).
        box: the first box in the output, as the model wrote it.
        box_frame: the frame of ``box``: ``view`` pixels or ``norm1000``.
        box_full: ``box`` in full-resolution pixels of the image, after clipping.
        crop_window: the full-resolution window cropped and sent in the next stage.
        crops: how many crops this stage sent to the model.
        prompt_tokens: input tokens the server reported.
        completion_tokens: output tokens the server reported.
        latency_s: seconds of the successful (or last) attempt.
        elapsed_s: seconds from the first attempt to the end, including retries and waits.
        attempts: how many requests were made.
        error: what failed, when the stage failed after all retries; the record is then
            never scored and a rerun asks again.
        error_kind: ``rate_limit``, ``server``, ``timeout``, ``connection``, ``request``
            or ``input``.
        flags: notes on parsing: ``box-clipped``, ``box-outside``, ``no-answer`` and so on.
        reference: the reference values scoring needs (answer, category, level, roi...).
        created_at: when the record was written (UTC, ISO 8601).
    """

    model_config = ConfigDict(extra="forbid")

    qid: str
    stage: Stage
    final: bool
    raw_output: str | None = None
    answer: str | None = None
    answer_source: str | None = None
    box: list[float] | None = None
    box_frame: str | None = None
    box_full: list[float] | None = None
    crop_window: list[float] | None = None
    crops: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float | None = None
    elapsed_s: float | None = None
    attempts: int = 0
    error: str | None = None
    error_kind: str | None = None
    flags: list[str] = Field(default_factory=list)
    reference: dict[str, Any] = Field(default_factory=dict)
    created_at: str = Field(default_factory=lambda: _utc_now())

    @property
    def ok(self) -> bool:
        return self.error is None


class RunLog:
    """An open run directory that appends prediction records safely from several threads."""

    def __init__(self, folder: Path, manifest: RunManifest, records: list[PredictionRecord]) -> None:
        self.folder = folder
        self.manifest = manifest
        self.records = records
        self._lock = threading.Lock()
        self._handle = (folder / PREDICTIONS_FILE).open("a", encoding="utf-8")

    @classmethod
    def open(cls, folder: Path, manifest: RunManifest) -> RunLog:
        """Create the run directory, or reopen it to resume when the manifest matches.

        Raises:
            InputError: the directory contains a run with another manifest, or predictions
                without a manifest.
        """
        folder.mkdir(parents=True, exist_ok=True)
        manifest_path = folder / MANIFEST_FILE
        predictions_path = folder / PREDICTIONS_FILE

        if manifest_path.is_file():
            stored = read_manifest(folder)
            _check_same_run(stored, manifest, manifest_path)
            if stored.git_commit != manifest.git_commit:
                logger.warning(
                    "resuming a run started at commit %s with commit %s", stored.git_commit, manifest.git_commit
                )
            if stored.endpoint != manifest.endpoint:
                logger.warning("resuming a run started on %s with %s", stored.endpoint, manifest.endpoint)
            manifest = stored
        elif predictions_path.is_file() and predictions_path.stat().st_size > 0:
            raise InputError(
                "predictions.jsonl exists but manifest.json is missing, so the run cannot be checked",
                path=folder,
                fix="pass a new --out folder",
            )
        else:
            write_json(manifest_path, manifest.model_dump(mode="json"))

        records = read_predictions(predictions_path, repair=True) if predictions_path.is_file() else []
        return cls(folder, manifest, records)

    def append(self, record: PredictionRecord) -> None:
        """Write one record as a whole line, flushed and fsync'd before returning."""
        line = record.model_dump_json() + "\n"
        with self._lock:
            self._handle.write(line)
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self.records.append(record)

    def close(self) -> None:
        with self._lock:
            self._handle.close()

    def __enter__(self) -> RunLog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def read_manifest(folder: Path) -> RunManifest:
    """Read ``manifest.json`` of a run directory."""
    path = folder / MANIFEST_FILE
    try:
        return RunManifest.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("manifest.json not found", path=folder, fix="pass a run directory written by `lrsgro eval`") from None
    except ValidationError as error:
        raise InputError(f"invalid manifest: {error}", path=path) from error


def read_predictions(path: Path, repair: bool = False) -> list[PredictionRecord]:
    """Read a predictions file, ignoring a torn last line.

    A killed writer can leave a last line without its newline, or one that does not parse.
    Such a line is skipped, and with ``repair`` the file is truncated before it, so new lines
    start clean. An invalid line anywhere else means the file is damaged, and reading raises.

    Raises:
        InputError: a line other than the last is invalid.
    """
    data = path.read_bytes()
    lines = data.split(b"\n")
    complete, tail = lines[:-1], lines[-1]

    records: list[PredictionRecord] = []
    good_bytes = 0
    for number, raw in enumerate(complete, start=1):
        is_last = number == len(complete) and not tail
        if raw.strip():
            try:
                records.append(PredictionRecord.model_validate_json(raw))
            except ValidationError as error:
                if is_last:
                    logger.warning("%s:%d: ignoring an invalid last line", path, number)
                    break
                raise InputError(
                    f"invalid prediction record: {error.errors()[0]['msg']}",
                    path=path,
                    line=number,
                    fix="the run log is damaged; rerun with a new --out",
                ) from error
        good_bytes += len(raw) + 1

    if tail.strip():
        logger.warning("%s: ignoring a torn last line of %d bytes", path, len(tail))
    if repair and good_bytes < len(data):
        with path.open("r+b") as handle:
            handle.truncate(good_bytes)
            handle.flush()
            os.fsync(handle.fileno())
    return records


def done_questions(records: Iterable[PredictionRecord]) -> set[str]:
    """Return the ids of questions with a final record that has no error."""
    return {record.qid for record in records if record.final and record.ok}


def latest_by_stage(records: Iterable[PredictionRecord]) -> dict[str, dict[str, PredictionRecord]]:
    """Return, per question, the last successful record of each stage."""
    latest: dict[str, dict[str, PredictionRecord]] = {}
    for record in records:
        if record.ok:
            latest.setdefault(record.qid, {})[record.stage] = record
    return latest


def _check_same_run(stored: RunManifest, new: RunManifest, path: Path) -> None:
    old_identity, new_identity = stored.identity(), new.identity()
    changed = sorted(key for key in old_identity.keys() | new_identity.keys() if old_identity.get(key) != new_identity.get(key))
    if changed:
        details = "; ".join(f"{key}: {old_identity.get(key)!r} -> {new_identity.get(key)!r}" for key in changed)
        raise InputError(
            f"this run directory contains a run with a different setup ({details})",
            path=path,
            fix="pass a new --out folder; predictions of different setups are never mixed",
        )


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
