"""What every chat backend shares: messages, requests, completions and failures.

A backend sends one chat request and returns one completion, or raises
:class:`BackendError` saying whether a retry could help. Retries, waits and error records
are the runner's job (``lrsgro.eval.retry``), so a backend stays a thin adapter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

Role = Literal["system", "user", "assistant"]
ErrorKind = Literal["rate_limit", "server", "timeout", "connection", "request", "input"]

RETRYABLE_KINDS: frozenset[str] = frozenset({"rate_limit", "server", "timeout", "connection"})


@dataclass(frozen=True)
class TextPart:
    """Text inside a message."""

    text: str


@dataclass(frozen=True)
class ImagePart:
    """An image inside a message: rows x cols x 3 uint8 RGB, already at the size to send."""

    pixels: np.ndarray = field(repr=False)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return int(self.pixels.shape[1]), int(self.pixels.shape[0])


Part = TextPart | ImagePart


@dataclass(frozen=True)
class Message:
    """One chat turn."""

    role: Role
    parts: tuple[Part, ...]

    @property
    def text(self) -> str:
        """The text parts joined, for logs and text-only backends."""
        return "".join(part.text for part in self.parts if isinstance(part, TextPart))


@dataclass(frozen=True)
class ChatRequest:
    """One request to a model.

    Attributes:
        messages: the conversation so far.
        continue_final: the last message is an assistant turn the model must continue
            instead of starting a new one (vLLM's ``continue_final_message``).
        tag: a label for logs, such as ``<qid>/stage1``.
    """

    messages: tuple[Message, ...]
    continue_final: bool = False
    tag: str = ""

    @property
    def images(self) -> list[ImagePart]:
        return [part for message in self.messages for part in message.parts if isinstance(part, ImagePart)]


@dataclass(frozen=True)
class Completion:
    """One reply of a model.

    Attributes:
        text: the reply text.
        prompt_tokens: input tokens, when the backend reports them.
        completion_tokens: output tokens, when the backend reports them.
        latency_s: seconds the request took.
        finish_reason: why generation stopped, when reported (``stop``, ``length``...).
    """

    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float = 0.0
    finish_reason: str | None = None


class BackendError(Exception):
    """A request that failed.

    Args:
        message: what failed, never containing a credential.
        kind: the failure class; ``rate_limit``, ``server``, ``timeout`` and ``connection``
            are worth a retry, ``request`` and ``input`` are not.
        retry_after: seconds the server asked to wait, when it said.
    """

    def __init__(self, message: str, kind: ErrorKind, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE_KINDS


class ChatBackend(Protocol):
    """The interface of a backend module's client class."""

    name: str

    def complete(self, request: ChatRequest, timeout_s: float) -> Completion:
        """Send ``request`` once, waiting at most ``timeout_s`` seconds.

        Raises:
            BackendError: the request failed.
        """
        ...

    def describe(self) -> dict[str, Any]:
        """Return what identifies the backend in the manifest, without credentials."""
        ...

    def close(self) -> None:
        """Release connections or model memory."""
        ...
