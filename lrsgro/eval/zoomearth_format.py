"""Result files as the ZoomEarth authors publish them, read into prediction records.

One JSON object per line with ``question_id, ground_truth, answer1, answer2, bbox_ref, bbox,
category, type, stage1, stage2, image, model_id`` (``answer2`` may be missing or null). Their
inference scripts (``src/eval/infer.py`` and ``infer_vllm.py`` in earth-insights/ZoomEarth)
differ: one stores the text inside ``<answer>`` as ``answer1``/``answer2``, the other the raw
output. Both are read through :func:`lrsgro.scoring.extract`, which returns plain text as it
is. A missing answer is read from the raw ``stage1``/``stage2`` text (flag
``answer-from-raw``). Stage 2 ran when ``stage2`` or ``answer2`` is not empty.

Boxes: ``bbox_ref`` is in the LRS-GRO 1024 frame; ``bbox`` is in the frame of the view the
model saw, long side ``view_side`` (512 in the authors' scripts). IoU does not change when both
boxes are scaled by the same factor, so both are mapped to the 1024 frame and compared there;
the crop window cannot be rebuilt without the image size and is left out. A ``stage1`` that
starts with ``Error:`` is the authors' record of a failed request and becomes an error record.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lrsgro.benchmarks._records import json_lines
from lrsgro.errors import InputError
from lrsgro.eval.lrs_gro_data import OTHER_SUFFIX, normalise_answer, normalise_category
from lrsgro.eval.runlog import PredictionRecord
from lrsgro.imagery.frames import LRSGRO_FRAME_SIDE
from lrsgro.scoring.extract import extract
from lrsgro.taxonomy import LEVELS, find_type

REQUIRED_FIELDS = ("question_id", "ground_truth", "category", "type")
DEFAULT_VIEW_SIDE = 512
ERROR_PREFIX = "Error:"


def read_zoomearth_results(path: Path, view_side: int = DEFAULT_VIEW_SIDE) -> list[PredictionRecord]:
    """Read a ZoomEarth result file into stage-1 and stage-2 records, per question.

    Raises:
        InputError: a line is not JSON or lacks a required field.
    """
    records: list[PredictionRecord] = []
    for source in json_lines(path):
        number, item = source.line, source.record
        missing = [name for name in REQUIRED_FIELDS if name not in item]
        if missing:
            raise InputError(
                f"result record lacks {', '.join(missing)}",
                path=path,
                line=number,
                fix="pass a ZoomEarth result file, or --format lrsgro for an lrsgro predictions file",
            )
        records.extend(_records(item, view_side))
    return records


def looks_like_zoomearth(path: Path) -> bool:
    """Return True when the first record of ``path`` has the ZoomEarth result fields."""
    for source in json_lines(path):
        return "question_id" in source.record and "answer1" in source.record
    return False


def _records(item: dict[str, Any], view_side: int) -> Iterator[PredictionRecord]:
    qid = str(item["question_id"])
    reference = _reference(item)
    stage1_raw = _text(item.get("stage1"))
    if stage1_raw is not None and stage1_raw.startswith(ERROR_PREFIX):
        yield PredictionRecord(
            qid=qid, stage="stage1", final=False, error=stage1_raw, error_kind="request", reference=reference
        )
        return

    stage2_raw = _text(item.get("stage2"))
    answer2 = _text(item.get("answer2"))
    zoomed = bool(stage2_raw or answer2)

    stage1 = PredictionRecord(qid=qid, stage="stage1", final=not zoomed, raw_output=stage1_raw, reference=reference)
    _set_answer(stage1, _text(item.get("answer1")), stage1_raw)
    box = _first_box(item.get("bbox"))
    if box is not None:
        stage1.box = box
        stage1.box_frame = "view"
        stage1.box_full = [value * LRSGRO_FRAME_SIDE / view_side for value in box]
    else:
        stage1.flags.append("no-box")
    yield stage1

    if zoomed:
        stage2 = PredictionRecord(qid=qid, stage="stage2", final=True, raw_output=stage2_raw, crops=1, reference=reference)
        _set_answer(stage2, answer2, stage2_raw)
        yield stage2


def _reference(item: dict[str, Any]) -> dict[str, Any]:
    raw_level = str(item["type"]).strip().lower()
    level = raw_level if raw_level in LEVELS else "global"
    category, known = normalise_category(level, str(item["category"]))
    roi = _first_box(item.get("bbox_ref"))
    qtype = find_type(level, category)
    return {
        "answer": normalise_answer(str(item["ground_truth"])),
        "category": category,
        "level": level,
        "options": [],
        "roi": roi,
        "image_size": None,
        "needs_roi": qtype.needs_roi if qtype is not None else roi is not None,
        "report_apart": not known or category.endswith(OTHER_SUFFIX),
        "split": "test",
    }


def _set_answer(record: PredictionRecord, published: str | None, raw: str | None) -> None:
    source = published if published else raw
    extraction = extract(source)
    record.answer = extraction.answer
    record.answer_source = extraction.source
    if not published and raw:
        record.flags.append("answer-from-raw")
    if extraction.answer is None:
        record.flags.append("no-answer")


def _first_box(value: Any) -> list[float] | None:
    """Return the first box of ``[x0, y0, x1, y1]`` or ``[[x0, y0, x1, y1], ...]``, or None."""
    if isinstance(value, list) and value and isinstance(value[0], list):
        value = value[0]
    if not isinstance(value, list) or len(value) != 4:
        return None
    try:
        return [float(v) for v in value]
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None
