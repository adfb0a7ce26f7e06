"""End-to-end tests of `lrsgro build`: answers re-derived from the painted geometry and labels."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import Polygon, box

from lrsgro.build import BuildConfig, build
from lrsgro.dataset import read_image_index, read_questions
from lrsgro.errors import InputError
from lrsgro.validate import validate_dataset
from lrsgro.vocab import load_classes, load_yaml
from tests.synthetic import Painted, rectangle, write_scene

PALETTE = load_yaml("colors.yaml")["colors"]

OBJECTS = [
    Painted("small-vehicle", rectangle(40, 40, 36, 12), tuple(PALETTE["red"])),
    Painted("small-vehicle", rectangle(500, 520, 14, 14), tuple(PALETTE["blue"])),
    Painted("large-vehicle", rectangle(280, 290, 48, 14), tuple(PALETTE["white"])),
    Painted("ship", rectangle(420, 60, 60, 16), tuple(PALETTE["grey"])),
    Painted("ship", rectangle(430, 110, 40, 12), tuple(PALETTE["white"])),
    Painted("storage-tank", rectangle(80, 450, 30, 30), tuple(PALETTE["white"])),
    Painted("tennis-court", rectangle(250, 480, 40, 80), tuple(PALETTE["blue"])),
]


@pytest.fixture
def synthetic_dataset(tmp_path: Path) -> tuple[Path, list[Painted]]:
    write_scene(tmp_path / "src", "scene_a", OBJECTS)
    out = tmp_path / "out"
    build(BuildConfig(labels=[tmp_path / "src" / "labelTxt"], images=tmp_path / "src" / "images", out=out, split="test=1.0"))
    return out, OBJECTS


def _painted(obj_id: str, painted: list[Painted]) -> Painted:
    return painted[int(obj_id.rsplit("/", 1)[1])]


def _centroid(obj: Painted) -> tuple[float, float]:
    c = Polygon(obj.corners).centroid
    return c.x, c.y


def _of(questions, category: str, level: str = "object"):
    return [q for q in questions if q.category == category and q.level == level]


def test_global_counting_matches_painted(synthetic_dataset):
    out, painted = synthetic_dataset
    truth = Counter(load_classes().resolve(p.category).name for p in painted)
    counting = _of(read_questions(out), "Counting", "global")
    assert counting
    for question in counting:
        category = question.evidence.measured["class"]
        assert int(question.answer) == truth[category], question.question


def test_grid_region_answers_match_centroids(synthetic_dataset):
    out, painted = synthetic_dataset
    questions = [q for q in read_questions(out) if q.level == "region" and q.category in ("Counting", "Object existence")]
    grid = [q for q in questions if q.evidence.measured["region"].startswith("grid-")]
    assert grid
    for question in grid:
        region = box(*question.roi)
        category = question.evidence.measured["class"]
        inside = sum(
            1 for p in painted
            if load_classes().resolve(p.category).name == category and region.intersects(Polygon([_centroid(p)] * 3).centroid)
        )
        if question.category == "Counting":
            assert int(question.answer) == inside, question.question
        else:
            assert question.answer == ("yes" if inside else "no"), question.question


def test_object_colors_match_paint(synthetic_dataset):
    out, painted = synthetic_dataset
    colors = _of(read_questions(out), "Object color / pattern")
    assert colors
    for question in colors:
        obj = _painted(question.evidence.object_ids[0], painted)
        expected = next(name for name, rgb in PALETTE.items() if tuple(rgb) == obj.rgb)
        assert question.answer == expected, question.question


def test_object_shapes_match_sides(synthetic_dataset):
    out, painted = synthetic_dataset
    shapes = _of(read_questions(out), "Object shape / structure")
    assert shapes
    for question in shapes:
        xs = [x for x, _ in _painted(question.evidence.object_ids[0], painted).corners]
        ys = [y for _, y in _painted(question.evidence.object_ids[0], painted).corners]
        w, h = max(xs) - min(xs), max(ys) - min(ys)
        ratio = max(w, h) / min(w, h)
        assert question.answer == ("elongated" if ratio >= 2.5 else "square"), question.question
        assert question.evidence.measured["length_m"] == pytest.approx(max(w, h) * 0.5, abs=0.05)


def test_object_context_is_nearest_object(synthetic_dataset):
    out, painted = synthetic_dataset
    contexts = _of(read_questions(out), "Object relative position / context")
    assert contexts
    vocabulary = load_classes()
    for question in contexts:
        ref = _painted(question.evidence.object_ids[0], painted)
        others = [p for p in painted if p is not ref]
        nearest = min(others, key=lambda p: Polygon(p.corners).distance(Polygon(ref.corners)))
        assert question.answer == vocabulary.resolve(nearest.category).name, question.question


def test_context_counts_same_class_neighbour(tmp_path: Path):
    # Two buses parked side by side and a car farther away: the bus's nearest object is the
    # other bus, so the answer is "large vehicle", not the nearest object of another class.
    objects = [
        Painted("large-vehicle", rectangle(100, 100, 50, 14), tuple(PALETTE["white"])),
        Painted("large-vehicle", rectangle(100, 120, 50, 14), tuple(PALETTE["white"])),
        Painted("small-vehicle", rectangle(100, 300, 12, 6), tuple(PALETTE["red"])),
        Painted("ship", rectangle(450, 450, 60, 16), tuple(PALETTE["grey"])),
    ]
    write_scene(tmp_path / "src", "buses", objects)
    out = tmp_path / "out"
    build(BuildConfig(labels=[tmp_path / "src" / "labelTxt"], images=tmp_path / "src" / "images", out=out, split="test=1.0"))
    answers = {
        q.evidence.object_ids[0]: q.answer
        for q in _of(read_questions(out), "Object relative position / context")
    }
    assert answers.get("buses/0", "large vehicle") == "large vehicle"
    assert answers.get("buses/1", "large vehicle") == "large vehicle"
    assert "buses/0" in answers or "buses/1" in answers


def test_refinement_offers_same_parent_distractor(synthetic_dataset):
    out, painted = synthetic_dataset
    refinements = _of(read_questions(out), "Object category refinement")
    assert refinements
    vocabulary = load_classes()
    for question in refinements:
        obj = _painted(question.evidence.object_ids[0], painted)
        assert question.answer == vocabulary.resolve(obj.category).name
        assert question.answer in question.choices
        assert len(question.choices) == 2
        parents = {vocabulary.resolve(choice).parent for choice in question.choices}
        assert parents == {vocabulary.resolve(obj.category).parent}


def test_function_and_season_and_scene(synthetic_dataset):
    out, painted = synthetic_dataset
    questions = read_questions(out)
    vocabulary = load_classes()
    for question in _of(questions, "Object function / usage"):
        obj = _painted(question.evidence.object_ids[0], painted)
        assert question.answer == vocabulary.resolve(obj.category).function
    season = _of(questions, "Season", "global")
    assert [q.answer for q in season] == ["summer"]


def test_southern_hemisphere_season_flips(tmp_path: Path):
    write_scene(tmp_path / "src", "south", OBJECTS, epsg=32733, origin=(500000.0, 5400000.0), date="2023:07:14 10:00:00")
    build(BuildConfig(labels=[tmp_path / "src" / "labelTxt"], images=tmp_path / "src" / "images", out=tmp_path / "out", split="test=1.0"))
    season = _of(read_questions(tmp_path / "out"), "Season", "global")
    assert [q.answer for q in season] == ["winter"]


def test_urban_rural_from_density(synthetic_dataset):
    out, painted = synthetic_dataset
    vocabulary = load_classes()
    built_up = sum(1 for p in painted if vocabulary.resolve(p.category).built_up)
    density = built_up / (600 * 600 * 0.25 / 1e6)
    thresholds = load_yaml("regions.yaml")["urban_rural"]
    answers = [q.answer for q in _of(read_questions(out), "Urban-Rural", "global")]
    if density >= thresholds["urban"]:
        assert answers == ["urban"]
    elif density <= thresholds["rural"]:
        assert answers == ["rural"]
    else:
        assert answers == []


def test_rois_lie_inside_image_and_1024_frame(synthetic_dataset):
    out, _ = synthetic_dataset
    for question in read_questions(out):
        if question.roi is None:
            continue
        x0, y0, x1, y1 = question.roi
        assert 0 <= x0 <= x1 <= question.image_width
        assert 0 <= y0 <= y1 <= question.image_height
        scale = 1024 / max(question.image_width, question.image_height)
        assert question.roi_1024 == pytest.approx([v * scale for v in question.roi], abs=0.01)


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_same_seed_gives_identical_bytes(tmp_path: Path):
    write_scene(tmp_path / "src", "scene_a", OBJECTS)
    write_scene(tmp_path / "src", "scene_b", OBJECTS[:4], date="2022:01:10 10:00:00")
    digests = []
    for name in ("one", "two"):
        build(BuildConfig(labels=[tmp_path / "src" / "labelTxt"], images=tmp_path / "src" / "images", out=tmp_path / name, seed=3))
        digests.append(_digest(tmp_path / name))
    assert digests[0] == digests[1]
    assert any(name.startswith("data/") for name in digests[0])


def test_splits_are_image_disjoint(tmp_path: Path):
    for index in range(5):
        write_scene(tmp_path / "src", f"scene_{index}", OBJECTS, background=(60, 120 + index, 60))
    out = tmp_path / "out"
    build(BuildConfig(labels=[tmp_path / "src" / "labelTxt"], images=tmp_path / "src" / "images", out=out, split="test=0.6,train=0.4"))
    splits_of: dict[str, set[str]] = {}
    for question in read_questions(out):
        splits_of.setdefault(question.image_id, set()).add(question.split)
    assert all(len(s) == 1 for s in splits_of.values())
    assert Counter(r.split for r in read_image_index(out).values()) == {"test": 3, "train": 2}
    assert validate_dataset(out).ok, validate_dataset(out).problems


def test_existence_answers_balanced(synthetic_dataset):
    out, _ = synthetic_dataset
    answers = Counter(q.answer for q in _of(read_questions(out), "Object existence", "region"))
    assert answers["yes"] == answers["no"] > 0


def _bad_scene(tmp_path: Path, line: str) -> Path:
    write_scene(tmp_path / "src", "scene_a", OBJECTS)
    label = tmp_path / "src" / "labelTxt" / "scene_a.txt"
    label.write_text(label.read_text() + line + "\n")
    return label


@pytest.mark.parametrize(
    "line, fragment",
    [
        ("10 10 20 10 20 20 10 small-vehicle 0", "expected 8 coordinates"),
        ("10 10 20 10 20 20 10 20 flying-saucer 0", "flying-saucer"),
    ],
)
def test_bad_record_stops_with_location(tmp_path: Path, line: str, fragment: str):
    label = _bad_scene(tmp_path, line)
    with pytest.raises(InputError) as error:
        build(BuildConfig(labels=[label], images=tmp_path / "src" / "images", out=tmp_path / "out"))
    message = str(error.value)
    assert f"{label}:{len(_label_lines(label))}" in message
    assert fragment in message
    assert not (tmp_path / "out" / "data").exists()


def _label_lines(label: Path) -> list[str]:
    return label.read_text().splitlines()


def test_bad_record_skipped_and_counted(tmp_path: Path):
    label = _bad_scene(tmp_path, "10 10 20 10 20 20 10 20 flying-saucer 0")
    report = build(BuildConfig(labels=[label], images=tmp_path / "src" / "images", out=tmp_path / "out", on_error="skip"))
    assert len(report.skipped_records) == 1
    assert report.skipped_records[0]["value"] == "flying-saucer"
    assert report.objects == len(OBJECTS)


def test_missing_image_stops_or_is_counted(tmp_path: Path):
    write_scene(tmp_path / "src", "scene_a", OBJECTS)
    orphan = tmp_path / "src" / "labelTxt" / "orphan.txt"
    orphan.write_text("10 10 20 10 20 20 10 20 ship 0\n")
    with pytest.raises(InputError, match="orphan"):
        build(BuildConfig(labels=[tmp_path / "src" / "labelTxt"], images=tmp_path / "src" / "images", out=tmp_path / "out"))
    report = build(BuildConfig(labels=[tmp_path / "src" / "labelTxt"], images=tmp_path / "src" / "images", out=tmp_path / "out", on_error="skip"))
    assert report.images == 1
    assert [r["value"] for r in report.skipped_records] == ["orphan"]


def test_load_dataset_offline(synthetic_dataset):
    datasets = pytest.importorskip("datasets")
    out, _ = synthetic_dataset
    loaded = datasets.load_dataset(str(out))
    assert len(loaded["test"]) == len(read_questions(out))
    assert set(loaded["test"]["qid"]) == {q.qid for q in read_questions(out)}


# ---- real sample data ------------------------------------------------------------------------


def _recount_dota(label: Path) -> tuple[Counter[str], list[tuple[str, tuple[float, float]]]]:
    """Count objects per class straight from the text, without lrsgro's reader."""
    counts: Counter[str] = Counter()
    centroids = []
    for line in label.read_text(encoding="utf-8-sig").splitlines():
        parts = line.split()
        if len(parts) < 9 or ":" in line:
            continue
        name = parts[8].replace("-", " ")
        counts[name] += 1
        xs = [float(v) for v in parts[0:8:2]]
        ys = [float(v) for v in parts[1:8:2]]
        centroids.append((name, (float(np.mean(xs)), float(np.mean(ys)))))
    return counts, centroids


@pytest.fixture(scope="module")
def dota_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import SHARED_DATA

    if not SHARED_DATA.is_dir():
        pytest.skip(f"real sample data not found at {SHARED_DATA}")
    out = tmp_path_factory.mktemp("dota") / "out"
    build(BuildConfig(labels=[SHARED_DATA / "dota" / "labelTxt"], images=SHARED_DATA / "dota" / "images", out=out))
    return out


def test_real_dota_covers_thirteen_types(dota_dataset):
    pairs = {(q.level, q.category) for q in read_questions(dota_dataset)}
    assert len(pairs) >= 13, sorted(pairs)


def test_real_dota_counting_matches_recount(dota_dataset, shared_data):
    questions = read_questions(dota_dataset)
    recounts = {p.stem: _recount_dota(p) for p in (shared_data / "dota" / "labelTxt").glob("*.txt")}
    checked = 0
    for question in questions:
        if question.category != "Counting":
            continue
        counts, centroids = recounts[question.image_id]
        category = question.evidence.measured["class"]
        if question.level == "global":
            assert int(question.answer) == counts[category], question.question
        elif question.evidence.measured["region"].startswith("grid-"):
            x0, y0, x1, y1 = question.roi
            inside = sum(1 for name, (x, y) in centroids if name == category and x0 <= x <= x1 and y0 <= y <= y1)
            assert abs(int(question.answer) - inside) <= 1, question.question
        else:
            assert int(question.answer) == len(question.evidence.object_ids)
        checked += 1
    assert checked >= 4


def test_naip_dates_give_season(tmp_path: Path, shared_data):
    labels = tmp_path / "labels"
    labels.mkdir()
    for tif in (shared_data / "naip").glob("*.tif"):
        (labels / f"{tif.stem}.txt").write_text("")
    out = tmp_path / "out"
    build(BuildConfig(labels=[labels], images=shared_data / "naip", out=out, split="test=1.0"))
    seasons = {q.image_id: q.answer for q in read_questions(out) if q.category == "Season"}
    assert seasons == {
        "m_4709963_se_14_1_20090818": "summer",
        "m_4709963_se_14_1_20160816": "summer",
    }


def test_class_map_to_unknown_class_names_target(tmp_path: Path):
    label = _bad_scene(tmp_path, "10 10 20 10 20 20 10 20 flying-saucer 0")
    config = BuildConfig(labels=[label], images=tmp_path / "src" / "images", out=tmp_path / "out", class_map={"flying-saucer": "rocket"})
    with pytest.raises(InputError, match="'rocket'"):
        build(config)


def test_annotation_override_adds_class(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import shutil

    from lrsgro.resources import annotation_path

    copy = tmp_path / "annotation"
    shutil.copytree(annotation_path(), copy)
    with (copy / "vocab" / "classes.yaml").open("a") as handle:
        handle.write("  flying saucer:\n    function: visiting\n")
    monkeypatch.setenv("LRSGRO_ANNOTATION_DIR", str(copy))

    label = _bad_scene(tmp_path, "10 10 20 10 20 20 10 20 flying-saucer 0")
    report = build(BuildConfig(labels=[label], images=tmp_path / "src" / "images", out=tmp_path / "out"))
    assert report.objects == len(OBJECTS) + 1


def test_stop_lists_every_bad_record(tmp_path: Path):
    label = _bad_scene(tmp_path, "10 10 20 10 20 20 10 small-vehicle 0\n10 10 20 10 20 20 10 20 flying-saucer 0")
    with pytest.raises(InputError) as error:
        build(BuildConfig(labels=[label], images=tmp_path / "src" / "images", out=tmp_path / "out"))
    lines = len(_label_lines(label))
    assert f"{label}:{lines - 1}" in str(error.value)
    assert f"1 more bad records: {label}:{lines}" in str(error.value)


def test_empty_split_is_warned(tmp_path: Path):
    write_scene(tmp_path / "src", "only", OBJECTS)
    report = build(BuildConfig(labels=[tmp_path / "src" / "labelTxt"], images=tmp_path / "src" / "images", out=tmp_path / "out"))
    assert any("split 'train' received no image" in w for w in report.warnings)
