"""FAIR1M and DIOR XML readers."""

from __future__ import annotations

from pathlib import Path

import pytest

from lrsgro.errors import LabelFormatError
from lrsgro.formats import detect_format, read_labels
from lrsgro.formats.base import ReadContext


def _fair1m(objects: list[tuple[str, list[tuple[float, float]]]], width: int = 1000, height: int = 800) -> str:
    parts = []
    for name, points in objects:
        point_xml = "".join(f"<point>{x:.6f},{y:.6f}</point>" for x, y in [*points, points[0]])
        parts.append(
            "<object><coordinate>pixel</coordinate><type>rectangle</type><description>None</description>"
            f"<possibleresult><name>{name}</name></possibleresult><points>{point_xml}</points></object>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<annotation><source><filename>77.tif</filename>'
        "<origin>GF2/GF3</origin></source><research><version>1.0</version><pluginname>FAIR1M</pluginname>"
        f"</research><size><width>{width}</width><height>{height}</height><depth>3</depth></size>"
        f"<objects>{''.join(parts)}</objects></annotation>\n"
    )


def _dior(objects: list[str], filename: str = "00042.jpg") -> str:
    return (
        f"<annotation><filename>{filename}</filename><size><width>800</width><height>800</height>"
        f"<depth>3</depth></size>{''.join(objects)}</annotation>"
    )


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


SQUARE = [(10.0, 10.0), (60.0, 10.0), (60.0, 50.0), (10.0, 50.0)]


def test_fair1m_parents_and_fine_classes(tmp_path: Path) -> None:
    names = ["Boeing737", "Small Car", "Football Field", "Bridge", "other-ship", "Liquid Cargo Ship"]
    path = _write(tmp_path, "77.xml", _fair1m([(name, SQUARE) for name in names]))

    format_name, images = read_labels(path)

    assert format_name == "fair1m"
    labels = images[0]
    assert labels.image_id == "77"
    assert labels.image_name == "77.tif"
    assert (labels.width, labels.height) == (1000, 800)
    assert [(obj.category, obj.fine_category) for obj in labels.objects] == [
        ("plane", "boeing 737"),
        ("vehicle", "small car"),
        ("court", "soccer ball field"),
        ("road", "bridge"),
        ("ship", "other ship"),
        ("ship", "liquid cargo ship"),
    ]


def test_fair1m_closed_ring_loses_closing_point(tmp_path: Path) -> None:
    path = _write(tmp_path, "77.xml", _fair1m([("Bus", SQUARE)]))

    _, images = read_labels(path, "fair1m")

    assert images[0].objects[0].polygon == tuple(SQUARE)


def test_fair1m_clips_to_size_in_file(tmp_path: Path) -> None:
    outside = [(900.0, 700.0), (1100.0, 700.0), (1100.0, 850.0), (900.0, 850.0)]
    path = _write(tmp_path, "77.xml", _fair1m([("Van", outside), ("Van", SQUARE)]))

    _, images = read_labels(path, "fair1m")

    labels = images[0]
    assert labels.clipped == 1
    assert labels.objects[0].bounds == (900.0, 700.0, 1000.0, 800.0)


def test_fair1m_image_size_wins_over_file_size(tmp_path: Path) -> None:
    path = _write(tmp_path, "77.xml", _fair1m([("Van", SQUARE)]))

    _, images = read_labels(path, "fair1m", ReadContext(image_size=(40, 40)))

    labels = images[0]
    assert labels.objects[0].bounds == (10.0, 10.0, 40.0, 40.0)
    assert (labels.width, labels.height) == (40, 40)
    assert any("image size" in issue.message for issue in labels.warnings)


def test_fair1m_unknown_class_and_bad_point(tmp_path: Path) -> None:
    other = [(x + 1.0, y) for x, y in SQUARE]
    text = _fair1m([("Spaceship", SQUARE), ("Bus", other)]).replace(
        "<point>11.000000,10.000000</point>", "<point>ten,10</point>"
    )
    path = _write(tmp_path, "77.xml", text)

    _, images = read_labels(path, "fair1m")

    labels = images[0]
    assert labels.objects == []
    assert labels.dropped == 2
    assert [issue.line for issue in labels.errors] == [1, 2]
    assert labels.errors[0].value == "Spaceship"
    assert "x,y" in labels.errors[1].message


def test_fair1m_object_without_objects_is_valid(tmp_path: Path) -> None:
    path = _write(tmp_path, "77.xml", _fair1m([]))

    format_name, images = read_labels(path)

    assert format_name == "fair1m"
    assert images[0].objects == []
    assert images[0].issues == []


def test_dior_missing_difficult_reads_as_zero(tmp_path: Path) -> None:
    objects = [
        "<object><name>Expressway-Service-area</name><pose>Unspecified</pose>"
        "<bndbox><xmin>40</xmin><ymin>50</ymin><xmax>300</xmax><ymax>260</ymax></bndbox></object>",
        "<object><name>vehicle</name><difficult>1</difficult>"
        "<bndbox><xmin>5</xmin><ymin>6</ymin><xmax>25</xmax><ymax>16</ymax></bndbox></object>",
    ]
    path = _write(tmp_path, "00042.xml", _dior(objects))

    format_name, images = read_labels(path)

    assert format_name == "dior"
    labels = images[0]
    assert [obj.difficult for obj in labels.objects] == [False, True]
    assert [obj.category for obj in labels.objects] == ["expressway service area", "vehicle"]
    assert labels.objects[0].bounds == (40.0, 50.0, 300.0, 260.0)
    assert labels.issues == []


def test_dior_r_robndbox_corners(tmp_path: Path) -> None:
    rotated = (
        "<object><type>robndbox</type><name>windmill</name><difficult>0</difficult><robndbox>"
        "<x_left_top>100</x_left_top><y_left_top>50</y_left_top>"
        "<x_right_top>150</x_right_top><y_right_top>100</y_right_top>"
        "<x_right_bottom>100</x_right_bottom><y_right_bottom>150</y_right_bottom>"
        "<x_left_bottom>50</x_left_bottom><y_left_bottom>100</y_left_bottom>"
        "</robndbox><angle>45</angle></object>"
    )
    path = _write(tmp_path, "00042.xml", _dior([rotated]))

    _, images = read_labels(path, "auto")

    obj = images[0].objects[0]
    assert obj.polygon == ((100.0, 50.0), (150.0, 100.0), (100.0, 150.0), (50.0, 100.0))
    assert obj.attributes["angle"] == "45"
    assert obj.geometry.area == pytest.approx(5000.0)


def test_dior_box_errors_are_records(tmp_path: Path) -> None:
    objects = [
        "<object><name>ship</name></object>",
        "<object><name>ship</name><bndbox><xmin>a</xmin><ymin>1</ymin><xmax>2</xmax><ymax>3</ymax></bndbox></object>",
        "<object><name>ship</name><difficult>yes</difficult>"
        "<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>20</xmax><ymax>30</ymax></bndbox></object>",
        "<object><name>ship</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>20</xmax><ymax>30</ymax></bndbox></object>",
    ]
    path = _write(tmp_path, "00042.xml", _dior(objects))

    _, images = read_labels(path, "dior")

    labels = images[0]
    assert len(labels.objects) == 1
    assert labels.objects[0].line == 4
    assert [issue.line for issue in labels.errors] == [1, 2, 3]


def test_dior_bom_and_crlf(tmp_path: Path) -> None:
    text = _dior(
        ["<object><name>Ship</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>20</xmax><ymax>30</ymax></bndbox></object>"]
    )
    path = _write(tmp_path, "00042.xml", b"\xef\xbb\xbf" + text.replace("><", ">\r\n<").encode())

    format_name, images = read_labels(path)

    assert format_name == "dior"
    assert [obj.category for obj in images[0].objects] == ["ship"]


@pytest.mark.parametrize("content", [b"", b'<?xml version="1.0"?>\n', b"<annotation><object>"])
def test_xml_empty_or_truncated_rejected(tmp_path: Path, content: bytes) -> None:
    path = _write(tmp_path, "bad.xml", content)

    for format_name in ("dior", "fair1m"):
        with pytest.raises(LabelFormatError) as caught:
            read_labels(path, format_name)
        assert str(path) in str(caught.value)


def test_xml_sniff_tells_fair1m_from_dior(tmp_path: Path) -> None:
    fair = _write(tmp_path, "1.xml", _fair1m([("Bus", SQUARE)]))
    dior = _write(
        tmp_path,
        "2.xml",
        _dior(["<object><name>ship</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>9</xmax><ymax>9</ymax></bndbox></object>"]),
    )

    assert detect_format(fair)[0] == "fair1m"
    assert detect_format(dior)[0] == "dior"
