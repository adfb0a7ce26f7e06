"""LRS-GRO and LRS-VQA question records (JSON Lines), read back as labelled regions.

Sources: LRS-GRO, the benchmark of ZoomEarth ("ZoomEarth: Active Perception for
Ultra-High-Resolution Geospatial Vision-Language Tasks", earth-insights/ZoomEarth on GitHub);
LRS-VQA, "When Large Vision-Language Model Meets Large Remote Sensing Imagery: Coarse-to-Fine
Text-Guided Token Pruning" (Luo et al., ICCV 2025), built on FAIR1M, STAR and GLH-Bridge
images. Licence: that of the source images (academic use).

Format: one JSON object per line, a question each. The two releases differ:

* LRS-GRO: ``question_id``, ``image_name``, ``question``, ``ground_truth``, ``type``
  (``global``, ``region`` or ``object``), ``category`` (the question type), ``bbox`` as
  ``[x0, y0, x1, y1]`` or ``[]`` for global questions, and in the SFT split ``label`` (the
  referring expression) and ``scale``. The ``bbox`` is in the frame of the image resized to a
  long side of 1024 px: full-resolution pixels are ``bbox * scale`` with ``scale =
  max(max(width, height) / 1024, 1)``. Records without ``scale`` are scaled with the image
  size from ``--image``. Without that size the box stays in the 1024 px frame, with a
  warning and the attribute ``frame=preview-1024``.
* LRS-VQA: ``question_id``, ``image`` (a path), ``text`` (the question, with an answer
  instruction appended), ``ground_truth``, ``category``, ``image_size`` [width, height], and
  for object questions ``hbox`` ``[x0, y0, x1, y1]`` and ``rbox`` (four corners) in
  full-resolution pixels.

These are questions, not object labels. Each record with a box gives a region of interest:
``rbox`` when present, else ``hbox``, else ``bbox``. Records of one image that share a box
(several questions about one referent) give one object, with the question ids in the
attribute ``question_ids``. The category comes from the referent: the ``label`` field when
present, otherwise the question text when it names exactly one vocabulary class. A referent
that names no class, or several, gives ``is_region=True`` and category ``region``; region
questions are always regions. Records without a box (global questions) give no object.

:func:`read_question_records` returns the records themselves, normalised, for re-importing
existing questions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lrsgro.errors import LabelFormatError
from lrsgro.formats.base import (
    ReadContext,
    add_polygon,
    box_points,
    context_for_image,
    pairs,
    read_text,
    record_error,
    record_warning,
)
from lrsgro.objects import ImageLabels, Point
from lrsgro.vocab import ClassVocabulary, class_key

NAME = "lrs_jsonl"
DESCRIPTION = "LRS-GRO / LRS-VQA question records (JSONL): each record's box as a region of interest"

PREVIEW_LONG_SIDE = 1024
REGION_CATEGORY = "region"

_FIRST_LINE_OBJECT = re.compile(r"^\s*\{")
_INSTRUCTION = re.compile(r"\s*\n\s*Answer the question using a single word or phrase\.?\s*$", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_MAX_NAME_WORDS = 4
_LEVELS = ("global", "region", "object")


def sniff(path: Path, head: str) -> int:
    """Score a file: JSON Lines whose first record has a ``question_id``."""
    lines = [line for line in head.lstrip("\ufeff").splitlines() if line.strip()]
    if not lines or not _FIRST_LINE_OBJECT.match(lines[0]):
        return 0
    first = lines[0]
    if '"question_id"' in first and '"ground_truth"' in first:
        return 95
    if '"question_id"' in first:
        return 85
    return 0


def read_question_records(path: str | Path) -> list[dict[str, Any]]:
    """Read LRS-GRO or LRS-VQA records, normalised, keeping every original field.

    Added fields (existing fields are never overwritten):

    * ``record_format``: ``lrs-gro`` or ``lrs-vqa``;
    * ``image_name``: the image file name (LRS-VQA gives a path in ``image``);
    * ``question``: the question text (LRS-VQA's ``text`` without the answer instruction);
    * ``level``: ``global``, ``region`` or ``object`` (LRS-GRO's ``type``), else None;
    * ``roi``: the region of interest ``[x0, y0, x1, y1]`` in full-resolution pixels, or
      None when the record has no box;
    * ``roi_polygon``: its corners as ``[[x, y], ...]`` (the ``rbox`` when present);
    * ``roi_frame``: ``full`` or ``preview-1024`` (an LRS-GRO box whose scale is unknown);
    * ``source_line``: the 1-based line in the file.

    Raises:
        LabelFormatError: when the file is missing or a line is not a JSON object.
    """
    path = Path(path)
    if not path.is_file():
        raise LabelFormatError("question file not found", path=path, fix="check the path")

    records = []
    for number, raw in _records(path, strict=True):
        if not isinstance(raw, dict):
            raise LabelFormatError(
                f"line is not a JSON object: {raw}", path=path, line=number, fix="each line must hold one record"
            )
        records.append(_normalise(raw, number, None).record)
    return records


def read(path: Path, context: ReadContext) -> list[ImageLabels]:
    """Read question records into one ``ImageLabels`` per image, a region per distinct box."""
    groups: dict[str, ImageLabels] = {}
    contexts: dict[str, ReadContext] = {}
    boxes: dict[str, dict[tuple[float, ...], _Region]] = {}
    file_labels = ImageLabels(image_id=path.stem, source=str(path), format=NAME)
    matcher = _ReferentMatcher(context.vocabulary)

    for number, raw in _records(path, strict=False):
        if isinstance(raw, LabelFormatError):
            record_error(file_labels, raw.reason, number)
            continue
        if not isinstance(raw, dict):
            record_error(file_labels, "line is not a JSON object", number, raw)
            continue

        image_name = _image_name(raw)
        if image_name is None:
            record_error(file_labels, "record names no image (image_name or image)", number, raw.get("question_id"))
            continue

        image_id = Path(image_name).stem
        labels = groups.get(image_id)
        if labels is None:
            labels = ImageLabels(image_id=image_id, source=str(path), format=NAME, image_name=image_name)
            groups[image_id] = labels
            contexts[image_id] = context_for_image(context, labels, _size(raw.get("image_size")), single_image=False)
            boxes[image_id] = {}
        labels.metadata["records"] = str(int(labels.metadata.get("records", "0")) + 1)

        size = contexts[image_id].image_size
        normalised = _normalise(raw, number, size)
        if normalised.error:
            record_error(labels, normalised.error, number, raw.get("question_id"))
            continue
        if normalised.polygon is None:
            continue
        _collect(boxes[image_id], normalised, matcher, number)

    for image_id, labels in groups.items():
        _emit(labels, contexts[image_id], boxes[image_id])

    found = list(groups.values())
    if file_labels.issues:
        found.insert(0, file_labels)
    return found


@dataclass
class _Normalised:
    record: dict[str, Any]
    polygon: list[Point] | None = None
    frame: str = "full"
    error: str | None = None


@dataclass
class _Region:
    polygon: list[Point]
    frame: str
    line: int
    question_ids: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    region_only: bool = True


def _records(path: Path, *, strict: bool) -> list[tuple[int, Any]]:
    """Return (line, parsed record) for each non-empty line.

    A line that is not JSON raises when ``strict``, else it comes back as the
    :class:`LabelFormatError` in place of the record.
    """
    found: list[tuple[int, Any]] = []
    for number, line in enumerate(read_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            found.append((number, json.loads(line)))
            continue
        except json.JSONDecodeError as error:
            problem = LabelFormatError(
                f"invalid JSON: {error.msg} at column {error.colno}",
                path=path,
                line=number,
                fix="each line must hold one JSON record",
            )
        except RecursionError:
            problem = LabelFormatError("JSON nests too deeply to read", path=path, line=number)
        if strict:
            raise problem
        found.append((number, problem))
    return found


def _normalise(raw: dict[str, Any], number: int, size: tuple[int, int] | None) -> _Normalised:
    record = dict(raw)
    gro = "image_name" in raw or "question" in raw or "bbox" in raw
    record.setdefault("record_format", "lrs-gro" if gro else "lrs-vqa")

    image_name = _image_name(raw)
    if image_name is not None:
        record.setdefault("image_name", image_name)
    if "question" not in raw and isinstance(raw.get("text"), str):
        record["question"] = _INSTRUCTION.sub("", raw["text"]).strip()
    level = raw.get("type")
    record.setdefault("level", level if level in _LEVELS else None)
    record.setdefault("source_line", number)

    if size is None:
        size = _size(raw.get("image_size"))
    result = _Normalised(record)
    try:
        result.polygon, result.frame = _roi(raw, size)
    except ValueError as error:
        result.error = str(error)
        result.polygon = None

    if result.polygon is None:
        record.setdefault("roi", None)
        record.setdefault("roi_polygon", None)
        record.setdefault("roi_frame", None)
    else:
        xs = [p[0] for p in result.polygon]
        ys = [p[1] for p in result.polygon]
        record.setdefault("roi", [min(xs), min(ys), max(xs), max(ys)])
        record.setdefault("roi_polygon", [list(p) for p in result.polygon])
        record.setdefault("roi_frame", result.frame)
    return result


def _roi(raw: dict[str, Any], size: tuple[int, int] | None) -> tuple[list[Point] | None, str]:
    """Return the record's box as full-resolution corners (or preview ones) and its frame.

    Raises:
        ValueError: when a box field has the wrong number of values or a value that is not a number.
    """
    for key, count in (("rbox", 8), ("hbox", 4)):
        value = raw.get(key)
        if value in (None, []):
            continue
        numbers = _numbers(value, count, key)
        return (pairs(numbers) if count == 8 else box_points(*numbers)), "full"

    value = raw.get("bbox")
    if value in (None, []):
        return None, "full"
    numbers = _numbers(value, 4, "bbox")

    scale = raw.get("scale")
    if isinstance(scale, (int, float)) and not isinstance(scale, bool) and scale > 0:
        factor = float(scale)
    elif size is not None:
        factor = max(max(size) / PREVIEW_LONG_SIDE, 1.0)
    else:
        return box_points(*numbers), "preview-1024"
    return box_points(*(n * factor for n in numbers)), "full"


def _numbers(value: Any, count: int, key: str) -> list[float]:
    if not isinstance(value, list) or len(value) != count:
        raise ValueError(f"{key} must be a list of {count} numbers")
    try:
        return [float(item) for item in value]
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be a list of {count} numbers") from None


def _collect(regions: dict[tuple[float, ...], _Region], item: _Normalised, matcher: _ReferentMatcher, line: int) -> None:
    polygon = item.polygon or []
    key = tuple(round(value, 3) for point in polygon for value in point)
    region = regions.get(key)
    if region is None:
        region = _Region(polygon, item.frame, line)
        regions[key] = region

    record = item.record
    region.question_ids.append(str(record.get("question_id", f"line-{line}")))
    is_region_question = record.get("level") == "region"
    referent = record.get("label") if isinstance(record.get("label"), str) else None
    category = matcher.match(referent) if referent else None
    if category is None and referent is None and not is_region_question:
        category = matcher.match(str(record.get("question") or ""))
    if category is not None:
        region.categories.append(category)
    if not is_region_question and category is not None:
        region.region_only = False


def _emit(labels: ImageLabels, context: ReadContext, regions: dict[tuple[float, ...], _Region]) -> None:
    preview = 0
    for region in regions.values():
        categories = list(dict.fromkeys(region.categories))
        if len(categories) > 1:
            record_warning(
                labels,
                f"questions about one box name different classes ({', '.join(categories)}); used the first",
                region.line,
            )
        category = categories[0] if categories else REGION_CATEGORY
        attributes = {"question_ids": ",".join(region.question_ids)}
        if region.frame != "full":
            attributes["frame"] = region.frame
            preview += 1
        add_polygon(
            labels,
            context if region.frame == "full" else _without_size(context),
            region.polygon,
            category,
            region.line,
            is_region=region.region_only or category == REGION_CATEGORY,
            attributes=attributes,
        )
    if preview:
        record_warning(
            labels,
            f"{preview} box(es) stay in the {PREVIEW_LONG_SIDE} px preview frame because the records have no "
            "scale and the image size is unknown; pass --image to scale them to full resolution",
        )


def referent_class(text: str | None, vocabulary: ClassVocabulary) -> str | None:
    """Return the one vocabulary class a referring expression names, or None.

    Words are matched against class names and aliases, longest first, in singular or plural
    (``bridges``, ``ferries``). Text that names no class, or more than one, returns None.
    """
    return _ReferentMatcher(vocabulary).match(text)


class _ReferentMatcher:
    """Finds vocabulary classes in free text; built once per file."""

    def __init__(self, vocabulary: ClassVocabulary) -> None:
        self.vocabulary = vocabulary
        self.plurals = {class_key(info.plural): info.name for info in vocabulary.classes.values() if info.plural}

    def match(self, text: str | None) -> str | None:
        if not text:
            return None
        words = _WORD.findall(text.lower())
        found: list[str] = []
        position = 0
        while position < len(words):
            name, length = self._longest_at(words, position)
            if name is None:
                position += 1
                continue
            found.append(name)
            position += length

        distinct = list(dict.fromkeys(found))
        return distinct[0] if len(distinct) == 1 else None

    def _longest_at(self, words: list[str], position: int) -> tuple[str | None, int]:
        for length in range(min(_MAX_NAME_WORDS, len(words) - position), 0, -1):
            name = self._lookup(words[position : position + length])
            if name is not None:
                return name, length
        return None, 0

    def _lookup(self, words: list[str]) -> str | None:
        plural = self.plurals.get(class_key(" ".join(words)))
        if plural is not None:
            return plural

        last = words[-1]
        candidates = [last]
        if last.endswith("ies") and len(last) > 4:
            candidates.append(last[:-3] + "y")
        if last.endswith("es") and len(last) > 3:
            candidates.append(last[:-2])
        if last.endswith("s") and len(last) > 2:
            candidates.append(last[:-1])
        for candidate in candidates:
            info = self.vocabulary.resolve(" ".join([*words[:-1], candidate]))
            if info is not None:
                return info.name
        return None


def _image_name(raw: dict[str, Any]) -> str | None:
    for key in ("image_name", "image"):
        value = raw.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip().replace("\\", "/").rsplit("/", 1)[-1]
    return None


def _size(value: Any) -> tuple[int, int] | None:
    if isinstance(value, list) and len(value) == 2:
        try:
            width, height = int(value[0]), int(value[1])
        except (TypeError, ValueError):
            return None
        if width > 0 and height > 0:
            return width, height
    return None


def _without_size(context: ReadContext) -> ReadContext:
    return replace(context, image_size=None)
