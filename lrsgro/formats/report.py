"""Read one label file and summarise it: format, objects, classes, warnings and errors.

This is what ``lrsgro labels inspect`` prints. A file is *rejected* when it cannot be read at
all (missing, unknown format, not parseable, no image where one is needed), or when it has
records and every one of them is invalid. Otherwise it is *read*: its invalid records are
listed as errors beside the objects that were kept.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lrsgro.errors import InputError
from lrsgro.formats import detect_format, read_labels
from lrsgro.formats.base import ReadContext
from lrsgro.objects import ImageLabels, ReadIssue

logger = logging.getLogger(__name__)

Status = Literal["read", "rejected"]


@dataclass
class LabelReport:
    """The outcome of reading one label file.

    Attributes:
        path: the label file.
        format: the reader used, or None when none could be chosen.
        guessed: whether the format was detected from the content.
        score: the detection score (0..100) when guessed.
        images: one ``ImageLabels`` per image the file describes.
        status: ``read`` or ``rejected``.
        rejection: why the file was rejected, when it was.
    """

    path: Path
    format: str | None
    guessed: bool
    score: int | None = None
    images: list[ImageLabels] = field(default_factory=list)
    status: Status = "read"
    rejection: InputError | None = None

    @property
    def objects(self) -> int:
        return sum(len(labels.objects) for labels in self.images)

    @property
    def dropped(self) -> int:
        return sum(labels.dropped for labels in self.images)

    @property
    def clipped(self) -> int:
        return sum(labels.clipped for labels in self.images)

    @property
    def classes(self) -> dict[str, int]:
        counts = Counter(obj.category for labels in self.images for obj in labels.objects)
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    @property
    def fine_classes(self) -> dict[str, int]:
        counts = Counter(
            obj.fine_category for labels in self.images for obj in labels.objects if obj.fine_category
        )
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    @property
    def warnings(self) -> list[ReadIssue]:
        return [issue for labels in self.images for issue in labels.warnings]

    @property
    def errors(self) -> list[ReadIssue]:
        return [issue for labels in self.images for issue in labels.errors]

    def to_dict(self) -> dict[str, Any]:
        """Return the report as plain JSON-ready values."""
        errors = [_issue_dict(issue) for issue in self.errors]
        if self.rejection is not None:
            errors.insert(0, _rejection_dict(self.rejection))
        return {
            "path": str(self.path),
            "status": self.status,
            "format": self.format,
            "format_guessed": self.guessed,
            "format_score": self.score,
            "objects": self.objects,
            "dropped": self.dropped,
            "clipped": self.clipped,
            "classes": self.classes,
            "fine_classes": self.fine_classes,
            "images": [_image_dict(labels) for labels in self.images],
            "warnings": [_issue_dict(issue) for issue in self.warnings],
            "errors": errors,
        }


def inspect_labels(path: str | Path, format: str = "auto", context: ReadContext | None = None) -> LabelReport:
    """Read one label file and return its report; bad input becomes a rejected report.

    Input errors (:class:`lrsgro.errors.InputError` and subclasses) do not propagate: they
    are the report's ``rejection``.
    """
    path = Path(path)
    report = LabelReport(path=path, format=None if format == "auto" else format, guessed=format == "auto")
    try:
        if format == "auto" and path.is_file():
            report.format, report.score = detect_format(path)
        report.format, report.images = read_labels(path, report.format or format, context)
    except InputError as error:
        report.status = "rejected"
        report.rejection = error
        return report

    if report.objects == 0 and report.dropped > 0:
        report.status = "rejected"
        report.rejection = InputError(
            f"every record is invalid: {report.dropped} dropped, none kept",
            path=path,
            fix="see the errors and warnings listed for each record",
        )
    return report


def _issue_dict(issue: ReadIssue) -> dict[str, Any]:
    return {
        "severity": issue.severity,
        "path": issue.path,
        "line": issue.line,
        "message": issue.message,
        "value": issue.value,
    }


def _rejection_dict(error: InputError) -> dict[str, Any]:
    return {
        "severity": "error",
        "path": error.path,
        "line": error.line,
        "message": error.reason,
        "value": None,
        "fix": error.fix,
    }


def _image_dict(labels: ImageLabels) -> dict[str, Any]:
    return {
        "image_id": labels.image_id,
        "image_name": labels.image_name,
        "objects": len(labels.objects),
        "dropped": labels.dropped,
        "clipped": labels.clipped,
        "width": labels.width,
        "height": labels.height,
        "gsd": labels.gsd,
        "image_source": labels.image_source,
        "metadata": dict(labels.metadata),
    }
