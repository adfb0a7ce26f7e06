"""The ``--vlm-*`` options of ``lrsgro build`` and their conversion to a :class:`VlmConfig`.

Usage in a click command::

    @click.command()
    @add_vlm_options
    def build(..., **vlm_options):
        vlm_config = vlm_config_from_options(vlm_options)   # None: drafting is off

There is no option for the API key itself, because a command line ends up in shell history,
process lists and run logs: the key comes from ``OPENAI_API_KEY`` or ``--vlm-api-key-file``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from lrsgro.errors import InputError
from lrsgro.resources import cache_root
from lrsgro.vlm.config import VlmConfig

F = TypeVar("F", bound=Callable[..., Any])

OPTION_NAMES = (
    "vlm_endpoint",
    "vlm_model",
    "vlm_concurrency",
    "vlm_cache",
    "vlm_budget_usd",
    "vlm_price_input",
    "vlm_price_output",
    "vlm_api_key_file",
    "vlm_timeout",
    "vlm_json_mode",
)

_OPTIONS = (
    click.option(
        "--vlm-endpoint",
        metavar="URL",
        default=None,
        help="Base URL of an OpenAI-compatible server (e.g. http://127.0.0.1:8000/v1) that drafts "
        "state, material and scene questions. Without it no VLM drafting is done.",
    ),
    click.option("--vlm-model", metavar="NAME", default=None, help="Model name sent to the VLM endpoint."),
    click.option(
        "--vlm-concurrency",
        metavar="N",
        type=click.IntRange(min=1),
        default=4,
        show_default=True,
        help="Requests sent to the VLM endpoint at once.",
    ),
    click.option(
        "--vlm-cache",
        metavar="DIR",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Folder of cached VLM responses (one file per request), so a re-run or a resumed run "
        "sends only the missing requests. Default: $LRSGRO_CACHE/vlm, else $XDG_CACHE_HOME/lrsgro/vlm, "
        "else ~/.cache/lrsgro/vlm.",
    ),
    click.option(
        "--vlm-budget-usd",
        metavar="X",
        type=click.FloatRange(min=0),
        default=None,
        help="Stop sending VLM requests once this many US dollars are spent; needs both prices.",
    ),
    click.option(
        "--vlm-price-input",
        metavar="USD",
        type=click.FloatRange(min=0),
        default=None,
        help="Price of prompt tokens in US dollars per million tokens, for the cost report.",
    ),
    click.option(
        "--vlm-price-output",
        metavar="USD",
        type=click.FloatRange(min=0),
        default=None,
        help="Price of completion tokens in US dollars per million tokens, for the cost report.",
    ),
    click.option(
        "--vlm-api-key-file",
        metavar="PATH",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="File whose first line is the VLM API key. Default: the OPENAI_API_KEY environment "
        "variable, else the placeholder key EMPTY that local servers accept.",
    ),
    click.option(
        "--vlm-timeout",
        metavar="SECONDS",
        type=click.FloatRange(min=0, min_open=True),
        default=120.0,
        show_default=True,
        help="Seconds one VLM request attempt may take before it is retried.",
    ),
    click.option(
        "--vlm-json-mode/--no-vlm-json-mode",
        default=True,
        show_default=True,
        help="Ask the VLM server for JSON output (response_format); turn off for servers that reject it.",
    ),
)


def add_vlm_options(command: F) -> F:
    """Add the ``--vlm-*`` options to a click command (use as a decorator)."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def vlm_config_from_options(
    options: Mapping[str, Any], *, default_cache: Path | None = None
) -> VlmConfig | None:
    """Build the VLM settings from the parsed ``--vlm-*`` options.

    Args:
        options: the command's keyword arguments; keys other than the vlm options are ignored.
        default_cache: cache folder used when ``--vlm-cache`` is not given; None means
            :func:`default_cache_dir`.

    Returns:
        None when ``--vlm-endpoint`` is not given, so drafting is off.

    Raises:
        InputError: ``--vlm-model`` is missing, or a VLM option is given without the endpoint.
    """
    endpoint = options.get("vlm_endpoint")
    if not endpoint:
        without_endpoint = [
            "--" + name.replace("_", "-")
            for name in ("vlm_model", "vlm_cache", "vlm_budget_usd", "vlm_api_key_file")
            if options.get(name) is not None
        ]
        if without_endpoint:
            raise InputError(
                f"{', '.join(without_endpoint)} given without --vlm-endpoint",
                fix="pass --vlm-endpoint URL to turn VLM drafting on, or drop the other --vlm options",
            )
        return None

    model = options.get("vlm_model")
    if not model:
        raise InputError("--vlm-endpoint needs --vlm-model", fix="pass --vlm-model NAME")

    return VlmConfig(
        endpoint=endpoint,
        model=model,
        api_key_file=options.get("vlm_api_key_file"),
        concurrency=options.get("vlm_concurrency") or 4,
        cache_dir=options.get("vlm_cache") or default_cache or default_cache_dir(),
        budget_usd=options.get("vlm_budget_usd"),
        price_input_per_million=options.get("vlm_price_input"),
        price_output_per_million=options.get("vlm_price_output"),
        timeout_s=options.get("vlm_timeout") or 120.0,
        json_mode=options.get("vlm_json_mode", True),
    )


def default_cache_dir() -> Path:
    """Return ``$LRSGRO_CACHE/vlm``, else ``$XDG_CACHE_HOME/lrsgro/vlm``, else ``~/.cache/lrsgro/vlm``.

    The cache lives outside the dataset folder so it is never published with the dataset.
    Entries are keyed by request hash, so builds can share it.
    """
    return cache_root() / "vlm"
