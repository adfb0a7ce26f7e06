"""End to end: the real openai client against a scripted OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from lrsgro.errors import InputError
from lrsgro.eval.retry import RetryPolicy
from lrsgro.eval.runlog import read_predictions
from lrsgro.eval.runner import EvalSettings, run_eval
from lrsgro.imagery.frames import view_size, zoom_crop_window
from tests.eval_support import IMAGE_SIZE, rl_record, write_built_dataset, write_geotiff, write_jsonl
from tests.openai_stub import Reply, ScriptedOpenAIServer, by_marker

SECRET = "sk-test-0123456789SECRETKEY"
VIEW = view_size(IMAGE_SIZE, 512)
FAST_RETRY = RetryPolicy(retries=3, base_delay_s=0.01, max_delay_s=0.05, timeout_s=0.5)

STAGE1_SHIP = (
    "<think>A port with piers. The question asks about one ship, so I need to crop the image to "
    "examine it.</think>\nI need to pay attention to\n```json\n"
    '[{"bbox_2d": [100, 60, 140, 90], "label": "ship near the pier"}]\n```\n<answer>red</answer>'
)
STAGE2_SHIP = "<think>In the crop the hull is clearly white with a dark deck.</think>\n<answer>white</answer>"
STAGE1_MARINA = '<think>Marina in the lower left.</think> [{"bbox_2d": [20, 200, 60, 240], "label": "marina"}] <answer>no</answer>'

QUESTIONS = [
    # (id, category, question, answer, level, box in the 1024 frame)
    ("z1", "Object color / pattern", "What color is the ship near the pier?", "white", "object", [190, 110, 290, 190]),
    ("z2", "Season", "Which season does the scene show?", "summer", "global", None),
    ("z3", "Object existence", "Is there a boat in the marina?", "yes", "region", [40, 400, 130, 480]),
    ("z4", "Counting", "How many bridges cross the river?", "3", "global", None),
    ("z5", "Object shape / structure", "What shape is the roof of the depot?", "flat", "object", [500, 300, 540, 330]),
    ("z6", "Object material / surface", "What material is the runway made of?", "concrete", "object", [600, 100, 900, 140]),
    ("z7", "Region function", "What is the main function of the yard?", "storage", "region", [300, 300, 400, 400]),
    ("z8", "Region status", "Is the parking lot busy?", "no", "region", [700, 500, 800, 560]),
]


def zoom_script(parking_lot: Reply):
    return by_marker(
        {
            "ship near the pier": [Reply(text=STAGE1_SHIP), Reply(text=STAGE2_SHIP)],
            "season": [Reply(text="<think>The whole image is needed.</think><answer>Summer</answer>")],
            "marina": [Reply(text=STAGE1_MARINA), Reply(text="<|im_start|>assistant\nYes<|im_end|>\n<|endoftext|>")],
            "bridges": [Reply(text="Looking at the whole image, there are 3 bridges.")],
            "depot": [Reply(text='<think>depot</think> {"bbox_2d": [10, 20, 30]} <answer>flat</answer>')],
            "runway": [Reply(text='[{"bbox_2d": [900, 700, 980, 760]}] <answer>asphalt</answer>')],
            "yard": [
                Reply(status=429, error="rate limited", headers={"Retry-After": "0"}),
                Reply(text="<answer>storage</answer>", delay_s=2.0),
                Reply(text="<answer>storage</answer>"),
            ],
            "parking lot": [parking_lot],
        },
        Reply(status=400, error="unexpected request"),
    )


@pytest.fixture
def release(tmp_path: Path) -> Path:
    write_geotiff(tmp_path / "image" / "0001.tif")
    records = [rl_record(qid, "0001.tif", cat, q, a, level, box, split="test") for qid, cat, q, a, level, box in QUESTIONS]
    return write_jsonl(tmp_path / "test.jsonl", records)


def settings(release: Path, server: ScriptedOpenAIServer, out: Path, **overrides) -> EvalSettings:
    values = dict(
        data=release, model="openai:stub-vlm", protocol="zoom", endpoint=server.url, out=out,
        concurrency=3, api_key=SECRET, retry=FAST_RETRY, resamples=50,
    )
    values.update(overrides)
    return EvalSettings(**values)


def records_of(out: Path) -> dict[str, list]:
    grouped: dict[str, list] = {}
    for record in read_predictions(out / "predictions.jsonl"):
        grouped.setdefault(record.qid, []).append(record)
    return grouped


def requests_for(server: ScriptedOpenAIServer, marker: str):
    return [request for request in server.requests if marker in request.text]


def test_zoom_two_stage_end_to_end(release: Path, tmp_path: Path) -> None:
    failing = Reply(status=500, error=f"internal error for key {SECRET}")
    with ScriptedOpenAIServer(zoom_script(failing)) as server:
        summary = run_eval(settings(release, server, tmp_path / "run"))
        requests = server.requests

    records = records_of(tmp_path / "run")
    assert summary.answered == 7
    assert summary.failed == 1

    # z1: the box is mapped from the 512-pixel view to full resolution, grown to 512 x 512.
    stage1, stage2 = records["z1"]
    assert (stage1.stage, stage1.final, stage2.stage, stage2.final) == ("stage1", False, "stage2", True)
    scale_x, scale_y = IMAGE_SIZE[0] / VIEW[0], IMAGE_SIZE[1] / VIEW[1]
    assert stage1.box_full == pytest.approx([100 * scale_x, 60 * scale_y, 140 * scale_x, 90 * scale_y])
    window = zoom_crop_window(tuple(stage1.box_full), IMAGE_SIZE)
    assert stage1.crop_window == pytest.approx(list(window))
    assert window[2] - window[0] == 512
    assert window[3] - window[1] == 512
    assert (stage1.answer, stage2.answer) == ("red", "white")
    assert stage2.crops == 1

    # The stage-2 request continues the conversation: the view, the stage-1 reply, the crop.
    ship_requests = requests_for(server, "ship near the pier")
    assert len(ship_requests) == 2
    assert "bbox_2d" in ship_requests[0].text
    assert "<answer>" in ship_requests[0].text
    assert f"{VIEW[0]} x {VIEW[1]} pixels" in ship_requests[0].text
    messages = ship_requests[1].body["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert "bbox_2d" in messages[1]["content"]
    assert "<answer>" not in messages[1]["content"]
    view, crop = (Image.open(io.BytesIO(data)) for data in ship_requests[1].images)
    assert view.size == VIEW
    assert crop.size == (512, 512)

    # Without a usable box, the stage-1 answer is final and no second request is sent.
    for qid, marker, flag in (("z2", "season", "no-box"), ("z5", "depot", "no-box"), ("z6", "runway", "box-outside")):
        assert [r.stage for r in records[qid]] == ["stage1"], qid
        assert records[qid][0].final, qid
        assert flag in records[qid][0].flags, qid
        assert len(requests_for(server, marker)) == 1, qid

    assert records["z3"][-1].answer == "Yes"
    assert records["z4"][0].answer_source == "plain"
    assert records["z7"][0].attempts == 3
    assert records["z8"][0].error_kind == "server"
    assert not records["z8"][0].final
    assert all(request.headers["authorization"] == f"Bearer {SECRET}" for request in requests)


def test_zoom_scores_both_rules_and_stages(release: Path, tmp_path: Path) -> None:
    with ScriptedOpenAIServer(zoom_script(Reply(status=503, error="overloaded"))) as server:
        scores = run_eval(settings(release, server, tmp_path / "run")).scores

    assert set(scores["rules"]) == {"paper", "robust"}
    paper = scores["rules"]["paper"]
    assert paper["final"]["micro"]["counted"] == 7
    assert paper["final"]["errors"] == 1
    assert scores["questions"]["errors"] == 1
    # z1 is wrong before zooming and right after; z3 the same.
    assert scores["zoom"]["changes"]["paper"]["fixed_by_zoom"] == 2
    assert paper["stage1"]["micro"]["correct"] == paper["final"]["micro"]["correct"] - 2
    # "there are 3 bridges" is right only under the robust rule.
    robust = scores["rules"]["robust"]["final"]["micro"]["correct"]
    assert robust == paper["final"]["micro"]["correct"] + 1

    iou = scores["roi_iou"]
    needing = [q for q in QUESTIONS if q[5] is not None and q[0] != "z8"]
    assert iou["full_resolution"]["questions"] == len(needing)
    assert iou["full_resolution"]["missing_boxes"] == len(needing) - 2
    assert 0 < iou["crop_window"]["mean_iou"] <= 1
    assert json.loads((tmp_path / "run" / "scores.json").read_text())["questions"]["answered"] == 7


def test_rerun_retries_errors_only(release: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    with ScriptedOpenAIServer(zoom_script(Reply(status=500, error="down"))) as server:
        run_eval(settings(release, server, out))

    with ScriptedOpenAIServer(zoom_script(Reply(text="<answer>no</answer>"))) as server:
        summary = run_eval(settings(release, server, out))
        second = server.requests

    assert summary.already_done == 7
    assert summary.answered == 1
    assert len(second) == 1
    assert "parking lot" in second[0].text
    finals = [r.qid for r in read_predictions(out / "predictions.jsonl") if r.final and r.ok]
    assert sorted(finals) == sorted(q[0] for q in QUESTIONS)


def test_stage2_failure_resumes_from_stage1(release: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = by_marker({"ship near the pier": [Reply(text=STAGE1_SHIP), Reply(status=500)]}, Reply(text="<answer>x</answer>"))
    with ScriptedOpenAIServer(first) as server:
        run_eval(settings(release, server, out, limit=1, retry=RetryPolicy(retries=0, timeout_s=2)))

    with ScriptedOpenAIServer([Reply(text=STAGE2_SHIP)]) as server:
        run_eval(settings(release, server, out, limit=1))
        second = server.requests

    assert len(second) == 1
    assert len(second[0].images) == 2
    stages = [(r.stage, r.ok) for r in read_predictions(out / "predictions.jsonl")]
    assert stages == [("stage1", True), ("stage2", False), ("stage2", True)]


def test_no_secret_in_written_files(release: Path, tmp_path: Path) -> None:
    failing = Reply(status=401, error=f"Incorrect API key provided: {SECRET}")
    with ScriptedOpenAIServer(zoom_script(failing)) as server:
        run_eval(settings(release, server, tmp_path / "run"))
        with_credentials = server.url.replace("http://", f"http://user:{SECRET}@") + f"?key={SECRET}"
        run_eval(settings(release, server, tmp_path / "run2", endpoint=with_credentials, limit=1))

    manifest = json.loads((tmp_path / "run2" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["endpoint"].startswith("http://127.0.0.1:")
    assert "user" not in manifest["endpoint"]

    written = [path for path in tmp_path.rglob("*") if path.is_file() and path.suffix in (".json", ".jsonl")]
    assert any(path.name == "predictions.jsonl" for path in written)
    for path in written:
        assert SECRET not in path.read_text(encoding="utf-8"), path
    errors = [r.error for r in read_predictions(tmp_path / "run" / "predictions.jsonl") if not r.ok]
    assert errors and all("***" in error for error in errors)


def test_assistant_continuation_and_norm1000(release: Path, tmp_path: Path) -> None:
    config = tmp_path / "zoom-model.yaml"
    config.write_text(
        "backend: openai\nserved_model: ZoomEarth\nprotocol: zoom\nbox_convention: norm1000\n"
        "stage2_turn: assistant\nmax_pixels: 1000000\n",
        encoding="utf-8",
    )
    stage1 = '[{"bbox_2d": [100, 100, 150, 200]}] <answer>red</answer>'
    script = by_marker({"ship near the pier": [Reply(text=stage1), Reply(text="<answer>white</answer>")]}, Reply(text="-"))
    with ScriptedOpenAIServer(script) as server:
        run_eval(settings(release, server, tmp_path / "run", model=str(config), limit=1))
        requests = server.requests

    stage1_record = read_predictions(tmp_path / "run" / "predictions.jsonl")[0]
    assert stage1_record.box_frame == "norm1000"
    assert stage1_record.box_full == pytest.approx([200.0, 120.0, 300.0, 240.0])

    body = requests[1].body
    assert body["model"] == "ZoomEarth"
    assert body["continue_final_message"] is True
    assert body["add_generation_prompt"] is False
    assert [m["role"] for m in body["messages"]] == ["user", "assistant"]
    assert [part["type"] for part in body["messages"][1]["content"]] == ["text", "image_url"]


def test_preflight_rejects_large_inputs_before_requests(release: Path, tmp_path: Path) -> None:
    config = tmp_path / "small.yaml"
    config.write_text("backend: openai\nserved_model: m\nmax_pixels: 100000\n", encoding="utf-8")
    with ScriptedOpenAIServer([Reply(text="<answer>x</answer>")]) as server:
        with pytest.raises(InputError, match="max_pixels"):
            run_eval(settings(release, server, tmp_path / "run", model=str(config), protocol="direct", max_side=1024))
        assert server.requests == []


def test_direct_and_blind_prompts(release: Path, tmp_path: Path) -> None:
    with ScriptedOpenAIServer([Reply(text="<answer>white</answer>")]) as server:
        run_eval(settings(release, server, tmp_path / "direct", protocol="direct", max_side=256, limit=2))
        run_eval(settings(release, server, tmp_path / "blind", protocol="blind", limit=2))
        requests = server.requests

    direct, blind = requests[:2], requests[2:]
    assert all(len(r.images) == 1 for r in direct)
    assert Image.open(io.BytesIO(direct[0].images[0])).size == view_size(IMAGE_SIZE, 256)
    assert all("single word or phrase" in r.text for r in direct)
    assert all(r.images == [] for r in blind)


def test_oracle_crop_sends_reference_region(release: Path, tmp_path: Path) -> None:
    with ScriptedOpenAIServer([Reply(text="<answer>white</answer>")]) as server:
        run_eval(settings(release, server, tmp_path / "run", protocol="oracle-crop", limit=2))
        requests = server.requests

    records = {r.qid: r for r in read_predictions(tmp_path / "run" / "predictions.jsonl")}
    ship = next(r for r in requests if "ship near the pier" in r.text)
    season = next(r for r in requests if "season" in r.text)
    assert len(ship.images) == 2
    assert len(season.images) == 1
    roi = [v * max(IMAGE_SIZE) / 1024 for v in QUESTIONS[0][5]]
    assert records["z1"].crop_window == pytest.approx(list(zoom_crop_window(tuple(roi), IMAGE_SIZE)))
    assert "no-roi" in records["z2"].flags


def test_prompt_file_replaces_template(release: Path, tmp_path: Path) -> None:
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("CUSTOM PROMPT: $question\nReply with one word.\n", encoding="utf-8")
    with ScriptedOpenAIServer([Reply(text="<answer>white</answer>")]) as server:
        run_eval(settings(release, server, tmp_path / "default", protocol="direct", limit=1))
        run_eval(settings(release, server, tmp_path / "custom", protocol="direct", limit=1, prompt_file=prompt))
        requests = server.requests

        bad = tmp_path / "bad.txt"
        bad.write_text("no placeholder here", encoding="utf-8")
        with pytest.raises(InputError, match=r"\$question"):
            run_eval(settings(release, server, tmp_path / "bad", protocol="direct", prompt_file=bad))

    assert "CUSTOM PROMPT: What color is the ship near the pier?" in requests[1].text
    hashes = [json.loads((tmp_path / name / "manifest.json").read_text())["prompt_hash"] for name in ("default", "custom")]
    assert hashes[0] != hashes[1]


def test_replay_reproduces_recorded_answers(release: Path, tmp_path: Path) -> None:
    with ScriptedOpenAIServer(zoom_script(Reply(text="<answer>no</answer>"))) as server:
        original = run_eval(settings(release, server, tmp_path / "run")).scores

    replayed = run_eval(EvalSettings(data=release, model=f"replay:{tmp_path / 'run'}", protocol="zoom",
                                     out=tmp_path / "replay", resamples=50)).scores
    for rule in ("paper", "robust"):
        assert replayed["rules"][rule]["final"]["micro"] == original["rules"][rule]["final"]["micro"]
        assert replayed["rules"][rule]["stage1"]["micro"] == original["rules"][rule]["stage1"]["micro"]
    assert replayed["roi_iou"] == original["roi_iou"]


def test_multiple_choice_letters_scored(tmp_path: Path) -> None:
    rows = [
        {"qid": "m1", "image_id": "img", "split": "test", "level": "object", "category": "Object category refinement",
         "question": "Is the ship a container ship or a tanker?", "answer": "tanker",
         "choices": ["container ship", "tanker"], "roi": [100, 100, 180, 140]},
        {"qid": "m2", "image_id": "img", "split": "test", "level": "object", "category": "Object category refinement",
         "question": "Is the court for tennis or basketball?", "answer": "tennis",
         "choices": ["tennis", "basketball"], "roi": [300, 300, 340, 330]},
    ]
    folder = write_built_dataset(tmp_path / "ds", rows)
    with ScriptedOpenAIServer([Reply(text="<answer>(B)</answer>")]) as server:
        summary = run_eval(EvalSettings(data=folder, model="openai:stub-vlm", protocol="direct", endpoint=server.url,
                                        out=tmp_path / "run", resamples=0, retry=FAST_RETRY))
        requests = server.requests

    assert all("(A) " in r.text and "(B) " in r.text for r in requests)
    assert all("option's letter" in r.text for r in requests)
    for rule in ("paper", "robust"):
        assert summary.scores["rules"][rule]["final"]["micro"]["correct"] == 1
