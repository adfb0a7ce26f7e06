"""Model inputs from benchmark images: global views and crops, plus the pre-flight check.

Pixels come from ``lrsgro.imagery.UHRImage``, which reads overviews for views and windows
for crops, so no question decodes a whole UHR image. Open images are shared between worker
threads (each behind its own lock) and views are cached, because a benchmark asks many
questions about each image.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lrsgro.benchmarks.base import EvalSample
from lrsgro.errors import InputError
from lrsgro.eval.config import ModelConfig
from lrsgro.imagery.frames import Box, view_size
from lrsgro.imagery.reader import UHRImage

OPEN_IMAGES = 8
CACHED_VIEWS = 64
IMAGE_PROTOCOLS = ("zoom", "direct", "oracle-crop")
MAX_LISTED = 5


class ImageStore:
    """Views and crops of benchmark images, safe to use from several threads."""

    def __init__(self, open_images: int = OPEN_IMAGES, cached_views: int = CACHED_VIEWS) -> None:
        self._open_limit = open_images
        self._view_limit = cached_views
        self._lock = threading.Lock()
        self._images: OrderedDict[Path, tuple[UHRImage, threading.Lock]] = OrderedDict()
        self._views: OrderedDict[tuple[Path, int], np.ndarray] = OrderedDict()

    def view(self, path: Path, max_side: int) -> np.ndarray:
        """Return the whole image with its long side at most ``max_side``, as RGB uint8."""
        key = (path, max_side)
        with self._lock:
            if key in self._views:
                self._views.move_to_end(key)
                return self._views[key]

        image, image_lock = self._image(path)
        with image_lock:
            pixels = image.view(max_side)

        with self._lock:
            self._views[key] = pixels
            while len(self._views) > self._view_limit:
                self._views.popitem(last=False)
        return pixels

    def crop(self, path: Path, window: Box, max_side: int) -> np.ndarray:
        """Return the full-resolution window, resampled so its long side is at most ``max_side``."""
        image, image_lock = self._image(path)
        with image_lock:
            return image.crop(window, max_side)

    def close(self) -> None:
        with self._lock:
            entries = list(self._images.values())
            self._images.clear()
            self._views.clear()
        for image, image_lock in entries:
            with image_lock:
                image.close()

    def _image(self, path: Path) -> tuple[UHRImage, threading.Lock]:
        evicted = []
        with self._lock:
            if path in self._images:
                self._images.move_to_end(path)
                return self._images[path]

            entry = (UHRImage(path), threading.Lock())
            self._images[path] = entry
            while len(self._images) > self._open_limit:
                evicted.append(self._images.popitem(last=False)[1])

        for image, image_lock in evicted:
            with image_lock:
                image.close()
        return entry


@dataclass(frozen=True)
class InputPlan:
    """The largest images a protocol will send for one question, in (width, height)."""

    qid: str
    images: tuple[tuple[int, int], ...]

    @property
    def max_pixels(self) -> int:
        return max((w * h for w, h in self.images), default=0)


def plan_inputs(sample: EvalSample, protocol: str, model: ModelConfig, direct_side: int) -> InputPlan:
    """Return the image sizes ``protocol`` sends for ``sample``; crops at their upper bound."""
    if protocol not in IMAGE_PROTOCOLS or sample.image_size is None:
        return InputPlan(sample.id, ())

    if protocol == "direct":
        return InputPlan(sample.id, (view_size(sample.image_size, direct_side),))

    view = view_size(sample.image_size, model.view_side)
    if protocol == "oracle-crop" and sample.roi is None:
        return InputPlan(sample.id, (view,))
    crop_bound = (model.crop_side, model.crop_side)
    return InputPlan(sample.id, (view, crop_bound))


def preflight(samples: Sequence[EvalSample], protocol: str, model: ModelConfig, direct_side: int) -> None:
    """Reject the run before any request when an image is missing or an input is too large.

    Raises:
        InputError: some questions have no image file, or would send an image with more
            pixels than the model's ``max_pixels``; the message lists the first few.
    """
    if protocol not in IMAGE_PROTOCOLS:
        return

    missing = [sample.id for sample in samples if sample.image is None or not sample.image.is_file()]
    if missing:
        raise InputError(
            f"{len(missing)} question(s) have no image file, e.g. {', '.join(missing[:MAX_LISTED])}",
            fix="pass --images with the folder that holds the benchmark images, or use --protocol blind",
        )

    unsized = [sample.id for sample in samples if sample.image_size is None]
    if unsized:
        raise InputError(
            f"{len(unsized)} question(s) have no image size, e.g. {', '.join(unsized[:MAX_LISTED])}",
            fix="check that the images are readable",
        )

    if model.max_pixels is None:
        return
    too_large = []
    for sample in samples:
        plan = plan_inputs(sample, protocol, model, direct_side)
        if plan.max_pixels > model.max_pixels:
            too_large.append(f"{sample.id} ({plan.max_pixels:,} pixels)")
    if too_large:
        raise InputError(
            f"{len(too_large)} question(s) would send an image above the model's max_pixels of "
            f"{model.max_pixels:,}, e.g. {', '.join(too_large[:MAX_LISTED])}",
            fix="lower --max-side (or view_side/crop_side in the model configuration), "
            "or raise max_pixels if the model accepts more",
        )
