"""Drafting targets derived from a scene, and drafting inside ``lrsgro build``."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lrsgro.build import BuildConfig, build
from lrsgro.objects import LabeledObject
from lrsgro.regions import find_regions
from lrsgro.scene import Scene
from lrsgro.vlm import VlmConfig
from lrsgro.vlm.scenes import draft_scenes, scene_targets
from tests.openai_stub import ScriptedOpenAIServer
from tests.synthetic import Painted, rectangle, write_scene
from tests.vlm_support import well_formed

WHITE = (235, 235, 235)
RED = (200, 30, 30)
PAINTED = [
    Painted("ship", rectangle(40, 40, 60, 20), WHITE),
    Painted("ship", rectangle(300, 420, 30, 12), RED),
    Painted("ship", rectangle(500, 80, 30, 12), RED),
    Painted("plane", rectangle(250, 250, 40, 40), WHITE),
]


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
