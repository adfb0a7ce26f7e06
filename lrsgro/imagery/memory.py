"""A process-wide cache of small PNG and JPEG images decoded into memory.

A PNG or JPEG at most ``direct_max_pixels`` large is decoded once into an uncompressed tiled
GeoTIFF under GDAL's ``/vsimem/``, so later windows and views cost no decoding. The copies are
kept in least-recently-used order up to ``DECODED_CACHE_BYTES`` in total, so an evaluation
that opens the same image for each of its questions decodes it only once. Evicting a copy
does not break a dataset that is still open on it, because GDAL (3.10 checked) keeps the
memory until that dataset closes.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections import OrderedDict
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import NotGeoreferencedWarning, RasterioError
from rasterio.io import MemoryFile

from lrsgro.errors import ImageError
from lrsgro.imagery.convert import write_tiled_geotiff

logger = logging.getLogger(__name__)

DECODED_CACHE_BYTES = 512 * 2**20

_lock = threading.Lock()
_entries: OrderedDict[tuple[str, int, int, int], tuple[MemoryFile, int]] = OrderedDict()


def open_decoded(path: str | Path) -> rasterio.io.DatasetReader:
    """Open an in-memory decoded copy of ``path``, decoding it unless a current copy is cached.

    Raises:
        ImageError: the file cannot be decoded.
    """
    file_path = Path(path)
    stat = file_path.stat()
    key = (str(file_path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns)

    with _lock:
        entry = _entries.get(key)
        if entry is not None:
            _entries.move_to_end(key)
            return _open_copy(entry[0])

    memory_file, size = _decode(file_path)
    with _lock:
        entry = _entries.get(key)
        if entry is not None:
            # Another thread decoded the same file meanwhile; keep its copy.
            memory_file.close()
            _entries.move_to_end(key)
            return _open_copy(entry[0])

        _entries[key] = (memory_file, size)
        _evict_over_limit()
        return _open_copy(memory_file)


def clear_decoded() -> None:
    """Drop every cached in-memory copy; datasets still open on them keep working."""
    with _lock:
        while _entries:
            _, (memory_file, _) = _entries.popitem(last=False)
            memory_file.close()


def decoded_cache_size() -> int:
    """Return the number of images held in the in-memory cache."""
    with _lock:
        return len(_entries)


def _decode(path: Path) -> tuple[MemoryFile, int]:
    memory_file = MemoryFile(ext=".tif")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as src:
                write_tiled_geotiff(src, memory_file.name, compress=False, overviews=False)
                size = src.width * src.height * src.count * np.dtype(src.dtypes[0]).itemsize
    except RasterioError as exc:
        memory_file.close()
        raise ImageError(
            f"cannot decode image: {exc}",
            path=path,
            fix="the file is damaged or truncated; re-export or re-download it",
        ) from exc

    logger.debug("decoded %s into memory (%d bytes)", path, size)
    return memory_file, size


def _open_copy(memory_file: MemoryFile) -> rasterio.io.DatasetReader:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        return rasterio.open(memory_file.name)


def _evict_over_limit() -> None:
    total = sum(size for _, size in _entries.values())
    while total > DECODED_CACHE_BYTES and len(_entries) > 1:
        _, (memory_file, size) = _entries.popitem(last=False)
        memory_file.close()
        total -= size
