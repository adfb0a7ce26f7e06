"""Boxes between full-resolution pixels and Label Studio's rectangle values.

Label Studio stores a rectangle as ``x``, ``y``, ``width`` and ``height`` in percent of the
width and height of the image shown to the reviewer (here the preview), plus ``rotation`` in
degrees. ``(x, y)`` is the top-left corner before rotation and also the pivot of the rotation,
which turns the rectangle clockwise on screen (y points down). The conversion to pixels must
happen before rotating, because on a non-square image one percent of width and one percent of
height are different lengths. The same convention is used by ``convert_annotation_to_yolo_obb``
in label-studio-sdk 2.1.2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lrsgro.imagery import LRSGRO_FRAME_SIDE, to_frame

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class PreviewFrame:
    """Mapping between a preview and the full-resolution image.

    ``scale_x`` and ``scale_y`` are preview pixels per full-resolution pixel on each axis. They
    are stored with each task, so a pulled rectangle converts back with the numbers that placed
    the proposal, whatever rounding made the preview size.
    """

    image_width: int
    image_height: int
    preview_width: int
    preview_height: int
    scale_x: float
    scale_y: float

    @classmethod
    def for_sizes(cls, image_width: int, image_height: int, preview_width: int, preview_height: int) -> PreviewFrame:
        """Return the frame of a preview resampled from the whole image."""
        return cls(
            image_width,
            image_height,
            preview_width,
            preview_height,
            preview_width / image_width,
            preview_height / image_height,
        )


@dataclass(frozen=True)
class PulledBox:
    """A reviewer's rectangle converted to full-resolution pixels.

    ``box`` is axis-aligned. When the reviewer rotated the rectangle, ``rotation`` is the
    angle and ``box`` is the axis-aligned bounding box of the rotated rectangle. ``clipped`` is
    True when part of the rectangle lay outside the image and was cut off.
    """

    box: Box
    rotation: float
    clipped: bool


def box_to_rectangle(box: Box, frame: PreviewFrame) -> dict[str, float]:
    """Convert an xyxy full-resolution box to a Label Studio rectangle value on the preview."""
    x0, y0, x1, y1 = box
    preview_x0 = x0 * frame.scale_x
    preview_y0 = y0 * frame.scale_y
    preview_x1 = x1 * frame.scale_x
    preview_y1 = y1 * frame.scale_y
    return {
        "x": 100.0 * preview_x0 / frame.preview_width,
        "y": 100.0 * preview_y0 / frame.preview_height,
        "width": 100.0 * (preview_x1 - preview_x0) / frame.preview_width,
        "height": 100.0 * (preview_y1 - preview_y0) / frame.preview_height,
        "rotation": 0.0,
    }


def rectangle_to_box(value: dict[str, float], frame: PreviewFrame) -> PulledBox:
    """Convert a Label Studio rectangle value on the preview to a full-resolution box.

    Raises:
        ValueError: the value lacks one of x, y, width, height or contains a non-finite number.
    """
    try:
        x, y = float(value["x"]), float(value["y"])
        width, height = float(value["width"]), float(value["height"])
        rotation = float(value.get("rotation") or 0.0)
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"rectangle value {value!r} needs numeric x, y, width and height") from error
    if not all(math.isfinite(v) for v in (x, y, width, height, rotation)):
        raise ValueError(f"rectangle value {value!r} contains a non-finite number")

    # Percent of the preview -> preview pixels -> full-resolution pixels, per axis.
    left = x / 100.0 * frame.preview_width / frame.scale_x
    top = y / 100.0 * frame.preview_height / frame.scale_y
    right = left + width / 100.0 * frame.preview_width / frame.scale_x
    bottom = top + height / 100.0 * frame.preview_height / frame.scale_y

    rotation = _normalize_angle(rotation)
    if rotation != 0.0:
        left, top, right, bottom = _rotated_bounds(left, top, right - left, bottom - top, rotation)

    clipped_box = (
        min(max(left, 0.0), frame.image_width),
        min(max(top, 0.0), frame.image_height),
        min(max(right, 0.0), frame.image_width),
        min(max(bottom, 0.0), frame.image_height),
    )
    clipped = clipped_box != (left, top, right, bottom)
    return PulledBox(clipped_box, rotation, clipped)


def to_lrsgro_frame(box: Box, width: int, height: int) -> Box:
    """Map a full-resolution box into the frame of the published LRS-GRO (long side 1024)."""
    return to_frame(box, (width, height), LRSGRO_FRAME_SIDE)


def boxes_equal(first: Box | None, second: Box | None, tolerance: float = 0.01) -> bool:
    """Return True when both boxes are None or every coordinate differs by at most ``tolerance``."""
    if first is None or second is None:
        return first is None and second is None
    return all(abs(a - b) <= tolerance for a, b in zip(first, second, strict=True))


def _normalize_angle(degrees: float) -> float:
    angle = math.fmod(degrees, 360.0)
    if angle < 0:
        angle += 360.0
    return 0.0 if math.isclose(angle, 0.0, abs_tol=1e-9) or math.isclose(angle, 360.0, abs_tol=1e-9) else angle


def _rotated_bounds(left: float, top: float, width: float, height: float, degrees: float) -> Box:
    radians = math.radians(degrees)
    cos, sin = math.cos(radians), math.sin(radians)
    corners = [(0.0, 0.0), (width, 0.0), (width, height), (0.0, height)]
    xs = [left + dx * cos - dy * sin for dx, dy in corners]
    ys = [top + dx * sin + dy * cos for dx, dy in corners]
    return (min(xs), min(ys), max(xs), max(ys))
