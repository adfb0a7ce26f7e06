"""The 17 LRS-GRO question types: the one table that generation, validation and scoring share.

A type is keyed by the pair (level, category) because ``Counting`` exists at two levels. The
category strings are spelled exactly as in the published LRS-GRO records so records round-trip.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

Level = Literal["global", "region", "object"]
LEVELS: tuple[Level, ...] = ("global", "region", "object")


class AnswerKind(str, Enum):
    """How an answer is written and compared."""

    WORD = "word"
    YES_NO = "yes_no"
    INTEGER = "integer"
    PHRASE = "phrase"
    CHOICE = "choice"


class Source(str, Enum):
    """Which stage can produce a type."""

    RULE = "rule"
    VLM = "vlm"


@dataclass(frozen=True)
class QuestionType:
    """One of the 17 types.

    Attributes:
        level: ``global``, ``region`` or ``object``.
        category: the category string as published.
        slug: a short identifier for file names and ids.
        answer_kind: how the answer is written.
        sources: stages that can produce this type; ``RULE`` means labels, geometry, pixels
            or metadata decide the answer.
        needs_roi: whether a question carries a region of interest box.
    """

    level: Level
    category: str
    slug: str
    answer_kind: AnswerKind
    sources: frozenset[Source]
    needs_roi: bool

    @property
    def key(self) -> tuple[str, str]:
        return (self.level, self.category)

    @property
    def rule_decidable(self) -> bool:
        return Source.RULE in self.sources


_R = frozenset({Source.RULE, Source.VLM})
_V = frozenset({Source.VLM})

QUESTION_TYPES: tuple[QuestionType, ...] = (
    QuestionType("global", "Scene Type", "scene_type", AnswerKind.WORD, _R, False),
    QuestionType("global", "Urban-Rural", "urban_rural", AnswerKind.WORD, _R, False),
    QuestionType("global", "Season", "season", AnswerKind.WORD, _R, False),
    QuestionType("global", "Counting", "global_counting", AnswerKind.INTEGER, _R, False),
    QuestionType("region", "Counting", "region_counting", AnswerKind.INTEGER, _R, True),
    QuestionType("region", "Object existence", "object_existence", AnswerKind.YES_NO, _R, True),
    QuestionType("region", "Region status", "region_status", AnswerKind.WORD, _R, True),
    QuestionType("region", "Other visual features", "region_visual", AnswerKind.WORD, _R, True),
    QuestionType("region", "Region function", "region_function", AnswerKind.PHRASE, _R, True),
    QuestionType("region", "Object category", "region_object_category", AnswerKind.WORD, _R, True),
    QuestionType("object", "Object color / pattern", "object_color", AnswerKind.WORD, _R, True),
    QuestionType("object", "Object shape / structure", "object_shape", AnswerKind.WORD, _R, True),
    QuestionType(
        "object", "Object relative position / context", "object_context", AnswerKind.PHRASE, _R, True
    ),
    QuestionType(
        "object", "Object state / motion / activity", "object_state", AnswerKind.WORD, _V, True
    ),
    QuestionType(
        "object", "Object category refinement", "object_refinement", AnswerKind.CHOICE, _R, True
    ),
    QuestionType("object", "Object material / surface", "object_material", AnswerKind.WORD, _V, True),
    QuestionType(
        "object", "Object function / usage", "object_function", AnswerKind.PHRASE, _R, True
    ),
)

_BY_KEY = {t.key: t for t in QUESTION_TYPES}
_BY_SLUG = {t.slug: t for t in QUESTION_TYPES}


def get_type(level: str, category: str) -> QuestionType:
    """Look up a type by (level, category); raise ``KeyError`` naming the allowed pairs."""
    try:
        return _BY_KEY[(level, category)]
    except KeyError:
        allowed = "; ".join(f"{t.level}/{t.category}" for t in QUESTION_TYPES)
        raise KeyError(f"unknown question type {level}/{category!r}; allowed: {allowed}") from None


def get_type_by_slug(slug: str) -> QuestionType:
    """Look up a type by its slug."""
    try:
        return _BY_SLUG[slug]
    except KeyError:
        raise KeyError(f"unknown question type slug {slug!r}; allowed: {sorted(_BY_SLUG)}") from None


def find_type(level: str, category: str) -> QuestionType | None:
    """Return the type for (level, category), or None when the pair is outside the 17."""
    return _BY_KEY.get((level, category))


def types_at(level: Level) -> tuple[QuestionType, ...]:
    """Return the types of one level in table order."""
    return tuple(t for t in QUESTION_TYPES if t.level == level)
