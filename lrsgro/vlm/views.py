"""The images sent with a drafting request: a downsampled whole view and, by level, crops.

- global level: the whole image, long side ``global_side``;
- region level: the whole image with the region outlined, and the region crop;
- object level: the whole image with the object outlined, the area around the object with
  the object outlined, and the object crop.

Crops are at most ``crop_side`` pixels on the long side and are never upsampled, so no view
is ever the full-resolution UHR image.
"""

from __future__ import annotations

import base64
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from lrsgro.imagery import UHRImage, encode_jpeg
from lrsgro.vlm.targets import DraftTarget

Box = tuple[float, float, float, float]

OUTLINE_COLOR = (255, 0, 0)
# The context view around an object covers this many times the object's box, at least
# CONTEXT_MIN_SIDE pixels a side, so small objects are shown with their surroundings.
CONTEXT_FACTOR = 3.0
CONTEXT_MIN_SIDE = 256
# The object crop adds this share of the box size on every side, at least OBJECT_MIN_MARGIN px.
OBJECT_MARGIN = 0.1
OBJECT_MIN_MARGIN = 8
# An outline is drawn at least this many view pixels wide and tall, so a tiny object stays visible.
MIN_OUTLINE_SIDE = 8
WHOLE_VIEWS_KEPT = 16


@dataclass(frozen=True)
class View:
    """One image of a request.

    Attributes:
        name: ``global``, ``region`` or ``object``.
        jpeg: the encoded image.
        width, height: its size in pixels.
        source_box: the full-resolution box it shows.
    """

    name: str
    jpeg: bytes
    width: int
    height: int
    source_box: Box

    @property
    def data_url(self) -> str:
        """The image as a ``data:image/jpeg;base64,...`` URL."""
        return "data:image/jpeg;base64," + base64.b64encode(self.jpeg).decode("ascii")


class ViewBuilder:
    """Build the views of targets, reading each whole-image view once per image.

    Thread-safe: several drafting workers share one builder.
    """

    def __init__(self, global_side: int, crop_side: int, jpeg_quality: int) -> None:
        self.global_side = global_side
        self.crop_side = crop_side
        self.jpeg_quality = jpeg_quality
        self._whole: OrderedDict[tuple[Path, int], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def build(self, target: DraftTarget) -> list[View]:
        """Return the views of one target, in the order the level's template describes them.

        Raises:
            ImageError: the image is missing or unreadable.
        """
        full_box: Box = (0.0, 0.0, float(target.image_width), float(target.image_height))
        with UHRImage(target.image_path) as image:
            whole = self._whole_view(image)
            referent = target.referent
            if referent is None:
                return [self._encode("global", whole, full_box)]

            outlined = _outline(whole, referent.box, full_box)
            views = [self._encode("global", outlined, full_box)]
            if target.level == "region":
                views.append(self._crop_view("region", image, target, referent.box))
                return views

            context = target.context_box or _grow(
                referent.box, CONTEXT_FACTOR, CONTEXT_MIN_SIDE, target.image_width, target.image_height
            )
            views.append(self._crop_view("region", image, target, context, outline=referent.box))
            views.append(self._crop_view("object", image, target, _margin(referent.box, target)))
            return views

    def _whole_view(self, image: UHRImage) -> np.ndarray:
        key = (Path(image.path).resolve(), self.global_side)
        with self._lock:
            cached = self._whole.get(key)
            if cached is not None:
                self._whole.move_to_end(key)
                return cached

        pixels = image.view(self.global_side)
        pixels.setflags(write=False)
        with self._lock:
            self._whole[key] = pixels
            while len(self._whole) > WHOLE_VIEWS_KEPT:
                self._whole.popitem(last=False)
        return pixels

    def _crop_view(
        self, name: str, image: UHRImage, target: DraftTarget, box: Box, outline: Box | None = None
    ) -> View:
        # UHRImage.crop widens a box to whole pixels, so the outline is mapped from that box.
        clipped = _whole_pixels(_clip(box, target.image_width, target.image_height))
        pixels = image.crop(clipped, out_max_side=self.crop_side)
        if outline is not None:
            pixels = _outline(pixels, outline, clipped)
        return self._encode(name, pixels, clipped)

    def _encode(self, name: str, pixels: np.ndarray, source_box: Box) -> View:
        height, width = pixels.shape[:2]
        return View(
            name=name,
            jpeg=encode_jpeg(pixels, self.jpeg_quality),
            width=width,
            height=height,
            source_box=source_box,
        )


def _outline(pixels: np.ndarray, box: Box, shown: Box) -> np.ndarray:
    """Return a copy of ``pixels`` (which show the full-resolution box ``shown``) with ``box``
    outlined in red."""
    height, width = pixels.shape[:2]
    scale_x = width / (shown[2] - shown[0])
    scale_y = height / (shown[3] - shown[1])
    x0 = (box[0] - shown[0]) * scale_x
    y0 = (box[1] - shown[1]) * scale_y
    x1 = (box[2] - shown[0]) * scale_x
    y1 = (box[3] - shown[1]) * scale_y
    x0, x1 = _widen(x0, x1, MIN_OUTLINE_SIDE)
    y0, y1 = _widen(y0, y1, MIN_OUTLINE_SIDE)

    # A copy, because the cached whole view is shared between targets and threads.
    image = Image.fromarray(pixels.copy(), mode="RGB")
    line_width = max(2, round(max(width, height) / 300))
    ImageDraw.Draw(image).rectangle(
        (round(x0), round(y0), round(x1), round(y1)), outline=OUTLINE_COLOR, width=line_width
    )
    return np.asarray(image)


def _widen(start: float, end: float, min_side: float) -> tuple[float, float]:
    if end - start >= min_side:
        return start, end
    centre = (start + end) / 2
    return centre - min_side / 2, centre + min_side / 2


def _grow(box: Box, factor: float, min_side: float, width: int, height: int) -> Box:
    centre_x = (box[0] + box[2]) / 2
    centre_y = (box[1] + box[3]) / 2
    half_w = max((box[2] - box[0]) * factor, min_side) / 2
    half_h = max((box[3] - box[1]) * factor, min_side) / 2
    return _clip((centre_x - half_w, centre_y - half_h, centre_x + half_w, centre_y + half_h), width, height)


def _margin(box: Box, target: DraftTarget) -> Box:
    pad_x = max((box[2] - box[0]) * OBJECT_MARGIN, OBJECT_MIN_MARGIN)
    pad_y = max((box[3] - box[1]) * OBJECT_MARGIN, OBJECT_MIN_MARGIN)
    grown = (box[0] - pad_x, box[1] - pad_y, box[2] + pad_x, box[3] + pad_y)
    return _clip(grown, target.image_width, target.image_height)


def _whole_pixels(box: Box) -> Box:
    return (
        float(math.floor(box[0])),
        float(math.floor(box[1])),
        float(math.ceil(box[2])),
        float(math.ceil(box[3])),
    )


def _clip(box: Box, width: int, height: int) -> Box:
    return (
        min(max(box[0], 0.0), float(width)),
        min(max(box[1], 0.0), float(height)),
        min(max(box[2], 0.0), float(width)),
        min(max(box[3], 0.0), float(height)),
    )
