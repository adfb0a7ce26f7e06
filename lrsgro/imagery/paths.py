"""Image paths that come from label and question files, kept inside the image root."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from lrsgro.errors import ImageError

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = ("tif", "tiff", "png", "jpg", "jpeg")


def resolve_image_path(root: str | Path, relative: str | Path, *, must_exist: bool = True) -> Path:
    """Join ``relative`` to ``root`` and return the resolved path, which stays inside ``root``.

    Paths in label or question files are untrusted, so three escapes are rejected: an absolute
    path, ``..`` components that climb above the root, and a symbolic link (the file or any
    folder on the way) that points outside the root. ``..`` that stays inside is allowed.

    Raises:
        ImageError: the path escapes the root, is empty, or (with ``must_exist``) is missing.
    """
    root_path = Path(root)
    text = os.fspath(relative)
    if not text.strip():
        raise ImageError("image path is empty", path=root_path, fix="give a path relative to the image root")

    relative_path = Path(text)
    if relative_path.is_absolute():
        raise ImageError(
            f"image path {text!r} is absolute, but only paths relative to the image root are allowed",
            path=root_path,
            fix="write the path relative to the image root",
        )

    resolved_root = root_path.resolve()
    lexical = Path(os.path.normpath(resolved_root / relative_path))
    if not lexical.is_relative_to(resolved_root):
        raise ImageError(
            f"image path {text!r} climbs above the image root with '..'",
            path=root_path,
            fix="keep image paths inside the image root",
        )

    resolved = (resolved_root / relative_path).resolve()
    if not resolved.is_relative_to(resolved_root):
        raise ImageError(
            f"image path {text!r} follows a symbolic link to {resolved}, outside the image root",
            path=root_path,
            fix="copy the image into the image root or point the root at the folder that contains it",
        )

    if must_exist and not resolved.is_file():
        raise ImageError(
            f"image {text!r} not found under the image root",
            path=root_path,
            fix="check the image path in the label or question file, or the --images folder",
        )
    return resolved


def find_image(images_dir: str | Path, image_id: str) -> Path:
    """Return the file ``<image_id>.<ext>`` in ``images_dir`` for ext in ``IMAGE_EXTENSIONS``.

    Extensions match case-insensitively. When several files match, the first extension in
    ``IMAGE_EXTENSIONS`` order wins. The image id goes through ``resolve_image_path``, so an
    id like ``../secret`` cannot leave the folder.

    Raises:
        ImageError: no file matches; the message lists every name tried.
    """
    folder = Path(images_dir)
    if not folder.is_dir():
        raise ImageError(
            "image folder not found",
            path=folder,
            fix="pass the folder that contains the images (--images)",
        )

    tried = [f"{image_id}.{ext}" for ext in IMAGE_EXTENSIONS]
    for name in tried:
        for candidate in (name, _with_upper_extension(name)):
            path = resolve_image_path(folder, candidate, must_exist=False)
            if path.is_file():
                return path

    by_folded_name = _names_by_casefold(folder)
    for name in tried:
        actual = by_folded_name.get(name.casefold())
        if actual is not None:
            return resolve_image_path(folder, actual)

    raise ImageError(
        f"no image file for id {image_id!r}; tried {', '.join(tried)} (any case)",
        path=folder,
        fix="check the image id, or convert the image to GeoTIFF, PNG or JPEG",
    )


def _with_upper_extension(name: str) -> str:
    stem, _, ext = name.rpartition(".")
    return f"{stem}.{ext.upper()}"


def _names_by_casefold(folder: Path) -> dict[str, str]:
    names: dict[str, str] = {}
    with os.scandir(folder) as entries:
        for entry in entries:
            names.setdefault(entry.name.casefold(), entry.name)
    return names
