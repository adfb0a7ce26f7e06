"""Images that benchmark files embed: base64 strings in JSON, bytes in Parquet and Arrow.

Protocols read images from files through :mod:`lrsgro.imagery`, so each embedded image is
written once, as the bytes it was published with, to ``<cache>/decoded/<sha256>.<ext>``
(``<cache>`` is :func:`lrsgro.resources.cache_root`). The name is
the SHA-256 of the bytes, so the same image embedded in many records, or in two copies of
a benchmark, is stored once, and a second load finds it. Writes go to a temporary file that
``os.replace`` moves into place, so a reader never sees a partial image. Nothing here decodes
pixels: the extension comes from the file signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lrsgro.errors import ImageError, InputError
from lrsgro.imagery.info import open_image
from lrsgro.imagery.paths import resolve_image_path
from lrsgro.resources import cache_root

if TYPE_CHECKING:
    from lrsgro.benchmarks.base import BenchmarkData

DECODED_FOLDER = "decoded"
# A string this long, or with a data-URL prefix, is an embedded image; shorter ones are paths.
MIN_BASE64_CHARS = 512
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "jpg"),
    (b"\x89PNG\r\n\x1a\n", 0, "png"),
    (b"II*\x00", 0, "tif"),
    (b"MM\x00*", 0, "tif"),
    (b"II+\x00", 0, "tif"),
    (b"MM\x00+", 0, "tif"),
    (b"WEBP", 8, "webp"),
    (b"BM", 0, "bmp"),
)
_DATA_URL = re.compile(r"^data:[\w/+.-]*;base64,", re.IGNORECASE)
_LIST_LITERAL = re.compile(r"^\s*\[.*\]\s*$", re.DOTALL)
MAX_TRIED_SHOWN = 3


@dataclass(frozen=True)
class MissingImage:
    """An image path of a record that is found under none of the image roots.

    Attributes:
        value: the path as the record writes it.
        tried: the files looked for, in the order they were tried.
    """

    value: str
    tried: tuple[Path, ...]


class EmbeddedImages:
    """A resolver from the image values of benchmark records to image files and their sizes.

    Args:
        roots: folders that relative image paths are looked up in, in order.
        cache_dir: where decoded images go; ``<cache root>/decoded`` when None.
    """

    def __init__(self, roots: Sequence[Path], cache_dir: Path | None = None) -> None:
        self.roots = list(roots)
        self.cache_dir = cache_dir if cache_dir is not None else cache_root() / DECODED_FOLDER
        self._sizes: dict[Path, tuple[int, int]] = {}
        self.decoded = 0
        self.missing = 0
        self.last_missing: MissingImage | None = None

    def files(self, value: Any) -> list[Path]:
        """Return the image files of one record's image value, decoding embedded images.

        ``value`` may be a path relative to a root, a base64 string (with or without a
        ``data:`` prefix), bytes, a ``{"bytes": ..., "path": ...}`` dict as written by
        ``datasets.Image``, or a list of these. A path that is not found is left out and
        counted in ``missing``. ``last_missing`` is the last such path of this value, with the
        files tried, or None when every path was found.

        Raises:
            InputError: an embedded value is not valid base64 or not a known image format.
        """
        self.last_missing = None
        return self._files(value)

    def _files(self, value: Any) -> list[Path]:
        if value is None:
            return []
        if isinstance(value, list | tuple):
            return [path for item in value for path in self._files(item)]
        if isinstance(value, dict):
            if value.get("bytes"):
                return self._files(value["bytes"])
            return self._files(value.get("path"))
        if isinstance(value, bytes | bytearray | memoryview):
            return [self.store(bytes(value))]
        if not isinstance(value, str) or not value.strip():
            return []

        text = value.strip()
        if _LIST_LITERAL.match(text):
            return self._files(_string_list(text))
        if len(text) >= MIN_BASE64_CHARS or _DATA_URL.match(text):
            return [self.store(decode_base64(text))]
        found = self.find(text)
        if found is None:
            self.missing += 1
            self.last_missing = MissingImage(text, tuple(self.candidates(text)))
            return []
        return [found]

    def find(self, relative: str) -> Path | None:
        """Return the file ``relative`` names under the first root that has it, else None."""
        return next((path for path in self.candidates(relative) if path.is_file()), None)

    def candidates(self, relative: str) -> list[Path]:
        """Return the files :meth:`find` looks at for ``relative``, in order.

        First ``relative`` under each root, then its file name alone under each root. A path
        that would leave a root (absolute, or ``..`` above it) is skipped.
        """
        paths: list[Path] = []
        for candidate in dict.fromkeys((relative, Path(relative).name)):
            for root in self.roots:
                try:
                    path = resolve_image_path(root, candidate, must_exist=False)
                except ImageError:
                    continue
                if path not in paths:
                    paths.append(path)
        return paths

    def store(self, data: bytes) -> Path:
        """Write ``data`` to the cache under its SHA-256 unless it is there; return the file.

        Raises:
            InputError: the bytes start with no known image signature.
        """
        extension = image_extension(data)
        digest = hashlib.sha256(data).hexdigest()
        target = self.cache_dir / f"{digest}.{extension}"
        if target.is_file():
            return target

        self.cache_dir.mkdir(parents=True, exist_ok=True)
        temporary = self.cache_dir / f"{digest}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
        try:
            temporary.write_bytes(data)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        self.decoded += 1
        return target

    def size(self, path: Path) -> tuple[int, int]:
        """Return (width, height) of ``path`` from its header, read once per file."""
        if path not in self._sizes:
            self._sizes[path] = open_image(path).size
        return self._sizes[path]


def image_roots(data: Path, images: Path | None, folders: Sequence[str], *, search_parent: bool = True) -> list[Path]:
    """Return the folders that relative image paths of a benchmark are looked up in, in order.

    ``images`` alone when given. Otherwise each of ``folders`` ("" for the folder itself) that
    exists in the folder of ``data`` and then, with ``search_parent``, in its parent.
    """
    if images is not None:
        return [images]

    base = data if data.is_dir() else data.parent
    anchors = (base, base.parent) if search_parent else (base,)
    roots = []
    for anchor in anchors:
        for name in folders:
            folder = anchor / name if name else anchor
            if folder.is_dir() and folder not in roots:
                roots.append(folder)
    return roots


def note_missing_image(result: BenchmarkData, store: EmbeddedImages, qid: str, field: str, fix: str) -> None:
    """Count a question whose image file was not found in the ``image-missing`` note.

    The note's message, written for the first such question, names that question, the
    value of its image field ``field``, the files tried and ``fix``, the benchmark's own
    account of where its images live.
    """
    missing = store.last_missing
    if missing is None:
        first = f"question {qid} has no {field} value"
    else:
        tried = ", ".join(str(path) for path in missing.tried[:MAX_TRIED_SHOWN]) or "no image folder"
        if len(missing.tried) > MAX_TRIED_SHOWN:
            tried += f" and {len(missing.tried) - MAX_TRIED_SHOWN} more"
        first = f"question {qid}, {field} {missing.value!r}, tried {tried}"
    message = (
        f"image file not found (first: {first}); protocols that show images cannot run for these questions. "
        f"Fix: {fix}. Questions affected"
    )
    result.note("image-missing", message).add(qid)


def decode_base64(text: str) -> bytes:
    """Decode a base64 image string, with or without a ``data:`` prefix and line breaks.

    Raises:
        InputError: the text is not valid base64.
    """
    payload = _DATA_URL.sub("", text.strip())
    payload = re.sub(r"\s+", "", payload)
    try:
        return base64.b64decode(payload + "=" * (-len(payload) % 4), validate=True)
    except (binascii.Error, ValueError) as error:
        raise InputError(f"an embedded image is not valid base64: {error}", fix="check that the file is complete") from error


def image_extension(data: bytes) -> str:
    """Return the file extension for the image format ``data`` starts with.

    Raises:
        InputError: no known signature (JPEG, PNG, TIFF, WebP, BMP).
    """
    for signature, offset, extension in _SIGNATURES:
        if data[offset : offset + len(signature)] == signature:
            return extension
    raise InputError(
        f"an embedded image starts with bytes {data[:8].hex()}, which is no JPEG, PNG, TIFF, WebP or BMP signature",
        fix="check that the image column holds image files",
    )


def _string_list(text: str) -> list[str]:
    """Parse "['a.png', 'b.png']", the form VLMEvalKit writes for records with several images."""
    return [item for item in re.findall(r"""['"]([^'"]+)['"]""", text)]
