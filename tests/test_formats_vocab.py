"""The class vocabulary covers every format's classes, with the parents of fine classes."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from lrsgro.formats.star import STAR_CLASSES
from lrsgro.formats.xview import XVIEW_CLASSES
from lrsgro.resources import annotation_path
from lrsgro.vocab import class_key, load_classes

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
LABEL_FORMATS = SHARED / "label-formats"

FAIR1M_PARENTS = {
    "plane": ["Boeing737", "Boeing747", "Boeing777", "Boeing787", "C919", "A220", "A321", "A330", "A350", "ARJ21", "other-airplane"],
    "ship": ["Passenger Ship", "Motorboat", "Fishing Boat", "Tugboat", "Engineering Ship", "Liquid Cargo Ship", "Dry Cargo Ship", "Warship", "other-ship"],
    "vehicle": ["Small Car", "Bus", "Cargo Truck", "Dump Truck", "Van", "Trailer", "Tractor", "Excavator", "Truck Tractor", "other-vehicle"],
    "court": ["Basketball Court", "Tennis Court", "Football Field", "Baseball Field"],
    "road": ["Intersection", "Roundabout", "Bridge"],
}  # fmt: skip

DIOR_CLASSES = [
    "airplane", "airport", "baseballfield", "basketballcourt", "bridge", "chimney", "dam",
    "Expressway-Service-area", "Expressway-toll-station", "golffield", "groundtrackfield", "harbor",
    "overpass", "ship", "stadium", "storagetank", "tenniscourt", "trainstation", "vehicle", "windmill",
]  # fmt: skip

ISAID_CLASSES = [
    "storage_tank", "Large_Vehicle", "Small_Vehicle", "plane", "ship", "Swimming_pool", "Harbor",
    "tennis_court", "Ground_Track_Field", "Soccer_ball_field", "baseball_diamond", "Bridge",
    "basketball_court", "Roundabout", "Helicopter",
]  # fmt: skip


@pytest.fixture(scope="module")
def shared_data() -> Path:
    if not LABEL_FORMATS.is_dir():
        pytest.skip(f"sample data not found at {SHARED}")
    return LABEL_FORMATS


def test_every_spelling_belongs_to_one_class() -> None:
    data = yaml.safe_load(annotation_path("vocab", "classes.yaml").read_text(encoding="utf-8"))
    owners: dict[str, set[str]] = defaultdict(set)
    for name, fields in data["classes"].items():
        for spelling in (name, *((fields or {}).get("aliases") or [])):
            owners[class_key(spelling)].add(name)

    shared = {key: names for key, names in owners.items() if len(names) > 1}
    assert shared == {}


def test_every_parent_is_a_class() -> None:
    vocabulary = load_classes()

    missing = {info.name: info.parent for info in vocabulary.classes.values() if info.parent and info.parent not in vocabulary.classes}
    nested = {info.name: info.parent for info in vocabulary.classes.values() if info.parent and vocabulary.classes[info.parent].parent}
    assert missing == {}
    assert nested == {}


def test_fair1m_classes_have_their_parents() -> None:
    vocabulary = load_classes()
    assert sum(len(names) for names in FAIR1M_PARENTS.values()) == 37

    for parent, names in FAIR1M_PARENTS.items():
        for name in names:
            info = vocabulary.resolve(name)
            assert info is not None, name
            assert info.parent == parent, name
    assert vocabulary.resolve("airplane").name == "plane"


def test_star_classes_resolve() -> None:
    vocabulary = load_classes()

    assert len(STAR_CLASSES) == 48
    assert [name for name in STAR_CLASSES if vocabulary.resolve(name) is None] == []
    assert len({vocabulary.resolve(name).name for name in STAR_CLASSES}) == 48


def test_xview_classes_resolve() -> None:
    vocabulary = load_classes()

    assert len(XVIEW_CLASSES) == 60
    assert [name for name in XVIEW_CLASSES.values() if vocabulary.resolve(name) is None] == []
    assert len({vocabulary.resolve(name).name for name in XVIEW_CLASSES.values()}) == 60


@pytest.mark.parametrize(("names", "count"), [(DIOR_CLASSES, 20), (ISAID_CLASSES, 15)])
def test_coarse_dataset_classes_resolve(names: list[str], count: int) -> None:
    vocabulary = load_classes()

    resolved = {vocabulary.resolve(name).name for name in names if vocabulary.resolve(name) is not None}
    assert len(resolved) == count


def test_shared_class_lists_match_tables(shared_data: Path) -> None:
    fair1m = [line.strip() for line in (shared_data / "fair1m" / "classes.txt").read_text().splitlines() if line.strip()]
    star = [line.strip() for line in (shared_data / "star" / "classes_obd_48.txt").read_text().splitlines() if line.strip()]
    dior = [line.strip() for line in (shared_data / "dior" / "classes_raw.txt").read_text().splitlines() if line.strip()]
    xview = {}
    for line in (shared_data / "xview" / "xview_class_labels.txt").read_text().splitlines():
        if line.strip():
            number, name = line.split(":", 1)
            xview[int(number)] = name.strip()

    assert sorted(fair1m) == sorted(name for names in FAIR1M_PARENTS.values() for name in names)
    assert star == list(STAR_CLASSES)
    assert sorted(dior) == sorted(DIOR_CLASSES)
    assert xview == XVIEW_CLASSES
