"""STAR object labels (DOTA-style lines with underscore class names).

Source: STAR, "STAR: A First-Ever Dataset and a Large-Scale Benchmark for Scene Graph
Generation in Large-Size Satellite Imagery" (Li et al., IEEE TPAMI 2024),
https://linlin-dev.github.io/project/STAR. Licence: for academic research only.

Format: one file per image, no header lines, one object per line::

    x1 y1 x2 y2 x3 y3 x4 y4 class_name difficult

with the four corners of an oriented box in full-resolution pixels. The images are large
(up to about 27,000 px a side) and the GSD lies between about 0.15 and 1 m/px. STAR has 48
object classes, spelled in lower case with underscores (``wind_mill``, ``toll_gate``,
``boarding_bridge``), and 58 relation predicates, which this reader does not use.

Classes are fine-grained. Each STAR class is looked up in the vocabulary, and a class with a
parent there becomes the object's ``fine_category``, with the parent as ``category``. So
``boat`` is fine class boat of category ship, ``tower_crane`` is tower crane of crane, and
``car_parking`` is car parking of parking lot. A class without a parent (``runway``,
``chimney``) is the category itself.

Telling STAR from DOTA: the line format is the same, so the sniffer looks at the class names.
A name that only STAR uses (``wind_mill``, ``dock``, ``soccer_ball_field``) makes the file
STAR; names that both use (``ship``, ``bridge``) leave it to the DOTA reader.
"""

from __future__ import annotations

from pathlib import Path

from lrsgro.formats._dota_lines import read_lines, summarise_head
from lrsgro.formats.base import ReadContext
from lrsgro.objects import ImageLabels

NAME = "star"
DESCRIPTION = "STAR OBD text: DOTA-style lines with STAR's 48 underscore class names"

# The 48 object classes as spelled in STAR's label files (STAR-MMRotate class list).
STAR_CLASSES = (
    "ship", "boat", "crane", "goods_yard", "tank", "storehouse", "breakwater", "dock",
    "airplane", "boarding_bridge", "runway", "taxiway", "terminal", "apron", "gas_station",
    "truck", "car", "truck_parking", "car_parking", "bridge", "cooling_tower", "chimney",
    "vapor", "smoke", "genset", "coal_yard", "lattice_tower", "substation", "wind_mill",
    "cement_concrete_pavement", "toll_gate", "flood_dam", "gravity_dam", "ship_lock",
    "ground_track_field", "basketball_court", "engineering_vehicle", "foundation_pit",
    "intersection", "soccer_ball_field", "tennis_court", "tower_crane", "unfinished_building",
    "arch_dam", "roundabout", "baseball_diamond", "stadium", "containment_vessel",
)  # fmt: skip

# Class names DOTA files spell the same way, which say nothing about which format a file is.
_SHARED_WITH_DOTA = {"ship", "bridge", "roundabout", "helicopter", "plane", "harbor"}
_STAR_ONLY = set(STAR_CLASSES) - _SHARED_WITH_DOTA


def sniff(path: Path, head: str) -> int:
    """Score a file: DOTA-style lines whose class names include one that only STAR uses."""
    summary = summarise_head(head)
    if not summary.names or summary.header:
        return 0

    star_only = sum(1 for name in summary.names if name in _STAR_ONLY)
    if star_only == 0:
        return 0
    return 85 if len(summary.names) >= summary.other_lines else 45


def read(path: Path, context: ReadContext) -> list[ImageLabels]:
    """Read one STAR label file."""
    return read_lines(path, context, NAME, fine_grained=True)
