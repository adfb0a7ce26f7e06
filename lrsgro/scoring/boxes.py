"""Read a bounding box from model output, tolerating the ways models break JSON.

Recognised forms, in order of preference (the first box found in the text wins):

1. a ``bbox_2d`` (or ``bbox``, ``box``, ``bounding_box``) key followed by four numbers, as
   in ``{"bbox_2d": [x1, y1, x2, y2], "label": "ship"}`` or a list of such objects. The
   JSON may sit in a code fence and may have single quotes, trailing commas, quoted
   numbers, a missing closing bracket or ``[[x1, y1], [x2, y2]]`` corner pairs;
2. Qwen2-VL box tokens ``<|box_start|>(x1,y1),(x2,y2)<|box_end|>``;
3. a bare list of exactly four numbers ``[12, 30, 200, 240]``.

Numbers are read with a regular expression rather than a JSON parser, so a box survives
malformed JSON around it. Coordinates are returned as written, with x1 <= x2 and y1 <= y2
swapped into order; the caller says which frame they are in and ``lrsgro.imagery``
converts them.
"""

from __future__ import annotations

import re

from lrsgro.errors import InputError
from lrsgro.scoring.types import BOX_FRAMES, Box, BoxFrame

# One number, never a prefix of a longer one, optionally quoted.
_NUMBER = r"""["']?\s*(-?\d+(?:\.\d+)?)(?!\.?\d)\s*["']?"""
_SEP = r"\s*,\s*"

# A box key, its separator, then four numbers as a flat list or as two corner pairs.
_KEYED_BOX = re.compile(
    r"""["']?\b(?:bbox_2d|bbox|box|bounding_box)["']?\s*[:=]\s*"""
    r"(?:"
    rf"[\[(]\s*{_NUMBER}{_SEP}{_NUMBER}{_SEP}{_NUMBER}{_SEP}{_NUMBER}"
    r"""(?!\s*,\s*["']?-?\d)"""
    r"|"
    rf"\[\s*[\[(]\s*{_NUMBER}{_SEP}{_NUMBER}\s*[\])]{_SEP}[\[(]\s*{_NUMBER}{_SEP}{_NUMBER}"
    r")",
    re.IGNORECASE,
)
_QWEN2_BOX = re.compile(
    r"<\|box_start\|>\s*\(\s*(-?\d+(?:\.\d+)?){sep}(-?\d+(?:\.\d+)?)\s*\){sep}"
    r"\(\s*(-?\d+(?:\.\d+)?){sep}(-?\d+(?:\.\d+)?)\s*\)".format(sep=_SEP)
)
_QWEN2_LABEL = re.compile(r"<\|object_ref_start\|>(.*?)<\|object_ref_end\|>\s*$", re.DOTALL)
# Exactly four numbers: a fifth number after the fourth means it is some other list.
_BARE_LIST = re.compile(
    r"\[\s*(-?\d+(?:\.\d+)?){sep}(-?\d+(?:\.\d+)?){sep}(-?\d+(?:\.\d+)?){sep}"
    r"(-?\d+(?:\.\d+)?)(?!\s*,\s*-?\d)(?!\.?\d)".format(sep=_SEP)
)
_LABEL = re.compile(r"""["']?\blabel["']?\s*:\s*["']([^"'\n]*)["']?""", re.IGNORECASE)


def parse_boxes(text: str, frame: BoxFrame) -> list[Box]:
    """Return every box in ``text``, keyed boxes first, then box tokens, then bare lists.

    Raises:
        InputError: ``frame`` is not one of ``view`` or ``norm1000``.
    """
    _check_frame(frame)
    boxes: list[Box] = []

    for match in _KEYED_BOX.finditer(text):
        numbers = [float(group) for group in match.groups() if group is not None]
        boxes.append(_ordered(numbers, frame, _label_near(text, match.start())))

    for match in _QWEN2_BOX.finditer(text):
        numbers = [float(group) for group in match.groups()]
        label_match = _QWEN2_LABEL.search(text, 0, match.start())
        label = label_match.group(1).strip() if label_match else None
        boxes.append(_ordered(numbers, frame, label))

    if not boxes:
        for match in _BARE_LIST.finditer(text):
            numbers = [float(group) for group in match.groups()]
            boxes.append(_ordered(numbers, frame, None))
    return boxes


def parse_box(text: str, frame: BoxFrame) -> Box | None:
    """Return the first box in ``text`` (see :func:`parse_boxes`), or ``None``."""
    boxes = parse_boxes(text, frame)
    return boxes[0] if boxes else None


def _check_frame(frame: str) -> None:
    if frame not in BOX_FRAMES:
        raise InputError(
            f"invalid box frame {frame!r}",
            fix=f"use one of {', '.join(BOX_FRAMES)}",
        )


def _ordered(numbers: list[float], frame: BoxFrame, label: str | None) -> Box:
    x1, y1, x2, y2 = numbers
    return Box(min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2), frame, label)


def _label_near(text: str, key_start: int) -> str | None:
    """Find the ``label`` of the JSON-like object that contains the box key at ``key_start``."""
    object_start = text.rfind("{", 0, key_start)
    if object_start == -1:
        return None
    object_end = text.find("}", key_start)
    if object_end == -1:
        object_end = len(text)

    match = _LABEL.search(text, object_start, object_end)
    if match is None:
        return None
    return match.group(1).strip() or None
