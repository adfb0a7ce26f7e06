"""The format-neutral object model every label reader produces.

Coordinates are always full-resolution pixel coordinates of the image the labels belong to:
x grows to the right, y grows down, (0, 0) is the top-left corner of the top-left pixel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from shapely.geometry import Polygon

Point = tuple[float, float]
Severity = Literal["warning", "error"]


@dataclass(frozen=True)
class ReadIssue:
    """A problem found while reading labels: a warning (kept, perhaps repaired) or an error."""

    severity: Severity
    message: str
    path: str
    line: int | None = None
    value: str | None = None

    def render(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        text = f"{where}: {self.message}"
        if self.value is not None:
            text += f" (value: {self.value!r})"
        return text


@dataclass(frozen=True)
class LabeledObject:
    """One labelled object or region.

    Attributes:
        id: stable id, unique inside its image (``<image_id>/<index>``).
        polygon: exterior ring in full-resolution pixels, without the closing point.
        category: canonical class name from the class vocabulary.
        source: file the label came from.
        line: 1-based line (text formats) or record index (JSON/XML formats).
        difficult: the source's difficult or truncated flag.
        holes: interior rings, for formats that carry them.
        fine_category: the fine-grained class when the source has one (FAIR1M, STAR, xView).
        is_region: whether the label marks a region rather than an object.
        attributes: any other per-object field the format carries.
    """

    id: str
    polygon: tuple[Point, ...]
    category: str
    source: str
    line: int | None = None
    difficult: bool = False
    holes: tuple[tuple[Point, ...], ...] = ()
    fine_category: str | None = None
    is_region: bool = False
    attributes: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @cached_property
    def geometry(self) -> Polygon:
        return Polygon(self.polygon, holes=list(self.holes) or None)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Axis-aligned box (x0, y0, x1, y1) in full-resolution pixels."""
        xs = [p[0] for p in self.polygon]
        ys = [p[1] for p in self.polygon]
        return (min(xs), min(ys), max(xs), max(ys))

    @property
    def centroid(self) -> Point:
        c = self.geometry.centroid
        return (c.x, c.y)


@dataclass
class ImageLabels:
    """The labels of one image, as read from one label file (or one record group).

    Attributes:
        image_id: the image's stem, used to find the image file and in question ids.
        source: the label file.
        format: the reader's name (``dota``, ``fair1m`` ...).
        objects: the objects that were read and kept.
        image_name: the image file name when the labels name it.
        gsd: ground sample distance in metres per pixel, when the labels carry it.
        image_source: the source sensor or platform (DOTA ``imagesource:``).
        width, height: the image size when the labels carry it.
        issues: every warning and error met while reading.
        dropped: how many records were read but not kept (each has an issue).
        clipped: how many objects had coordinates outside the image and were clipped.
        metadata: other per-image fields of the format.
    """

    image_id: str
    source: str
    format: str
    objects: list[LabeledObject] = field(default_factory=list)
    image_name: str | None = None
    gsd: float | None = None
    image_source: str | None = None
    width: int | None = None
    height: int | None = None
    issues: list[ReadIssue] = field(default_factory=list)
    dropped: int = 0
    clipped: int = 0
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def warnings(self) -> list[ReadIssue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def errors(self) -> list[ReadIssue]:
        return [i for i in self.issues if i.severity == "error"]
