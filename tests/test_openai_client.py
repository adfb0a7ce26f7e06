"""Retry rules, error cleaning and key lookup shared by the evaluation and VLM clients."""

from __future__ import annotations

from pathlib import Path

import pytest

from lrsgro.errors import InputError
from lrsgro.eval.retry import RetryPolicy
from lrsgro.openai_client import (
    MAX_ERROR_CHARS,
    api_key_from_environment,
    backoff_delay,
    is_retryable_status,
    read_api_key_file,
    retry_after_seconds,
    scrub_error,
)


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(400, False), (401, False), (404, False), (408, True), (409, True), (422, False), (429, True),
     (500, True), (503, True), (599, True)],
)
def test_retryable_statuses(status: int, retryable: bool) -> None:
    assert is_retryable_status(status) is retryable


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(None, None), ("2", 2.0), ("0.5", 0.5), ("0", 0.0), ("-1", None), ("Wed, 21 Oct 2015 07:28:00 GMT", None)],
)
def test_retry_after_parsing(value: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value) == seconds


def test_backoff_doubles_until_cap() -> None:
    waits = [backoff_delay(retry, 1.0, 10.0, 1.0) for retry in range(6)]

    assert waits == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_backoff_scaled_by_jitter() -> None:
    assert backoff_delay(2, 1.0, 60.0, 0.25) == 1.0
    assert backoff_delay(2, 1.0, 60.0, 0.0) == 0.0


def test_backoff_honours_retry_after_within_cap() -> None:
    assert backoff_delay(0, 1.0, 60.0, 0.5, retry_after=7.0) == 7.0
    assert backoff_delay(0, 1.0, 60.0, 0.5, retry_after=0.1) == 0.5
    assert backoff_delay(0, 1.0, 60.0, 0.5, retry_after=600.0) == 60.0


def test_retry_policy_uses_draw() -> None:
    policy = RetryPolicy(base_delay_s=2.0, max_delay_s=30.0)

    assert policy.delay(1, None, lambda: 0.5) == 2.0
    assert policy.delay(5, 45.0, lambda: 0.1) == 30.0


def test_scrub_error_masks_key() -> None:
    text = scrub_error("invalid key sk-secret-1 (sk-secret-1)", "sk-secret-1")

    assert "sk-secret-1" not in text
    assert text == "invalid key *** (***)"


def test_scrub_error_truncates() -> None:
    text = scrub_error("x" * (MAX_ERROR_CHARS + 50), None)

    assert text == "x" * MAX_ERROR_CHARS + "..."


def test_key_file_first_line(tmp_path: Path) -> None:
    path = tmp_path / "key.txt"
    path.write_text("\n  sk-first  \nsk-second\n", encoding="utf-8")

    assert read_api_key_file(path, "--api-key-file") == "sk-first"


@pytest.mark.parametrize("content", [None, "", " \n\n"])
def test_key_file_unusable(tmp_path: Path, content: str | None) -> None:
    path = tmp_path / "key.txt"
    if content is not None:
        path.write_text(content, encoding="utf-8")

    with pytest.raises(InputError) as caught:
        read_api_key_file(path, "--api-key-file")

    assert caught.value.path == str(path)
    assert caught.value.fix is not None


def test_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "  sk-env \n")
    assert api_key_from_environment() == "sk-env"

    monkeypatch.setenv("OPENAI_API_KEY", "   ")
    assert api_key_from_environment() is None

    monkeypatch.delenv("OPENAI_API_KEY")
    assert api_key_from_environment() is None
