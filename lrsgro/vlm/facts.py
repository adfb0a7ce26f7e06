"""Flag drafted answers that contradict a fact measured by the rule stage.

A flag does not reject the draft: the reviewer sees it and decides. The facts checked are the
keys documented on :class:`~lrsgro.vlm.targets.DraftTarget`: ``counts`` (class name to
labelled count in the target's scope), ``color`` (measured colour name of the referent) and
``fine_category`` (labelled fine-grained class). A draft whose question names no class of
``counts`` is not checked against it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lrsgro.vlm.drafts import Draft
from lrsgro.vocab import ClassVocabulary, load_classes

COUNT_CATEGORIES = frozenset({"Counting"})
EXISTENCE_CATEGORIES = frozenset({"Object existence"})
COLOR_CATEGORIES = frozenset({"Object color / pattern"})
FINE_CATEGORIES = frozenset({"Object category refinement"})


def contradictions(
    draft: Draft, facts: Mapping[str, Any], vocabulary: ClassVocabulary | None = None
) -> list[str]:
    """Return one flag per measured fact the draft's answer contradicts."""
    flags: list[str] = []
    counts = facts.get("counts")

    if draft.category in COUNT_CATEGORIES and isinstance(counts, Mapping):
        name = _class_in_question(draft.question, counts, vocabulary)
        if name is not None and _as_int(counts[name]) != _as_int(draft.answer):
            flags.append(
                f"count_mismatch: drafted {draft.answer}, labelled {counts[name]} for class {name!r}"
            )

    if draft.category in EXISTENCE_CATEGORIES and isinstance(counts, Mapping):
        name = _class_in_question(draft.question, counts, vocabulary)
        if name is not None:
            labelled = "yes" if (_as_int(counts[name]) or 0) > 0 else "no"
            if draft.answer != labelled:
                flags.append(
                    f"existence_mismatch: drafted {draft.answer}, labels say {labelled} "
                    f"({counts[name]} of class {name!r})"
                )

    color = facts.get("color")
    if draft.category in COLOR_CATEGORIES and isinstance(color, str) and color.strip():
        if not _same_or_nested(draft.answer, color):
            flags.append(f"color_mismatch: drafted {draft.answer!r}, measured {color!r}")

    fine = facts.get("fine_category")
    if draft.category in FINE_CATEGORIES and isinstance(fine, str) and fine.strip():
        if _words(draft.answer) != _words(fine):
            flags.append(f"category_mismatch: drafted {draft.answer!r}, labelled {fine!r}")

    return flags


def _class_in_question(
    question: str, counts: Mapping[str, Any], vocabulary: ClassVocabulary | None
) -> str | None:
    """Return the key of ``counts`` whose class the question names; the longest match wins,
    so "storage tanks" matches "storage tank" and not "tank"."""
    text = " ".join(_words(question))
    best: tuple[int, str] | None = None
    for name in counts:
        for spelling in _spellings(str(name), vocabulary):
            pattern = r"(?<![a-z0-9])" + re.escape(spelling) + r"(?![a-z0-9])"
            if re.search(pattern, text) and (best is None or len(spelling) > best[0]):
                best = (len(spelling), name)
    return best[1] if best else None


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


def _same_or_nested(answer: str, measured: str) -> bool:
    """Whether the answer names the measured colour, or a colour that contains it or that it
    contains ("green" and "dark green" agree; "blue" and "white" do not)."""
    answer_text = " " + " ".join(_words(answer)) + " "
    measured_text = " " + " ".join(_words(measured)) + " "
    return measured_text in answer_text or answer_text in measured_text


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _as_int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None
