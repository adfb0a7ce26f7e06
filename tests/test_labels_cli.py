"""``lrsgro labels inspect``: output, exit status, and no traceback on garbage."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from rasterio.transform import from_origin

from lrsgro.cli import cli
from lrsgro.formats import readers

REPO = Path(__file__).resolve().parents[1]
BOX = "10 10 50 10 50 40 10 40"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "lrsgro", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
        check=False,
    )


def _invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _garbage_files(folder: Path) -> dict[str, Path]:
    rng = random.Random(11)
    files = {
        "binary junk": bytes(rng.randrange(256) for _ in range(2048)),
        "truncated COCO JSON": b'{"images": [{"id": 1, "file_name": "a.png"}], "annotations": [{"id": 1, "image_id"',
        "truncated GeoJSON": b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Pol',
        "empty XML": b"",
        "declaration-only XML": b'<?xml version="1.0" encoding="utf-8"?>\n',
        "broken XML": b"<annotation><object><name>ship</name><bndbox><xmin>1",
        "Label Studio list of junk": b'[{"annotations": [{"result": 5}]}, 7]',
    }
    suffixes = {"empty XML": ".xml", "declaration-only XML": ".xml", "broken XML": ".xml", "binary junk": ".txt"}
    paths = {}
    for index, (name, content) in enumerate(files.items()):
        path = folder / f"garbage{index}{suffixes.get(name, '.json')}"
        path.write_bytes(content)
        paths[name] = path
    return paths


@pytest.mark.slow
def test_garbage_files_rejected_without_traceback(tmp_path: Path) -> None:
    for name, path in _garbage_files(tmp_path).items():
        text_run = _invoke("labels", "inspect", str(path))
        json_run = _run("labels", "inspect", str(path), "--json")

        assert text_run.exit_code == 2, name
        assert "status: rejected" in text_run.output, name
        assert json_run.returncode == 2, name
        assert "Traceback" not in json_run.stdout + json_run.stderr, name
        report = json.loads(json_run.stdout)
        assert report["status"] == "rejected", name
        assert report["errors"], name
        assert report["errors"][0]["path"] == str(path), name


def test_missing_path_and_unknown_format(tmp_path: Path) -> None:
    missing = _run("labels", "inspect", str(tmp_path / "nope.txt"), "--json")
    dota = tmp_path / "P1.txt"
    dota.write_text(f"{BOX} plane 0\n", encoding="utf-8")
    unknown = _run("labels", "inspect", str(dota), "--format", "shapefile")

    assert missing.returncode == 2
    assert "not found" in json.loads(missing.stdout)["errors"][0]["message"]
    assert unknown.returncode == 2
    assert "shapefile" in unknown.stdout
    assert "Traceback" not in unknown.stdout + unknown.stderr


def test_inspect_text_output_says_guessed_format(tmp_path: Path) -> None:
    path = tmp_path / "P1.txt"
    path.write_text(f"gsd:0.5\n{BOX} plane 0\n{BOX} plane 1\n{BOX} ufo 0\n", encoding="utf-8")

    result = _run("-v", "labels", "inspect", str(path))

    assert result.returncode == 0
    assert "format: dota (guessed from the content" in result.stdout
    assert "objects: 2" in result.stdout
    assert "plane  2" in result.stdout
    assert f"{path}:4: unknown class" in result.stdout
    assert "guessed format dota" in result.stderr


def test_inspect_json_keys_and_counts(tmp_path: Path) -> None:
    path = tmp_path / "P1.txt"
    path.write_text(f"{BOX} plane 0\n{BOX} small-vehicle 0\n{BOX} small vehicle 0\n0 0 1 0 2 0 3 0 ship 0\n", encoding="utf-8")

    result = _invoke("labels", "inspect", str(path), "--json", "--format", "dota")

    assert result.exit_code == 0
    report = json.loads(result.output)
    assert {"format", "objects", "classes", "warnings", "errors"} <= set(report)
    assert report["format"] == "dota"
    assert report["format_guessed"] is False
    assert report["objects"] == 3
    assert report["classes"] == {"small vehicle": 2, "plane": 1}
    assert report["dropped"] == 1
    assert report["errors"] == []
    assert report["warnings"][0]["line"] == 4
    assert report["warnings"][0]["path"] == str(path)


def test_every_record_invalid_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "P1.txt"
    path.write_text(f"{BOX} ufo 0\n{BOX} saucer 0\n", encoding="utf-8")

    result = _invoke("labels", "inspect", str(path), "--json")

    assert result.exit_code == 2
    report = json.loads(result.output)
    assert report["status"] == "rejected"
    assert [error["value"] for error in report["errors"][1:]] == ["ufo", "saucer"]


def test_empty_label_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "P1.txt"
    path.write_bytes(b"")

    result = _invoke("labels", "inspect", str(path), "--json")

    assert result.exit_code == 0
    assert json.loads(result.output)["objects"] == 0


def test_class_map_option(tmp_path: Path) -> None:
    path = tmp_path / "P1.txt"
    path.write_text(f"{BOX} ufo 0\n", encoding="utf-8")

    mapped = _invoke("labels", "inspect", str(path), "--json", "--class-map", "UFO=helicopter")
    malformed = _invoke("labels", "inspect", str(path), "--json", "--class-map", "ufo")

    assert mapped.exit_code == 0
    assert json.loads(mapped.output)["classes"] == {"helicopter": 1}
    assert malformed.exit_code == 2
    assert "FROM=TO" in json.loads(malformed.output)["errors"][0]["message"]


def test_image_option_clips_and_georeferences(tmp_path: Path) -> None:
    image = tmp_path / "scene.tif"
    with rasterio.open(
        image, "w", driver="GTiff", width=40, height=30, count=1, dtype="uint8",
        crs="EPSG:32633", transform=from_origin(500000.0, 4000000.0, 1.0, 1.0),
    ) as target:  # fmt: skip
        target.write(np.zeros((1, 30, 40), dtype=np.uint8))
    dota = tmp_path / "scene.txt"
    dota.write_text(f"{BOX} plane 0\n", encoding="utf-8")
    geojson = tmp_path / "scene.geojson"
    ring = [[500010.0, 3999990.0], [500020.0, 3999990.0], [500020.0, 3999980.0], [500010.0, 3999990.0]]
    geojson.write_text(
        json.dumps({
            "type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": "EPSG:32633"}},
            "features": [{"type": "Feature", "properties": {"class": "ship"}, "geometry": {"type": "Polygon", "coordinates": [ring]}}],
        }),
        encoding="utf-8",
    )  # fmt: skip

    clipped = json.loads(_invoke("labels", "inspect", str(dota), "--json", "--image", str(image)).output)
    placed = _invoke("labels", "inspect", str(geojson), "--json", "--image", str(image))
    without = _invoke("labels", "inspect", str(geojson))

    assert clipped["clipped"] == 1
    assert clipped["images"][0]["width"] == 40
    assert placed.exit_code == 0
    assert json.loads(placed.output)["classes"] == {"ship": 1}
    assert without.exit_code == 2
    assert "--image" in without.output


def test_missing_image_rejected(tmp_path: Path) -> None:
    path = tmp_path / "P1.txt"
    path.write_text(f"{BOX} plane 0\n", encoding="utf-8")

    result = _invoke("labels", "inspect", str(path), "--image", str(tmp_path / "none.tif"), "--json")

    assert result.exit_code == 2
    assert json.loads(result.output)["errors"][0]["message"] == "image not found"


def test_formats_lists_every_reader() -> None:
    result = _invoke("labels", "formats")

    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.output.splitlines() if line.strip()]
    assert listed == list(readers())


@pytest.mark.parametrize("flag", [[], ["--json"]])
def test_help_lists_options(flag: list[str]) -> None:
    result = _invoke("labels", "inspect", "--help", *flag)

    assert result.exit_code == 0
    for option in ("--format", "--image", "--json", "--class-map", "--class-property", "--default-class", "--names"):
        assert option in result.output
