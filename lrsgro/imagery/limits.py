"""Pixel limits that keep lrsgro from decoding more of an image than it means to.

lrsgro never lifts Pillow's ``Image.MAX_IMAGE_PIXELS``. It reads pixels through rasterio and
applies its own explicit budget instead:

- ``pixel_budget`` (default ``DEFAULT_PIXEL_BUDGET``, about 537 million pixels, or
  ``$LRSGRO_PIXEL_BUDGET``): the maximum number of pixels lrsgro decodes from a file that
  cannot be read by window, as when converting a PNG or JPEG or taking a view of one. It is
  also the maximum size of one full-resolution crop or window. A PNG or JPEG above the budget
  is still opened, and crops and windows are read from it scanline by scanline, but a view is
  rejected. Tiled GeoTIFFs have no size limit because views use overviews and crops read only
  their window.
- ``direct_max_pixels`` (default ``DEFAULT_DIRECT_MAX_PIXELS``, 4096 x 4096): PNG and JPEG
  files up to this size are decoded once into memory on the first pixel read instead of being
  converted to a cached GeoTIFF, because decoding them costs less than hashing and converting.
"""

from __future__ import annotations

import os

from lrsgro.errors import InputError

DEFAULT_PIXEL_BUDGET = 2**29
DEFAULT_DIRECT_MAX_PIXELS = 4096 * 4096
PIXEL_BUDGET_ENV = "LRSGRO_PIXEL_BUDGET"


def resolve_pixel_budget(pixel_budget: int | None = None) -> int:
    """Return ``pixel_budget``, else ``$LRSGRO_PIXEL_BUDGET``, else ``DEFAULT_PIXEL_BUDGET``."""
    if pixel_budget is not None:
        return _positive(pixel_budget, "pixel_budget")

    text = os.environ.get(PIXEL_BUDGET_ENV)
    if text is None or not text.strip():
        return DEFAULT_PIXEL_BUDGET
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise InputError(
            f"{PIXEL_BUDGET_ENV}={text!r} is not a whole number",
            fix="set it to a pixel count such as 1000000000, or unset it",
        ) from None
    return _positive(value, PIXEL_BUDGET_ENV)


def _positive(value: int, name: str) -> int:
    if value <= 0:
        raise InputError(f"{name} must be a positive pixel count, got {value}")
    return value
