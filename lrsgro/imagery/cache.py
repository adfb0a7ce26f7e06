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
- Hashing overlaps the conversion: when the hash of a file is not yet known, the conversion
  starts at once into a ``pending.*.tmp`` file while a second thread hashes the file. As soon
  as the key is known, the conversion claims it, or is abandoned when the copy already exists
  or another process holds the key's lock, which costs at most the rows decoded so far.
- Concurrency: a process holds an exclusive ``fcntl`` lock on ``<key>.lock`` from the moment
  it claims a key until its copy is in place. Temporary files are written in the same folder
  and moved into place by ``os.replace``, the overview file first, so other processes wait for
  the finished copy and never see a partial one.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from lrsgro.errors import ImageError
from lrsgro.imagery.convert import convert_to_tiled_geotiff, external_overview_path
from lrsgro.imagery.hashing import content_hash, known_hash
from lrsgro.resources import CACHE_ENV, cache_root

logger = logging.getLogger(__name__)

# Version 2: ZSTD tiles with external single-pass overviews (version 1 was deflate with
# internal overviews built by GDAL).
CACHE_VERSION = 2
INDEX_FOLDER = "index"
PENDING_PREFIX = "pending"


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
    return cache_root() / "images"


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

    digest = known_hash(source_path, folder / INDEX_FOLDER)
    if digest is None:
        copy = _convert_while_hashing(source_path, folder)
        if copy is not None:
            return copy
        digest = content_hash(source_path, folder / INDEX_FOLDER)
    return _find_or_convert(source_path, folder, f"{digest}.v{CACHE_VERSION}")


class _Superseded(Exception):
    """The copy exists, or another process is converting the same content."""


class _exclusive_lock:
    """An exclusive ``fcntl.flock`` on a lock file: ``with`` waits for it, ``try_acquire`` does not."""

    def __init__(self, lock_path: Path, source: Path) -> None:
        self._lock_path = lock_path
        self._source = source
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        """Take the lock if no other process holds it; return whether it was taken."""
        self._fd = os.open(self._lock_path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            self._fd = None
            return False
        return True

    def release(self) -> None:
        """Release the lock if it is held."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> None:
        if self.try_acquire():
            return
        logger.info("waiting for another process that is converting %s", self._source)
        self._fd = os.open(self._lock_path, os.O_CREAT | os.O_RDWR, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class _KeyClaim:
    """Hashes a source in a thread and, once the hash is known, claims its cache key.

    ``check`` is the conversion's checkpoint: it returns while the hash is still running, and
    afterwards raises ``_Superseded`` unless this process holds the key's lock and the copy
    does not exist yet.
    """

    def __init__(self, source: Path, folder: Path) -> None:
        self._source = source
        self._folder = folder
        self._outcome: list[str | BaseException] = []
        self._lock: _exclusive_lock | None = None
        self.key = ""
        self.target = Path()
        self._hasher = threading.Thread(target=self._hash, name="lrsgro-content-hash", daemon=True)
        self._hasher.start()

    def check(self, wait: bool = False) -> None:
        """Claim the key once the hash is known (``wait``: wait for the hash first)."""
        if self.key or (self._hasher.is_alive() and not wait):
            return

        self._hasher.join()
        outcome = self._outcome[0]
        if isinstance(outcome, BaseException):
            raise outcome

        key = f"{outcome}.v{CACHE_VERSION}"
        target = self._folder / f"{key}.tif"
        if target.exists():
            raise _Superseded

        self._lock = _exclusive_lock(self._folder / f"{key}.lock", self._source)
        if not self._lock.try_acquire() or target.exists():
            raise _Superseded
        _remove_stale_temporaries(self._folder, key)
        self.key, self.target = key, target

    def release(self) -> None:
        """Release the key's lock, after the hashing thread has finished."""
        self._hasher.join()
        if self._lock is not None:
            self._lock.release()

    def _hash(self) -> None:
        try:
            self._outcome.append(content_hash(self._source, self._folder / INDEX_FOLDER))
        except BaseException as exc:  # handed to the converting thread by check()
            self._outcome.append(exc)


def _convert_while_hashing(source: Path, folder: Path) -> TiledCopy | None:
    # Returns None, its work discarded, when the hash shows that the copy exists or another
    # process is converting the same content. The caller then takes the locked path.
    _remove_abandoned_pending(folder)
    claim = _KeyClaim(source, folder)
    temporary = folder / f"{PENDING_PREFIX}.{os.getpid()}.{uuid.uuid4().hex[:8]}.{socket.gethostname()}.tmp"
    started = time.perf_counter()
    try:
        convert_to_tiled_geotiff(source, temporary, checkpoint=claim.check)
        claim.check(wait=True)
        _publish(temporary, claim.target)
    except _Superseded:
        logger.debug("stopped converting %s: the copy exists or another process is converting it", source)
        return None
    finally:
        claim.release()
        temporary.unlink(missing_ok=True)
        external_overview_path(temporary).unlink(missing_ok=True)

    logger.info("converted %s to %s in %.1f s", source, claim.target, time.perf_counter() - started)
    return TiledCopy(path=claim.target, key=claim.key, converted=True)


def _find_or_convert(source: Path, folder: Path, key: str) -> TiledCopy:
    target = folder / f"{key}.tif"
    if target.exists():
        return TiledCopy(path=target, key=key, converted=False)

    with _exclusive_lock(folder / f"{key}.lock", source):
        if target.exists():
            return TiledCopy(path=target, key=key, converted=False)

        _remove_stale_temporaries(folder, key)
        temporary = folder / f"{key}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
        started = time.perf_counter()
        try:
            convert_to_tiled_geotiff(source, temporary)
            _publish(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
            external_overview_path(temporary).unlink(missing_ok=True)

    logger.info("converted %s to %s in %.1f s", source, target, time.perf_counter() - started)
    return TiledCopy(path=target, key=key, converted=True)


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


def _remove_abandoned_pending(folder: Path) -> None:
    # A pending file is named pending.<pid>.<random>.<host>.tmp. Only files of this host whose
    # process is gone are removed, because a pid means nothing on another host.
    host = socket.gethostname()
    for leftover in [*folder.glob(f"{PENDING_PREFIX}.*.tmp"), *folder.glob(f"{PENDING_PREFIX}.*.tmp.ovr")]:
        fields = leftover.name.removesuffix(".ovr").removesuffix(".tmp").split(".", 3)
        if len(fields) != 4 or fields[3] != host or not fields[1].isdigit() or _process_exists(int(fields[1])):
            continue
        logger.info("removing a partial conversion left by an earlier process: %s", leftover)
        leftover.unlink(missing_ok=True)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
