"""``--filter key=value`` selections of questions for review."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import get_args

from lrsgro.errors import InputError
from lrsgro.records import Provenance, Question, ReviewStatus

# Each default applies unless a --filter item uses the same key (see parse_review_filters).
DEFAULT_FILTERS = ("status=candidate",)

# filter key -> Question attribute
FILTER_FIELDS = {
    "status": "review_status",
    "level": "level",
    "category": "category",
    "split": "split",
    "provenance": "provenance",
    "image": "image_id",
}
_ALLOWED_VALUES = {
    "status": frozenset(get_args(ReviewStatus)),
    "level": frozenset({"global", "region", "object"}),
    "provenance": frozenset(get_args(Provenance)),
}


def parse_filters(items: Sequence[str]) -> dict[str, frozenset[str]]:
    """Parse ``key=value[,value...]`` items; several items with one key must all hold.

    Raises:
        InputError: an item has no ``=``, an unknown key or a value outside the allowed set.
    """
    filters: dict[str, frozenset[str]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not raw.strip():
            raise InputError(f"filter {item!r} is not key=value", fix="for example --filter status=candidate")
        if key not in FILTER_FIELDS:
            raise InputError(f"unknown filter key {key!r} in {item!r}", fix=f"use one of {', '.join(FILTER_FIELDS)}")

        values = frozenset(v.strip() for v in raw.split(",") if v.strip())
        allowed = _ALLOWED_VALUES.get(key)
        if allowed is not None and not values <= allowed:
            bad = ", ".join(sorted(values - allowed))
            raise InputError(
                f"filter {item!r} has unknown value {bad}", fix=f"{key} takes {', '.join(sorted(allowed))}"
            )
        filters[key] = filters[key] & values if key in filters else values
    return filters


def parse_review_filters(items: Sequence[str]) -> dict[str, frozenset[str]]:
    """Parse ``--filter`` items on top of :data:`DEFAULT_FILTERS`.

    A default applies unless an item uses its key: ``level=object`` selects the object-level
    candidates, and accepted, edited or rejected questions are selected only when a
    ``status=`` item names them.

    Raises:
        InputError: as :func:`parse_filters`.
    """
    return {**parse_filters(DEFAULT_FILTERS), **parse_filters(items)}


def select_questions(questions: Iterable[Question], filters: dict[str, frozenset[str]]) -> list[Question]:
    """Return the questions that match every filter, in input order."""
    return [
        question
        for question in questions
        if all(str(getattr(question, FILTER_FIELDS[key])) in values for key, values in filters.items())
    ]
