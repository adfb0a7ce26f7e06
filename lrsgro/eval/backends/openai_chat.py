"""The ``openai`` backend: any OpenAI-compatible chat server (vLLM, SGLang, a hosted API).

Images go as JPEG ``data:`` URLs in ``image_url`` parts. The client's own retries are off
(``max_retries=0``) because ``lrsgro.eval.retry`` retries with backoff and jitter and counts
attempts in the run log. Error messages are cut to a few hundred characters and scrubbed of
the API key, since a server may echo the key it rejected.
"""

from __future__ import annotations

import base64
import logging
import time
from typing import Any

from lrsgro.eval.backends.base import BackendError, ChatRequest, Completion, ImagePart, Message, TextPart
from lrsgro.eval.config import Decoding, sanitize_endpoint
from lrsgro.imagery.encode import encode_jpeg
from lrsgro.openai_client import PLACEHOLDER_API_KEY, is_retryable_status, retry_after_seconds, scrub_error

logger = logging.getLogger(__name__)

JPEG_QUALITY = 90


class OpenAIChatBackend:
    """A chat client for one model on one OpenAI-compatible server.

    Args:
        endpoint: the base URL, e.g. ``http://127.0.0.1:8000/v1``.
        model: the model name the server knows.
        api_key: the key, or None for servers that need none.
        decoding: sampling settings sent with each request.
        extra_body: extra JSON fields for the server.
    """

    name = "openai"

    def __init__(
        self,
        endpoint: str,
        model: str,
        api_key: str | None,
        decoding: Decoding,
        extra_body: dict[str, Any] | None = None,
    ) -> None:
        from openai import OpenAI

        self.endpoint = endpoint
        self.model = model
        self.decoding = decoding
        self.extra_body = dict(extra_body or {})
        self._secret = api_key
        self._client = OpenAI(base_url=endpoint, api_key=api_key or PLACEHOLDER_API_KEY, max_retries=0)

    def complete(self, request: ChatRequest, timeout_s: float) -> Completion:
        import openai

        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": [_to_openai_message(message) for message in request.messages],
            "temperature": self.decoding.temperature,
            "max_tokens": self.decoding.max_tokens,
            "timeout": timeout_s,
        }
        if self.decoding.top_p is not None:
            kwargs["top_p"] = self.decoding.top_p
        if self.decoding.seed is not None:
            kwargs["seed"] = self.decoding.seed

        body = dict(self.extra_body)
        if request.continue_final:
            body.update({"continue_final_message": True, "add_generation_prompt": False})
        if body:
            kwargs["extra_body"] = body

        start = time.monotonic()
        try:
            response = self._client.chat.completions.create(**kwargs)
        except openai.APITimeoutError as error:
            raise BackendError(f"request timed out after {timeout_s:g} s", "timeout") from error
        except openai.APIConnectionError as error:
            raise BackendError(f"connection to {sanitize_endpoint(self.endpoint)} failed: {self._clean(error)}", "connection") from error
        except openai.APIStatusError as error:
            raise self._status_error(error) from error

        latency = time.monotonic() - start
        if not response.choices:
            raise BackendError("the server returned no choices", "server")

        choice = response.choices[0]
        usage = response.usage
        return Completion(
            text=choice.message.content or "",
            prompt_tokens=usage.prompt_tokens if usage is not None else None,
            completion_tokens=usage.completion_tokens if usage is not None else None,
            latency_s=latency,
            finish_reason=choice.finish_reason,
        )

    def describe(self) -> dict[str, Any]:
        return {"endpoint": sanitize_endpoint(self.endpoint), "served_model": self.model}

    def close(self) -> None:
        self._client.close()

    def _status_error(self, error: Any) -> BackendError:
        status = error.status_code
        message = f"HTTP {status}: {self._clean(error)}"
        retry_after = retry_after_seconds(error.response.headers.get("retry-after"))
        if status == 429:
            return BackendError(message, "rate_limit", retry_after)
        if is_retryable_status(status):
            return BackendError(message, "timeout" if status == 408 else "server", retry_after)
        return BackendError(message, "request")

    def _clean(self, error: Exception) -> str:
        return scrub_error(str(getattr(error, "message", None) or error), self._secret)


def image_data_url(part: ImagePart) -> str:
    """Return the image as a ``data:image/jpeg;base64,...`` URL."""
    encoded = base64.b64encode(encode_jpeg(part.pixels, JPEG_QUALITY)).decode("ascii")
    return f"data:image/jpeg;base64,{encoded}"


def _to_openai_message(message: Message) -> dict[str, Any]:
    if all(isinstance(part, TextPart) for part in message.parts):
        return {"role": message.role, "content": message.text}

    content: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, ImagePart):
            content.append({"type": "image_url", "image_url": {"url": image_data_url(part)}})
        else:
            content.append({"type": "text", "text": part.text})
    return {"role": message.role, "content": content}
