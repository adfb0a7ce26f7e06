"""Model configurations: ``eval/models/<name>.yaml`` files and ``backend:value`` specs.

A configuration names the backend that serves the model and how to talk to it: the served model
name, the default protocol, pixel limits, decoding settings and how the model writes boxes
(``absolute`` pixels of the image it was shown, or ``norm1000``, 0-1000 on each axis).

``--model`` accepts a file name from ``eval/models`` (``zoomearth-3b``), the path of such a
YAML file, or a spec:
``openai:NAME`` (any OpenAI-compatible server at ``--endpoint``), ``transformers:PATH``
(local weights), ``replay:FILE`` (an existing predictions file), ``majority`` or ``random``.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lrsgro.errors import InputError
from lrsgro.resources import eval_path

Backend = Literal["openai", "transformers", "replay", "majority", "random"]
Protocol = Literal["zoom", "direct", "blind", "oracle-crop"]
BoxConvention = Literal["absolute", "norm1000"]

PROTOCOLS: tuple[str, ...] = ("zoom", "direct", "blind", "oracle-crop")
MODEL_FREE: tuple[str, ...] = ("majority", "random")


class Decoding(BaseModel):
    """Sampling settings sent with every request.

    Attributes:
        temperature: sampling temperature; 0 requests greedy decoding.
        top_p: nucleus sampling mass, or None for the server default.
        max_tokens: the most tokens one reply may have.
        seed: the sampling seed, or None.
    """

    model_config = ConfigDict(extra="forbid")

    temperature: float = 0.0
    top_p: float | None = None
    max_tokens: int = Field(1024, gt=0)
    seed: int | None = None


class ModelConfig(BaseModel):
    """How to run one model.

    Attributes:
        name: the name given to ``--model``.
        backend: which backend serves it.
        served_model: the model name sent to the server (``openai``), the weights folder
            (``transformers``) or the predictions file (``replay``).
        endpoint: the default server URL (``openai``); ``--endpoint`` overrides it.
        protocol: the default protocol.
        box_convention: ``absolute`` (pixels of the image shown) or ``norm1000``.
        max_pixels: the maximum pixel count of one image; inputs above it are rejected
            before any request. None means no limit.
        view_side: long side in pixels of the global view in ``zoom`` and ``oracle-crop``.
        crop_side: long side in pixels at most of a crop sent to the model.
        direct_side: long side in pixels of the image in ``direct`` (``--max-side``).
        min_crop_side: the ZoomEarth crop rule grows a box side under this many
            full-resolution pixels to this size.
        stage2_turn: how stage 2 of ``zoom`` continues the conversation: ``user`` sends the
            crop in a new user turn after the stage-1 reply; ``assistant`` appends the crop to
            the stage-1 reply and asks the server to continue that assistant turn (the layout
            ZoomEarth was trained with; vLLM's ``continue_final_message``).
        decoding: sampling settings.
        extra_body: extra JSON fields sent with each ``openai`` request (server-specific).
        description: one line for listings.
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    backend: Backend
    served_model: str | None = None
    endpoint: str | None = None
    protocol: Protocol | None = None
    box_convention: BoxConvention = "absolute"
    max_pixels: int | None = Field(None, gt=0)
    view_side: int = Field(512, gt=0)
    crop_side: int = Field(512, gt=0)
    direct_side: int = Field(1024, gt=0)
    min_crop_side: int = Field(512, gt=0)
    stage2_turn: Literal["user", "assistant"] = "user"
    decoding: Decoding = Field(default_factory=Decoding)
    extra_body: dict[str, Any] = Field(default_factory=dict)
    description: str | None = None

    @property
    def model_free(self) -> bool:
        return self.backend in MODEL_FREE

    def default_protocol(self) -> str:
        """Return the protocol to use without ``--protocol``: ``none`` for model-free baselines."""
        if self.model_free:
            return "none"
        return self.protocol or "direct"


def models_dir() -> Path:
    """Return the folder of model configuration files."""
    return eval_path("models")


def model_names() -> list[str]:
    """Return the names of the model configuration files, sorted."""
    folder = models_dir()
    if not folder.is_dir():
        return []
    return sorted(path.stem for path in folder.glob("*.yaml"))


def load_model_config(path: Path) -> ModelConfig:
    """Read one model configuration file; its ``name`` defaults to the file name.

    Raises:
        InputError: the file is not valid YAML or has unknown or invalid fields.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise InputError(f"invalid YAML: {error}", path=path) from error
    if not isinstance(data, dict):
        raise InputError("a model configuration must be a mapping", path=path)

    data.setdefault("name", path.stem)
    try:
        return ModelConfig.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InputError(f"invalid model configuration: {where}: {first['msg']}", path=path) from error


def resolve_model(spec: str) -> ModelConfig:
    """Turn a ``--model`` value into a configuration.

    Raises:
        InputError: the value names no configuration file and is no valid spec.
    """
    spec = spec.strip()
    if spec in MODEL_FREE:
        return ModelConfig(name=spec, backend=spec)  # type: ignore[arg-type]

    backend, sep, value = spec.partition(":")
    if sep and backend in ("openai", "transformers", "replay"):
        if not value:
            raise InputError(f"model spec {spec!r} lacks a value after '{backend}:'")
        return ModelConfig(name=spec, backend=backend, served_model=value)  # type: ignore[arg-type]

    path = models_dir() / f"{spec}.yaml"
    if path.is_file():
        return load_model_config(path)
    if spec.endswith((".yaml", ".yml")) and Path(spec).is_file():
        return load_model_config(Path(spec))

    known = ", ".join(model_names()) or "(none)"
    raise InputError(
        f"unknown model {spec!r}",
        fix=f"use a configuration name ({known}), a YAML file, or a spec: openai:NAME, transformers:PATH, "
        "replay:FILE, majority, random",
    )


def sanitize_endpoint(url: str | None) -> str | None:
    """Return ``url`` without user info, query string or fragment, for the run log."""
    if url is None:
        return None
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
