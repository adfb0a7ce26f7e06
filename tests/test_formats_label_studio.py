"""Label Studio export reader: percent coordinates, rotation, skipped result types."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from lrsgro.formats import detect_format, read_labels
from lrsgro.formats.base import ReadContext
from lrsgro.formats.label_studio import rectangle_corners


def _result(kind: str, value: dict, width: int, height: int, result_id: str = "r1") -> dict:
    return {
        "id": result_id,
        "type": kind,
        "from_name": "label",
        "to_name": "image",
        "original_width": width,
        "original_height": height,
        "image_rotation": 0,
        "value": value,
    }


def _export(tmp_path: Path, results: list[dict], image: str = "/data/local-files/?d=uhr/scene_001.png", **data: object) -> Path:
    task = {
        "id": 5,
        "data": {"image": image, **data},
        "annotations": [{"id": 9, "result": results, "was_cancelled": False, "ground_truth": False}],
    }
    path = tmp_path / "export.json"
    path.write_text(json.dumps([task]), encoding="utf-8")
    return path


def _flat(points) -> list[float]:
    return [value for point in points for value in point]


def _side_lengths(polygon: tuple[tuple[float, float], ...]) -> list[float]:
    return [math.dist(polygon[i], polygon[(i + 1) % 4]) for i in range(4)]


def test_rectangle_without_rotation_key(tmp_path: Path) -> None:
    value = {"x": 10.0, "y": 20.0, "width": 30.0, "height": 40.0, "rectanglelabels": ["Ship"]}
    path = _export(tmp_path, [_result("rectanglelabels", value, 2000, 1000)])

    format_name, images = read_labels(path)

    assert format_name == "label_studio"
    labels = images[0]
    assert labels.image_id == "scene_001"
    assert labels.image_name == "scene_001.png"
    obj = labels.objects[0]
    assert obj.category == "ship"
    assert _flat(obj.polygon) == pytest.approx(_flat(((200.0, 200.0), (800.0, 200.0), (800.0, 600.0), (200.0, 600.0))))


def test_rotated_rectangle_on_non_square_image(tmp_path: Path) -> None:
    width, height = 2000, 500
    value = {"x": 50.0, "y": 40.0, "width": 10.0, "height": 20.0, "rotation": 90.0, "rectanglelabels": ["plane"]}
    path = _export(tmp_path, [_result("rectanglelabels", value, width, height)])

    _, images = read_labels(path, "label_studio")

    polygon = images[0].objects[0].polygon
    box_width, box_height = 0.10 * width, 0.20 * height  # 200 px by 100 px
    # Rotating 90 degrees clockwise around the top-left corner (1000, 200) turns the top edge
    # downwards and the left edge to the left.
    expected = [
        (1000.0, 200.0),
        (1000.0, 200.0 + box_width),
        (1000.0 - box_height, 200.0 + box_width),
        (1000.0 - box_height, 200.0),
    ]
    assert _flat(polygon) == pytest.approx(_flat(expected), abs=1e-9)


@pytest.mark.parametrize("rotation", [17.0, 43.67748910099408, 328.33240366032836])
def test_rotated_rectangle_stays_a_rectangle(rotation: float) -> None:
    width, height = 597, 768
    value = {"x": 16.8, "y": 57.4, "width": 18.2, "height": 6.3, "rotation": rotation}

    polygon = tuple(rectangle_corners(value, width, height))

    sides = _side_lengths(polygon)
    assert sides[0] == pytest.approx(0.182 * width)
    assert sides[1] == pytest.approx(0.063 * height)
    assert sides[2] == pytest.approx(sides[0])
    assert sides[3] == pytest.approx(sides[1])
    ax, ay = polygon[1][0] - polygon[0][0], polygon[1][1] - polygon[0][1]
    bx, by = polygon[3][0] - polygon[0][0], polygon[3][1] - polygon[0][1]
    assert ax * bx + ay * by == pytest.approx(0.0, abs=1e-6)
    assert polygon[0] == pytest.approx((0.168 * width, 0.574 * height))
    assert math.degrees(math.atan2(ay, ax)) % 360 == pytest.approx(rotation % 360)


def test_polygon_labels_and_skipped_results(tmp_path: Path) -> None:
    polygon = {"points": [[10, 10], [50, 10], [50, 50]], "polygonlabels": ["Harbor"]}
    choices = {"points": [[10, 10], [50, 10], [50, 50]], "choices": ["uncertain"]}
    text = {"text": ["a harbour"]}
    path = _export(
        tmp_path,
        [
            _result("polygonlabels", polygon, 640, 426, "p1"),
            _result("choices", choices, 640, 426, "p1"),
            _result("textarea", text, 640, 426, "t1"),
        ],
    )

    _, images = read_labels(path, "label_studio")

    labels = images[0]
    assert len(labels.objects) == 1
    assert _flat(labels.objects[0].polygon) == pytest.approx([64.0, 42.6, 320.0, 42.6, 320.0, 213.0])
    assert labels.metadata["skipped_results"] == "choices=1, textarea=1"
    assert labels.dropped == 0
    assert len(labels.warnings) == 1


def test_data_image_size_beats_preview_size(tmp_path: Path) -> None:
    value = {"x": 50.0, "y": 50.0, "width": 10.0, "height": 10.0, "rotation": 0, "rectanglelabels": ["ship"]}
    path = _export(tmp_path, [_result("rectanglelabels", value, 2000, 1500)], image_size=[20000, 15000])

    _, images = read_labels(path, "label_studio")

    assert images[0].objects[0].bounds == pytest.approx((10000.0, 7500.0, 12000.0, 9000.0))


def test_rectangle_with_separate_labels_result(tmp_path: Path) -> None:
    box = _result("rectangle", {"x": 0, "y": 0, "width": 10, "height": 10}, 100, 100, "b1")
    label = _result("labels", {"labels": ["bridge"]}, 100, 100, "b1")
    path = _export(tmp_path, [box, label])

    _, images = read_labels(path, "label_studio")

    assert [obj.category for obj in images[0].objects] == ["bridge"]
    assert images[0].warnings == []


def test_unknown_label_and_cancelled_annotation(tmp_path: Path) -> None:
    good = _result("rectanglelabels", {"x": 1, "y": 1, "width": 5, "height": 5, "rectanglelabels": ["ship"]}, 100, 100)
    bad = _result("rectanglelabels", {"x": 1, "y": 1, "width": 5, "height": 5, "rectanglelabels": ["Butterfly"]}, 100, 100)
    task = {
        "id": 1,
        "data": {"image": "/image1"},
        "annotations": [
            {"id": 1, "result": [good, bad], "was_cancelled": False},
            {"id": 2, "result": [good, good, good], "was_cancelled": True},
        ],
    }
    path = tmp_path / "e.json"
    path.write_text(json.dumps([task]), encoding="utf-8")

    _, images = read_labels(path, "label_studio")

    labels = images[0]
    assert labels.image_id == "image1"
    assert len(labels.objects) == 1
    assert labels.errors[0].value == "Butterfly"
    assert labels.warnings == []


def test_vocabulary_extension_accepts_new_class(tmp_path: Path) -> None:
    from lrsgro.vocab import ClassInfo, load_classes

    value = {"x": 1, "y": 1, "width": 5, "height": 5, "rectanglelabels": ["Butterfly"]}
    path = _export(tmp_path, [_result("rectanglelabels", value, 100, 100)])
    context = ReadContext(vocabulary=load_classes().extended({"butterfly": ClassInfo("butterfly")}))

    _, images = read_labels(path, "label_studio", context)

    assert [obj.category for obj in images[0].objects] == ["butterfly"]


def test_sniff_label_studio(tmp_path: Path) -> None:
    value = {"x": 1, "y": 1, "width": 5, "height": 5, "rectanglelabels": ["ship"]}
    path = _export(tmp_path, [_result("rectanglelabels", value, 100, 100)])

    assert detect_format(path)[0] == "label_studio"
