"""A cache of tiled GeoTIFF copies of PNG and JPEG images.

PNG and JPEG store rows one after another, so a window or a downsampled view needs every row
above it decoded. lrsgro converts such a file once into a GeoTIFF that is tiled (512 x 512),
compressed (deflate, horizontal predictor) and carries internal overviews (average), and then
reads the copy like any other GeoTIFF.

- Location: ``$LRSGRO_CACHE/images``, else ``$XDG_CACHE_HOME/lrsgro/images``, else
  ``~/.cache/lrsgro/images``.
- Key: the SHA-256 of the file bytes, read in 1 MiB chunks, plus ``CACHE_VERSION``. A renamed
  or copied image finds its entry, and an edited one gets a new one. Within a process the hash
  is remembered per (device, inode, size, mtime) so reopening an image does not reread it.
- Conversion reads the source in strips of ``STRIP_ROWS`` rows through rasterio and writes the
  copy strip by strip, so memory stays near one strip plus GDAL's block cache, whatever the
  image size.
- Concurrency: a process takes an exclusive ``fcntl`` lock on ``<key>.lock`` before
  converting, and writes a temporary file in the same folder that ``os.replace`` moves into
  place, so other processes wait for the finished copy and never see a partial one.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import ColorInterp, Resampling
from rasterio.errors import NotGeoreferencedWarning, RasterioError
from rasterio.windows import Window

from lrsgro.errors import ImageError

logger = logging.getLogger(__name__)

CACHE_ENV = "LRSGRO_CACHE"
CACHE_VERSION = 1
TILE_SIDE = 512
STRIP_ROWS = TILE_SIDE
MIN_OVERVIEW_SIDE = 256
# Level 1 of libdeflate is about three times faster than level 6 on aerial imagery and makes
# files only a few percent larger, which suits a cache that is written once per image.
DEFLATE_LEVEL = 1
HASH_CHUNK_BYTES = 1 << 20
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"

_hash_memo: dict[tuple[int, int, int, int], str] = {}


@dataclass(frozen=True)
class TiledCopy:
    """The cached GeoTIFF copy of a source image.

    Attributes:
        path: the GeoTIFF in the cache folder.
        key: the cache key (content hash and cache version).
        converted: True when this call wrote the copy, False when it was already there.
    """

    path: Path
    key: str
    converted: bool


def default_cache_dir() -> Path:
    """Return the image cache folder named by the environment (see the module docstring)."""
    root = os.environ.get(CACHE_ENV)
    if root:
        return Path(root).expanduser() / "images"

    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "lrsgro" / "images"


def content_hash(path: str | Path) -> str:
    """Return the SHA-256 hex digest of the file's bytes, remembered per file version."""
    file_path = Path(path)
    stat = file_path.stat()
    memo_key = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
    cached = _hash_memo.get(memo_key)
    if cached is not None:
        return cached

    digest = hashlib.sha256()
    with file_path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            digest.update(chunk)

    _hash_memo[memo_key] = digest.hexdigest()
    return _hash_memo[memo_key]


def ensure_tiled_copy(source: str | Path, cache_dir: str | Path | None = None) -> TiledCopy:
    """Return the cached tiled GeoTIFF of ``source``, converting it first when it is missing.

    Raises:
        ImageError: the source cannot be read, or the cache folder cannot be written.
    """
    source_path = Path(source)
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImageError(
            f"cannot create the image cache folder {folder}: {exc}",
            path=source_path,
            fix=f"set {CACHE_ENV} to a writable folder",
        ) from exc

    key = f"{content_hash(source_path)}.v{CACHE_VERSION}"
    target = folder / f"{key}.tif"
    if target.exists():
        return TiledCopy(path=target, key=key, converted=False)

    with _exclusive_lock(folder / f"{key}.lock", source_path):
        if target.exists():
            return TiledCopy(path=target, key=key, converted=False)

        _remove_stale_temporaries(folder, key)
        temporary = folder / f"{key}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
        started = time.perf_counter()
        try:
            convert_to_tiled_geotiff(source_path, temporary)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)

    logger.info("converted %s to %s in %.1f s", source_path, target, time.perf_counter() - started)
    return TiledCopy(path=target, key=key, converted=True)


def convert_to_tiled_geotiff(source: str | Path, destination: str | Path) -> None:
    """Write ``source`` as a tiled, deflate-compressed GeoTIFF with internal overviews.

    Rows are read and written ``STRIP_ROWS`` at a time. Colour interpretation, the colour
    table, nodata, georeference and metadata tags are carried over, so header facts such as
    an EXIF date survive the conversion.

    Raises:
        ImageError: the source cannot be decoded or the destination cannot be written.
    """
    source_path = Path(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with (
                rasterio.open(source_path) as src,
                rasterio.Env(
                    GDAL_CACHEMAX=_conversion_cache_mb(src),
                    GDAL_NUM_THREADS="ALL_CPUS",
                    COMPRESS_OVERVIEW="DEFLATE",
                    PREDICTOR_OVERVIEW=2,
                    ZLEVEL_OVERVIEW=DEFLATE_LEVEL,
                ),
            ):
                if src.driver == "PNG":
                    check_png_complete(source_path)
                write_tiled_geotiff(src, destination)
    except RasterioError as exc:
        raise ImageError(
            f"cannot convert image to a tiled GeoTIFF: {exc}",
            path=source_path,
            fix="check that the file is complete, and that the cache folder has free space",
        ) from exc


def check_png_complete(path: str | Path) -> None:
    """Raise ImageError unless a PNG file ends with its IEND chunk.

    GDAL 3.10 returns the rows of a truncated PNG that it could not decode as zeros, without
    an error, so a cut-off download is caught here instead.
    """
    file_path = Path(path)
    with file_path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - len(PNG_END)))
        tail = handle.read()
    if tail != PNG_END:
        raise ImageError(
            "PNG file is truncated: it does not end with the IEND chunk",
            path=file_path,
            fix="re-download or re-export the image",
        )


def overview_factors(width: int, height: int) -> list[int]:
    """Return the overview factors 2, 4, 8... until the long side is ``MIN_OVERVIEW_SIDE`` or less."""
    factors: list[int] = []
    long_side = max(width, height)
    while long_side > MIN_OVERVIEW_SIDE:
        factors.append(2 ** (len(factors) + 1))
        long_side = -(-long_side // 2)
    return factors


def write_tiled_geotiff(
    src: rasterio.io.DatasetReader, destination: str | Path, *, compress: bool = True, overviews: bool = True
) -> None:
    """Copy an open dataset into a tiled GeoTIFF, ``STRIP_ROWS`` rows at a time.

    ``destination`` may be a ``/vsimem/`` path. Without ``compress`` the tiles are stored raw,
    which suits in-memory copies that are read many times and never written to disk.
    """
    is_palette = src.colorinterp[0] == ColorInterp.palette
    profile = {
        "driver": "GTiff",
        "width": src.width,
        "height": src.height,
        "count": src.count,
        "dtype": src.dtypes[0],
        "tiled": True,
        "blockxsize": TILE_SIDE,
        "blockysize": TILE_SIDE,
        "bigtiff": "IF_SAFER",
        "interleave": "pixel",
        "nodata": src.nodata,
    }
    if compress:
        profile.update(compress="deflate", predictor=2, zlevel=DEFLATE_LEVEL, num_threads="ALL_CPUS")
    if src.crs is not None:
        profile["crs"] = src.crs
        profile["transform"] = src.transform

    with rasterio.open(destination, "w", **profile) as dst:
        for row in range(0, src.height, STRIP_ROWS):
            window = Window(0, row, src.width, min(STRIP_ROWS, src.height - row))
            dst.write(src.read(window=window), window=window)

        dst.colorinterp = src.colorinterp
        if is_palette:
            dst.write_colormap(1, src.colormap(1))
        dst.update_tags(**src.tags())

        resampling = Resampling.nearest if is_palette else Resampling.average
        factors = overview_factors(src.width, src.height) if overviews else []
        if factors:
            dst.build_overviews(factors, resampling)


class _exclusive_lock:
    """An exclusive ``fcntl.flock`` on a lock file, held for the ``with`` block."""

    def __init__(self, lock_path: Path, source: Path) -> None:
        self._lock_path = lock_path
        self._source = source
        self._fd: int | None = None

    def __enter__(self) -> None:
        self._fd = os.open(self._lock_path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.info("waiting for another process that is converting %s", self._source)
            fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc_info: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _conversion_cache_mb(src: rasterio.io.DatasetReader) -> int:
    # GDAL keeps a tile in its block cache until every row of it is written, so the cache
    # needs one full row of tiles plus room for the source's scanlines. More only costs memory.
    tiles_across = -(-src.width // TILE_SIDE)
    row_bytes = tiles_across * TILE_SIDE * TILE_SIDE * src.count * np.dtype(src.dtypes[0]).itemsize
    return max(32, int(row_bytes * 1.5) // 2**20 + 16)


def _remove_stale_temporaries(folder: Path, key: str) -> None:
    # Only the lock holder writes temporaries for this key, so any left are from a process
    # that died mid-conversion.
    for leftover in folder.glob(f"{key}.*.tmp"):
        logger.info("removing a partial conversion left by an earlier process: %s", leftover)
        leftover.unlink(missing_ok=True)
