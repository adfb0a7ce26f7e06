"""Pixel statistics for rule-based questions: windows, polygon masks and colour names."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from rasterio.features import geometry_mask
from rasterio.transform import Affine
from shapely.geometry.base import BaseGeometry

from lrsgro.imagery import UHRImage
from lrsgro.vocab import load_yaml


def read_rgb_window(
    image: UHRImage, bounds: tuple[float, float, float, float], max_side: int | None = None
) -> tuple[np.ndarray, tuple[float, float, float]]:
    """Read the 8-bit RGB pixels inside ``bounds`` (xyxy, full resolution).

    Returns the HxWx3 array and (x0, y0, scale): the window's top-left corner in full-resolution
    pixels and output pixels per full-resolution pixel.
    """
    x0, y0 = max(0, int(np.floor(bounds[0]))), max(0, int(np.floor(bounds[1])))
    x1 = min(image.info.width, int(np.ceil(bounds[2])))
    y1 = min(image.info.height, int(np.ceil(bounds[3])))
    out_max = None
    if max_side is not None and max(x1 - x0, y1 - y0) > max_side:
        out_max = max_side
    rgb = image.crop((x0, y0, x1, y1), out_max_side=out_max)
    scale = rgb.shape[1] / max(1, x1 - x0)
    return rgb, (float(x0), float(y0), float(scale))


def pixels_inside(
    rgb: np.ndarray, origin: tuple[float, float, float], geometry: BaseGeometry
) -> np.ndarray:
    """Return the Nx3 pixels of ``rgb`` whose centres fall inside ``geometry``."""
    x0, y0, scale = origin
    transform = Affine(1.0 / scale, 0.0, x0, 0.0, 1.0 / scale, y0)
    outside = geometry_mask([geometry], out_shape=rgb.shape[:2], transform=transform)
    return rgb[~outside]


@lru_cache(maxsize=1)
def _palette() -> tuple[list[str], np.ndarray, float]:
    data = load_yaml("colors.yaml")
    names = list(data["colors"])
    rgb = np.array([data["colors"][n] for n in names], dtype=np.float64)
    return names, _rgb_to_lab(rgb), float(data.get("min_share", 0.5))


def name_colors(pixels: np.ndarray) -> dict[str, float]:
    """Name every pixel by the nearest reference colour (CIE Lab); return name -> share."""
    if len(pixels) == 0:
        return {}
    names, palette, _ = _palette()
    lab = _rgb_to_lab(pixels.reshape(-1, 3).astype(np.float64))
    distances = ((lab[:, None, :] - palette[None, :, :]) ** 2).sum(axis=2)
    nearest = distances.argmin(axis=1)
    counts = np.bincount(nearest, minlength=len(names))
    total = counts.sum()
    return {names[i]: counts[i] / total for i in np.argsort(-counts) if counts[i]}


def dominant_color(pixels: np.ndarray, min_share: float | None = None) -> tuple[str, float] | None:
    """Return (name, share) of the dominant colour, or None when no name reaches ``min_share``.

    ``min_share`` defaults to the one in ``annotation/vocab/colors.yaml``.
    """
    shares = name_colors(pixels)
    if not shares:
        return None
    if min_share is None:
        _, _, min_share = _palette()
    name, share = next(iter(shares.items()))
    return (name, float(share)) if share >= min_share else None


def _rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """Convert sRGB (0-255) to CIE Lab with the D65 white point (IEC 61966-2-1 and CIE 15 formulas)."""
    c = rgb / 255.0
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = c @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1)
