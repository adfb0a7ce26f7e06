"""Prompt templates: content hashes, placeholder checks and one rendered snapshot per question type.

A change to a template or to the rendering code changes the snapshots under
``tests/snapshots/vlm_prompts``, so the change shows in review. After checking the new text,
rewrite them with ``LRSGRO_UPDATE_SNAPSHOTS=1 pytest tests/test_vlm_prompts.py``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from lrsgro.errors import InputError
from lrsgro.resources import annotation_path
from lrsgro.taxonomy import QUESTION_TYPES, AnswerKind, QuestionType, get_type
from lrsgro.vlm import DraftTarget, Referent
from lrsgro.vlm.drafts import MAX_ANSWER_WORDS, Draft, validate_draft
from lrsgro.vlm.prompts import load_template

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots" / "vlm_prompts"
UPDATE = os.environ.get("LRSGRO_UPDATE_SNAPSHOTS") == "1"

REFERENTS = {
    "region": Referent("region-2", (4000.0, 0.0, 8000.0, 3000.0), "the top-right part of the image", "harbour area"),
    "object": Referent("P0001/7", (5120.5, 2210.0, 5400.0, 2290.0), "the largest ship in the upper right", "ship"),
}
FACTS = {
    "global": {"counts": {"ship": 14, "harbor": 2}, "gsd_m": 0.5, "acquisition_date": "2019-07-14"},
    "region": {"counts": {"ship": 9}, "color": "dark green"},
    "object": {"color": "white", "length_m": 139.8, "fine_category": "cargo ship"},
}


def target_for(question_type: QuestionType) -> DraftTarget:
    return DraftTarget(
        image_path=Path("P0001.tif"),
        image_id="P0001",
        image="images/P0001.tif",
        image_width=8000,
        image_height=6000,
        level=question_type.level,
        referent=REFERENTS.get(question_type.level),
        categories=(question_type.category,),
        facts=FACTS[question_type.level],
    )


@pytest.mark.parametrize("question_type", QUESTION_TYPES, ids=lambda t: t.slug)
def test_rendered_prompt_matches_snapshot(question_type: QuestionType) -> None:
    template = load_template(question_type.level)
    rendered = template.render(target_for(question_type), extra_questions=2)
    text = f"# template {template.name} {template.hash}\n{rendered}"
    snapshot = SNAPSHOTS / f"{question_type.slug}.txt"

    if UPDATE:
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.write_text(text, encoding="utf-8")
    assert snapshot.is_file(), f"missing snapshot {snapshot}; create it with LRSGRO_UPDATE_SNAPSHOTS=1"
    assert text == snapshot.read_text(encoding="utf-8"), (
        f"the rendered {question_type.level}/{question_type.category} prompt changed; review the diff "
        "and rewrite the snapshots with LRSGRO_UPDATE_SNAPSHOTS=1"
    )


@pytest.mark.parametrize("question_type", QUESTION_TYPES, ids=lambda t: t.slug)
def test_rendered_prompt_names_type_and_referent(question_type: QuestionType) -> None:
    rendered = load_template(question_type.level).render(target_for(question_type), extra_questions=2)
    required = rendered.split("for each of these types:", 1)[1].split("You may add", 1)[0]

    assert f'category "{question_type.category}", answer_kind "{question_type.answer_kind.value}"' in required
    assert required.count("- level") == 1
    assert "${" not in rendered
    assert "8000 x 6000" in rendered
    if question_type.level != "global":
        referent = REFERENTS[question_type.level]
        assert f"- id: {referent.id}\n" in rendered
        assert referent.expression in rendered
        assert f'"referent": "{referent.id}"' in rendered
    for key in FACTS[question_type.level]:
        assert f'"{key}"' in rendered


@pytest.mark.parametrize("level", ["global", "region", "object"])
def test_template_hash_is_content_sha256(level: str) -> None:
    template = load_template(level)
    data = annotation_path("prompts", f"{level}.txt").read_bytes()

    assert template.hash == hashlib.sha256(data).hexdigest()[:12]
    assert template.name == f"{level}.txt"


def test_template_hash_follows_content(tmp_path: Path) -> None:
    (tmp_path / "object.txt").write_text("Describe ${referent_id}.\n")
    first = load_template("object", tmp_path)
    (tmp_path / "object.txt").write_text("Describe ${referent_id} briefly.\n")
    second = load_template("object", tmp_path)

    assert first.hash != second.hash
    assert len(second.hash) == 12


def test_unknown_placeholder_rejected(tmp_path: Path) -> None:
    (tmp_path / "object.txt").write_text("Describe ${referent_name} in ${facts}.\n")

    with pytest.raises(InputError) as error:
        load_template("object", tmp_path)

    assert "referent_name" in str(error.value)
    assert "object.txt" in str(error.value)


def test_stray_dollar_rejected(tmp_path: Path) -> None:
    (tmp_path / "region.txt").write_text("It costs $ 5.\n")

    with pytest.raises(InputError, match=r"\$\$"):
        load_template("region", tmp_path)


def test_missing_template_names_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="global.txt"):
        load_template("global", tmp_path)


def test_prompt_and_validator_share_word_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(MAX_ANSWER_WORDS, AnswerKind.WORD, 5)
    question_type = get_type("object", "Object material / surface")
    target = target_for(question_type)
    rendered = load_template("object").render(target, extra_questions=2)
    draft = {"level": "object", "category": question_type.category, "question": "What is it made of?",
             "answer_kind": "word", "referent": target.referent.id}

    five = validate_draft({**draft, "answer": "bare grey concrete slab edges"}, target, 0)
    six = validate_draft({**draft, "answer": "bare grey concrete slab with edges"}, target, 0)

    assert '"word" are at most 5 words' in rendered
    assert isinstance(five, Draft)
    assert not isinstance(six, Draft)


@pytest.mark.parametrize("question_type", QUESTION_TYPES, ids=lambda t: t.slug)
def test_rendered_prompt_states_word_limits(question_type: QuestionType) -> None:
    rendered = load_template(question_type.level).render(target_for(question_type), extra_questions=2)

    assert f'"word" are at most {MAX_ANSWER_WORDS[AnswerKind.WORD]} words' in rendered
    if question_type.level != "global":
        assert f'"phrase" answers are at most {MAX_ANSWER_WORDS[AnswerKind.PHRASE]} words' in rendered
    assert "one to three words" not in rendered


def test_answered_types_left_out_of_optional() -> None:
    target = DraftTarget(
        image_path=Path("P0001.tif"), image_id="P0001", image="images/P0001.tif", image_width=8000, image_height=6000,
        level="global", categories=("Urban-Rural",), answered_categories=("Counting", "Scene Type", "Season"),
    )
    rendered = load_template("global").render(target, extra_questions=2)
    optional = rendered.split("of these types:", 2)[2].split("Rules:", 1)[0]

    assert optional.strip() == "- (none)"
    assert "up to 0 more questions" in rendered


def test_shipped_templates_show_facts_and_types() -> None:
    for level in ("global", "region", "object"):
        text = load_template(level).text

        assert "${facts}" in text
        assert "${required_types}" in text
        assert "${optional_types}" in text
