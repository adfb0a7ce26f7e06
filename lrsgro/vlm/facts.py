"""Flag drafted answers that contradict a fact measured by the rule stage.

A flag does not reject the draft: the reviewer sees it and decides. The facts checked are the
keys documented on :class:`~lrsgro.vlm.targets.DraftTarget`: ``counts`` (class name to
labelled count in the target's scope), ``color`` (measured colour name of the referent),
``fine_category`` (labelled fine-grained class), ``acquisition_date`` with ``latitude`` or
``hemisphere`` (the season), and ``scene_type`` and ``urban_rural`` (rule-derived answers of
the image). A draft whose question names no class of ``counts`` is not checked against it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from lrsgro.generate.global_level import season_of
from lrsgro.vlm.drafts import Draft
from lrsgro.vocab import ClassVocabulary, load_classes

COUNT_CATEGORIES = frozenset({"Counting"})
EXISTENCE_CATEGORIES = frozenset({"Object existence"})
COLOR_CATEGORIES = frozenset({"Object color / pattern"})
FINE_CATEGORIES = frozenset({"Object category refinement"})
# Global categories whose rule-derived answer a target may carry as a fact of the same name.
RULE_ANSWER_FACTS = {"Scene Type": "scene_type", "Urban-Rural": "urban_rural"}
# Spellings that name the same thing, mapped to the one the vocabularies use.
SPELLINGS = {"gray": "grey", "colour": "color", "harbour": "harbor", "fall": "autumn"}


def contradictions(
    draft: Draft, facts: Mapping[str, Any], vocabulary: ClassVocabulary | None = None
) -> list[str]:
    """Return one flag per measured fact the draft's answer contradicts."""
    flags: list[str] = []
    counts = facts.get("counts")

    if draft.category in COUNT_CATEGORIES and isinstance(counts, Mapping):
        name = class_in_question(draft.question, counts, vocabulary)
        if name is not None and _as_int(counts[name]) != _as_int(draft.answer):
            flags.append(
                f"count_mismatch: drafted {draft.answer}, labelled {counts[name]} for class {name!r}"
            )

    if draft.category in EXISTENCE_CATEGORIES and isinstance(counts, Mapping):
        name = class_in_question(draft.question, counts, vocabulary)
        if name is not None:
            labelled = "yes" if (_as_int(counts[name]) or 0) > 0 else "no"
            if draft.answer != labelled:
                flags.append(
                    f"existence_mismatch: drafted {draft.answer}, labels say {labelled} "
                    f"({counts[name]} of class {name!r})"
                )

    color = facts.get("color")
    if draft.category in COLOR_CATEGORIES and isinstance(color, str) and color.strip():
        if not same_or_nested(draft.answer, color):
            flags.append(f"color_mismatch: drafted {draft.answer!r}, measured {color!r}")

    fine = facts.get("fine_category")
    if draft.category in FINE_CATEGORIES and isinstance(fine, str) and fine.strip():
        if not same_answer(draft.answer, fine):
            flags.append(f"category_mismatch: drafted {draft.answer!r}, labelled {fine!r}")

    if draft.level == "global" and draft.category == "Season":
        expected = _measured_season(facts)
        if expected is not None and not same_answer(draft.answer, expected[0]):
            flags.append(f"season_mismatch: drafted {draft.answer!r}, expected {expected[0]!r} {expected[1]}")

    fact_key = RULE_ANSWER_FACTS.get(draft.category)
    measured = facts.get(fact_key) if draft.level == "global" and fact_key else None
    if isinstance(measured, str) and measured.strip() and not same_answer(draft.answer, measured):
        flags.append(f"{fact_key}_mismatch: drafted {draft.answer!r}, rule-derived {measured!r}")

    return flags


def class_in_question(
    question: str, names: Iterable[str], vocabulary: ClassVocabulary | None = None
) -> str | None:
    """Return the class of ``names`` that the question names; the longest match wins,
    so "storage tanks" matches "storage tank" and not "tank"."""
    text = " ".join(_words(question))
    best: tuple[int, str] | None = None
    for name in names:
        for spelling in _spellings(str(name), vocabulary):
            pattern = r"(?<![a-z0-9])" + re.escape(spelling) + r"(?![a-z0-9])"
            if re.search(pattern, text) and (best is None or len(spelling) > best[0]):
                best = (len(spelling), name)
    return best[1] if best else None


def same_answer(first: str, second: str) -> bool:
    """Return whether two answers are equal after normalisation, which ignores case,
    punctuation, a leading article, a plural "s" and the spellings of :data:`SPELLINGS`."""
    return _answer_words(first) == _answer_words(second)


def same_or_nested(answer: str, measured: str) -> bool:
    """Return whether the answer names the measured colour, or a colour name that contains it
    or is contained in it. So "green" and "dark green" agree, but "blue" and "white" do not."""
    answer_text = " " + " ".join(_words(answer)) + " "
    measured_text = " " + " ".join(_words(measured)) + " "
    return measured_text in answer_text or answer_text in measured_text


def _measured_season(facts: Mapping[str, Any]) -> tuple[str, str] | None:
    """Return the season the facts decide and how, or None when they decide none."""
    season = facts.get("season")
    if isinstance(season, str) and season.strip():
        return season, "from the season fact"

    try:
        date = dt.date.fromisoformat(str(facts.get("acquisition_date"))[:10])
    except ValueError:
        return None
    latitude = facts.get("latitude")
    hemisphere = facts.get("hemisphere")
    if isinstance(latitude, (int, float)) and not isinstance(latitude, bool):
        expected = season_of(date.month, float(latitude))
        where = f"at latitude {latitude}"
    elif hemisphere in ("northern", "southern"):
        # NOTE: a hemisphere alone cannot tell the tropics apart, where the four seasons do
        # not apply, so without a latitude the check assumes the image lies outside them.
        expected = season_of(date.month, 90.0 if hemisphere == "northern" else -90.0)
        where = f"in the {hemisphere} hemisphere"
    else:
        return None
    if expected is None:
        return None
    return expected, f"for {date.isoformat()} {where}"


def _spellings(name: str, vocabulary: ClassVocabulary | None) -> set[str]:
    vocabulary = vocabulary or load_classes()
    info = vocabulary.resolve(name)
    names = {name}
    plurals = set()
    if info is not None:
        names |= {info.name, *info.aliases}
        plurals.add(info.plural_name)
    for spelling in names:
        plurals.add(spelling + "s")
        plurals.add(spelling + "es")
    return {" ".join(_words(s)) for s in names | plurals if s.strip()}


def _answer_words(text: str) -> list[str]:
    words = _words(text)
    if len(words) > 1 and words[0] in ("a", "an", "the"):
        words = words[1:]
    return [_singular(word) for word in words]


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _words(text: str) -> list[str]:
    return [SPELLINGS.get(word, word) for word in re.findall(r"[a-z0-9]+", text.lower())]


def _as_int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None
