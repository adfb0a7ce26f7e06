"""Multiple-choice extraction, the set rules and the published benchmark rules."""

from __future__ import annotations

import pytest

from lrsgro.errors import InputError
from lrsgro.scoring import (
    ChoiceExtraction,
    extract,
    extract_choice,
    mme_realworld_extract,
    parse_options,
    parse_target_letters,
    score_choice,
    score_mme_realworld_official,
    score_xlrs_official,
    xlrs_extract,
)

VEHICLES = ["(A) blue truck", "(B) red car", "(C) green bus", "(D) white van", "(E) none of the above"]

# (reply, expected letters or "" for a no-answer)
SINGLE_CHOICE = [
    ("Answer: B", "B"),
    ("The correct answer is (B).", "B"),
    ("Based on the image, the answer is C", "C"),
    ("The answer is B because a car moves.", "B"),
    ("<answer>red car</answer>", "B"),
    ("<answer>RED CAR</answer>", "B"),
    ("<answer>Red car.</answer>", "B"),
    ("B", "B"),
    ("(b)", "B"),
    ("**C**", "C"),
    ("D.", "D"),
    ("Ｂ", "B"),
    ("B. red car", "B"),
    ("(E) none of the above", "E"),
    ("The answer is A because the truck is blue.", "A"),
    ("A is correct; the truck is blue.", "A"),
    ("Option A shows a truck, but option C is correct.", "C"),
    ("I choose D.", "D"),
    ("It is a red car.", "B"),
    ("The answer is a red car", "B"),
    ("<|im_start|>assistant\nThe answer is D<|im_end|>", "D"),
    ("<think>A or B? The car is red.</think><answer>B</answer>", "B"),
    ("I cannot tell from this image.", ""),
    ("A car is parked near the road.", ""),
    ("(A) or (B)", ""),
    ("Either A or C could be right.", ""),
    ("", ""),
    ("<think>Looking at the vehicles", ""),
]


@pytest.mark.parametrize(("reply", "expected"), SINGLE_CHOICE)
def test_single_choice_table(reply: str, expected: str) -> None:
    result = extract_choice(reply, VEHICLES)

    assert (result.answer or "") == expected, result.explanation
    assert result.status == ("ok" if expected else "no_answer")
    assert result.explanation


def test_loose_regex_misreads_answer_label() -> None:
    # The published extractors read letters from the word "Answer" itself.
    assert mme_realworld_extract("Answer: B") == "A"
    assert xlrs_extract("Answer: B") == "ABE"
    assert extract_choice("Answer: B").letters == ("B",)


def test_first_capital_rule_misreads() -> None:
    assert mme_realworld_extract("The correct answer is (B).") == "B"
    assert mme_realworld_extract("Based on the image, the answer is C") == "B"
    assert extract_choice("Based on the image, the answer is C").letters == ("C",)


def test_article_not_read_as_letter() -> None:
    result = extract_choice("The answer is B because a car moves.", letters="ABCD")

    assert result.letters == ("B",)
    assert result.method == "cue"
    assert xlrs_extract("The answer is B because a car moves.") == "ABCE"


def test_option_text_not_upper_cased_letters() -> None:
    options = ["(A) blue truck", "(B) red car", "(C) green bus", "(D) white van"]

    result = extract_choice("<answer>RED CAR</answer>", options, letters="ABCD")

    assert result.letters == ("B",)
    assert result.method == "option_text"
    # The first-capital rule reads the "E" of "RED" instead.
    assert mme_realworld_extract("RED CAR", options) == "E"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["(A)图像的右侧", "(B)图像的左侧"], {"A": "图像的右侧", "B": "图像的左侧"}),
        (["A. red car", "B) blue truck", "C: bus", "D、van"], {"A": "red car", "B": "blue truck", "C": "bus", "D": "van"}),
        (["（A）右侧", "[B] left"], {"A": "右侧", "B": "left"}),
        (["harbor", "airport"], {"A": "harbor", "B": "airport"}),
        ("(A) red (B) blue (C) green", {"A": "red", "B": "blue", "C": "green"}),
        ("A. red\nB. blue\n   and grey\nC) green", {"A": "red", "B": "blue and grey", "C": "green"}),
    ],
)
def test_parse_options_table(options: list[str] | str, expected: dict[str, str]) -> None:
    assert parse_options(options) == expected


def test_cjk_option_keeps_first_character() -> None:
    options = ["(A)图像的右侧", "(B)图像的左侧", "(C)图像的中间", "(D)图像的顶部"]

    result = extract_choice("图像的右侧", options, letters="ABCD")

    assert parse_options(options)["A"] == "图像的右侧"
    assert result.letters == ("A",)


LAND_USE = ["(A) residential", "(B) forest", "(C) farmland", "(D) water"]

# (reply, letters read, exact_set value, partial value) against the reference {A, C}
MULTI_ANSWER = [
    ("A C", "AC", 1.0, 1.0),
    ("C, A", "AC", 1.0, 1.0),
    ("A", "A", 0.0, 0.5),
    ("A and C", "AC", 1.0, 1.0),
    ("The answers are A and C.", "AC", 1.0, 1.0),
    ("(A) and (C)", "AC", 1.0, 1.0),
    ("residential, farmland", "AC", 1.0, 1.0),
    ("A B C", "ABC", 0.0, 0.0),
    ("B", "B", 0.0, 0.0),
]


@pytest.mark.parametrize(("reply", "letters", "exact", "partial"), MULTI_ANSWER)
def test_multi_answer_rules(reply: str, letters: str, exact: float, partial: float) -> None:
    exact_score = score_choice(reply, "AC", options=LAND_USE, letters="ABCD", multiple=True, rule="exact_set")
    partial_score = score_choice(reply, "AC", options=LAND_USE, letters="ABCD", multiple=True, rule="partial")

    assert exact_score.answer == letters
    assert exact_score.value == exact
    assert partial_score.value == partial
    assert exact_score.rule == "exact_set"
    assert partial_score.rule == "partial"
    assert exact_score.correct is (exact == 1.0)
    assert partial_score.correct is (partial == 1.0)


def test_xlrs_official_exact_set() -> None:
    assert score_xlrs_official("A C", "AC").correct
    assert score_xlrs_official("C, A", "AC").correct
    assert not score_xlrs_official("A", "AC").correct
    assert score_xlrs_official("A", "AC").value == 0.0


def test_unparseable_reply_no_answer() -> None:
    replies = ["I am not sure.", "The image is too blurry to decide.", "???"]

    for reply in replies:
        score = score_choice(reply, "B", options=VEHICLES)

        assert score.status == "no_answer", reply
        assert score.value == 0.0
        assert score.answer is None


def test_extraction_input_accepted() -> None:
    extraction = extract("<|im_start|>assistant\n<answer>(C)</answer><|im_end|>")

    result = extract_choice(extraction, VEHICLES)
    score = score_choice(result, "C")

    assert isinstance(result, ChoiceExtraction)
    assert score.correct


@pytest.mark.parametrize(("target", "expected"), [("B", ("B",)), ("AC", ("A", "C")), ("C,A", ("A", "C")), (["C", "A"], ("A", "C")), ("a c", ("A", "C"))])
def test_parse_target_letters(target: str | list[str], expected: tuple[str, ...]) -> None:
    assert parse_target_letters(target) == expected


def test_target_without_letter_rejected() -> None:
    with pytest.raises(InputError, match="must contain only option letters"):
        parse_target_letters("harbor", "ABCD")


def test_unknown_rule_rejected() -> None:
    with pytest.raises(InputError, match="exact_set"):
        score_choice("A", "A", rule="majority")  # type: ignore[arg-type]


# (reply, letter the published MME-RealWorld extraction reads)
MME_REALWORLD_OFFICIAL = [
    ("B", "B"),
    ("(C) green bus", "C"),
    ("The best answer is D", "D"),
    ("Answer: B", "A"),
    ("Based on the image, the answer is C", "B"),
    ("red car", "B"),
    ("This image shows a port with many ships docked along the pier today", ""),
    ("", "A"),
]


@pytest.mark.parametrize(("reply", "letter"), MME_REALWORLD_OFFICIAL)
def test_mme_realworld_official_table(reply: str, letter: str) -> None:
    assert mme_realworld_extract(reply, VEHICLES) == letter


def test_mme_realworld_official_score() -> None:
    right = score_mme_realworld_official("(B) red car", "B", VEHICLES)
    misread = score_mme_realworld_official("Answer: B", "B", VEHICLES)
    silent = score_mme_realworld_official("This image shows a port with many ships docked along the pier today", "B", VEHICLES)

    assert right.correct
    assert not misread.correct
    assert misread.answer == "A"
    assert silent.status == "no_answer"


# (reply, letters the published XLRS-Bench extraction reads)
XLRS_OFFICIAL = [
    ("B", "B"),
    ("A C", "AC"),
    ("The answer is (C).", "C"),
    ("Answer: B", "ABE"),
    ("no capital letter here", ""),
    ("", ""),
]


@pytest.mark.parametrize(("reply", "letters"), XLRS_OFFICIAL)
def test_xlrs_official_table(reply: str, letters: str) -> None:
    assert xlrs_extract(reply) == letters
