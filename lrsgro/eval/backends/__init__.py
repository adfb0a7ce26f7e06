"""Chat backends, one module per kind: OpenAI-compatible servers and local transformers."""

from lrsgro.eval.backends.base import (
    BackendError,
    ChatBackend,
    ChatRequest,
    Completion,
    ImagePart,
    Message,
    TextPart,
)

__all__ = ["BackendError", "ChatBackend", "ChatRequest", "Completion", "ImagePart", "Message", "TextPart"]
