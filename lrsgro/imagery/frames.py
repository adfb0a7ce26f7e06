"""Boxes in pixel frames: clamping, the ZoomEarth crop rule and rescaling between frames.

A box is ``(x0, y0, x1, y1)`` in pixels (xyxy), with x to the right and y down, and may hold
floats. Four frames appear in lrsgro:

- full resolution: the pixels of the image file, ``image_size = (width, height)``;
- a view of long side N: the whole image resampled so that ``max(width, height)`` becomes N;
- the 1024 frame of the published LRS-GRO: a view of long side 1024 (``LRSGRO_FRAME_SIDE``);
- normalised coordinates: each axis mapped to 0..1000, as Qwen2-VL and Qwen3-VL print boxes.

Rescaling to a view uses one scale for both axes, ``long_side / max(width, height)``. The
pixel grid of a view returned by ``UHRImage.view`` is rounded to whole pixels, so on the short
axis a frame coordinate can differ from that grid by less than one view pixel.
"""

from __future__ import annotations

import math

from lrsgro.errors import InputError

Box = tuple[float, float, float, float]
Size = tuple[int, int]

LRSGRO_FRAME_SIDE = 1024
NORMALIZED_RANGE = 1000
ZOOM_MIN_SIDE = 512


def validate_box(box: Box) -> Box:
    """Return ``box`` as four floats, or raise InputError when it is malformed.

    A box must have four finite numbers with ``x0 <= x1`` and ``y0 <= y1``. A zero-width box
    (a point or a line) is valid here, because the crop rule can grow it.
    """
    if len(box) != 4:
        raise InputError(f"box {box!r} must have four numbers (x0, y0, x1, y1)")

    x0, y0, x1, y1 = (float(v) for v in box)
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        raise InputError(f"box {box!r} contains a value that is not a finite number")
    if x1 < x0 or y1 < y0:
        raise InputError(
            f"box {box!r} has x1 < x0 or y1 < y0",
            fix="give boxes as (x0, y0, x1, y1) with the top-left corner first",
        )
    return x0, y0, x1, y1


def clamp_box(box: Box, image_size: Size) -> Box:
    """Clip ``box`` to the image; the result may be empty when the box lies outside."""
    x0, y0, x1, y1 = validate_box(box)
    width, height = image_size
    return (
        min(max(x0, 0.0), width),
        min(max(y0, 0.0), height),
        min(max(x1, 0.0), width),
        min(max(y1, 0.0), height),
    )


def is_empty(box: Box) -> bool:
    """Return True when the box covers no area."""
    return box[2] <= box[0] or box[3] <= box[1]


def zoom_crop_window(box: Box, image_size: Size, min_side: int = ZOOM_MIN_SIDE) -> Box:
    """Apply the ZoomEarth crop rule to a region of interest.

    The box is clamped to the image first, and then each axis is treated on its own. A side
    shorter than ``min_side`` grows to ``min_side``, or to the whole image side when the image
    is smaller. The grown side is centred on the box, shifted back inside the image, and
    starts on a whole pixel so the crop has exactly that many pixels. A side of ``min_side``
    or more is kept as it is. A box 100 wide and 800 tall therefore becomes 512 wide and
    stays 800 tall.

    Raises:
        InputError: the box is malformed or lies entirely outside the image.
    """
    if min_side <= 0:
        raise InputError(f"min_side must be positive, got {min_side}")

    if _outside(box, image_size):
        raise InputError(
            f"box {box!r} lies outside the image of size {image_size[0]}x{image_size[1]}",
            fix="check that the box is in full-resolution pixels of this image",
        )

    clamped = clamp_box(box, image_size)
    x0, x1 = _grow_axis(clamped[0], clamped[2], image_size[0], min_side)
    y0, y1 = _grow_axis(clamped[1], clamped[3], image_size[1], min_side)
    return x0, y0, x1, y1


def frame_scale(image_size: Size, long_side: int) -> float:
    """Return the factor from full-resolution pixels to a frame of the given long side."""
    width, height = image_size
    if width <= 0 or height <= 0:
        raise InputError(f"image size {width}x{height} must be positive")
    if long_side <= 0:
        raise InputError(f"frame long side must be positive, got {long_side}")
    return long_side / max(width, height)


def frame_size(image_size: Size, long_side: int) -> Size:
    """Return the (width, height) of a frame with this long side and the image's aspect ratio."""
    scale = frame_scale(image_size, long_side)
    width, height = image_size
    return max(1, round(width * scale)), max(1, round(height * scale))


def view_size(image_size: Size, max_side: int) -> Size:
    """Return the size of a view whose long side is ``max_side``, never larger than the image."""
    if max_side <= 0:
        raise InputError(f"max_side must be positive, got {max_side}")
    if max(image_size) <= max_side:
        return image_size
    return frame_size(image_size, max_side)


def to_frame(box: Box, image_size: Size, long_side: int = LRSGRO_FRAME_SIDE) -> Box:
    """Map a full-resolution box into the frame of the given long side (1024 by default)."""
    scale = frame_scale(image_size, long_side)
    x0, y0, x1, y1 = validate_box(box)
    return x0 * scale, y0 * scale, x1 * scale, y1 * scale


def from_frame(box: Box, image_size: Size, long_side: int = LRSGRO_FRAME_SIDE) -> Box:
    """Map a box in the frame of the given long side back to full-resolution pixels."""
    scale = frame_scale(image_size, long_side)
    x0, y0, x1, y1 = validate_box(box)
    return x0 / scale, y0 / scale, x1 / scale, y1 / scale


def to_normalized(box: Box, image_size: Size, scale: int = NORMALIZED_RANGE) -> Box:
    """Map a full-resolution box to 0..``scale`` on each axis (Qwen-style 0-1000 coordinates)."""
    width, height = _positive_size(image_size)
    x0, y0, x1, y1 = validate_box(box)
    return x0 * scale / width, y0 * scale / height, x1 * scale / width, y1 * scale / height


def from_normalized(box: Box, image_size: Size, scale: int = NORMALIZED_RANGE) -> Box:
    """Map a box in 0..``scale`` coordinates on each axis back to full-resolution pixels."""
    width, height = _positive_size(image_size)
    x0, y0, x1, y1 = validate_box(box)
    return x0 * width / scale, y0 * height / scale, x1 * width / scale, y1 * height / scale


def _outside(box: Box, image_size: Size) -> bool:
    x0, y0, x1, y1 = validate_box(box)
    width, height = image_size
    return x1 < 0 or y1 < 0 or x0 > width or y0 > height


def _grow_axis(start: float, end: float, image_side: int, min_side: int) -> tuple[float, float]:
    if end - start >= min_side:
        return start, end

    side = min(min_side, image_side)
    centre = (start + end) / 2
    new_start = round(centre - side / 2)
    new_start = min(max(new_start, 0), image_side - side)
    return float(new_start), float(new_start + side)


def _positive_size(image_size: Size) -> Size:
    width, height = image_size
    if width <= 0 or height <= 0:
        raise InputError(f"image size {width}x{height} must be positive")
    return width, height
