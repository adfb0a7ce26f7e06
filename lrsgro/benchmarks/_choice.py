"""Scoring helpers of the adapters: option lists, reference letters and the reply to score.

Published rules (MME-RealWorld, XLRS-Bench) read the reply as the model
wrote it: their letter extraction runs on the whole text, quirks included ("Answer: B"
reads "A"). :func:`published_reply` returns that text. A reply with ``<answer>`` tags,
which the published prompts never ask for, gives the tag content instead, because the
published extraction would otherwise read the first capital of the reasoning.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Sequence
from typing import Any

from lrsgro.errors import InputError
from lrsgro.scoring.choice import parse_options, parse_target_letters, score_choice
from lrsgro.scoring.extract import extract
from lrsgro.scoring.types import Score

LETTERS = string.ascii_uppercase
_OPTION_LINE = re.compile(r"^\s*(?:\(\s*[A-Z]\s*\)|[A-Z]\s*[.):：、])")
_CAPITAL_LETTERS = re.compile(r"[\s,;/&()\[\]A-Z]+")


def option_texts(value: Any) -> tuple[str, ...]:
    """Return the option texts in letter order from a list or a block of option lines.

    "(A) red", "A. red", "(A)红色" and a plain "red" at position A all give "red"/"红色"
    (the text after the letter is kept whole, even without a space). In a block, lines
    that do not start with an option letter ("The choices are listed below:", a closing
    instruction) are dropped, and "(A) x (B) y" on one line is split.

    Raises:
        InputError: the options are not a list or text, or their letters do not run
            A, B, C... without a gap.
    """
    if isinstance(value, str):
        # Only lines that start with a letter count, so an instruction after the last
        # option ("Select the best answer...") is not taken as part of that option.
        lines = [line for line in unicodedata.normalize("NFKC", value).splitlines() if _OPTION_LINE.match(line)]
        if len(lines) == 1:
            parsed = parse_options(lines[0])
        else:
            parsed = parse_options(lines)
    elif isinstance(value, Sequence):
        parsed = parse_options([str(item) for item in value])
    else:
        raise InputError(f"options must be a list or text, got {type(value).__name__}")

    letters = "".join(parsed)
    if letters != LETTERS[: len(parsed)]:
        raise InputError(
            f"option letters {', '.join(parsed) or '(none)'} do not run from A without a gap",
            fix="each option must start with its letter: (A) ..., (B) ...",
        )
    return tuple(parsed[letter] for letter in letters)


def reference_letters(answer: Any, options: Sequence[str]) -> str:
    """Return the reference as sorted option letters ("B", "AC") from a letter, letters or option text.

    Raises:
        InputError: the answer names no option.
    """
    letters = LETTERS[: len(options)]
    text = str(answer).strip() if answer is not None else ""
    # Capital letters first ("B", "A,C"), then option text, then lower-case letters ("b"),
    # so an option text such as "bad" is never read as the letters B, A and D.
    if _CAPITAL_LETTERS.fullmatch(text):
        try:
            return "".join(parse_target_letters(text, letters))
        except InputError:
            pass
    for index, option in enumerate(options):
        if text and text.casefold() == option.strip().casefold():
            return letters[index]
    if _CAPITAL_LETTERS.fullmatch(text.upper()):
        try:
            return "".join(parse_target_letters(text, letters))
        except InputError:
            pass
    raise InputError(
        f"answer {answer!r} is neither option letters ({letters}) nor the text of an option",
        fix="check the answer field of the record",
    )


def published_reply(answer: str | None, output: str | None) -> str | None:
    """Return the text a published rule reads: the stripped raw output, or its ``<answer>`` tag content."""
    if output is None:
        return answer
    extraction = extract(output)
    if extraction.source == "answer_tag":
        return extraction.answer
    return output.strip()


def robust_choice(
    answer: str | None,
    output: str | None,
    target: str,
    options: Sequence[str],
    *,
    multiple: bool,
) -> Score:
    """Score by lrsgro's letter extraction and the ``exact_set`` rule (all and only the right letters)."""
    reply = output if output is not None else answer
    letters = LETTERS[: len(options)]
    return score_choice(reply, target, options=list(options), letters=letters, multiple=multiple, rule="exact_set")
