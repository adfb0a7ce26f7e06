"""Parse a model reply into drafts and validate each one against the taxonomy and the target.

A reply is a JSON object ``{"questions": [...]}``; a bare list, a single question object and
a reply wrapped in Markdown code fences are accepted too. Each draft that fails a check is
rejected on its own with the reason, so one bad draft never costs the others.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from lrsgro.taxonomy import AnswerKind, find_type
from lrsgro.vlm.targets import DraftTarget

MAX_QUESTION_CHARS = 300
# The most words a free-text answer may have. The prompt templates show the same numbers
# (see lrsgro.vlm.prompts), so the model is asked for exactly what this check accepts.
MAX_ANSWER_WORDS = {AnswerKind.WORD: 3, AnswerKind.PHRASE: 8}
# Referent values a model may write for "the whole image" at global level.
GLOBAL_REFERENTS = frozenset({"", "none", "null", "image", "the image", "whole image"})

_FENCE = re.compile(r"^\s*```[a-zA-Z]*\s*\n?(.*?)\n?```\s*$", re.DOTALL)
_INTEGER = re.compile(r"^[0-9]+$")


class DraftItem(BaseModel):
    """One drafted question as the model writes it (keys beyond these are ignored)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    level: str
    category: str
    question: str
    answer: str
    answer_kind: str
    choices: list[str] = []
    referent: str | None = None

    @field_validator("answer", "referent", mode="before")
    @classmethod
    def _number_to_text(cls, value: Any) -> Any:
        # Models often write a count or an id as a JSON number.
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, (int, float)):
            return str(int(value)) if float(value).is_integer() else str(value)
        return value


@dataclass
class Draft:
    """A draft that passed every check, with its answer in canonical form."""

    level: str
    category: str
    question: str
    answer: str
    answer_kind: AnswerKind
    choices: list[str]
    index: int
    raw: dict[str, Any]
    flags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DraftRejection:
    """A draft (or a whole reply) that failed a check.

    Attributes:
        index: position of the draft in the reply; None when the whole reply failed.
        kind: a short code of the check that failed (``too_many_words``, ``invalid_json``...),
            for counting rejections by cause.
        reason: what failed, naming the value.
        draft: the draft as the model wrote it, when it could be read.
    """

    index: int | None
    kind: str
    reason: str
    draft: dict[str, Any] | None = None


def parse_reply(text: str) -> tuple[list[Any], DraftRejection | None]:
    """Return the list of raw drafts in a reply, or a rejection of the whole reply."""
    body = text.strip()
    if not body:
        return [], DraftRejection(None, "empty_response", "the response is empty")

    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1).strip()

    try:
        data = json.loads(body)
    except json.JSONDecodeError as error:
        data = _outermost_object(body)
        if data is None:
            return [], DraftRejection(
                None,
                "invalid_json",
                f"the response is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}",
            )

    if isinstance(data, list):
        return data, None
    if isinstance(data, dict) and isinstance(data.get("questions"), list):
        return data["questions"], None
    if isinstance(data, dict) and "question" in data:
        return [data], None
    return [], DraftRejection(
        None, "no_questions_list", 'the response JSON has no "questions" list', data if isinstance(data, dict) else None
    )


def validate_drafts(raw_drafts: list[Any], target: DraftTarget, limit: int) -> tuple[list[Draft], list[DraftRejection]]:
    """Check each raw draft; return the valid drafts and the rejections, both in reply order."""
    drafts: list[Draft] = []
    rejections: list[DraftRejection] = []
    seen_questions: set[str] = set()

    for index, raw in enumerate(raw_drafts):
        raw_dict = raw if isinstance(raw, dict) else None
        if len(drafts) >= limit:
            rejections.append(
                DraftRejection(index, "over_limit", f"more drafts than the {limit} allowed for this target", raw_dict)
            )
            continue

        result = validate_draft(raw, target, index)
        if isinstance(result, DraftRejection):
            rejections.append(result)
            continue

        key = _normalise(result.question)
        if key in seen_questions:
            reason = "duplicate of an earlier question in the same reply"
            rejections.append(DraftRejection(index, "duplicate_in_reply", reason, raw_dict))
            continue
        seen_questions.add(key)
        drafts.append(result)

    return drafts, rejections


def validate_draft(raw: Any, target: DraftTarget, index: int) -> Draft | DraftRejection:
    """Check one raw draft against the taxonomy, the target and its answer kind."""
    if not isinstance(raw, dict):
        return DraftRejection(index, "not_an_object", f"a draft must be a JSON object, got {type(raw).__name__}")
    try:
        item = DraftItem.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "draft"
        return DraftRejection(index, "invalid_field", f"field {where!r}: {first['msg']}", raw)

    def reject(kind: str, reason: str) -> DraftRejection:
        return DraftRejection(index, kind, reason, raw)

    if item.level != target.level:
        return reject("wrong_level", f"level {item.level!r} does not match the target level {target.level!r}")
    question_type = find_type(item.level, item.category)
    if question_type is None:
        return reject("unknown_category", f"category {item.category!r} is not a question type at level {item.level!r}")
    if item.answer_kind != question_type.answer_kind.value:
        return reject(
            "wrong_answer_kind",
            f"answer_kind {item.answer_kind!r} does not match {question_type.answer_kind.value!r} "
            f"of {item.level}/{item.category}"
        )

    referent_problem = _check_referent(item.referent, target)
    if referent_problem:
        return reject("wrong_referent", referent_problem)
    if not item.question:
        return reject("empty_question", "the question is empty")
    if len(item.question) > MAX_QUESTION_CHARS:
        return reject("question_too_long", f"the question is longer than {MAX_QUESTION_CHARS} characters")
    if not item.answer:
        return reject("empty_answer", "the answer is empty")

    answer_or_problem = _canonical_answer(item, question_type.answer_kind)
    if isinstance(answer_or_problem, DraftRejection):
        return DraftRejection(index, answer_or_problem.kind, answer_or_problem.reason, raw)
    answer, choices = answer_or_problem

    return Draft(
        level=item.level,
        category=item.category,
        question=item.question,
        answer=answer,
        answer_kind=question_type.answer_kind,
        choices=choices,
        index=index,
        raw=raw,
    )


def _check_referent(referent: str | None, target: DraftTarget) -> str | None:
    if target.referent is None:
        if referent is None or referent.strip().lower() in GLOBAL_REFERENTS:
            return None
        return f"referent {referent!r} given for a question about the whole image"
    if referent is None or referent.strip() != target.referent.id:
        return f"referent {referent!r} is not the target referent {target.referent.id!r}"
    return None


def _canonical_answer(item: DraftItem, kind: AnswerKind) -> tuple[str, list[str]] | DraftRejection:
    answer = item.answer.strip().rstrip(".").strip()

    if kind is AnswerKind.YES_NO:
        lowered = answer.lower()
        if lowered not in ("yes", "no"):
            return DraftRejection(
                None, "invalid_answer", f"answer {item.answer!r} of a yes/no question is not 'yes' or 'no'"
            )
        return lowered, []

    if kind is AnswerKind.INTEGER:
        if not _INTEGER.match(answer):
            return DraftRejection(
                None, "invalid_answer", f"answer {item.answer!r} of a counting question is not a whole number"
            )
        return str(int(answer)), []

    if kind is AnswerKind.CHOICE:
        choices = [c.strip() for c in item.choices if c.strip()]
        if len(choices) != 2 or _normalise(choices[0]) == _normalise(choices[1]):
            return DraftRejection(
                None, "invalid_choices", f"a choice question needs two different choices, got {item.choices!r}"
            )
        for choice in choices:
            if _normalise(choice) == _normalise(answer):
                return choice, choices
        return DraftRejection(
            None, "invalid_answer", f"answer {item.answer!r} is not one of the choices {choices!r}"
        )

    max_words = MAX_ANSWER_WORDS.get(kind)
    words = len(answer.split())
    if max_words is not None and words > max_words:
        return DraftRejection(
            None,
            "too_many_words",
            f"answer {item.answer!r} has {words} words; answers of kind {kind.value!r} have at most {max_words}",
        )
    return answer, []


def _outermost_object(text: str) -> Any:
    start = text.find("{")
    end = text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        return json.loads(text[start : end + 1])
    except json.JSONDecodeError:
        return None


def _normalise(text: str) -> str:
    return " ".join(text.lower().split()).rstrip("?.! ")
