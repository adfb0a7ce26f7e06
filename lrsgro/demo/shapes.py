"""Shapes of the demo scene: object outlines, painted areas and the placer that keeps objects apart.

All coordinates are full-resolution pixels of the scene (x right, y down). Angles are in degrees,
measured from the +x axis towards +y, so a positive angle turns clockwise on screen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import Point, Polygon, box
from shapely.geometry.base import BaseGeometry

RGB = tuple[int, int, int]

_REBUILD_AFTER = 32


@dataclass(frozen=True)
class Paint:
    """One area painted in a flat color before noise is added.

    Attributes:
        geometry: the area, in scene pixels.
        rgb: the flat color.
        grain: half-range of the zero-mean brightness noise added to every pixel, in grey levels.
    """

    geometry: BaseGeometry
    rgb: RGB
    grain: int


@dataclass
class DemoObject:
    """One labelled object of the demo scene.

    Attributes:
        category: class name from ``annotation/vocab/classes.yaml`` (``small vehicle``).
        color: color name from ``annotation/vocab/colors.yaml`` that the object is painted in.
        rgb: the flat color actually painted (jittered, and darker when ``difficult``).
        box: the four-corner label polygon.
        shape: the area painted in ``rgb``: a plane's cross outline, a tank's disc, a ring.
        group: the cluster the object belongs to (``parking lot``, ``marina`` ...).
        difficult: whether the object is drawn in shadow and flagged difficult in the labels.
        details: paint drawn over the object after every object (a tennis net, a roundabout island).
        shadow: offset of the cast shadow towards the bottom right, in pixels; 0 draws none.
    """

    category: str
    color: str
    rgb: RGB
    box: Polygon
    shape: Polygon
    group: str
    difficult: bool = False
    details: list[Paint] = field(default_factory=list)
    shadow: float = 0.0

    def transformed(self, matrix: list[float]) -> DemoObject:
        """Return a copy with every geometry mapped by a shapely affine ``matrix``."""
        return replace(
            self,
            box=affinity.affine_transform(self.box, matrix),
            shape=affinity.affine_transform(self.shape, matrix),
            details=[
                Paint(affinity.affine_transform(d.geometry, matrix), d.rgb, d.grain) for d in self.details
            ],
        )


def oriented_box(cx: float, cy: float, length: float, width: float, angle: float) -> Polygon:
    """Return the rectangle of ``length`` along ``angle`` and ``width`` across it, centred on (cx, cy)."""
    half_l, half_w = length / 2, width / 2
    return _placed([(-half_l, -half_w), (half_l, -half_w), (half_l, half_w), (-half_l, half_w)], cx, cy, angle)


def ship_outline(cx: float, cy: float, length: float, beam: float, angle: float) -> Polygon:
    """Return a hull outline: a square stern and a bow that narrows to a point along ``angle``."""
    half_l, half_b = length / 2, beam / 2
    shoulder = half_l - 0.3 * length
    local = [
        (-half_l, -half_b),
        (shoulder, -half_b),
        (half_l, 0.0),
        (shoulder, half_b),
        (-half_l, half_b),
    ]
    return _placed(local, cx, cy, angle)


def plane_outline(cx: float, cy: float, length: float, span: float, angle: float) -> Polygon:
    """Return an airliner seen from above: fuselage, swept wings and tailplane, nose along ``angle``.

    The outline fits inside ``oriented_box(cx, cy, length, span, angle)``.
    """
    half_l, half_s = length / 2, span / 2
    body = 0.055 * length
    tail_half = 0.18 * span
    local = [
        (half_l, 0.0),
        (half_l - 0.06 * length, -body),
        (0.12 * length, -body),
        (-0.12 * length, -half_s),
        (-0.2 * length, -half_s),
        (-0.08 * length, -body),
        (-0.36 * length, -body),
        (-0.46 * length, -tail_half),
        (-half_l, -tail_half),
        (-0.44 * length, 0.0),
        (-half_l, tail_half),
        (-0.46 * length, tail_half),
        (-0.36 * length, body),
        (-0.08 * length, body),
        (-0.2 * length, half_s),
        (-0.12 * length, half_s),
        (0.12 * length, body),
        (half_l - 0.06 * length, body),
    ]
    return _placed(local, cx, cy, angle)


def disc(cx: float, cy: float, radius: float) -> Polygon:
    """Return a circle as a 64-gon."""
    return Point(cx, cy).buffer(radius, quad_segs=16)


def square_around(cx: float, cy: float, radius: float) -> Polygon:
    """Return the axis-aligned square around a circle, which is how DOTA boxes round objects."""
    return box(cx - radius, cy - radius, cx + radius, cy + radius)


def clockwise_corners(polygon: Polygon) -> list[tuple[float, float]]:
    """Return the corners of a four-corner polygon clockwise on screen, top-most corner first.

    With y pointing down, clockwise on screen is a positive shoelace sum.
    """
    corners = list(polygon.exterior.coords)[:-1]
    if len(corners) != 4:
        raise ValueError(f"a label box needs 4 corners, this one has {len(corners)}")

    signed_area = sum(
        x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(corners, corners[1:] + corners[:1], strict=True)
    )
    if signed_area < 0:
        corners.reverse()

    start = min(range(4), key=lambda i: (round(corners[i][1], 6), round(corners[i][0], 6)))
    return corners[start:] + corners[:start]


class Placer:
    """Rejection test for new objects: inside the scene and clear of every object placed so far.

    Placed footprints live in a shapely ``STRtree``. The tree is immutable, so footprints added since
    it was built wait in a short list that is checked directly and folded in every 32 additions.

    Args:
        size: side of the square scene in pixels.
        margin: minimum distance from a footprint to the scene edge, in pixels.
        clearance: minimum gap between two footprints, in pixels.
    """

    def __init__(self, size: int, *, margin: float, clearance: float) -> None:
        self._inside = box(margin, margin, size - margin, size - margin)
        shapely.prepare(self._inside)
        self._clearance = clearance
        self._placed: list[Polygon] = []
        self._tree = shapely.STRtree([])
        self._tree_count = 0

    def fits(self, footprint: Polygon, within: BaseGeometry | None = None) -> bool:
        """Check that ``footprint`` is inside the scene (and ``within``) and clear of placed objects.

        Pass ``within`` through ``shapely.prepare`` first when it is tested many times.
        """
        if not self._inside.contains(footprint):
            return False
        if within is not None and not within.contains(footprint):
            return False

        if self._tree_count and len(self._tree.query(footprint, predicate="dwithin", distance=self._clearance)):
            return False
        pending = self._placed[self._tree_count :]
        return not (pending and np.any(shapely.dwithin(footprint, pending, self._clearance)))

    def add(self, footprint: Polygon) -> None:
        """Record a placed footprint."""
        self._placed.append(footprint)
        if len(self._placed) - self._tree_count >= _REBUILD_AFTER:
            self._tree = shapely.STRtree(self._placed)
            self._tree_count = len(self._placed)

    def try_add(self, footprint: Polygon, within: BaseGeometry | None = None) -> bool:
        """Add ``footprint`` when it fits; return whether it was added."""
        if not self.fits(footprint, within):
            return False
        self.add(footprint)
        return True


def _placed(local: list[tuple[float, float]], cx: float, cy: float, angle: float) -> Polygon:
    cos_a, sin_a = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    return Polygon([(cx + x * cos_a - y * sin_a, cy + x * sin_a + y * cos_a) for x, y in local])
