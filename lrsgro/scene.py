"""Scene facts: one image's header facts, its labelled objects and its regions.

Question families read a :class:`Scene`; none of them opens the image file except through
:meth:`Scene.read_window`, which reads a window of pixels and never the whole image.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path

import numpy as np
from shapely.geometry import Polygon, box
from shapely.strtree import STRtree

from lrsgro.imagery import UHRImage
from lrsgro.objects import LabeledObject
from lrsgro.pixels import read_rgb_window

# Cells of the 3x3 grid. Middle cells are named "top-center" rather than "top" so that a
# reader does not take "the top part of the image" for the whole upper third.
GRID_NAMES = (
    ("top-left", "top-center", "top-right"),
    ("center-left", "center", "center-right"),
    ("bottom-left", "bottom-center", "bottom-right"),
)


def cell_phrase(cell: str) -> str:
    """Return the phrase naming one grid cell in a question ("the top-left part of the image")."""
    return "the center of the image" if cell == "center" else f"the {cell} part of the image"


@dataclass(frozen=True)
class Region:
    """A region that region-level questions ask about.

    Attributes:
        id: stable id inside the image.
        expression: the referring expression naming it in a question ("the top-left part of the image").
        geometry: the region polygon in full-resolution pixels.
        kind: ``label`` (a region annotation), ``cluster`` (a group of labelled objects) or ``grid``.
        object_id: the label the region came from, for ``label`` regions.
        category: the class the expression names ("the group of ships" names ship), which
            questions about the region must not ask for because the expression gives it away.
    """

    id: str
    expression: str
    geometry: Polygon
    kind: str
    object_id: str | None = None
    category: str | None = None

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return tuple(float(v) for v in self.geometry.bounds)  # type: ignore[return-value]


@dataclass
class Scene:
    """Everything the rules know about one image."""

    image_id: str
    image_path: Path
    width: int
    height: int
    objects: list[LabeledObject]
    gsd: float | None = None
    crs: str | None = None
    acquisition_date: date | None = None
    center_lat: float | None = None
    label_file: str | None = None
    regions: list[Region] = field(default_factory=list)

    @cached_property
    def countable(self) -> list[LabeledObject]:
        """Objects that are not region annotations."""
        return [o for o in self.objects if not o.is_region]

    @cached_property
    def _centroid_index(self) -> tuple[STRtree, list[LabeledObject]]:
        objects = self.countable
        points = [o.geometry.centroid for o in objects]
        return STRtree(points), objects

    def objects_in(self, region: Polygon) -> list[LabeledObject]:
        """Return the objects whose centroid lies inside ``region``."""
        tree, objects = self._centroid_index
        if not objects:
            return []
        hits = tree.query(region, predicate="intersects")
        return [objects[i] for i in sorted(hits)]

    @property
    def area_m2(self) -> float | None:
        if self.gsd is None:
            return None
        return self.width * self.height * self.gsd**2

    def grid_cell(self, x: float, y: float) -> str:
        """Name the 3x3 grid cell that contains the point (x, y)."""
        column = min(2, max(0, int(3 * x / self.width)))
        row = min(2, max(0, int(3 * y / self.height)))
        return GRID_NAMES[row][column]

    def grid_regions(self) -> list[Region]:
        """Return the nine cells of the 3x3 grid as regions."""
        regions = []
        for row in range(3):
            for column in range(3):
                x0, x1 = column * self.width / 3, (column + 1) * self.width / 3
                y0, y1 = row * self.height / 3, (row + 1) * self.height / 3
                name = GRID_NAMES[row][column]
                regions.append(Region(f"grid-{name}", cell_phrase(name), box(x0, y0, x1, y1), "grid"))
        return regions

    @cached_property
    def image(self) -> UHRImage:
        """The image, opened on first use and kept open until :meth:`close`."""
        return UHRImage(self.image_path)

    def read_window(
        self, bounds: tuple[float, float, float, float], max_side: int | None = None
    ) -> tuple[np.ndarray, tuple[float, float, float]]:
        """Read the RGB pixels of a window; return (HxWx3 uint8, (x0, y0, scale)).

        ``scale`` is output pixels per full-resolution pixel (1.0 unless ``max_side`` shrinks it).
        """
        return read_rgb_window(self.image, bounds, max_side=max_side)

    def close(self) -> None:
        """Close the image if it was opened."""
        if "image" in self.__dict__:
            self.__dict__.pop("image").close()
