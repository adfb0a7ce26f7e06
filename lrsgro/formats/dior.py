"""DIOR and DIOR-R labels (Pascal VOC XML with ``bndbox`` or ``robndbox``).

Source: DIOR, "Object Detection in Optical Remote Sensing Images: A Survey and a New
Benchmark" (Li et al., ISPRS J. Photogramm. Remote Sens. 2020); DIOR-R, its oriented-box
version, "Anchor-free Oriented Proposal Generator for Object Detection" (Cheng et al., IEEE
TGRS 2022). Licence: for academic research only.

Format: one VOC XML file per image (``00001.xml`` for ``00001.jpg``) with ``<filename>`` and
``<size>``. DIOR images are 800x800 px Google Earth tiles with a GSD of about 0.5 to 30 m/px.
Each ``<object>`` has ``<name>``, optional ``<difficult>`` and ``<truncated>`` (a missing
``<difficult>`` reads as 0), and either

* ``<bndbox>`` with ``xmin ymin xmax ymax`` (DIOR, axis-aligned), or
* ``<robndbox>`` with the corners ``x_left_top y_left_top x_right_top ... y_left_bottom``
  (DIOR-R, oriented; an ``<angle>`` beside it is kept as an attribute).

Coordinates are pixels with (0, 0) at the top-left corner. Other VOC XML files (any dataset
exported by LabelImg) read the same way.

Classes (20, spelled as in the XML): airplane, airport, baseballfield, basketballcourt,
bridge, chimney, dam, Expressway-Service-area, Expressway-toll-station, golffield,
groundtrackfield, harbor, overpass, ship, stadium, storagetank, tenniscourt, trainstation,
vehicle, windmill. They are coarse classes: the category is the vocabulary class.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from lrsgro.formats.base import (
    ReadContext,
    add_polygon,
    box_points,
    context_for_image,
    is_empty_xml,
    parse_xml,
    record_error,
    resolve_class,
    xml_image_labels,
    xml_image_size,
)
from lrsgro.objects import ImageLabels, Point

NAME = "dior"
DESCRIPTION = "DIOR / DIOR-R Pascal VOC XML: bndbox or robndbox per object"

_CORNERS = ("left_top", "right_top", "right_bottom", "left_bottom")


def sniff(path: Path, head: str) -> int:
    """Score a file: a VOC ``<annotation>`` whose objects have ``<bndbox>`` or ``<robndbox>``."""
    text = head.lstrip("\ufeff")
    if "<annotation" in text and ("<robndbox" in text or "<bndbox" in text):
        return 90
    if "<annotation" in text and "<possibleresult" not in text:
        return 40
    if is_empty_xml(path, text):
        return 5
    return 0


def read(path: Path, context: ReadContext) -> list[ImageLabels]:
    """Read one DIOR or DIOR-R XML file."""
    root = parse_xml(path)
    labels = xml_image_labels(path, root.findtext("filename"), NAME)
    context = context_for_image(context, labels, xml_image_size(root))

    for index, element in enumerate(root.iter("object"), start=1):
        _read_object(labels, context, element, index)

    return [labels]


def _read_object(labels: ImageLabels, context: ReadContext, element: ET.Element, index: int) -> None:
    name = (element.findtext("name") or "").strip()
    if not name:
        record_error(labels, "object has no <name>", index)
        return

    difficult_text = (element.findtext("difficult") or "0").strip()
    if difficult_text not in ("0", "1"):
        record_error(labels, "<difficult> must be 0 or 1", index, difficult_text)
        return

    points = _read_box(labels, element, index)
    if points is None:
        return

    category = resolve_class(name, labels, context, index)
    if category is None:
        return

    attributes = {}
    for key in ("truncated", "angle", "pose"):
        value = (element.findtext(key) or "").strip()
        if value:
            attributes[key] = value
    add_polygon(labels, context, points, category, index, difficult=difficult_text == "1", attributes=attributes)


def _read_box(labels: ImageLabels, element: ET.Element, index: int) -> list[Point] | None:
    rotated = element.find("robndbox")
    if rotated is not None:
        if rotated.find("cx") is not None:
            record_error(
                labels,
                "robndbox with cx/cy/w/h/angle (roLabelImg) is not supported; export corner points",
                index,
            )
            return None
        keys = [f"{axis}_{corner}" for corner in _CORNERS for axis in ("x", "y")]
        numbers = _numbers(rotated, keys)
        if numbers is None:
            record_error(labels, f"<robndbox> needs the numbers {', '.join(keys)}", index, _text_of(rotated))
            return None
        return [(numbers[i], numbers[i + 1]) for i in range(0, 8, 2)]

    box = element.find("bndbox")
    if box is not None:
        numbers = _numbers(box, ["xmin", "ymin", "xmax", "ymax"])
        if numbers is None:
            record_error(labels, "<bndbox> needs the numbers xmin, ymin, xmax, ymax", index, _text_of(box))
            return None
        return box_points(*numbers)

    record_error(labels, "object has neither <bndbox> nor <robndbox>", index)
    return None


def _numbers(element: ET.Element, keys: list[str]) -> list[float] | None:
    numbers: list[float] = []
    for key in keys:
        try:
            numbers.append(float((element.findtext(key) or "").strip()))
        except ValueError:
            return None
    return numbers


def _text_of(element: ET.Element) -> str:
    return " ".join(f"{child.tag}={(child.text or '').strip()}" for child in element)
