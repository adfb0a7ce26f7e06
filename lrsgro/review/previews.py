"""Review images: a bounded preview of the whole image and a full-resolution crop per question.

Both images show the proposed ROI as a red outline. Large images are never decoded at full size:
the preview is an ``out_shape`` read (GDAL uses overviews when the file has them) and the crop
is a windowed read, so memory stays bounded by the output sizes.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import tempfile
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from PIL import Image, ImageDraw
from rasterio.enums import ColorInterp, Resampling
from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
from rasterio.windows import Window

from lrsgro.errors import ImageError
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

    The image is read once for all its questions. Files whose name (a hash of the image size,
    the ROI and the settings) already exists are reused, so pushing again renders nothing new.

    Raises:
        ImageError: the image cannot be read, or its size differs from the size the questions record.
    """
    questions = list(questions)
    if not questions:
        return {}

    with _open(image_path) as dataset:
        width, height = dataset.width, dataset.height
        for question in questions:
            if (question.image_width, question.image_height) != (width, height):
                raise ImageError(
                    f"image is {width}x{height} but question {question.qid} records "
                    f"{question.image_width}x{question.image_height}",
                    path=image_path,
                    fix="rebuild the dataset so questions and images agree",
                )

        frame = _preview_frame(width, height, settings.preview_max_side)
        image_dir = out_dir / _safe_name(questions[0].image_id)
        base: np.ndarray | None = None
        results: dict[str, ReviewImages] = {}

        for question in questions:
            roi = tuple(question.roi) if question.roi is not None else None
            tag = _tag(width, height, roi, settings)
            preview_path = image_dir / (f"{_safe_name(question.qid)}-preview-{tag}.jpg" if roi else f"whole-{tag}.jpg")
            if not preview_path.is_file():
                if base is None:
                    base = _read_rgb(dataset, None, frame.preview_width, frame.preview_height)
                preview_roi = _scale_box(roi, frame.scale_x, frame.scale_y) if roi else None
                _save_jpeg(_draw_outline(base, preview_roi), preview_path)

            if roi is None:
                results[question.qid] = ReviewImages(
                    preview_path, frame, preview_path, None, frame.preview_width, frame.preview_height
                )
                continue

            window = crop_window(roi, width, height, settings.crop_min_side)
            crop_width, crop_height = _crop_size(window, settings.crop_max_side)
            crop_path = image_dir / f"{_safe_name(question.qid)}-crop-{tag}.jpg"
            if not crop_path.is_file():
                pixels = _read_rgb(dataset, window, crop_width, crop_height)
                scale_x = crop_width / (window[2] - window[0])
                scale_y = crop_height / (window[3] - window[1])
                local = (roi[0] - window[0], roi[1] - window[1], roi[2] - window[0], roi[3] - window[1])
                _save_jpeg(_draw_outline(pixels, _scale_box(local, scale_x, scale_y)), crop_path)
            results[question.qid] = ReviewImages(preview_path, frame, crop_path, window, crop_width, crop_height)
    return results


def crop_window(roi: Box, width: int, height: int, min_side: int = CROP_MIN_SIDE) -> Box:
    """Return the crop around an ROI in whole full-resolution pixels.

    The ROI grows by ``CROP_MARGIN`` of its longer side on every side for context, each side
    is at least ``min_side`` (or the image side), and the window is shifted inside the image.
    """
    # TODO: share lrsgro.imagery.frames.zoom_crop_window once the imagery package is committed.
    x0, y0, x1, y1 = roi
    margin = CROP_MARGIN * max(x1 - x0, y1 - y0)
    left, right = _grow(x0 - margin, x1 + margin, width, min_side)
    top, bottom = _grow(y0 - margin, y1 + margin, height, min_side)
    return (float(left), float(top), float(right), float(bottom))


def _preview_frame(width: int, height: int, max_side: int) -> PreviewFrame:
    if max(width, height) <= max_side:
        return PreviewFrame.for_sizes(width, height, width, height)
    scale = max_side / max(width, height)
    return PreviewFrame.for_sizes(width, height, max(1, round(width * scale)), max(1, round(height * scale)))


def _crop_size(window: Box, max_side: int) -> tuple[int, int]:
    width = int(window[2] - window[0])
    height = int(window[3] - window[1])
    if max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _grow(start: float, end: float, side: int, min_side: int) -> tuple[int, int]:
    start_px = max(0, math.floor(start))
    end_px = min(side, math.ceil(end))
    wanted = min(side, max(min_side, end_px - start_px))
    if end_px - start_px < wanted:
        centre = (start_px + end_px) / 2
        start_px = round(centre - wanted / 2)
        start_px = min(max(start_px, 0), side - wanted)
        end_px = start_px + wanted
    return start_px, end_px


def _open(path: Path) -> rasterio.DatasetReader:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            return rasterio.open(path)
    except RasterioIOError as error:
        raise ImageError(f"cannot read image: {error}", path=path) from error


def _read_rgb(dataset: rasterio.DatasetReader, window: Box | None, out_width: int, out_height: int) -> np.ndarray:
    # TODO: switch to lrsgro.imagery view() and crop() once the imagery package is committed.
    # Until then every crop of a PNG or JPEG decodes the rows above it, which is slow for many
    # questions on one large image. lrsgro.imagery reads a cached tiled copy instead.
    read_window = None
    if window is not None:
        read_window = Window(window[0], window[1], window[2] - window[0], window[3] - window[1])

    palette = dataset.count == 1 and dataset.colorinterp[0] == ColorInterp.palette
    indexes = [1, 2, 3] if dataset.count >= 3 else [1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        bands = dataset.read(
            indexes,
            window=read_window,
            out_shape=(len(indexes), out_height, out_width),
            resampling=Resampling.nearest if palette else Resampling.average,
        )

    if palette:
        lookup = np.zeros((256, 3), dtype=np.uint8)
        for index, color in dataset.colormap(1).items():
            if 0 <= index < 256:
                lookup[index] = color[:3]
        return lookup[bands[0].astype(np.int64).clip(0, 255)]

    if bands.dtype != np.uint8:
        bands = _stretch_to_uint8(bands)
    if bands.shape[0] == 1:
        bands = np.repeat(bands, 3, axis=0)
    return np.ascontiguousarray(np.moveaxis(bands, 0, -1))


def _stretch_to_uint8(bands: np.ndarray) -> np.ndarray:
    out = np.empty(bands.shape, dtype=np.uint8)
    for index, band in enumerate(bands.astype(np.float64)):
        low, high = np.percentile(band, (2, 98))
        span = high - low if high > low else 1.0
        out[index] = np.clip((band - low) / span * 255.0, 0, 255).astype(np.uint8)
    return out


def _draw_outline(pixels: np.ndarray, box: Box | None) -> Image.Image:
    # A copy, because the same base pixels serve every question on the image.
    image = Image.fromarray(pixels).copy()
    if box is None:
        return image
    line = max(2, round(max(image.size) / 512))
    draw = ImageDraw.Draw(image)
    x0, y0, x1, y1 = box
    # Draw outside the box so the outline never hides the pixels being judged.
    draw.rectangle(
        (x0 - line, y0 - line, max(x1, x0 + 1) + line - 1, max(y1, y0 + 1) + line - 1),
        outline=OUTLINE_COLOR,
        width=line,
    )
    return image


def _save_jpeg(image: Image.Image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "wb") as out:
        image.save(out, format="JPEG", quality=JPEG_QUALITY)
    os.replace(temp, path)


def _scale_box(box: Box, scale_x: float, scale_y: float) -> Box:
    return (box[0] * scale_x, box[1] * scale_y, box[2] * scale_x, box[3] * scale_y)


def _tag(width: int, height: int, roi: Box | None, settings: RenderSettings) -> str:
    text = repr((width, height, roi, settings.preview_max_side, settings.crop_max_side, settings.crop_min_side))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def _safe_name(name: str) -> str:
    return _UNSAFE.sub("_", name) or "_"
