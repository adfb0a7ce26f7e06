"""VLM drafting: candidate questions that labels alone cannot decide, drafted by a
vision-language model from three views of a target and filtered by reviewers later.

Entry point: :func:`draft_questions`. The ``--vlm-*`` command-line options come from
:func:`add_vlm_options` and :func:`vlm_config_from_options`.
"""

from lrsgro.vlm.config import VlmConfig
from lrsgro.vlm.options import add_vlm_options, vlm_config_from_options
from lrsgro.vlm.report import DraftProgress, DraftReport, DraftResult
from lrsgro.vlm.stage import draft_questions
from lrsgro.vlm.targets import DEFAULT_CATEGORIES, DraftTarget, Referent

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
