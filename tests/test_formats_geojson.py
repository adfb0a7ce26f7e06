"""GeoJSON reader: CRS handling against real GeoTIFFs written by rasterio."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import Affine
from rasterio.warp import transform as warp_transform

from lrsgro.errors import LabelFormatError
from lrsgro.formats import read_labels
from lrsgro.formats.base import ReadContext, read_image_header

UTM_CRS = "EPSG:32616"
UTM_TRANSFORM = Affine(0.5, 0.0, 733601.0, 0.0, -0.5, 3725139.0)
WIDTH, HEIGHT = 200, 120


@pytest.fixture()
def utm_tif(tmp_path: Path) -> Path:
    path = tmp_path / "scene.tif"
    pixels = np.random.default_rng(3).integers(0, 255, size=(1, HEIGHT, WIDTH), dtype=np.uint8)
    with rasterio.open(
        path, "w", driver="GTiff", width=WIDTH, height=HEIGHT, count=1, dtype="uint8", crs=UTM_CRS, transform=UTM_TRANSFORM
    ) as target:
        target.write(pixels)
    return path


def _to_lonlat(points: list[tuple[float, float]], height: float | None = None) -> list[list[float]]:
    """Map pixel corners to lon/lat with rasterio.warp.transform (not the reader's code path)."""
    xs, ys = zip(*(UTM_TRANSFORM * point for point in points))
    lons, lats = warp_transform(UTM_CRS, "EPSG:4326", list(xs), list(ys))
    ring = [[lon, lat] if height is None else [lon, lat, height] for lon, lat in zip(lons, lats)]
    return ring + [ring[0]]


def _to_utm(points: list[tuple[float, float]]) -> list[list[float]]:
    ring = [list(UTM_TRANSFORM * point) for point in points]
    return ring + [ring[0]]


def _feature(geometry: dict, **properties: object) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def _write(tmp_path: Path, features: list[dict], crs: dict | None = None) -> Path:
    data: dict = {"type": "FeatureCollection", "features": features}
    if crs is not None:
        data["crs"] = crs
    path = tmp_path / "labels.geojson"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _flat(points) -> list[float]:
    return [value for point in points for value in point]


OUTER = [(20.0, 10.0), (120.0, 10.0), (120.0, 90.0), (20.0, 90.0)]
HOLE = [(50.0, 30.0), (80.0, 30.0), (80.0, 60.0), (50.0, 60.0)]


def test_lonlat_labels_over_utm_raster(tmp_path: Path, utm_tif: Path) -> None:
    geometry = {"type": "Polygon", "coordinates": [_to_lonlat(OUTER, height=12.5), _to_lonlat(HOLE, height=12.5)]}
    path = _write(tmp_path, [_feature(geometry, **{"class": "building"})])

    format_name, images = read_labels(path, "auto", ReadContext(image_path=utm_tif))

    assert format_name == "geojson"
    labels = images[0]
    assert labels.image_id == "scene"
    assert (labels.width, labels.height) == (WIDTH, HEIGHT)
    assert labels.metadata["image_crs"] == UTM_CRS
    assert labels.gsd == 0.5
    obj = labels.objects[0]
    assert obj.category == "building"
    assert _flat(obj.polygon) == pytest.approx(_flat(OUTER), abs=1e-4)
    assert len(obj.holes) == 1
    assert _flat(obj.holes[0]) == pytest.approx(_flat(HOLE), abs=1e-4)
    assert obj.geometry.area == pytest.approx(100 * 80 - 30 * 30, rel=1e-6)


def test_projected_crs_member_skips_reprojection(tmp_path: Path, utm_tif: Path) -> None:
    geometry = {"type": "Polygon", "coordinates": [_to_utm(OUTER)]}
    for crs in (
        {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32616"}},
        {"type": "EPSG", "properties": {"code": 32616}},
    ):
        path = _write(tmp_path, [_feature(geometry, category="ship")], crs=crs)

        _, images = read_labels(path, "geojson", ReadContext(image_path=utm_tif))

        assert _flat(images[0].objects[0].polygon) == pytest.approx(_flat(OUTER), abs=1e-9)
        assert images[0].metadata["crs"] == UTM_CRS


def test_multipolygon_gives_one_object_per_part(tmp_path: Path, utm_tif: Path) -> None:
    second = [(140.0, 20.0), (180.0, 20.0), (180.0, 60.0)]
    geometry = {"type": "MultiPolygon", "coordinates": [[_to_lonlat(OUTER), _to_lonlat(HOLE)], [_to_lonlat(second)]]}
    path = _write(tmp_path, [_feature(geometry, label="farmland")])

    _, images = read_labels(path, "geojson", ReadContext(image_path=utm_tif))

    objects = images[0].objects
    assert len(objects) == 2
    assert [obj.attributes["part"] for obj in objects] == ["0", "1"]
    assert len(objects[0].holes) == 1
    assert objects[1].holes == ()
    assert _flat(objects[1].polygon) == pytest.approx(_flat(second), abs=1e-4)


def test_linestrings_skipped_and_counted(tmp_path: Path, utm_tif: Path) -> None:
    line = {"type": "LineString", "coordinates": [[-87.5, 33.6, 0.0], [-87.49, 33.61, 0.0]]}
    polygon = {"type": "Polygon", "coordinates": [_to_lonlat(OUTER)]}
    path = _write(tmp_path, [_feature(line, type="road"), _feature(polygon, type="road"), _feature(line, type="road")])

    _, images = read_labels(path, "geojson", ReadContext(image_path=utm_tif))

    labels = images[0]
    assert len(labels.objects) == 1
    assert labels.dropped == 2
    assert len(labels.warnings) == 1
    assert "2 LineString" in labels.warnings[0].message


def test_outside_raster_is_clipped(tmp_path: Path, utm_tif: Path) -> None:
    outside = [(150.0, 100.0), (260.0, 100.0), (260.0, 150.0), (150.0, 150.0)]
    path = _write(tmp_path, [_feature({"type": "Polygon", "coordinates": [_to_lonlat(outside)]}, name="tree")])

    _, images = read_labels(path, "geojson", ReadContext(image_path=utm_tif))

    labels = images[0]
    assert labels.clipped == 1
    assert labels.objects[0].bounds == pytest.approx((150.0, 100.0, WIDTH, HEIGHT), abs=1e-4)


def test_class_property_order_and_default(tmp_path: Path, utm_tif: Path) -> None:
    polygon = {"type": "Polygon", "coordinates": [_to_lonlat(OUTER)]}
    features = [
        _feature(polygon, name="harbor", label="ship", category=""),
        _feature(polygon, osm_id=5),
    ]
    path = _write(tmp_path, features)

    _, default_images = read_labels(path, "geojson", ReadContext(image_path=utm_tif))
    _, configured = read_labels(
        path, "geojson", ReadContext(image_path=utm_tif, class_properties=("name",), default_class="building")
    )

    assert [obj.category for obj in default_images[0].objects] == ["ship"]
    assert default_images[0].errors[0].line == 2
    assert [obj.category for obj in configured[0].objects] == ["harbor", "building"]
    assert configured[0].errors == []


def test_missing_image_tells_to_pass_image(tmp_path: Path) -> None:
    path = _write(tmp_path, [_feature({"type": "Polygon", "coordinates": [_to_lonlat(OUTER)]}, name="tree")])

    with pytest.raises(LabelFormatError) as caught:
        read_labels(path, "geojson")

    assert "--image" in (caught.value.fix or "")


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_image_without_georeference_rejected(tmp_path: Path) -> None:
    image = tmp_path / "plain.png"
    with rasterio.open(image, "w", driver="PNG", width=10, height=10, count=1, dtype="uint8") as target:
        target.write(np.zeros((1, 10, 10), dtype=np.uint8))
    path = _write(tmp_path, [_feature({"type": "Polygon", "coordinates": [_to_lonlat(OUTER)]}, name="tree")])

    with pytest.raises(LabelFormatError) as caught:
        read_labels(path, "geojson", ReadContext(image_path=image))

    assert "no CRS" in caught.value.reason


def test_image_header_reads_size_only(utm_tif: Path) -> None:
    header = read_image_header(utm_tif)

    assert (header.width, header.height) == (WIDTH, HEIGHT)
    assert header.crs.to_string() == UTM_CRS
    assert header.georeferenced is True
