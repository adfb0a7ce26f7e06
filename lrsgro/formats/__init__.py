"""Label readers, one module per format, found by name.

Each module in this package that defines ``NAME``, ``sniff`` and ``read`` is a reader (see
:class:`lrsgro.formats.base.LabelReader`). ``--format auto`` asks every reader to score the
start of the file and picks the highest score.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from types import ModuleType

from lrsgro.errors import LabelFormatError
from lrsgro.formats.base import ReadContext
from lrsgro.objects import ImageLabels
from lrsgro.plugins import import_submodules

logger = logging.getLogger(__name__)

_NOT_READERS = {"base", "report"}
_SNIFF_BYTES = 64 * 1024
_LABEL_SUFFIXES = {".txt", ".xml", ".json", ".geojson", ".jsonl", ".yaml", ".yml"}


@lru_cache(maxsize=1)
def readers() -> dict[str, ModuleType]:
    """Return every reader module keyed by its ``NAME``."""
    found: dict[str, ModuleType] = {}
    for module in import_submodules(__name__, __path__, _NOT_READERS):
        if hasattr(module, "NAME") and hasattr(module, "read") and hasattr(module, "sniff"):
            found[module.NAME] = module
    return dict(sorted(found.items()))


def format_names() -> list[str]:
    """Return the ``--format`` values, ``auto`` first."""
    return ["auto", *readers()]


def detect_format(path: Path) -> tuple[str, int]:
    """Guess the format of one file from its content; return (name, score).

    Raises:
        LabelFormatError: when no reader recognises the file.
    """
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES).decode("utf-8-sig", errors="replace")

    scores = {name: module.sniff(path, head) for name, module in readers().items()}
    name, score = max(scores.items(), key=lambda item: item[1])
    if score <= 0:
        raise LabelFormatError(
            "no reader recognises this file",
            path=path,
            fix=f"pass --format with one of: {', '.join(readers())}",
        )
    logger.info("%s: guessed format %s (score %d)", path, name, score)
    return name, score


def read_labels(
    path: str | Path, format: str = "auto", context: ReadContext | None = None
) -> tuple[str, list[ImageLabels]]:
    """Read one label file; return the format used and one ``ImageLabels`` per image.

    Raises:
        LabelFormatError: when the file is missing, the format is unknown, or no reader
            recognises the file.
    """
    path = Path(path)
    if not path.is_file():
        raise LabelFormatError("label file not found", path=path, fix="check the path")

    if format == "auto":
        format, _score = detect_format(path)
    elif format not in readers():
        raise LabelFormatError(
            f"unknown label format {format!r}", path=path, fix=f"use one of: {', '.join(format_names())}"
        )

    return format, readers()[format].read(path, context or ReadContext())


def list_label_files(paths: list[str | Path]) -> list[Path]:
    """Expand folders into the label files inside them (sorted), keep files as they are.

    Raises:
        LabelFormatError: when a path does not exist or a folder contains no label files.
    """
    files: list[Path] = []
    for entry in map(Path, paths):
        if entry.is_dir():
            inside = sorted(p for p in entry.rglob("*") if p.is_file() and p.suffix.lower() in _LABEL_SUFFIXES)
            if not inside:
                raise LabelFormatError(
                    "folder contains no label files",
                    path=entry,
                    fix=f"expected files ending in {', '.join(sorted(_LABEL_SUFFIXES))}",
                )
            files.extend(inside)
        elif entry.is_file():
            files.append(entry)
        else:
            raise LabelFormatError("label path not found", path=entry, fix="check the path")
    return files
