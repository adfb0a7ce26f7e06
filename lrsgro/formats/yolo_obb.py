"""Ultralytics YOLO-OBB text labels with their class-name file.

Source: Ultralytics oriented-box dataset format, https://docs.ultralytics.com/datasets/obb/
(used by DOTA-v1.0/v1.5/v2.0 conversions such as ``DOTAv1.yaml`` and the ``dota8`` sample).
Licence: that of the labels.

Format: one file per image (``labels/train/P0000.txt`` for ``images/train/P0000.png``), one
object per line::

    class_index x1 y1 x2 y2 x3 y3 x4 y4

with the four corners normalised to 0..1 by the image width (x) and height (y). Lines of
five numbers, ``class_index cx cy w h`` (the axis-aligned YOLO detection format), are read
too. An empty file is an image without objects.

Class names: ``class_index`` is an index into ``names`` of the dataset YAML (a mapping
``0: plane`` or a list) or into the lines of ``classes.txt``. The reader uses
``ReadContext.names_file`` when set. Otherwise it looks for ``data.yaml``, ``dataset.yaml``,
``classes.txt`` or any other ``*.yaml`` with ``names:`` beside the label file. It then looks
in the parent and grandparent folders, where the ``labels/<split>/`` layout keeps the
dataset YAML. Classes are coarse classes.

Pixels: converting needs the image size. It comes from ``ReadContext.image_size`` (the
``--image`` option); otherwise the reader looks for the image itself, named like the label
file, beside it or under the ``images`` folder that mirrors ``labels``, and reads its header.
Without a size the file is rejected with the fix.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from lrsgro.errors import ImageError, LabelFormatError
from lrsgro.formats.base import (
    ReadContext,
    add_polygon,
    box_points,
    context_for_image,
    read_image_header,
    read_text,
    record_error,
    resolve_class,
)
from lrsgro.objects import ImageLabels

NAME = "yolo_obb"
DESCRIPTION = "Ultralytics YOLO-OBB text: class index and 4 normalised corners per line"

_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
_NAMES_FILES = ("data.yaml", "dataset.yaml", "classes.txt")
_IMAGE_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp", ".webp")
# Corners may sit slightly outside 0..1 (objects cut by the image edge); the reader clips them.
_NORMALISED_SLACK = 0.1


def sniff(path: Path, head: str) -> int:
    """Score a file: lines of an integer class index and 8 (or 4) numbers in about 0..1."""
    lines = [line.split() for line in head.lstrip("\ufeff").splitlines() if line.strip()]
    if not lines:
        return 0

    obb = box = other = 0
    for parts in lines[:50]:
        kind = _line_kind(parts)
        if kind == 9:
            obb += 1
        elif kind == 5:
            box += 1
        else:
            other += 1
    if obb + box <= other:
        return 0
    return 85 if obb >= box else 60


def read(path: Path, context: ReadContext) -> list[ImageLabels]:
    """Read one YOLO-OBB label file.

    Raises:
        LabelFormatError: when no class-name file is found or the image size is unknown.
    """
    labels = ImageLabels(image_id=path.stem, source=str(path), format=NAME)
    text = read_text(path)
    lines = text.split("\n")
    if not any(line.strip() for line in lines):
        return [labels]

    names_path = context.names_file or _find_names_file(path)
    if names_path is None:
        raise LabelFormatError(
            "no class-name file found beside the labels or in the two folders above",
            path=path,
            fix="put data.yaml (with names:) or classes.txt beside the labels, or pass --names FILE",
        )
    names = load_names(Path(names_path))
    labels.metadata["names_file"] = str(names_path)

    size = context.image_size or _find_image_size(path)
    if size is None:
        raise LabelFormatError(
            "YOLO coordinates are normalised and the image size is unknown",
            path=path,
            fix="pass the image with --image so its width and height convert the coordinates to pixels",
        )
    context = context_for_image(context, labels, size)
    width, height = size

    for number, raw_line in enumerate(lines, start=1):
        line = raw_line.strip()
        if line:
            _read_line(labels, context, names, line, number, width, height)

    return [labels]


def load_names(path: Path) -> dict[int, str]:
    """Read class names by index from a dataset YAML (``names:``) or a ``classes.txt``.

    Raises:
        LabelFormatError: when the file cannot be read or contains no names.
    """
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        raise LabelFormatError("class-name file not found", path=path, fix="check the --names path") from None
    return dict(_load_names_cached(path, stamp))


def _read_line(
    labels: ImageLabels,
    context: ReadContext,
    names: dict[int, str],
    line: str,
    number: int,
    width: int,
    height: int,
) -> None:
    parts = line.split()
    if len(parts) not in (5, 9) or not all(_NUMBER.match(part) for part in parts):
        record_error(labels, "expected a class index and 8 (or 4) normalised numbers", number, line)
        return
    if not parts[0].isdigit():
        record_error(labels, "class index must be a whole number", number, parts[0])
        return

    index = int(parts[0])
    name = names.get(index)
    if name is None:
        record_error(labels, f"class index is not in the names file (0..{max(names, default=-1)})", number, parts[0])
        return
    category = resolve_class(name, labels, context, number)
    if category is None:
        return

    values = [float(part) for part in parts[1:]]
    if len(values) == 8:
        points = [(values[i] * width, values[i + 1] * height) for i in range(0, 8, 2)]
    else:
        cx, cy, w, h = values[0] * width, values[1] * height, values[2] * width, values[3] * height
        points = box_points(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    add_polygon(labels, context, points, category, number, attributes={"class_index": parts[0]})


def _line_kind(parts: list[str]) -> int:
    """Return 9 or 5 for a YOLO-OBB or YOLO box line, 0 for anything else."""
    if len(parts) not in (5, 9) or not parts[0].isdigit():
        return 0
    if not all(_NUMBER.match(part) for part in parts[1:]):
        return 0
    if not all(-_NORMALISED_SLACK <= float(part) <= 1 + _NORMALISED_SLACK for part in parts[1:]):
        return 0
    return len(parts)


def _find_names_file(path: Path) -> Path | None:
    folder = path.resolve().parent
    for candidate_folder in (folder, folder.parent, folder.parent.parent):
        for name in _NAMES_FILES:
            candidate = candidate_folder / name
            if candidate.is_file():
                return candidate
        for candidate in sorted(candidate_folder.glob("*.yaml")) + sorted(candidate_folder.glob("*.yml")):
            if _has_names(candidate):
                return candidate
    return None


def _has_names(path: Path) -> bool:
    try:
        with path.open("r", encoding="utf-8", errors="replace") as handle:
            return any(line.startswith("names:") for line in handle.read(64 * 1024).splitlines())
    except OSError:
        return False


@lru_cache(maxsize=32)
def _load_names_cached(path: Path, stamp: int) -> tuple[tuple[int, str], ...]:
    text = read_text(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            data: Any = yaml.safe_load(text) or {}
        except yaml.YAMLError as error:
            raise LabelFormatError(f"invalid YAML: {error}", path=path, fix="check the names file") from None
        raw = data.get("names") if isinstance(data, dict) else None
        if isinstance(raw, dict):
            items = []
            for key, value in raw.items():
                try:
                    items.append((int(key), str(value)))
                except (TypeError, ValueError):
                    raise LabelFormatError(
                        "names keys must be class indices", path=path, fix="write names as 0: plane"
                    ) from None
        elif isinstance(raw, list):
            items = [(i, str(value)) for i, value in enumerate(raw)]
        else:
            raise LabelFormatError("YAML file has no names: mapping or list", path=path, fix="add names:")
    else:
        items = [(i, line.strip()) for i, line in enumerate(line for line in text.split("\n") if line.strip())]

    if not items:
        raise LabelFormatError("names file contains no class names", path=path, fix="add the class names")
    return tuple(items)


def _find_image_size(path: Path) -> tuple[int, int] | None:
    folder = path.resolve().parent
    folders = [folder]
    parts = list(folder.parts)
    if "labels" in parts:
        position = len(parts) - 1 - parts[::-1].index("labels")
        folders.append(Path(*parts[:position], "images", *parts[position + 1 :]))

    for candidate_folder in folders:
        for suffix in _IMAGE_SUFFIXES:
            candidate = candidate_folder / (path.stem + suffix)
            if candidate.is_file():
                try:
                    header = read_image_header(candidate)
                except ImageError:
                    continue
                return header.width, header.height
    return None
