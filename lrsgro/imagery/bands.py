"""Mapping the bands of any input to the 8-bit RGB that models and previews take.

Band choice:

- 1 band (or 2, read as grey plus alpha): grey, copied into R, G and B;
- a palette band: looked up in the file's colour table;
- 3 or more bands: the bands whose colour interpretation is red, green and blue when the
  file marks all three, otherwise bands 1, 2 and 3. NAIP stores R, G, B, NIR without marking
  them, so its first three bands are taken. An RGBA PNG marks its bands and loses the alpha.

Value mapping:

- ``uint8``: as stored;
- any other type (``uint16``, ``int16``, ``float32``...): a linear stretch per band from the
  2nd to the 98th percentile onto 0..255, clipped. The percentiles come from a low-resolution
  view of the whole image (never from all pixels), skip the nodata value, and are computed
  once per image, so every view and crop of that image uses the same mapping.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rasterio.enums import ColorInterp

STRETCH_PERCENTILES = (2.0, 98.0)


@dataclass(frozen=True)
class BandPlan:
    """Band selection for RGB: the bands to read and the colour table, if any.

    Attributes:
        indexes: 1-based band indexes to read, one (grey or palette) or three (R, G, B).
        palette: an N x 3 uint8 lookup table (N >= 256) for a palette band, else None.
    """

    indexes: tuple[int, ...]
    palette: np.ndarray | None = None


@dataclass(frozen=True)
class Stretch:
    """A linear per-band mapping from raw values onto 0..255.

    Attributes:
        low: raw value per read band that maps to 0.
        high: raw value per read band that maps to 255.
    """

    low: tuple[float, ...]
    high: tuple[float, ...]

    def apply(self, bands: np.ndarray) -> np.ndarray:
        """Map a (bands, rows, cols) array to uint8 with this stretch."""
        low = np.asarray(self.low, dtype=np.float64)[:, None, None]
        span = np.asarray(self.high, dtype=np.float64)[:, None, None] - low
        span[span <= 0] = 1.0
        scaled = (bands.astype(np.float64) - low) * (255.0 / span)
        return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def plan_bands(
    count: int,
    colorinterp: tuple[ColorInterp, ...],
    colormap: dict[int, tuple[int, ...]] | None = None,
) -> BandPlan:
    """Choose the bands that make RGB for a file with ``count`` bands."""
    if count >= 1 and colorinterp and colorinterp[0] == ColorInterp.palette and colormap:
        return BandPlan(indexes=(1,), palette=_palette_table(colormap))

    if count < 3:
        return BandPlan(indexes=(1,))

    roles = {interp: index for index, interp in enumerate(colorinterp, start=1)}
    if all(role in roles for role in (ColorInterp.red, ColorInterp.green, ColorInterp.blue)):
        return BandPlan(indexes=(roles[ColorInterp.red], roles[ColorInterp.green], roles[ColorInterp.blue]))
    return BandPlan(indexes=(1, 2, 3))


def compute_stretch(
    sample: np.ndarray, nodata: float | None, percentiles: tuple[float, float] = STRETCH_PERCENTILES
) -> Stretch:
    """Compute the percentile stretch of each band of a (bands, rows, cols) sample."""
    lows: list[float] = []
    highs: list[float] = []
    for band in sample:
        values = band.ravel()
        valid = values[np.isfinite(values)] if values.dtype.kind == "f" else values
        if nodata is not None:
            valid = valid[valid != nodata]
        if valid.size == 0:
            lows.append(0.0)
            highs.append(1.0)
            continue

        low, high = np.percentile(valid, percentiles)
        lows.append(float(low))
        highs.append(float(high))
    return Stretch(low=tuple(lows), high=tuple(highs))


def to_rgb8(bands: np.ndarray, plan: BandPlan, stretch: Stretch | None) -> np.ndarray:
    """Turn a (bands, rows, cols) array read with ``plan`` into a rows x cols x 3 uint8 array."""
    if plan.palette is not None:
        indexes = np.clip(bands[0], 0, len(plan.palette) - 1).astype(np.intp, copy=False)
        return plan.palette[indexes]

    if bands.dtype != np.uint8:
        if stretch is None:
            raise ValueError(f"{bands.dtype} bands need a stretch to become 8-bit")
        bands = stretch.apply(bands)

    if bands.shape[0] == 1:
        bands = np.repeat(bands, 3, axis=0)
    return np.ascontiguousarray(np.moveaxis(bands, 0, -1))


def _palette_table(colormap: dict[int, tuple[int, ...]]) -> np.ndarray:
    table = np.zeros((max(256, max(colormap) + 1), 3), dtype=np.uint8)
    for index, colour in colormap.items():
        if index >= 0:
            table[index] = colour[:3]
    return table
