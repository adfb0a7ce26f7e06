"""Locate the data folders (``annotation/``, ``eval/``) in a source tree or an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the folder ``annotation`` or ``eval``.

    A source checkout and an editable install keep the folders beside the package; a wheel
    ships them inside it under ``lrsgro/_data``.
    """
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
