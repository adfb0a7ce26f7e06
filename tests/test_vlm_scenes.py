"""Drafting targets derived from a scene, and drafting inside ``lrsgro build``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lrsgro.build import BuildConfig, build
from lrsgro.generate.common import GenerationContext
from lrsgro.generate import global_level, object_level, region_level
from lrsgro.objects import LabeledObject
from lrsgro.regions import find_regions
from lrsgro.scene import Scene
from lrsgro.vlm import VlmConfig
from lrsgro.vlm.prompts import load_template
from lrsgro.vlm.rules import RuleIndex
from lrsgro.vlm.scenes import draft_scenes, scene_targets
from tests.openai_stub import RecordedRequest, Reply, ScriptedOpenAIServer
from tests.synthetic import Painted, rectangle, write_scene
from tests.vlm_support import reply_text_for, well_formed

WHITE = (235, 235, 235)
RED = (200, 30, 30)
PAINTED = [
    Painted("ship", rectangle(40, 40, 60, 20), WHITE),
    Painted("ship", rectangle(300, 420, 30, 12), RED),
    Painted("ship", rectangle(500, 80, 30, 12), RED),
    Painted("plane", rectangle(250, 250, 40, 40), WHITE),
]
# One ship and one plane: the label composition decides no Scene Type, so the rules leave it open.
PAIR = [Painted("ship", rectangle(40, 40, 60, 20), WHITE), Painted("plane", rectangle(400, 400, 40, 40), WHITE)]
JANUARY = "2023:01:18 10:00:00"
WHOLE_SCENE = "about the whole scene for each of these types"


@pytest.fixture(autouse=True)
def _no_key_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


@pytest.fixture
def scene(tmp_path: Path) -> Scene:
    image, _ = write_scene(tmp_path, "harbour", PAINTED)
    objects = [
        LabeledObject(id=f"harbour/{i}", polygon=p.corners, category=p.category, source="harbour.txt", line=i + 1)
        for i, p in enumerate(PAINTED)
    ]
    built = Scene(image_id="harbour", image_path=image, width=600, height=600, objects=objects, gsd=0.5,
                  label_file="harbour.txt")
    built.regions = find_regions(built)
    return built


def test_scene_targets_carry_measured_facts(scene: Scene) -> None:
    targets = scene_targets(scene, seed=0, max_per_level=10)
    scene.close()

    levels = [t.level for t in targets]
    assert levels[0] == "global"
    assert levels.count("global") == 1
    assert targets[0].facts["counts"] == {"plane": 1, "ship": 3}
    assert targets[0].facts["gsd_m"] == 0.5

    regions = [t for t in targets if t.level == "region"]
    assert len(regions) == len(scene.regions)
    for target in regions:
        region = next(r for r in scene.regions if r.id == target.referent.id)
        inside = scene.objects_in(region.geometry)
        assert target.facts["objects"] == len(inside)
        assert set(target.object_ids) == {o.id for o in inside}

    objects = {t.referent.id: t for t in targets if t.level == "object"}
    assert objects["harbour/0"].facts["color"] == "white"
    assert objects["harbour/0"].facts["class"] == "ship"
    assert objects["harbour/0"].facts["box_width_m"] == 30.0
    assert objects["harbour/1"].facts["color"] == "red"
    assert objects["harbour/0"].referent.box == (40.0, 40.0, 100.0, 60.0)
    for target in targets:
        target.check()


def test_scene_targets_skip_rule_answered_types(scene: Scene) -> None:
    scene.acquisition_date = dt.date(2023, 1, 18)
    scene.center_lat = 48.7
    context = GenerationContext()
    rules = [q for family in (global_level, region_level, object_level) for q in family.generate(scene, context)]
    index = RuleIndex(rules)

    targets = scene_targets(scene, seed=0, max_per_level=10, rules=index)
    unfiltered = scene_targets(scene, seed=0, max_per_level=10)
    scene.close()

    rule_global = {q.category for q in rules if q.level == "global"}
    assert {"Scene Type", "Urban-Rural", "Season"} <= rule_global
    assert "global" not in {t.level for t in targets}
    assert unfiltered[0].level == "global"
    assert unfiltered[0].facts["latitude"] == 48.7
    assert unfiltered[0].facts["hemisphere"] == "northern"
    for target in targets:
        answered = index.answered_categories(scene.image_id, target.level, target.referent)
        assert set(target.answered_categories) == answered
        assert target.requested_categories
        assert not set(target.requested_categories) & answered
    regions = [t for t in targets if t.level == "region"]
    assert regions
    for target in regions:
        assert set(target.facts["counts"]) == {"plane", "ship"}
        assert sum(target.facts["counts"].values()) <= target.facts["objects"]


def test_scene_facts_carry_rule_answers(scene: Scene) -> None:
    scene.acquisition_date = dt.date(2023, 1, 18)
    scene.center_lat = -33.9
    rules = global_level.generate(scene, GenerationContext())
    # Without its Season question the global target is still sent, to draft the season.
    open_season = RuleIndex([q for q in rules if q.category != "Season"])

    (whole,) = [t for t in scene_targets(scene, max_per_level=1, rules=open_season) if t.level == "global"]
    scene.close()

    answers = {q.category: q.answer for q in rules}
    assert whole.requested_categories == ("Season",)
    assert whole.facts["scene_type"] == answers["Scene Type"] == "port"
    assert whole.facts["urban_rural"] == answers["Urban-Rural"]
    assert whole.facts["hemisphere"] == "southern"
    assert whole.facts["acquisition_date"] == "2023-01-18"


def test_scene_targets_sample_with_seed(scene: Scene) -> None:
    first = scene_targets(scene, seed=5, max_per_level=2)
    again = scene_targets(scene, seed=5, max_per_level=2)
    scene.close()

    assert [t.target_id for t in first] == [t.target_id for t in again]
    assert sum(t.level == "region" for t in first) == 2
    assert sum(t.level == "object" for t in first) <= 2


def test_draft_scenes_reports_progress(scene: Scene, tmp_path: Path) -> None:
    stages = []
    with ScriptedOpenAIServer(well_formed) as server:
        config = VlmConfig(endpoint=server.url, model="stub-vlm", cache_dir=tmp_path / "cache")
        questions, report = draft_scenes(
            [scene], config, seed=0, max_per_level=2, progress=lambda *event: stages.append(event)
        )
        sent = len(server.requests)

    assert sent == report.targets == report.drafted_targets
    assert stages[-1] == ("vlm drafts", sent, sent)
    assert all(q.provenance == "vlm" for q in questions)
    assert {q.level for q in questions} == {"global", "region", "object"}
    assert all(q.source_labels == "harbour.txt" for q in questions)


def test_build_adds_vlm_drafts(tmp_path: Path) -> None:
    write_scene(tmp_path / "src", "harbour", PAINTED)
    out = tmp_path / "dataset"
    with ScriptedOpenAIServer(well_formed) as server:
        vlm = VlmConfig(endpoint=server.url, model="stub-vlm", cache_dir=tmp_path / "cache")
        config = BuildConfig(labels=[tmp_path / "src" / "labelTxt"], images=tmp_path / "src" / "images", out=out,
                             split="test=1.0", vlm=vlm)
        report = build(config)

    rows = [row for path in sorted(out.rglob("*.parquet")) for row in pq.read_table(path).to_pylist()]
    drafted = [row for row in rows if row["provenance"] == "vlm"]
    written = json.loads((out / "build_report.json").read_text())
    assert drafted
    assert all(row["split"] == "test" for row in drafted)
    assert all(row["image"].startswith("images/") for row in drafted)
    assert "object/Object material / surface" not in report.types_not_produced
    assert written["vlm"]["model"] == "stub-vlm"
    assert written["vlm"]["drafted_targets"] == written["vlm"]["targets"]


def test_build_command_takes_vlm_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from lrsgro.cli import cli

    monkeypatch.setenv("LRSGRO_CACHE", str(tmp_path / "caches"))
    write_scene(tmp_path / "src", "harbour", PAINTED)
    with ScriptedOpenAIServer(well_formed) as server:
        args = ["build", str(tmp_path / "src" / "labelTxt"), "--images", str(tmp_path / "src" / "images"),
                "--out", str(tmp_path / "dataset"), "--split", "test=1.0",
                "--vlm-endpoint", server.url, "--vlm-model", "stub-vlm", "--vlm-concurrency", "2"]
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        sent = len(server.requests)

    written = json.loads((tmp_path / "dataset" / "build_report.json").read_text())
    assert result.exit_code == 0, result.output
    assert "vlm drafts:" in result.output
    assert sent == written["vlm"]["requests"] > 0
    assert len(list((tmp_path / "caches" / "vlm").rglob("*.json"))) == sent


def global_drafts(request: RecordedRequest) -> Reply:
    """Draft Scene Type, Season and Urban-Rural for every whole-scene request, asked for or not;
    valid drafts of the requested types for any other target."""
    if WHOLE_SCENE not in request.text:
        return well_formed(request)
    drafts = [
        {"level": "global", "category": category, "question": question, "answer": answer, "answer_kind": "word",
         "choices": [], "referent": None}
        for category, question, answer in [
            ("Scene Type", "What is the main land use of this scene?", "port"),
            ("Season", "In which season was this image taken?", "summer"),
            ("Urban-Rural", "Is this scene urban or rural?", "rural"),
        ]
    ]
    return Reply(text=json.dumps({"questions": drafts}))


def write_january_scenes(folder: Path) -> None:
    write_scene(folder, "harbour", PAINTED, date=JANUARY)
    write_scene(folder, "pair", PAIR, date=JANUARY)


def read_rows(out: Path) -> list[dict]:
    return [row for path in sorted(out.rglob("*.parquet")) for row in pq.read_table(path).to_pylist()]


def test_build_keeps_one_question_per_rule_type(tmp_path: Path) -> None:
    write_january_scenes(tmp_path / "src")
    out = tmp_path / "dataset"
    with ScriptedOpenAIServer(global_drafts) as server:
        vlm = VlmConfig(endpoint=server.url, model="stub-vlm", cache_dir=tmp_path / "cache")
        config = BuildConfig(labels=[tmp_path / "src" / "labelTxt"], images=tmp_path / "src" / "images", out=out,
                             split="test=1.0", vlm=vlm)
        build(config)
        whole_scene_requests = [r.text for r in server.requests if WHOLE_SCENE in r.text]

    rows = read_rows(out)
    written = json.loads((out / "build_report.json").read_text())["vlm"]
    for image_id in ("harbour", "pair"):
        seasons = [(r["provenance"], r["answer"]) for r in rows if r["image_id"] == image_id and r["category"] == "Season"]
        urban = [r["provenance"] for r in rows if r["image_id"] == image_id and r["category"] == "Urban-Rural"]
        scene_types = [r["provenance"] for r in rows if r["image_id"] == image_id and r["category"] == "Scene Type"]
        assert seasons == [("rule", "winter")], image_id
        assert urban == ["rule"], image_id
        assert len(scene_types) == 1, image_id
    assert [r["provenance"] for r in rows if r["image_id"] == "pair" and r["category"] == "Scene Type"] == ["vlm"]
    # Only the pair's whole-scene target is sent, asking only for the Scene Type the rules left open.
    (prompt,) = whole_scene_requests
    required, optional = prompt.split(WHOLE_SCENE, 1)[1].split("Rules:", 1)[0].split("You may add", 1)
    assert '"Scene Type"' in required
    assert '"Season"' not in required + optional
    assert '"Urban-Rural"' not in required + optional
    assert written["duplicates_of_rules"] == 1
    (contradiction,) = [r for r in written["rejected"] if r["kind"] == "contradicts_rule"]
    assert contradiction["target_id"] == "pair/global/image"
    assert contradiction["rule_answer"] == "winter"
    assert "drafted 'summer', rule-derived 'winter'" in contradiction["reason"]
    assert written["rejected_by_kind"]["contradicts_rule"] == 1


def test_build_command_reports_vlm_outcome(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from lrsgro.cli import cli

    monkeypatch.setenv("LRSGRO_CACHE", str(tmp_path / "caches"))
    write_january_scenes(tmp_path / "src")
    long_answer = {"category": "Object material / surface", "question": "What is its deck made of?",
                   "answer": "bare grey concrete slab", "answer_kind": "word", "level": "object"}

    def script(request: RecordedRequest) -> Reply:
        if WHOLE_SCENE in request.text:
            return global_drafts(request)
        referent = request.text.split("- id: ", 1)[1].split("\n", 1)[0]
        extra = [{**long_answer, "referent": referent}] if "- level \"object\"" in request.text else []
        return Reply(text=reply_text_for(request, extra=extra))

    with ScriptedOpenAIServer(script) as server:
        args = ["build", str(tmp_path / "src" / "labelTxt"), "--images", str(tmp_path / "src" / "images"),
                "--out", str(tmp_path / "dataset"), "--split", "test=1.0",
                "--vlm-endpoint", server.url, "--vlm-model", "stub-vlm"]
        result = CliRunner().invoke(cli, args, catch_exceptions=False)

    written = json.loads((tmp_path / "dataset" / "build_report.json").read_text())["vlm"]
    card = (tmp_path / "dataset" / "README.md").read_text()
    output = " ".join(result.output.split())
    rejected = len(written["rejected"])
    too_long = written["rejected_by_kind"]["too_many_words"]
    assert result.exit_code == 0, result.output
    assert too_long > 0
    assert rejected == too_long + 1
    assert f"vlm drafts: {written['questions']} kept ({written['flagged_questions']} flagged" in output
    assert f"{rejected} rejected, 1 dropped as duplicates of rule questions" in output
    assert f"rejected by kind: too_many_words {too_long}, contradicts_rule 1" in output
    assert "stopped early" not in output
    assert "## VLM drafting" in card
    assert "`stub-vlm`" in card
    for level in ("global", "region", "object"):
        assert f"`{level}.txt` ({load_template(level).hash})" in card
    assert f"| kept as candidates (before answer balancing) | {written['questions']} |" in card
    assert f"| rejected (invalid, or contradicting a rule-derived answer) | {rejected} |" in card
    assert "| dropped as duplicates of rule-derived questions | 1 |" in card
