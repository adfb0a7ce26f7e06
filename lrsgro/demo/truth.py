"""The DOTA label file and the ground-truth JSON of a demo scene."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import shapely
from pydantic import BaseModel, ConfigDict

from lrsgro.demo.shapes import DemoObject, clockwise_corners

if TYPE_CHECKING:
    from lrsgro.demo.layout import Layout
    from lrsgro.demo.scene import DemoScene

HEADER_LINES = 2
_SHAPE_DECIMALS = 3

Point = tuple[float, float]


class TruthObject(BaseModel):
    """One labelled object as it was painted.

    Attributes:
        line: the 1-based line of the object in the label file.
        category: class name from the class vocabulary (``small vehicle``).
        dota_class: the class as the label file spells it (``small-vehicle``).
        color: color name from ``annotation/vocab/colors.yaml``.
        rgb: the flat color painted before noise.
        polygon: the label's four corners, exactly as in the label file.
        shape: exterior ring of the area painted in ``rgb`` (no closing point).
        shape_holes: interior rings of that area (the island of a roundabout).
        difficult: the label's difficult flag; difficult objects are painted in shade.
        group: the cluster the object belongs to (``parking lot``, ``marina``, ``apron`` ...).
    """

    model_config = ConfigDict(extra="forbid")

    line: int
    category: str
    dota_class: str
    color: str
    rgb: tuple[int, int, int]
    polygon: list[Point]
    shape: list[Point]
    shape_holes: list[list[Point]]
    difficult: bool
    group: str


class TruthZone(BaseModel):
    """A named land-cover area, as WKT in scene pixels."""

    model_config = ConfigDict(extra="forbid")

    name: str
    wkt: str


class SceneTruth(BaseModel):
    """Ground truth of a demo scene, for tests to check the build against."""

    model_config = ConfigDict(extra="forbid")

    image: str
    labels: str
    seed: int
    size: int
    gsd: float
    crs: str
    transform: list[float]
    acquired: str
    hemisphere: str
    season: str
    objects: list[TruthObject]
    zones: list[TruthZone]


def dota_class(category: str) -> str:
    """Spell a vocabulary class the DOTA way: ``small vehicle`` becomes ``small-vehicle``."""
    return category.replace(" ", "-")


def label_corners(obj: DemoObject) -> list[Point]:
    """Return the label corners of ``obj``: clockwise on screen, rounded to 0.1 pixel."""
    return [(round(x, 1), round(y, 1)) for x, y in clockwise_corners(obj.box)]


def write_dota_labels(path: Path, objects: Sequence[DemoObject], *, image_source: str, gsd: float) -> None:
    """Write a DOTA v1.0 label file: two header lines, then ``x1 y1 ... x4 y4 class difficult`` per object."""
    lines = [f"imagesource:{image_source}", f"gsd:{gsd:g}"]
    for obj in objects:
        coordinates = " ".join(f"{x:.1f} {y:.1f}" for x, y in label_corners(obj))
        lines.append(f"{coordinates} {dota_class(obj.category)} {int(obj.difficult)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_truth(path: Path, scene: DemoScene, layout: Layout, *, transform: list[float]) -> None:
    """Write the ground-truth JSON of a scene next to its image and labels."""
    objects = [
        TruthObject(
            line=HEADER_LINES + index + 1,
            category=obj.category,
            dota_class=dota_class(obj.category),
            color=obj.color,
            rgb=obj.rgb,
            polygon=label_corners(obj),
            shape=_ring(obj.shape.exterior.coords),
            shape_holes=[_ring(hole.coords) for hole in obj.shape.interiors],
            difficult=obj.difficult,
            group=obj.group,
        )
        for index, obj in enumerate(layout.objects)
    ]
    truth = SceneTruth(
        image=scene.image_path.name,
        labels=scene.labels_path.name,
        seed=scene.seed,
        size=scene.size,
        gsd=scene.gsd,
        crs=scene.crs,
        transform=transform,
        acquired=scene.acquired.isoformat(),
        hemisphere=scene.hemisphere,
        season=scene.season,
        objects=objects,
        zones=[
            TruthZone(name=name, wkt=shapely.to_wkt(zone, rounding_precision=1))
            for name, zone in sorted(layout.zones.items())
        ],
    )
    path.write_text(truth.model_dump_json(indent=1) + "\n", encoding="utf-8")


def read_truth(path: Path) -> SceneTruth:
    """Read a ground-truth JSON written by :func:`write_truth`."""
    return SceneTruth.model_validate_json(Path(path).read_text(encoding="utf-8"))


def _ring(coords: Sequence[Point]) -> list[Point]:
    points = list(coords)[:-1]
    return [(round(x, _SHAPE_DECIMALS), round(y, _SHAPE_DECIMALS)) for x, y in points]
