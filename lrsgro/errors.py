"""The exceptions lrsgro raises for bad input, bad data and failed services.

Every message names what was wrong, where it came from (file and line, or record) and what
to do about it. The CLI prints these messages without a traceback.
"""

from __future__ import annotations

from pathlib import Path


class LrsgroError(Exception):
    """Base class of every error lrsgro raises on purpose."""


class InputError(LrsgroError):
    """A file, record or argument that lrsgro cannot use.

    Args:
        message: what is wrong, including the offending value.
        path: the file the value came from, when there is one.
        line: the 1-based line or record number inside ``path``.
        fix: what the user can do about it.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        fix: str | None = None,
    ) -> None:
        self.reason = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.fix = fix
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path if self.line is None else f"{self.path}:{self.line}"
            where += ": "
        text = where + self.reason
        if self.fix:
            text += f" ({self.fix})"
        return text


class LabelFormatError(InputError):
    """A label file that no reader accepts, or a record inside it that is invalid."""


class ImageError(InputError):
    """An image that is missing, unreadable, too large or outside the allowed root."""


class DatasetError(InputError):
    """A dataset folder that is missing files or fails validation."""


class ServiceError(LrsgroError):
    """A remote service (model endpoint, Label Studio, the Hub) failed after retries."""
