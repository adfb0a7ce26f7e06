"""Matching drafts against rule-derived questions: duplicates, contradictions and what never matches."""

from __future__ import annotations

from pathlib import Path

import pytest

from lrsgro.records import Evidence, Question, make_qid
from lrsgro.taxonomy import get_type
from lrsgro.vlm import DraftTarget, Referent
from lrsgro.vlm.drafts import Draft
from lrsgro.vlm.rules import RuleIndex

REGION = Referent("region-4", (0.0, 0.0, 300.0, 300.0), "the top-left part of the image", "part of the image")
OBJECT = Referent("harbour/1", (300.0, 420.0, 330.0, 432.0), "the ship in the bottom-center part of the image", "ship")


def target(level: str, referent: Referent | None = None, image_id: str = "harbour") -> DraftTarget:
    return DraftTarget(
        image_path=Path(f"{image_id}.tif"), image_id=image_id, image=f"{image_id}.tif", image_width=600,
        image_height=600, level=level, referent=referent,
    )


def rule(level: str, category: str, question: str, answer: str, *, referent: str | None = None,
         measured: dict | None = None, object_ids: list[str] | None = None, image_id: str = "harbour") -> Question:
    question_type = get_type(level, category)
    return Question(
        qid=make_qid(image_id, question_type.slug, referent or "", question), image_id=image_id, image="",
        image_width=600, image_height=600, split="", level=level, category=category, question=question,
        answer=answer, answer_kind=question_type.answer_kind, referent=referent, provenance="rule",
        evidence=Evidence(object_ids=object_ids or [], measured=measured or {}),
    )


def draft(level: str, category: str, question: str, answer: str) -> Draft:
    return Draft(level, category, question, answer, get_type(level, category).answer_kind, [], 0, {})


RULES = [
    rule("global", "Season", "In which season was this image most likely taken?", "winter"),
    rule("global", "Counting", "How many ships are there in this image?", "3", measured={"class": "ship"}),
    rule("region", "Other visual features", "What is the overall shape of the top-left part of the image, "
         "elongated or compact?", "compact", referent=REGION.expression, measured={"region": REGION.id}),
    rule("region", "Other visual features", "What is the dominant color of the top-left part of the image?",
         "dark green", referent=REGION.expression, measured={"region": REGION.id}),
    rule("region", "Counting", "How many ships are there in the top-left part of the image?", "1",
         referent=REGION.expression, measured={"class": "ship", "region": REGION.id}),
    # A refinement question names the object with another expression; its id still matches.
    rule("object", "Object color / pattern", "What is the color of the lower red ship?", "red",
         referent="the lower red ship", object_ids=[OBJECT.id]),
    rule("global", "Season", "In which season was this image most likely taken?", "summer", image_id="airport"),
]


@pytest.mark.parametrize(
    ("level", "referent", "item", "expected"),
    [
        ("global", None, draft("global", "Season", "Which season is it?", "summer"), ("contradiction", "winter")),
        ("global", None, draft("global", "Season", "Which season is it?", "Winter."), ("duplicate", "winter")),
        ("global", None, draft("global", "Counting", "How many ships are there?", "3"), ("duplicate", "3")),
        ("global", None, draft("global", "Counting", "How many ships are there?", "4"), ("contradiction", "3")),
        ("global", None, draft("global", "Counting", "How many planes are there?", "1"), None),
        ("global", None, draft("global", "Scene Type", "What is the land use?", "port"), None),
        ("region", REGION, draft("region", "Other visual features", "What colour is the area?", "green"),
         ("duplicate", "dark green")),
        ("region", REGION, draft("region", "Other visual features", "What colour is the area?", "grey"),
         ("contradiction", "dark green")),
        ("region", REGION, draft("region", "Other visual features", "What shape is the area?", "round"),
         ("contradiction", "compact")),
        ("region", REGION, draft("region", "Other visual features", "What covers the area?", "asphalt"), None),
        ("region", REGION, draft("region", "Counting", "How many ships are in the area?", "2"),
         ("contradiction", "1")),
        ("region", REGION, draft("region", "Counting", "How many planes are in the area?", "0"), None),
        ("region", REGION, draft("region", "Region status", "Is the area busy or idle?", "idle"), None),
        ("object", OBJECT, draft("object", "Object color / pattern", "What colour is the ship?", "blue"),
         ("contradiction", "red")),
        ("object", OBJECT, draft("object", "Object material / surface", "What is it made of?", "metal"), None),
    ],
)
def test_compare_with_rule_questions(level: str, referent: Referent | None, item: Draft, expected) -> None:
    match = RuleIndex(RULES).compare(item, target(level, referent))

    if expected is None:
        assert match is None
    else:
        assert match is not None
        assert (match.status, match.rule.answer) == expected


def test_answered_categories_per_referent() -> None:
    index = RuleIndex(RULES)

    assert index.answered_categories("harbour", "global", None) == {"Season", "Counting"}
    assert index.answered_categories("harbour", "region", REGION) == {"Other visual features", "Counting"}
    assert index.answered_categories("harbour", "object", OBJECT) == {"Object color / pattern"}
    assert index.answered_categories("airport", "global", None) == {"Season"}
    other = Referent("region-5", (300.0, 0.0, 600.0, 300.0), "the top-right part of the image")
    assert index.answered_categories("harbour", "region", other) == set()


def test_vlm_questions_are_not_rules() -> None:
    drafted = rule("global", "Season", "Which season is it?", "summer").model_copy(update={"provenance": "vlm"})
    index = RuleIndex([drafted])

    assert index.answered_categories("harbour", "global", None) == set()
    assert index.compare(draft("global", "Season", "Which season is it?", "winter"), target("global")) is None
