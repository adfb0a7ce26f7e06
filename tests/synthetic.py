"""Small hand-placed scenes for build tests: a GeoTIFF painted with known objects, DOTA labels."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from rasterio.features import rasterize
from rasterio.transform import from_origin
from shapely.geometry import Polygon


@dataclass(frozen=True)
class Painted:
    """One object painted into a test scene."""

    category: str
    corners: tuple[tuple[float, float], ...]
    rgb: tuple[int, int, int]
    difficult: int = 0


def rectangle(x: float, y: float, w: float, h: float) -> tuple[tuple[float, float], ...]:
    return ((x, y), (x + w, y), (x + w, y + h), (x, y + h))


def write_scene(
    folder: Path,
    image_id: str,
    objects: list[Painted],
    *,
    size: tuple[int, int] = (600, 600),
    background: tuple[int, int, int] = (60, 120, 60),
    epsg: int | None = 32633,
    gsd: float = 0.5,
    date: str | None = "2023:07:14 10:00:00",
    origin: tuple[float, float] = (500000.0, 5400000.0),
    header: bool = True,
) -> tuple[Path, Path]:
    """Write ``images/<id>.tif`` and ``labelTxt/<id>.txt``; return both paths."""
    width, height = size
    pixels = np.empty((3, height, width), dtype=np.uint8)
    for band in range(3):
        pixels[band] = background[band]
    for obj in objects:
        mask = rasterize([(Polygon(obj.corners), 1)], out_shape=(height, width), fill=0, dtype="uint8").astype(bool)
        for band in range(3):
            pixels[band][mask] = obj.rgb[band]

    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "labelTxt").mkdir(parents=True, exist_ok=True)
    image_path = folder / "images" / f"{image_id}.tif"
    profile = {
        "driver": "GTiff", "width": width, "height": height, "count": 3, "dtype": "uint8",
        "tiled": True, "blockxsize": 256, "blockysize": 256, "compress": "deflate",
    }
    if epsg is not None:
        profile |= {"crs": f"EPSG:{epsg}", "transform": from_origin(origin[0], origin[1], gsd, gsd)}
    with rasterio.open(image_path, "w", **profile) as dst:
        dst.write(pixels)
        if date:
            dst.update_tags(TIFFTAG_DATETIME=date)

    lines = ["imagesource:synthetic", f"gsd:{gsd}"] if header else []
    for obj in objects:
        coords = " ".join(f"{x:.1f} {y:.1f}" for x, y in obj.corners)
        lines.append(f"{coords} {obj.category} {obj.difficult}")
    label_path = folder / "labelTxt" / f"{image_id}.txt"
    label_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return image_path, label_path
