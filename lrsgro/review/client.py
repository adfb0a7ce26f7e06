"""A small client for the parts of the Label Studio REST API that review needs.

It talks to the API directly over httpx2 (already installed with openai and huggingface_hub)
instead of label-studio-sdk, whose dependencies (opencv, black, a pinned numpy) would clash
with lrsgro's. Checked against Label Studio 1.23.2.

Authentication accepts both kinds of key Label Studio issues: a legacy token, sent as
``Authorization: Token <key>``, and a personal access token (a JWT refresh token), exchanged at
``/api/token/refresh/`` for a short-lived access token sent as ``Bearer``. The key is never
logged or put into an error message.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import random
import time
from typing import Any

import httpx2

from lrsgro.errors import InputError, ServiceError

logger = logging.getLogger(__name__)

API_KEY_ENV = "LABEL_STUDIO_API_KEY"
TIMEOUT_S = 60.0
EXPORT_TIMEOUT_S = 600.0
RETRIES = 3
BACKOFF_S = 0.5
PAGE_SIZE = 100
ACCESS_REFRESH_MARGIN_S = 30.0

_RETRY_STATUSES = frozenset({429, 502, 503, 504})


class LabelStudioClient:
    """Calls to one Label Studio server with one API key.

    Args:
        url: the server's base URL, for example ``http://127.0.0.1:8080``.
        api_key: a legacy token or a personal access token.
        timeout_s: seconds allowed per request, except exports.
        retries: extra attempts for reads and for requests that never reached the server.
    """

    def __init__(self, url: str, api_key: str, *, timeout_s: float = TIMEOUT_S, retries: int = RETRIES) -> None:
        if not url.startswith(("http://", "https://")):
            raise InputError(f"Label Studio URL {url!r} must start with http:// or https://")
        if not api_key.strip():
            raise InputError("the Label Studio API key is empty", fix=f"set {API_KEY_ENV}")

        self.url = url.rstrip("/")
        self._api_key = api_key.strip()
        self._retries = retries
        self._access_token: str | None = None
        self._access_expires = 0.0
        self._http = httpx2.Client(base_url=self.url, timeout=timeout_s, headers={"Accept": "application/json"})

    @classmethod
    def from_env(cls, url: str, **kwargs: Any) -> LabelStudioClient:
        """Create a client with the key from the ``LABEL_STUDIO_API_KEY`` environment variable."""
        key = os.environ.get(API_KEY_ENV, "")
        if not key.strip():
            raise InputError(
                f"environment variable {API_KEY_ENV} is not set",
                fix="copy a token from Label Studio (Account & Settings) into LABEL_STUDIO_API_KEY",
            )
        return cls(url, key, **kwargs)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> LabelStudioClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def whoami(self) -> dict[str, Any]:
        """Return the user the key belongs to; a cheap check of URL and key."""
        return self._request("GET", "/api/current-user/whoami")

    def find_project(self, title: str) -> dict[str, Any] | None:
        """Return the project with exactly this title, or None; the lowest id wins on duplicates."""
        page = self._request("GET", "/api/projects/", params={"title": title, "page_size": PAGE_SIZE})
        projects = page["results"] if isinstance(page, dict) else page
        matches = sorted((p for p in projects if p.get("title") == title), key=lambda p: p["id"])
        return matches[0] if matches else None

    def get_project(self, project_id: int) -> dict[str, Any]:
        """Return one project, or raise InputError when it does not exist."""
        return self._request("GET", f"/api/projects/{project_id}/", not_found=f"project {project_id}")

    def create_project(self, title: str, label_config: str, maximum_annotations: int = 1) -> dict[str, Any]:
        """Create a project with the labeling config."""
        body = {"title": title, "label_config": label_config, "maximum_annotations": maximum_annotations}
        return self._request("POST", "/api/projects/", json_body=body)

    def list_tasks(self, project_id: int) -> list[dict[str, Any]]:
        """Return every task of a project with its data, page by page."""
        tasks: list[dict[str, Any]] = []
        page_number = 1
        while True:
            page = self._request(
                "GET",
                "/api/tasks/",
                params={"project": project_id, "page": page_number, "page_size": PAGE_SIZE},
                not_found=f"project {project_id}",
            )
            batch = page.get("tasks", [])
            tasks.extend(batch)
            # The server returns 404 for a page past the end, so stop on the reported total.
            if not batch or len(tasks) >= int(page.get("total", 0)):
                return tasks
            page_number += 1

    def import_tasks(self, project_id: int, tasks: list[dict[str, Any]]) -> list[int]:
        """Import tasks with their predictions; return the new task ids."""
        response = self._request(
            "POST",
            f"/api/projects/{project_id}/import",
            params={"return_task_ids": "true"},
            json_body=tasks,
            idempotent=False,
        )
        return list(response.get("task_ids", []))

    def local_storages(self, project_id: int) -> list[dict[str, Any]]:
        """Return the project's local-files import storages."""
        return self._request("GET", "/api/storages/localfiles/", params={"project": project_id})

    def create_local_storage(self, project_id: int, path: str, title: str) -> dict[str, Any]:
        """Attach a local-files import storage, which authorises serving files under ``path``.

        The storage is never synced: syncing would create one task per file.
        """
        body = {"project": project_id, "path": path, "title": title, "use_blob_urls": True}
        return self._request("POST", "/api/storages/localfiles/", json_body=body, idempotent=False)

    def export_tasks(self, project_id: int) -> list[dict[str, Any]]:
        """Return every task of a project with its annotations (the JSON export)."""
        return self._request(
            "GET",
            f"/api/projects/{project_id}/export",
            params={"exportType": "JSON", "download_all_tasks": "true"},
            timeout_s=EXPORT_TIMEOUT_S,
            not_found=f"project {project_id}",
        )

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        idempotent: bool | None = None,
        timeout_s: float | None = None,
        not_found: str | None = None,
    ) -> Any:
        idempotent = method == "GET" if idempotent is None else idempotent
        refreshed = False
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    method,
                    path,
                    params=params,
                    json=json_body,
                    headers={"Authorization": self._authorization()},
                    timeout=timeout_s if timeout_s is not None else httpx2.USE_CLIENT_DEFAULT,
                )
            except httpx2.TransportError as error:
                # A request that never connected is safe to repeat even when it writes.
                retryable = idempotent or isinstance(error, httpx2.ConnectError)
                if retryable and attempt < self._retries:
                    attempt += 1
                    self._sleep_before_retry(method, path, attempt, type(error).__name__)
                    continue
                raise ServiceError(f"Label Studio at {self.url} failed on {method} {path}: {error}") from error

            if response.status_code == 401 and self._access_token is not None and not refreshed:
                # The access token of a personal access token expired early; get a new one once.
                self._access_token = None
                refreshed = True
                continue
            if response.status_code in _RETRY_STATUSES and idempotent and attempt < self._retries:
                attempt += 1
                self._sleep_before_retry(method, path, attempt, f"HTTP {response.status_code}")
                continue
            return self._decode(method, path, response, not_found)

    def _decode(self, method: str, path: str, response: httpx2.Response, not_found: str | None) -> Any:
        status = response.status_code
        if status in (401, 403):
            raise ServiceError(
                f"Label Studio at {self.url} rejected the API key on {method} {path} "
                f"(HTTP {status}: {_detail(response)}); check {API_KEY_ENV}"
            )
        if status == 404 and not_found is not None:
            raise InputError(f"{not_found} not found on Label Studio at {self.url}", fix="check the project id")
        if status >= 400:
            raise ServiceError(
                f"Label Studio at {self.url} failed on {method} {path}: HTTP {status}: {_detail(response)}"
            )
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as error:
            raise ServiceError(f"Label Studio at {self.url} sent invalid JSON for {method} {path}") from error

    def _authorization(self) -> str:
        if not _is_refresh_token(self._api_key):
            return f"Token {self._api_key}"
        if self._access_token is None or time.time() > self._access_expires - ACCESS_REFRESH_MARGIN_S:
            self._refresh_access_token()
        return f"Bearer {self._access_token}"

    def _refresh_access_token(self) -> None:
        try:
            response = self._http.post("/api/token/refresh/", json={"refresh": self._api_key})
        except httpx2.TransportError as error:
            raise ServiceError(f"Label Studio at {self.url} failed on POST /api/token/refresh/: {error}") from error
        if response.status_code != 200:
            raise ServiceError(
                f"Label Studio at {self.url} rejected the personal access token "
                f"(HTTP {response.status_code}: {_detail(response)}); check {API_KEY_ENV}"
            )
        access = response.json().get("access", "")
        self._access_token = access
        self._access_expires = float(_jwt_claims(access).get("exp", time.time() + 60))

    def _sleep_before_retry(self, method: str, path: str, attempt: int, reason: str) -> None:
        delay = BACKOFF_S * 2 ** (attempt - 1) + random.uniform(0, BACKOFF_S / 2)
        logger.warning(
            "Label Studio %s %s failed (%s); retry %d/%d in %.1f s", method, path, reason, attempt, self._retries, delay
        )
        time.sleep(delay)


def _is_refresh_token(key: str) -> bool:
    return _jwt_claims(key).get("token_type") == "refresh"


def _jwt_claims(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except ValueError:
        return {}
    return claims if isinstance(claims, dict) else {}


def _detail(response: httpx2.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        for key in ("detail", "validation_errors", "message"):
            if key in body:
                return str(body[key])[:300]
    return json.dumps(body)[:300]
