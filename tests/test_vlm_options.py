"""The --vlm-* click options, their conversion to VlmConfig, and where the API key comes from."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from lrsgro.errors import InputError
from lrsgro.vlm import VlmConfig, add_vlm_options, vlm_config_from_options
from lrsgro.vlm.config import resolve_api_key


@click.command()
@add_vlm_options
def fake_build(**vlm_options) -> None:
    config = vlm_config_from_options(vlm_options)
    if config is None:
        click.echo("vlm off")
        return
    fields = {name: getattr(config, name) for name in config.__dataclass_fields__}
    click.echo(json.dumps(fields, default=str))


def invoke(*args: str):
    return CliRunner().invoke(fake_build, list(args), catch_exceptions=True)


def test_options_build_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LRSGRO_CACHE", str(tmp_path / "caches"))
    result = invoke(
        "--vlm-endpoint", "http://127.0.0.1:8000/v1", "--vlm-model", "qwen2.5-vl-7b",
        "--vlm-concurrency", "8", "--vlm-budget-usd", "2.5", "--vlm-price-input", "0.2",
        "--vlm-price-output", "0.6", "--vlm-timeout", "30", "--no-vlm-json-mode",
    )

    assert result.exit_code == 0, result.output
    fields = json.loads(result.output)
    assert fields["endpoint"] == "http://127.0.0.1:8000/v1"
    assert fields["model"] == "qwen2.5-vl-7b"
    assert fields["concurrency"] == 8
    assert fields["budget_usd"] == 2.5
    assert fields["price_input_per_million"] == 0.2
    assert fields["price_output_per_million"] == 0.6
    assert fields["timeout_s"] == 30.0
    assert fields["json_mode"] is False
    assert fields["cache_dir"] == str(tmp_path / "caches" / "vlm")


def test_cache_option_overrides_default(tmp_path: Path) -> None:
    result = invoke("--vlm-endpoint", "http://127.0.0.1/v1", "--vlm-model", "m", "--vlm-cache", str(tmp_path / "c"))

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["cache_dir"] == str(tmp_path / "c")


def test_no_endpoint_turns_drafting_off() -> None:
    result = invoke()

    assert result.exit_code == 0
    assert result.output.strip() == "vlm off"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--vlm-model", "m"], "--vlm-model given without --vlm-endpoint"),
        (["--vlm-endpoint", "http://127.0.0.1:8000/v1"], "needs --vlm-model"),
        (["--vlm-endpoint", "127.0.0.1:8000", "--vlm-model", "m"], "invalid VLM endpoint"),
        (["--vlm-endpoint", "http://127.0.0.1/v1", "--vlm-model", "m", "--vlm-budget-usd", "1"], "needs token prices"),
    ],
)
def test_invalid_option_combinations(args: list[str], message: str) -> None:
    result = invoke(*args)

    assert isinstance(result.exception, InputError)
    assert message in str(result.exception)


def test_negative_concurrency_rejected_by_click() -> None:
    result = invoke("--vlm-endpoint", "http://127.0.0.1/v1", "--vlm-model", "m", "--vlm-concurrency", "0")

    assert result.exit_code == 2
    assert "--vlm-concurrency" in result.output


def test_help_lists_every_option_with_units() -> None:
    result = invoke("--help")
    text = " ".join(result.output.split())

    for option in ("--vlm-endpoint", "--vlm-model", "--vlm-concurrency", "--vlm-cache", "--vlm-budget-usd",
                   "--vlm-price-input", "--vlm-price-output", "--vlm-api-key-file", "--vlm-timeout"):
        assert option in text
    assert "US dollars per million tokens" in text
    assert "Seconds one VLM request attempt may take" in text


def test_endpoint_with_credentials_rejected_without_echo() -> None:
    with pytest.raises(InputError) as error:
        VlmConfig(endpoint="http://user:s3cret-pass@127.0.0.1:8000/v1", model="m")

    assert "s3cret-pass" not in str(error.value)
    assert "credentials" in str(error.value)


def test_endpoint_host_drops_scheme_and_path() -> None:
    config = VlmConfig(endpoint="https://api.example.org:8443/openai/v1", model="m")

    assert config.endpoint_host == "api.example.org:8443"


def test_key_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "key.txt"
    key_file.write_text("  from-file\nsecond line\n")
    monkeypatch.setenv("OPENAI_API_KEY", "from-env")
    base = dict(endpoint="http://127.0.0.1:8000/v1", model="m")

    assert resolve_api_key(VlmConfig(**base, api_key_file=key_file)) == "from-file"
    assert resolve_api_key(VlmConfig(**base)) == "from-env"
    monkeypatch.delenv("OPENAI_API_KEY")
    assert resolve_api_key(VlmConfig(**base)) == "EMPTY"


@pytest.mark.parametrize("content", [None, "", "\n\n"])
def test_unusable_key_file_rejected(tmp_path: Path, content: str | None) -> None:
    key_file = tmp_path / "key.txt"
    if content is not None:
        key_file.write_text(content)

    with pytest.raises(InputError) as error:
        resolve_api_key(VlmConfig(endpoint="http://127.0.0.1/v1", model="m", api_key_file=key_file))

    assert str(key_file) in str(error.value)


def test_config_never_shows_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-never-shown-123")
    config = VlmConfig(endpoint="http://127.0.0.1/v1", model="m")

    assert "sk-never-shown-123" not in repr(config)
