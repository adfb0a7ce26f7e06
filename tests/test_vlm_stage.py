"""The drafting stage end to end: the real openai client against a scripted server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
import json
import logging
from pathlib import Path

import pytest
from PIL import Image

from lrsgro.records import Evidence, Question, make_qid
from lrsgro.resources import annotation_path
from lrsgro.taxonomy import get_type
from lrsgro.vlm import DraftTarget, Referent, VlmConfig, draft_questions
from lrsgro.vlm.cache import ResponseCache
from lrsgro.vlm.rules import RuleIndex
from tests.openai_stub import Reply, ScriptedOpenAIServer, by_marker
from tests.vlm_support import object_target, reply_text_for, well_formed, write_geotiff

pytestmark = pytest.mark.server

WIDTH, HEIGHT = 3000, 2000
SECRET = "sk-test-7f3a9c1e5b2d4a60"


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_geotiff(tmp_path_factory.mktemp("images") / "scene.tif", WIDTH, HEIGHT, seed=7)


@pytest.fixture(autouse=True)
def _no_key_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def targets_for(scene: Path, count: int, **overrides) -> list[DraftTarget]:
    return [object_target(scene, i, WIDTH, HEIGHT, **overrides) for i in range(count)]


def config_for(server: ScriptedOpenAIServer, tmp_path: Path, **overrides) -> VlmConfig:
    fields = dict(
        endpoint=server.url,
        model="stub-vlm",
        cache_dir=tmp_path / "cache",
        concurrency=2,
        backoff_base_s=0.01,
        backoff_max_s=0.05,
        timeout_s=10.0,
    )
    fields.update(overrides)
    return VlmConfig(**fields)


def marker(index: int) -> str:
    return f"- id: obj-{index}\n"


def requests_about(server: ScriptedOpenAIServer, index: int) -> int:
    return sum(1 for r in server.requests if marker(index) in r.text)


def test_well_formed_replies_become_candidates(scene: Path, tmp_path: Path) -> None:
    targets = targets_for(scene, 3)
    with ScriptedOpenAIServer(well_formed) as server:
        result = draft_questions(targets, config_for(server, tmp_path))
        recorded = server.requests

    expected_hash = hashlib.sha256(annotation_path("prompts", "object.txt").read_bytes()).hexdigest()[:12]
    replies = {r.text.split("- id: ")[1].split("\n")[0]: reply_text_for(r) for r in recorded}
    assert len(recorded) == 3
    assert len(result.questions) == 6
    assert result.report.requests == 3
    assert result.report.drafted_targets == 3
    assert result.report.rejected == []
    assert result.report.missing == []
    for question in result.questions:
        referent_id = question.evidence.object_ids[0]
        target = targets[int(referent_id.split("-")[1])]
        assert question.provenance == "vlm"
        assert question.review_status == "candidate"
        assert question.vlm is not None
        assert question.vlm.model == "stub-vlm"
        assert question.vlm.template == "object.txt"
        assert question.vlm.template_hash == expected_hash
        assert question.vlm.raw_response == replies[referent_id]
        slug = get_type("object", question.category).slug
        assert question.qid == make_qid("scene", slug, target.referent.expression, question.question)
        assert question.roi == list(target.referent.box)
        assert question.referent == target.referent.expression
    assert {q.category for q in result.questions} == {
        "Object state / motion / activity",
        "Object material / surface",
    }


def test_request_carries_three_small_views(scene: Path, tmp_path: Path) -> None:
    target = object_target(scene, 2, WIDTH, HEIGHT)
    with ScriptedOpenAIServer(well_formed) as server:
        draft_questions([target], config_for(server, tmp_path))
        (request,) = server.requests

    sizes = [Image.open(io.BytesIO(data)).size for data in request.images]
    assert len(sizes) == 3
    assert sizes[0] == (1024, 683)  # the whole 3000 x 2000 image, long side 1024
    assert sizes[1] == (256, 256)  # a 60 x 40 object grows to the 256 px minimum context
    assert sizes[2] == (76, 56)  # the object box plus 8 px on each side, not upsampled
    assert all(max(size) <= 1024 for size in sizes)
    # The object (400, 260)-(460, 300) is outlined in red inside the context crop, which
    # starts at (302, 152); its left edge runs down column 98.
    context = Image.open(io.BytesIO(request.images[1])).convert("RGB")
    red, green, blue = context.getpixel((99, 128))
    assert red > 150
    assert green < 100
    assert blue < 100
    untouched = context.getpixel((128, 128))
    assert untouched[0] < 150 or untouched[1] > 100
    assert request.body["response_format"] == {"type": "json_object"}
    assert request.body["temperature"] == 0.0


def test_region_and_global_targets_send_fewer_views(scene: Path, tmp_path: Path) -> None:
    region = DraftTarget(
        image_path=scene,
        image_id="scene",
        image="images/scene.tif",
        image_width=WIDTH,
        image_height=HEIGHT,
        level="region",
        referent=Referent("region-4", (1500.0, 1000.0, 3000.0, 2000.0), "the bottom-right part of the image"),
    )
    whole = DraftTarget(
        image_path=scene,
        image_id="scene",
        image="images/scene.tif",
        image_width=WIDTH,
        image_height=HEIGHT,
        level="global",
        facts={"counts": {"ship": 4}},
    )
    with ScriptedOpenAIServer(well_formed) as server:
        result = draft_questions([region, whole], config_for(server, tmp_path))
        recorded = server.requests

    by_level = {("region-4" in r.text): r for r in recorded}
    region_sizes = [Image.open(io.BytesIO(d)).size for d in by_level[True].images]
    global_sizes = [Image.open(io.BytesIO(d)).size for d in by_level[False].images]
    assert region_sizes == [(1024, 683), (1024, 683)]
    assert global_sizes == [(1024, 683)]
    assert result.report.templates.keys() == {"global.txt", "region.txt"}
    levels = {q.level for q in result.questions}
    assert levels == {"region", "global"}
    assert all(q.roi is None for q in result.questions if q.level == "global")


def test_malformed_and_off_taxonomy_drafts_rejected(scene: Path, tmp_path: Path) -> None:
    bad_drafts = [
        {"level": "object", "category": "Object mood", "question": "Is it happy?", "answer": "yes",
         "answer_kind": "word", "referent": "obj-1"},
        {"level": "region", "category": "Region status", "question": "Is the area busy?", "answer": "busy",
         "answer_kind": "word", "referent": "obj-1"},
        {"level": "object", "category": "Object material / surface", "question": "What is it made of?",
         "answer": "metal", "answer_kind": "integer", "referent": "obj-1"},
        {"level": "object", "category": "Object state / motion / activity", "question": "Is it moving?",
         "answer": "moving", "answer_kind": "word", "referent": "obj-9"},
        {"level": "object", "category": "Object color / pattern", "question": "Which colour?", "answer_kind": "word",
         "referent": "obj-1"},
    ]
    script = by_marker(
        {
            marker(0): [Reply(text="Sure! Here are the questions: {not json")],
            marker(1): [lambda request: Reply(text=reply_text_for(request, extra=bad_drafts))],
        },
        default=well_formed,
    )
    with ScriptedOpenAIServer(script) as server:
        result = draft_questions(targets_for(scene, 3), config_for(server, tmp_path, extra_questions=5))

    reasons = {(r.target_id, r.index): r.reason for r in result.report.rejected}
    assert "not valid JSON" in reasons[("scene/object/obj-0", None)]
    assert "'Object mood' is not a question type" in reasons[("scene/object/obj-1", 2)]
    assert "level 'region' does not match" in reasons[("scene/object/obj-1", 3)]
    assert "answer_kind 'integer' does not match 'word'" in reasons[("scene/object/obj-1", 4)]
    assert "referent 'obj-9' is not the target referent 'obj-1'" in reasons[("scene/object/obj-1", 5)]
    assert "field 'answer'" in reasons[("scene/object/obj-1", 6)]
    assert len(result.report.rejected) == 6
    missing = {(m.target_id, m.category) for m in result.report.missing}
    assert ("scene/object/obj-0", "Object material / surface") in missing
    assert ("scene/object/obj-0", "Object state / motion / activity") in missing
    assert len(missing) == 2
    # The two valid drafts of each other target survive their neighbours' bad ones.
    assert len(result.questions) == 4


def test_rate_limit_then_success_is_retried(scene: Path, tmp_path: Path) -> None:
    script = by_marker(
        {marker(0): [Reply(status=429, headers={"Retry-After": "0"}), Reply(status=429), well_formed]},
        default=well_formed,
    )
    with ScriptedOpenAIServer(script) as server:
        result = draft_questions(targets_for(scene, 2), config_for(server, tmp_path))
        sent_about_first = requests_about(server, 0)
        sent = len(server.requests)

    assert sent_about_first == 3
    assert result.report.retries == 2
    assert result.report.requests == sent == 4
    assert result.report.failed == []
    assert len(result.per_target["scene/object/obj-0"]) == 2


def test_timeout_then_success_is_retried(scene: Path, tmp_path: Path) -> None:
    script = by_marker({marker(0): [Reply(delay_s=60), well_formed]}, default=well_formed)
    with ScriptedOpenAIServer(script) as server:
        result = draft_questions(targets_for(scene, 1), config_for(server, tmp_path, timeout_s=1.0))
        sent = len(server.requests)

    assert sent == 2
    assert result.report.retries == 1
    assert len(result.questions) == 2


def test_dropped_connection_is_retried(scene: Path, tmp_path: Path) -> None:
    script = by_marker({marker(0): [Reply(drop=True), well_formed]}, default=well_formed)
    with ScriptedOpenAIServer(script) as server:
        result = draft_questions(targets_for(scene, 1), config_for(server, tmp_path))

    assert result.report.retries == 1
    assert len(result.questions) == 2


def test_server_error_forever_fails_one_target(scene: Path, tmp_path: Path) -> None:
    script = by_marker({marker(1): [Reply(status=500, error="model crashed")]}, default=well_formed)
    with ScriptedOpenAIServer(script) as server:
        result = draft_questions(targets_for(scene, 3), config_for(server, tmp_path, max_attempts=3))
        sent_about_failing = requests_about(server, 1)

    (failure,) = result.report.failed
    assert failure.target_id == "scene/object/obj-1"
    assert failure.attempts == 3
    assert "HTTP 500" in failure.error
    assert "model crashed" in failure.error
    assert sent_about_failing == 3
    assert result.report.retries == 2
    assert result.report.requests == 5
    assert result.report.drafted_targets == 2
    assert "scene/object/obj-1" not in {q.evidence.object_ids[0] for q in result.questions}
    # A failed request leaves nothing in the cache, so a re-run tries it again.
    assert len(ResponseCache(tmp_path / "cache").entries()) == 2


def test_fatal_status_stops_the_run(scene: Path, tmp_path: Path) -> None:
    with ScriptedOpenAIServer([Reply(status=401, error="invalid API key")]) as server:
        result = draft_questions(targets_for(scene, 4), config_for(server, tmp_path, concurrency=1))
        sent = len(server.requests)

    assert sent == 1
    assert result.report.requests == 1
    assert len(result.report.failed) == 1
    assert len(result.report.skipped) == 3
    assert "HTTP 401" in result.report.stop_reason


def test_rerun_reads_everything_from_cache(scene: Path, tmp_path: Path) -> None:
    targets = targets_for(scene, 4)
    with ScriptedOpenAIServer(well_formed) as server:
        first = draft_questions(targets, config_for(server, tmp_path))
        second = draft_questions(targets, config_for(server, tmp_path, concurrency=3))
        sent = len(server.requests)

    assert sent == 4
    assert second.report.cache_hits == 4
    assert second.report.requests == 0
    assert second.report.input_tokens == 0
    assert [q.qid for q in second.questions] == [q.qid for q in first.questions]
    assert [q.vlm.request_hash for q in second.questions] == [q.vlm.request_hash for q in first.questions]


def test_cache_key_covers_model_and_decoding(scene: Path, tmp_path: Path) -> None:
    targets = targets_for(scene, 1)
    with ScriptedOpenAIServer(well_formed) as server:
        base = draft_questions(targets, config_for(server, tmp_path))
        other_model = draft_questions(targets, config_for(server, tmp_path, model="other-vlm"))
        warmer = draft_questions(targets, config_for(server, tmp_path, temperature=0.7))
        sent = len(server.requests)

    hashes = {r.questions[0].vlm.request_hash for r in (base, other_model, warmer)}
    assert sent == 3
    assert len(hashes) == 3
    assert other_model.report.cache_hits == 0
    assert warmer.report.cache_hits == 0


def test_budget_stops_cleanly_and_resumes(scene: Path, tmp_path: Path) -> None:
    targets = targets_for(scene, 6)
    # Each reply costs 100,000 * 1 USD / 1M = 0.10 USD.
    priced = dict(price_input_per_million=1.0, price_output_per_million=0.0, concurrency=1)
    script = lambda request: Reply(text=reply_text_for(request), prompt_tokens=100_000, completion_tokens=10)
    with ScriptedOpenAIServer(script) as server:
        stopped = draft_questions(targets, config_for(server, tmp_path, budget_usd=0.35, **priced))
        sent_first = len(server.requests)
        resumed = draft_questions(targets, config_for(server, tmp_path, budget_usd=10.0, **priced))
        sent_total = len(server.requests)

    assert stopped.report.budget_reached
    assert "budget" in stopped.report.stop_reason
    assert sent_first == 3
    assert stopped.report.requests == 3
    assert stopped.report.cost_usd == pytest.approx(0.30)
    assert stopped.report.skipped == [t.target_id for t in targets[3:]]
    assert len(stopped.questions) == 6
    assert resumed.report.cache_hits == 3
    assert resumed.report.requests == 3
    assert sent_total == 6
    assert resumed.report.cost_usd == pytest.approx(0.30)
    assert len(resumed.questions) == 12
    assert {q.qid for q in stopped.questions} <= {q.qid for q in resumed.questions}


def test_contradicting_answers_are_flagged(scene: Path, tmp_path: Path) -> None:
    colour = {"level": "object", "category": "Object color / pattern", "question": "What colour is the ship?",
              "answer": "blue", "answer_kind": "word", "referent": "obj-0"}
    script = lambda request: Reply(text=reply_text_for(request, extra=[colour]))
    with ScriptedOpenAIServer(script) as server:
        result = draft_questions(targets_for(scene, 1), config_for(server, tmp_path))

    (flagged,) = [q for q in result.questions if q.vlm.flags]
    assert flagged.category == "Object color / pattern"
    assert flagged.vlm.flags == ["color_mismatch: drafted 'blue', measured 'white'"]
    assert flagged.evidence.measured["vlm_flags"] == flagged.vlm.flags
    assert flagged.evidence.measured["color"] == "white"
    assert result.report.flagged_questions == 1


def global_target(scene: Path, facts: dict) -> DraftTarget:
    return DraftTarget(image_path=scene, image_id="scene", image="images/scene.tif", image_width=WIDTH,
                       image_height=HEIGHT, level="global", facts=facts)


def global_draft(category: str, question: str, answer: str) -> dict:
    kind = get_type("global", category).answer_kind.value
    return {"level": "global", "category": category, "question": question, "answer": answer, "answer_kind": kind,
            "choices": [], "referent": None}


def test_season_contradicting_date_is_flagged(scene: Path, tmp_path: Path) -> None:
    season = global_draft("Season", "In which season was this image taken?", "summer")
    target = global_target(scene, {"acquisition_date": "2023-01-18", "hemisphere": "northern"})
    with ScriptedOpenAIServer(lambda request: Reply(text=json.dumps({"questions": [season]}))) as server:
        result = draft_questions([target], config_for(server, tmp_path))

    (flagged,) = result.questions
    assert flagged.vlm.flags == [
        "season_mismatch: drafted 'summer', expected 'winter' for 2023-01-18 in the northern hemisphere"
    ]
    assert flagged.evidence.measured["vlm_flags"] == flagged.vlm.flags
    assert result.report.flagged_questions == 1


def rule_question(category: str, question: str, answer: str, measured: dict | None = None) -> Question:
    question_type = get_type("global", category)
    return Question(
        qid=make_qid("scene", question_type.slug, "", question), image_id="scene", image="", image_width=WIDTH,
        image_height=HEIGHT, split="", level="global", category=category, question=question, answer=answer,
        answer_kind=question_type.answer_kind, provenance="rule", evidence=Evidence(measured=measured or {}),
    )


def test_drafts_repeating_rule_questions_dropped(scene: Path, tmp_path: Path) -> None:
    rules = [
        rule_question("Season", "In which season was this image most likely taken?", "winter"),
        rule_question("Scene Type", "What is the main land use of this image?", "port"),
        rule_question("Counting", "How many ships are there in this image?", "3", {"class": "ship"}),
    ]
    drafts = [
        global_draft("Season", "Which season is shown?", "summer"),
        global_draft("Scene Type", "What is this area mainly used for?", "Port"),
        global_draft("Counting", "How many ships can be seen?", "3"),
        global_draft("Counting", "How many planes can be seen?", "2"),
        global_draft("Urban-Rural", "Is this area urban or rural?", "rural"),
    ]
    target = global_target(scene, {"counts": {"plane": 1, "ship": 3}})
    with ScriptedOpenAIServer(lambda request: Reply(text=json.dumps({"questions": drafts}))) as server:
        result = draft_questions([target], config_for(server, tmp_path), rules=RuleIndex(rules))

    report = result.report
    assert sorted(q.question for q in result.questions) == ["How many planes can be seen?", "Is this area urban or rural?"]
    assert report.questions == 2
    assert report.duplicates_of_rules == 2
    (contradiction,) = report.rejected
    assert contradiction.kind == "contradicts_rule"
    assert "contradicts the rule-derived answer: drafted 'summer', rule-derived 'winter'" in contradiction.reason
    assert contradiction.rule_answer == "winter"
    assert contradiction.rule_qid == rules[0].qid
    assert contradiction.index == 0
    assert report.rejected_by_kind == {"contradicts_rule": 1}
    (flagged,) = [q for q in result.questions if q.vlm.flags]
    assert flagged.vlm.flags == ["count_mismatch: drafted 2, labelled 1 for class 'plane'"]
    assert report.flagged_questions == 1


def test_progress_reports_every_target(scene: Path, tmp_path: Path) -> None:
    events = []
    script = by_marker({marker(2): [Reply(status=400, error="bad image")]}, default=well_formed)
    with ScriptedOpenAIServer(script) as server:
        draft_questions(targets_for(scene, 4), config_for(server, tmp_path), on_progress=events.append)

    assert [e.done for e in events] == [1, 2, 3, 4]
    assert all(e.total == 4 for e in events)
    outcomes = {e.target_id: e.outcome for e in events}
    assert outcomes["scene/object/obj-2"] == "failed"
    assert sorted(outcomes.values()) == ["drafted", "drafted", "drafted", "failed"]


def test_key_never_reaches_written_files(
    scene: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    log_file = tmp_path / "run.log"
    handler = logging.FileHandler(log_file)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    # A server that echoes the key in an error message, as hosted APIs do for a wrong key.
    script = by_marker(
        {marker(1): [Reply(status=400, error=f"key {SECRET} may not use this model")],
         marker(2): [Reply(status=500, error=f"upstream rejected {SECRET}"), well_formed]},
        default=well_formed,
    )
    try:
        with ScriptedOpenAIServer(script) as server:
            result = draft_questions(targets_for(scene, 3), config_for(server, tmp_path))
            authorizations = {r.headers.get("authorization") for r in server.requests}
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()

    (tmp_path / "report.json").write_text(result.report.model_dump_json(indent=1))
    (tmp_path / "questions.jsonl").write_text("\n".join(json.dumps(q.to_row()) for q in result.questions))

    assert authorizations == {f"Bearer {SECRET}"}
    assert "***" in result.report.failed[0].error
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert log_file in written
    assert len(written) >= 5
    leaking = [str(p) for p in written if SECRET.encode() in p.read_bytes()]
    assert leaking == []


def test_key_file_and_placeholder_key(
    scene: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, caplog: pytest.LogCaptureFixture
) -> None:
    key_file = tmp_path_factory.mktemp("secrets") / "vlm.key"
    key_file.write_text(SECRET + "\n")
    targets = targets_for(scene, 1)
    with ScriptedOpenAIServer(well_formed) as server:
        draft_questions(targets, config_for(server, tmp_path / "a", api_key_file=key_file))
        with caplog.at_level(logging.INFO, logger="lrsgro.vlm"):
            draft_questions(targets, config_for(server, tmp_path / "b"))
        authorizations = [r.headers.get("authorization") for r in server.requests]

    assert authorizations == [f"Bearer {SECRET}", "Bearer EMPTY"]
    assert any("placeholder key" in record.getMessage() for record in caplog.records)
    assert not any(SECRET.encode() in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


def test_missing_image_fails_only_its_target(scene: Path, tmp_path: Path) -> None:
    targets = targets_for(scene, 2) + [object_target(tmp_path / "absent.tif", 2, WIDTH, HEIGHT)]
    with ScriptedOpenAIServer(well_formed) as server:
        result = draft_questions(targets, config_for(server, tmp_path))

    (failure,) = result.report.failed
    assert failure.target_id == "absent/object/obj-2"
    assert "image not found" in failure.error
    assert failure.attempts == 0
    assert len(result.questions) == 4
