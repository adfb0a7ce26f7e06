"""Reply parsing, draft validation and fact checks, on tables of awkward model outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lrsgro.taxonomy import AnswerKind
from lrsgro.vlm import DraftTarget, Referent
from lrsgro.vlm.drafts import MAX_ANSWER_WORDS, Draft, parse_reply, validate_draft, validate_drafts
from lrsgro.vlm.facts import contradictions

OBJECT = DraftTarget(
    image_path=Path("scene.tif"),
    image_id="scene",
    image="images/scene.tif",
    image_width=1000,
    image_height=800,
    level="object",
    referent=Referent("obj-3", (10.0, 10.0, 50.0, 40.0), "the ship on the left", "ship"),
)
SCENE = DraftTarget(
    image_path=Path("scene.tif"),
    image_id="scene",
    image="images/scene.tif",
    image_width=1000,
    image_height=800,
    level="global",
)
STATE = {
    "level": "object",
    "category": "Object state / motion / activity",
    "question": "Is the ship on the left moving or docked?",
    "answer": "docked",
    "answer_kind": "word",
    "referent": "obj-3",
}


@pytest.mark.parametrize(
    ("text", "count"),
    [
        (json.dumps({"questions": [STATE, STATE]}), 2),
        ("```json\n" + json.dumps({"questions": [STATE]}) + "\n```", 1),
        ("Here you go:\n" + json.dumps({"questions": [STATE]}) + "\nHope it helps.", 1),
        (json.dumps([STATE]), 1),
        (json.dumps(STATE), 1),
        (json.dumps({"questions": []}), 0),
    ],
)
def test_parse_reply_accepts_common_shapes(text: str, count: int) -> None:
    drafts, rejection = parse_reply(text)

    assert rejection is None
    assert len(drafts) == count


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("I cannot help with that.", "not valid JSON"),
        ('{"questions": [', "not valid JSON"),
        ('{"items": []}', 'no "questions" list'),
        ("42", 'no "questions" list'),
    ],
)
def test_parse_reply_rejects_unusable_replies(text: str, reason: str) -> None:
    drafts, rejection = parse_reply(text)

    assert drafts == []
    assert rejection is not None
    assert reason in rejection.reason


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"category": "Object state"}, "is not a question type at level 'object'"),
        ({"category": "object state / motion / activity"}, "is not a question type"),
        ({"level": "global"}, "does not match the target level"),
        ({"answer_kind": "phrase"}, "answer_kind 'phrase' does not match 'word'"),
        ({"referent": "obj-4"}, "is not the target referent 'obj-3'"),
        ({"referent": None}, "is not the target referent"),
        ({"question": ""}, "the question is empty"),
        ({"question": "x" * 301}, "longer than 300 characters"),
        ({"answer": ""}, "the answer is empty"),
        ({"answer": "moored at the long pier with two tugs"}, "has 8 words; answers of kind 'word' have at most 3"),
        ({"answer": ["docked"]}, "field 'answer'"),
    ],
)
def test_validate_draft_rejects_with_reason(changes: dict, reason: str) -> None:
    result = validate_draft({**STATE, **changes}, OBJECT, 0)

    assert not isinstance(result, Draft)
    assert reason in result.reason
    assert result.index == 0


@pytest.mark.parametrize(
    ("draft", "answer", "choices"),
    [
        (STATE, "docked", []),
        ({**STATE, "answer": "Docked."}, "Docked", []),
        ({**STATE, "explanation": "the hull touches the pier"}, "docked", []),
        (
            {**STATE, "category": "Object category refinement", "answer_kind": "choice",
             "question": "Is it a cargo ship or a tanker?", "answer": "tanker", "choices": ["cargo ship", "Tanker"]},
            "Tanker",
            ["cargo ship", "Tanker"],
        ),
    ],
)
def test_validate_draft_canonical_answers(draft: dict, answer: str, choices: list[str]) -> None:
    result = validate_draft(draft, OBJECT, 0)

    assert isinstance(result, Draft)
    assert result.answer == answer
    assert result.choices == choices


@pytest.mark.parametrize(
    ("draft", "answer"),
    [
        ({"category": "Counting", "answer_kind": "integer", "answer": 7}, "7"),
        ({"category": "Counting", "answer_kind": "integer", "answer": "007"}, "7"),
        ({"category": "Scene Type", "answer_kind": "word", "answer": "port", "referent": "image"}, "port"),
        ({"category": "Urban-Rural", "answer_kind": "word", "answer": "urban", "referent": None}, "urban"),
    ],
)
def test_validate_draft_global_answers(draft: dict, answer: str) -> None:
    full = {"level": "global", "question": "How many ships are there?", "referent": None, **draft}

    result = validate_draft(full, SCENE, 0)

    assert isinstance(result, Draft)
    assert result.answer == answer


@pytest.mark.parametrize(
    ("draft", "reason"),
    [
        ({"category": "Counting", "answer_kind": "integer", "answer": "about 7"}, "not a whole number"),
        ({"category": "Counting", "answer_kind": "integer", "answer": -2}, "not a whole number"),
        ({"category": "Scene Type", "answer_kind": "word", "answer": "port", "referent": "obj-1"},
         "given for a question about the whole image"),
    ],
)
def test_validate_draft_global_rejections(draft: dict, reason: str) -> None:
    full = {"level": "global", "question": "How many ships are there?", "referent": None, **draft}

    result = validate_draft(full, SCENE, 0)

    assert not isinstance(result, Draft)
    assert reason in result.reason


def test_validate_draft_yes_no_and_choice_rules() -> None:
    region = DraftTarget(
        image_path=Path("scene.tif"), image_id="scene", image="images/scene.tif", image_width=1000,
        image_height=800, level="region", referent=Referent("r-1", (0.0, 0.0, 500.0, 400.0), "the top-left part"),
    )
    base = {"level": "region", "category": "Object existence", "question": "Is there a ship in the top-left part?",
            "answer_kind": "yes_no", "referent": "r-1"}
    choice = {**STATE, "category": "Object category refinement", "answer_kind": "choice"}

    assert validate_draft({**base, "answer": "Yes."}, region, 0).answer == "yes"
    assert validate_draft({**base, "answer": True}, region, 0).answer == "yes"
    assert "not 'yes' or 'no'" in validate_draft({**base, "answer": "maybe"}, region, 0).reason
    assert "two different choices" in validate_draft({**choice, "choices": ["tanker"]}, OBJECT, 0).reason
    assert "two different choices" in validate_draft({**choice, "choices": ["a", "A"]}, OBJECT, 0).reason
    assert "not one of the choices" in validate_draft({**choice, "answer": "ferry", "choices": ["tanker", "tug"]}, OBJECT, 0).reason


def test_four_word_answer_rejected() -> None:
    material = {**STATE, "category": "Object material / surface", "question": "What is the ship's deck made of?"}

    four = validate_draft({**material, "answer": "bare grey concrete slab"}, OBJECT, 0)
    three = validate_draft({**material, "answer": "grey concrete slab"}, OBJECT, 0)

    assert MAX_ANSWER_WORDS[AnswerKind.WORD] == 3
    assert not isinstance(four, Draft)
    assert four.kind == "too_many_words"
    assert "has 4 words" in four.reason
    assert isinstance(three, Draft)


def test_phrase_answer_word_limit() -> None:
    usage = {**STATE, "category": "Object function / usage", "answer_kind": "phrase",
             "question": "What is the ship on the left used for?"}

    nine = validate_draft({**usage, "answer": "carrying dry cargo such as grain, ore or containers"}, OBJECT, 0)
    eight = validate_draft({**usage, "answer": "carrying dry cargo such as grain or ore"}, OBJECT, 0)

    assert MAX_ANSWER_WORDS[AnswerKind.PHRASE] == 8
    assert not isinstance(nine, Draft)
    assert nine.kind == "too_many_words"
    assert isinstance(eight, Draft)


def test_validate_drafts_limits_and_duplicates() -> None:
    material = {**STATE, "category": "Object material / surface", "question": "What is its deck made of?",
                "answer": "metal"}
    duplicate = {**STATE, "question": "is the ship on the left  moving or docked"}
    drafts, rejections = validate_drafts([STATE, "not an object", duplicate, material, {**material, "question": "Hull?"}], OBJECT, limit=2)

    assert [d.index for d in drafts] == [0, 3]
    reasons = {r.index: r.reason for r in rejections}
    kinds = {r.index: r.kind for r in rejections}
    assert kinds == {1: "not_an_object", 2: "duplicate_in_reply", 4: "over_limit"}
    assert "must be a JSON object" in reasons[1]
    assert "duplicate" in reasons[2]
    assert "more drafts than the 2 allowed" in reasons[4]
    assert len(rejections) == 3


def draft(category: str, question: str, answer: str, kind: AnswerKind = AnswerKind.WORD) -> Draft:
    return Draft("object", category, question, answer, kind, [], 0, {})


@pytest.mark.parametrize(
    ("item", "facts", "flags"),
    [
        (draft("Counting", "How many ships are in the harbour?", "5", AnswerKind.INTEGER), {"counts": {"ship": 4}},
         ["count_mismatch: drafted 5, labelled 4 for class 'ship'"]),
        (draft("Counting", "How many ships are in the harbour?", "4", AnswerKind.INTEGER), {"counts": {"ship": 4}}, []),
        (draft("Counting", "How many vessels are there?", "2", AnswerKind.INTEGER), {"counts": {"ship": 3}},
         ["count_mismatch: drafted 2, labelled 3 for class 'ship'"]),
        (draft("Counting", "How many storage tanks are there?", "6", AnswerKind.INTEGER),
         {"counts": {"storage tank": 6, "tank": 1}}, []),
        (draft("Counting", "How many planes are there?", "2", AnswerKind.INTEGER), {"counts": {"ship": 3}}, []),
        (draft("Object existence", "Is there a plane here?", "yes", AnswerKind.YES_NO), {"counts": {"plane": 0}},
         ["existence_mismatch: drafted yes, labels say no (0 of class 'plane')"]),
        (draft("Object existence", "Is there a plane here?", "no", AnswerKind.YES_NO), {"counts": {"plane": 0}}, []),
        (draft("Object color / pattern", "What colour is it?", "blue"), {"color": "white"},
         ["color_mismatch: drafted 'blue', measured 'white'"]),
        (draft("Object color / pattern", "What colour is it?", "green"), {"color": "dark green"}, []),
        (draft("Object color / pattern", "What colour is it?", "white and grey"), {"color": "grey"}, []),
        (draft("Object color / pattern", "What colour is it?", "red"), {"color": "dark green"},
         ["color_mismatch: drafted 'red', measured 'dark green'"]),
        (draft("Object category refinement", "Cargo ship or tanker?", "tanker", AnswerKind.CHOICE),
         {"fine_category": "cargo ship"}, ["category_mismatch: drafted 'tanker', labelled 'cargo ship'"]),
        (draft("Object material / surface", "What is it made of?", "metal"), {"color": "white"}, []),
        (draft("Object color / pattern", "What colour is it?", "Gray"), {"color": "grey"}, []),
        (draft("Object color / pattern", "What colour is it?", "light gray"), {"color": "grey"}, []),
    ],
)
def test_contradictions_flag_measured_facts(item: Draft, facts: dict, flags: list[str]) -> None:
    assert contradictions(item, facts) == flags


def global_draft(category: str, answer: str) -> Draft:
    return Draft("global", category, f"What is the {category.lower()} of this image?", answer, AnswerKind.WORD, [], 0, {})


@pytest.mark.parametrize(
    ("item", "facts", "flags"),
    [
        (global_draft("Season", "summer"), {"acquisition_date": "2023-01-18", "hemisphere": "northern"},
         ["season_mismatch: drafted 'summer', expected 'winter' for 2023-01-18 in the northern hemisphere"]),
        (global_draft("Season", "winter"), {"acquisition_date": "2023-01-18", "hemisphere": "northern"}, []),
        (global_draft("Season", "summer"), {"acquisition_date": "2023-01-18", "hemisphere": "southern"}, []),
        (global_draft("Season", "Summer."), {"acquisition_date": "2023-01-18T10:00:00", "latitude": -33.9}, []),
        (global_draft("Season", "fall"), {"acquisition_date": "2021-10-02", "latitude": 48.7}, []),
        (global_draft("Season", "spring"), {"acquisition_date": "2021-10-02", "latitude": 48.7},
         ["season_mismatch: drafted 'spring', expected 'autumn' for 2021-10-02 at latitude 48.7"]),
        # Inside the tropics the four seasons do not apply, so nothing is checked.
        (global_draft("Season", "summer"), {"acquisition_date": "2023-01-18", "latitude": 10.5}, []),
        (global_draft("Season", "summer"), {"acquisition_date": "2023-01-18"}, []),
        (global_draft("Season", "summer"), {"hemisphere": "northern"}, []),
        (global_draft("Season", "summer"), {"season": "winter"},
         ["season_mismatch: drafted 'summer', expected 'winter' from the season fact"]),
        (global_draft("Scene Type", "farmland"), {"scene_type": "port"},
         ["scene_type_mismatch: drafted 'farmland', rule-derived 'port'"]),
        (global_draft("Scene Type", "a port"), {"scene_type": "port"}, []),
        (global_draft("Scene Type", "Residential areas"), {"scene_type": "residential area"}, []),
        (global_draft("Urban-Rural", "urban"), {"urban_rural": "rural"},
         ["urban_rural_mismatch: drafted 'urban', rule-derived 'rural'"]),
        (global_draft("Urban-Rural", "rural"), {"urban_rural": "rural"}, []),
        (global_draft("Urban-Rural", "urban"), {"scene_type": "port"}, []),
    ],
)
def test_contradictions_flag_scene_facts(item: Draft, facts: dict, flags: list[str]) -> None:
    assert contradictions(item, facts) == flags
