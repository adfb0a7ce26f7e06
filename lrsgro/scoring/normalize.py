"""The text normalisation of the robust open-ended rule, step by step.

:func:`normalize_answer` applies, in this order:

1. Unicode NFKC (full-width letters and digits become ASCII) and lower case;
2. removal of one leading phrase that introduces the answer ("the answer is", "answer:",
   "it is", "there is", ...);
3. removal of possessive ``'s`` and of all punctuation (hyphens split words, a decimal
   point between digits is kept, thousands separators are dropped);
4. removal of the articles a, an and the;
5. number words to digits, including compounds: "twenty one" and "twenty-one" become 21,
   "one hundred and five" becomes 105;
6. British spellings to American ones (grey -> gray, harbour -> harbor, ...);
7. plural nouns to singular by WordNet's noun morphology ("ships" -> "ship"), except
   function words ("is", "was", "does", ...) and nouns WordNet lists as they are
   ("species", "glasses").

Step 7 loads WordNet (see :mod:`lrsgro.scoring.wordnet`).
"""

from __future__ import annotations

import re
import unicodedata

from lrsgro.scoring.wordnet import singular_noun

ARTICLES = frozenset({"a", "an", "the"})

UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
SCALES = {"hundred": 100, "thousand": 1000}

# British spelling -> American spelling, for words that appear in remote-sensing answers.
BRITISH_TO_AMERICAN = {
    "aeroplane": "airplane", "aluminium": "aluminum", "analyse": "analyze",
    "behaviour": "behavior", "centre": "center", "colour": "color", "coloured": "colored",
    "colourful": "colorful", "defence": "defense", "favour": "favor", "grey": "gray",
    "greyish": "grayish", "harbour": "harbor", "honour": "honor", "jewellery": "jewelry",
    "kerb": "curb", "kilometre": "kilometer", "labour": "labor", "licence": "license",
    "metre": "meter", "mould": "mold", "neighbour": "neighbor",
    "neighbourhood": "neighborhood", "organisation": "organization", "plough": "plow",
    "ploughed": "plowed", "programme": "program", "storey": "story", "sulphur": "sulfur",
    "theatre": "theater", "travelling": "traveling", "tyre": "tire",
}  # fmt: skip

# Phrases that introduce an answer; one is removed from the start.
_LEAD_IN = re.compile(
    r"^\s*(?:"
    r"(?:the\s+)?(?:final\s+|correct\s+|best\s+)?answer\s*(?:is\s*:?|:)"
    r"|(?:i\s+think|i\s+believe)\s+(?:that\s+|it\s+is\s+)?"
    r"|(?:it|this|that)\s+(?:is|'s|looks\s+like|appears\s+to\s+be)"
    r"|there\s+(?:is|are)"
    r")\s*",
)
# Words whose final "s" is not a plural ending; WordNet would map "was" to "wa".
_NOT_PLURAL = frozenset({
    "is", "was", "has", "does", "goes", "as", "us", "its", "his", "hers", "ours", "yours",
    "theirs", "this", "thus", "yes", "always", "perhaps", "towards", "whereas", "besides",
    "sometimes", "various", "across", "unless", "plus", "less",
})  # fmt: skip
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[^\W\d_]+")
_THOUSANDS_SEPARATOR = re.compile(r"(?<=\d),(?=\d{3}\b)")
_POSSESSIVE = re.compile(r"['’]s\b")


def normalize_answer(text: str) -> str:
    """Return ``text`` after every step of the robust normalisation, words joined by spaces."""
    return " ".join(normalize_tokens(text))


def normalize_tokens(text: str) -> list[str]:
    """Return the words of ``text`` after every step of the robust normalisation."""
    text = unicodedata.normalize("NFKC", text).lower().strip()
    text = _LEAD_IN.sub("", text, count=1)
    text = _POSSESSIVE.sub("", text)
    text = _THOUSANDS_SEPARATOR.sub("", text)

    tokens = [token for token in _TOKEN.findall(text) if token not in ARTICLES]
    tokens = numbers_to_digits(tokens)
    return [_normalize_word(token) for token in tokens]


def numbers_to_digits(tokens: list[str]) -> list[str]:
    """Replace each run of number words ("twenty", "one") by its value as digits ("21")."""
    result: list[str] = []
    index = 0
    while index < len(tokens):
        value, consumed = _read_number(tokens, index)
        if consumed:
            result.append(str(value))
            index += consumed
        else:
            result.append(tokens[index])
            index += 1
    return result


def spell_american(word: str) -> str:
    """Return the American spelling of ``word`` when it is a listed British spelling."""
    return BRITISH_TO_AMERICAN.get(word, word)


def _normalize_word(token: str) -> str:
    if token[0].isdigit():
        return token

    token = spell_american(token)
    if token.isascii() and len(token) >= 3 and token not in _NOT_PLURAL:
        token = spell_american(singular_noun(token))
    return token


def _read_number(tokens: list[str], start: int) -> tuple[int, int]:
    """Parse number words from ``tokens[start]``; return (value, tokens consumed)."""
    total = 0
    current = 0
    index = start
    seen_word = False
    while index < len(tokens):
        token = tokens[index]
        if token in UNITS and not (seen_word and current % 10 and current >= 20):
            if seen_word and current % 100 and current < 20:
                break  # "two three" is two numbers, not 23
            current += UNITS[token]
        elif token in TENS and current % 100 == 0:
            current += TENS[token]
        elif token in SCALES:
            current = max(current, 1) * SCALES[token]
            if SCALES[token] >= 1000:
                total += current
                current = 0
        elif token == "and" and seen_word and index + 1 < len(tokens) and _is_number_word(tokens[index + 1]):
            index += 1
            continue
        else:
            break
        seen_word = True
        index += 1

    if not seen_word:
        return 0, 0
    return total + current, index - start


def _is_number_word(token: str) -> bool:
    return token in UNITS or token in TENS
