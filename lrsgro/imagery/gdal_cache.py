"""Temporary limits on GDAL's block cache, restored when the last user leaves.

GDAL keeps every block it decodes, and every block written but not yet flushed, in one
process-wide block cache whose default size is 5% of the RAM (about 1.2 GB on a 24 GiB
machine). A view or crop decodes each block once, and a conversion writes each block once, so
lrsgro lowers the limit while it reads or converts and then puts the previous limit back.

The limit is read and set through ``rasterio.env.get_gdal_config`` and ``set_gdal_config``,
which rasterio 1.4 maps to ``GDALGetCacheMax64`` and ``GDALSetCacheMax64`` in bytes. That
restores the previous value also inside a caller's ``rasterio.Env``, where leaving a nested
``rasterio.Env(GDAL_CACHEMAX=...)`` would not.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

import rasterio.env

_lock = threading.Lock()
_users = 0
_saved_bytes: int | None = None


@contextlib.contextmanager
def limited_block_cache(max_bytes: int, *, respect_caller: bool = True) -> Iterator[None]:
    """Lower GDAL's block cache to at most ``max_bytes`` for the ``with`` block.

    With ``respect_caller`` the limit is skipped when the caller chose a size, through the
    ``GDAL_CACHEMAX`` environment variable or an active ``rasterio.Env``. Nested and concurrent
    uses share one saved value, and the smallest requested limit applies until all have left.
    """
    if respect_caller and _caller_chose_cache_size():
        yield
        return

    global _users, _saved_bytes
    with _lock:
        current = int(rasterio.env.get_gdal_config("GDAL_CACHEMAX"))
        if _users == 0:
            _saved_bytes = current
        _users += 1
        if current > max_bytes:
            rasterio.env.set_gdal_config("GDAL_CACHEMAX", max_bytes)
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _saved_bytes is not None:
                rasterio.env.set_gdal_config("GDAL_CACHEMAX", _saved_bytes)
                _saved_bytes = None


def _caller_chose_cache_size() -> bool:
    if os.environ.get("GDAL_CACHEMAX"):
        return True
    return rasterio.env.hasenv() and "GDAL_CACHEMAX" in rasterio.env.getenv()
