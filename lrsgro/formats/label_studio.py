"""Label Studio JSON exports (RectangleLabels with rotation, PolygonLabels).

Source: Label Studio (HumanSignal), export type ``JSON``,
https://labelstud.io/guide/export#Label-Studio-JSON-format-of-annotated-tasks. Licence: that
of the labels.

Format: a list of tasks (or one task object). Each task has ``data`` (``data.image`` is the
image URL; lrsgro's own review tasks also carry ``data.image_size`` = [width, height] of the
full-resolution image) and ``annotations``, each with a ``result`` list and
``was_cancelled``. Each region result has ``type``, ``original_width``, ``original_height``
and ``value``:

* ``rectanglelabels``: ``x`` and ``width`` in percent of the image width, ``y`` and
  ``height`` in percent of its height, and ``rotation`` in degrees clockwise around the
  rectangle's top-left corner (``x``, ``y``). A missing ``rotation`` is 0. The reader scales
  to pixels first and rotates in pixel space, so a rotated box on a non-square image stays
  a rectangle.
* ``polygonlabels``: ``points`` as ``[[x%, y%], ...]``.
* ``rectangle`` and ``polygon`` take their class from a ``labels`` result with the same id.

Other result types (choices, textarea, keypoints, brushes) carry no region and are skipped
and counted in ``metadata["skipped_results"]``, with a warning. The image size for the
percent conversion is ``data.image_size`` when present, else the result's
``original_width``/``original_height``, else ``ReadContext.image_size``.

Which annotation: the one marked ``ground_truth``, else the last one not cancelled. Other
annotations of the same task are ignored with a warning; a task without annotations falls
back to its last prediction that carries a result. One ``ImageLabels`` per task, named after
the image file in ``data.image`` (``/data/local-files/?d=uhr/scene_001.png`` is
``scene_001``). Classes are coarse classes. Result indices (1-based within the task) stand in
for line numbers in issues.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from lrsgro.errors import LabelFormatError
from lrsgro.formats.base import (
    ReadContext,
    add_polygon,
    context_for_image,
    parse_json,
    record_error,
    record_warning,
    resolve_class,
)
from lrsgro.objects import ImageLabels, Point

NAME = "label_studio"
DESCRIPTION = "Label Studio JSON export: rotated RectangleLabels and PolygonLabels in percent"

_REGION_TYPES = {"rectanglelabels": "rectanglelabels", "polygonlabels": "polygonlabels", "rectangle": None, "polygon": None}
_ANNOTATIONS = re.compile(r'"(annotations|completions)"\s*:')
_RESULT = re.compile(r'"(result|from_name)"\s*:')


def sniff(path: Path, head: str) -> int:
    """Score a file: JSON tasks with ``annotations`` holding ``result`` lists."""
    text = head.lstrip("\ufeff").lstrip()
    if not text.startswith(("[", "{")):
        return 0
    if re.search(r'"images"\s*:\s*\[', text):
        return 0
    if _ANNOTATIONS.search(text) and _RESULT.search(text):
        return 90
    if '"from_name"' in text and '"to_name"' in text:
        return 80
    return 0


def read(path: Path, context: ReadContext) -> list[ImageLabels]:
    """Read one Label Studio JSON export into one ``ImageLabels`` per task."""
    data = parse_json(path)
    tasks = data if isinstance(data, list) else [data]
    if not all(isinstance(task, dict) for task in tasks):
        raise LabelFormatError("expected a list of Label Studio task objects", path=path, fix="export as JSON")

    found: list[ImageLabels] = []
    names: dict[str, int] = {}
    for position, task in enumerate(tasks, start=1):
        labels = _new_labels(task, position, path, names)
        found.append(labels)
        _read_task(labels, context, task, single_image=len(tasks) == 1)
    return found


def _new_labels(task: dict[str, Any], position: int, path: Path, names: dict[str, int]) -> ImageLabels:
    data = task.get("data") if isinstance(task.get("data"), dict) else {}
    image_name = _image_name(data.get("image")) or _image_name(task.get("file_upload"))
    image_id = Path(image_name).stem if image_name else f"task-{task.get('id', position)}"

    # Two tasks on one image would give clashing object ids; number the later ones.
    names[image_id] = names.get(image_id, 0) + 1
    if names[image_id] > 1:
        image_id = f"{image_id}-{names[image_id]}"

    labels = ImageLabels(image_id=image_id, source=str(path), format=NAME, image_name=image_name)
    if "id" in task:
        labels.metadata["task_id"] = str(task["id"])
    return labels


def _image_name(url: Any) -> str | None:
    if not isinstance(url, str) or not url.strip():
        return None
    parsed = urlparse(url)
    local = parse_qs(parsed.query).get("d")
    target = local[0] if local else unquote(parsed.path)
    name = target.rstrip("/").rsplit("/", 1)[-1]
    return name or None


def _read_task(labels: ImageLabels, context: ReadContext, task: dict[str, Any], *, single_image: bool) -> None:
    result = _choose_result(labels, task)
    if result is None:
        return

    data = task.get("data") if isinstance(task.get("data"), dict) else {}
    task_size = _size_pair(data.get("image_size"))
    class_of = _labels_by_id(result)
    skipped: dict[str, int] = {}
    contexts: dict[tuple[int, int] | None, ReadContext] = {}

    for index, item in enumerate(result, start=1):
        if not isinstance(item, dict):
            record_error(labels, "result entry is not an object", index, item)
            continue
        kind = str(item.get("type", "")).lower()
        if kind == "labels":
            continue  # read by _labels_by_id as the class of a rectangle or polygon
        if kind not in _REGION_TYPES:
            skipped[kind or "untyped"] = skipped.get(kind or "untyped", 0) + 1
            continue

        size = task_size or _size_pair([item.get("original_width"), item.get("original_height")])
        if size not in contexts:
            contexts[size] = context_for_image(context, labels, size, single_image=single_image)
        _read_region(labels, contexts[size], item, kind, index, class_of)

    if skipped:
        labels.metadata["skipped_results"] = ", ".join(f"{kind}={count}" for kind, count in sorted(skipped.items()))
        record_warning(
            labels,
            "results without a region skipped: " + labels.metadata["skipped_results"],
        )


def _choose_result(labels: ImageLabels, task: dict[str, Any]) -> list[Any] | None:
    annotations = task.get("annotations", task.get("completions")) or []
    if not isinstance(annotations, list):
        record_error(labels, "'annotations' must be a list", None, annotations)
        return None
    usable = [a for a in annotations if isinstance(a, dict) and not a.get("was_cancelled")]

    if usable:
        chosen = next((a for a in usable if a.get("ground_truth")), usable[-1])
        if len(usable) > 1:
            record_warning(
                labels,
                f"task has {len(usable)} annotations; read annotation {chosen.get('id')} and ignored the others",
            )
        labels.metadata["annotation_id"] = str(chosen.get("id"))
        result = chosen.get("result") or []
    else:
        predictions = [p for p in task.get("predictions") or [] if isinstance(p, dict) and p.get("result")]
        if not predictions:
            return None
        chosen = predictions[-1]
        record_warning(labels, "task has no annotation; read its last prediction", None, chosen.get("model_version"))
        labels.metadata["prediction_id"] = str(chosen.get("id"))
        result = chosen["result"]

    if not isinstance(result, list):
        record_error(labels, "'result' must be a list", None, result)
        return None
    return result


def _labels_by_id(result: list[Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for item in result:
        if isinstance(item, dict) and str(item.get("type", "")).lower() == "labels":
            value = item.get("value") if isinstance(item.get("value"), dict) else {}
            if isinstance(value.get("labels"), list) and "id" in item:
                found[str(item["id"])] = [str(name) for name in value["labels"]]
    return found


def _read_region(
    labels: ImageLabels,
    context: ReadContext,
    item: dict[str, Any],
    kind: str,
    index: int,
    class_of: dict[str, list[str]],
) -> None:
    value = item.get("value")
    if not isinstance(value, dict):
        record_error(labels, "result has no value object", index, item.get("id"))
        return
    if context.image_size is None:
        record_error(
            labels,
            "image size unknown: the result has no original_width/original_height",
            index,
            item.get("id"),
        )
        return
    rotation_of_image = item.get("image_rotation") or 0
    if rotation_of_image:
        record_error(labels, "results on a rotated image view are not supported", index, rotation_of_image)
        return

    label_key = _REGION_TYPES[kind]
    names = value.get(label_key) if label_key else class_of.get(str(item.get("id")))
    if not isinstance(names, list) or not names:
        record_error(labels, "region has no label", index, item.get("id"))
        return
    if len(names) > 1:
        record_warning(labels, f"region has {len(names)} labels; used the first", index, names)
    category = resolve_class(str(names[0]), labels, context, index)
    if category is None:
        return

    width, height = context.image_size
    try:
        if kind.startswith("rectangle"):
            points = rectangle_corners(value, width, height)
        else:
            points = [(float(x) / 100.0 * width, float(y) / 100.0 * height) for x, y in value.get("points")]
    except (TypeError, ValueError, KeyError) as error:
        record_error(labels, f"region coordinates are invalid: {error}", index, value)
        return

    attributes = {"result_id": str(item.get("id"))}
    add_polygon(labels, context, points, category, index, attributes=attributes)


def rectangle_corners(value: dict[str, Any], width: int, height: int) -> list[Point]:
    """Return the pixel corners of a Label Studio rectangle, clockwise from its top-left.

    ``x`` and ``width`` are percent of the image width, and ``y`` and ``height`` percent of
    its height. ``rotation`` (degrees, clockwise on screen, default 0) turns the rectangle
    around its top-left corner. Scaling happens before rotating, because rotating percent
    values would shear the box on a non-square image.
    """
    left = float(value["x"]) / 100.0 * width
    top = float(value["y"]) / 100.0 * height
    box_width = float(value["width"]) / 100.0 * width
    box_height = float(value["height"]) / 100.0 * height
    angle = math.radians(float(value.get("rotation") or 0.0))

    cos, sin = math.cos(angle), math.sin(angle)
    corners = [(0.0, 0.0), (box_width, 0.0), (box_width, box_height), (0.0, box_height)]
    # With y pointing down, this standard rotation turns clockwise on screen.
    return [(left + dx * cos - dy * sin, top + dx * sin + dy * cos) for dx, dy in corners]


def _size_pair(value: Any) -> tuple[int, int] | None:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return None
    try:
        width, height = int(float(value[0])), int(float(value[1]))
    except (TypeError, ValueError):
        return None
    return (width, height) if width > 0 and height > 0 else None
