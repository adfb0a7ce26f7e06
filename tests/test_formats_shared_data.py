"""Every sample label file of the shared data, read and checked against an independent count."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import Affine, from_origin
from rasterio.warp import transform as warp_transform

from lrsgro.formats import read_labels
from lrsgro.formats.base import ReadContext, read_image_header
from lrsgro.formats.report import inspect_labels
from lrsgro.vocab import ClassInfo, load_classes

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
LABEL_FORMATS = SHARED / "label-formats"

DOTA_LINE = re.compile(r"^\s*(?:[-+]?\d+(?:\.\d+)?\s+){8}[A-Za-z]\S*(?:\s+[01])?\s*$")


@pytest.fixture(scope="module")
def samples() -> Path:
    if not LABEL_FORMATS.is_dir():
        pytest.skip(f"sample data not found at {SHARED}")
    return LABEL_FORMATS


def _count_dota_lines(path: Path) -> int:
    text = path.read_bytes().decode("utf-8-sig")
    return sum(1 for line in text.splitlines() if DOTA_LINE.match(line))


def _objects(images) -> int:
    return sum(len(labels.objects) for labels in images)


def _write_raster(path: Path, crs: str, transform: Affine, width: int, height: int) -> Path:
    with rasterio.open(
        path, "w", driver="GTiff", width=width, height=height, count=1, dtype="uint8", crs=crs, transform=transform
    ) as target:
        target.write(np.zeros((1, height, width), dtype=np.uint8))
    return path


def _raster_around(path: Path, lonlat: list[tuple[float, float]], crs: str, pixel: float, margin: float) -> Path:
    """Write a north-up raster in ``crs`` that covers the lon/lat points with a margin in metres."""
    xs, ys = warp_transform("EPSG:4326", crs, [p[0] for p in lonlat], [p[1] for p in lonlat])
    left, top = min(xs) - margin, max(ys) + margin
    width = int((max(xs) - min(xs) + 2 * margin) / pixel) + 1
    height = int((max(ys) - min(ys) + 2 * margin) / pixel) + 1
    return _write_raster(path, crs, from_origin(left, top, pixel, pixel), width, height)


def _geojson_points(data: dict) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []

    def walk(value: object) -> None:
        if isinstance(value, list) and value and isinstance(value[0], (int, float)):
            points.append((float(value[0]), float(value[1])))
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for feature in data["features"]:
        walk(feature["geometry"]["coordinates"])
    return points


def _polygon_parts(data: dict) -> tuple[int, int]:
    """Count polygon parts and features without an area."""
    parts = lines = 0
    for feature in data["features"]:
        kind = feature["geometry"]["type"]
        if kind == "Polygon":
            parts += 1
        elif kind == "MultiPolygon":
            parts += len(feature["geometry"]["coordinates"])
        else:
            lines += 1
    return parts, lines


@pytest.mark.parametrize(
    ("relative", "expected_format"),
    [
        ("dota_v1.0/P1088.txt", "dota"),
        ("dota_v1.0/P1234.txt", "dota"),
        ("dota_v1.0/P0000_head.txt", "dota"),
        ("dota_v1.5/P0000_head.txt", "dota"),
        ("dota_v1.5/P0032.txt", "dota"),
        ("dota_v2.0/P0000_excerpt.txt", "dota"),
        ("star/1200.txt", "star"),
        ("star/0910.txt", "star"),
    ],
)
def test_dota_and_star_samples(samples: Path, relative: str, expected_format: str) -> None:
    path = samples / relative

    format_name, images = read_labels(path)

    assert format_name == expected_format
    assert _objects(images) == _count_dota_lines(path)
    assert images[0].errors == []


def test_dota_headers_kept(samples: Path) -> None:
    _, images = read_labels(samples / "dota_v1.0" / "P1234.txt")

    labels = images[0]
    assert labels.image_source == "GF"
    assert labels.gsd == 1.0
    expected_difficult = sum(1 for line in (samples / "dota_v1.0" / "P1234.txt").read_text().splitlines() if line.rstrip().endswith(" 1"))
    assert sum(obj.difficult for obj in labels.objects) == expected_difficult


def test_star_sample_with_shared_class_name(samples: Path) -> None:
    # 1147.txt contains only "bridge", which DOTA spells the same way, so only --format selects STAR.
    path = samples / "star" / "1147.txt"

    _, images = read_labels(path, "star")

    assert [(obj.category, obj.fine_category) for obj in images[0].objects] == [("road", "bridge")]


def test_real_dota_folder(samples: Path) -> None:
    for path in sorted((SHARED / "dota" / "labelTxt").glob("*.txt")):
        image = SHARED / "dota" / "images" / f"{path.stem}.png"
        context = ReadContext()
        if image.is_file():
            header = read_image_header(image)
            context = ReadContext(image_size=(header.width, header.height), image_path=image)

        format_name, images = read_labels(path, "auto", context)

        assert format_name == "dota"
        labels = images[0]
        assert len(labels.objects) + labels.dropped == _count_dota_lines(path)
        assert labels.errors == []
        assert labels.gsd is not None


@pytest.mark.parametrize(("relative", "clipped"), [("fair1m/2338.xml", 0), ("fair1m/15565.xml", 1)])
def test_fair1m_samples(samples: Path, relative: str, clipped: int) -> None:
    path = samples / relative

    format_name, images = read_labels(path)

    assert format_name == "fair1m"
    assert _objects(images) == path.read_text().count("<object>")
    assert images[0].clipped == clipped
    assert all(obj.fine_category for obj in images[0].objects)


@pytest.mark.parametrize("relative", ["dior/00001_obb.xml", "dior/hbb_structure_example.xml"])
def test_dior_samples(samples: Path, relative: str) -> None:
    path = samples / relative

    format_name, images = read_labels(path)

    assert format_name == "dior"
    assert _objects(images) == path.read_text().count("<object>")
    assert images[0].errors == []


@pytest.mark.parametrize("relative", ["isaid_coco/iSAID_patches_excerpt_issue14.json", "isaid_coco/iSAID_train_categories_issue35.json"])
def test_coco_samples(samples: Path, relative: str) -> None:
    path = samples / relative
    data = json.loads(path.read_text())

    format_name, images = read_labels(path)

    assert format_name == "coco"
    assert _objects(images) == len(data.get("annotations", []))
    assert len(images) == len(data.get("images", []))


@pytest.mark.parametrize("relative", ["xview/xView_train_excerpt.geojson", "xview/xview_style_obb_dacon_excerpt.json"])
def test_xview_samples(samples: Path, relative: str) -> None:
    path = samples / relative
    data = json.loads(path.read_text())

    format_name, images = read_labels(path)

    assert format_name == "xview"
    assert _objects(images) == len(data["features"])
    assert len(images) == len({feature["properties"]["image_id"] for feature in data["features"]})


def test_label_studio_samples(samples: Path) -> None:
    vocabulary = load_classes().extended({"butterfly": ClassInfo("butterfly")})
    for relative in ("label_studio/export_rectanglelabels_rotation.json", "label_studio/export_polygonlabels.json"):
        path = samples / relative
        tasks = json.loads(path.read_text())
        regions = sum(
            1
            for task in tasks
            for item in task["annotations"][-1]["result"]
            if item["type"] in ("rectanglelabels", "polygonlabels")
        )

        format_name, images = read_labels(path, "auto", ReadContext(vocabulary=vocabulary))

        assert format_name == "label_studio"
        assert _objects(images) == regions
        assert len(images) == len(tasks)


def test_label_studio_rotation_sample_geometry(samples: Path) -> None:
    vocabulary = load_classes().extended({"butterfly": ClassInfo("butterfly")})
    path = samples / "label_studio" / "export_rectanglelabels_rotation.json"
    value = json.loads(path.read_text())[0]["annotations"][0]["result"][1]["value"]

    _, images = read_labels(path, "label_studio", ReadContext(vocabulary=vocabulary))

    obj = images[0].objects[1]
    assert obj.geometry.area == pytest.approx(value["width"] / 100 * 597 * value["height"] / 100 * 768)
    assert obj.polygon[0] == pytest.approx((value["x"] / 100 * 597, value["y"] / 100 * 768))


@pytest.mark.parametrize(
    "relative", ["lrs_gro/lrs_gro_rl_excerpt.jsonl", "lrs_gro/lrs_gro_sft_excerpt.jsonl", "lrs_gro/lrs_vqa_excerpt.jsonl"]
)
def test_lrs_question_samples(samples: Path, relative: str) -> None:
    path = samples / relative
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    distinct_boxes = set()
    for record in records:
        box = record.get("rbox") or record.get("hbox") or record.get("bbox")
        if box:
            image = record.get("image_name") or record["image"].rsplit("/", 1)[-1]
            distinct_boxes.add((image, tuple(box)))

    format_name, images = read_labels(path)

    assert format_name == "lrs_jsonl"
    assert _objects(images) == len(distinct_boxes)
    assert sum(int(labels.metadata["records"]) for labels in images) == len(records)
    assert all(labels.errors == [] for labels in images)


def test_yolo_sample(samples: Path) -> None:
    path = samples / "yolo_obb" / "P0000_docs_example.txt"
    lines = [line for line in path.read_text().splitlines() if line.strip()]

    format_name, images = read_labels(path, "auto", ReadContext(image_size=(1024, 1024)))

    assert format_name == "yolo_obb"
    assert _objects(images) == len(lines)
    first = [float(value) for value in lines[0].split()[1:3]]
    assert images[0].objects[0].polygon[0] == pytest.approx((first[0] * 1024, first[1] * 1024))


def test_geojson_utm_sample(samples: Path, tmp_path: Path) -> None:
    path = samples / "geojson_4326" / "utm32616_labels_excerpt.geojson"
    recorded = json.loads((samples / "geojson_4326" / "utm32616_sample_geotiff.geotransform.json").read_text())
    x0, dx, _, y0, _, dy = recorded["gdal_geotransform"]
    image = _write_raster(
        tmp_path / "sample_geotiff.tif", "EPSG:32616", Affine(dx, 0.0, x0, 0.0, dy, y0), recorded["width"], recorded["height"]
    )
    data = json.loads(path.read_text())
    parts, _ = _polygon_parts(data)

    _, images = read_labels(path, "geojson", ReadContext(image_path=image, class_properties=(), default_class="building"))

    labels = images[0]
    assert len(labels.objects) == parts
    first = data["features"][0]["geometry"]["coordinates"][0][0]
    assert labels.objects[0].polygon[0] == pytest.approx(((first[0] - x0) / dx, (first[1] - y0) / dy))


@pytest.mark.parametrize(
    ("relative", "crs", "pixel", "context"),
    [
        ("rareplanes_style_crs84_excerpt.geojson", "EPSG:32631", 0.3, {"class_properties": ("pnp",)}),
        ("nebraska_multipolygon_crs84_excerpt.geojson", "EPSG:32614", 5.0, {"default_class": "farmland"}),
        ("spacenet_roads_linestring_excerpt.geojson", "EPSG:32611", 1.0, {"class_properties": ("road_type",)}),
    ],
)
def test_geojson_lonlat_samples(samples: Path, tmp_path: Path, relative: str, crs: str, pixel: float, context: dict) -> None:
    path = samples / "geojson_4326" / relative
    data = json.loads(path.read_text())
    image = _raster_around(tmp_path / "scene.tif", _geojson_points(data), crs, pixel, margin=20.0)
    parts, without_area = _polygon_parts(data)

    _, images = read_labels(path, "geojson", ReadContext(image_path=image, **context))

    labels = images[0]
    assert len(labels.objects) == parts
    assert labels.dropped == without_area
    assert labels.clipped == 0
    assert labels.errors == []


def test_geojson_matches_xview_pixel_boxes(samples: Path, tmp_path: Path) -> None:
    # xView features carry the same box in lon/lat and in pixels; the estimated geotransform of
    # their image ties the two to within 0.25 px.
    xview = json.loads((samples / "xview" / "xView_train_excerpt.geojson").read_text())
    fit = json.loads((samples / "geojson_4326" / "xview_2355_geotransform.ESTIMATED.json").read_text())
    x0, dx, _, y0, _, dy = fit["gdal_geotransform_estimate"]
    image = _write_raster(tmp_path / "2355.tif", "EPSG:4326", Affine(dx, 0.0, x0, 0.0, dy, y0), 3000, 3000)
    labels_path = tmp_path / "2355.geojson"
    features = [{"type": "Feature", "properties": {"class": "building"}, "geometry": f["geometry"]} for f in xview["features"]]
    labels_path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")

    _, images = read_labels(labels_path, "geojson", ReadContext(image_path=image))

    for obj, feature in zip(images[0].objects, xview["features"], strict=True):
        expected = [float(v) for v in feature["properties"]["bounds_imcoords"].split(",")]
        assert obj.bounds == pytest.approx(tuple(expected), abs=0.5)


def test_every_sample_file_inspects_without_crash(samples: Path) -> None:
    for path in sorted(p for p in samples.rglob("*") if p.is_file()):
        report = inspect_labels(path)

        assert report.status in ("read", "rejected"), path
        if report.status == "rejected":
            assert report.rejection is not None, path
