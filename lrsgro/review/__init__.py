"""Human review in Label Studio: push candidates, pull verdicts, report progress.

- :func:`push_questions` creates one task per question, the proposal as a prediction, with a
  bounded preview and a full-resolution crop of the image;
- :func:`pull_verdicts` applies accept / edit / reject verdicts to the dataset folder;
- :func:`review_status` counts verdicts per type and the answer balance after review.

The labeling config is ``annotation/label_studio/review.xml`` and the reviewer guide
``annotation/GUIDELINES.md``.
"""

from lrsgro.review.client import API_KEY_ENV, LabelStudioClient
from lrsgro.review.filters import DEFAULT_FILTERS, parse_filters, parse_review_filters, select_questions
from lrsgro.review.previews import RenderSettings
from lrsgro.review.pull import PullReport, pull_verdicts
from lrsgro.review.push import ImageServing, PushReport, push_questions
from lrsgro.review.status import StatusReport, review_status

__all__ = [
    "API_KEY_ENV",
    "DEFAULT_FILTERS",
    "ImageServing",
    "LabelStudioClient",
    "PullReport",
    "PushReport",
    "RenderSettings",
    "StatusReport",
    "parse_filters",
    "parse_review_filters",
    "pull_verdicts",
    "push_questions",
    "review_status",
    "select_questions",
]
