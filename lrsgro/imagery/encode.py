"""JPEG and PNG encoding of small RGB arrays, for model requests and previews.

Pillow receives only arrays that lrsgro has already read and downsampled, so its
decompression-bomb limit stays untouched. ``max_pixels`` guards against encoding a
full-resolution image by mistake.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np

from lrsgro.errors import InputError

if TYPE_CHECKING:
    from PIL import Image

DEFAULT_JPEG_QUALITY = 90
MAX_ENCODE_PIXELS = 64 * 1024 * 1024


def encode_jpeg(
    array: np.ndarray, quality: int = DEFAULT_JPEG_QUALITY, *, max_pixels: int = MAX_ENCODE_PIXELS
) -> bytes:
    """Encode a rows x cols x 3 (or rows x cols grey) uint8 array as baseline JPEG bytes.

    Raises:
        InputError: the array is not uint8 RGB or grey, is empty, exceeds ``max_pixels``,
            or ``quality`` is outside 1..95.
    """
    if not 1 <= quality <= 95:
        raise InputError(f"JPEG quality must be 1..95, got {quality}", fix="use 75 to 95 for model inputs")

    image = _to_pillow(array, max_pixels)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def encode_png(array: np.ndarray, *, max_pixels: int = MAX_ENCODE_PIXELS) -> bytes:
    """Encode a rows x cols x 3 (or rows x cols grey) uint8 array as PNG bytes.

    Raises:
        InputError: the array is not uint8 RGB or grey, is empty, or exceeds ``max_pixels``.
    """
    image = _to_pillow(array, max_pixels)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _to_pillow(array: np.ndarray, max_pixels: int) -> Image.Image:
    if array.dtype != np.uint8:
        raise InputError(f"image array must be uint8, got {array.dtype}", fix="map it with lrsgro.imagery first")

    grey = array.ndim == 2
    rgb = array.ndim == 3 and array.shape[2] == 3
    if not (grey or rgb):
        raise InputError(f"image array must be rows x cols x 3 or rows x cols, got shape {array.shape}")

    rows, cols = array.shape[:2]
    if rows == 0 or cols == 0:
        raise InputError(f"image array is empty (shape {array.shape})")
    if rows * cols > max_pixels:
        raise InputError(
            f"image array of {cols}x{rows} pixels exceeds the encoding limit of {max_pixels:,}",
            fix="downsample it first, e.g. UHRImage.view(1024) or crop(box, out_max_side=...)",
        )
    # Imported here so that a process that only reads pixels does not load Pillow.
    from PIL import Image

    return Image.fromarray(np.ascontiguousarray(array))
