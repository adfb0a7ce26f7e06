"""DOTA text labels (v1.0, v1.5, v2.0).

Source: DOTA, "A Large-scale Dataset for Object Detection in Aerial Images" (Xia et al., CVPR
2018; v1.5 and v2.0 by Ding et al., TPAMI 2021), https://captain-whu.github.io/DOTA/.
Licence: images and labels for academic use only.

Format: one file per image, named like the image (``P0706.txt`` for ``P0706.png``). Optional
header lines ``imagesource:GoogleEarth`` and ``gsd:0.2556`` (metres per pixel, or ``null``)
come first in v1.0; v1.5 and v2.0 files often have none, and merged files can carry them in
the middle. Each object is one line::

    x1 y1 x2 y2 x3 y3 x4 y4 class difficult

with the four corners of an oriented box in full-resolution pixels (floats in v1.5+), the class
with hyphens (``small-vehicle``), and ``difficult`` 0 or 1 (missing in some derived files,
read as 0). Classes: 15 in v1.0 (the classes iSAID also uses); v1.5 adds container-crane;
v2.0 adds airport and helipad. Files converted from FAIR1M carry its fine class names, spaces
included. Classes are read as coarse classes: the category is the vocabulary class itself.
GSD ranges from about 0.1 to 4.5 m/px. Files may start with a UTF-8 byte-order mark and use
CRLF line ends.
"""

from __future__ import annotations

from pathlib import Path

from lrsgro.formats._dota_lines import read_lines, summarise_head
from lrsgro.formats.base import ReadContext
from lrsgro.objects import ImageLabels

NAME = "dota"
DESCRIPTION = "DOTA v1.0/v1.5/v2.0 text: 8 coordinates, class, difficult per line"


def sniff(path: Path, head: str) -> int:
    """Score a file: DOTA lines start with eight numbers followed by a class name."""
    summary = summarise_head(head)
    if not summary.names and not summary.header:
        if summary.other_lines == 0 and path.suffix.lower() == ".txt":
            return 10
        return 0

    if summary.header:
        return 90
    return 80 if len(summary.names) >= summary.other_lines else 40


def read(path: Path, context: ReadContext) -> list[ImageLabels]:
    """Read one DOTA label file."""
    return read_lines(path, context, NAME, fine_grained=False)
