"""Token and cost accounting shared by the drafting workers, with the budget stop."""

from __future__ import annotations

import logging
import threading

from lrsgro.vlm.config import VlmConfig

logger = logging.getLogger(__name__)


class Ledger:
    """Count tokens and cost; refuse new requests once the budget would be exceeded.

    A request is reserved before it is sent and settled when it ends. With a budget, a new
    request is refused when the spent cost plus the in-flight requests plus this one, each
    priced at the most expensive request so far, would pass the budget. Once one request is
    refused, all later ones are too, so the stop is clean.

    NOTE: the estimate is zero until the first response arrives, so the first
    ``concurrency`` requests are always sent and can exceed a tiny budget.
    """

    def __init__(self, config: VlmConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self.input_tokens = 0
        self.output_tokens = 0
        self.responses_without_usage = 0
        self._cost = 0.0
        self._max_request_cost = 0.0
        self._in_flight = 0
        self.budget_reached = False

    @property
    def cost_usd(self) -> float | None:
        """Spent USD, or None when prices are unknown."""
        return self._cost if self._config.priced else None

    def reserve(self) -> bool:
        """Reserve one request; return False when the budget stops it."""
        budget = self._config.budget_usd
        with self._lock:
            if budget is not None:
                projected = self._cost + (self._in_flight + 1) * self._max_request_cost
                if self.budget_reached or self._cost >= budget or projected > budget:
                    self.budget_reached = True
                    return False
            self._in_flight += 1
            return True

    def settle(self, prompt_tokens: int | None, completion_tokens: int | None) -> None:
        """Record the usage of a reserved request that got a response."""
        with self._lock:
            self._in_flight -= 1
            if prompt_tokens is None and completion_tokens is None:
                self.responses_without_usage += 1
                if self.responses_without_usage == 1 and self._config.budget_usd is not None:
                    logger.warning(
                        "the server sent a response without token usage, so its cost is unknown "
                        "and the budget cannot count it"
                    )
            self.input_tokens += prompt_tokens or 0
            self.output_tokens += completion_tokens or 0
            cost = self._config.cost_usd(prompt_tokens or 0, completion_tokens or 0)
            if cost is not None:
                self._cost += cost
                self._max_request_cost = max(self._max_request_cost, cost)

    def release(self) -> None:
        """End a reserved request that failed without a response."""
        with self._lock:
            self._in_flight -= 1
