"""Rules shared by lrsgro's two clients of OpenAI-compatible servers.

The evaluation backend (:mod:`lrsgro.eval.backends.openai_chat` with :mod:`lrsgro.eval.retry`)
and the VLM drafting client (:mod:`lrsgro.vlm.client`) keep their own retry loops, because they
count attempts and report failures differently. What a retry means is decided here once: which
HTTP statuses are retried, how long to wait, how a ``Retry-After`` header is read, how an error
message is cleaned of the API key, and where the key comes from.
"""

from __future__ import annotations

import os
from pathlib import Path

from lrsgro.errors import InputError

API_KEY_ENV = "OPENAI_API_KEY"
# Local servers (vLLM, SGLang) accept any key; the openai client refuses to start without one.
PLACEHOLDER_API_KEY = "EMPTY"
# Besides every 5xx reply: request timeout, conflict and rate limit.
RETRY_STATUSES = frozenset({408, 409, 429})
MAX_ERROR_CHARS = 300


def is_retryable_status(status: int) -> bool:
    """Tell whether a reply with HTTP ``status`` is worth another attempt: 408, 409, 429 or any 5xx."""
    return status in RETRY_STATUSES or status >= 500


def retry_after_seconds(value: str | None) -> float | None:
    """Return a ``Retry-After`` header value in seconds, or None when it is missing, negative or a date."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def backoff_delay(retry: int, base_s: float, max_s: float, jitter: float, retry_after: float | None = None) -> float:
    """Return the seconds to wait before retry number ``retry`` (0 for the first retry).

    The wait is the fraction ``jitter`` (0 to 1, drawn by the caller) of ``base_s * 2**retry``
    capped at ``max_s``. A server's ``retry_after`` lengthens the wait, but never beyond ``max_s``.
    """
    ceiling = min(max_s, base_s * 2**retry)
    wait = ceiling * jitter
    if retry_after is not None:
        wait = max(wait, retry_after)
    return min(wait, max_s)


def scrub_error(text: str, secret: str | None) -> str:
    """Return an error message with ``secret`` masked and cut to :data:`MAX_ERROR_CHARS`.

    A server may echo the key it rejected, so both clients pass the text of server and
    connection errors through here before it is logged or stored.
    """
    if secret:
        text = text.replace(secret, "***")
    if len(text) > MAX_ERROR_CHARS:
        text = text[:MAX_ERROR_CHARS] + "..."
    return text


def read_api_key_file(path: Path, option: str) -> str:
    """Return the API key: the first line of ``path``, stripped.

    Raises:
        InputError: the file cannot be read or is empty; the fix names ``option``, the
            command-line option that gave the file.
    """
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(
            f"cannot read the API key file: {error.strerror or error}",
            path=path,
            fix=f"pass {option} with a readable file whose first line is the key",
        ) from None

    key = text.strip().splitlines()[0].strip() if text.strip() else ""
    if not key:
        raise InputError("the API key file is empty", path=path, fix="write the key on the first line of the file")
    return key


def api_key_from_environment() -> str | None:
    """Return ``$OPENAI_API_KEY`` without surrounding whitespace, or None when it is unset or blank."""
    return os.environ.get(API_KEY_ENV, "").strip() or None
