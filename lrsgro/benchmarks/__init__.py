"""Benchmark adapters, one module per benchmark, found by name.

Each module in this package that defines ``BENCHMARK`` (an instance of
:class:`lrsgro.benchmarks.base.Benchmark`) is an adapter; its ``name`` is the value of
``lrsgro eval --benchmark``. Modules are imported on the first lookup, never at import time.
"""

from __future__ import annotations

from functools import lru_cache

from lrsgro.benchmarks.base import Benchmark, BenchmarkData, DataNote, EvalSample, fingerprint
from lrsgro.errors import InputError
from lrsgro.plugins import import_submodules

__all__ = [
    "Benchmark",
    "BenchmarkData",
    "DataNote",
    "EvalSample",
    "benchmark_names",
    "fingerprint",
    "get_benchmark",
]

_NOT_ADAPTERS = {"base"}


@lru_cache(maxsize=1)
def _adapters() -> dict[str, Benchmark]:
    found: dict[str, Benchmark] = {}
    for module in import_submodules(__name__, __path__, _NOT_ADAPTERS):
        adapter = getattr(module, "BENCHMARK", None)
        if isinstance(adapter, Benchmark):
            found[adapter.name] = adapter
    return dict(sorted(found.items()))


def benchmark_names() -> list[str]:
    """Return the names of every adapter, sorted."""
    return list(_adapters())


def get_benchmark(name: str) -> Benchmark:
    """Return the adapter called ``name``.

    Raises:
        InputError: when no adapter has that name; the message lists the known names.
    """
    adapters = _adapters()
    if name not in adapters:
        raise InputError(
            f"unknown benchmark {name!r}",
            fix=f"use one of: {', '.join(adapters) or '(none installed)'}",
        )
    return adapters[name]
