"""Chat requests to an OpenAI-compatible server, with our own retries.

The openai client's retries are turned off (``max_retries=0``) so every HTTP attempt is
counted here. Timeouts, dropped connections, 408, 409, 429 and 5xx replies are retried with
exponential backoff and jitter; 401, 403 and 404 mean the endpoint, key or model is wrong
and stop the whole run; other 4xx replies fail that one request.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass
from typing import Any

import openai

from lrsgro.openai_client import backoff_delay, is_retryable_status, retry_after_seconds, scrub_error

logger = logging.getLogger(__name__)

FATAL_STATUSES = frozenset({401, 403, 404})


@dataclass(frozen=True)
class Completion:
    """The text and token usage of one successful request.

    Attributes:
        text: the assistant message content ("" when the server sent none).
        prompt_tokens, completion_tokens: usage as reported; None when the server sent none.
        finish_reason: why generation stopped (``stop``, ``length`` ...).
        attempts: HTTP attempts made, the successful one included.
    """

    text: str
    prompt_tokens: int | None
    completion_tokens: int | None
    finish_reason: str | None
    attempts: int


class RequestFailed(Exception):
    """A request that did not succeed within its attempts, or must not be retried.

    Attributes:
        attempts: HTTP attempts made.
        fatal: the failure means every other request would fail too (bad key, model, URL).
    """

    def __init__(self, message: str, *, attempts: int, fatal: bool = False) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.fatal = fatal


class ChatClient:
    """Send chat completion requests, retrying transient failures.

    Args:
        endpoint: base URL of the server.
        api_key: the key; it is removed from every error message this class produces.
        timeout_s: seconds one HTTP attempt may take.
        max_attempts: attempts per request, the first one included.
        backoff_base_s: delay before the first retry; it doubles with each retry.
        backoff_max_s: upper limit of one delay.
        stop: when set, waiting requests give up instead of retrying.
    """

    def __init__(
        self,
        *,
        endpoint: str,
        api_key: str,
        timeout_s: float,
        max_attempts: int,
        backoff_base_s: float,
        backoff_max_s: float,
        stop: threading.Event,
    ) -> None:
        self._client = openai.OpenAI(
            base_url=endpoint, api_key=api_key, timeout=timeout_s, max_retries=0
        )
        self._key = api_key
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self._stop = stop
        self._random = random.Random()

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    def complete(self, request: dict[str, Any], label: str) -> Completion:
        """Send one chat completion request (the keyword arguments of ``create``).

        Args:
            request: ``model``, ``messages`` and decoding settings.
            label: the id logged with retries and failures.

        Raises:
            RequestFailed: every attempt failed, the failure cannot be retried, or the run
                was stopped while waiting to retry.
        """
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = self._client.chat.completions.create(**request)
            except openai.APIStatusError as error:
                status = error.status_code
                message = self._describe(error)
                if status in FATAL_STATUSES:
                    raise RequestFailed(message, attempts=attempt, fatal=True) from None
                if not is_retryable_status(status):
                    raise RequestFailed(message, attempts=attempt) from None
                retry_after = _retry_after(error)
            except openai.APIConnectionError as error:
                # APITimeoutError is a subclass: a timed-out attempt and a dropped connection
                # are both worth another try.
                message = self._describe(error)
                retry_after = None

            else:
                return _completion(response, attempt)

            if attempt == self.max_attempts:
                raise RequestFailed(
                    f"{message} (gave up after {attempt} attempts)", attempts=attempt
                )
            delay = self._delay(attempt, retry_after)
            logger.info(
                "%s: attempt %d of %d failed (%s); retrying in %.2f s",
                label,
                attempt,
                self.max_attempts,
                message,
                delay,
            )
            if self._stop.wait(delay):
                raise RequestFailed(f"{message} (run stopped before the retry)", attempts=attempt)

        raise AssertionError("unreachable: the loop returns or raises")

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        # Equal jitter: the wait lies between half and all of the backoff.
        jitter = self._random.uniform(0.5, 1.0)
        return backoff_delay(attempt - 1, self.backoff_base_s, self.backoff_max_s, jitter, retry_after)

    def _describe(self, error: openai.APIError) -> str:
        if isinstance(error, openai.APITimeoutError):
            text = "request timed out"
        elif isinstance(error, openai.APIStatusError):
            text = f"HTTP {error.status_code}: {error.message}"
        else:
            text = f"connection failed: {error}"
        return scrub_error(text, self._key)


def _completion(response: Any, attempts: int) -> Completion:
    choices = getattr(response, "choices", None) or []
    text = ""
    finish_reason = None
    if choices:
        text = choices[0].message.content or ""
        finish_reason = choices[0].finish_reason
    usage = getattr(response, "usage", None)
    return Completion(
        text=text,
        prompt_tokens=getattr(usage, "prompt_tokens", None) if usage else None,
        completion_tokens=getattr(usage, "completion_tokens", None) if usage else None,
        finish_reason=finish_reason,
        attempts=attempts,
    )


def _retry_after(error: openai.APIStatusError) -> float | None:
    return retry_after_seconds(error.response.headers.get("retry-after") if error.response is not None else None)
