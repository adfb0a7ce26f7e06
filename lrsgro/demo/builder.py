"""The state shared by the steps that lay out a demo scene: random source, paint list, objects, placer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TypeVar

import numpy as np
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from lrsgro.demo.shapes import RGB, DemoObject, Paint, Placer

# Sizes are in pixels of the 0.5 m demo grid unless the name says otherwise.
EDGE_MARGIN = 4.0
CLEARANCE = 1.5
OBJECT_GRAIN = 8
# Each object's color differs from its reference color by a shared brightness shift plus a small
# per-channel shift, both at most these many grey levels, so whites stay white rather than tinted.
COLOR_BRIGHTNESS = 6
COLOR_HUE = 2

T = TypeVar("T")


class SceneBuilder:
    """Collects the ground paint, the labelled objects and the named zones of one scene.

    Args:
        size: side of the square scene in pixels.
        rng: the seeded random source; every random choice of the layout comes from it, in order.
        season: ``spring``, ``summer``, ``autumn`` or ``winter``; sets the colors of fields and lawns.
        colors: color name to RGB, from ``annotation/vocab/colors.yaml``.
    """

    def __init__(self, size: int, rng: np.random.Generator, season: str, colors: Mapping[str, RGB]) -> None:
        self.size = size
        self.scale = size / 2048
        self.rng = rng
        self.season = season
        self.colors = colors
        self.fields: list[Paint] = []
        self.ground: list[Paint] = []
        self.objects: list[DemoObject] = []
        self.zones: dict[str, BaseGeometry] = {}
        self.placer = Placer(size, margin=EDGE_MARGIN, clearance=CLEARANCE)

        # Facts the landscape steps record for the steps after them.
        self.water: Polygon = Polygon()
        self.ship_water: BaseGeometry = Polygon()
        self.bank_ys: np.ndarray = np.empty(0)
        self.left_bank: np.ndarray = np.empty(0)
        self.right_bank: np.ndarray = np.empty(0)
        self.highway_y = 0.0

    def paint(self, geometry: BaseGeometry, rgb: RGB, grain: int) -> None:
        """Append unlabelled ground paint; later paint covers earlier paint."""
        self.ground.append(Paint(geometry, rgb, grain))

    def uniform(self, low: float, high: float) -> float:
        return float(self.rng.uniform(low, high))

    def chance(self, probability: float) -> bool:
        return bool(self.rng.random() < probability)

    def choice(self, options: Sequence[T]) -> T:
        return options[int(self.rng.integers(len(options)))]

    def pick_color(self, weights: Mapping[str, float]) -> str:
        """Draw a color name with the given relative weights."""
        names = list(weights)
        share = np.array([weights[name] for name in names], dtype=float)
        return names[int(self.rng.choice(len(names), p=share / share.sum()))]

    def jitter(self, rgb: RGB, spread: int) -> RGB:
        """Shift each channel by up to ``spread`` grey levels."""
        shift = self.rng.integers(-spread, spread + 1, size=3)
        r, g, b = (int(np.clip(c + d, 0, 255)) for c, d in zip(rgb, shift, strict=True))
        return (r, g, b)

    def shade(self, rgb: RGB) -> RGB:
        """Vary a reference color by up to ``COLOR_BRIGHTNESS`` levels of brightness and a little hue."""
        shift = int(self.rng.integers(-COLOR_BRIGHTNESS, COLOR_BRIGHTNESS + 1))
        r, g, b = (int(np.clip(c + shift, 0, 255)) for c in rgb)
        return self.jitter((r, g, b), COLOR_HUE)

    def place(
        self,
        category: str,
        color: str,
        box: Polygon,
        *,
        group: str,
        shape: Polygon | None = None,
        within: BaseGeometry | None = None,
        shadow: float = 0.0,
        details: Iterable[Paint] = (),
    ) -> DemoObject | None:
        """Add a labelled object when its box fits; return it, or None when it was rejected.

        ``box`` is the label polygon and the footprint kept clear of other objects. ``shape``
        (default: the box) is the area painted in the color.
        """
        if not self.placer.try_add(box, within):
            return None

        obj = DemoObject(
            category=category,
            color=color,
            rgb=self.shade(self.colors[color]),
            box=box,
            shape=shape if shape is not None else box,
            group=group,
            details=list(details),
            shadow=shadow,
        )
        self.objects.append(obj)
        return obj
