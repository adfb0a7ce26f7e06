"""Generate the demo scenes of ``lrsgro demo``: seeded, georeferenced UHR images with DOTA labels.

One scene is a square RGB GeoTIFF at 0.5 m per pixel showing a river with a harbor and a bridge, a
town, an airport, a tank farm and fields, plus three files beside it:

- ``images/lrsgro_demo_<seed>.tif``: tiled 512 x 512, deflate, internal overviews 2-32 (average),
  a UTM CRS and the acquisition time in ``TIFFTAG_DATETIME`` (``YYYY:MM:DD HH:MM:SS``).
- ``labelTxt/lrsgro_demo_<seed>.txt``: DOTA labels, one oriented box per object.
- ``truth/lrsgro_demo_<seed>.json``: per object the painted color, class and polygons. Tests check
  the pipeline against it. The build never reads it.

The seed picks the site (hemisphere, acquisition date, so the season) and the layout. The same seed
and size give the same label file byte for byte and the same pixels.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rasterio.crs import CRS
from rasterio.transform import from_origin

from lrsgro.demo.layout import build_layout
from lrsgro.demo.raster import write_geotiff
from lrsgro.demo.shapes import RGB
from lrsgro.demo.truth import write_dota_labels, write_truth
from lrsgro.errors import InputError
from lrsgro.resources import annotation_path
from lrsgro.vocab import load_yaml

logger = logging.getLogger(__name__)

GSD = 0.5
DEFAULT_SIZE = 8192
# Below 1024 pixels the river, the town and the airport no longer fit side by side. Above 16384
# the GDAL cache setting in lrsgro.demo.raster is untried.
MIN_SIZE = 1024
MAX_SIZE = 16384
IMAGE_SOURCE = "lrsgro-demo"
DATETIME_FORMAT = "%Y:%m:%d %H:%M:%S"
# Every color name the layout paints objects in; each must be in colors.yaml.
PAINTED_COLORS = ("white", "grey", "black", "red", "orange", "yellow", "green", "blue", "cyan", "brown")


@dataclass(frozen=True)
class _Site:
    """A scene's place and time: the top-left corner in a UTM zone and the acquisition time."""

    crs: str
    west: float
    north: float
    acquired: str
    hemisphere: str


# Seed n uses site n % 5. Seeds 0, 1 and 2 cover northern summer, northern winter and southern winter.
_SITES = (
    _Site("EPSG:32650", 405_000.0, 3_380_000.0, "2023:07:14 10:42:00", "north"),
    _Site("EPSG:32650", 440_000.0, 4_420_000.0, "2023:01:18 10:55:00", "north"),
    _Site("EPSG:32750", 385_000.0, 6_465_000.0, "2023:07:09 10:20:00", "south"),
    _Site("EPSG:32650", 500_000.0, 2_500_000.0, "2023:04:21 11:05:00", "north"),
    _Site("EPSG:32650", 470_000.0, 3_800_000.0, "2023:10:12 10:35:00", "north"),
)
_SEASONS_NORTH = {12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring", 5: "spring",
                  6: "summer", 7: "summer", 8: "summer", 9: "autumn", 10: "autumn", 11: "autumn"}  # fmt: skip
_OPPOSITE = {"winter": "summer", "summer": "winter", "spring": "autumn", "autumn": "spring"}


@dataclass(frozen=True)
class DemoScene:
    """The files and facts of one generated demo scene.

    Attributes:
        image_path: the GeoTIFF.
        labels_path: the DOTA label file.
        truth_path: the ground-truth JSON (for tests; the build never reads it).
        seed: the seed the scene was generated from.
        size: width and height in pixels.
        gsd: ground sample distance in metres per pixel.
        crs: the projected CRS, as ``EPSG:<code>``.
        acquired: the acquisition time written to ``TIFFTAG_DATETIME``.
        hemisphere: ``north`` or ``south``.
        season: the meteorological season at ``acquired`` in ``hemisphere``.
        object_count: how many labelled objects the scene has.
    """

    image_path: Path
    labels_path: Path
    truth_path: Path
    seed: int
    size: int
    gsd: float
    crs: str
    acquired: datetime
    hemisphere: str
    season: str
    object_count: int


def generate_scene(out_dir: Path, *, seed: int = 0, size: int = DEFAULT_SIZE) -> DemoScene:
    """Generate one demo scene under ``out_dir`` (``images/``, ``labelTxt/``, ``truth/``).

    Existing files of the same seed are overwritten.

    Raises:
        InputError: when ``seed`` is negative, ``size`` is outside 1024-16384, or colors.yaml lacks
            a color the scene paints.
    """
    _check_arguments(seed, size)
    started = time.perf_counter()
    out_dir = Path(out_dir)
    site = _SITES[seed % len(_SITES)]
    acquired = datetime.strptime(site.acquired, DATETIME_FORMAT)
    season = season_of(acquired.month, site.hemisphere)

    layout = build_layout(size, seed, season, _load_colors())

    name = f"lrsgro_demo_{seed}"
    image_path = out_dir / "images" / f"{name}.tif"
    labels_path = out_dir / "labelTxt" / f"{name}.txt"
    truth_path = out_dir / "truth" / f"{name}.json"
    for folder in (image_path.parent, labels_path.parent, truth_path.parent):
        folder.mkdir(parents=True, exist_ok=True)

    # Seeds beyond the site list move east by 1.25 scene widths per round, so no two scenes coincide.
    west = site.west + (seed // len(_SITES)) * 1.25 * size * GSD
    transform = from_origin(west, site.north, GSD, GSD)
    tags = {
        "TIFFTAG_DATETIME": site.acquired,
        "TIFFTAG_SOFTWARE": "lrsgro demo",
        "TIFFTAG_IMAGEDESCRIPTION": f"lrsgro demo scene, seed {seed}, synthetic",
    }
    write_geotiff(
        image_path, layout.paints(), size=size, transform=transform, crs=CRS.from_string(site.crs), tags=tags, seed=seed
    )
    write_dota_labels(labels_path, layout.objects, image_source=IMAGE_SOURCE, gsd=GSD)

    scene = DemoScene(
        image_path=image_path,
        labels_path=labels_path,
        truth_path=truth_path,
        seed=seed,
        size=size,
        gsd=GSD,
        crs=site.crs,
        acquired=acquired,
        hemisphere=site.hemisphere,
        season=season,
        object_count=len(layout.objects),
    )
    write_truth(truth_path, scene, layout, transform=list(transform)[:6])
    logger.info(
        "demo scene %d: %d objects, %d px, %.1f s", seed, scene.object_count, size, time.perf_counter() - started
    )
    return scene


def generate_scenes(
    out_dir: Path, seeds: Iterable[int] = (0, 1, 2), *, size: int = DEFAULT_SIZE
) -> list[DemoScene]:
    """Generate one scene per seed under ``out_dir``, in the order given.

    Raises:
        InputError: when ``seeds`` is empty or repeats a seed, or for any reason
            :func:`generate_scene` raises.
    """
    seeds = list(seeds)
    if not seeds:
        raise InputError("no seeds given for the demo scenes", fix="pass at least one seed, e.g. (0, 1, 2)")
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise InputError(
            f"duplicate demo seeds: {repeated}",
            fix="give each scene its own seed, because a repeated seed overwrites its image",
        )
    for seed in seeds:
        _check_arguments(seed, size)
    return [generate_scene(out_dir, seed=seed, size=size) for seed in seeds]


def season_of(month: int, hemisphere: str) -> str:
    """Return the meteorological season of ``month`` (1-12) in the ``north`` or ``south`` hemisphere."""
    season = _SEASONS_NORTH[month]
    return season if hemisphere == "north" else _OPPOSITE[season]


def _check_arguments(seed: int, size: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"invalid demo seed {seed!r}", fix="use a whole number of 0 or more")
    if isinstance(size, bool) or not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
        raise InputError(
            f"invalid demo scene size {size!r}",
            fix=f"use a whole number of pixels from {MIN_SIZE} to {MAX_SIZE}; the default is {DEFAULT_SIZE}",
        )


def _load_colors() -> dict[str, RGB]:
    """Read the reference colors from colors.yaml and check that every painted color is there."""
    table = load_yaml("colors.yaml").get("colors") or {}
    missing = [name for name in PAINTED_COLORS if name not in table]
    if missing:
        raise InputError(
            f"colors {missing} are missing from the color vocabulary",
            path=annotation_path("vocab", "colors.yaml"),
            fix="add them under `colors:` as name: [r, g, b]",
        )
    colors: dict[str, RGB] = {}
    for name in PAINTED_COLORS:
        r, g, b = (int(channel) for channel in table[name])
        colors[name] = (r, g, b)
    return colors
