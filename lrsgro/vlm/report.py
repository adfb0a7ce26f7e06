"""The outcome of a drafting run: the questions and a report of what it cost and what failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from lrsgro.records import Question


class RejectedDraft(BaseModel):
    """A draft, or a whole reply, that failed validation."""

    target_id: str
    index: int | None = Field(description="position of the draft in the reply; None for the whole reply")
    reason: str
    draft: dict[str, Any] | None = None


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
    """

    model: str
    endpoint_host: str
    templates: dict[str, str] = Field(default_factory=dict, description="template file name to hash")
    targets: int = 0
    drafted_targets: int = 0
    questions: int = 0
    flagged_questions: int = 0
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


@dataclass
class DraftResult:
    """Drafted questions (provenance ``vlm``, status ``candidate``) and the run report."""

    questions: list[Question]
    report: DraftReport
    per_target: dict[str, list[str]] = field(default_factory=dict)
    """Question ids drafted for each target id, in target order."""
