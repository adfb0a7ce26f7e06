"""Read evaluation run directories into the summaries a leaderboard shows.

A run directory is what ``lrsgro eval`` writes (see :mod:`lrsgro.eval.runlog`). Two of its
files are read:

* ``manifest.json``: benchmark, split, dataset fingerprint, model, backend, protocol;
* ``scores.json`` (see :func:`lrsgro.eval.report.score_records`): per scoring rule the
  accuracy report of the final answers under ``rules.<rule>.final`` (and of the stage-1
  answers of zoom runs under ``rules.<rule>.stage1``), ``roi_iou`` and the mean ``cost``
  per question. Its ``questions`` counts include the split size and a hash of the scored
  question ids, which decide whether two runs may be compared.

Nothing is re-scored and no model is called. Fields this module does not use are ignored,
so the run-log format can grow without breaking leaderboards.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lrsgro.errors import InputError

MANIFEST_FILE = "manifest.json"
SCORES_FILE = "scores.json"
# The rule a leaderboard ranks by: the first of these that scores.json has, the published
# rule of the benchmark first; otherwise the first rule listed.
PREFERRED_RULES = ("paper", "official", "robust")
BASELINE_BACKENDS = ("majority", "random")


class Accuracy(BaseModel):
    """One accuracy as a fraction in [0, 1], with its bootstrap interval when computed."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    accuracy: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    counted: int | None = None


class Cost(BaseModel):
    """Mean cost of one question: tokens sent and received, wall-clock seconds, crops."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    prompt_tokens: float | None = None
    completion_tokens: float | None = None
    seconds: float | None = None
    crops: float | None = None

    @property
    def tokens(self) -> float | None:
        if self.prompt_tokens is None and self.completion_tokens is None:
            return None
        return (self.prompt_tokens or 0.0) + (self.completion_tokens or 0.0)


class RunSummary(BaseModel):
    """The numbers of one run that a leaderboard shows; accuracies are fractions in [0, 1]."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    benchmark: str
    split: str
    dataset_fingerprint: str
    model: str
    backend: str
    protocol: str
    rule: str
    questions: int
    attempted: int | None = None
    questions_in_split: int | None = None
    scored_ids_sha256: str | None = None
    errors: int = 0
    missing: int | None = None
    no_answers: int = 0
    confidence: float | None = None
    micro: Accuracy
    macro_over_levels: Accuracy
    macro_over_types: Accuracy
    per_level: dict[str, Accuracy] = Field(default_factory=dict)
    per_type: dict[str, Accuracy] = Field(default_factory=dict)
    stage1_micro: Accuracy = Field(default_factory=Accuracy)
    other_rules: dict[str, Accuracy] = Field(default_factory=dict)
    roi_iou: float | None = None
    cost: Cost = Field(default_factory=Cost)

    @property
    def baseline(self) -> str | None:
        """``blind``, ``majority`` or ``random`` for a baseline run; None for a model."""
        if self.backend in BASELINE_BACKENDS:
            return self.backend
        if self.protocol == "blind":
            return "blind"
        return None

    @property
    def partial(self) -> bool:
        """Whether the run asked fewer questions than its split has (``--limit``, unfinished)."""
        if self.questions_in_split is None or self.attempted is None:
            return False
        return self.attempted < self.questions_in_split

    @property
    def label(self) -> str:
        if self.backend in BASELINE_BACKENDS:
            return f"{self.backend} baseline"
        return f"{self.model} ({self.protocol})"


def find_run_dirs(paths: list[Path]) -> list[Path]:
    """Expand the given paths into run directories, sorted and without repeats.

    A path with ``manifest.json`` is a run; otherwise each direct subfolder with one is.

    Raises:
        InputError: a path is neither a run nor a folder of runs.
    """
    found: dict[Path, Path] = {}
    for path in paths:
        if (path / MANIFEST_FILE).is_file():
            found.setdefault(path.resolve(), path)
            continue

        children = sorted(child for child in path.iterdir() if (child / MANIFEST_FILE).is_file()) if path.is_dir() else []
        if not children:
            raise InputError(
                "not a run directory: no manifest.json here or in its subfolders",
                path=path,
                fix="pass folders written by `lrsgro eval`",
            )
        for child in children:
            found.setdefault(child.resolve(), child)
    return sorted(found.values(), key=lambda p: (p.name, str(p)))


def read_run(folder: Path) -> RunSummary:
    """Read one run directory.

    Raises:
        InputError: a file is missing or invalid; the message names the file.
    """
    manifest = _read_json(folder / MANIFEST_FILE)
    scores_path = folder / SCORES_FILE
    scores = _read_json(scores_path, fix="score the run with `lrsgro score` or let `lrsgro eval` finish")
    tables = _rule_tables(scores, scores_path)
    primary = next((rule for rule in PREFERRED_RULES if rule in tables), next(iter(tables)))
    report = tables[primary]["final"]
    counts = scores.get("questions") or {}

    try:
        return RunSummary(
            run_id=folder.name,
            benchmark=manifest["benchmark"],
            split=manifest["split"],
            dataset_fingerprint=manifest["dataset_fingerprint"],
            model=manifest["model"],
            backend=manifest["backend"],
            protocol=manifest["protocol"],
            rule=primary,
            questions=report["micro"]["counted"],
            attempted=counts.get("attempted"),
            questions_in_split=counts.get("in_split"),
            scored_ids_sha256=counts.get("scored_ids_sha256"),
            errors=counts.get("errors", report.get("errors", 0)),
            missing=counts.get("missing"),
            no_answers=report.get("no_answers", 0),
            confidence=report.get("confidence"),
            micro=_accuracy(report.get("micro")),
            macro_over_levels=_accuracy(report.get("macro_over_levels")),
            macro_over_types=_accuracy(report.get("macro_over_types")),
            per_level={key: _accuracy(value) for key, value in (report.get("per_level") or {}).items()},
            per_type={key: _accuracy(value) for key, value in (report.get("per_type") or {}).items()},
            stage1_micro=_accuracy((tables[primary].get("stage1") or {}).get("micro")),
            other_rules={rule: _accuracy(table["final"].get("micro")) for rule, table in tables.items() if rule != primary},
            roi_iou=_roi_iou(scores),
            cost=_cost(scores),
        )
    except KeyError as error:
        raise InputError(f"missing field {error.args[0]!r}", path=folder, fix="pass a run directory written by `lrsgro eval`") from error
    except ValidationError as error:
        raise InputError(f"invalid scores: {error.errors()[0]['msg']}", path=scores_path) from error


def _read_json(path: Path, fix: str = "pass a run directory written by `lrsgro eval`") -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path.name} not found", path=path.parent, fix=fix) from None
    except json.JSONDecodeError as error:
        raise InputError(f"invalid JSON: {error.msg}", path=path, line=error.lineno) from error
    if not isinstance(data, dict):
        raise InputError(f"expected a JSON object, found {type(data).__name__}", path=path)
    return data


def _rule_tables(scores: dict[str, Any], path: Path) -> dict[str, dict[str, Any]]:
    """Return ``rules`` of scores.json: per rule, its ``final`` report and optional ``stage1``."""
    tables = scores.get("rules")
    valid = isinstance(tables, dict) and tables and all(
        isinstance(table, dict) and isinstance(table.get("final"), dict) for table in tables.values()
    )
    if not valid:
        raise InputError(
            "no accuracy reports found: expected rules.<rule>.final",
            path=path,
            fix="rescore the run with `lrsgro score` from this lrsgro version",
        )
    return tables


def _accuracy(group: dict[str, Any] | None) -> Accuracy:
    if group is None:
        return Accuracy()
    return Accuracy(
        accuracy=group.get("accuracy"),
        ci_low=group.get("ci_low"),
        ci_high=group.get("ci_high"),
        counted=group.get("counted", group.get("groups")),
    )


def _roi_iou(scores: dict[str, Any]) -> float | None:
    # Zoom runs only: the IoU of the stage-1 box at full resolution with the reference ROI.
    summary = (scores.get("roi_iou") or {}).get("full_resolution") or {}
    return summary.get("mean_iou")


def _cost(scores: dict[str, Any]) -> Cost:
    cost = scores.get("cost")
    if not isinstance(cost, dict):
        return Cost()
    return Cost(
        prompt_tokens=cost.get("prompt_tokens_per_question"),
        completion_tokens=cost.get("completion_tokens_per_question"),
        seconds=cost.get("seconds_per_question"),
        crops=cost.get("crops_per_question"),
    )
