"""Retries of model requests: exponential backoff with full jitter and a timeout per attempt.

Rate limits (429), server errors (5xx), timeouts and dropped connections are retried; any
other failure, or the last retryable one, is returned as the outcome's error, which the
runner writes as an error record.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from lrsgro.eval.backends.base import BackendError, ChatBackend, ChatRequest, Completion
from lrsgro.openai_client import backoff_delay

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one request.

    Attributes:
        retries: attempts after the first one.
        base_delay_s: the wait before the first retry is drawn from 0 to this many seconds;
            the range doubles with each retry.
        max_delay_s: the longest wait between attempts, in seconds.
        timeout_s: seconds one attempt may take.
    """

    retries: int = 4
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0
    timeout_s: float = 120.0

    def delay(self, retry: int, retry_after: float | None, draw: Callable[[], float]) -> float:
        """Return the wait before retry number ``retry`` (0-based), with full jitter from ``draw``."""
        return backoff_delay(retry, self.base_delay_s, self.max_delay_s, draw(), retry_after)


@dataclass(frozen=True)
class CallOutcome:
    """The result of a request after retries: a completion or the last error."""

    completion: Completion | None
    error: BackendError | None
    attempts: int
    elapsed_s: float


def call_with_retries(
    backend: ChatBackend,
    request: ChatRequest,
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    draw: Callable[[], float] = random.random,
) -> CallOutcome:
    """Send ``request`` until it succeeds, fails for good, or runs out of retries."""
    start = time.monotonic()
    attempts = 0
    while True:
        attempts += 1
        try:
            completion = backend.complete(request, policy.timeout_s)
        except BackendError as error:
            if not error.retryable or attempts > policy.retries:
                logger.warning("%s failed after %d attempt(s): %s", request.tag, attempts, error)
                return CallOutcome(None, error, attempts, time.monotonic() - start)

            wait = policy.delay(attempts - 1, error.retry_after, draw)
            logger.info("%s: %s (%s); retry %d in %.2f s", request.tag, error.kind, error, attempts, wait)
            sleep(wait)
            continue
        return CallOutcome(completion, None, attempts, time.monotonic() - start)
