"""The demo scene generator: GeoTIFF layout, DOTA labels, painted colors, layout rules, determinism.

Scenes are generated at 2048 pixels (1024 where only metadata matters) to keep the suite fast; the
default 8192-pixel scene is measured by benchmarks/demo_scene.py instead.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from rasterio.enums import Resampling
from rasterio.features import rasterize
from rasterio.windows import Window
from shapely.geometry import Polygon

from lrsgro.demo import DemoScene, SceneTruth, generate_scene, generate_scenes, read_truth, season_of
from lrsgro.demo.scene import DATETIME_FORMAT
from lrsgro.errors import InputError
from lrsgro.formats import read_labels
from lrsgro.objects import ImageLabels
from lrsgro.vocab import load_yaml

SIZE = 2048
LABEL_LINE = re.compile(r"^(-?\d+\.\d (?:-?\d+\.\d ){7})([a-z-]+) ([01])$")


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> DemoScene:
    return generate_scene(tmp_path_factory.mktemp("demo"), seed=0, size=SIZE)


@pytest.fixture(scope="module")
def truth(scene: DemoScene) -> SceneTruth:
    return read_truth(scene.truth_path)


@pytest.fixture(scope="module")
def labels(scene: DemoScene) -> ImageLabels:
    name, images = read_labels(scene.labels_path)
    assert name == "dota"
    assert len(images) == 1
    return images[0]


def test_paths_follow_dota_layout(scene: DemoScene) -> None:
    root = scene.image_path.parents[1]

    assert scene.image_path == root / "images" / "lrsgro_demo_0.tif"
    assert scene.labels_path == root / "labelTxt" / "lrsgro_demo_0.txt"
    assert scene.truth_path == root / "truth" / "lrsgro_demo_0.json"
    assert scene.image_path.is_file()
    assert scene.labels_path.is_file()
    assert scene.truth_path.is_file()


def test_image_is_tiled_geotiff(scene: DemoScene) -> None:
    with rasterio.open(scene.image_path) as src:
        assert src.driver == "GTiff"
        assert (src.width, src.height, src.count) == (SIZE, SIZE, 3)
        assert src.dtypes == ("uint8", "uint8", "uint8")
        assert src.block_shapes == [(512, 512)] * 3
        structure = src.tags(ns="IMAGE_STRUCTURE")

    assert structure["COMPRESSION"] == "DEFLATE"
    assert structure["PREDICTOR"] == "2"


def test_image_has_average_overviews(scene: DemoScene) -> None:
    with rasterio.open(scene.image_path) as src:
        assert [src.overviews(band) for band in (1, 2, 3)] == [[2, 4, 8, 16, 32]] * 3
        full = src.read(window=Window(0, 0, 512, 512)).astype(float)
        half = src.read(
            window=Window(0, 0, 512, 512), out_shape=(3, 256, 256), resampling=Resampling.average
        ).astype(float)

    expected = full.reshape(3, 256, 2, 256, 2).mean(axis=(2, 4))
    assert np.abs(half - expected).max() <= 1.0


def test_image_is_georeferenced(scene: DemoScene) -> None:
    with rasterio.open(scene.image_path) as src:
        crs, transform = src.crs, src.transform

    assert crs.to_epsg() == int(scene.crs.split(":")[1])
    assert crs.is_projected
    assert transform.a == scene.gsd
    assert transform.e == -scene.gsd
    assert transform.b == 0.0
    assert transform.d == 0.0


def test_acquisition_date_in_tiff_tag(scene: DemoScene) -> None:
    with rasterio.open(scene.image_path) as src:
        stamp = src.tags()["TIFFTAG_DATETIME"]

    assert re.fullmatch(r"\d{4}:\d{2}:\d{2} \d{2}:\d{2}:\d{2}", stamp)
    assert datetime.strptime(stamp, DATETIME_FORMAT) == scene.acquired


def test_labels_read_without_issues(scene: DemoScene, labels: ImageLabels, truth: SceneTruth) -> None:
    assert labels.errors == []
    assert labels.warnings == []
    assert labels.dropped == 0
    assert labels.gsd == scene.gsd
    assert labels.image_source == "lrsgro-demo"
    assert len(labels.objects) == len(truth.objects) == scene.object_count


def test_labels_match_truth(labels: ImageLabels, truth: SceneTruth) -> None:
    for obj, expected in zip(labels.objects, truth.objects, strict=True):
        assert obj.line == expected.line
        assert obj.category == expected.category
        assert obj.difficult == expected.difficult
        assert list(obj.polygon) == expected.polygon


def test_label_lines_are_dota(scene: DemoScene) -> None:
    lines = scene.labels_path.read_text(encoding="utf-8").splitlines()

    assert lines[:2] == ["imagesource:lrsgro-demo", "gsd:0.5"]
    for line in lines[2:]:
        assert LABEL_LINE.match(line), line


def test_label_corners_run_clockwise(labels: ImageLabels) -> None:
    for obj in labels.objects:
        corners = list(obj.polygon)
        assert len(corners) == 4
        # With y pointing down, clockwise on screen is a positive shoelace sum.
        twice_area = sum(
            x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(corners, corners[1:] + corners[:1], strict=True)
        )
        assert twice_area > 0, obj.line


def test_several_classes_and_colors(truth: SceneTruth) -> None:
    classes = {obj.category for obj in truth.objects}
    vehicle_colors = {obj.color for obj in truth.objects if obj.category == "small vehicle"}

    assert {"small vehicle", "large vehicle", "ship", "plane", "storage tank", "tennis court"} <= classes
    assert {"swimming pool", "harbor", "roundabout", "bridge", "building"} <= classes
    assert len(vehicle_colors) >= 4
    assert 50 <= len(truth.objects) <= 600


def test_some_objects_difficult(truth: SceneTruth) -> None:
    difficult = [obj for obj in truth.objects if obj.difficult]

    assert 2 <= len(difficult) <= 0.1 * len(truth.objects)


def test_painted_colors_are_references(truth: SceneTruth) -> None:
    references = load_yaml("colors.yaml")["colors"]
    for obj in truth.objects:
        if obj.difficult:
            continue
        assert obj.color in references
        assert _nearest_color(obj.rgb, references) == obj.color, (obj.line, obj.rgb)


def test_pixels_inside_objects_show_painted_color(scene: DemoScene, truth: SceneTruth) -> None:
    references = load_yaml("colors.yaml")["colors"]
    with rasterio.open(scene.image_path) as src:
        for obj in truth.objects:
            mean = _mean_color(src, Polygon(obj.shape, holes=obj.shape_holes or None))
            assert np.abs(mean - np.array(obj.rgb)).max() <= 8, (obj.line, obj.category, obj.rgb, mean)
            if not obj.difficult:
                assert _nearest_color(tuple(mean), references) == obj.color, (obj.line, mean)


def test_shapes_inside_label_boxes(truth: SceneTruth) -> None:
    for obj in truth.objects:
        label = Polygon(obj.polygon).buffer(0.2)
        assert label.contains(Polygon(obj.shape)), (obj.line, obj.category)


def test_objects_do_not_overlap(labels: ImageLabels) -> None:
    polygons = [obj.geometry for obj in labels.objects]
    tree = shapely.STRtree(polygons)
    left, right = tree.query(polygons, predicate="intersects")

    pairs = [(labels.objects[a].line, labels.objects[b].line) for a, b in zip(left, right, strict=True) if a < b]
    assert pairs == []


def test_objects_inside_image(labels: ImageLabels) -> None:
    for obj in labels.objects:
        x0, y0, x1, y1 = obj.bounds
        assert x0 >= 0, obj.line
        assert y0 >= 0, obj.line
        assert x1 <= SIZE, obj.line
        assert y1 <= SIZE, obj.line


def test_ships_on_water_planes_at_airport(truth: SceneTruth) -> None:
    zones = {zone.name: shapely.from_wkt(zone.wkt).buffer(1.0) for zone in truth.zones}
    ships = [obj for obj in truth.objects if obj.category == "ship"]
    planes = [obj for obj in truth.objects if obj.category == "plane"]

    assert ships and planes
    for obj in ships:
        assert zones["water"].contains(Polygon(obj.polygon)), obj.line
    for obj in planes:
        assert zones["airport"].contains(Polygon(obj.polygon)), obj.line


def test_grid_cells_have_and_lack_classes(labels: ImageLabels) -> None:
    cells: dict[str, set[tuple[int, int]]] = defaultdict(set)
    third = SIZE / 3
    for obj in labels.objects:
        x, y = obj.centroid
        cells[obj.category].add((int(y // third), int(x // third)))

    for category in ("ship", "plane", "storage tank", "small vehicle"):
        assert 0 < len(cells[category]) < 9, (category, sorted(cells[category]))


def test_same_seed_same_scene(tmp_path: Path, scene: DemoScene) -> None:
    again = generate_scene(tmp_path, seed=0, size=SIZE)

    assert again.labels_path.read_bytes() == scene.labels_path.read_bytes()
    assert again.truth_path.read_bytes() == scene.truth_path.read_bytes()
    assert _pixel_digest(again.image_path) == _pixel_digest(scene.image_path)


def test_other_seed_other_scene(tmp_path: Path, scene: DemoScene) -> None:
    other = generate_scene(tmp_path, seed=5, size=SIZE)

    assert other.labels_path.read_bytes() != scene.labels_path.read_bytes()
    assert _pixel_digest(other.image_path) != _pixel_digest(scene.image_path)


def test_three_scenes_vary_season_and_hemisphere(tmp_path: Path) -> None:
    scenes = generate_scenes(tmp_path, seeds=(0, 1, 2), size=1024)

    assert [s.seed for s in scenes] == [0, 1, 2]
    assert len({s.image_path for s in scenes}) == 3
    assert len({s.season for s in scenes}) >= 2
    assert {s.hemisphere for s in scenes} == {"north", "south"}
    for s in scenes:
        with rasterio.open(s.image_path) as src:
            acquired = datetime.strptime(src.tags()["TIFFTAG_DATETIME"], DATETIME_FORMAT)
            north = src.crs.to_epsg() in range(32601, 32661)
        assert (s.hemisphere == "north") == north
        assert season_of(acquired.month, s.hemisphere) == s.season
        assert read_truth(s.truth_path).season == s.season


@pytest.mark.parametrize(
    ("month", "hemisphere", "season"),
    [
        (7, "north", "summer"),
        (1, "north", "winter"),
        (12, "north", "winter"),
        (4, "north", "spring"),
        (10, "north", "autumn"),
        (7, "south", "winter"),
        (1, "south", "summer"),
        (4, "south", "autumn"),
        (10, "south", "spring"),
    ],
)
def test_season_of_month(month: int, hemisphere: str, season: str) -> None:
    assert season_of(month, hemisphere) == season


@pytest.mark.parametrize(
    ("seed", "size", "message"),
    [
        (-1, 2048, "invalid demo seed -1"),
        (True, 2048, "invalid demo seed True"),
        (0, 512, "invalid demo scene size 512"),
        (0, 2048.0, "invalid demo scene size 2048.0"),
        (0, 16385, "invalid demo scene size 16385"),
    ],
)
def test_invalid_arguments_raise(tmp_path: Path, seed: object, size: object, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        generate_scene(tmp_path, seed=seed, size=size)  # type: ignore[arg-type]

    assert not (tmp_path / "images").exists()


def test_repeated_or_no_seeds_raise(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=re.escape("duplicate demo seeds: [1]")):
        generate_scenes(tmp_path, seeds=(1, 2, 1), size=1024)
    with pytest.raises(InputError, match="no seeds given"):
        generate_scenes(tmp_path, seeds=(), size=1024)

    assert not (tmp_path / "images").exists()


def _mean_color(src: rasterio.DatasetReader, shape: Polygon) -> np.ndarray:
    """Average the pixels whose centres fall inside ``shape`` (scene pixel coordinates)."""
    x0, y0, x1, y1 = shape.bounds
    col, row = int(x0), int(y0)
    window = Window(col, row, int(np.ceil(x1)) - col + 1, int(np.ceil(y1)) - row + 1)
    pixels = src.read(window=window)
    mask = rasterize(
        [(shape, 1)],
        out_shape=(int(window.height), int(window.width)),
        transform=Affine.translation(col, row),
        fill=0,
        dtype="uint8",
    ).astype(bool)
    assert mask.sum() >= 10
    return pixels[:, mask].mean(axis=1)


def _nearest_color(rgb: tuple[float, ...], references: dict[str, list[int]]) -> str:
    return min(references, key=lambda name: sum((a - b) ** 2 for a, b in zip(rgb, references[name], strict=True)))


def _pixel_digest(path: Path) -> str:
    with rasterio.open(path) as src:
        return hashlib.sha256(src.read().tobytes()).hexdigest()
