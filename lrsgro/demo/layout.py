"""The whole layout of a demo scene, from seed to the ordered list of paint and the labelled objects.

The steps lay the scene out in one canonical frame: the river near the left edge, the town top right,
the airport bottom right, the highway between them. The finished layout is then turned or mirrored by
one of the eight symmetries of the square, so seeds differ in where things are as well as in detail.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from shapely import affinity
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from lrsgro.demo import palette
from lrsgro.demo.airport import lay_out_airport
from lrsgro.demo.builder import OBJECT_GRAIN, SceneBuilder
from lrsgro.demo.landscape import (
    lay_out_farms,
    lay_out_harbor,
    lay_out_highway,
    lay_out_river,
    lay_out_ships,
    lay_out_tank_farm,
    lay_out_traffic,
)
from lrsgro.demo.shapes import RGB, DemoObject, Paint
from lrsgro.demo.town import lay_out_town

DIFFICULT_CLASSES = ("small vehicle", "large vehicle", "ship")
DIFFICULT_SHARE = 0.03
# Difficult objects stand in shade: their color is scaled by this factor.
SHADE = 0.55


@dataclass
class Layout:
    """Everything a scene shows, in scene pixels.

    Attributes:
        ground: unlabelled paint in drawing order (fields, water, roads, lawns, markings).
        objects: the labelled objects in label-file order.
        zones: named land-cover areas (``water``, ``urban area``, ``airport`` ...).
    """

    ground: list[Paint]
    objects: list[DemoObject]
    zones: dict[str, BaseGeometry]

    def paints(self) -> list[Paint]:
        """Return all paint in drawing order: ground, cast shadows, objects, then object details."""
        shadows = [
            Paint(affinity.translate(obj.shape, obj.shadow, obj.shadow), palette.SHADOW, 4)
            for obj in self.objects
            if obj.shadow > 0
        ]
        bodies = [Paint(obj.shape, obj.rgb, OBJECT_GRAIN) for obj in self.objects]
        details = [detail for obj in self.objects for detail in obj.details]
        return [*self.ground, *shadows, *bodies, *details]


def build_layout(size: int, seed: int, season: str, colors: Mapping[str, RGB]) -> Layout:
    """Lay out one scene; the same arguments always give the same layout."""
    rng = np.random.default_rng(seed)
    scene = SceneBuilder(size, rng, season, colors)

    lay_out_river(scene)
    lay_out_highway(scene)
    lay_out_town(scene)
    lay_out_airport(scene)
    lay_out_harbor(scene)
    lay_out_tank_farm(scene)
    lay_out_ships(scene)
    lay_out_traffic(scene)
    lay_out_farms(scene)
    _mark_difficult(scene)

    frame = box(0, 0, size, size)
    layout = Layout(
        ground=[Paint(frame, palette.HEDGE, 10), *scene.fields, *scene.ground],
        objects=scene.objects,
        zones={name: zone.intersection(frame) for name, zone in scene.zones.items()},
    )
    return _transformed(layout, _symmetry(int(rng.integers(8)), size))


def _mark_difficult(scene: SceneBuilder) -> None:
    """Flag about 3% of the vehicles and ships (at least two) difficult and paint them in shade."""
    candidates = [obj for obj in scene.objects if obj.category in DIFFICULT_CLASSES]
    count = min(len(candidates), max(2, round(DIFFICULT_SHARE * len(scene.objects))))
    for index in sorted(scene.rng.choice(len(candidates), size=count, replace=False)):
        obj = candidates[int(index)]
        obj.difficult = True
        r, g, b = (round(channel * SHADE) for channel in obj.rgb)
        obj.rgb = (r, g, b)


def _symmetry(index: int, size: int) -> list[float]:
    """Return symmetry ``index`` (0-7) of the square [0, size]^2 as a shapely matrix [a, b, d, e, xoff, yoff]."""
    s = float(size)
    matrices = (
        [1, 0, 0, 1, 0, 0],  # identity
        [0, -1, 1, 0, s, 0],  # quarter turn
        [-1, 0, 0, -1, s, s],  # half turn
        [0, 1, -1, 0, 0, s],  # three-quarter turn
        [-1, 0, 0, 1, s, 0],  # mirror left-right
        [1, 0, 0, -1, 0, s],  # mirror top-bottom
        [0, 1, 1, 0, 0, 0],  # mirror on the main diagonal
        [0, -1, -1, 0, s, s],  # mirror on the other diagonal
    )
    return [float(v) for v in matrices[index]]


def _transformed(layout: Layout, matrix: list[float]) -> Layout:
    return Layout(
        ground=[Paint(affinity.affine_transform(p.geometry, matrix), p.rgb, p.grain) for p in layout.ground],
        objects=[obj.transformed(matrix) for obj in layout.objects],
        zones={name: affinity.affine_transform(zone, matrix) for name, zone in layout.zones.items()},
    )
