"""Reading ultra-high-resolution images for building, reviewing and evaluating LRS-GRO.

Header facts come from ``open_image`` without decoding pixels. ``UHRImage`` returns 8-bit RGB
views (from overviews), full-resolution crops and windowed reads, converting PNG and JPEG
files into a cached tiled GeoTIFF when they are too large to decode at once. ``frames`` maps
boxes between full resolution, views, the 1024 frame of LRS-GRO and 0-1000 coordinates, and
contains the ZoomEarth crop rule. Band and bit-depth handling is described in ``bands``, pixel
limits in ``limits`` and the cache in ``cache``.

Example::

    from lrsgro.imagery import UHRImage, zoom_crop_window

    with UHRImage("scene.tif") as image:
        overview = image.view(1024)
        window = zoom_crop_window((5000, 7000, 5100, 7080), image.info.size)
        detail = image.crop(window)
"""

from lrsgro.imagery.bands import BandPlan, Stretch
from lrsgro.imagery.cache import TiledCopy, default_cache_dir, ensure_tiled_copy
from lrsgro.imagery.encode import encode_jpeg, encode_png
from lrsgro.imagery.frames import (
    LRSGRO_FRAME_SIDE,
    NORMALIZED_RANGE,
    ZOOM_MIN_SIDE,
    Box,
    Size,
    clamp_box,
    frame_scale,
    frame_size,
    from_frame,
    from_normalized,
    to_frame,
    to_normalized,
    view_size,
    zoom_crop_window,
)
from lrsgro.imagery.hashing import content_hash
from lrsgro.imagery.info import ImageInfo, date_from_name, open_image
from lrsgro.imagery.limits import DEFAULT_DIRECT_MAX_PIXELS, DEFAULT_PIXEL_BUDGET
from lrsgro.imagery.paths import IMAGE_EXTENSIONS, find_image, resolve_image_path
from lrsgro.imagery.reader import PixelWindow, UHRImage

__all__ = [
    "DEFAULT_DIRECT_MAX_PIXELS",
    "DEFAULT_PIXEL_BUDGET",
    "IMAGE_EXTENSIONS",
    "LRSGRO_FRAME_SIDE",
    "NORMALIZED_RANGE",
    "ZOOM_MIN_SIDE",
    "BandPlan",
    "Box",
    "ImageInfo",
    "PixelWindow",
    "Size",
    "Stretch",
    "TiledCopy",
    "UHRImage",
    "clamp_box",
    "content_hash",
    "date_from_name",
    "default_cache_dir",
    "encode_jpeg",
    "encode_png",
    "ensure_tiled_copy",
    "find_image",
    "frame_scale",
    "frame_size",
    "from_frame",
    "from_normalized",
    "open_image",
    "resolve_image_path",
    "to_frame",
    "to_normalized",
    "view_size",
    "zoom_crop_window",
]
