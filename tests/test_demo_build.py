"""The embedded demo scenes yield every question type that rules can decide."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lrsgro.build import BuildConfig, build
from lrsgro.dataset import read_questions
from lrsgro.demo_scene import generate_scenes
from lrsgro.taxonomy import QUESTION_TYPES
from lrsgro.validate import validate_dataset


@pytest.fixture(scope="module")
def demo_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    generate_scenes(root / "scene", seeds=(0, 1, 2), size=8192)
    out = root / "dataset"
    build(BuildConfig(labels=[root / "scene" / "labelTxt"], images=root / "scene" / "images", out=out, split="test=0.67,train=0.33"))
    return out


def test_demo_yields_every_rule_type(demo_dataset: Path):
    produced = {(q.level, q.category) for q in read_questions(demo_dataset)}
    expected = {t.key for t in QUESTION_TYPES if t.rule_decidable}
    assert expected - produced == set()


def test_demo_seasons_follow_dates_and_hemispheres(demo_dataset: Path):
    seasons = {q.image_id: q.answer for q in read_questions(demo_dataset) if q.category == "Season"}
    assert seasons == {"lrsgro_demo_0": "summer", "lrsgro_demo_1": "winter", "lrsgro_demo_2": "winter"}


def test_demo_dataset_is_valid(demo_dataset: Path):
    report = validate_dataset(demo_dataset)
    assert report.ok, report.problems


@pytest.mark.slow
def test_demo_command_prints_baselines(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "lrsgro", "demo", "--out", str(tmp_path / "demo"), "--size", "2048"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "model-free baselines" in result.stdout
    for level in ("global", "region", "object"):
        assert level in result.stdout
    assert (tmp_path / "demo" / "dataset" / "build_report.json").is_file()
