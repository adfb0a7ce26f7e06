"""Discovery of the modules that plug one implementation each into a package.

Benchmark adapters (:mod:`lrsgro.benchmarks`) and label readers (:mod:`lrsgro.formats`) are
found this way, so a new one is a new module and no list has to be edited.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Collection, Iterable, Iterator
from types import ModuleType


def import_submodules(package: str, path: Iterable[str], skip: Collection[str] = ()) -> Iterator[ModuleType]:
    """Import and yield each module of ``package`` (its ``__name__`` and ``__path__``).

    Private modules (a name starting with ``_``) and the names in ``skip`` are left out.
    """
    for info in pkgutil.iter_modules(path):
        if info.name in skip or info.name.startswith("_"):
            continue
        yield importlib.import_module(f"{package}.{info.name}")
