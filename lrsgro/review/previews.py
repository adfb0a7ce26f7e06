"""Review images: a bounded preview of the whole image and a full-resolution crop per question.

Both images show the proposed ROI as a red outline. Pixels come from
:class:`lrsgro.imagery.UHRImage`, which reads views from overviews and crops by window (PNG and
JPEG through a cached tiled copy), so memory stays bounded by the output sizes whatever the
image size.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lrsgro.errors import ImageError
from lrsgro.imagery import UHRImage, encode_jpeg, view_size, zoom_crop_window
from lrsgro.records import Question
from lrsgro.review.geometry import Box, PreviewFrame

PREVIEW_MAX_SIDE = 2048
CROP_MAX_SIDE = 2048
CROP_MIN_SIDE = 512
CROP_MARGIN = 0.25
JPEG_QUALITY = 90
OUTLINE_COLOR = (255, 0, 0)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class ReviewImages:
    """The files written for one question and how they map to the full-resolution image.

    ``crop_window`` is the xyxy window of the crop in full-resolution pixels, or None when the
    question has no ROI and the crop is the preview itself.
    """

    preview: Path
    frame: PreviewFrame
    crop: Path
    crop_window: Box | None
    crop_width: int
    crop_height: int


@dataclass(frozen=True)
class RenderSettings:
    """Sizes of the review images in pixels."""

    preview_max_side: int = PREVIEW_MAX_SIDE
    crop_max_side: int = CROP_MAX_SIDE
    crop_min_side: int = CROP_MIN_SIDE


def render_image_questions(
    image_path: Path,
    questions: Iterable[Question],
    out_dir: Path,
    settings: RenderSettings = RenderSettings(),
) -> dict[str, ReviewImages]:
    """Write the preview and crop of every question on one image; return them by qid.

    The preview is read once for all questions of the image. Files whose name (a hash of the
    image size, the ROI and the settings) already exists are reused, so pushing again renders
    nothing new.

    Raises:
        ImageError: the image cannot be read, or its size differs from the size the questions record.
    """
    questions = list(questions)
    if not questions:
        return {}

    with UHRImage(image_path) as image:
        width, height = image.info.size
        for question in questions:
            if (question.image_width, question.image_height) != (width, height):
                raise ImageError(
                    f"image is {width}x{height} but question {question.qid} records "
                    f"{question.image_width}x{question.image_height}",
                    path=image_path,
                    fix="rebuild the dataset so questions and images agree",
                )

        preview_width, preview_height = view_size((width, height), settings.preview_max_side)
        frame = PreviewFrame.for_sizes(width, height, preview_width, preview_height)
        image_dir = out_dir / _safe_name(questions[0].image_id)
        base: np.ndarray | None = None
        results: dict[str, ReviewImages] = {}

        for question in questions:
            roi = tuple(question.roi) if question.roi is not None else None
            tag = _tag(width, height, roi, settings)
            name = f"{_safe_name(question.qid)}-preview-{tag}.jpg" if roi else f"whole-{tag}.jpg"
            preview_path = image_dir / name
            if not preview_path.is_file():
                if base is None:
                    base = image.view(settings.preview_max_side)
                preview_roi = _scale_box(roi, frame.scale_x, frame.scale_y) if roi else None
                _save_jpeg(_draw_outline(base, preview_roi), preview_path)

            if roi is None:
                results[question.qid] = ReviewImages(
                    preview_path, frame, preview_path, None, frame.preview_width, frame.preview_height
                )
                continue

            window = crop_window(roi, width, height, settings.crop_min_side)
            crop_width, crop_height = view_size(
                (int(window[2] - window[0]), int(window[3] - window[1])), settings.crop_max_side
            )
            crop_path = image_dir / f"{_safe_name(question.qid)}-crop-{tag}.jpg"
            if not crop_path.is_file():
                pixels = image.crop(window, out_max_side=settings.crop_max_side)
                scale_x = pixels.shape[1] / (window[2] - window[0])
                scale_y = pixels.shape[0] / (window[3] - window[1])
                local = (roi[0] - window[0], roi[1] - window[1], roi[2] - window[0], roi[3] - window[1])
                _save_jpeg(_draw_outline(pixels, _scale_box(local, scale_x, scale_y)), crop_path)
            results[question.qid] = ReviewImages(preview_path, frame, crop_path, window, crop_width, crop_height)
    return results


def crop_window(roi: Box, width: int, height: int, min_side: int = CROP_MIN_SIDE) -> Box:
    """Return the crop around an ROI in whole full-resolution pixels.

    The ROI grows by ``CROP_MARGIN`` of its longer side on every side for context. Then the
    ZoomEarth crop rule (:func:`lrsgro.imagery.zoom_crop_window`) clamps it to the image and
    widens each side shorter than ``min_side``, and the result is widened to whole pixels.
    """
    x0, y0, x1, y1 = roi
    margin = CROP_MARGIN * max(x1 - x0, y1 - y0)
    grown = zoom_crop_window((x0 - margin, y0 - margin, x1 + margin, y1 + margin), (width, height), min_side)
    return (
        float(max(0, math.floor(grown[0]))),
        float(max(0, math.floor(grown[1]))),
        float(min(width, math.ceil(grown[2]))),
        float(min(height, math.ceil(grown[3]))),
    )


def _draw_outline(pixels: np.ndarray, box: Box | None) -> np.ndarray:
    # A copy, because the same base pixels serve every question on the image.
    out = pixels.copy()
    if box is None:
        return out

    rows, cols = out.shape[:2]
    line = max(2, round(max(rows, cols) / 512))
    # Draw outside the box so the outline never hides the pixels being judged.
    left = math.floor(box[0]) - line
    top = math.floor(box[1]) - line
    right = max(math.ceil(box[2]), math.floor(box[0]) + 1) + line
    bottom = max(math.ceil(box[3]), math.floor(box[1]) + 1) + line
    for row_start, row_end, col_start, col_end in (
        (top, top + line, left, right),
        (bottom - line, bottom, left, right),
        (top, bottom, left, left + line),
        (top, bottom, right - line, right),
    ):
        row_start, row_end = max(row_start, 0), min(row_end, rows)
        col_start, col_end = max(col_start, 0), min(col_end, cols)
        if row_start < row_end and col_start < col_end:
            out[row_start:row_end, col_start:col_end] = OUTLINE_COLOR
    return out


def _save_jpeg(pixels: np.ndarray, path: Path) -> None:
    data = encode_jpeg(pixels, JPEG_QUALITY)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(temp, path)


def _scale_box(box: Box, scale_x: float, scale_y: float) -> Box:
    return (box[0] * scale_x, box[1] * scale_y, box[2] * scale_x, box[3] * scale_y)


def _tag(width: int, height: int, roi: Box | None, settings: RenderSettings) -> str:
    text = repr((width, height, roi, settings.preview_max_side, settings.crop_max_side, settings.crop_min_side))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def _safe_name(name: str) -> str:
    return _UNSAFE.sub("_", name) or "_"
