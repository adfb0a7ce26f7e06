"""Evaluation protocols: how a question becomes one or two model requests.

- ``zoom``, as ZoomEarth runs: stage 1 sends the global view (long side ``view_side``) with an
  instruction asking for reasoning, at most one ``bbox_2d`` box and an ``<answer>``. The first
  box is mapped from the view (or 0-1000) frame to full resolution, grown by the ZoomEarth
  crop rule (a side under ``min_crop_side`` pixels becomes that long, centred and shifted
  inside the image), cropped, and sent in stage 2, a turn that continues the stage-1
  conversation. Without a box the stage-1 answer is final.
- ``direct``: one request with the image (every image of a multi-image question) at long
  side ``--max-side``.
- ``blind``: the question alone, no image; the language prior.
- ``oracle-crop``: the global view plus the crop of the reference region (the same crop rule):
  an upper bound on what perfect localisation gives.

A protocol yields one :class:`~lrsgro.eval.runlog.PredictionRecord` per request, so the
runner can store stage 1 before stage 2 starts. Records hold what their own output says;
which answer is final (stage 2, else stage 1) is decided when scoring.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from lrsgro.benchmarks.base import EvalSample
from lrsgro.errors import InputError, LrsgroError
from lrsgro.eval.backends.base import ChatBackend, ChatRequest, ImagePart, Message, TextPart
from lrsgro.eval.config import ModelConfig
from lrsgro.eval.inputs import ImageStore
from lrsgro.eval.prompts import BOX_FORMATS, PromptTemplate, answer_format, options_block
from lrsgro.eval.retry import CallOutcome, RetryPolicy, call_with_retries
from lrsgro.eval.runlog import PredictionRecord
from lrsgro.imagery.frames import Box, clamp_box, from_normalized, zoom_crop_window
from lrsgro.scoring.extract import extract

_ANSWER_OPEN = re.compile(r"<\s*answer\s*>", re.IGNORECASE)


class Answerer(Protocol):
    """Anything that turns a sample into prediction records: a protocol, a baseline, a replay."""

    name: str

    def answer(self, sample: EvalSample, previous: Mapping[str, PredictionRecord]) -> Iterator[PredictionRecord]:
        """Yield the records of ``sample``, continuing from ``previous`` (successful records by stage)."""
        ...


@dataclass
class ProtocolContext:
    """The backend, settings and inputs every protocol needs to send requests.

    Attributes:
        backend: the chat backend.
        model: the model configuration.
        templates: the prompt templates of the protocol, by name.
        images: the shared view and crop source.
        retry: the retry policy of each request.
        direct_side: long side of the image in ``direct``.
    """

    backend: ChatBackend
    model: ModelConfig
    templates: dict[str, PromptTemplate]
    images: ImageStore
    retry: RetryPolicy
    direct_side: int


class ZoomProtocol:
    """Two-stage crop-and-zoom."""

    name = "zoom"

    def __init__(self, context: ProtocolContext) -> None:
        self.context = context
        self.frame = "norm1000" if context.model.box_convention == "norm1000" else "view"

    def answer(self, sample: EvalSample, previous: Mapping[str, PredictionRecord]) -> Iterator[PredictionRecord]:
        context = self.context
        image = _require_image(sample)
        view = context.images.view(image, context.model.view_side)
        view_width, view_height = int(view.shape[1]), int(view.shape[0])
        prompt = context.templates["zoom_stage1"].render(
            question=sample.question,
            view_width=view_width,
            view_height=view_height,
            box_format=BOX_FORMATS[context.model.box_convention],
            options=options_block(sample.options),
            answer_format=answer_format(sample.options),
        )
        first_turn = Message("user", (ImagePart(view), TextPart(prompt)))

        stage1 = previous.get("stage1")
        if stage1 is None:
            outcome = _ask(context, (first_turn,), f"{sample.id}/stage1")
            stage1 = _record(sample, "stage1", outcome, final=False, box_frame=self.frame)
            if stage1.error is None:
                self._read_box(stage1, sample, (view_width, view_height))
                stage1.final = stage1.crop_window is None
            yield stage1
            if stage1.error is not None or stage1.final:
                return
        if stage1.crop_window is None:
            return

        crop = context.images.crop(image, tuple(stage1.crop_window), context.model.crop_side)
        reply = _before_answer(stage1.raw_output or "")
        if context.model.stage2_turn == "assistant":
            messages = (first_turn, Message("assistant", (TextPart(reply), ImagePart(crop))))
            outcome = _ask(context, messages, f"{sample.id}/stage2", continue_final=True)
        else:
            follow_up = context.templates["zoom_stage2"].render(
                question=sample.question, answer_format=answer_format(sample.options)
            )
            messages = (
                first_turn,
                Message("assistant", (TextPart(reply),)),
                Message("user", (ImagePart(crop), TextPart(follow_up))),
            )
            outcome = _ask(context, messages, f"{sample.id}/stage2")

        stage2 = _record(sample, "stage2", outcome, final=outcome.error is None)
        stage2.crops = 1
        stage2.crop_window = stage1.crop_window
        yield stage2

    def _read_box(self, record: PredictionRecord, sample: EvalSample, view_size: tuple[int, int]) -> None:
        """Map the record's box to full resolution and set the crop window, or flag why not."""
        if record.box is None:
            record.flags.append("no-box")
            return

        assert sample.image_size is not None  # preflight guarantees a size for image protocols
        full, flags = box_to_full_resolution(tuple(record.box), self.frame, view_size, sample.image_size)
        record.flags.extend(flags)
        if full is None:
            return
        record.box_full = list(full)
        record.crop_window = list(zoom_crop_window(full, sample.image_size, self.context.model.min_crop_side))


class DirectProtocol:
    """One request with the image at a chosen resolution."""

    name = "direct"

    def __init__(self, context: ProtocolContext) -> None:
        self.context = context

    def answer(self, sample: EvalSample, previous: Mapping[str, PredictionRecord]) -> Iterator[PredictionRecord]:
        context = self.context
        _require_image(sample)
        # Every image of the question, in order: change questions show "before" then "after".
        views = tuple(ImagePart(context.images.view(path, context.direct_side)) for path in sample.images)
        prompt = _render_single(context.templates["direct"], sample)
        outcome = _ask(context, (Message("user", (*views, TextPart(prompt))),), f"{sample.id}/answer")
        yield _record(sample, "answer", outcome, final=outcome.error is None)


class BlindProtocol:
    """The question without the image."""

    name = "blind"

    def __init__(self, context: ProtocolContext) -> None:
        self.context = context

    def answer(self, sample: EvalSample, previous: Mapping[str, PredictionRecord]) -> Iterator[PredictionRecord]:
        prompt = _render_single(self.context.templates["blind"], sample)
        outcome = _ask(self.context, (Message("user", (TextPart(prompt),)),), f"{sample.id}/answer")
        yield _record(sample, "answer", outcome, final=outcome.error is None)


class OracleCropProtocol:
    """The global view plus the crop around the reference region."""

    name = "oracle-crop"

    def __init__(self, context: ProtocolContext) -> None:
        self.context = context

    def answer(self, sample: EvalSample, previous: Mapping[str, PredictionRecord]) -> Iterator[PredictionRecord]:
        context = self.context
        image = _require_image(sample)
        parts: list[TextPart | ImagePart] = [ImagePart(context.images.view(image, context.model.view_side))]

        window = None
        if sample.roi is not None and sample.image_size is not None:
            window = zoom_crop_window(sample.roi, sample.image_size, context.model.min_crop_side)
            parts.append(ImagePart(context.images.crop(image, window, context.model.crop_side)))
        parts.append(TextPart(_render_single(context.templates["oracle_crop"], sample)))

        outcome = _ask(context, (Message("user", tuple(parts)),), f"{sample.id}/answer")
        record = _record(sample, "answer", outcome, final=outcome.error is None)
        if window is not None:
            record.crop_window = list(window)
            record.crops = 1
        else:
            record.flags.append("no-roi")
        yield record


PROTOCOL_CLASSES = {
    "zoom": ZoomProtocol,
    "direct": DirectProtocol,
    "blind": BlindProtocol,
    "oracle-crop": OracleCropProtocol,
}


def make_protocol(name: str, context: ProtocolContext) -> Answerer:
    """Return the protocol called ``name``.

    Raises:
        InputError: no protocol has that name.
    """
    if name not in PROTOCOL_CLASSES:
        raise InputError(f"unknown protocol {name!r}", fix=f"use one of: {', '.join(PROTOCOL_CLASSES)}")
    return PROTOCOL_CLASSES[name](context)


def box_to_full_resolution(
    box: Box, frame: str, view_size: tuple[int, int], image_size: tuple[int, int]
) -> tuple[Box | None, list[str]]:
    """Map a model box to full-resolution pixels; return it (or None) with flags.

    ``frame`` is ``view`` (pixels of the image the model saw, ``view_size``) or
    ``norm1000``. A box reaching past the frame is clipped (flag ``box-clipped``); a box
    entirely outside it, which usually means the model used another frame, is dropped
    (flag ``box-outside``). A box of zero width or height is kept: the crop rule grows it.
    """
    bounds = (1000, 1000) if frame == "norm1000" else view_size
    x0, y0, x1, y1 = box
    flags: list[str] = []
    if x1 < 0 or y1 < 0 or x0 > bounds[0] or y0 > bounds[1]:
        return None, ["box-outside"]

    clipped = clamp_box(box, bounds)
    if clipped != tuple(float(v) for v in box):
        flags.append("box-clipped")

    if frame == "norm1000":
        full = from_normalized(clipped, image_size)
    else:
        scale_x = image_size[0] / view_size[0]
        scale_y = image_size[1] / view_size[1]
        full = (clipped[0] * scale_x, clipped[1] * scale_y, clipped[2] * scale_x, clipped[3] * scale_y)
    return clamp_box(full, image_size), flags


def _ask(
    context: ProtocolContext, messages: tuple[Message, ...], tag: str, continue_final: bool = False
) -> CallOutcome:
    request = ChatRequest(messages, continue_final=continue_final, tag=tag)
    return call_with_retries(context.backend, request, context.retry)


def _record(
    sample: EvalSample, stage: str, outcome: CallOutcome, final: bool, box_frame: str | None = None
) -> PredictionRecord:
    record = PredictionRecord(
        qid=sample.id,
        stage=stage,  # type: ignore[arg-type]
        final=final,
        attempts=outcome.attempts,
        elapsed_s=round(outcome.elapsed_s, 4),
        reference=sample.reference(),
    )
    if outcome.error is not None:
        record.error = str(outcome.error)
        record.error_kind = outcome.error.kind
        return record

    completion = outcome.completion
    assert completion is not None
    record.raw_output = completion.text
    record.prompt_tokens = completion.prompt_tokens
    record.completion_tokens = completion.completion_tokens
    record.latency_s = round(completion.latency_s, 4)
    if completion.finish_reason == "length":
        record.flags.append("truncated")

    extraction = extract(completion.text, box_frame=box_frame)  # type: ignore[arg-type]
    record.answer = extraction.answer
    record.answer_source = extraction.source
    if extraction.answer is None:
        record.flags.append("no-answer")
    if extraction.box is not None:
        record.box = list(extraction.box)
        record.box_frame = box_frame
    return record


def _render_single(template: PromptTemplate, sample: EvalSample) -> str:
    return template.render(
        question=sample.question,
        options=options_block(sample.options),
        answer_format=answer_format(sample.options),
    )


def _before_answer(text: str) -> str:
    """Return the stage-1 reply up to its ``<answer>`` tag, so stage 2 answers afresh."""
    match = _ANSWER_OPEN.search(text)
    return (text[: match.start()] if match else text).rstrip()


def _require_image(sample: EvalSample) -> Path:
    if sample.image is None:
        raise LrsgroError(f"question {sample.id} has no image")
    return sample.image
