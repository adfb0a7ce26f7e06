"""Answer parsing and scoring: small pure functions that return typed results.

* :mod:`~lrsgro.scoring.extract`: the answer and box in a raw model output (:class:`Extraction`);
* :mod:`~lrsgro.scoring.boxes`: boxes from ``bbox_2d`` JSON, box tokens and bare lists;
* :mod:`~lrsgro.scoring.open_ended`: the published WordNet rule and the robust rule;
* :mod:`~lrsgro.scoring.choice`: multiple-choice letters and the set rules;
* :mod:`~lrsgro.scoring.official`: MME-RealWorld, XLRS-Bench and LRS-VQA rules as published;
* :mod:`~lrsgro.scoring.aggregate`: accuracy tables with bootstrap intervals, and IoU;
* :mod:`~lrsgro.scoring.wordnet`: offline WordNet 3.0.

Every scorer returns a :class:`Score`. A reply without an answer scores 0 with status
``no_answer``; a failed model call is recorded with :meth:`Score.error` by the caller and
left out of accuracy.
"""

from lrsgro.scoring.aggregate import (
    AccuracyReport,
    GroupAccuracy,
    IouSummary,
    MacroAccuracy,
    ScoredQuestion,
    accuracy_report,
    box_iou,
    mean_iou,
)
from lrsgro.scoring.boxes import parse_box, parse_boxes
from lrsgro.scoring.choice import (
    ChoiceExtraction,
    extract_choice,
    parse_options,
    parse_target_letters,
    score_choice,
)
from lrsgro.scoring.extract import extract
from lrsgro.scoring.normalize import normalize_answer
from lrsgro.scoring.official import (
    mme_realworld_extract,
    score_lrs_vqa_official,
    score_mme_realworld_official,
    score_xlrs_official,
    xlrs_extract,
)
from lrsgro.scoring.open_ended import score_paper, score_robust
from lrsgro.scoring.types import Box, BoxFrame, Extraction, Score
from lrsgro.scoring.wordnet import WordNetUnavailableError, load_wordnet

__all__ = [
    "AccuracyReport",
    "Box",
    "BoxFrame",
    "ChoiceExtraction",
    "Extraction",
    "GroupAccuracy",
    "IouSummary",
    "MacroAccuracy",
    "Score",
    "ScoredQuestion",
    "WordNetUnavailableError",
    "accuracy_report",
    "box_iou",
    "extract",
    "extract_choice",
    "load_wordnet",
    "mean_iou",
    "mme_realworld_extract",
    "normalize_answer",
    "parse_box",
    "parse_boxes",
    "parse_options",
    "parse_target_letters",
    "score_choice",
    "score_lrs_vqa_official",
    "score_mme_realworld_official",
    "score_paper",
    "score_robust",
    "score_xlrs_official",
    "xlrs_extract",
]
