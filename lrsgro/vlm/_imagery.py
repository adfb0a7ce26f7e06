"""The three pixel operations the drafting stage needs: a whole-image view, a crop, JPEG bytes.

Every read goes through a window or ``out_shape`` so GDAL picks an overview when the file has
one, and the whole full-resolution image is never decoded at once.
"""

from __future__ import annotations

import io
import math
import warnings
from pathlib import Path

import numpy as np
import rasterio
from PIL import Image
from rasterio.enums import Resampling
from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
from rasterio.windows import Window

from lrsgro.errors import ImageError

# TODO: switch these three functions to lrsgro.imagery once its view/crop/encode API is
# committed; the signatures below already follow it.


def view(path: Path, max_side: int) -> np.ndarray:
    """Read the whole image resampled so its long side is at most ``max_side`` (H x W x 3 uint8)."""
    with _open(path) as dataset:
        out_width, out_height = _fit(dataset.width, dataset.height, max_side)
        data = _read(dataset, None, out_width, out_height, path)
    return data


def crop(path: Path, box: tuple[float, float, float, float], out_max_side: int) -> np.ndarray:
    """Read ``box`` (full-resolution pixels, clipped to the image) with a long side of at most
    ``out_max_side`` pixels; a crop smaller than that keeps its full resolution."""
    with _open(path) as dataset:
        x0 = max(0, math.floor(box[0]))
        y0 = max(0, math.floor(box[1]))
        x1 = min(dataset.width, math.ceil(box[2]))
        y1 = min(dataset.height, math.ceil(box[3]))
        if x1 <= x0 or y1 <= y0:
            raise ImageError(
                f"crop box {box!r} lies outside the {dataset.width}x{dataset.height} image",
                path=path,
            )
        out_width, out_height = _fit(x1 - x0, y1 - y0, out_max_side)
        window = Window(x0, y0, x1 - x0, y1 - y0)
        return _read(dataset, window, out_width, out_height, path)


def encode_jpeg(pixels: np.ndarray, quality: int) -> bytes:
    """Encode an H x W x 3 uint8 array as baseline JPEG."""
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def _open(path: Path) -> rasterio.io.DatasetReader:
    if not Path(path).is_file():
        raise ImageError("image not found", path=path, fix="check the image path of the target")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            return rasterio.open(path)
    except RasterioIOError as error:
        raise ImageError(f"cannot read image: {error}", path=path) from error


def _fit(width: int, height: int, max_side: int) -> tuple[int, int]:
    if max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _read(
    dataset: rasterio.io.DatasetReader,
    window: Window | None,
    out_width: int,
    out_height: int,
    path: Path,
) -> np.ndarray:
    bands = [1, 1, 1] if dataset.count < 3 else [1, 2, 3]
    try:
        data = dataset.read(
            bands,
            window=window,
            out_shape=(3, out_height, out_width),
            resampling=Resampling.average,
        )
    except RasterioIOError as error:
        raise ImageError(f"cannot read pixels: {error}", path=path) from error
    return _to_uint8(np.moveaxis(data, 0, -1))


def _to_uint8(data: np.ndarray) -> np.ndarray:
    if data.dtype == np.uint8:
        return np.ascontiguousarray(data)
    # NOTE: a 2-98 percentile stretch of the window read, so two crops of the same
    # 16-bit image can be stretched differently.
    values = data.astype(np.float64)
    low, high = np.percentile(values, [2, 98])
    if high <= low:
        high = low + 1
    scaled = np.clip((values - low) / (high - low) * 255, 0, 255)
    return np.ascontiguousarray(scaled.astype(np.uint8))
