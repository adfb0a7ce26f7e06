"""Review parts that need no Label Studio server: boxes, verdict reading, merging, filters, images."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from PIL import Image

from lrsgro.cli import cli
from lrsgro.dataset import write_questions
from lrsgro.errors import DatasetError, ImageError, InputError
from lrsgro.records import Question, ReviewEvent, make_qid
from lrsgro.review import (
    ImageServing,
    LabelStudioClient,
    parse_filters,
    parse_review_filters,
    pull_verdicts,
    push_questions,
    select_questions,
)
from lrsgro.review.apply import apply_verdicts
from lrsgro.review.geometry import PreviewFrame, box_to_rectangle, rectangle_to_box
from lrsgro.review.previews import RenderSettings, crop_window, render_image_questions
from lrsgro.review.tasks import TaskData, build_task
from lrsgro.review.verdicts import annotation_event, parse_export
from lrsgro.taxonomy import AnswerKind

pytestmark = pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")

# A 3000 x 1800 image shown as a 2048 x 1229 preview: the two axes scale differently.
WIDE = PreviewFrame.for_sizes(3000, 1800, 2048, 1229)


def _question(
    name: str = "q", *, roi=(1000.0, 500.0, 1400.0, 700.0), answer="red", kind=AnswerKind.WORD, **extra
) -> Question:
    return Question(
        qid=make_qid("units", name),
        image_id="img",
        image="images/img.tif",
        image_width=3000,
        image_height=1800,
        split="test",
        level="object" if roi else "global",
        category="Object color / pattern" if roi else "Scene Type",
        question="What colour is it?",
        answer=answer,
        answer_kind=kind,
        roi=list(roi) if roi else None,
        **extra,
    )


def _task_data(question: Question, frame: PreviewFrame = WIDE) -> TaskData:
    return TaskData.model_validate(build_task(question, frame, "/p.jpg", "/c.jpg", None)["data"])


def _prediction(question: Question, frame: PreviewFrame = WIDE) -> list[dict]:
    return build_task(question, frame, "/p.jpg", "/c.jpg", None)["predictions"][0]["result"]


def _annotation(
    result: list[dict], verdict: str | None, annotation_id: int = 1, user: int = 1, at: str = "2026-01-01T00:00:00Z"
) -> dict:
    result = [dict(item, value=dict(item["value"])) for item in result]
    if verdict is not None:
        result.append(
            {"from_name": "verdict", "to_name": "question", "type": "choices", "value": {"choices": [verdict]}}
        )
    return {"id": annotation_id, "completed_by": user, "updated_at": at, "result": result, "was_cancelled": False}


def _with(result: list[dict], control: str, **value) -> list[dict]:
    changed = [dict(item, value=dict(item["value"])) for item in result]
    for item in changed:
        if item["from_name"] == control:
            item["value"].update(value)
    return changed


def test_rectangle_round_trip_on_scaled_preview():
    box = (1234.5, 321.0, 2999.0, 1799.5)
    pulled = rectangle_to_box(box_to_rectangle(box, WIDE), WIDE)

    assert np.allclose(pulled.box, box, atol=1e-6)
    assert pulled.rotation == 0.0
    assert not pulled.clipped


def test_rectangle_rotated_quarter_turn():
    # 40 x 20 px at (100, 50) on an unscaled 1000 x 500 image, turned 90 degrees clockwise
    # about its top-left corner: the corners go to (100, 50), (100, 90), (80, 90), (80, 50).
    frame = PreviewFrame.for_sizes(1000, 500, 1000, 500)
    value = {"x": 10.0, "y": 10.0, "width": 4.0, "height": 4.0, "rotation": 90.0}

    pulled = rectangle_to_box(value, frame)

    assert np.allclose(pulled.box, (80.0, 50.0, 100.0, 90.0), atol=1e-9)
    assert pulled.rotation == 90.0


def test_rectangle_negative_rotation_normalised():
    frame = PreviewFrame.for_sizes(1000, 500, 1000, 500)
    value = {"x": 10.0, "y": 10.0, "width": 4.0, "height": 4.0}

    minus = rectangle_to_box({**value, "rotation": -270.0}, frame)
    plus = rectangle_to_box({**value, "rotation": 90.0}, frame)
    full_turn = rectangle_to_box({**value, "rotation": 360.0}, frame)

    assert np.allclose(minus.box, plus.box)
    assert minus.rotation == 90.0
    assert full_turn.rotation == 0.0


def test_rectangle_outside_image_is_clipped():
    value = {"x": 90.0, "y": 90.0, "width": 20.0, "height": 20.0, "rotation": 0}
    pulled = rectangle_to_box(value, WIDE)

    assert pulled.clipped
    assert pulled.box[2] == 3000
    assert pulled.box[3] == 1800


def test_rectangle_missing_field_raises():
    with pytest.raises(ValueError, match="needs numeric"):
        rectangle_to_box({"x": 1.0, "y": 2.0, "width": 3.0}, WIDE)


def test_event_accept_ticked_with_changed_answer_is_edit():
    question = _question()
    result = _with(_prediction(question), "answer", text=["Blue "])

    event = annotation_event(_annotation(result, "accept"), _task_data(question), task_id=5, project_id=2)

    assert event.verdict == "edit"
    assert event.new_answer == "Blue"
    assert event.old_answer == "red"
    assert "recorded as edit" in event.note


def test_event_edit_ticked_without_change_is_accept():
    question = _question()
    event = annotation_event(_annotation(_prediction(question), "edit"), _task_data(question), 5, 2)

    assert event.verdict == "accept"
    assert event.new_answer is None
    assert event.new_roi is None
    assert "recorded as accept" in event.note


def test_event_untouched_prediction_has_no_box_change():
    question = _question(roi=(1.0, 2.0, 2999.0, 1799.0))
    event = annotation_event(_annotation(_prediction(question), "accept"), _task_data(question), 5, 2)

    assert event.verdict == "accept"
    assert event.note is None


def test_event_without_verdict_or_change_is_none():
    question = _question()
    assert annotation_event(_annotation(_prediction(question), None), _task_data(question), 5, 2) is None


def test_event_yes_no_case_is_not_an_edit():
    question = _question(answer="yes", kind=AnswerKind.YES_NO)
    result = _with(_prediction(question), "answer", text=["Yes"])

    event = annotation_event(_annotation(result, "accept"), _task_data(question), 5, 2)

    assert event.verdict == "accept"


@pytest.mark.parametrize(
    ("kind", "proposal", "edited", "choices", "message"),
    [
        (AnswerKind.CHOICE, "oil tanker", "tanker", ["container ship", "oil tanker"], "not one of the choices"),
        (AnswerKind.INTEGER, "4", "four", [], "not a whole number"),
        (AnswerKind.YES_NO, "yes", "maybe", [], "not yes or no"),
    ],
)
def test_event_notes_answer_of_wrong_form(kind, proposal, edited, choices, message):
    question = _question(answer=proposal, kind=kind, choices=choices)
    result = _with(_prediction(question), "answer", text=[edited])

    event = annotation_event(_annotation(result, "edit"), _task_data(question), 5, 2)

    assert event.new_answer == edited
    assert message in event.note


def test_event_reject_ignores_changes():
    question = _question()
    result = _with(_prediction(question), "answer", text=["blue"])

    event = annotation_event(_annotation(result, "reject"), _task_data(question), 5, 2)

    assert event.verdict == "reject"
    assert event.new_answer is None


def test_event_unknown_verdict_raises():
    question = _question()
    with pytest.raises(ValueError, match="maybe"):
        annotation_event(_annotation(_prediction(question), "maybe"), _task_data(question), 5, 2)


def test_event_box_on_global_question_ignored():
    question = _question(roi=None)
    rectangle = {
        "from_name": "roi",
        "to_name": "preview",
        "type": "rectanglelabels",
        "value": {"x": 1.0, "y": 1.0, "width": 5.0, "height": 5.0, "rotation": 0, "rectanglelabels": ["ROI"]},
    }

    event = annotation_event(_annotation(_prediction(question) + [rectangle], "accept"), _task_data(question), 5, 2)

    assert event.verdict == "accept"
    assert "without an ROI" in event.note


def test_event_two_boxes_stores_enclosing_box():
    question = _question()
    first = next(i for i in _prediction(question) if i["from_name"] == "roi")
    second = dict(first, id="roi2", value=dict(first["value"], x=first["value"]["x"] + 10))

    event = annotation_event(_annotation(_prediction(question) + [second], "edit"), _task_data(question), 5, 2)

    assert event.verdict == "edit"
    assert event.new_roi[0] == pytest.approx(1000.0, abs=1e-6)
    assert event.new_roi[2] == pytest.approx(1400.0 + 300.0, abs=1e-6)
    assert "2 boxes drawn" in event.note


def _export(question: Question, annotations: list[dict], task_id: int = 5) -> list[dict]:
    task = build_task(question, WIDE, "/p.jpg", "/c.jpg", None)
    return [{"id": task_id, "data": task["data"], "annotations": annotations}]


def test_parse_export_counts_cancelled_and_foreign():
    question = _question()
    cancelled = dict(_annotation(_prediction(question), "accept", annotation_id=2), was_cancelled=True)
    export = _export(question, [cancelled]) + [{"id": 9, "data": {"image": "x"}, "annotations": []}]

    parsed = parse_export(export, project_id=2)

    assert parsed.foreign_tasks == 1
    assert parsed.tasks[question.qid].cancelled == 1
    assert parsed.tasks[question.qid].events == []


def test_apply_twice_gives_same_questions():
    question = _question()
    edited = _with(_prediction(question), "answer", text=["blue"])
    parsed = parse_export(_export(question, [_annotation(edited, "edit")]), project_id=2)

    once = apply_verdicts([question], parsed).questions
    twice = apply_verdicts(once, parsed)

    assert once[0].answer == "blue"
    assert twice.questions == once
    assert twice.changed == []


def test_apply_keeps_verdict_of_deleted_annotation():
    question = _question()
    parsed = parse_export(_export(question, [_annotation(_prediction(question), "reject")]), project_id=2)
    rejected = apply_verdicts([question], parsed).questions

    empty = parse_export(_export(question, []), project_id=2)
    result = apply_verdicts(rejected, empty)

    assert result.questions[0].review_status == "rejected"
    assert len(result.questions[0].reviews) == 1


def test_apply_skips_question_changed_after_push():
    question = _question()
    parsed = parse_export(_export(question, [_annotation(_prediction(question), "accept")]), project_id=2)
    rebuilt = question.model_copy(update={"answer": "green"})

    result = apply_verdicts([rebuilt], parsed)

    assert result.stale == [question.qid]
    assert result.questions == [rebuilt]


def test_apply_accept_after_edit_restores_proposal():
    question = _question()
    edited = _with(_prediction(question), "answer", text=["blue"])
    annotations = [
        _annotation(edited, "edit", annotation_id=1, user=1, at="2026-01-01T00:00:00Z"),
        _annotation(_prediction(question), "accept", annotation_id=2, user=2, at="2026-01-02T00:00:00Z"),
    ]

    result = apply_verdicts([question], parse_export(_export(question, annotations), project_id=2))
    [after] = result.questions

    assert after.review_status == "accepted"
    assert after.answer == "red"
    assert after.provenance == "rule"
    assert [d.kept for d in result.disagreements] == ["accept"]
    assert result.agreement[0].rate == 0.0


def test_apply_keeps_history_of_changed_verdict():
    question = _question()
    first = parse_export(_export(question, [_annotation(_prediction(question), "accept", at="2026-01-01T00:00:00Z")]), 2)
    # The same annotation, updated in Label Studio after the first pull.
    changed = _annotation(_prediction(question), "reject", at="2026-01-03T00:00:00Z")
    second = parse_export(_export(question, [changed]), 2)

    accepted = apply_verdicts([question], first).questions
    result = apply_verdicts(accepted, second)
    again = apply_verdicts(result.questions, second)
    [after] = result.questions

    assert [e.verdict for e in after.reviews] == ["accept", "reject"]
    assert [e.annotation_id for e in after.reviews] == [1, 1]
    assert after.review_status == "rejected"
    assert result.changed == [question.qid]
    assert result.disagreements == []
    assert again.changed == []
    assert again.questions == result.questions


def test_apply_agreement_uses_current_verdicts():
    question = _question()
    edited = _with(_prediction(question), "answer", text=["blue"])
    before = [
        _annotation(edited, "edit", annotation_id=1, user=1, at="2026-01-01T00:00:00Z"),
        _annotation(_prediction(question), "accept", annotation_id=2, user=2, at="2026-01-02T00:00:00Z"),
    ]
    # Reviewer 1 changes their edit to an accept, so both reviewers now agree.
    after = [_annotation(_prediction(question), "accept", annotation_id=1, user=1, at="2026-01-03T00:00:00Z"), before[1]]

    disagreeing = apply_verdicts([question], parse_export(_export(question, before), 2))
    result = apply_verdicts(disagreeing.questions, parse_export(_export(question, after), 2))

    assert len(disagreeing.disagreements) == 1
    assert [e.verdict for e in result.questions[0].reviews] == ["edit", "accept", "accept"]
    assert result.disagreements == []
    assert result.agreement[0].rate == 1.0


def test_apply_keeps_newer_verdict_from_other_project():
    question = _question()
    newer = ReviewEvent(
        verdict="reject",
        reviewer="label-studio-user-7",
        reviewed_at="2027-01-01T00:00:00Z",
        task_id=1,
        annotation_id=1,
        project_id=99,
    )
    reviewed = question.model_copy(update={"reviews": [newer], "review_status": "rejected"})
    parsed = parse_export(_export(question, [_annotation(_prediction(question), "accept")]), project_id=2)

    result = apply_verdicts([reviewed], parsed)
    [after] = result.questions

    assert result.newer_elsewhere == [question.qid]
    assert after.review_status == "rejected"
    assert len(after.reviews) == 2


def test_unknown_qid_reported():
    question = _question()
    other = _question("other")
    parsed = parse_export(_export(other, []), project_id=2)

    result = apply_verdicts([question], parsed)

    assert result.unknown_qids == [other.qid]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["status"], "not key=value"),
        (["colour=red"], "unknown filter key"),
        (["status=done"], "unknown value done"),
        (["level=planet"], "unknown value planet"),
    ],
)
def test_filter_errors(items, message):
    with pytest.raises(InputError, match=message):
        parse_filters(items)


def test_filters_combine():
    questions = [_question("a"), _question("b", review_status="accepted"), _question("c", roi=None)]
    selected = select_questions(questions, parse_filters(["status=candidate", "level=object,region"]))

    assert [q.qid for q in selected] == [questions[0].qid]


def test_review_filters_keep_default_status():
    questions = [
        _question("a"),
        _question("b", review_status="accepted"),
        _question("c", review_status="rejected"),
        _question("d", roi=None),
    ]

    by_level = select_questions(questions, parse_review_filters(["level=object"]))
    by_status = select_questions(questions, parse_review_filters(["status=accepted,rejected"]))
    default = select_questions(questions, parse_review_filters([]))

    assert [q.qid for q in by_level] == [questions[0].qid]
    assert [q.qid for q in by_status] == [questions[1].qid, questions[2].qid]
    assert [q.qid for q in default] == [questions[0].qid, questions[3].qid]


@pytest.mark.parametrize("command", ["push", "pull", "status"])
def test_review_help_names_api_key(command):
    result = CliRunner().invoke(cli, ["review", command, "--help"], terminal_width=200)

    assert result.exit_code == 0, result.output
    assert "LABEL_STUDIO_API_KEY" in result.output


def test_review_push_help_explains_default_status():
    result = CliRunner().invoke(cli, ["review", "push", "--help"], terminal_width=200)

    text = " ".join(result.output.split())  # help text is wrapped at 100 columns

    assert result.exit_code == 0, result.output
    assert "status=candidate is added unless one of them filters on status" in text


def test_serving_requires_exactly_one_mode(tmp_path):
    with pytest.raises(InputError, match="exactly one way"):
        ImageServing(images_dir=tmp_path).check()
    with pytest.raises(InputError, match="exactly one way"):
        ImageServing(images_dir=tmp_path, local_files_root=tmp_path, images_url_root="http://x").check()


def test_serving_rejects_folder_outside_root(tmp_path):
    serving = ImageServing(images_dir=tmp_path / "elsewhere", local_files_root=tmp_path / "root")
    with pytest.raises(InputError, match="not inside the local-files root"):
        serving.check()


def test_serving_urls(tmp_path):
    local = ImageServing(images_dir=tmp_path / "root" / "imgs", local_files_root=tmp_path / "root")
    remote = ImageServing(images_dir=tmp_path / "imgs", images_url_root="https://files.example/review/")

    assert local.url_for(tmp_path / "root" / "imgs" / "a b.jpg") == "/data/local-files/?d=imgs/a%20b.jpg"
    assert remote.url_for(tmp_path / "imgs" / "x" / "c.jpg") == "https://files.example/review/x/c.jpg"


def test_client_needs_api_key(monkeypatch):
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    with pytest.raises(InputError, match="LABEL_STUDIO_API_KEY"):
        LabelStudioClient.from_env("http://127.0.0.1:1")


def test_client_rejects_bad_url():
    with pytest.raises(InputError, match="must start with http"):
        LabelStudioClient("127.0.0.1:8080", "token")


@pytest.mark.parametrize(
    ("roi", "size", "min_side"),
    [
        ((10.0, 10.0, 20.0, 20.0), (3000, 1800), 512),  # small box near a corner
        ((2990.0, 1790.0, 3000.0, 1800.0), (3000, 1800), 512),  # touching the far corner
        ((0.0, 0.0, 3000.0, 1800.0), (3000, 1800), 512),  # the whole image
        ((100.0, 100.0, 120.0, 110.0), (300, 200), 512),  # image smaller than min_side
    ],
)
def test_crop_window_inside_image_and_around_roi(roi, size, min_side):
    x0, y0, x1, y1 = crop_window(roi, *size, min_side)

    assert 0 <= x0 <= roi[0]
    assert roi[2] <= x1 <= size[0]
    assert 0 <= y0 <= roi[1]
    assert roi[3] <= y1 <= size[1]
    assert x1 - x0 >= min(min_side, size[0])
    assert y1 - y0 >= min(min_side, size[1])
    assert all(float(v).is_integer() for v in (x0, y0, x1, y1))


def test_render_uint16_single_band(tmp_path):
    rng = np.random.default_rng(3)
    path = tmp_path / "strip.tif"
    pixels = rng.integers(0, 4000, (1, 300, 5000), dtype=np.uint16)
    with rasterio.open(path, "w", driver="GTiff", width=5000, height=300, count=1, dtype="uint16") as out:
        out.write(pixels)
    question = _question(roi=(4000.0, 100.0, 4100.0, 150.0)).model_copy(
        update={"image_width": 5000, "image_height": 300}
    )

    [images] = render_image_questions(
        path, [question], tmp_path / "out", RenderSettings(preview_max_side=1000)
    ).values()

    with Image.open(images.preview) as preview:
        assert preview.size == (1000, 60)
        assert preview.mode == "RGB"
    with Image.open(images.crop) as crop:
        assert crop.size == (images.crop_width, images.crop_height)
    assert images.frame.scale_x == pytest.approx(0.2)


def test_render_rejects_size_mismatch(tmp_path):
    path = tmp_path / "small.tif"
    with rasterio.open(path, "w", driver="GTiff", width=100, height=80, count=3, dtype="uint8") as out:
        out.write(np.zeros((3, 80, 100), dtype=np.uint8))

    with pytest.raises(InputError, match="records 3000x1800"):
        render_image_questions(path, [_question()], tmp_path / "out")


def test_pull_rejects_concurrent_pull(tmp_path):
    (tmp_path / "data").mkdir()
    lock_path = tmp_path / "review" / ".lock"
    lock_path.parent.mkdir()
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        # The lock is checked before any request, so the unreachable URL is never contacted.
        with LabelStudioClient("http://127.0.0.1:9", "token", retries=0) as client:
            with pytest.raises(DatasetError, match="another review pull is running"):
                pull_verdicts(tmp_path, client, 1)


def test_cli_without_api_key_exits_with_message(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "LABEL_STUDIO_API_KEY"}
    (tmp_path / "data").mkdir()

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "lrsgro",
            "review",
            "status",
            str(tmp_path),
            "--url",
            "http://127.0.0.1:9",
            "--project",
            "1",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 2
    assert "LABEL_STUDIO_API_KEY is not set" in done.stderr


def test_push_missing_image_fails_before_requests(tmp_path):
    write_questions(tmp_path, [_question()])
    serving = ImageServing(images_dir=tmp_path / "review", images_url_root="http://127.0.0.1:9/files")

    # The client points at a closed port, so reaching Label Studio would raise ServiceError.
    with LabelStudioClient("http://127.0.0.1:9", "token", retries=0) as client:
        with pytest.raises(ImageError, match="images/img.tif"):
            push_questions(tmp_path, client, project_title="never made", filters={}, serving=serving)
