"""What every label reader shares: the read context, polygon checks and class resolution."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from shapely.geometry import Polygon

from lrsgro.objects import ImageLabels, LabeledObject, Point, ReadIssue
from lrsgro.vocab import ClassVocabulary, load_classes


@dataclass
class ReadContext:
    """Settings a reader needs beyond the file itself.

    Attributes:
        vocabulary: the class vocabulary names resolve against.
        image_size: (width, height) of the image, for clipping, when known.
        image_path: the image the labels belong to (GeoJSON needs its georeference).
        class_map: extra spellings mapped to vocabulary names, from the user.
    """

    vocabulary: ClassVocabulary = field(default_factory=load_classes)
    image_size: tuple[int, int] | None = None
    image_path: Path | None = None
    class_map: dict[str, str] = field(default_factory=dict)


class LabelReader(Protocol):
    """The interface of a reader module in ``lrsgro.formats``.

    A reader module defines ``NAME`` (the ``--format`` value), ``DESCRIPTION``, and these two
    functions. Adding a format means adding one module that provides them.
    """

    NAME: str
    DESCRIPTION: str

    def sniff(self, path: Path, head: str) -> int:
        """Score (0 = not this format, 100 = certain) how well ``head`` fits the format."""
        ...

    def read(self, path: Path, context: ReadContext) -> list[ImageLabels]:
        """Read one file into one ``ImageLabels`` per image it describes."""
        ...


def read_text(path: Path) -> str:
    """Read a text label file, dropping a UTF-8 byte-order mark and normalising line ends."""
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def resolve_class(
    name: str, labels: ImageLabels, context: ReadContext, line: int | None
) -> str | None:
    """Return the canonical class name, or record an error and return None when unknown."""
    mapped = context.class_map.get(name, name)
    info = context.vocabulary.resolve(mapped)
    if info is None:
        labels.issues.append(
            ReadIssue(
                "error",
                "unknown class; add it to annotation/vocab/classes.yaml or map it with --class-map",
                labels.source,
                line,
                name,
            )
        )
        labels.dropped += 1
        return None
    return info.name


def add_polygon(
    labels: ImageLabels,
    context: ReadContext,
    points: list[Point],
    category: str,
    line: int | None,
    *,
    difficult: bool = False,
    holes: tuple[tuple[Point, ...], ...] = (),
    fine_category: str | None = None,
    is_region: bool = False,
    attributes: dict[str, str] | None = None,
) -> LabeledObject | None:
    """Check, clip and append one polygon to ``labels``; record why when it is dropped.

    A closing point equal to the first is removed. Points outside the image (when its size is
    known) are clipped to it and counted in ``labels.clipped``. A polygon with fewer than three
    distinct points, or with zero area after clipping, is dropped with a warning.
    """
    if len(points) > 1 and points[0] == points[-1]:
        points = points[:-1]

    distinct = list(dict.fromkeys(points))
    if len(distinct) < 3:
        _drop(labels, "polygon has fewer than 3 distinct points; dropped", line, points)
        return None

    if context.image_size is not None:
        width, height = context.image_size
        clipped = [(min(max(x, 0.0), float(width)), min(max(y, 0.0), float(height))) for x, y in points]
        if clipped != points:
            labels.clipped += 1
            labels.issues.append(
                ReadIssue(
                    "warning",
                    f"coordinates outside the {width}x{height} image; clipped",
                    labels.source,
                    line,
                    _format_points(points),
                )
            )
            points = clipped

    polygon = Polygon(points)
    if polygon.area <= 0.0:
        _drop(labels, "polygon has zero area; dropped", line, points)
        return None

    obj = LabeledObject(
        id=f"{labels.image_id}/{len(labels.objects)}",
        polygon=tuple((float(x), float(y)) for x, y in points),
        category=category,
        source=labels.source,
        line=line,
        difficult=difficult,
        holes=holes,
        fine_category=fine_category,
        is_region=is_region,
        attributes=attributes or {},
    )
    labels.objects.append(obj)
    return obj


def _drop(labels: ImageLabels, message: str, line: int | None, points: list[Point]) -> None:
    labels.issues.append(ReadIssue("warning", message, labels.source, line, _format_points(points)))
    labels.dropped += 1


def _format_points(points: list[Point]) -> str:
    return " ".join(f"{x:g},{y:g}" for x, y in points)
