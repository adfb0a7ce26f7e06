"""On-disk cache of model responses, one JSON file per request hash.

A file is written to a temporary name in the same folder and renamed into place, so a run
killed at any moment leaves either the whole entry or none; a re-run reads the entries and
sends only the requests that are missing. Only successful responses are stored, and never
the API key or the request headers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

logger = logging.getLogger(__name__)

CACHE_VERSION = 1
_TEMP_PREFIX = ".tmp-"


class CachedResponse(BaseModel):
    """One model response as stored in the cache."""

    version: int = CACHE_VERSION
    request_hash: str
    model: str
    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None
    created_at: str


def request_hash(request: dict[str, Any]) -> str:
    """Return the SHA-256 hex digest of a request in canonical JSON (sorted keys, no spaces).

    The caller replaces image data by the hash of the image bytes first, so the digest covers
    the images without hashing megabytes of base64 twice.
    """
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ResponseCache:
    """Responses stored under ``<folder>/<first 2 hex digits>/<request hash>.json``."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path_for(self, key: str) -> Path:
        """Return the file of one request hash."""
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> CachedResponse | None:
        """Return the stored response, or None when there is none or it is unreadable."""
        path = self.path_for(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None

        try:
            entry = CachedResponse.model_validate_json(data)
        except ValidationError as error:
            logger.warning(
                "ignoring the unreadable cache entry %s (%s); the request will be sent again",
                path,
                error.errors()[0]["msg"] if error.errors() else error,
            )
            return None
        if entry.request_hash != key:
            logger.warning("ignoring the cache entry %s, which holds another request hash", path)
            return None
        return entry

    def put(self, entry: CachedResponse) -> Path:
        """Store ``entry`` atomically and return its file."""
        path = self.path_for(entry.request_hash)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = entry.model_dump_json(indent=1).encode("utf-8")

        handle, temp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=".json", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(payload)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp_name, path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        return path

    def entries(self) -> list[Path]:
        """Return every complete entry file, ignoring temporary files of interrupted writes."""
        if not self.folder.is_dir():
            return []
        return sorted(
            p for p in self.folder.glob("*/*.json") if not p.name.startswith(_TEMP_PREFIX)
        )
