"""Locate the data folders (``annotation/``, ``eval/``) and the cache folder of lrsgro."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


ANNOTATION_ENV = "LRSGRO_ANNOTATION_DIR"
CACHE_ENV = "LRSGRO_CACHE"


def data_dir(name: str) -> Path:
    """Return the folder ``annotation`` or ``eval``.

    ``LRSGRO_ANNOTATION_DIR`` replaces the ``annotation`` folder (a tuned copy of its
    vocabularies and prompts). Otherwise a source checkout and an editable install keep the
    folders beside the package, and a wheel ships them inside it under ``lrsgro/_data``.
    """
    override = os.environ.get(ANNOTATION_ENV) if name == "annotation" else None
    if override:
        if not Path(override).is_dir():
            raise FileNotFoundError(f"{ANNOTATION_ENV}={override} is not a folder; point it at a copy of lrsgro's annotation folder")
        return Path(override)
    for candidate in (_PACKAGE_DIR.parent / name, _PACKAGE_DIR / "_data" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"data folder {name!r} not found beside {_PACKAGE_DIR}; reinstall lrsgro with `pip install .`"
    )


def annotation_path(*parts: str) -> Path:
    """Return a path inside the ``annotation`` folder."""
    return data_dir("annotation").joinpath(*parts)


def eval_path(*parts: str) -> Path:
    """Return a path inside the ``eval`` folder."""
    return data_dir("eval").joinpath(*parts)


def cache_root() -> Path:
    """Return the lrsgro cache folder: ``$LRSGRO_CACHE``, else ``$XDG_CACHE_HOME/lrsgro``, else ``~/.cache/lrsgro``.

    Each cache (images, VLM replies, WordNet data, decoded images) is a subfolder of it.
    """
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()

    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "lrsgro"
