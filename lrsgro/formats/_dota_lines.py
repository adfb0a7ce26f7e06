"""The line format DOTA and STAR share: ``x1 y1 x2 y2 x3 y3 x4 y4 class [difficult]``.

Header lines ``imagesource:...`` and ``gsd:...`` may appear anywhere (devkit tools that merge
files leave them in the middle). A class name may contain spaces (files converted from
FAIR1M write ``Small Car``); the difficult flag, when present, is the last field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lrsgro.formats.base import (
    ReadContext,
    add_polygon,
    context_for_image,
    pairs,
    read_text,
    record_error,
    record_warning,
    resolve_class,
    resolve_fine_class,
)
from lrsgro.objects import ImageLabels

HEADER = re.compile(r"^(imagesource|gsd)\s*:\s*(.*)$", re.IGNORECASE)
NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")

_MISSING_GSD = ("", "null", "none", "nan")


@dataclass
class HeadSummary:
    """Summary of a file's first lines: whether a header line appears, and the class names of object lines."""

    header: bool
    names: list[str]
    other_lines: int


def summarise_head(head: str, max_lines: int = 50) -> HeadSummary:
    """Collect the header flag and class names of the first object lines of ``head``."""
    header = False
    names: list[str] = []
    other = 0
    lines = [line.strip() for line in head.lstrip("\ufeff").splitlines() if line.strip()]
    for line in lines[:max_lines]:
        if HEADER.match(line):
            header = True
            continue
        parsed = split_object_line(line)
        if parsed is None:
            other += 1
        else:
            names.append(parsed[1])
    return HeadSummary(header, names, other)


def split_object_line(line: str) -> tuple[list[float], str, str | None] | None:
    """Split an object line into (8 coordinates, class name, difficult field or None).

    Returns None when the line does not start with exactly eight numbers and a name.
    """
    parts = line.split()
    if len(parts) < 9:
        return None
    if not all(NUMBER.match(part) for part in parts[:8]) or NUMBER.match(parts[8]):
        return None

    numbers = [float(part) for part in parts[:8]]
    rest = parts[8:]
    difficult = None
    if len(rest) > 1 and NUMBER.match(rest[-1]):
        difficult = rest[-1]
        rest = rest[:-1]
    return numbers, " ".join(rest), difficult


def read_lines(path: Path, context: ReadContext, format_name: str, *, fine_grained: bool) -> list[ImageLabels]:
    """Read one DOTA-style label file into one ``ImageLabels``.

    ``fine_grained`` selects how class names resolve: as (parent, fine class) for STAR, or as
    the class itself for DOTA.
    """
    labels = ImageLabels(image_id=path.stem, source=str(path), format=format_name)
    context = context_for_image(context, labels, None)
    resolve: Callable[..., tuple[str, str | None] | None] = _resolve_fine if fine_grained else _resolve_coarse

    for number, raw_line in enumerate(read_text(path).split("\n"), start=1):
        line = raw_line.strip()
        if not line:
            continue

        header = HEADER.match(line)
        if header:
            _read_header(labels, header.group(1).lower(), header.group(2).strip(), number)
            continue

        _read_object(labels, context, line, number, resolve)

    return [labels]


def _read_header(labels: ImageLabels, key: str, value: str, line: int) -> None:
    if key == "imagesource":
        labels.image_source = value or None
        return

    if value.lower() in _MISSING_GSD:
        labels.gsd = None
        return
    try:
        gsd = float(value)
    except ValueError:
        record_warning(labels, "gsd is not a number; ignored", line, value)
        return
    if gsd <= 0:
        record_warning(labels, "gsd must be positive; ignored", line, value)
        return
    labels.gsd = gsd


def _read_object(
    labels: ImageLabels,
    context: ReadContext,
    line: str,
    number: int,
    resolve: Callable[..., tuple[str, str | None] | None],
) -> None:
    parsed = split_object_line(line)
    if parsed is None:
        count = sum(1 for part in line.split()[:8] if NUMBER.match(part))
        record_error(
            labels,
            f"expected 8 coordinates, a class and a difficult flag, found {count} leading numbers "
            f"in {len(line.split())} fields",
            number,
            line,
        )
        return

    numbers, name, difficult_field = parsed
    if difficult_field is not None and difficult_field not in ("0", "1"):
        record_error(labels, "difficult flag must be 0 or 1", number, difficult_field)
        return

    resolved = resolve(name, labels, context, number)
    if resolved is None:
        return

    category, fine_category = resolved
    add_polygon(
        labels,
        context,
        pairs(numbers),
        category,
        number,
        difficult=difficult_field == "1",
        fine_category=fine_category,
    )


def _resolve_coarse(name: str, labels: ImageLabels, context: ReadContext, line: int) -> tuple[str, None] | None:
    category = resolve_class(name, labels, context, line)
    return None if category is None else (category, None)


def _resolve_fine(name: str, labels: ImageLabels, context: ReadContext, line: int) -> tuple[str, str | None] | None:
    return resolve_fine_class(name, labels, context, line)
