"""Every referring expression the build writes picks out exactly the object its evidence names."""

from __future__ import annotations

import random
import re
from pathlib import Path

from shapely.geometry import Polygon

from lrsgro.build import BuildConfig, build
from lrsgro.dataset import read_questions
from lrsgro.vocab import load_classes
from tests.synthetic import Painted, rectangle, write_scene

SIZE = 900
CELLS = [
    ["top-left", "top-center", "top-right"],
    ["center-left", "center", "center-right"],
    ["bottom-left", "bottom-center", "bottom-right"],
]


def _scene(seed: int) -> list[Painted]:
    rng = random.Random(seed)
    objects: list[Painted] = []
    while len(objects) < 40:
        w, h = rng.uniform(8, 40), rng.uniform(8, 40)
        x, y = rng.uniform(0, SIZE - w), rng.uniform(0, SIZE - h)
        candidate = Polygon(rectangle(x, y, w, h))
        if any(candidate.intersects(Polygon(o.corners)) for o in objects):
            continue
        category = rng.choice(["small-vehicle", "large-vehicle", "ship", "storage-tank"])
        objects.append(Painted(category, rectangle(x, y, w, h), (235, 235, 235)))
    return objects


def _cell(x: float, y: float) -> str:
    return CELLS[min(2, int(3 * y / SIZE))][min(2, int(3 * x / SIZE))]


def _resolve(expression: str, objects: list[tuple[str, str, Polygon]]) -> list[str]:
    """Evaluate an expression over (id, group word, polygon) triples; return the ids it selects."""
    where = re.search(r" in the (?:(\S+) part of the image|center of the image)$", expression)
    cell = (where.group(1) or "center") if where else None
    body = expression[: where.start()] if where else expression
    body = body.removesuffix(" in the image")

    match = re.match(r"the (only |top-most |bottom-most |left-most |right-most |largest |smallest )?(.+)$", body)
    selector, word = (match.group(1) or "").strip(), match.group(2)
    pool = [o for o in objects if o[1] == word and (cell is None or _cell(o[2].centroid.x, o[2].centroid.y) == cell)]
    keys = {
        "top-most": lambda o: o[2].centroid.y,
        "bottom-most": lambda o: -o[2].centroid.y,
        "left-most": lambda o: o[2].centroid.x,
        "right-most": lambda o: -o[2].centroid.x,
        "largest": lambda o: -o[2].area,
        "smallest": lambda o: o[2].area,
    }
    if selector in ("", "only"):
        return [o[0] for o in pool]
    best = min(keys[selector](o) for o in pool)
    return [o[0] for o in pool if keys[selector](o) == best]


def test_object_expressions_are_unique(tmp_path: Path):
    vocabulary = load_classes()
    checked = 0
    for seed in range(3):
        painted = _scene(seed)
        write_scene(tmp_path / f"src{seed}", "scene", painted, size=(SIZE, SIZE))
        out = tmp_path / f"out{seed}"
        build(BuildConfig(labels=[tmp_path / f"src{seed}" / "labelTxt"], images=tmp_path / f"src{seed}" / "images", out=out, split="test=1.0", max_per_type=20))

        for question in read_questions(out):
            if question.level != "object":
                continue
            refinement = question.category == "Object category refinement"
            objects = []
            for index, p in enumerate(painted):
                info = vocabulary.resolve(p.category)
                word = info.parent if refinement and info.parent else info.name
                objects.append((f"scene/{index}", word, Polygon(p.corners)))
            assert _resolve(question.referent, objects) == [question.evidence.object_ids[0]], question.referent
            checked += 1
    assert checked > 20
