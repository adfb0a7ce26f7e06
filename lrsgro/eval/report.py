"""Scores of a run, computed from its prediction records alone.

For each question the records decide one outcome:

- answered: it has a final record without an error. The final answer is the stage-2 answer
  of a zoom question, or the stage-1 answer when stage 2 was not needed (no box) or its
  output held no answer (ZoomEarth's evaluation falls back the same way; the fallback is
  counted as ``stage2_fallbacks``); for other protocols it is the one answer.
- error: it has records but no final one, because a request failed after its retries. It
  is left out of every accuracy and counted.
- missing: the run never reached it (only known when the manifest says how many questions
  were selected).

``questions.scored_ids_sha256`` identifies the questions the accuracies cover (answered,
inside the 17 types): a SHA-256 over their sorted ids. Two runs whose accuracies may be
subtracted have the same value. ``questions.in_split`` is the size of the evaluated split,
so a run that covers only part of it (``--limit``, an interrupted run) can be told apart.

Both rules are reported, each labelled: ``paper`` (lower-cased exact match or a shared
WordNet synset) and ``robust``. Accuracies cover the 17 LRS-GRO types; categories outside
them (marked ``report_apart``) get their own table under ``outside_taxonomy``. For zoom runs
the stage-1 answers are scored too, and the ROI IoU at full resolution (0 when a question
that needs a region got no box) and the IoU of the crop window are averaged over the
answered questions that need a region and have a reference box.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lrsgro.benchmarks import get_benchmark
from lrsgro.benchmarks.base import Benchmark
from lrsgro.eval.runlog import PredictionRecord
from lrsgro.scoring.aggregate import ScoredQuestion, accuracy_report, mean_iou
from lrsgro.scoring.types import Score

SCORES_VERSION = "1"
MAX_ERROR_EXAMPLES = 5
# Tables print no bootstrap interval for fewer questions: with 2 questions a percentile
# bootstrap gives intervals such as 100-100%, which look precise and are not.
MIN_QUESTIONS_FOR_INTERVAL = 5


@dataclass
class QuestionOutcome:
    """What the records of one question add up to.

    Attributes:
        qid: the question id.
        reference: the reference values stored with the records.
        status: ``answered`` or ``error``.
        answer: the final answer (None for a no-answer or an error).
        output: the raw model output ``answer`` was extracted from, when recorded.
        stage1_answer: the stage-1 answer of a zoom question.
        stage1_output: the raw stage-1 output of a zoom question.
        zoomed: whether stage 2 ran (a crop was sent).
        fallback: the final answer is the stage-1 answer because stage 2 gave none.
        box_full: the stage-1 box at full resolution, for IoU.
        crop_window: the crop window sent in stage 2, for IoU.
        error: the last error message, for an error outcome.
        error_kind: the last error kind.
        records: the records used, for cost.
    """

    qid: str
    reference: dict[str, Any]
    status: str
    answer: str | None = None
    output: str | None = None
    stage1_answer: str | None = None
    stage1_output: str | None = None
    zoomed: bool = False
    fallback: bool = False
    box_full: list[float] | None = None
    crop_window: list[float] | None = None
    error: str | None = None
    error_kind: str | None = None
    records: list[PredictionRecord] = field(default_factory=list)

    @property
    def has_stage1(self) -> bool:
        return any(record.stage == "stage1" for record in self.records)


def question_outcomes(records: Iterable[PredictionRecord]) -> list[QuestionOutcome]:
    """Group records by question and decide each question's outcome, sorted by question id.

    Sorting makes the bootstrap intervals independent of the order in which concurrent
    requests finished.
    """
    by_question: dict[str, list[PredictionRecord]] = defaultdict(list)
    for record in records:
        by_question[record.qid].append(record)
    return [_outcome(qid, by_question[qid]) for qid in sorted(by_question)]


def score_records(
    records: Sequence[PredictionRecord],
    *,
    benchmark: str = "lrs-gro",
    expected: int | None = None,
    resamples: int = 1000,
    seed: int = 0,
    context: dict[str, Any] | None = None,
    benchmark_options: Mapping[str, str] | None = None,
    in_split: int | None = None,
) -> dict[str, Any]:
    """Compute every table of ``scores.json`` from prediction records.

    Args:
        records: the prediction records of one run.
        benchmark: the adapter whose rules score the answers.
        expected: how many questions the run selected, to count missing ones.
        resamples: bootstrap resamples for the intervals (0 skips them).
        seed: the bootstrap seed.
        context: extra fields copied into the result (model, protocol, source...).
        benchmark_options: the adapter settings the run used (``--benchmark-option``).
        in_split: how many questions the evaluated split has, when known.
    """
    adapter = get_benchmark(benchmark).with_options(dict(benchmark_options or {}))
    outcomes = question_outcomes(records)
    answered = [outcome for outcome in outcomes if outcome.status == "answered"]
    errors = [outcome for outcome in outcomes if outcome.status == "error"]
    scored_ids = [outcome.qid for outcome in answered if not outcome.reference.get("report_apart")]
    is_zoom = any(outcome.has_stage1 for outcome in outcomes)

    result: dict[str, Any] = {"scores_version": SCORES_VERSION, **(context or {})}
    result["questions"] = {
        "expected": expected,
        "attempted": len(outcomes),
        "answered": len(answered),
        "errors": len(errors),
        "missing": max(0, expected - len(outcomes)) if expected is not None else None,
        "outside_taxonomy": sum(1 for outcome in outcomes if outcome.reference.get("report_apart")),
        "in_split": in_split,
        "scored": len(scored_ids),
        "scored_ids_sha256": question_set_sha256(scored_ids),
    }

    result["rule_descriptions"] = {rule: adapter.rule_descriptions.get(rule, "") for rule in adapter.rules}
    result["rules"] = {}
    for rule in adapter.rules:
        result["rules"][rule] = _rule_tables(adapter, rule, outcomes, is_zoom, resamples, seed)

    if is_zoom:
        result["zoom"] = _zoom_summary(adapter, answered)
        result["roi_iou"] = _iou_summary(answered, resamples, seed)
    result["cost"] = _cost_summary(outcomes, answered)
    result["errors"] = _error_summary(errors, records)
    result["flags"] = dict(sorted(Counter(flag for record in records for flag in record.flags).items()))
    return result


def question_set_sha256(ids: Iterable[str]) -> str:
    """Return a SHA-256 over the sorted, distinct question ids, one per line."""
    digest = hashlib.sha256()
    for qid in sorted(set(ids)):
        digest.update(qid.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def _outcome(qid: str, records: list[PredictionRecord]) -> QuestionOutcome:
    reference = records[-1].reference
    ok_by_stage: dict[str, PredictionRecord] = {}
    for record in records:
        if record.ok:
            ok_by_stage[record.stage] = record
    finals = [record for record in records if record.final and record.ok]

    if not finals:
        last_error = next((record for record in reversed(records) if not record.ok), None)
        return QuestionOutcome(
            qid,
            reference,
            "error",
            error=last_error.error if last_error else "no final record",
            error_kind=last_error.error_kind if last_error else None,
            records=records,
        )

    final = finals[-1]
    used = [ok_by_stage[stage] for stage in ("stage1", "stage2", "answer") if stage in ok_by_stage]
    outcome = QuestionOutcome(qid, reference, "answered", answer=final.answer, output=final.raw_output, records=used)
    stage1 = ok_by_stage.get("stage1")
    if stage1 is not None:
        outcome.stage1_answer = stage1.answer
        outcome.stage1_output = stage1.raw_output
        outcome.box_full = stage1.box_full
        outcome.crop_window = stage1.crop_window
    if final.stage == "stage2":
        outcome.zoomed = True
        if final.answer is None and stage1 is not None and stage1.answer is not None:
            outcome.answer = stage1.answer
            outcome.output = stage1.raw_output
            outcome.fallback = True
    return outcome


def _rule_tables(
    adapter: Benchmark,
    rule: str,
    outcomes: list[QuestionOutcome],
    is_zoom: bool,
    resamples: int,
    seed: int,
) -> dict[str, Any]:
    main: list[ScoredQuestion] = []
    apart: list[ScoredQuestion] = []
    stage1: list[ScoredQuestion] = []
    for outcome in outcomes:
        reference = outcome.reference
        if outcome.status == "error":
            score = Score.error(str(reference["answer"]), rule, outcome.error or "request failed")
            stage1_score = score
        else:
            score = adapter.score(rule, outcome.answer, reference, outcome.output)
            stage1_score = (
                adapter.score(rule, outcome.stage1_answer, reference, outcome.stage1_output) if is_zoom else score
            )

        level, category = str(reference["level"]), str(reference["category"])
        target = apart if reference.get("report_apart") else main
        target.append(ScoredQuestion(outcome.qid, level, category, score))
        if is_zoom and not reference.get("report_apart"):
            stage1.append(ScoredQuestion(outcome.qid, level, category, stage1_score))

    tables: dict[str, Any] = {"final": accuracy_report(main, resamples=resamples, seed=seed).to_dict()}
    if is_zoom:
        tables["stage1"] = accuracy_report(stage1, resamples=resamples, seed=seed).to_dict()
    if apart:
        tables["outside_taxonomy"] = accuracy_report(apart, resamples=resamples, seed=seed).to_dict()
    return tables


def _zoom_summary(adapter: Benchmark, answered: list[QuestionOutcome]) -> dict[str, Any]:
    zoomed = [outcome for outcome in answered if outcome.zoomed]
    changes: dict[str, dict[str, int]] = {}
    for rule in adapter.rules:
        fixed = broken = 0
        for outcome in zoomed:
            before = adapter.score(rule, outcome.stage1_answer, outcome.reference, outcome.stage1_output).correct
            after = adapter.score(rule, outcome.answer, outcome.reference, outcome.output).correct
            fixed += int(after and not before)
            broken += int(before and not after)
        changes[rule] = {"fixed_by_zoom": fixed, "broken_by_zoom": broken}

    return {
        "questions_zoomed": len(zoomed),
        "zoom_rate": len(zoomed) / len(answered) if answered else None,
        "stage2_fallbacks": sum(1 for outcome in answered if outcome.fallback),
        "changes": changes,
    }


def _iou_summary(answered: list[QuestionOutcome], resamples: int, seed: int) -> dict[str, Any]:
    needing = [
        outcome
        for outcome in answered
        if outcome.reference.get("needs_roi") and outcome.reference.get("roi") is not None
    ]
    full = mean_iou(
        ((outcome.box_full, outcome.reference["roi"]) for outcome in needing), resamples=resamples, seed=seed
    )
    window = mean_iou(
        ((outcome.crop_window, outcome.reference["roi"]) for outcome in needing), resamples=resamples, seed=seed
    )
    return {"full_resolution": full.to_dict(), "crop_window": window.to_dict()}


def _cost_summary(outcomes: list[QuestionOutcome], answered: list[QuestionOutcome]) -> dict[str, Any]:
    def mean(values: list[float]) -> float | None:
        return sum(values) / len(values) if values else None

    prompt = [sum(r.prompt_tokens or 0 for r in outcome.records) for outcome in answered]
    completion = [sum(r.completion_tokens or 0 for r in outcome.records) for outcome in answered]
    seconds = [sum(r.elapsed_s or r.latency_s or 0.0 for r in outcome.records) for outcome in answered]
    crops = [sum(r.crops for r in outcome.records) for outcome in answered]
    requests = sum(r.attempts for outcome in outcomes for r in outcome.records)
    return {
        "prompt_tokens_per_question": mean(prompt),
        "completion_tokens_per_question": mean(completion),
        "seconds_per_question": mean(seconds),
        "crops_per_question": mean(crops),
        "requests": requests,
    }


def _error_summary(errors: list[QuestionOutcome], records: Sequence[PredictionRecord]) -> dict[str, Any]:
    kinds = Counter(outcome.error_kind or "unknown" for outcome in errors)
    return {
        "questions": len(errors),
        "by_kind": dict(sorted(kinds.items())),
        "error_records": sum(1 for record in records if not record.ok),
        "examples": [
            {"qid": outcome.qid, "kind": outcome.error_kind, "error": outcome.error}
            for outcome in errors[:MAX_ERROR_EXAMPLES]
        ],
    }

