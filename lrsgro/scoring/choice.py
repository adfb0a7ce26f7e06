"""Multiple-choice answers: option parsing, letter extraction and the two set rules.

:func:`extract_choice` reads the letter the model meant, trying in order:

1. a reply that is only letters ("B", "(B)", "**B**", "A C", "C, A", "A and C"), or a
   letter followed by its option ("B. red car");
2. a reply equal to the text of an option ("red car" -> that option's letter);
3. the last explicit cue ("Answer: B", "the correct answer is (B)", "I choose C",
   "option D is correct");
4. letters in brackets, "(C)";
5. capital letters standing alone, skipping the article "A" before a word;
6. the text of exactly one option mentioned in the reply.

A reply in which none of these finds a letter, or finds several where one is expected,
is a no-answer. Nothing is guessed.

Multiple-answer questions (XLRS-Bench land use) are scored by ``exact_set`` (all and only
the right letters, as lmms-eval's ``xlrs/mcq_utils.py`` and VLMEvalKit's ``XLRSBench`` do)
or by ``partial`` (credit |chosen| / |right| when every chosen letter is right, else 0).
The published rules of each benchmark live in :mod:`lrsgro.scoring.official`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from lrsgro.errors import InputError
from lrsgro.scoring.extract import extract
from lrsgro.scoring.types import Extraction, ExtractionStatus, Score

ChoiceRule = Literal["exact_set", "partial"]
CHOICE_RULES: tuple[ChoiceRule, ...] = ("exact_set", "partial")
DEFAULT_LETTERS = "ABCDE"

# "(A) text", "A. text", "A) text", "A: text", "A、text" and full-width variants (after NFKC).
_OPTION_PREFIX = re.compile(r"^\s*(?:\(\s*([A-Za-z])\s*\)|\[\s*([A-Za-z])\s*\]|([A-Za-z])\s*[.):：、])\s*")
_INLINE_OPTION = re.compile(r"\(\s*([A-Z])\s*\)")
# Words that cannot follow the article "a", so "A is correct" names option A.
_AFTER_LETTER = frozenset({
    "is", "was", "seems", "appears", "looks", "fits", "matches", "should", "would", "because",
    "since", "as", "which", "and", "or", "so", "given", "based", "according", "due",
})  # fmt: skip
_LETTER_SEPARATOR = r"(?:\s*(?:,|;|/|&|、|\band\b)\s*|\s+)"


@dataclass(frozen=True)
class ChoiceExtraction:
    """The option letters read from one reply.

    Attributes:
        letters: the letters chosen, distinct and in alphabetical order; empty for a
            no-answer.
        status: ``ok`` or ``no_answer``.
        method: which step found them: ``letters_only``, ``option_text``, ``cue``,
            ``bracketed``, ``standalone``, ``option_mention`` or ``none``.
        explanation: how the letters were found, or why none were.
    """

    letters: tuple[str, ...]
    status: ExtractionStatus
    method: str
    explanation: str

    @property
    def answer(self) -> str | None:
        """Return the letters joined ("AC"), or ``None`` for a no-answer."""
        return "".join(self.letters) if self.letters else None


def parse_options(options: Sequence[str] | str) -> dict[str, str]:
    """Return ``{letter: option text}`` from option strings or one block of text.

    Each entry may start with "(A)", "[A]", "A.", "A)", "A:" or "A、", with or without a
    space after it: "(A)图像的右侧" gives ``{"A": "图像的右侧"}``. In a list, an entry
    without such a prefix takes the letter of its position. In a block of text, a line
    without a prefix continues the option before it, and "(A) x (B) y" on one line is
    split at each bracketed letter.
    """
    if isinstance(options, str):
        return _parse_option_block(options)

    parsed: dict[str, str] = {}
    for position, entry in enumerate(options):
        entry = unicodedata.normalize("NFKC", entry)
        match = _OPTION_PREFIX.match(entry)
        if match is not None:
            letter = next(group for group in match.groups() if group).upper()
            parsed[letter] = entry[match.end() :].strip()
        else:
            parsed[chr(ord("A") + position)] = entry.strip()
    return parsed


def extract_choice(
    reply: str | Extraction | None,
    options: Sequence[str] | str | dict[str, str] | None = None,
    *,
    letters: str = DEFAULT_LETTERS,
    multiple: bool = False,
) -> ChoiceExtraction:
    """Read the option letter(s) the model meant from ``reply``.

    Args:
        reply: the raw output (chat residue and ``<answer>`` tags are handled), or an
            :class:`Extraction` of it.
        options: the options shown to the model, used to match option text.
        letters: the valid letters, for example ``ABCD`` for XLRS-Bench.
        multiple: whether the question allows several letters. Then brackets and
            standalone letters give all letters found; otherwise several distinct
            letters there make the reply ambiguous, which is a no-answer.
    """
    text = _reply_text(reply)
    if text is None:
        return ChoiceExtraction((), "no_answer", "none", "no answer in the reply")

    text = unicodedata.normalize("NFKC", text).strip()
    if isinstance(options, dict):
        option_map = options
    elif options:
        option_map = parse_options(options)
    else:
        option_map = {}
    valid = set(letters.upper())

    for step in (_letters_only, _option_text, _cue, _bracketed, _standalone, _option_mention):
        found = step(text, option_map, valid, multiple)
        if found is not None:
            return found
    return ChoiceExtraction((), "no_answer", "none", f"no option letter or option text found in {_clip(text)!r}")


def parse_target_letters(target: str | Sequence[str], letters: str = DEFAULT_LETTERS) -> tuple[str, ...]:
    """Return the letters of a reference answer given as "B", "AC", "A,C" or ["A", "C"].

    Raises:
        InputError: the reference contains no letter, or characters other than letters.
    """
    joined = target if isinstance(target, str) else "".join(target)
    cleaned = re.sub(r"[\s,;/&、()\[\]]", "", joined).upper()
    valid = set(letters.upper())
    if not cleaned or not set(cleaned) <= valid:
        raise InputError(
            f"invalid reference answer {target!r}: it must contain only option letters",
            fix=f"give the reference as letters from {letters}, such as 'B' or 'A,C'",
        )
    return tuple(sorted(set(cleaned)))


def score_choice(
    reply: str | Extraction | ChoiceExtraction | None,
    target: str | Sequence[str],
    *,
    options: Sequence[str] | str | dict[str, str] | None = None,
    letters: str = DEFAULT_LETTERS,
    multiple: bool = False,
    rule: ChoiceRule = "exact_set",
) -> Score:
    """Score a multiple-choice reply by ``exact_set`` or ``partial`` (see the module docstring).

    Raises:
        InputError: an invalid ``rule``, or a reference without a valid letter.
    """
    if rule not in CHOICE_RULES:
        raise InputError(f"invalid multiple-choice rule {rule!r}", fix=f"use one of {', '.join(CHOICE_RULES)}")

    expected = parse_target_letters(target, letters)
    target_text = "".join(expected)
    if isinstance(reply, ChoiceExtraction):
        chosen = reply
    else:
        chosen = extract_choice(reply, options, letters=letters, multiple=multiple)
    if chosen.status == "no_answer":
        return Score.no_answer(target_text, rule, chosen.explanation)

    picked = set(chosen.letters)
    right = set(expected)
    if rule == "exact_set":
        value = 1.0 if picked == right else 0.0
        verdict = "the same letters as" if value else "not the same letters as"
    else:
        value = len(picked) / len(right) if picked <= right else 0.0
        verdict = f"{len(picked & right)} of {len(right)} right letters, none wrong, against" if picked <= right else "a wrong letter against"

    explanation = f"{chosen.explanation}; chose {chosen.answer}, {verdict} the reference {target_text}"
    return Score(value, value == 1.0, chosen.answer, target_text, rule, explanation)


def _reply_text(reply: str | Extraction | None) -> str | None:
    extraction = reply if isinstance(reply, Extraction) else extract(reply)
    return extraction.answer if extraction.status == "ok" else None


def _parse_option_block(block: str) -> dict[str, str]:
    block = unicodedata.normalize("NFKC", block)
    lines = [line for line in block.splitlines() if line.strip()]
    if len(lines) == 1 and len(_INLINE_OPTION.findall(lines[0])) > 1:
        pieces = _INLINE_OPTION.split(lines[0])
        return {pieces[i]: pieces[i + 1].strip() for i in range(1, len(pieces) - 1, 2)}

    parsed: dict[str, str] = {}
    current: str | None = None
    for line in lines:
        match = _OPTION_PREFIX.match(line)
        if match is not None:
            current = next(group for group in match.groups() if group).upper()
            parsed[current] = line[match.end() :].strip()
        elif current is not None:
            parsed[current] = f"{parsed[current]} {line.strip()}"
    return parsed


def _found(letters: set[str], method: str, explanation: str) -> ChoiceExtraction:
    return ChoiceExtraction(tuple(sorted(letters)), "ok", method, explanation)


def _letter_class(valid: set[str]) -> str:
    return "[" + "".join(sorted(valid)) + "]"


def _letters_only(text: str, options: dict[str, str], valid: set[str], multiple: bool) -> ChoiceExtraction | None:
    core = text.strip(" \t\n*_`'\".。")
    letter = _letter_class(valid)
    lower = letter.lower()

    single = re.fullmatch(rf"[\(\[]?\s*({letter}|{lower})\s*[\)\]]?[.:)]?", core)
    if single is not None:
        return _found({single.group(1).upper()}, "letters_only", f"the reply is the letter {single.group(1).upper()}")

    listed = re.fullmatch(rf"\(?{letter}\)?(?:{_LETTER_SEPARATOR}\(?{letter}\)?)+", core)
    if listed is not None:
        found = set(re.findall(letter, core))
        return _found(found, "letters_only", f"the reply lists the letters {', '.join(sorted(found))}")

    # "B. red car" or "(B) red car": a letter, then the text of that option.
    prefixed = _OPTION_PREFIX.match(core)
    if prefixed is not None:
        chosen = next(group for group in prefixed.groups() if group)
        rest = _plain(core[prefixed.end() :])
        if chosen in valid and (not options or not rest or rest == _plain(options.get(chosen, ""))):
            return _found({chosen}, "letters_only", f"the reply starts with the letter {chosen}")
    return None


def _option_text(text: str, options: dict[str, str], valid: set[str], multiple: bool) -> ChoiceExtraction | None:
    if not options:
        return None

    reply_text = _plain(text)
    by_text = {_plain(option): letter for letter, option in options.items() if letter in valid}
    if reply_text in by_text:
        letter = by_text[reply_text]
        return _found({letter}, "option_text", f"the reply is the text of option {letter}")

    if multiple:
        parts = [_plain(part) for part in re.split(r",|;|、|\band\b", text) if part.strip()]
        if len(parts) > 1 and all(part in by_text for part in parts):
            found = {by_text[part] for part in parts}
            return _found(found, "option_text", f"the reply lists the texts of options {', '.join(sorted(found))}")
    return None


def _cue(text: str, options: dict[str, str], valid: set[str], multiple: bool) -> ChoiceExtraction | None:
    letter = _letter_class(valid)
    lower = letter.lower()
    # A letter after a cue: capital, or lower-case only inside brackets.
    named = rf"(?:[\(\[]\s*(?:{letter}|{lower})\s*[\)\]]|{letter}(?![A-Za-z]))"
    run = rf"{named}(?:{_LETTER_SEPARATOR}{named})*" if multiple else named
    patterns = (
        rf"(?i:answers?)\s*(?:(?i:is|are|would\s+be|should\s+be)\s*)?[:：=]?\s*(?:(?i:option|choice)\s*)?({run})",
        rf"(?i:correct|best|right)\s+(?i:options?|choices?)\s*(?:(?i:is|are)\s*)?[:：]?\s*({run})",
        rf"(?i:option|choice)\s*({run})\s+(?i:is|are)\s+(?i:the\s+)?(?i:correct|right|best)",
        rf"(?i:i\s+(?:would\s+)?(?:choose|select|pick)|choose|select|pick)\s+(?:(?i:option|choice)\s*)?({run})",
    )

    matches = [match for pattern in patterns for match in re.finditer(pattern, text)]
    matches = [match for match in matches if not _is_article(text, match.start(1), match.group(1))]
    if not matches:
        return None

    last = max(matches, key=lambda match: match.start(1))
    found = {_letter_in(named_match.group(0)) for named_match in re.finditer(named, last.group(1))}
    cue = _clip(text[last.start() : last.end()])
    return _found(found, "cue", f"the letters follow the cue {cue!r}")


def _bracketed(text: str, options: dict[str, str], valid: set[str], multiple: bool) -> ChoiceExtraction | None:
    letter = _letter_class(valid)
    found = {match.upper() for match in re.findall(rf"[\(\[]\s*({letter}|{letter.lower()})\s*[\)\]]", text)}
    return _decide(found, "bracketed", "in brackets", multiple)


def _standalone(text: str, options: dict[str, str], valid: set[str], multiple: bool) -> ChoiceExtraction | None:
    letter = _letter_class(valid)
    found = {
        match.group(1)
        for match in re.finditer(rf"(?<![A-Za-z'’])({letter})(?![A-Za-z'’])", text)
        if not _is_article(text, match.start(1), match.group(1))
    }
    return _decide(found, "standalone", "standing alone", multiple)


def _option_mention(text: str, options: dict[str, str], valid: set[str], multiple: bool) -> ChoiceExtraction | None:
    if not options:
        return None

    reply = f" {_plain(text)} "
    mentioned = {letter for letter, option in options.items() if letter in valid and _plain(option) and f" {_plain(option)} " in reply}
    # An option whose text is part of a longer mentioned option ("car" in "red car") does not count.
    mentioned = {
        letter
        for letter in mentioned
        if not any(other != letter and f" {_plain(options[letter])} " in f" {_plain(options[other])} " for other in mentioned)
    }
    return _decide(mentioned, "option_mention", "named by option text in the reply", multiple)


def _decide(found: set[str], method: str, where: str, multiple: bool) -> ChoiceExtraction | None:
    if not found:
        return None
    listed = ", ".join(sorted(found))
    if len(found) > 1 and not multiple:
        return ChoiceExtraction((), "no_answer", method, f"several letters {where} ({listed}) and no cue picks one")
    return _found(found, method, f"the letters {listed} are {where}" if len(found) > 1 else f"the letter {listed} is {where}")


def _letter_in(named: str) -> str:
    return next(character for character in named if character.isalpha()).upper()


def _is_article(text: str, start: int, matched: str) -> bool:
    """Tell whether the capital "A" at ``start`` is the article of a following word."""
    if matched != "A":
        return False
    following = re.match(r"\s+([A-Za-z]{2,})", text[start + 1 :])
    return following is not None and following.group(1).lower() not in _AFTER_LETTER


def _plain(text: str) -> str:
    """Lower-case ``text`` and reduce it to words separated by single spaces."""
    text = unicodedata.normalize("NFKC", text).lower()
    return " ".join(re.findall(r"\w+", text))


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
