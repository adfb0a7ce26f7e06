"""Open-ended answer scoring: the published WordNet rule and a documented robust rule.

The rule published with LRS-GRO (ZoomEarth) counts an answer as correct when, lower-cased,
it equals the reference, or when the WordNet path similarity of the two words is at least
0.8 (LRS-VQA's script tests "above 0.8"). Path similarity is 1 / (1 + shortest path
length), so both tests pass only at 1.0, when the words share a synset.

``score_paper`` follows ZoomEarth's evaluation script (``src/eval/eval.py`` in
earth-insights/ZoomEarth): lower case, strip, lemmatize with WordNet, maximum over all
synset pairs. ``synset_policy="first"`` compares only the first synset of each word, a
stricter reading of "share a synset". The rule here also joins multi-word answers with
``_`` (WordNet's spelling of collocations such as ``storage_tank``) and strips trailing
periods. The script keeps the space and the period, so WordNet finds no synset for them.

``score_robust`` first normalises both sides (see :mod:`lrsgro.scoring.normalize`),
then reads the number when the reference is an integer and the leading yes/no when the
reference is yes or no, and otherwise applies the same exact-or-WordNet test.

LRS-VQA's own script differs again; :mod:`lrsgro.scoring.official` reproduces it.
"""

from __future__ import annotations

import re
from typing import Literal

from lrsgro.errors import InputError
from lrsgro.scoring.normalize import normalize_tokens
from lrsgro.scoring.types import Extraction, Score
from lrsgro.scoring.wordnet import lemmatize, max_path_similarity

SynsetPolicy = Literal["max", "first"]
PAPER_THRESHOLD = 0.8

_TRAILING_PERIODS = re.compile(r"[\s.]+$")
_INTEGER = re.compile(r"\d+")
# Words that mean a count of zero when the reference is an integer.
_ZERO_WORDS = frozenset({"no", "none", "nothing"})


def score_paper(
    answer: str | Extraction | None,
    target: str,
    *,
    synset_policy: SynsetPolicy = "max",
    threshold: float = PAPER_THRESHOLD,
) -> Score:
    """Score an open-ended answer by the published rule: exact match or a shared synset.

    Only case, surrounding whitespace and trailing periods are normalised. "3 ships"
    against "3" is wrong under this rule, while "3" against "three" is right because
    WordNet lists "3" as a lemma of the synset three.n.01.
    """
    rule = f"paper[{synset_policy}]"
    _check_target(target)
    text = answer_text(answer)
    if text is None:
        return Score.no_answer(target, rule, _no_answer_reason(answer))

    answer_form = _paper_form(text)
    target_form = _paper_form(target)
    if answer_form == target_form:
        return _verdict(True, text, target, rule, f"exact match on {answer_form!r}")
    return _wordnet_verdict(text, target, rule, answer_form, target_form, synset_policy, threshold)


def score_robust(
    answer: str | Extraction | None,
    target: str,
    *,
    synset_policy: SynsetPolicy = "max",
    threshold: float = PAPER_THRESHOLD,
) -> Score:
    """Score an open-ended answer after the robust normalisation.

    For an integer reference the answer must contain exactly one distinct number, equal to
    the reference, so "There are 3 ships." is right for 3. A reply without a number counts
    as 0 when it contains "no", "none" or "nothing". For a yes/no reference the first word
    of the answer decides ("Yes, there is one." is right for yes). Otherwise the normalised
    texts must match exactly or share a WordNet synset.
    """
    rule = f"robust[{synset_policy}]"
    _check_target(target)
    text = answer_text(answer)
    if text is None:
        return Score.no_answer(target, rule, _no_answer_reason(answer))

    answer_tokens = normalize_tokens(text)
    target_tokens = normalize_tokens(target)
    answer_form = " ".join(answer_tokens)
    target_form = " ".join(target_tokens)

    if len(target_tokens) == 1 and _INTEGER.fullmatch(target_tokens[0]):
        return _count_verdict(text, target, rule, answer_tokens, int(target_tokens[0]))

    if target_form in ("yes", "no") and answer_tokens and answer_tokens[0] in ("yes", "no"):
        first_word = answer_tokens[0]
        return _verdict(first_word == target_form, text, target, rule, f"the answer begins with {first_word!r}, the reference is {target_form!r}")

    if not answer_form or not target_form:
        # Normalisation removed every word ("the", "!"), so compare the texts as written.
        correct = _paper_form(text) == _paper_form(target)
        return _verdict(correct, text, target, rule, "normalisation left no word, so the lower-cased texts were compared")
    if answer_form == target_form:
        return _verdict(True, text, target, rule, f"exact match after normalisation on {answer_form!r}")
    return _wordnet_verdict(text, target, rule, answer_form, target_form, synset_policy, threshold)


def answer_text(answer: str | Extraction | None) -> str | None:
    """Return the text to score, or ``None`` for a no-answer.

    A no-answer is a missing answer, an :class:`Extraction` with status ``no_answer``, or
    a string without any letter or digit, the same test :func:`extract` applies.
    """
    if isinstance(answer, Extraction):
        return answer.answer if answer.status == "ok" else None
    if answer is None or not any(character.isalnum() for character in answer):
        return None
    return answer


def _check_target(target: str) -> None:
    if not target or not target.strip():
        raise InputError(f"invalid reference answer {target!r}: it is empty", fix="give the reference answer text")


def _no_answer_reason(answer: str | Extraction | None) -> str:
    if isinstance(answer, Extraction):
        return f"no answer: {answer.explanation}"
    return "no answer: the answer has no letter or digit"


def _paper_form(text: str) -> str:
    return _TRAILING_PERIODS.sub("", text.lower().strip())


def _verdict(correct: bool, answer: str, target: str, rule: str, explanation: str) -> Score:
    return Score(1.0 if correct else 0.0, correct, answer, target, rule, explanation)


def _wordnet_verdict(
    answer: str,
    target: str,
    rule: str,
    answer_form: str,
    target_form: str,
    synset_policy: SynsetPolicy,
    threshold: float,
) -> Score:
    answer_lemma = lemmatize("_".join(answer_form.split()))
    target_lemma = lemmatize("_".join(target_form.split()))
    similarity = max_path_similarity(answer_lemma, target_lemma, synset_policy)

    comparison = ">=" if similarity >= threshold else "<"
    explanation = (
        f"{answer_form!r} differs from {target_form!r}; WordNet path similarity of the lemmas "
        f"{answer_lemma!r} and {target_lemma!r} ({synset_policy} over synsets) is "
        f"{similarity:.3f} {comparison} {threshold}"
    )
    return _verdict(similarity >= threshold, answer, target, rule, explanation)


def _count_verdict(answer: str, target: str, rule: str, tokens: list[str], expected: int) -> Score:
    numbers = sorted({int(float(token)) for token in tokens if token[0].isdigit() and float(token).is_integer()})
    if not numbers and any(token in _ZERO_WORDS for token in tokens):
        numbers = [0]

    if not numbers:
        return _verdict(False, answer, target, rule, f"the reference is the count {expected} and the answer holds no number")
    if len(numbers) > 1:
        listed = ", ".join(str(number) for number in numbers)
        return _verdict(False, answer, target, rule, f"the answer holds several numbers ({listed}), so no count is read")

    count = numbers[0]
    return _verdict(count == expected, answer, target, rule, f"the answer gives the count {count}, the reference is {expected}")
