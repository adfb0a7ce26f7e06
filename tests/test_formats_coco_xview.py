"""COCO / iSAID and xView JSON readers: many images per file."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from lrsgro.errors import LabelFormatError
from lrsgro.formats import detect_format, read_labels
from lrsgro.formats.base import ReadContext

ISAID_NAMES = ["storage_tank", "Large_Vehicle", "Small_Vehicle", "plane", "ship", "Harbor", "Bridge"]


def _write_json(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _coco(category_ids: dict[str, int], annotations: list[tuple[int, str, list]]) -> dict:
    """Build a COCO file; each annotation is (image id, class name, segmentation or bbox)."""
    records = []
    for number, (image_id, name, shape) in enumerate(annotations):
        record = {"id": number, "image_id": image_id, "category_id": category_ids[name], "iscrowd": 0}
        if shape and isinstance(shape[0], list):
            record["segmentation"] = shape
        else:
            record["bbox"] = shape
        records.append(record)
    return {
        "images": [
            {"id": 1, "file_name": "P0001.png", "width": 800, "height": 600},
            {"id": 2, "file_name": "P0002.png", "width": 800, "height": 600},
        ],
        "categories": [{"id": cid, "name": name} for name, cid in category_ids.items()],
        "annotations": records,
    }


def test_coco_category_ids_differ_between_files(tmp_path: Path) -> None:
    rng = random.Random(7)
    ids_a = {name: index + 1 for index, name in enumerate(ISAID_NAMES)}
    shuffled = ISAID_NAMES[:]
    rng.shuffle(shuffled)
    ids_b = {name: index + 20 for index, name in enumerate(shuffled)}
    annotations = [(1, name, [10.0 + i, 10.0, 30.0, 20.0]) for i, name in enumerate(ISAID_NAMES)]

    _, images_a = read_labels(_write_json(tmp_path, "a.json", _coco(ids_a, annotations)), "coco")
    _, images_b = read_labels(_write_json(tmp_path, "b.json", _coco(ids_b, annotations)), "coco")

    categories_a = [obj.category for obj in images_a[0].objects]
    categories_b = [obj.category for obj in images_b[0].objects]
    assert categories_a == categories_b
    assert categories_a == [
        "storage tank", "large vehicle", "small vehicle", "plane", "ship", "harbor", "bridge"
    ]  # fmt: skip


def test_coco_segmentation_bbox_and_empty_images(tmp_path: Path) -> None:
    ids = {"Small_Vehicle": 9, "ship": 5}
    annotations = [
        (1, "Small_Vehicle", [[10, 10, 40, 10, 40, 30, 10, 30]]),
        (1, "ship", [100.0, 200.0, 50.0, 25.0]),
    ]
    path = _write_json(tmp_path, "c.json", _coco(ids, annotations))

    format_name, images = read_labels(path)

    assert format_name == "coco"
    assert [labels.image_id for labels in images] == ["P0001", "P0002"]
    first, second = images
    assert first.objects[0].polygon == ((10.0, 10.0), (40.0, 10.0), (40.0, 30.0), (10.0, 30.0))
    assert first.objects[1].bounds == (100.0, 200.0, 150.0, 225.0)
    assert second.objects == []
    assert (first.width, first.height) == (800, 600)


def test_coco_multipart_rle_and_bad_records(tmp_path: Path) -> None:
    data = _coco({"ship": 1}, [])
    data["annotations"] = [
        {"id": 1, "image_id": 1, "category_id": 1, "segmentation": [[0, 0, 4, 0, 4, 4, 0, 4], [10, 10, 30, 10, 30, 30, 10, 30]]},
        {"id": 2, "image_id": 1, "category_id": 1, "segmentation": {"counts": "abc", "size": [600, 800]}, "bbox": [1, 2, 3, 4], "iscrowd": 1},
        {"id": 3, "image_id": 1, "category_id": 99, "bbox": [1, 2, 3, 4]},
        {"id": 4, "image_id": 77, "category_id": 1, "bbox": [1, 2, 3, 4]},
        {"id": 5, "image_id": 1, "category_id": 1},
    ]  # fmt: skip
    path = _write_json(tmp_path, "c.json", data)

    _, images = read_labels(path, "coco")

    first = images[0]
    assert first.objects[0].bounds == (10.0, 10.0, 30.0, 30.0)
    assert first.objects[1].bounds == (1.0, 2.0, 4.0, 6.0)
    assert first.objects[1].attributes["iscrowd"] == "1"
    assert len(first.warnings) == 2
    assert [issue.line for issue in first.errors] == [3, 5]
    orphans = [labels for labels in images if labels.image_id.endswith("unknown-image-77")]
    assert len(orphans) == 1
    assert orphans[0].errors[0].line == 4


def test_coco_truncated_json_names_line(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('{"images": [\n {"id": 1, "file_name": "a.png",\n', encoding="utf-8")

    with pytest.raises(LabelFormatError) as caught:
        read_labels(path, "coco")

    assert caught.value.line is not None
    assert caught.value.path == str(path)


def _xview_feature(image: str, bounds: str, type_id: int, **extra: object) -> dict:
    return {
        "type": "Feature",
        "properties": {"bounds_imcoords": bounds, "type_id": type_id, "image_id": image, **extra},
        "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [0, 0]]]},
    }


def test_xview_groups_by_image_and_maps_type_ids(tmp_path: Path) -> None:
    features = [
        _xview_feature("10.tif", "10,20,40,60", 18),
        _xview_feature("11.tif", "5,5,25,15", 44),
        _xview_feature("10.tif", "100,100,140,130", 73),
        _xview_feature("11.tif", "1,1,9,9", 75),
        _xview_feature("10.tif", "50,50,50,80", 91),
    ]
    path = _write_json(tmp_path, "xView_train.geojson", {"type": "FeatureCollection", "features": features})

    format_name, images = read_labels(path)

    assert format_name == "xview"
    by_id = {labels.image_id: labels for labels in images}
    assert list(by_id) == ["10", "11"]
    assert [(obj.category, obj.fine_category) for obj in by_id["10"].objects] == [
        ("vehicle", "small car"),
        ("building", None),
    ]
    assert by_id["10"].objects[0].bounds == (10.0, 20.0, 40.0, 60.0)
    assert by_id["10"].dropped == 1  # zero-width box
    assert [(obj.category, obj.fine_category) for obj in by_id["11"].objects] == [("ship", "tugboat")]
    assert by_id["11"].errors[0].value == "75"
    assert by_id["11"].errors[0].line == 4


def test_xview_eight_numbers_and_type_name(tmp_path: Path) -> None:
    feature = _xview_feature(
        "0.png",
        "2901.6,41.2,2931.0,32.2,2957.1,116.6,2927.6,125.6",
        4,
        type_name="maritime vessels",
    )
    path = _write_json(tmp_path, "dacon.json", {"features": [feature]})

    format_name, images = read_labels(path)

    assert format_name == "xview"
    obj = images[0].objects[0]
    assert obj.category == "ship"
    assert obj.polygon == ((2901.6, 41.2), (2931.0, 32.2), (2957.1, 116.6), (2927.6, 125.6))


def test_xview_image_size_applies_to_matching_image_only(tmp_path: Path) -> None:
    features = [_xview_feature("10.tif", "90,10,140,30", 18), _xview_feature("11.tif", "90,10,140,30", 18)]
    path = _write_json(tmp_path, "x.geojson", {"type": "FeatureCollection", "features": features})

    _, images = read_labels(path, "xview", ReadContext(image_size=(100, 100), image_path=tmp_path / "10.tif"))

    by_id = {labels.image_id: labels for labels in images}
    assert by_id["10"].objects[0].bounds == (90.0, 10.0, 100.0, 30.0)
    assert by_id["10"].clipped == 1
    assert by_id["11"].objects[0].bounds == (90.0, 10.0, 140.0, 30.0)


def test_xview_bad_bounds_and_missing_image(tmp_path: Path) -> None:
    features = [
        _xview_feature("10.tif", "1,2,3", 18),
        {"type": "Feature", "properties": {"bounds_imcoords": "1,2,3,4", "type_id": 18}, "geometry": None},
    ]
    path = _write_json(tmp_path, "x.geojson", {"type": "FeatureCollection", "features": features})

    _, images = read_labels(path, "xview")

    issues = [issue for labels in images for issue in labels.errors]
    assert sorted(issue.line for issue in issues) == [1, 2]
    assert all(labels.objects == [] for labels in images)


def test_xview_and_coco_sniff_apart_from_geojson(tmp_path: Path) -> None:
    xview = _write_json(tmp_path, "x.geojson", {"type": "FeatureCollection", "features": [_xview_feature("1.tif", "1,1,5,5", 18)]})
    coco = _write_json(tmp_path, "c.json", _coco({"ship": 1}, [(1, "ship", [1, 1, 5, 5])]))
    plain = _write_json(
        tmp_path,
        "g.geojson",
        {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"class": "ship"}, "geometry": None}]},
    )

    assert detect_format(xview)[0] == "xview"
    assert detect_format(coco)[0] == "coco"
    assert detect_format(plain)[0] == "geojson"
