"""The typed results every scorer and parser in ``lrsgro.scoring`` returns.

All of them are frozen dataclasses, so a result can be stored in a run log with
``dataclasses.asdict`` and compared in tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ExtractionStatus = Literal["ok", "no_answer"]
ExtractionSource = Literal["answer_tag", "assistant_turn", "plain"]
ScoreStatus = Literal["scored", "no_answer", "error"]

# "view": absolute pixels of the image the model was shown.
# "norm1000": integers 0..1000 relative to that image, as Qwen2-VL and others emit them.
BoxFrame = Literal["view", "norm1000"]
BOX_FRAMES: tuple[BoxFrame, ...] = ("view", "norm1000")

BoxTuple = tuple[float, float, float, float]


@dataclass(frozen=True)
class Box:
    """An axis-aligned box parsed from model output, as xyxy with x1 <= x2 and y1 <= y2.

    The coordinates are the raw numbers the model wrote, in the coordinate frame named by
    ``frame``. ``lrsgro.imagery`` converts between frames.
    """

    x1: float
    y1: float
    x2: float
    y2: float
    frame: BoxFrame
    label: str | None = None

    def as_tuple(self) -> BoxTuple:
        return (self.x1, self.y1, self.x2, self.y2)


@dataclass(frozen=True)
class Extraction:
    """The answer (and optionally the box) read from one raw model output.

    Attributes:
        answer: the answer text, stripped; ``None`` when the output contains no answer.
        status: ``ok``, or ``no_answer`` when nothing usable was found. A no-answer is
            never replaced by a guess.
        source: where the answer came from: an ``<answer>`` tag, the text after the last
            assistant turn of a chat template, or the whole output.
        box: the first box found, xyxy, when the caller asked for boxes.
        explanation: one or two sentences on how the answer was found or why not.
        box_frame: the frame of ``box`` (``None`` when there is no box).
    """

    answer: str | None
    status: ExtractionStatus
    source: ExtractionSource
    box: BoxTuple | None
    explanation: str
    box_frame: BoxFrame | None = None


@dataclass(frozen=True)
class Score:
    """The verdict of one scorer on one question.

    Attributes:
        value: 1.0 or 0.0 for open-ended and single-choice rules; a fraction for the
            ``partial`` multiple-answer rule.
        correct: whether the answer counts as right (``value == 1.0``).
        answer: the answer that was scored, as extracted; ``None`` for a no-answer.
        target: the reference answer.
        rule: the name of the rule, for example ``paper`` or ``robust``.
        explanation: why the rule decided as it did.
        status: ``scored``; ``no_answer`` (scored 0 and counted separately); or
            ``error`` for a failed model call, which scorers never produce and
            aggregation leaves out of accuracy.
    """

    value: float
    correct: bool
    answer: str | None
    target: str
    rule: str
    explanation: str
    status: ScoreStatus = "scored"

    @classmethod
    def no_answer(cls, target: str, rule: str, explanation: str) -> Score:
        """Build the score of an output without an answer: 0, counted separately."""
        return cls(0.0, False, None, target, rule, explanation, "no_answer")

    @classmethod
    def error(cls, target: str, rule: str, explanation: str) -> Score:
        """Build the record of a failed model call, which aggregation leaves out."""
        return cls(0.0, False, None, target, rule, explanation, "error")
