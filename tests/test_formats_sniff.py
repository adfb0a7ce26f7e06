"""``--format auto`` recognises every format by content, whatever the file is called."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lrsgro.errors import LabelFormatError
from lrsgro.formats import detect_format, read_labels, readers

BOX = "10 10 50 10 50 40 10 40"

SAMPLES: dict[str, str] = {
    "dota": f"imagesource:GoogleEarth\ngsd:0.3\n{BOX} plane 0\n",
    "star": f"{BOX} goods_yard 0\n{BOX} ship 0\n",
    "yolo_obb": "0 0.1 0.1 0.2 0.1 0.2 0.2 0.1 0.2\n",
    "fair1m": (
        "<annotation><source><filename>1.tif</filename></source><objects><object>"
        "<possibleresult><name>Bus</name></possibleresult><points><point>1,1</point></points>"
        "</object></objects></annotation>"
    ),
    "dior": "<annotation><object><name>dam</name><bndbox><xmin>1</xmin></bndbox></object></annotation>",
    "coco": json.dumps({"images": [{"id": 1, "file_name": "a.png"}], "annotations": [], "categories": []}),
    "xview": json.dumps(
        {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"bounds_imcoords": "1,2,3,4"}}]}
    ),
    "geojson": json.dumps({"type": "FeatureCollection", "features": []}),
    "label_studio": json.dumps([{"data": {"image": "/a.png"}, "annotations": [{"result": []}]}]),
    "lrs_jsonl": json.dumps({"question_id": "Q-1", "image_name": "a.tif", "ground_truth": "yes"}) + "\n",
}


def test_samples_cover_every_reader() -> None:
    assert set(SAMPLES) == set(readers())


@pytest.mark.parametrize("expected", sorted(SAMPLES))
def test_detects_format_by_content(tmp_path: Path, expected: str) -> None:
    path = tmp_path / "labels.dat"
    path.write_text(SAMPLES[expected], encoding="utf-8")

    name, score = detect_format(path)

    assert name == expected
    assert 0 < score <= 100


@pytest.mark.parametrize("expected", sorted(SAMPLES))
def test_detects_format_with_bom(tmp_path: Path, expected: str) -> None:
    path = tmp_path / "labels.dat"
    path.write_bytes(b"\xef\xbb\xbf" + SAMPLES[expected].encode())

    assert detect_format(path)[0] == expected


@pytest.mark.parametrize("expected", ["coco", "dior", "dota", "fair1m", "label_studio", "lrs_jsonl", "star", "xview"])
def test_reads_with_bom_and_crlf(tmp_path: Path, expected: str) -> None:
    path = tmp_path / "labels.dat"
    text = SAMPLES[expected].replace("\n", "\r\n").replace("><", ">\r\n<")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())

    name, images = read_labels(path)

    assert name == expected
    assert isinstance(images, list)


def test_unrecognised_content_raises_with_choices(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("agriculture_land\ncommercial_land\n", encoding="utf-8")

    with pytest.raises(LabelFormatError) as caught:
        detect_format(path)

    assert "dota" in (caught.value.fix or "")
