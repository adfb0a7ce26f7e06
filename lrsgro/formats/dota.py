"""DOTA text labels (v1.0, v1.5, v2.0).

Source: DOTA, "A Large-scale Dataset for Object Detection in Aerial Images" (Xia et al., CVPR
2018; v1.5 and v2.0 by Ding et al., TPAMI 2021), https://captain-whu.github.io/DOTA/.
Licence: images and labels for academic use only.

Format: one file per image, named like the image (``P0706.txt`` for ``P0706.png``). Optional
header lines ``imagesource:GoogleEarth`` and ``gsd:0.2556`` (metres per pixel, or ``null``)
come first in v1.0; v1.5 and v2.0 files often have none. Each object is one line::

    x1 y1 x2 y2 x3 y3 x4 y4 class difficult

with the four corners of an oriented box in full-resolution pixels (floats in v1.5+), the class
with hyphens (``small-vehicle``), and ``difficult`` 0 or 1 (missing in some derived files,
read as 0). Classes: 15 in v1.0; v1.5 adds container-crane; v2.0 adds airport and helipad.
GSD ranges from about 0.1 to 4.5 m/px. Files may start with a UTF-8 byte-order mark and use
CRLF line ends.
"""

from __future__ import annotations

import re
from pathlib import Path

from lrsgro.formats.base import ReadContext, add_polygon, read_text, resolve_class
from lrsgro.objects import ImageLabels, ReadIssue

NAME = "dota"
DESCRIPTION = "DOTA v1.0/v1.5/v2.0 text: 8 coordinates, class, difficult per line"

_HEADER = re.compile(r"^(imagesource|gsd)\s*:\s*(.*)$", re.IGNORECASE)
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")


def sniff(path: Path, head: str) -> int:
    """Score a file: DOTA lines start with eight numbers followed by a class name."""
    lines = [line.strip() for line in head.lstrip("\ufeff").splitlines() if line.strip()]
    if not lines:
        return 10 if path.suffix.lower() == ".txt" else 0

    score = 0
    for line in lines[:10]:
        if _HEADER.match(line):
            score = max(score, 90)
            continue
        parts = line.split()
        if len(parts) in (9, 10) and all(_NUMBER.match(p) for p in parts[:8]) and not _NUMBER.match(parts[8]):
            score = max(score, 80)
    return score


def read(path: Path, context: ReadContext) -> list[ImageLabels]:
    """Read one DOTA label file."""
    labels = ImageLabels(image_id=path.stem, source=str(path), format=NAME)

    for number, raw_line in enumerate(read_text(path).split("\n"), start=1):
        line = raw_line.strip()
        if not line:
            continue

        header = _HEADER.match(line)
        if header:
            _read_header(labels, header.group(1).lower(), header.group(2).strip(), number)
            continue

        _read_object(labels, context, line, number)

    return [labels]


def _read_header(labels: ImageLabels, key: str, value: str, line: int) -> None:
    if key == "imagesource":
        labels.image_source = value or None
        return

    if value.lower() in ("", "null", "none", "nan"):
        labels.gsd = None
        return
    try:
        gsd = float(value)
    except ValueError:
        labels.issues.append(ReadIssue("warning", "gsd is not a number; ignored", labels.source, line, value))
        return
    if gsd <= 0:
        labels.issues.append(ReadIssue("warning", "gsd must be positive; ignored", labels.source, line, value))
        return
    labels.gsd = gsd


def _read_object(labels: ImageLabels, context: ReadContext, line: str, number: int) -> None:
    parts = line.split()
    numbers: list[float] = []
    for part in parts:
        if not _NUMBER.match(part):
            break
        numbers.append(float(part))

    if len(numbers) != 8 or len(parts) not in (9, 10):
        labels.issues.append(
            ReadIssue(
                "error",
                f"expected 8 coordinates, a class and a difficult flag, found {len(numbers)} numbers "
                f"and {len(parts)} fields",
                labels.source,
                number,
                line,
            )
        )
        labels.dropped += 1
        return

    difficult = False
    if len(parts) == 10:
        if parts[9] not in ("0", "1"):
            labels.issues.append(
                ReadIssue("error", "difficult flag must be 0 or 1", labels.source, number, parts[9])
            )
            labels.dropped += 1
            return
        difficult = parts[9] == "1"

    category = resolve_class(parts[8], labels, context, number)
    if category is None:
        return

    points = [(numbers[i], numbers[i + 1]) for i in range(0, 8, 2)]
    add_polygon(labels, context, points, category, number, difficult=difficult)
