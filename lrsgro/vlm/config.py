"""Settings of the VLM drafting stage and the lookup of the endpoint's API key."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from lrsgro.errors import InputError
from lrsgro.openai_client import API_KEY_ENV, PLACEHOLDER_API_KEY, api_key_from_environment, read_api_key_file

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VlmConfig:
    """How to reach the model and how to draft.

    The API key is never stored here: it is read from ``api_key_file`` or the environment
    when the client starts, so it cannot leak through a repr, a log line or a report.

    Attributes:
        endpoint: base URL of an OpenAI-compatible server, e.g. ``http://127.0.0.1:8000/v1``.
        model: model name sent with every request.
        api_key_file: file whose first line is the API key; when unset, ``OPENAI_API_KEY``
            is used, and when that is unset too, the placeholder key ``EMPTY``.
        concurrency: requests in flight at once.
        cache_dir: folder of cached responses, one file per request hash; None disables the
            cache, so a re-run sends every request again.
        budget_usd: stop sending requests once this much has been spent (needs prices).
        price_input_per_million: USD per million prompt tokens.
        price_output_per_million: USD per million completion tokens.
        timeout_s: seconds one HTTP attempt may take before it counts as timed out.
        max_attempts: HTTP attempts per request, the first one included.
        backoff_base_s: delay before the first retry; it doubles with each further retry.
        backoff_max_s: upper limit of one retry delay.
        temperature: sampling temperature.
        max_tokens: completion token limit of one request.
        seed: sampling seed sent to servers that honour it.
        json_mode: ask the server for a JSON object (``response_format``); turn it off for
            servers that reject that field.
        global_side: long side in pixels of the downsampled whole-image view.
        crop_side: maximum long side in pixels of the region and object crops.
        jpeg_quality: JPEG quality of the views, 1 to 95.
        extra_questions: how many drafts of other types the model may add per target.
        prompts_dir: folder of the prompt templates; None means ``annotation/prompts``.
    """

    endpoint: str
    model: str
    api_key_file: Path | None = None
    concurrency: int = 4
    cache_dir: Path | None = None
    budget_usd: float | None = None
    price_input_per_million: float | None = None
    price_output_per_million: float | None = None
    timeout_s: float = 120.0
    max_attempts: int = 5
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    temperature: float = 0.0
    max_tokens: int = 1024
    seed: int | None = 0
    json_mode: bool = True
    global_side: int = 1024
    crop_side: int = 1024
    jpeg_quality: int = 90
    extra_questions: int = 2
    prompts_dir: Path | None = None

    def __post_init__(self) -> None:
        _check_endpoint(self.endpoint)
        if not self.model.strip():
            raise InputError("the VLM model name is empty", fix="pass --vlm-model NAME")
        _check_positive("concurrency", self.concurrency)
        _check_positive("max_attempts", self.max_attempts)
        _check_positive("timeout_s", self.timeout_s)
        _check_positive("max_tokens", self.max_tokens)
        _check_positive("global_side", self.global_side)
        _check_positive("crop_side", self.crop_side)
        if not 1 <= self.jpeg_quality <= 95:
            raise InputError(f"jpeg_quality must be between 1 and 95, got {self.jpeg_quality}")
        for name in ("budget_usd", "price_input_per_million", "price_output_per_million"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise InputError(f"{name} must not be negative, got {value}")
        if self.extra_questions < 0:
            raise InputError(f"extra_questions must not be negative, got {self.extra_questions}")
        if self.budget_usd is not None and not self.priced:
            raise InputError(
                f"a budget of {self.budget_usd} USD needs token prices to measure spending",
                fix="also pass --vlm-price-input and --vlm-price-output (USD per million tokens)",
            )

    @property
    def priced(self) -> bool:
        """Whether both token prices are known, so cost can be computed."""
        return self.price_input_per_million is not None and self.price_output_per_million is not None

    @property
    def endpoint_host(self) -> str:
        """Host and port of the endpoint, without scheme, credentials or path."""
        parts = urlsplit(self.endpoint)
        host = parts.hostname or ""
        return f"{host}:{parts.port}" if parts.port else host

    def cost_usd(self, input_tokens: int, output_tokens: int) -> float | None:
        """Return the price of the tokens in USD, or None when prices are unknown."""
        price_input = self.price_input_per_million
        price_output = self.price_output_per_million
        if price_input is None or price_output is None:
            return None
        return (input_tokens * price_input + output_tokens * price_output) / 1_000_000


def resolve_api_key(config: VlmConfig) -> str:
    """Return the API key from the named file, else ``OPENAI_API_KEY``, else ``EMPTY``.

    Raises:
        InputError: the named key file is missing, unreadable or empty.
    """
    if config.api_key_file is not None:
        path = Path(config.api_key_file).expanduser()
        key = read_api_key_file(path, "--vlm-api-key-file")
        logger.info("using the API key from %s", path)
        return key

    key = api_key_from_environment()
    if key:
        logger.info("using the API key from %s", API_KEY_ENV)
        return key

    logger.info(
        "no API key given (neither --vlm-api-key-file nor %s); sending the placeholder key %r, "
        "which local servers accept",
        API_KEY_ENV,
        PLACEHOLDER_API_KEY,
    )
    return PLACEHOLDER_API_KEY


def _check_endpoint(endpoint: str) -> None:
    parts = urlsplit(endpoint)
    # Checked first so that the message below never echoes a password.
    if parts.username or parts.password:
        raise InputError(
            "the VLM endpoint URL must not contain credentials",
            fix="remove user:password@ from the URL and pass the key with OPENAI_API_KEY "
            "or --vlm-api-key-file",
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(
            f"invalid VLM endpoint {endpoint!r}",
            fix="pass the server's base URL, e.g. --vlm-endpoint http://127.0.0.1:8000/v1",
        )


def _check_positive(name: str, value: float) -> None:
    if value <= 0:
        raise InputError(f"{name} must be positive, got {value}")
