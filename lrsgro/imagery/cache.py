"""A cache of tiled GeoTIFF copies of PNG and JPEG images.

PNG and JPEG store rows one after another, so a window or a downsampled view needs every row
above it decoded. lrsgro converts such a file once (see ``convert``) into a tiled,
ZSTD-compressed GeoTIFF with overviews, and then reads the copy like any other GeoTIFF.

- Location: ``$LRSGRO_CACHE/images``, else ``$XDG_CACHE_HOME/lrsgro/images``, else
  ``~/.cache/lrsgro/images``.
- Entry: ``<key>.tif`` and, for most images, its overviews in ``<key>.tif.ovr``, which GDAL
  opens along with it. Delete both to remove an entry.
- Key: the SHA-256 of the file bytes plus ``CACHE_VERSION``. A renamed or copied image finds
  its entry, and an edited one gets a new one. The hash of each file version is remembered in
  ``index/`` (see ``hashing``), so only the first process to open a file reads all its bytes.
- Concurrency: a process takes an exclusive ``fcntl`` lock on ``<key>.lock`` before
  converting, and writes temporary files in the same folder that ``os.replace`` moves into
  place, the overview file first, so other processes wait for the finished copy and never
  see a partial one.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from lrsgro.errors import ImageError
from lrsgro.imagery.convert import convert_to_tiled_geotiff, external_overview_path
from lrsgro.imagery.hashing import content_hash

logger = logging.getLogger(__name__)

CACHE_ENV = "LRSGRO_CACHE"
# Version 2: ZSTD tiles with external single-pass overviews (version 1 was deflate with
# internal overviews built by GDAL).
CACHE_VERSION = 2
INDEX_FOLDER = "index"


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

    key = f"{content_hash(source_path, folder / INDEX_FOLDER)}.v{CACHE_VERSION}"
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
            _publish(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
            external_overview_path(temporary).unlink(missing_ok=True)

    logger.info("converted %s to %s in %.1f s", source_path, target, time.perf_counter() - started)
    return TiledCopy(path=target, key=key, converted=True)


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


def _publish(temporary: Path, target: Path) -> None:
    # The overview file goes first: a process that finds the GeoTIFF must find its overviews.
    overviews = external_overview_path(temporary)
    if overviews.exists():
        os.replace(overviews, external_overview_path(target))
    else:
        external_overview_path(target).unlink(missing_ok=True)
    os.replace(temporary, target)


def _remove_stale_temporaries(folder: Path, key: str) -> None:
    # Only the lock holder writes temporaries for this key, so any left are from a process
    # that died mid-conversion.
    leftovers = [*folder.glob(f"{key}.*.tmp"), *folder.glob(f"{key}.*.tmp.ovr")]
    for leftover in leftovers:
        logger.info("removing a partial conversion left by an earlier process: %s", leftover)
        leftover.unlink(missing_ok=True)
