"""Referring expressions that pick out exactly one object ("the top-most bridge").

An expression is a class, an optional grid cell, and a selector (only, top-most, largest ...).
It is accepted only when the selected object wins by a clear margin over the runner-up, so a
reader of the image can tell which object is meant.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lrsgro.objects import LabeledObject
from lrsgro.scene import Scene, cell_phrase
from lrsgro.vocab import load_classes

# A selector wins when its score beats the runner-up by this fraction of the image side
# (position selectors) or by this ratio (size selectors).
POSITION_MARGIN = 0.03
SIZE_RATIO = 1.3


@dataclass(frozen=True)
class Reference:
    """An object together with the expression that names it uniquely."""

    obj: LabeledObject
    expression: str
    selector: str


_Position = Callable[[LabeledObject], float]

_POSITION_SELECTORS: dict[str, tuple[_Position, str]] = {
    "top-most": (lambda o: o.centroid[1], "y"),
    "bottom-most": (lambda o: -o.centroid[1], "y"),
    "left-most": (lambda o: o.centroid[0], "x"),
    "right-most": (lambda o: -o.centroid[0], "x"),
}


def class_phrase(name: str) -> str:
    """Return a class name as it reads in a question."""
    return name


def unique_references(
    scene: Scene, candidates: Sequence[LabeledObject], *, group: Callable[[LabeledObject], str] | None = None
) -> list[Reference]:
    """Return one uniquely identifying expression for each candidate that has one.

    ``group`` maps an object to the class word used in its expression (default: its class);
    the expression must single it out among all objects of the scene in the same group.
    """
    group = group or (lambda o: o.category)
    members: dict[str, list[LabeledObject]] = {}
    for obj in scene.countable:
        members.setdefault(group(obj), []).append(obj)

    references = []
    for obj in candidates:
        reference = _describe(scene, obj, group(obj), members.get(group(obj), []))
        if reference is not None:
            references.append(reference)
    return references


def _describe(scene: Scene, obj: LabeledObject, word: str, same: list[LabeledObject]) -> Reference | None:
    phrase = class_phrase(word)
    if len(same) == 1:
        return Reference(obj, f"the only {phrase} in the image", "only")

    cell = scene.grid_cell(*obj.centroid)
    in_cell = [o for o in same if scene.grid_cell(*o.centroid) == cell]
    where = cell_phrase(cell)
    if len(in_cell) == 1:
        return Reference(obj, f"the {phrase} in {where}", "only-in-cell")

    for pool, suffix in ((same, ""), (in_cell, f" in {where}")):
        for name, (key, axis) in _POSITION_SELECTORS.items():
            side = scene.height if axis == "y" else scene.width
            if _wins(obj, pool, key, POSITION_MARGIN * side, additive=True):
                return Reference(obj, f"the {name} {phrase}{suffix}", name)
        if _wins(obj, pool, lambda o: -o.geometry.area, SIZE_RATIO, additive=False):
            return Reference(obj, f"the largest {phrase}{suffix}", "largest")
        if _wins(obj, pool, lambda o: o.geometry.area, SIZE_RATIO, additive=False):
            return Reference(obj, f"the smallest {phrase}{suffix}", "smallest")
    return None


def _wins(obj: LabeledObject, pool: list[LabeledObject], key: Callable[[LabeledObject], float], margin: float, *, additive: bool) -> bool:
    """Whether ``obj`` has the lowest key in ``pool`` by a clear margin over the runner-up."""
    others = [key(o) for o in pool if o is not obj]
    if not others:
        return True
    own, best_other = key(obj), min(others)
    if additive:
        return own + margin <= best_other
    # size keys are negative areas (largest) or areas (smallest): compare magnitudes by ratio
    own_abs, other_abs = abs(own), abs(best_other)
    if own < 0:
        return own < best_other and own_abs >= margin * other_abs
    return own < best_other and other_abs >= margin * own_abs


def parent_group(obj: LabeledObject) -> str:
    """Group objects by their parent class (for refinement questions), else by class."""
    vocabulary = load_classes()
    for name in (obj.fine_category, obj.category):
        info = vocabulary.resolve(name) if name else None
        if info is not None and info.parent:
            return info.parent
    return obj.category
