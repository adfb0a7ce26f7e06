"""VLM drafting: candidate questions that labels alone cannot decide, drafted by a
vision-language model from three views of a target and filtered by reviewers later.

Entry point: :func:`draft_questions`. The ``--vlm-*`` command-line options come from
:func:`add_vlm_options` and :func:`vlm_config_from_options`. ``draft_questions`` is imported
on first use, so the CLI does not import the openai client unless drafting runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lrsgro.vlm.config import VlmConfig
from lrsgro.vlm.options import add_vlm_options, vlm_config_from_options
from lrsgro.vlm.report import DraftProgress, DraftReport, DraftResult
from lrsgro.vlm.targets import DEFAULT_CATEGORIES, DraftTarget, Referent

if TYPE_CHECKING:
    from lrsgro.vlm.stage import draft_questions

__all__ = [
    "DEFAULT_CATEGORIES",
    "DraftProgress",
    "DraftReport",
    "DraftResult",
    "DraftTarget",
    "Referent",
    "VlmConfig",
    "add_vlm_options",
    "draft_questions",
    "vlm_config_from_options",
]


def __getattr__(name: str) -> Any:
    if name == "draft_questions":
        from lrsgro.vlm.stage import draft_questions

        return draft_questions
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
