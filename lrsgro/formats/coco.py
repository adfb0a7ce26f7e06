"""COCO instance JSON, as iSAID and many converters write it.

Sources: the COCO format is described in "Microsoft COCO: Common Objects in Context" (Lin et
al., ECCV 2014) and at https://cocodataset.org/#format-data. iSAID is "iSAID: A Large-scale
Dataset for Instance Segmentation in Aerial Images" (Waqas Zamir et al., CVPR Workshops
2019), https://captain-whu.github.io/iSAID/. It uses the DOTA v1.0 images (GSD about 0.1 to
4.5 m/px) and is licensed for academic use only.

Format: one JSON object with ``images`` (``id``, ``file_name``, ``width``, ``height``),
``categories`` (``id``, ``name``) and ``annotations`` (``image_id``, ``category_id``,
``segmentation``, ``bbox`` as ``[x, y, width, height]``, ``iscrowd``). Coordinates are pixels
with (0, 0) at the top-left corner of the top-left pixel. One file holds many images; the
reader returns one ``ImageLabels`` per image, including images without annotations.

* ``segmentation`` as a list of flat polygons ``[x1, y1, x2, y2, ...]`` gives the object's
  outline; an object in several parts keeps its largest part, with a warning.
* ``segmentation`` as run-length encoding (``{"counts": ..., "size": ...}``, used for crowd
  regions) is not decoded: the ``bbox`` stands in, with a warning.
* No segmentation: the ``bbox`` is the object.

Category ids are local to a file: iSAID's full-image and patch files number the same class
differently (Small_Vehicle is 3 in one and 9 in another), so ids are mapped to classes by
their ``name`` in each file's own ``categories`` table, never by a fixed id table. iSAID's 15
classes (``Small_Vehicle``, ``storage_tank``, ``Ground_Track_Field`` ...) are the DOTA v1.0
classes in other spellings; they are coarse classes.
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
    record_warning,
    resolve_class,
    ring_area,
)
from lrsgro.objects import ImageLabels, Point

NAME = "coco"
DESCRIPTION = "COCO / iSAID instance JSON: segmentation polygons or bbox, many images per file"

_IMAGES = re.compile(r'"images"\s*:\s*\[')
_ANNOTATIONS = re.compile(r'"annotations"\s*:\s*\[')
_CATEGORIES = re.compile(r'"categories"\s*:\s*\[')


def sniff(path: Path, head: str) -> int:
    """Score a file: a JSON object with ``images`` and ``annotations`` or ``categories`` lists."""
    text = head.lstrip("\ufeff").lstrip()
    if not text.startswith("{"):
        return 0
    if _IMAGES.search(text) and (_ANNOTATIONS.search(text) or _CATEGORIES.search(text)):
        return 90
    if _IMAGES.search(text) and '"file_name"' in text:
        return 70
    if _CATEGORIES.search(text) and '"name"' in text and '"features"' not in text:
        return 50
    return 0


def read(path: Path, context: ReadContext) -> list[ImageLabels]:
    """Read one COCO JSON file into one ``ImageLabels`` per image."""
    data = parse_json(path)
    if not isinstance(data, dict):
        raise LabelFormatError("expected a JSON object with images, annotations and categories", path=path)

    categories = _category_names(data.get("categories"), path)
    images: dict[Any, ImageLabels] = {}
    contexts: dict[Any, ReadContext] = {}
    for record in _list(data, "images", path):
        _add_image(images, contexts, record, path, context)

    for index, annotation in enumerate(_list(data, "annotations", path), start=1):
        if not isinstance(annotation, dict):
            labels = _orphan(images, contexts, None, path, context)
            record_error(labels, "annotation is not an object", index, annotation)
            continue

        image_key = annotation.get("image_id")
        labels = images.get(image_key) if isinstance(image_key, (int, str)) else None
        if labels is None:
            labels = _orphan(images, contexts, image_key, path, context)
            record_error(labels, "annotation refers to an image id missing from 'images'", index, image_key)
            continue
        _read_annotation(labels, contexts[image_key], annotation, categories, index)

    return list(images.values())


def _category_names(categories: Any, path: Path) -> dict[Any, str]:
    if categories is None:
        return {}
    if not isinstance(categories, list):
        raise LabelFormatError("'categories' must be a list", path=path)
    names: dict[Any, str] = {}
    for entry in categories:
        if isinstance(entry, dict) and isinstance(entry.get("id"), (int, str)) and isinstance(entry.get("name"), str):
            names[entry["id"]] = entry["name"]
    return names


def _list(data: dict[str, Any], key: str, path: Path) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise LabelFormatError(f"{key!r} must be a list", path=path)
    return value


def _add_image(
    images: dict[Any, ImageLabels],
    contexts: dict[Any, ReadContext],
    record: Any,
    path: Path,
    context: ReadContext,
) -> None:
    if not isinstance(record, dict) or not isinstance(record.get("id"), (int, str)):
        labels = _orphan(images, contexts, None, path, context)
        record_warning(labels, "image entry without a number or text id; ignored", None, record)
        return

    file_name = str(record.get("file_name") or "").strip() or None
    image_id = Path(file_name).stem if file_name else f"image-{record['id']}"
    labels = ImageLabels(image_id=image_id, source=str(path), format=NAME, image_name=file_name)
    labels.metadata["coco_image_id"] = str(record["id"])
    size = None
    if isinstance(record.get("width"), (int, float)) and isinstance(record.get("height"), (int, float)):
        size = (int(record["width"]), int(record["height"]))
    images[record["id"]] = labels
    contexts[record["id"]] = context_for_image(context, labels, size, single_image=False)


def _orphan(
    images: dict[Any, ImageLabels],
    contexts: dict[Any, ReadContext],
    image_key: Any,
    path: Path,
    context: ReadContext,
) -> ImageLabels:
    """Return the ``ImageLabels`` that collects records of an unknown image."""
    key = ("missing", str(image_key))
    if key not in images:
        images[key] = ImageLabels(
            image_id=f"{path.stem}-unknown-image-{image_key}", source=str(path), format=NAME
        )
        contexts[key] = context
    return images[key]


def _read_annotation(
    labels: ImageLabels,
    context: ReadContext,
    annotation: dict[str, Any],
    categories: dict[Any, str],
    index: int,
) -> None:
    category_id = annotation.get("category_id")
    name = categories.get(category_id) if isinstance(category_id, (int, str)) else None
    if name is None:
        record_error(labels, "category_id is not in this file's 'categories'", index, category_id)
        return

    own_name = annotation.get("category_name")
    if isinstance(own_name, str) and own_name != name:
        record_warning(
            labels, f"category_name disagrees with categories table ({name!r}); using the table", index, own_name
        )

    points = _read_shape(labels, annotation, index)
    if points is None:
        return

    category = resolve_class(name, labels, context, index)
    if category is None:
        return

    attributes = {"coco_id": str(annotation.get("id"))}
    if annotation.get("iscrowd"):
        attributes["iscrowd"] = "1"
    add_polygon(labels, context, points, category, index, attributes=attributes)


def _read_shape(labels: ImageLabels, annotation: dict[str, Any], index: int) -> list[Point] | None:
    segmentation = annotation.get("segmentation")

    if isinstance(segmentation, list) and segmentation:
        parts = [part for part in segmentation if isinstance(part, list)]
        polygons = []
        for part in parts:
            try:
                numbers = [float(value) for value in part]
            except (TypeError, ValueError):
                record_error(labels, "segmentation polygon holds a value that is not a number", index, part)
                return None
            if len(numbers) % 2:
                record_error(labels, "segmentation polygon has an odd number of coordinates", index, part)
                return None
            polygons.append(pairs(numbers))
        if not polygons:
            record_error(labels, "segmentation must be a list of flat polygons", index, segmentation)
            return None
        if len(polygons) > 1:
            record_warning(
                labels, f"object has {len(polygons)} polygon parts; kept the largest", index, annotation.get("id")
            )
            return max(polygons, key=ring_area)
        return polygons[0]

    if isinstance(segmentation, dict):
        record_warning(labels, "run-length mask is not decoded; used the bbox", index, annotation.get("id"))

    box = annotation.get("bbox")
    try:
        x, y, width, height = (float(value) for value in box)
    except (TypeError, ValueError):
        record_error(labels, "annotation has no segmentation and no [x, y, width, height] bbox", index, box)
        return None
    return box_points(x, y, x + width, y + height)

