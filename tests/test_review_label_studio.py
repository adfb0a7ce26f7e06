"""Review round trip against a real Label Studio server: push, annotate as reviewers, pull, status.

The module shares one server (session fixture) and one pushed project (module fixtures). The
tests run in file order: push checks, then reviewers annotate, then pull checks, and last a
pull that crashes while writing.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import urllib.request
import warnings
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import rasterio
from click.testing import CliRunner
from PIL import Image
from rasterio.errors import NotGeoreferencedWarning
from shapely.affinity import rotate
from shapely.geometry import box as shapely_box

from lrsgro.card import CardInfo, read_card_info, write_card
from lrsgro.cli import cli
from lrsgro.dataset import read_questions, write_image_index, write_questions
from lrsgro.errors import InputError, ServiceError
from lrsgro.records import Evidence, ImageRecord, Question, make_qid
from lrsgro.review import (
    ImageServing,
    LabelStudioClient,
    RenderSettings,
    parse_filters,
    pull_verdicts,
    push_questions,
    review_status,
)
from lrsgro.taxonomy import AnswerKind
from tests.label_studio_fixture import LabelStudioServer, label_studio, sign_up_reviewer  # noqa: F401

pytestmark = [pytest.mark.server, pytest.mark.slow]

WIDE = ("scene-wide", 3000, 1800)  # larger than the preview: scaled to 2048 x 1229
SQUARE = ("scene-square", 900, 900)  # smaller than the preview: kept at full size
PROJECT = "lrsgro review test"
ROTATION = 30.0

# name -> (image, level, category, kind, answer, roi, split, choices)
CASES = {
    "accept": (WIDE, "region", "Counting", AnswerKind.INTEGER, "4", [300.0, 200.0, 900.0, 700.0], "test", []),
    "edit_answer": (
        WIDE,
        "object",
        "Object color / pattern",
        AnswerKind.WORD,
        "red",
        [1200.0, 400.0, 1300.0, 460.0],
        "test",
        [],
    ),
    "edit_box": (
        SQUARE,
        "region",
        "Object existence",
        AnswerKind.YES_NO,
        "yes",
        [100.0, 100.0, 400.0, 300.0],
        "train",
        [],
    ),
    "rotated": (
        WIDE,
        "object",
        "Object shape / structure",
        AnswerKind.WORD,
        "long",
        [2000.0, 900.0, 2300.0, 1000.0],
        "test",
        [],
    ),
    "reject": (WIDE, "global", "Scene Type", AnswerKind.WORD, "port", None, "test", []),
    "unreviewed": (
        SQUARE,
        "object",
        "Object category refinement",
        AnswerKind.CHOICE,
        "oil tanker",
        [500.0, 600.0, 560.0, 640.0],
        "train",
        ["container ship", "oil tanker"],
    ),
    "twice": (
        WIDE,
        "region",
        "Object existence",
        AnswerKind.YES_NO,
        "no",
        [1500.0, 1000.0, 2500.0, 1700.0],
        "test",
        [],
    ),
    "already_accepted": (SQUARE, "global", "Counting", AnswerKind.INTEGER, "12", None, "train", []),
}
REPO_ROOT = Path(__file__).resolve().parents[1]
IMAGERY_LICENCE = "CC-BY-4.0 (generated test imagery)"
EDITED_ANSWER = "blue"
EDITED_BOX = [150.0, 120.0, 420.0, 330.0]


def _write_image(path: Path, width: int, height: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    pixels = np.zeros((3, height, width), dtype=np.uint8)
    pixels[0] = rng.integers(10, 40, (height, width))
    pixels[1] = rng.integers(60, 110, (height, width))
    pixels[2] = rng.integers(20, 50, (height, width))
    driver = "GTiff" if path.suffix == ".tif" else "PNG"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path, "w", driver=driver, width=width, height=height, count=3, dtype="uint8") as out:
            out.write(pixels)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _build_dataset(folder: Path) -> dict[str, Question]:
    (folder / "images").mkdir(parents=True)
    images = []
    for seed, ((image_id, width, height), suffix, split) in enumerate(
        [(WIDE, ".tif", "test"), (SQUARE, ".png", "train")]
    ):
        file = f"images/{image_id}{suffix}"
        sha = _write_image(folder / file, width, height, seed)
        images.append(ImageRecord(image_id=image_id, file=file, width=width, height=height, split=split, sha256=sha))
    write_image_index(folder, images)

    files = {record.image_id: record.file for record in images}
    questions = {}
    for name, ((image_id, width, height), level, category, kind, answer, roi, split, choices) in CASES.items():
        scale = 1024 / max(width, height)
        questions[name] = Question(
            qid=make_qid("review-test", name),
            image_id=image_id,
            image=files[image_id],
            image_width=width,
            image_height=height,
            split=split,
            level=level,
            category=category,
            question=f"Question for the {name} case?",
            answer=answer,
            answer_kind=kind,
            choices=choices,
            roi=roi,
            roi_1024=[v * scale for v in roi] if roi else None,
            referent="the test object" if level == "object" else None,
            provenance="rule",
            review_status="accepted" if name == "already_accepted" else "candidate",
            evidence=Evidence(object_ids=["o1", "o2"], measured={"count": 4}, rule="test-rule"),
        )
    write_questions(folder, questions.values())
    write_card(folder, list(questions.values()), images, CardInfo(unreviewed=True, imagery_license=IMAGERY_LICENCE))
    return questions


def _api(server: LabelStudioServer, method: str, path: str, body: object = None, token: str | None = None) -> object:
    request = urllib.request.Request(
        server.url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Token {token or server.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def _shard_bytes(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted((folder / "data").glob("*.parquet"))}


@pytest.fixture(scope="module")
def pushed(label_studio: LabelStudioServer, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A dataset under the local-files root, pushed once through the library."""
    dataset = label_studio.files_root / "dataset"
    questions = _build_dataset(dataset)
    serving = ImageServing(images_dir=dataset / "review" / "images", local_files_root=label_studio.files_root)
    with LabelStudioClient(label_studio.url, label_studio.token) as client:
        report = push_questions(
            dataset,
            client,
            project_title=PROJECT,
            filters=parse_filters(["status=candidate"]),
            serving=serving,
            settings=RenderSettings(),
        )
    return {"dataset": dataset, "questions": questions, "report": report, "serving": serving}


def _tasks(server: LabelStudioServer, project_id: int) -> dict[str, dict]:
    page = _api(server, "GET", f"/api/tasks/?project={project_id}&page_size=100&fields=all")
    tasks = {}
    for item in page["tasks"]:
        tasks[item["data"]["qid"]] = _api(server, "GET", f"/api/tasks/{item['id']}/")
    return tasks


def test_push_creates_one_task_per_candidate(label_studio, pushed):
    report = pushed["report"]
    candidates = {q.qid for name, q in pushed["questions"].items() if name != "already_accepted"}
    tasks = _tasks(label_studio, report.project_id)

    assert report.project_created
    assert report.created == len(candidates)
    assert set(tasks) == candidates
    assert set(report.task_ids) == candidates


def test_push_prediction_matches_roi(label_studio, pushed):
    tasks = _tasks(label_studio, pushed["report"].project_id)
    for name, question in pushed["questions"].items():
        if name == "already_accepted":
            continue
        result = {item["from_name"]: item for item in tasks[question.qid]["predictions"][0]["result"]}
        assert result["answer"]["value"]["text"] == [question.answer]
        if question.roi is None:
            assert "roi" not in result
            continue
        value = result["roi"]["value"]
        # Percent of the preview is percent of the full image up to the preview's rounding.
        x0 = value["x"] / 100 * question.image_width
        y0 = value["y"] / 100 * question.image_height
        x1 = x0 + value["width"] / 100 * question.image_width
        y1 = y0 + value["height"] / 100 * question.image_height
        assert np.allclose([x0, y0, x1, y1], question.roi, atol=1.0), name


def test_push_serves_preview_and_crop(label_studio, pushed):
    question = pushed["questions"]["accept"]
    task = _tasks(label_studio, pushed["report"].project_id)[question.qid]
    data = task["data"]

    images = {}
    for field in ("preview", "crop"):
        request = urllib.request.Request(
            label_studio.url + data[field], headers={"Authorization": f"Token {label_studio.token}"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 200
            images[field] = Image.open(io.BytesIO(response.read())).convert("RGB")

    assert images["preview"].size == (2048, 1229)
    assert (data["preview_width"], data["preview_height"]) == (2048, 1229)
    # The red outline lies just outside the ROI, on a green-dominated image.
    scale = 2048 / 3000
    red = images["preview"].getpixel((round(question.roi[0] * scale) - 2, round(450 * scale)))
    assert red[0] > 150, red
    assert red[1] < 100, red

    window = data["crop_window"]
    assert window[0] <= question.roi[0]
    assert window[2] >= question.roi[2]
    assert images["crop"].size == (round(window[2] - window[0]), round(window[3] - window[1]))


def test_repush_with_cli_adds_no_tasks(label_studio, pushed):
    before = _tasks(label_studio, pushed["report"].project_id)
    result = CliRunner().invoke(
        cli,
        [
            "review",
            "push",
            str(pushed["dataset"]),
            "--url",
            label_studio.url,
            "--project",
            PROJECT,
            "--local-files-root",
            str(label_studio.files_root),
            "--json",
        ],
        env={"LABEL_STUDIO_API_KEY": label_studio.token},
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])

    assert report["created"] == 0
    assert report["already_present"] == len(before)
    assert set(_tasks(label_studio, pushed["report"].project_id)) == set(before)


@pytest.fixture
def fresh_dataset(label_studio, request) -> Path:
    """A new copy of the test dataset under the local-files root, for pushes to new projects."""
    dataset = label_studio.files_root / f"fresh-{request.node.name}"
    _build_dataset(dataset)
    return dataset


def test_cli_push_filter_keeps_default_status(label_studio, fresh_dataset):
    # Two global questions: "reject" is a candidate, "already_accepted" is not.
    result = CliRunner().invoke(
        cli,
        [
            "review",
            "push",
            str(fresh_dataset),
            "--url",
            label_studio.url,
            "--project",
            "lrsgro filter test",
            "--local-files-root",
            str(label_studio.files_root),
            "--filter",
            "level=global",
            "--json",
        ],
        env={"LABEL_STUDIO_API_KEY": label_studio.token},
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])

    assert report["selected"] == 1
    assert set(_tasks(label_studio, report["project_id"])) == {make_qid("review-test", "reject")}


def test_cli_push_prints_progress_once(label_studio, fresh_dataset):
    command = [
        sys.executable,
        "-m",
        "lrsgro",
        "review",
        "push",
        str(fresh_dataset),
        "--url",
        label_studio.url,
        "--project",
        "lrsgro progress test",
        "--local-files-root",
        str(label_studio.files_root),
    ]
    env = {**os.environ, "LABEL_STUDIO_API_KEY": label_studio.token, "PYTHONPATH": str(REPO_ROOT), "COLUMNS": "200"}

    # Standard error is a pipe here, as when the output goes to a log file.
    done = subprocess.run(command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stderr
    assert "7 tasks created" in done.stdout
    bars = [line for line in done.stderr.splitlines() if "rendering review images" in line]
    assert len(bars) == 1, done.stderr
    assert "7/7" in bars[0]


def test_client_accepts_personal_access_token(label_studio, pushed):
    personal = _api(label_studio, "POST", "/api/token/", {})["token"]
    with LabelStudioClient(label_studio.url, personal) as client:
        assert client.whoami()["email"] == "admin@example.com"
        assert len(client.list_tasks(pushed["report"].project_id)) == pushed["report"].created


def test_client_rejects_wrong_key_without_echoing_it(label_studio):
    wrong = "f" * 40
    with LabelStudioClient(label_studio.url, wrong, retries=0) as client:
        with pytest.raises(ServiceError, match="rejected the API key") as caught:
            client.whoami()
    assert wrong not in str(caught.value)


def test_pull_unknown_project_is_input_error(label_studio, pushed):
    with LabelStudioClient(label_studio.url, label_studio.token) as client:
        with pytest.raises(InputError, match="project 9999 not found"):
            pull_verdicts(pushed["dataset"], client, 9999)


def _annotate(server: LabelStudioServer, task: dict, verdict: str, token: str | None = None, **changes) -> dict:
    """Create an annotation as the labeling UI does: start from the prediction, then change it."""
    return _api(
        server,
        "POST",
        f"/api/tasks/{task['id']}/annotations/",
        {"result": _result(task, verdict, **changes), "lead_time": 5.0},
        token=token,
    )


def _result(task: dict, verdict: str, **changes) -> list[dict]:
    result = [dict(item, value=dict(item["value"])) for item in task["predictions"][0]["result"]]
    for item in result:
        if item["from_name"] == "answer" and "answer" in changes:
            item["value"]["text"] = [changes["answer"]]
        if item["from_name"] == "roi" and "roi_value" in changes:
            item["value"].update(changes["roi_value"])
    result.append(
        {
            "id": "verdict",
            "from_name": "verdict",
            "to_name": "question",
            "type": "choices",
            "value": {"choices": [verdict]},
        }
    )
    if "reason" in changes:
        result.append(
            {
                "id": "reason",
                "from_name": "reason",
                "to_name": "question",
                "type": "textarea",
                "value": {"text": [changes["reason"]]},
            }
        )
    return result


@pytest.fixture(scope="module")
def annotated(label_studio, pushed) -> dict:
    """Reviewers annotate: accept, edit answer, edit box, rotate a box, reject, twice with conflict."""
    questions = pushed["questions"]
    tasks = _tasks(label_studio, pushed["report"].project_id)
    second_token = sign_up_reviewer(label_studio, "reviewer2@example.com", "reviewer-pass-456")

    square = 900.0
    moved = {
        "x": EDITED_BOX[0] / square * 100,
        "y": EDITED_BOX[1] / square * 100,
        "width": (EDITED_BOX[2] - EDITED_BOX[0]) / square * 100,
        "height": (EDITED_BOX[3] - EDITED_BOX[1]) / square * 100,
    }
    rotated_task = tasks[questions["rotated"].qid]
    rotated_value = next(i for i in rotated_task["predictions"][0]["result"] if i["from_name"] == "roi")["value"]

    annotations = {
        "accept": _annotate(label_studio, tasks[questions["accept"].qid], "accept"),
        "edit_answer": _annotate(
            label_studio, tasks[questions["edit_answer"].qid], "edit", answer=EDITED_ANSWER, reason="it is blue"
        ),
        "edit_box": _annotate(
            label_studio, tasks[questions["edit_box"].qid], "edit", roi_value=moved, reason="box too small"
        ),
        "rotated": _annotate(
            label_studio, rotated_task, "edit", roi_value={"rotation": ROTATION}, reason="object is oblique"
        ),
        "reject": _annotate(label_studio, tasks[questions["reject"].qid], "reject", reason="not a port"),
        "twice_first": _annotate(label_studio, tasks[questions["twice"].qid], "accept"),
        "twice_second": _annotate(
            label_studio, tasks[questions["twice"].qid], "reject", token=second_token, reason="a car is there"
        ),
    }
    return {"annotations": annotations, "tasks": tasks, "rotated_value": rotated_value}


def test_status_before_pull_counts_pending(label_studio, pushed, annotated):
    with LabelStudioClient(label_studio.url, label_studio.token) as client:
        report = review_status(pushed["dataset"], client, pushed["report"].project_id)

    assert report.not_pulled == 6
    assert report.totals == {"candidate": 1, "accepted": 1, "edited": 3, "rejected": 2}


@pytest.fixture(scope="module")
def pulled(label_studio, pushed, annotated) -> dict:
    dataset = pushed["dataset"]
    shards_before = _shard_bytes(dataset)
    result = CliRunner().invoke(
        cli,
        [
            "review",
            "pull",
            str(dataset),
            "--url",
            label_studio.url,
            "--project",
            str(pushed["report"].project_id),
            "--json",
        ],
        env={"LABEL_STUDIO_API_KEY": label_studio.token},
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])
    after = {q.qid: q for q in read_questions(dataset)}
    return {"report": report, "after": after, "shards_before": shards_before}


def _unchanged_fields(before: Question, after: Question, changed: set[str]) -> None:
    old = before.model_dump()
    new = after.model_dump()
    for key in old:
        if key not in changed | {"reviews", "review_status"}:
            assert new[key] == old[key], key


def test_pull_keeps_every_question(pushed, pulled):
    assert set(pulled["after"]) == {q.qid for q in pushed["questions"].values()}


def test_pull_accept(pushed, annotated, pulled):
    before = pushed["questions"]["accept"]
    after = pulled["after"][before.qid]
    annotation = annotated["annotations"]["accept"]

    assert after.review_status == "accepted"
    assert after.provenance == "rule"
    _unchanged_fields(before, after, set())
    [event] = after.reviews
    assert event.verdict == "accept"
    assert event.reviewer == "label-studio-user-1"
    assert event.reviewed_at == annotation["updated_at"]
    assert event.annotation_id == annotation["id"]
    assert event.task_id == annotated["tasks"][before.qid]["id"]
    assert event.project_id == pushed["report"].project_id


def test_pull_edited_answer(pushed, annotated, pulled):
    before = pushed["questions"]["edit_answer"]
    after = pulled["after"][before.qid]

    assert after.review_status == "edited"
    assert after.answer == EDITED_ANSWER
    assert after.provenance == "human"
    _unchanged_fields(before, after, {"answer", "provenance"})
    [event] = after.reviews
    assert (event.verdict, event.old_answer, event.new_answer) == ("edit", "red", EDITED_ANSWER)
    assert event.reason == "it is blue"
    assert event.new_roi is None


def test_pull_edited_box(pushed, pulled):
    before = pushed["questions"]["edit_box"]
    after = pulled["after"][before.qid]

    assert after.review_status == "edited"
    assert after.provenance == "human"
    assert np.allclose(after.roi, EDITED_BOX, atol=1.0)
    assert np.allclose(after.roi_1024, [v * 1024 / 900 for v in EDITED_BOX], atol=1.0)
    assert after.answer == "yes"
    _unchanged_fields(before, after, {"roi", "roi_1024", "provenance"})
    [event] = after.reviews
    assert event.old_roi == before.roi
    assert np.allclose(event.new_roi, EDITED_BOX, atol=1.0)


def test_pull_rotated_box_on_wide_image(pushed, annotated, pulled):
    before = pushed["questions"]["rotated"]
    after = pulled["after"][before.qid]
    value = annotated["rotated_value"]

    # Independent reference: the rectangle in full-resolution pixels, turned by shapely about
    # its top-left corner (clockwise on screen, since y points down).
    left = value["x"] / 100 * before.image_width
    top = value["y"] / 100 * before.image_height
    rectangle = shapely_box(
        left, top, left + value["width"] / 100 * before.image_width, top + value["height"] / 100 * before.image_height
    )
    expected = rotate(rectangle, ROTATION, origin=(left, top)).bounds

    assert after.review_status == "edited"
    assert np.allclose(after.roi, expected, atol=1.0), (after.roi, expected)
    assert np.allclose(after.roi_1024, [v * 1024 / 3000 for v in expected], atol=1.0)
    assert "rotated by 30 degrees" in after.reviews[0].note
    assert any("rotated" in note for note in pulled["report"]["notes"][before.qid])


def test_pull_reject_keeps_proposal(pushed, pulled):
    before = pushed["questions"]["reject"]
    after = pulled["after"][before.qid]

    assert after.review_status == "rejected"
    assert after.provenance == "rule"
    _unchanged_fields(before, after, set())
    assert after.reviews[0].reason == "not a port"


def test_pull_leaves_unreviewed_and_unpushed(pushed, pulled):
    for name in ("unreviewed", "already_accepted"):
        before = pushed["questions"][name]
        assert pulled["after"][before.qid] == before, name


def test_pull_conflict_keeps_latest_and_reports(pushed, pulled):
    before = pushed["questions"]["twice"]
    after = pulled["after"][before.qid]
    report = pulled["report"]

    assert after.review_status == "rejected"
    assert [e.verdict for e in after.reviews] == ["accept", "reject"]
    assert len({e.reviewer for e in after.reviews}) == 2
    [conflict] = report["disagreements"]
    assert conflict["qid"] == before.qid
    assert conflict["kept"] == "reject"
    [agreement] = report["agreement"]
    assert agreement["type"] == "region / Object existence"
    assert agreement["reviewed_more_than_once"] == 1
    assert agreement["rate"] == 0.0


def test_pull_backs_up_previous_shards(pushed, pulled):
    dataset = pushed["dataset"]
    backup = dataset / pulled["report"]["backup"]

    assert pulled["report"]["written"]
    assert _shard_bytes(backup) == pulled["shards_before"]
    assert (dataset / pulled["report"]["export_file"]).is_file()


def test_pull_refreshes_card(pushed, pulled):
    text = (pushed["dataset"] / "README.md").read_text(encoding="utf-8")
    info = read_card_info(text)

    assert info.imagery_license == IMAGERY_LICENCE
    assert info.review_agreement == {"region / Object existence": 0.0}
    assert info.unreviewed  # one question is still a candidate
    assert "| edited | 3 |" in text


def test_pull_twice_is_idempotent(label_studio, pushed, pulled):
    dataset = pushed["dataset"]
    shards = _shard_bytes(dataset)
    backups = sorted((dataset / "review" / "backups").iterdir())

    with LabelStudioClient(label_studio.url, label_studio.token) as client:
        report = pull_verdicts(dataset, client, pushed["report"].project_id)

    assert not report.written
    assert report.changed == []
    assert _shard_bytes(dataset) == shards
    assert sorted((dataset / "review" / "backups").iterdir()) == backups


def test_status_after_pull(label_studio, pushed, pulled):
    result = CliRunner().invoke(
        cli,
        [
            "review",
            "status",
            str(pushed["dataset"]),
            "--url",
            label_studio.url,
            "--project",
            str(pushed["report"].project_id),
            "--json",
        ],
        env={"LABEL_STUDIO_API_KEY": label_studio.token},
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])
    types = {item["type"]: item for item in report["types"]}

    assert report["not_pulled"] == 0
    assert report["questions_in_project"] == 7
    assert types["region / Object existence"]["counts"] == {"candidate": 0, "accepted": 0, "edited": 1, "rejected": 1}
    assert types["region / Object existence"]["yes_share"] == 1.0
    assert types["object / Object color / pattern"]["answers"] == {EDITED_ANSWER: 1}
    assert types["global / Scene Type"]["kept"] == 0


def test_crash_while_writing_keeps_old_dataset(label_studio, pushed, annotated, pulled, monkeypatch):
    dataset = pushed["dataset"]
    question = pushed["questions"]["unreviewed"]
    _annotate(label_studio, annotated["tasks"][question.qid], "accept")
    shards = _shard_bytes(dataset)
    assert len(shards) == 2  # train and test, so the crash hits after one shard is written

    real_write = pq.write_table
    calls = []

    def write_then_crash(*args, **kwargs):
        calls.append(args)
        if len(calls) > 1:
            raise OSError("disk full (simulated)")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(pq, "write_table", write_then_crash)
    with LabelStudioClient(label_studio.url, label_studio.token) as client:
        with pytest.raises(OSError, match="simulated"):
            pull_verdicts(dataset, client, pushed["report"].project_id)
    monkeypatch.setattr(pq, "write_table", real_write)

    assert _shard_bytes(dataset) == shards
    assert read_questions(dataset)[0].qid  # still readable

    with LabelStudioClient(label_studio.url, label_studio.token) as client:
        report = pull_verdicts(dataset, client, pushed["report"].project_id)
    after = {q.qid: q for q in read_questions(dataset)}

    assert report.changed == [question.qid]
    assert after[question.qid].review_status == "accepted"
    assert after[pushed["questions"]["twice"].qid].review_status == "rejected"


def test_pull_keeps_history_of_changed_verdict(label_studio, pushed, annotated, pulled):
    dataset = pushed["dataset"]
    question = pushed["questions"]["accept"]
    first = annotated["annotations"]["accept"]
    task = annotated["tasks"][question.qid]
    changed = _api(
        label_studio,
        "PATCH",
        f"/api/annotations/{first['id']}/",
        {"result": _result(task, "reject", reason="two objects overlap")},
    )

    with LabelStudioClient(label_studio.url, label_studio.token) as client:
        report = pull_verdicts(dataset, client, pushed["report"].project_id)
        shards = _shard_bytes(dataset)
        again = pull_verdicts(dataset, client, pushed["report"].project_id)
    after = {q.qid: q for q in read_questions(dataset)}[question.qid]

    assert changed["updated_at"] != first["updated_at"]
    assert report.changed == [question.qid]
    assert [(e.verdict, e.reviewed_at) for e in after.reviews] == [
        ("accept", first["updated_at"]),
        ("reject", changed["updated_at"]),
    ]
    assert {e.annotation_id for e in after.reviews} == {first["id"]}
    assert after.reviews[1].reason == "two objects overlap"
    assert after.review_status == "rejected"
    assert not again.written
    assert _shard_bytes(dataset) == shards


def test_repush_reports_changed_question(label_studio, pushed, pulled):
    dataset = pushed["dataset"]
    questions = read_questions(dataset)
    target = pushed["questions"]["reject"].qid
    changed = [q.model_copy(update={"answer": "harbour"}) if q.qid == target else q for q in questions]
    write_questions(dataset, changed)

    with LabelStudioClient(label_studio.url, label_studio.token) as client:
        report = push_questions(
            dataset,
            client,
            project_title=PROJECT,
            filters=parse_filters(["status=candidate,accepted,edited,rejected"]),
            serving=pushed["serving"],
        )

    assert report.created == 1  # the question never pushed because it was already accepted
    assert report.changed_since_push == [target]
    assert report.project_id == pushed["report"].project_id
