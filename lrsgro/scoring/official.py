"""The scoring rules as each benchmark publishes them, quirks included.

Adapters report these next to the robust rules so numbers stay comparable with papers.
Each function re-implements the published behaviour from its source (read, not copied):

* MME-RealWorld: ``extract_characters_regex`` in ``evaluation/eval_your_results.py`` of
  yfzhang114/MME-RealWorld, the same function as in lmms-eval's
  ``lmms_eval/tasks/mme_realworld/utils.py``;
* XLRS-Bench: ``extract_characters_regex`` and ``xlrs_aggregate_results`` in lmms-eval's
  ``lmms_eval/tasks/xlrs/mcq_utils.py`` (VLMEvalKit's ``XLRSBench`` class does the same);
* LRS-VQA: ``Script/evaluation_LRSVQA.py`` of VisionXLab/LRS-VQA.

Where the published code has a bug, the bug is reproduced and described here, because
fixing it would change the published numbers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lrsgro.scoring.choice import parse_target_letters
from lrsgro.scoring.open_ended import answer_text
from lrsgro.scoring.types import Extraction, Score
from lrsgro.scoring.wordnet import load_wordnet

# The prefixes both MME-RealWorld and XLRS-Bench remove. Two entries of the published list
# lack a comma, so Python joins them: "The best option is" and "Best answer:" on their own
# are never removed, only the run-together strings below.
PUBLISHED_PREFIXES = (
    "The best answer is",
    "The correct answer is",
    "The answer is",
    "The answer",
    "The best option isThe correct option is",
    "Best answer:Best option:",
)
MME_REALWORLD_DEFAULT_CHOICES = ("(A)", "(B)", "(C)", "(D)", "(E)")
LRS_VQA_THRESHOLD = 0.8


def mme_realworld_extract(output: str, choices: Sequence[str] = MME_REALWORLD_DEFAULT_CHOICES) -> str:
    """Return the letter MME-RealWorld's published extraction reads, or "" for none.

    After removing :data:`PUBLISHED_PREFIXES` it takes the first capital A-E anywhere, so
    "Answer: B" gives "A" (from "Answer"). A reply of more than 10 words without any
    capital A-E gives "". Without a capital A-E it returns the second character of the
    first choice that contains the whole reply, so an empty reply gives the first
    option's letter. ``choices`` are the option strings shown ("(A) ...");
    lmms-eval passes only "(A)".."(E)".
    """
    text = output.strip()
    for prefix in PUBLISHED_PREFIXES:
        text = text.replace(prefix, "")

    first_capital = re.search(r"[ABCDE]", text)
    if len(text.split()) > 10 and first_capital is None:
        return ""
    if first_capital is not None:
        return first_capital.group(0)

    for choice in choices:
        if text.lower() in choice.lower():
            return choice[1]
    return ""


def score_mme_realworld_official(
    output: str | None,
    target: str,
    choices: Sequence[str] = MME_REALWORLD_DEFAULT_CHOICES,
) -> Score:
    """Score by MME-RealWorld's published rule: the extracted letter equals the reference."""
    rule = "mme_realworld_official"
    if output is None:
        return Score.no_answer(target, rule, "no output")

    letter = mme_realworld_extract(output, choices)
    if not letter:
        return Score.no_answer(target, rule, "the published extraction found no letter")

    correct = letter.lower() == target.strip().lower()
    explanation = f"the published extraction reads {letter!r}; the reference is {target.strip()!r}"
    return Score(1.0 if correct else 0.0, correct, letter, target, rule, explanation)


def xlrs_extract(output: str) -> str:
    """Return the letters XLRS-Bench's published extraction reads, sorted, or "" for none.

    After removing :data:`PUBLISHED_PREFIXES`, a reply without any capital A-E gives "".
    Otherwise the letters in brackets "(b)" are taken, and without brackets every letter
    a-e in either case anywhere in the reply (the published pattern makes its anchors
    optional), so "Answer: B" gives {A, B, E}. The published code joins a set, whose
    order varies; the letters here are sorted, which the set comparison does not notice.
    """
    text = output.strip()
    for prefix in PUBLISHED_PREFIXES:
        text = text.replace(prefix, "")

    if re.search(r"[ABCDE]", text) is None:
        return ""
    letters = re.findall(r"\(([a-eA-E])\)", text) or re.findall(r"[a-eA-E]", text)
    return "".join(sorted({letter.upper() for letter in letters}))


def score_xlrs_official(output: str | None, target: str | Sequence[str]) -> Score:
    """Score by XLRS-Bench's published rule: the set of letters read equals the reference set.

    NOTE: the published rule compares ``set(prediction) == set(answer)`` on characters. If
    a multiple-answer reference is stored with separators ("A,C"), that comparison can
    never succeed; here the reference is reduced to its letters first.
    """
    rule = "xlrs_official"
    expected = "".join(parse_target_letters(target, "ABCDE"))
    if output is None:
        return Score.no_answer(expected, rule, "no output")

    letters = xlrs_extract(output)
    if not letters:
        return Score.no_answer(expected, rule, "the published extraction found no letter")

    correct = set(letters) == set(expected)
    explanation = f"the published extraction reads {letters!r}; the reference set is {expected!r}"
    return Score(1.0 if correct else 0.0, correct, letters, expected, rule, explanation)


def score_lrs_vqa_official(answer: str | Extraction | None, target: str) -> Score:
    """Score by LRS-VQA's published script: lower-cased equality or a synset pair above 0.8.

    The script neither strips nor lemmatizes (WordNet's own lookup still reduces "ships"
    to "ship"), and looks up multi-word answers with their space, which WordNet never
    matches, so those count only when equal. Path similarity above 0.8 means 1.0, a shared
    synset.
    """
    rule = "lrs_vqa_official"
    answer = answer_text(answer)
    if answer is None:
        return Score.no_answer(target, rule, "no answer")

    answer_form = answer.lower()
    target_form = target.lower()
    if answer_form == target_form:
        return Score(1.0, True, answer, target, rule, f"exact match on {answer_form!r}")

    wordnet = load_wordnet()
    for synset_a in wordnet.synsets(target_form):
        for synset_b in wordnet.synsets(answer_form):
            similarity = synset_a.path_similarity(synset_b)
            if similarity is not None and similarity > LRS_VQA_THRESHOLD:
                reason = f"{synset_a.name()} and {synset_b.name()} have path similarity {similarity:.3f} > 0.8"
                return Score(1.0, True, answer, target, rule, reason)

    reason = f"{answer_form!r} differs from {target_form!r} and no synset pair is above 0.8"
    return Score(0.0, False, answer, target, rule, reason)
