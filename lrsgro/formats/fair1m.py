"""FAIR1M labels (the Gaofen challenge XML).

Source: FAIR1M, "FAIR1M: A Benchmark Dataset for Fine-grained Object Recognition in
High-Resolution Remote Sensing Imagery" (Sun et al., ISPRS J. Photogramm. Remote Sens. 2022),
distributed through the Gaofen challenge (https://www.gaofen-challenge.com). Licence: for
academic research only.

Format: one XML file per image. ``<source><filename>`` names the image and ``<size>`` gives
width and height. Each ``<objects><object>`` has ``<coordinate>pixel</coordinate>``, the
class in ``<possibleresult><name>`` (result files add ``<probability>``), and a closed
polygon of five ``<point>x,y</point>``. The points are the four corners of an oriented box in
full-resolution pixels, with the first repeated at the end. Images are Gaofen-2 and Gaofen-3
tiles of about 1000 to 10000 px, with a GSD of 0.3 to 0.8 m/px.

Classes: 37 fine classes under 5 parents (FAIR1M's own hierarchy)::

    Airplane: Boeing737, Boeing747, Boeing777, Boeing787, C919, A220, A321, A330, A350,
              ARJ21, other-airplane
    Ship:     Passenger Ship, Motorboat, Fishing Boat, Tugboat, Engineering Ship,
              Liquid Cargo Ship, Dry Cargo Ship, Warship, other-ship
    Vehicle:  Small Car, Bus, Cargo Truck, Dump Truck, Van, Trailer, Tractor, Excavator,
              Truck Tractor, other-vehicle
    Court:    Basketball Court, Tennis Court, Football Field, Baseball Field
    Road:     Intersection, Roundabout, Bridge

The vocabulary holds the same hierarchy, so an object's ``category`` is the parent (plane,
ship, vehicle, court, road) and its ``fine_category`` the fine class (``Football Field`` is
the vocabulary's soccer ball field, ``Baseball Field`` its baseball diamond). Object indices
(1-based, in file order) stand in for line numbers in issues.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from lrsgro.formats.base import (
    ReadContext,
    add_polygon,
    context_for_image,
    is_empty_xml,
    parse_xml,
    record_error,
    resolve_fine_class,
    xml_image_labels,
    xml_image_size,
)
from lrsgro.objects import ImageLabels, Point

NAME = "fair1m"
DESCRIPTION = "FAIR1M / Gaofen XML: 5-point closed polygons, 37 fine classes"


def sniff(path: Path, head: str) -> int:
    """Score a file: an ``<annotation>`` with ``<possibleresult>`` or ``<points>`` objects."""
    text = head.lstrip("\ufeff")
    if "<possibleresult" in text or "<pluginname>FAIR1M" in text:
        return 95
    if "<annotation" in text and "<objects" in text and "<points" in text:
        return 85
    if "<annotation" in text and ("<research" in text or "<objects" in text):
        return 60
    if is_empty_xml(path, text):
        return 10
    return 0


def read(path: Path, context: ReadContext) -> list[ImageLabels]:
    """Read one FAIR1M XML file."""
    root = parse_xml(path)
    labels = xml_image_labels(path, root.findtext("source/filename") or root.findtext("filename"), NAME)
    origin = (root.findtext("source/origin") or "").strip()
    if origin:
        labels.image_source = origin

    context = context_for_image(context, labels, xml_image_size(root))

    for index, element in enumerate(root.iter("object"), start=1):
        _read_object(labels, context, element, index)

    return [labels]


def _read_object(labels: ImageLabels, context: ReadContext, element: ET.Element, index: int) -> None:
    coordinate = (element.findtext("coordinate") or "pixel").strip().lower()
    if coordinate != "pixel":
        record_error(labels, "only pixel coordinates are supported", index, coordinate)
        return

    name = (element.findtext("possibleresult/name") or "").strip()
    if not name:
        record_error(labels, "object has no <possibleresult><name>", index)
        return

    points = _read_points(element)
    if points is None:
        record_error(labels, "<point> must be 'x,y' with two numbers", index, _point_texts(element))
        return

    resolved = resolve_fine_class(name, labels, context, index)
    if resolved is None:
        return

    category, fine_category = resolved
    attributes = {}
    probability = (element.findtext("possibleresult/probability") or "").strip()
    if probability:
        attributes["probability"] = probability
    add_polygon(labels, context, points, category, index, fine_category=fine_category, attributes=attributes)


def _read_points(element: ET.Element) -> list[Point] | None:
    points: list[Point] = []
    for text in _point_texts(element):
        parts = text.replace(" ", "").split(",")
        if len(parts) != 2:
            return None
        try:
            points.append((float(parts[0]), float(parts[1])))
        except ValueError:
            return None
    return points


def _point_texts(element: ET.Element) -> list[str]:
    return [(point.text or "").strip() for point in element.iter("point")]
