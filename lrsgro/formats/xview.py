"""xView labels (one GeoJSON file for many images, pixel boxes in ``bounds_imcoords``).

Source: xView, "xView: Objects in Context in Overhead Imagery" (Lam et al., arXiv:1802.07856,
2018), https://xviewdataset.org. Licence: CC BY-NC-SA 4.0. Imagery: WorldView-3, about
0.3 m/px, images of about 3000x3000 px.

Format: ``xView_train.geojson`` is one FeatureCollection for all images. Each feature's
properties carry

* ``image_id``: the image file (``2355.tif``); the reader groups features by it into one
  ``ImageLabels`` per image, in order of first appearance;
* ``bounds_imcoords``: ``"xmin,ymin,xmax,ymax"`` in full-resolution pixels of that image, or
  eight numbers (four corners of an oriented box) in derived files such as the Dacon/SI
  Analytics contest data;
* ``type_id``: one of the 60 class ids of ``XVIEW_CLASSES``. Derived files add ``type_name``, and then the
  reader takes the class from it, because their ids follow another table;
* ``feature_id``, ``cat_id``, ``edited_by`` and others, kept as attributes where short.

The geometry is the same box in lon/lat (EPSG:4326); the reader uses the pixel box. The
original release has features with ids outside the 60 classes (75 and 82, among others);
they are recorded as unknown-class errors and dropped.

Classes are fine-grained: xView's 60 names resolve through the vocabulary, and a class with a
parent there becomes the object's ``fine_category`` under the parent as ``category`` (Small
Car is fine class small car of category vehicle; Tugboat of ship; Shed of building). xView's
own parent classes Fixed-wing Aircraft, Maritime Vessel and Building resolve to the coarse
classes plane, ship and building.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lrsgro.errors import LabelFormatError
from lrsgro.formats.base import (
    ReadContext,
    add_polygon,
    box_points,
    context_for_image,
    pairs,
    parse_json,
    record_error,
    resolve_fine_class,
)
from lrsgro.objects import ImageLabels

NAME = "xview"
DESCRIPTION = "xView GeoJSON: bounds_imcoords and type_id per feature, many images per file"

# The 60 xView classes by type_id, spelled as in xview_class_labels.txt of the xView release.
XVIEW_CLASSES: dict[int, str] = {
    11: "Fixed-wing Aircraft", 12: "Small Aircraft", 13: "Cargo Plane", 15: "Helicopter",
    17: "Passenger Vehicle", 18: "Small Car", 19: "Bus", 20: "Pickup Truck", 21: "Utility Truck",
    23: "Truck", 24: "Cargo Truck", 25: "Truck w/Box", 26: "Truck Tractor", 27: "Trailer",
    28: "Truck w/Flatbed", 29: "Truck w/Liquid", 32: "Crane Truck", 33: "Railway Vehicle",
    34: "Passenger Car", 35: "Cargo Car", 36: "Flat Car", 37: "Tank car", 38: "Locomotive",
    40: "Maritime Vessel", 41: "Motorboat", 42: "Sailboat", 44: "Tugboat", 45: "Barge",
    47: "Fishing Vessel", 49: "Ferry", 50: "Yacht", 51: "Container Ship", 52: "Oil Tanker",
    53: "Engineering Vehicle", 54: "Tower crane", 55: "Container Crane", 56: "Reach Stacker",
    57: "Straddle Carrier", 59: "Mobile Crane", 60: "Dump Truck", 61: "Haul Truck",
    62: "Scraper/Tractor", 63: "Front loader/Bulldozer", 64: "Excavator", 65: "Cement Mixer",
    66: "Ground Grader", 71: "Hut/Tent", 72: "Shed", 73: "Building", 74: "Aircraft Hangar",
    76: "Damaged Building", 77: "Facility", 79: "Construction Site", 83: "Vehicle Lot",
    84: "Helipad", 86: "Storage Tank", 89: "Shipping container lot", 91: "Shipping Container",
    93: "Pylon", 94: "Tower",
}  # fmt: skip

_KEPT_PROPERTIES = ("feature_id", "cat_id", "type_id", "type_name", "ingest_time")
_FEATURE_START = re.compile(r'"type"\s*:\s*"Feature"')


def sniff(path: Path, head: str) -> int:
    """Score a file: GeoJSON features whose properties hold ``bounds_imcoords``."""
    if '"bounds_imcoords"' in head:
        return 95
    if '"type_id"' in head and '"image_id"' in head and _FEATURE_START.search(head):
        return 70
    return 0


def read(path: Path, context: ReadContext) -> list[ImageLabels]:
    """Read one xView GeoJSON file into one ``ImageLabels`` per ``image_id``."""
    data = parse_json(path)
    features = _features(data, path)

    groups: dict[str, ImageLabels] = {}
    contexts: dict[str, ReadContext] = {}
    for index, feature in enumerate(features, start=1):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(properties, dict):
            labels = _group(groups, contexts, path, context, path.stem, None)
            record_error(labels, "feature has no properties object", index, feature)
            continue

        image_name = str(properties.get("image_id") or "").strip()
        labels = _group(groups, contexts, path, context, Path(image_name).stem or path.stem, image_name or None)
        if not image_name:
            record_error(labels, "feature has no image_id; cannot tell which image it belongs to", index)
            continue
        _read_feature(labels, contexts[labels.image_id], properties, index)

    return list(groups.values())


def _features(data: Any, path: Path) -> list[Any]:
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features")
    elif isinstance(data, dict) and data.get("type") == "Feature":
        features = [data]
    elif isinstance(data, dict) and isinstance(data.get("features"), list):
        features = data["features"]
    else:
        features = None
    if not isinstance(features, list):
        raise LabelFormatError(
            "expected a GeoJSON FeatureCollection with a 'features' list",
            path=path,
            fix="pass the xView GeoJSON file, or choose another --format",
        )
    return features


def _group(
    groups: dict[str, ImageLabels],
    contexts: dict[str, ReadContext],
    path: Path,
    context: ReadContext,
    image_id: str,
    image_name: str | None,
) -> ImageLabels:
    labels = groups.get(image_id)
    if labels is None:
        labels = ImageLabels(image_id=image_id, source=str(path), format=NAME, image_name=image_name)
        groups[image_id] = labels
        contexts[image_id] = context_for_image(context, labels, None, single_image=False)
    return labels


def _read_feature(labels: ImageLabels, context: ReadContext, properties: dict[str, Any], index: int) -> None:
    bounds = properties.get("bounds_imcoords")
    numbers = _parse_bounds(bounds)
    if numbers is None:
        record_error(labels, "bounds_imcoords must hold 4 or 8 comma-separated numbers", index, bounds)
        return

    class_name = _class_name(labels, properties, index)
    if class_name is None:
        return
    resolved = resolve_fine_class(class_name, labels, context, index)
    if resolved is None:
        return

    points = box_points(*numbers) if len(numbers) == 4 else pairs(numbers)
    category, fine_category = resolved
    attributes = {key: _as_text(properties[key]) for key in _KEPT_PROPERTIES if key in properties}
    add_polygon(labels, context, points, category, index, fine_category=fine_category, attributes=attributes)


def _class_name(labels: ImageLabels, properties: dict[str, Any], index: int) -> str | None:
    type_name = properties.get("type_name")
    if isinstance(type_name, str) and type_name.strip():
        return type_name.strip()

    type_id = properties.get("type_id")
    try:
        number = int(float(type_id))
    except (TypeError, ValueError):
        record_error(labels, "feature has no numeric type_id", index, type_id)
        return None
    name = XVIEW_CLASSES.get(number)
    if name is None:
        record_error(labels, "type_id is not one of the 60 xView classes", index, str(type_id))
        return None
    return name


def _parse_bounds(bounds: Any) -> list[float] | None:
    if isinstance(bounds, str):
        parts = [part for part in bounds.replace(" ", "").split(",") if part]
    elif isinstance(bounds, list):
        parts = bounds
    else:
        return None
    try:
        numbers = [float(part) for part in parts]
    except (TypeError, ValueError):
        return None
    return numbers if len(numbers) in (4, 8) else None


def _as_text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)
