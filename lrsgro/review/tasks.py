"""The Label Studio task of one question: its data and the proposal as a prediction.

The task data carries everything pull needs to turn a verdict back into full-resolution values
without the images: the proposal as pushed, the image size and the preview's size and scale.
Control names match ``annotation/label_studio/review.xml``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from lrsgro.records import Question
from lrsgro.review.geometry import PreviewFrame, box_to_rectangle
from lrsgro.taxonomy import AnswerKind

TASK_FORMAT = 1
ANSWER_CONTROL = "answer"
ROI_CONTROL = "roi"
VERDICT_CONTROL = "verdict"
REASON_CONTROL = "reason"
TEXT_TARGET = "question"
IMAGE_TARGET = "preview"
ROI_LABEL = "ROI"
EVIDENCE_MAX_CHARS = 300

_ANSWER_FORMS = {
    AnswerKind.YES_NO.value: "yes or no",
    AnswerKind.INTEGER.value: "a whole number",
    AnswerKind.WORD.value: "one word or a short noun phrase",
    AnswerKind.PHRASE.value: "a short phrase",
    AnswerKind.CHOICE.value: "one of the choices, spelled as listed",
}


class TaskData(BaseModel):
    """The ``data`` of a review task, as push writes it and pull reads it back."""

    model_config = ConfigDict(extra="ignore")

    lrsgro_task_format: int = TASK_FORMAT
    qid: str
    image_id: str
    level: str
    category: str
    type_label: str
    question: str
    context: str
    preview: str = Field(description="URL of the preview image")
    crop: str = Field(description="URL of the full-resolution crop")
    image_width: int
    image_height: int
    preview_width: int
    preview_height: int
    preview_scale: list[float] = Field(description="preview pixels per full-resolution pixel, x and y")
    crop_window: list[float] | None = Field(default=None, description="xyxy, full-resolution pixels")
    answer_kind: str
    choices: list[str] = Field(default_factory=list)
    proposal_answer: str
    proposal_roi: list[float] | None = None
    proposal_roi_1024: list[float] | None = None
    proposal_provenance: str

    @property
    def frame(self) -> PreviewFrame:
        return PreviewFrame(
            self.image_width,
            self.image_height,
            self.preview_width,
            self.preview_height,
            self.preview_scale[0],
            self.preview_scale[1],
        )

    def proposal_matches(self, question: Question) -> bool:
        """Return True when the question still holds the proposal this task was made from."""
        return question.answer == self.proposal_answer and question.roi == self.proposal_roi


def build_task(
    question: Question,
    frame: PreviewFrame,
    preview_url: str,
    crop_url: str,
    crop_window: tuple[float, float, float, float] | None,
) -> dict[str, Any]:
    """Return the task to import: data plus the proposal as a prediction."""
    data = TaskData(
        qid=question.qid,
        image_id=question.image_id,
        level=question.level,
        category=question.category,
        type_label=f"{question.level} / {question.category}",
        question=question.question,
        context=_context(question),
        preview=preview_url,
        crop=crop_url,
        image_width=question.image_width,
        image_height=question.image_height,
        preview_width=frame.preview_width,
        preview_height=frame.preview_height,
        preview_scale=[frame.scale_x, frame.scale_y],
        crop_window=list(crop_window) if crop_window is not None else None,
        answer_kind=question.answer_kind.value,
        choices=list(question.choices),
        proposal_answer=question.answer,
        proposal_roi=question.roi,
        proposal_roi_1024=question.roi_1024,
        proposal_provenance=question.provenance,
    )

    result: list[dict[str, Any]] = [
        {
            "id": ANSWER_CONTROL,
            "from_name": ANSWER_CONTROL,
            "to_name": TEXT_TARGET,
            "type": "textarea",
            "value": {"text": [question.answer]},
        }
    ]
    if question.roi is not None:
        rectangle = box_to_rectangle(tuple(question.roi), frame)
        result.append(
            {
                "id": ROI_CONTROL,
                "from_name": ROI_CONTROL,
                "to_name": IMAGE_TARGET,
                "type": "rectanglelabels",
                "original_width": frame.preview_width,
                "original_height": frame.preview_height,
                "image_rotation": 0,
                "value": {**rectangle, "rectanglelabels": [ROI_LABEL]},
            }
        )

    model_version = f"lrsgro-{question.provenance}"
    if question.vlm is not None:
        model_version += f"-{question.vlm.model}"
    return {
        "data": data.model_dump(mode="json"),
        "predictions": [{"model_version": model_version, "result": result}],
    }


def _context(question: Question) -> str:
    lines = []
    if question.referent:
        lines.append(f"Referent: {question.referent}")
    if question.choices:
        lines.append("Choices: " + " | ".join(question.choices))
    lines.append(f"Expected answer: {_ANSWER_FORMS.get(question.answer_kind.value, question.answer_kind.value)}")
    lines.append(f"Proposed by: {question.provenance}" + (f" ({question.vlm.model})" if question.vlm else ""))

    evidence = question.evidence
    facts = []
    if evidence.rule:
        facts.append(f"rule {evidence.rule}")
    if evidence.measured:
        facts.append("measured " + json.dumps(evidence.measured, sort_keys=True, ensure_ascii=False))
    if evidence.object_ids:
        facts.append(f"{len(evidence.object_ids)} labelled objects")
    if facts:
        text = "; ".join(facts)
        if len(text) > EVIDENCE_MAX_CHARS:
            text = text[: EVIDENCE_MAX_CHARS - 3] + "..."
        lines.append(f"Evidence: {text}")
    return "\n".join(lines)
