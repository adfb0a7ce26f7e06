"""The question record: what ``lrsgro build`` writes and review, push and eval read.

One record per question. Nested values (evidence, VLM provenance, review history) are kept
as JSON strings in Parquet so the schema stays flat and stable across versions.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lrsgro.taxonomy import AnswerKind, find_type

SCHEMA_VERSION = "1"

Provenance = Literal["rule", "vlm", "human"]
ReviewStatus = Literal["candidate", "accepted", "edited", "rejected"]
Box = list[float]


class Evidence(BaseModel):
    """The objects and measured values behind a question, so its answer can be re-derived."""

    model_config = ConfigDict(extra="forbid")

    object_ids: list[str] = Field(default_factory=list)
    measured: dict[str, Any] = Field(default_factory=dict)
    rule: str | None = None


class VlmProvenance(BaseModel):
    """The model, prompt template and raw response behind a VLM-drafted question."""

    model: str
    endpoint_host: str | None = None
    template: str
    template_hash: str
    request_hash: str
    raw_response: str
    flags: list[str] = Field(default_factory=list)


class ReviewEvent(BaseModel):
    """One reviewer verdict applied to a question."""

    verdict: Literal["accept", "edit", "reject"]
    reviewer: str
    reviewed_at: str
    task_id: int | None = None
    annotation_id: int | None = None
    reason: str | None = None
    old_answer: str | None = None
    new_answer: str | None = None
    old_roi: Box | None = None
    new_roi: Box | None = None
    project_id: int | None = None
    note: str | None = Field(default=None, description="how lrsgro read the verdict, e.g. a rotated box converted")


class Question(BaseModel):
    """One LRS-GRO question.

    Boxes are xyxy; ``roi`` is in full-resolution pixels of the image, ``roi_1024`` in the
    frame whose long side is 1024 pixels, as the published LRS-GRO stores them.
    """

    model_config = ConfigDict(extra="forbid")

    qid: str
    image_id: str
    image: str = Field(description="image path relative to the dataset folder")
    image_width: int
    image_height: int
    split: str
    level: Literal["global", "region", "object"]
    category: str
    question: str
    answer: str
    answer_kind: AnswerKind
    choices: list[str] = Field(default_factory=list)
    roi: Box | None = None
    roi_1024: Box | None = None
    referent: str | None = None
    provenance: Provenance = "rule"
    review_status: ReviewStatus = "candidate"
    evidence: Evidence = Field(default_factory=Evidence)
    vlm: VlmProvenance | None = None
    reviews: list[ReviewEvent] = Field(default_factory=list)
    source_labels: str | None = None

    @field_validator("roi", "roi_1024")
    @classmethod
    def _check_box(cls, box: Box | None) -> Box | None:
        if box is None:
            return None
        if len(box) != 4:
            raise ValueError(f"a box needs 4 numbers (x0, y0, x1, y1), got {box!r}")
        if box[2] < box[0] or box[3] < box[1]:
            raise ValueError(f"box must satisfy x0 <= x1 and y0 <= y1, got {box!r}")
        return [float(v) for v in box]

    @property
    def type_key(self) -> tuple[str, str]:
        return (self.level, self.category)

    @property
    def is_known_type(self) -> bool:
        return find_type(self.level, self.category) is not None

    def to_row(self) -> dict[str, Any]:
        """Return the flat row written to Parquet."""
        row = self.model_dump(mode="json")
        row["evidence"] = json.dumps(row["evidence"], sort_keys=True)
        row["vlm"] = json.dumps(row["vlm"], sort_keys=True) if row["vlm"] is not None else None
        row["reviews"] = json.dumps(row["reviews"], sort_keys=True)
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Question:
        """Rebuild a question from a Parquet row (the inverse of :meth:`to_row`)."""
        data = dict(row)
        data["evidence"] = json.loads(data.get("evidence") or "{}")
        data["vlm"] = json.loads(data["vlm"]) if data.get("vlm") else None
        data["reviews"] = json.loads(data.get("reviews") or "[]")
        return cls.model_validate(data)


def make_qid(*parts: str) -> str:
    """Return a stable question id from the parts that define a question."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return f"q-{digest[:16]}"


class ImageRecord(BaseModel):
    """One image of a dataset, stored once under ``images/``."""

    model_config = ConfigDict(extra="forbid")

    image_id: str
    file: str = Field(description="path relative to the dataset folder")
    width: int
    height: int
    split: str
    sha256: str
    gsd: float | None = None
    crs: str | None = None
    acquisition_date: str | None = None
    center_lat: float | None = None
    label_file: str | None = None
    label_format: str | None = None
    objects: int = 0
