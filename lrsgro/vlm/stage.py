"""The VLM drafting stage of ``lrsgro build``: draft candidate questions for many targets.

For each target the stage builds the views, renders the level's prompt template and looks
the request up in the response cache by its hash. Only a cache miss is sent to the model.
Workers run in a bounded thread pool. The reply is parsed and validated draft by draft. When
the caller passes the rule-derived questions, a draft that repeats one of them is dropped
(see :mod:`lrsgro.vlm.rules`). Answers that contradict measured facts are flagged, and every
draft kept becomes a :class:`Question` with provenance ``vlm`` and review status ``candidate``.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lrsgro.errors import InputError, LrsgroError
from lrsgro.records import Evidence, Question, VlmProvenance, make_qid
from lrsgro.taxonomy import get_type
from lrsgro.vlm.budget import Ledger
from lrsgro.vlm.cache import CachedResponse, ResponseCache, request_hash
from lrsgro.vlm.client import ChatClient, RequestFailed
from lrsgro.vlm.config import VlmConfig, resolve_api_key
from lrsgro.vlm.drafts import Draft, parse_reply, validate_drafts
from lrsgro.vlm.facts import contradictions
from lrsgro.vlm.prompts import PromptTemplate, load_template
from lrsgro.vlm.report import (
    CONTRADICTS_RULE,
    DraftProgress,
    DraftReport,
    DraftResult,
    FailedTarget,
    MissingType,
    RejectedDraft,
)
from lrsgro.vlm.rules import RuleIndex
from lrsgro.vlm.targets import DraftTarget
from lrsgro.vlm.views import View, ViewBuilder

logger = logging.getLogger(__name__)

FRAME_SIDE = 1024
FLAGS_KEY = "vlm_flags"

ProgressCallback = Callable[[DraftProgress], None]


def draft_questions(
    targets: Sequence[DraftTarget],
    config: VlmConfig,
    *,
    rules: RuleIndex | None = None,
    on_progress: ProgressCallback | None = None,
) -> DraftResult:
    """Draft candidate questions for every target with the configured model.

    Nothing already drafted is lost when the run stops early: responses are cached as they
    arrive, and a budget stop or a fatal endpoint error returns the questions drafted so far,
    with the targets never sent listed as skipped. A KeyboardInterrupt stops the pool and is
    re-raised; the cache keeps every response received before it.

    Args:
        targets: the requests to make; target ids must be unique.
        config: endpoint, model, concurrency, cache, budget and decoding settings.
        rules: the rule-derived questions of the build. A draft that repeats one with the
            same answer is dropped as a duplicate, and with another answer it is rejected.
        on_progress: called on this thread after each target finishes.

    Raises:
        InputError: a target is inconsistent, two targets share an id, a template is
            missing or invalid, or the API key file cannot be read.
    """
    _check_targets(targets)
    levels = sorted({t.level for t in targets})
    templates = {level: load_template(level, config.prompts_dir) for level in levels}
    run = _Run(config, templates, rules)
    report = DraftReport(
        model=config.model,
        endpoint_host=config.endpoint_host,
        templates={t.name: t.hash for t in templates.values()},
        targets=len(targets),
        budget_usd=config.budget_usd,
    )
    logger.info(
        "drafting %d targets with model %s at %s (%d in flight, cache %s)",
        len(targets),
        config.model,
        config.endpoint_host,
        config.concurrency,
        config.cache_dir or "off",
    )

    outcomes: list[_Outcome | None] = [None] * len(targets)
    try:
        with concurrent.futures.ThreadPoolExecutor(
            max_workers=config.concurrency, thread_name_prefix="lrsgro-vlm"
        ) as pool:
            futures = {pool.submit(run.draft_one, target): i for i, target in enumerate(targets)}
            try:
                for done, future in enumerate(concurrent.futures.as_completed(futures), start=1):
                    index = futures[future]
                    outcome = future.result()
                    outcomes[index] = outcome
                    if outcome.fatal and outcome.failure is not None and report.stop_reason is None:
                        report.stop_reason = f"endpoint error: {outcome.failure.error}"
                        logger.error("%s; the remaining targets are skipped", report.stop_reason)
                        run.stop.set()
                    if on_progress is not None:
                        on_progress(DraftProgress(done, len(targets), outcome.target_id, outcome.status))
            except BaseException:
                # Closing the client ends the requests in flight at once instead of after
                # their timeout. Responses already cached stay.
                run.stop.set()
                run.close()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    finally:
        run.close()

    return _assemble(targets, outcomes, run, report)


@dataclass
class _Outcome:
    target_id: str
    status: str
    questions: list[Question] = field(default_factory=list)
    rejected: list[RejectedDraft] = field(default_factory=list)
    missing: list[MissingType] = field(default_factory=list)
    duplicates_of_rules: int = 0
    failure: FailedTarget | None = None
    attempts: int = 0
    fatal: bool = False


class _Run:
    """State shared by the workers of one run."""

    def __init__(self, config: VlmConfig, templates: dict[str, PromptTemplate], rules: RuleIndex | None) -> None:
        self.config = config
        self.templates = templates
        self.rules = rules
        self.stop = threading.Event()
        self.ledger = Ledger(config)
        self.cache = ResponseCache(config.cache_dir) if config.cache_dir is not None else None
        self.views = ViewBuilder(config.global_side, config.crop_side, config.jpeg_quality)
        self.client = ChatClient(
            endpoint=config.endpoint,
            api_key=resolve_api_key(config),
            timeout_s=config.timeout_s,
            max_attempts=config.max_attempts,
            backoff_base_s=config.backoff_base_s,
            backoff_max_s=config.backoff_max_s,
            stop=self.stop,
        )

    def close(self) -> None:
        self.client.close()

    def draft_one(self, target: DraftTarget) -> _Outcome:
        target_id = target.target_id
        template = self.templates[target.level]
        try:
            views = self.views.build(target)
        except LrsgroError as error:
            logger.error("%s: cannot build the views: %s", target_id, error)
            return _Outcome(target_id, "failed", failure=FailedTarget(target_id=target_id, error=str(error)))

        prompt = template.render(target, self.config.extra_questions)
        request, key = _build_request(self.config, views, prompt)

        cached = self.cache.get(key) if self.cache is not None else None
        if cached is not None:
            outcome = _Outcome(target_id, "cached")
            self._read_reply(outcome, target, template, key, cached.text)
            return outcome

        if self.stop.is_set() or not self.ledger.reserve():
            return _Outcome(target_id, "skipped")

        try:
            completion = self.client.complete(request, target_id)
        except RequestFailed as error:
            if error.fatal:
                # Set here, not when the main thread sees the outcome: this worker would
                # otherwise start the next request before the main thread stops the run.
                self.stop.set()
            self.ledger.release()
            logger.warning("%s: request failed: %s", target_id, error)
            return _Outcome(
                target_id,
                "failed",
                failure=FailedTarget(target_id=target_id, error=str(error), attempts=error.attempts),
                attempts=error.attempts,
                fatal=error.fatal,
            )

        self.ledger.settle(completion.prompt_tokens, completion.completion_tokens)
        if self.cache is not None:
            self.cache.put(
                CachedResponse(
                    request_hash=key,
                    model=self.config.model,
                    text=completion.text,
                    prompt_tokens=completion.prompt_tokens,
                    completion_tokens=completion.completion_tokens,
                    finish_reason=completion.finish_reason,
                    created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                )
            )
        outcome = _Outcome(target_id, "drafted", attempts=completion.attempts)
        self._read_reply(outcome, target, template, key, completion.text)
        return outcome

    def _read_reply(
        self, outcome: _Outcome, target: DraftTarget, template: PromptTemplate, key: str, text: str
    ) -> None:
        target_id = outcome.target_id
        raw_drafts, whole_rejection = parse_reply(text)
        if whole_rejection is not None:
            outcome.rejected.append(
                RejectedDraft(
                target_id=target_id,
                index=None,
                kind=whole_rejection.kind,
                reason=whole_rejection.reason,
                draft=whole_rejection.draft,
            )
            )

        limit = len(target.requested_categories) + self.config.extra_questions
        drafts, rejections = validate_drafts(raw_drafts, target, limit)
        outcome.rejected.extend(
            RejectedDraft(target_id=target_id, index=r.index, kind=r.kind, reason=r.reason, draft=r.draft)
            for r in rejections
        )

        drafted_categories = {d.category for d in drafts}
        outcome.missing.extend(
            MissingType(target_id=target_id, category=c)
            for c in target.requested_categories
            if c not in drafted_categories
        )

        for draft in drafts:
            match = self.rules.compare(draft, target) if self.rules is not None else None
            if match is not None and match.status == "duplicate":
                outcome.duplicates_of_rules += 1
                continue
            if match is not None:
                outcome.rejected.append(_contradiction(target_id, draft, match.rule))
                continue
            draft.flags = contradictions(draft, target.facts)
            outcome.questions.append(_to_question(draft, target, template, self.config, key, text))


def _build_request(config: VlmConfig, views: list[View], prompt: str) -> tuple[dict[str, Any], str]:
    """Return the keyword arguments of the chat request and its hash.

    The hash covers the model, the messages with each image replaced by the SHA-256 of its
    JPEG bytes, and the decoding settings.
    """
    content: list[dict[str, Any]] = []
    hashed_content: list[dict[str, Any]] = []
    for view in views:
        content.append({"type": "image_url", "image_url": {"url": view.data_url}})
        digest = hashlib.sha256(view.jpeg).hexdigest()
        hashed_content.append({"type": "image_url", "image_url": {"url": f"sha256:{digest}"}})
    content.append({"type": "text", "text": prompt})
    hashed_content.append({"type": "text", "text": prompt})

    settings: dict[str, Any] = {"temperature": config.temperature, "max_tokens": config.max_tokens}
    if config.seed is not None:
        settings["seed"] = config.seed
    if config.json_mode:
        settings["response_format"] = {"type": "json_object"}

    request = {"model": config.model, "messages": [{"role": "user", "content": content}], **settings}
    hashed = {"model": config.model, "messages": [{"role": "user", "content": hashed_content}], **settings}
    return request, request_hash(hashed)


def _contradiction(target_id: str, draft: Draft, rule: Question) -> RejectedDraft:
    return RejectedDraft(
        target_id=target_id,
        index=draft.index,
        kind=CONTRADICTS_RULE,
        reason=(
            f"contradicts the rule-derived answer: drafted {draft.answer!r}, rule-derived {rule.answer!r} "
            f"({draft.level}/{draft.category}, rule question {rule.qid})"
        ),
        draft=draft.raw,
        rule_qid=rule.qid,
        rule_answer=rule.answer,
    )


def _to_question(
    draft: Draft,
    target: DraftTarget,
    template: PromptTemplate,
    config: VlmConfig,
    key: str,
    raw_response: str,
) -> Question:
    referent = target.referent
    referent_id = referent.id if referent is not None else ""
    expression = referent.expression if referent is not None else ""
    roi = [float(v) for v in referent.box] if referent is not None else None
    roi_1024 = None
    if roi is not None:
        scale = FRAME_SIDE / max(target.image_width, target.image_height)
        roi_1024 = [round(v * scale, 2) for v in roi]

    measured = dict(target.facts)
    if draft.flags:
        measured[FLAGS_KEY] = list(draft.flags)
    object_ids = list(target.object_ids) or ([referent_id] if referent_id else [])

    return Question(
        # The same parts as rule questions use, so a draft that repeats a rule question
        # gets its id and the build keeps one of them.
        qid=make_qid(target.image_id, get_type(draft.level, draft.category).slug, expression, draft.question),
        image_id=target.image_id,
        image=target.image,
        image_width=target.image_width,
        image_height=target.image_height,
        split=target.split,
        level=draft.level,  # type: ignore[arg-type]  # checked against the taxonomy
        category=draft.category,
        question=draft.question,
        answer=draft.answer,
        answer_kind=draft.answer_kind,
        choices=draft.choices,
        roi=roi,
        roi_1024=roi_1024,
        referent=expression or None,
        provenance="vlm",
        review_status="candidate",
        evidence=Evidence(object_ids=object_ids, measured=measured),
        source_labels=target.source_labels,
        vlm=VlmProvenance(
            model=config.model,
            endpoint_host=config.endpoint_host,
            template=template.name,
            template_hash=template.hash,
            request_hash=key,
            raw_response=raw_response,
            flags=list(draft.flags),
        ),
    )


def _check_targets(targets: Sequence[DraftTarget]) -> None:
    seen: set[str] = set()
    for target in targets:
        target.check()
        if target.target_id in seen:
            raise InputError(
                f"two draft targets share the id {target.target_id!r}",
                fix="merge their categories into one target",
            )
        seen.add(target.target_id)


def _assemble(
    targets: Sequence[DraftTarget], outcomes: list[_Outcome | None], run: _Run, report: DraftReport
) -> DraftResult:
    questions: list[Question] = []
    per_target: dict[str, list[str]] = {}
    seen_qids: set[str] = set()

    for target, outcome in zip(targets, outcomes):
        if outcome is None:  # only when the pool was stopped before this target ran
            report.skipped.append(target.target_id)
            continue

        report.requests += outcome.attempts
        report.retries += max(0, outcome.attempts - 1)
        report.rejected.extend(outcome.rejected)
        report.missing.extend(outcome.missing)
        report.duplicates_of_rules += outcome.duplicates_of_rules
        if outcome.status == "cached":
            report.cache_hits += 1
        if outcome.status == "skipped":
            report.skipped.append(outcome.target_id)
        if outcome.failure is not None:
            report.failed.append(outcome.failure)
        if outcome.status in ("drafted", "cached"):
            report.drafted_targets += 1

        ids = per_target.setdefault(outcome.target_id, [])
        for question in outcome.questions:
            if question.qid in seen_qids:
                report.rejected.append(
                    RejectedDraft(
                        target_id=outcome.target_id,
                        index=None,
                        kind="duplicate_question_id",
                        reason=f"same question id {question.qid} as a draft of an earlier target",
                        draft={"question": question.question, "answer": question.answer},
                    )
                )
                continue
            seen_qids.add(question.qid)
            questions.append(question)
            ids.append(question.qid)

    report.tally(questions)
    report.input_tokens = run.ledger.input_tokens
    report.output_tokens = run.ledger.output_tokens
    report.responses_without_usage = run.ledger.responses_without_usage
    report.cost_usd = run.ledger.cost_usd
    report.budget_reached = run.ledger.budget_reached
    if run.ledger.budget_reached and report.stop_reason is None:
        report.stop_reason = f"budget of {report.budget_usd} USD reached"

    logger.info(
        "drafted %d questions for %d of %d targets: %d requests (%d retries), %d cache hits, "
        "%d failed, %d skipped, %d drafts rejected, %d duplicates of rule questions dropped",
        report.questions,
        report.drafted_targets,
        report.targets,
        report.requests,
        report.retries,
        report.cache_hits,
        len(report.failed),
        len(report.skipped),
        len(report.rejected),
        report.duplicates_of_rules,
    )
    return DraftResult(questions=questions, report=report, per_target=per_target)
