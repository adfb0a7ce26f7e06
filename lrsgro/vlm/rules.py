"""Match VLM drafts against the rule-derived questions of the same build.

The rules measure their answers, so a draft that repeats a rule-derived question never
becomes a second question. If the draft agrees with the rule answer it is dropped as a
duplicate, and if it disagrees it is dropped and reported with both answers, because
reviewers trust the measured one.

A draft repeats a rule question when both share the image, the level, the category and the
referent: the whole image at global level, else the same region or object, matched by id or
by referring expression. Counting and Object existence are asked once per class, so they
match only when the draft names the class of the rule question. Region "Other visual
features" are asked about colour and about shape separately, so they match only on the same
aspect.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from lrsgro.records import Question
from lrsgro.taxonomy import AnswerKind
from lrsgro.vlm.drafts import Draft
from lrsgro.vlm.facts import class_in_question, same_answer, same_or_nested
from lrsgro.vlm.targets import DraftTarget, Referent

PER_CLASS_CATEGORIES = frozenset({"Counting", "Object existence"})
# Categories whose answer is a colour name when the question asks for a colour.
COLOR_ANSWER_CATEGORIES = frozenset({"Object color / pattern", "Other visual features"})
ASPECT_CATEGORIES = frozenset({("region", "Other visual features")})

_COLOR_WORDS = re.compile(r"\bcolou?rs?\b", re.IGNORECASE)
_SHAPE_WORDS = re.compile(r"\bshapes?\b|\belongated\b|\bcompact\b", re.IGNORECASE)


@dataclass(frozen=True)
class RuleMatch:
    """The outcome of comparing a draft with the rule question it repeats.

    Attributes:
        status: ``duplicate`` when the answers agree, ``contradiction`` when they do not.
        rule: the rule-derived question the draft repeats.
    """

    status: Literal["duplicate", "contradiction"]
    rule: Question


class RuleIndex:
    """The rule-derived questions of a build, looked up by image, level and referent."""

    def __init__(self, questions: Iterable[Question]) -> None:
        self._about: dict[tuple[str, str, str], dict[str, Question]] = {}
        for question in questions:
            if question.provenance != "rule":
                continue
            for key in _rule_referent_keys(question):
                self._about.setdefault((question.image_id, question.level, key), {})[question.qid] = question

    def questions_about(self, image_id: str, level: str, referent: Referent | None) -> list[Question]:
        """Return the rule questions about one referent (None: the whole image), in build order."""
        found: dict[str, Question] = {}
        for key in _target_referent_keys(referent):
            found.update(self._about.get((image_id, level, key), {}))
        return list(found.values())

    def answered_categories(self, image_id: str, level: str, referent: Referent | None) -> set[str]:
        """Return the categories the rules asked about one referent."""
        return {q.category for q in self.questions_about(image_id, level, referent)}

    def compare(self, draft: Draft, target: DraftTarget) -> RuleMatch | None:
        """Return how the draft relates to the rule question it repeats; None when it repeats none."""
        candidates = [
            q for q in self.questions_about(target.image_id, target.level, target.referent)
            if q.category == draft.category
        ]
        if draft.category in PER_CLASS_CATEGORIES:
            classes = {str(q.evidence.measured.get("class")) for q in candidates}
            named = class_in_question(draft.question, classes)
            candidates = [q for q in candidates if str(q.evidence.measured.get("class")) == named]
        if (draft.level, draft.category) in ASPECT_CATEGORIES:
            aspect = _aspect(draft.question)
            candidates = [q for q in candidates if _aspect(q.question) == aspect]
        if not candidates:
            return None

        for rule in candidates:
            if _agrees(draft, rule):
                return RuleMatch("duplicate", rule)
        return RuleMatch("contradiction", candidates[0])


def _agrees(draft: Draft, rule: Question) -> bool:
    if draft.answer_kind is AnswerKind.INTEGER:
        return draft.answer.strip() == rule.answer.strip()
    if draft.category in COLOR_ANSWER_CATEGORIES and _COLOR_WORDS.search(rule.question):
        return same_or_nested(draft.answer, rule.answer)
    return same_answer(draft.answer, rule.answer)


def _aspect(question: str) -> str:
    if _COLOR_WORDS.search(question):
        return "color"
    if _SHAPE_WORDS.search(question):
        return "shape"
    return "other"


def _rule_referent_keys(question: Question) -> set[str]:
    if question.level == "global":
        return {"image"}
    keys = {f"expression:{question.referent}"} if question.referent else set()
    # The rule families (lrsgro.generate) store a region question's region id as
    # measured["region"], and list an object question's referent first in object_ids.
    if question.level == "region" and question.evidence.measured.get("region"):
        keys.add(f"id:{question.evidence.measured['region']}")
    if question.level == "object" and question.evidence.object_ids:
        keys.add(f"id:{question.evidence.object_ids[0]}")
    return keys


def _target_referent_keys(referent: Referent | None) -> set[str]:
    if referent is None:
        return {"image"}
    return {f"id:{referent.id}", f"expression:{referent.expression}"}
