"""Shared parts of the label readers: the read context, file parsing, polygon checks and class resolution."""

from __future__ import annotations

import json
import logging
import re
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from lrsgro.errors import ImageError, LabelFormatError
from lrsgro.objects import ImageLabels, LabeledObject, Point, ReadIssue
from lrsgro.vocab import ClassInfo, ClassVocabulary, class_key, load_classes

logger = logging.getLogger(__name__)

DEFAULT_CLASS_PROPERTIES = ("class", "category", "label", "type", "name")
# An XML file with at most a declaration: an image without objects in a per-image XML format.
_EMPTY_XML = re.compile(r"^\s*(<\?xml[^>]*\?>)?\s*$")


@dataclass
class ReadContext:
    """Settings a reader needs beyond the file itself.

    Attributes:
        vocabulary: the class vocabulary names resolve against.
        image_size: (width, height) of the image, for clipping, when known.
        image_path: the image the labels belong to (GeoJSON needs its georeference).
        class_map: extra spellings mapped to vocabulary names, from the user. Keys match
            like vocabulary names: case, spaces, hyphens and underscores are ignored.
        class_properties: feature properties that name the class, tried in order (GeoJSON).
        default_class: the class of records that name none (GeoJSON features without any
            of ``class_properties``); None makes such records errors.
        names_file: the class-name file of formats that store class indices (YOLO-OBB
            ``data.yaml`` or ``classes.txt``); None lets the reader look beside the labels.
    """

    vocabulary: ClassVocabulary = field(default_factory=load_classes)
    image_size: tuple[int, int] | None = None
    image_path: Path | None = None
    class_map: dict[str, str] = field(default_factory=dict)
    class_properties: tuple[str, ...] = DEFAULT_CLASS_PROPERTIES
    default_class: str | None = None
    names_file: Path | None = None


@dataclass(frozen=True)
class ImageHeader:
    """Size and georeference of an image, read from its header without decoding pixels."""

    path: Path
    width: int
    height: int
    crs: Any = None
    transform: Any = None

    @property
    def georeferenced(self) -> bool:
        return self.crs is not None and self.transform is not None and not self.transform.is_identity


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


def parse_json(path: Path) -> Any:
    """Parse a JSON file (a byte-order mark is allowed).

    Raises:
        LabelFormatError: when the file is empty or not valid JSON, naming the line.
    """
    text = read_text(path)
    if not text.strip():
        raise LabelFormatError("JSON file is empty", path=path, fix="export the labels again")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise LabelFormatError(
            f"invalid JSON: {error.msg} at column {error.colno}",
            path=path,
            line=error.lineno,
            fix="the file is truncated or not JSON; export it again",
        ) from None
    except RecursionError:
        raise LabelFormatError("JSON nests too deeply to read", path=path, fix="check the file") from None


def parse_xml(path: Path) -> ET.Element:
    """Parse an XML file (a byte-order mark is allowed) and return its root element.

    Raises:
        LabelFormatError: when the file is empty or not well-formed XML, naming the line.
    """
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if not raw.strip():
        raise LabelFormatError("XML file is empty", path=path, fix="export the labels again")
    try:
        return ET.fromstring(raw)
    except ET.ParseError as error:
        raise LabelFormatError(
            f"invalid XML: {error}",
            path=path,
            line=error.position[0],
            fix="the file is truncated or not XML; export it again",
        ) from None


def is_empty_xml(path: Path, text: str) -> bool:
    """Tell whether ``path`` is an ``.xml`` file whose ``text`` holds at most an XML declaration."""
    return path.suffix.lower() == ".xml" and _EMPTY_XML.match(text) is not None


def xml_image_labels(path: Path, filename: str | None, format_name: str) -> ImageLabels:
    """Return the empty labels of the one image a per-image XML file describes.

    ``filename`` is the image file name the XML gives. The image id is its stem, or the XML
    file's stem when the name is missing or blank.
    """
    image_name = (filename or "").strip() or None
    return ImageLabels(
        image_id=Path(image_name).stem if image_name else path.stem,
        source=str(path),
        format=format_name,
        image_name=image_name,
    )


def xml_image_size(root: ET.Element) -> tuple[int, int] | None:
    """Return (width, height) from ``<size><width>`` and ``<size><height>``, or None when either is not a number."""
    try:
        width = int(float(root.findtext("size/width") or ""))
        height = int(float(root.findtext("size/height") or ""))
    except ValueError:
        return None
    return width, height


def read_image_header(path: str | Path) -> ImageHeader:
    """Read an image's size, CRS and geotransform from its header with rasterio.

    Only the header is read: no pixel is decoded, so this is fast for any image size.

    Raises:
        ImageError: when the file is missing or rasterio cannot open it.
    """
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioIOError

    path = Path(path)
    if not path.is_file():
        raise ImageError("image not found", path=path, fix="check the --image path")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as source:
                return ImageHeader(path, source.width, source.height, source.crs, source.transform)
    except RasterioIOError as error:
        raise ImageError(
            f"cannot open image: {error}", path=path, fix="pass a GeoTIFF, PNG or JPEG that GDAL can read"
        ) from None


def context_for_image(
    context: ReadContext,
    labels: ImageLabels,
    size: tuple[int, int] | None,
    *,
    single_image: bool = True,
) -> ReadContext:
    """Return the context to read one image's objects with, carrying that image's size.

    ``size`` is the size the label file states. The size in ``context`` (from the image
    itself) wins; a label file that disagrees gets a warning. In a file that describes several
    images (``single_image=False``) the context's size applies only to the image whose stem
    matches ``context.image_path``.
    """
    given = context.image_size
    if given is not None and not single_image:
        stem = context.image_path.stem if context.image_path is not None else None
        if stem != labels.image_id:
            given = None

    if size is not None and (size[0] <= 0 or size[1] <= 0):
        labels.issues.append(
            ReadIssue("warning", "image size must be positive; ignored", labels.source, None, f"{size[0]}x{size[1]}")
        )
        size = None

    if given is not None and size is not None and tuple(size) != tuple(given):
        labels.issues.append(
            ReadIssue(
                "warning",
                f"label file gives image size {size[0]}x{size[1]} but the image is {given[0]}x{given[1]}; "
                "using the image's size",
                labels.source,
            )
        )

    chosen = given or size
    if chosen is not None:
        labels.width, labels.height = int(chosen[0]), int(chosen[1])
    if chosen == context.image_size:
        return context
    return replace(context, image_size=(int(chosen[0]), int(chosen[1])) if chosen else None)


def resolve_class(
    name: str, labels: ImageLabels, context: ReadContext, line: int | None
) -> str | None:
    """Return the canonical class name, or record an error and return None when unknown."""
    info = _lookup_class(name, context)
    if info is None:
        _record_unknown_class(name, labels, line, context)
        return None
    return info.name


def resolve_fine_class(
    name: str, labels: ImageLabels, context: ReadContext, line: int | None
) -> tuple[str, str | None] | None:
    """Return (category, fine_category) for a class of a fine-grained format.

    A class with a parent in the vocabulary becomes (parent, class); a class without one
    becomes (class, None). An unknown name records an error and returns None.
    """
    info = _lookup_class(name, context)
    if info is None:
        _record_unknown_class(name, labels, line, context)
        return None
    if info.parent:
        return info.parent, info.name
    return info.name, None


def record_error(labels: ImageLabels, message: str, line: int | None, value: Any = None) -> None:
    """Record an invalid record: an error issue, and the record counted as dropped."""
    labels.issues.append(ReadIssue("error", message, labels.source, line, _short(value)))
    labels.dropped += 1


def record_warning(labels: ImageLabels, message: str, line: int | None = None, value: Any = None) -> None:
    """Record a warning about a record that was kept or repaired."""
    labels.issues.append(ReadIssue("warning", message, labels.source, line, _short(value)))


def box_points(x0: float, y0: float, x1: float, y1: float) -> list[Point]:
    """Return the four corners of an axis-aligned box, clockwise from the top-left."""
    left, right = min(x0, x1), max(x0, x1)
    top, bottom = min(y0, y1), max(y0, y1)
    return [(left, top), (right, top), (right, bottom), (left, bottom)]


def pairs(numbers: list[float]) -> list[Point]:
    """Turn a flat list ``x1 y1 x2 y2 ...`` into points."""
    return [(numbers[i], numbers[i + 1]) for i in range(0, len(numbers) - 1, 2)]


def ring_area(points: list[Point] | tuple[Point, ...]) -> float:
    """Return the area enclosed by a ring (shoelace formula; the ring need not be closed).

    For a self-intersecting ring this is the absolute signed area, as shapely reports it.
    """
    total = 0.0
    count = len(points)
    for index in range(count):
        x1, y1 = points[index]
        x2, y2 = points[(index + 1) % count]
        total += x1 * y2 - x2 * y1
    return abs(total) / 2.0


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
    distinct points, or with zero area after clipping, is dropped with a warning. Holes are
    clipped the same way; a hole that becomes degenerate is left out with a warning.
    """
    points = _open_ring(points)

    distinct = list(dict.fromkeys(points))
    if len(distinct) < 3:
        _drop(labels, "polygon has fewer than 3 distinct points; dropped", line, points)
        return None

    if context.image_size is not None:
        width, height = context.image_size
        clipped = _clip(points, width, height)
        if clipped is not points:
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
        holes = tuple(tuple(_clip(list(hole), width, height)) for hole in holes)

    if ring_area(points) <= 0.0:
        _drop(labels, "polygon has zero area; dropped", line, points)
        return None

    kept_holes = []
    for hole in holes:
        ring = _open_ring(list(hole))
        if len(set(ring)) < 3 or ring_area(ring) <= 0.0:
            record_warning(labels, "hole has zero area; left out", line, _format_points(ring))
            continue
        kept_holes.append(tuple((float(x), float(y)) for x, y in ring))

    obj = LabeledObject(
        id=f"{labels.image_id}/{len(labels.objects)}",
        polygon=tuple((float(x), float(y)) for x, y in points),
        category=category,
        source=labels.source,
        line=line,
        difficult=difficult,
        holes=tuple(kept_holes),
        fine_category=fine_category,
        is_region=is_region,
        attributes=attributes or {},
    )
    labels.objects.append(obj)
    return obj


def _mapped_name(name: str, context: ReadContext) -> str | None:
    """Return the --class-map target for ``name`` (compared without case and separators), or None."""
    mapped = context.class_map.get(name)
    if mapped is None and context.class_map:
        wanted = class_key(name)
        for spelling, target in context.class_map.items():
            if class_key(spelling) == wanted:
                return target
    return mapped


def _lookup_class(name: str, context: ReadContext) -> ClassInfo | None:
    mapped = _mapped_name(name, context)
    return context.vocabulary.resolve(mapped if mapped is not None else name)


def _record_unknown_class(name: str, labels: ImageLabels, line: int | None, context: ReadContext) -> None:
    mapped = _mapped_name(name, context)
    if mapped is not None:
        message = (
            f"--class-map sends this class to {mapped!r}, which is not in the class vocabulary; "
            "map it to a known class (`lrsgro labels classes` lists them)"
        )
    else:
        message = (
            "unknown class; map it to a known class with --class-map, or add it to classes.yaml "
            "in a copy of the annotation folder named by LRSGRO_ANNOTATION_DIR"
        )
    labels.issues.append(ReadIssue("error", message, labels.source, line, name))
    labels.dropped += 1


def _open_ring(points: list[Point]) -> list[Point]:
    if len(points) > 1 and points[0] == points[-1]:
        return points[:-1]
    return points


def _clip(points: list[Point], width: int, height: int) -> list[Point]:
    """Return ``points`` clamped to the image; the same list object when all lie inside."""
    if all(0.0 <= x <= width and 0.0 <= y <= height for x, y in points):
        return points
    return [(min(max(x, 0.0), float(width)), min(max(y, 0.0), float(height))) for x, y in points]


def _drop(labels: ImageLabels, message: str, line: int | None, points: list[Point]) -> None:
    labels.issues.append(ReadIssue("warning", message, labels.source, line, _format_points(points)))
    labels.dropped += 1


def _format_points(points: list[Point]) -> str:
    return " ".join(f"{x:g},{y:g}" for x, y in points)


def _short(value: Any, limit: int = 200) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
