"""DOTA and STAR text readers: the defects real files have, and telling the two apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from lrsgro.formats import detect_format, read_labels
from lrsgro.formats.base import ReadContext

BOX = "10 10 50 10 50 40 10 40"


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def _read(path: Path, format: str = "dota", **context: object):
    name, images = read_labels(path, format, ReadContext(**context))
    assert len(images) == 1
    return name, images[0]


def test_dota_header_in_middle_of_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "P0001.txt",
        f"{BOX} plane 0\nimagesource:GoogleEarth\ngsd:0.25\n{BOX} ship 1\n",
    )

    _, labels = _read(path)

    assert [obj.category for obj in labels.objects] == ["plane", "ship"]
    assert labels.image_source == "GoogleEarth"
    assert labels.gsd == 0.25
    assert labels.objects[1].difficult is True
    assert labels.issues == []


def test_dota_gsd_null_and_no_header(tmp_path: Path) -> None:
    with_null = _write(tmp_path, "a.txt", f"imagesource:GF\ngsd:null\n{BOX} bridge 0\n")
    without = _write(tmp_path, "b.txt", f"{BOX} bridge 0\n")

    _, labels_null = _read(with_null)
    _, labels_none = _read(without)

    assert labels_null.gsd is None
    assert labels_null.image_source == "GF"
    assert len(labels_null.objects) == 1
    assert labels_none.gsd is None
    assert labels_none.image_source is None
    assert len(labels_none.objects) == 1


def test_dota_bad_gsd_is_a_warning(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.txt", f"gsd:abc\n{BOX} plane 0\n")

    _, labels = _read(path)

    assert labels.gsd is None
    assert len(labels.objects) == 1
    assert [issue.line for issue in labels.warnings] == [1]


def test_dota_exactly_one_object(tmp_path: Path) -> None:
    path = _write(tmp_path, "one.txt", f"{BOX} plane 0")

    _, labels = _read(path)

    assert len(labels.objects) == 1
    assert labels.objects[0].polygon == ((10.0, 10.0), (50.0, 10.0), (50.0, 40.0), (10.0, 40.0))
    assert labels.objects[0].id == "one/0"


def test_dota_empty_file_is_an_image_without_objects(tmp_path: Path) -> None:
    path = _write(tmp_path, "empty.txt", "")

    name, labels = _read(path, "auto")

    assert name == "dota"
    assert labels.objects == []
    assert labels.issues == []
    assert labels.dropped == 0


def test_dota_bom_and_crlf(tmp_path: Path) -> None:
    path = _write(tmp_path, "bom.txt", b"\xef\xbb\xbfimagesource:GoogleEarth\r\ngsd:0.5\r\n" + f"{BOX} plane 0\r\n".encode())

    name, labels = _read(path, "auto")

    assert name == "dota"
    assert labels.image_source == "GoogleEarth"
    assert labels.gsd == 0.5
    assert [obj.category for obj in labels.objects] == ["plane"]
    assert labels.objects[0].line == 3


def test_dota_coordinates_outside_image_are_clipped(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.txt", "-5 10 120 10 120 40 -5 40 plane 0\n10 10 50 10 50 40 10 40 ship 0\n")

    _, labels = _read(path, image_size=(100, 80))

    assert labels.clipped == 1
    assert labels.objects[0].bounds == (0.0, 10.0, 100.0, 40.0)
    assert labels.objects[1].bounds == (10.0, 10.0, 50.0, 40.0)
    assert len(labels.warnings) == 1
    assert labels.warnings[0].line == 1


def test_dota_no_clipping_without_image_size(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.txt", "-5 10 120 10 120 40 -5 40 plane 0\n")

    _, labels = _read(path)

    assert labels.clipped == 0
    assert labels.objects[0].bounds == (-5.0, 10.0, 120.0, 40.0)


def test_dota_zero_area_and_degenerate_polygons_dropped(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "z.txt",
        "0 0 10 0 20 0 30 0 plane 0\n"  # collinear: zero area
        "5 5 5 5 5 5 9 9 plane 0\n"  # two distinct points
        f"{BOX} plane 0\n",
    )

    _, labels = _read(path)

    assert len(labels.objects) == 1
    assert labels.dropped == 2
    assert sorted(issue.line for issue in labels.warnings) == [1, 2]
    assert all(issue.severity == "warning" for issue in labels.issues)


def test_dota_polygon_becomes_degenerate_after_clipping(tmp_path: Path) -> None:
    path = _write(tmp_path, "z.txt", "120 10 150 10 150 40 120 40 plane 0\n")

    _, labels = _read(path, image_size=(100, 100))

    assert labels.objects == []
    assert labels.dropped == 1
    assert labels.clipped == 1


@pytest.mark.parametrize(
    "spelling",
    ["soccer-ball-field", "soccer ball field", "Soccer_Ball_Field", "SOCCER-BALL-FIELD", "soccerballfield"],
)
def test_dota_class_spellings_resolve(tmp_path: Path, spelling: str) -> None:
    path = _write(tmp_path, "s.txt", f"{BOX} {spelling} 0\n")

    _, labels = _read(path)

    assert [obj.category for obj in labels.objects] == ["soccer ball field"]
    assert labels.issues == []


def test_dota_unknown_class_rejected_by_name(tmp_path: Path) -> None:
    path = _write(tmp_path, "u.txt", f"{BOX} flying-saucer 0\n{BOX} plane 0\n")

    _, labels = _read(path)

    assert [obj.category for obj in labels.objects] == ["plane"]
    assert labels.dropped == 1
    assert len(labels.errors) == 1
    assert labels.errors[0].value == "flying-saucer"
    assert labels.errors[0].line == 1


def test_dota_class_map_matches_any_spelling(tmp_path: Path) -> None:
    path = _write(tmp_path, "u.txt", f"{BOX} Flying_Saucer 0\n")

    _, labels = _read(path, class_map={"flying saucer": "plane"})

    assert [obj.category for obj in labels.objects] == ["plane"]
    assert labels.errors == []


def test_dota_malformed_lines_are_errors(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "m.txt",
        "10 10 50 10 50 40 plane 0\n"  # six numbers
        f"{BOX} plane 2\n"  # difficult not 0/1
        f"{BOX} plane\n",  # no difficult: read as 0
    )

    _, labels = _read(path)

    assert len(labels.objects) == 1
    assert labels.objects[0].difficult is False
    assert sorted(issue.line for issue in labels.errors) == [1, 2]
    assert labels.dropped == 2


def test_dota_class_name_with_spaces(tmp_path: Path) -> None:
    path = _write(tmp_path, "f.txt", f"{BOX} Small Car 1\n{BOX} Boeing737 0\n")

    _, labels = _read(path)

    assert [obj.category for obj in labels.objects] == ["small car", "boeing 737"]
    assert labels.objects[0].difficult is True


def test_star_sniffed_by_underscore_names(tmp_path: Path) -> None:
    star = _write(tmp_path, "1200.txt", f"{BOX} wind_mill 0\n{BOX} ship 0\n")
    dota = _write(tmp_path, "P1.txt", f"{BOX} small-vehicle 0\n{BOX} ship 0\n")

    assert detect_format(star)[0] == "star"
    assert detect_format(dota)[0] == "dota"


def test_star_keeps_fine_classes(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "0910.txt",
        f"{BOX} boat 0\n{BOX} tower_crane 0\n{BOX} car_parking 1\n{BOX} runway 0\n{BOX} ship 0\n",
    )

    name, labels = _read(path, "auto")

    assert name == "star"
    found = [(obj.category, obj.fine_category) for obj in labels.objects]
    assert found == [
        ("ship", "boat"),
        ("crane", "tower crane"),
        ("parking lot", "car parking"),
        ("runway", None),
        ("ship", None),
    ]
    assert labels.objects[2].difficult is True


def test_dota_reader_keeps_coarse_classes(tmp_path: Path) -> None:
    path = _write(tmp_path, "P2.txt", f"{BOX} basketball-court 0\n{BOX} bridge 0\n")

    _, labels = _read(path)

    assert [(obj.category, obj.fine_category) for obj in labels.objects] == [
        ("basketball court", None),
        ("bridge", None),
    ]
