"""The outcome of a drafting run: the questions and a report of what it cost and what failed."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from lrsgro.records import Question

# The rejection kind of a draft that repeats a rule-derived question with a different answer.
CONTRADICTS_RULE = "contradicts_rule"


class RejectedDraft(BaseModel):
    """A draft, or a whole reply, that failed validation or contradicts a rule-derived answer."""

    target_id: str
    index: int | None = Field(description="position of the draft in the reply; None for the whole reply")
    kind: str = Field(description="short code of the failed check, e.g. too_many_words or contradicts_rule")
    reason: str
    draft: dict[str, Any] | None = None
    rule_qid: str | None = Field(default=None, description="the rule-derived question a contradicting draft repeats")
    rule_answer: str | None = Field(default=None, description="the answer of that rule-derived question")


class MissingType(BaseModel):
    """A requested type for which the reply held no valid draft."""

    target_id: str
    category: str


class FailedTarget(BaseModel):
    """A target whose request failed, or whose images could not be read."""

    target_id: str
    error: str
    attempts: int = 0


@dataclass(frozen=True)
class DraftProgress:
    """One finished target, passed to the progress callback on the calling thread.

    Attributes:
        done: targets finished so far, this one included.
        total: targets in the run.
        target_id: the target that finished.
        outcome: ``drafted`` (new response), ``cached`` (from the cache), ``failed`` or
            ``skipped`` (budget reached or run stopped before it was sent).
    """

    done: int
    total: int
    target_id: str
    outcome: str


class DraftReport(BaseModel):
    """Counts and costs of one drafting run. It never contains the API key.

    ``requests`` counts HTTP attempts, so ``requests - retries`` is the number of distinct
    requests sent. A response read from the cache is a cache hit, not a request.
    ``questions`` counts the drafts kept: valid, and neither a duplicate of a rule-derived
    question nor in contradiction with one (those are counted in ``duplicates_of_rules`` and
    listed in ``rejected``).
    """

    model: str
    endpoint_host: str
    templates: dict[str, str] = Field(default_factory=dict, description="template file name to hash")
    targets: int = 0
    drafted_targets: int = 0
    questions: int = 0
    flagged_questions: int = 0
    duplicates_of_rules: int = Field(
        default=0, description="valid drafts dropped because a rule-derived question already gives the same answer"
    )
    requests: int = 0
    retries: int = 0
    cache_hits: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    responses_without_usage: int = 0
    cost_usd: float | None = None
    budget_usd: float | None = None
    budget_reached: bool = False
    stop_reason: str | None = None
    skipped: list[str] = Field(default_factory=list, description="ids of targets never sent")
    failed: list[FailedTarget] = Field(default_factory=list)
    rejected: list[RejectedDraft] = Field(default_factory=list)
    missing: list[MissingType] = Field(default_factory=list)
    rejected_by_kind: dict[str, int] = Field(
        default_factory=dict, description="rejection kind to count, the most frequent first"
    )

    def tally(self, questions: list[Question]) -> None:
        """Set the counts that derive from the kept questions and the rejection list."""
        self.questions = len(questions)
        self.flagged_questions = sum(1 for q in questions if q.vlm is not None and q.vlm.flags)
        by_kind = Counter(r.kind for r in self.rejected)
        self.rejected_by_kind = dict(sorted(by_kind.items(), key=lambda item: (-item[1], item[0])))


@dataclass
class DraftResult:
    """Drafted questions (provenance ``vlm``, status ``candidate``) and the run report."""

    questions: list[Question]
    report: DraftReport
    per_target: dict[str, list[str]] = field(default_factory=dict)
    """Question ids drafted for each target id, in target order."""
