"""YOLO-OBB reader: class-name files, image size, normalised coordinates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from lrsgro.errors import LabelFormatError
from lrsgro.formats import detect_format, read_labels
from lrsgro.formats.base import ReadContext

NAMES_YAML = "path: ../datasets/dota8\nnames:\n  0: plane\n  1: ship\n  2: storage tank\n  3: soccer ball field\n"
LINE = "1 0.1 0.2 0.5 0.2 0.5 0.6 0.1 0.6"


def _layout(tmp_path: Path, label_text: str) -> Path:
    """Write the Ultralytics layout: data.yaml at the root, labels/train/P0001.txt."""
    (tmp_path / "data.yaml").write_text(NAMES_YAML, encoding="utf-8")
    folder = tmp_path / "labels" / "train"
    folder.mkdir(parents=True)
    path = folder / "P0001.txt"
    path.write_text(label_text, encoding="utf-8")
    return path


def _flat(points) -> list[float]:
    return [value for point in points for value in point]


def test_yolo_obb_converts_by_width_and_height(tmp_path: Path) -> None:
    path = _layout(tmp_path, LINE + "\n3 0.9 0.9 1.05 0.9 1.05 1.0 0.9 1.0\n")

    format_name, images = read_labels(path, "auto", ReadContext(image_size=(1000, 500)))

    assert format_name == "yolo_obb"
    labels = images[0]
    assert [obj.category for obj in labels.objects] == ["ship", "soccer ball field"]
    assert _flat(labels.objects[0].polygon) == pytest.approx([100, 100, 500, 100, 500, 300, 100, 300])
    assert labels.clipped == 1
    assert labels.objects[1].bounds == pytest.approx((900.0, 450.0, 1000.0, 500.0))
    assert labels.metadata["names_file"].endswith("data.yaml")


def test_yolo_box_lines_and_classes_txt(tmp_path: Path) -> None:
    (tmp_path / "classes.txt").write_text("plane\nharbor\n", encoding="utf-8")
    path = tmp_path / "a.txt"
    path.write_text("1 0.5 0.5 0.2 0.4\n", encoding="utf-8")

    _, images = read_labels(path, "yolo_obb", ReadContext(image_size=(100, 200)))

    obj = images[0].objects[0]
    assert obj.category == "harbor"
    assert obj.bounds == pytest.approx((40.0, 60.0, 60.0, 140.0))


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_yolo_image_found_beside_labels(tmp_path: Path) -> None:
    path = _layout(tmp_path, LINE + "\n")
    images_folder = tmp_path / "images" / "train"
    images_folder.mkdir(parents=True)
    with rasterio.open(
        images_folder / "P0001.png", "w", driver="PNG", width=300, height=150, count=1, dtype="uint8"
    ) as target:
        target.write(np.zeros((1, 150, 300), dtype=np.uint8))

    _, images = read_labels(path, "yolo_obb")

    labels = images[0]
    assert (labels.width, labels.height) == (300, 150)
    assert _flat(labels.objects[0].polygon) == pytest.approx([30, 30, 150, 30, 150, 90, 30, 90])


def test_yolo_without_image_size_rejected_with_fix(tmp_path: Path) -> None:
    path = _layout(tmp_path, LINE + "\n")

    with pytest.raises(LabelFormatError) as caught:
        read_labels(path, "yolo_obb")

    assert "--image" in (caught.value.fix or "")


def test_yolo_without_names_rejected(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "b" / "c"
    folder.mkdir(parents=True)
    path = folder / "x.txt"
    path.write_text(LINE + "\n", encoding="utf-8")

    with pytest.raises(LabelFormatError) as caught:
        read_labels(path, "yolo_obb", ReadContext(image_size=(10, 10)))

    assert "class-name file" in caught.value.reason


def test_yolo_bad_lines_and_unknown_index(tmp_path: Path) -> None:
    path = _layout(tmp_path, "7 0.1 0.1 0.2 0.1 0.2 0.2 0.1 0.2\n1 0.1 0.1\nx 0.1 0.1 0.2 0.1 0.2 0.2 0.1 0.2\n" + LINE)

    _, images = read_labels(path, "yolo_obb", ReadContext(image_size=(100, 100)))

    labels = images[0]
    assert len(labels.objects) == 1
    assert [issue.line for issue in labels.errors] == [1, 2, 3]
    assert labels.errors[0].value == "7"


def test_yolo_empty_file_needs_nothing(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("", encoding="utf-8")

    _, images = read_labels(path, "yolo_obb")

    assert images[0].objects == []
    assert images[0].issues == []


def test_yolo_names_as_list_and_explicit_file(tmp_path: Path) -> None:
    names = tmp_path / "custom.yaml"
    names.write_text("names: [bridge, helicopter]\n", encoding="utf-8")
    path = tmp_path / "deep" / "x.txt"
    path.parent.mkdir()
    path.write_text("1 0.1 0.1 0.2 0.1 0.2 0.2 0.1 0.2\n", encoding="utf-8")

    _, images = read_labels(path, "yolo_obb", ReadContext(image_size=(100, 100), names_file=names))

    assert [obj.category for obj in images[0].objects] == ["helicopter"]


def test_yolo_sniff_not_dota(tmp_path: Path) -> None:
    yolo = tmp_path / "y.txt"
    yolo.write_text(LINE + "\n" + LINE + "\n", encoding="utf-8")
    dota = tmp_path / "d.txt"
    dota.write_text("10 10 50 10 50 40 10 40 plane 0\n", encoding="utf-8")

    assert detect_format(yolo)[0] == "yolo_obb"
    assert detect_format(dota)[0] == "dota"
