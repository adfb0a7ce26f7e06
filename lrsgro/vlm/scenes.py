"""Drafting targets of one scene, for ``lrsgro build``: the whole image, some regions, some objects.

Objects are those with a unique referring expression, and regions are those the rule stage
found (labels, clusters, the 3x3 grid). A target requests only the default types of its level
that the rules did not produce for its referent, and offers as extras only the types the
rules did not produce either. Regions and objects left with a type to request are sampled
with the build seed, up to ``max_per_level`` per image. Each target carries the facts the
rules measured: they are sent to the model as context and used to flag a draft that
contradicts them.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from lrsgro.errors import LrsgroError
from lrsgro.objects import LabeledObject
from lrsgro.records import Question
from lrsgro.pixels import dominant_color, pixels_inside
from lrsgro.referring import unique_references
from lrsgro.scene import Region, Scene
from lrsgro.vlm.config import VlmConfig
from lrsgro.vlm.facts import RULE_ANSWER_FACTS
from lrsgro.vlm.report import DraftProgress, DraftReport
from lrsgro.vlm.rules import RuleIndex
from lrsgro.vlm.stage import draft_questions
from lrsgro.vlm.targets import DEFAULT_CATEGORIES, DraftTarget, Referent

logger = logging.getLogger(__name__)

# Objects whose mask contains fewer pixels than this get no measured colour.
MIN_COLOR_PIXELS = 12


def draft_scenes(
    scenes: Sequence[Scene],
    config: VlmConfig,
    *,
    rule_questions: Sequence[Question] = (),
    seed: int = 0,
    max_per_level: int = 4,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[list[Question], DraftReport]:
    """Draft questions for every scene of a build; return them and the drafting report.

    Args:
        scenes: the build's scenes, with their regions already found.
        config: the VLM settings.
        rule_questions: the rule-derived questions of the build. Targets skip the types
            these answer, and a draft that repeats one is dropped (see :mod:`lrsgro.vlm.rules`).
        seed: the build seed, which picks the sampled regions and objects.
        max_per_level: the maximum number of region targets, and of object targets, per image.
        progress: ``progress(stage, done, total)``, called with the stage ``vlm drafts``.
    """
    rules = RuleIndex(rule_questions)
    targets: list[DraftTarget] = []
    for scene in scenes:
        try:
            targets.extend(scene_targets(scene, seed=seed, max_per_level=max_per_level, rules=rules))
        finally:
            scene.close()

    def report_progress(event: DraftProgress) -> None:
        if progress is not None:
            progress("vlm drafts", event.done, event.total)

    result = draft_questions(targets, config, rules=rules, on_progress=report_progress)
    return result.questions, result.report


def scene_targets(
    scene: Scene, *, seed: int = 0, max_per_level: int = 4, rules: RuleIndex | None = None
) -> list[DraftTarget]:
    """Return the targets of one scene: the global target, then region and object targets.

    Regions and objects are sampled among those with a type left to request. The image path
    on the targets is a placeholder: the build sets the dataset path and the split on every
    question after drafting.

    Args:
        rules: the rule-derived questions of the build; None means no rule question exists,
            so every target requests all the default types of its level.
    """
    if rules is None:
        rules = RuleIndex(())
    common: dict[str, Any] = dict(
        image_path=scene.image_path,
        image_id=scene.image_id,
        image=scene.image_path.name,
        image_width=scene.width,
        image_height=scene.height,
        source_labels=scene.label_file,
    )

    targets: list[DraftTarget] = []
    answered = rules.answered_categories(scene.image_id, "global", None)
    if _requested("global", answered):
        facts = _scene_facts(scene, rules.questions_about(scene.image_id, "global", None))
        targets.append(_target("global", None, answered, facts, common))

    open_regions = []
    for region in scene.regions:
        referent = Referent(region.id, region.bounds, region.expression, _region_kind(region))
        answered = rules.answered_categories(scene.image_id, "region", referent)
        if _requested("region", answered):
            open_regions.append((region, referent, answered))
    classes = sorted({o.category for o in scene.countable})
    for region, referent, answered in _sample(scene, seed, "vlm-regions", open_regions, max_per_level):
        members = scene.objects_in(region.geometry)
        # Classes of the image absent from the region count as 0, so that a drafted count or
        # existence answer about them is checked too.
        facts = {"counts": {name: 0 for name in classes} | _counts(members), "objects": len(members)}
        object_ids = tuple(o.id for o in members)
        targets.append(_target("region", referent, answered, facts, common, object_ids))

    open_objects = []
    for reference in unique_references(scene, scene.countable):
        obj = reference.obj
        referent = Referent(obj.id, obj.bounds, reference.expression, obj.category)
        answered = rules.answered_categories(scene.image_id, "object", referent)
        if _requested("object", answered):
            open_objects.append((obj, referent, answered))
    for obj, referent, answered in _sample(scene, seed, "vlm-objects", open_objects, max_per_level):
        targets.append(_target("object", referent, answered, _object_facts(scene, obj), common))
    return targets


def _requested(level: str, answered: set[str]) -> tuple[str, ...]:
    return tuple(c for c in DEFAULT_CATEGORIES[level] if c not in answered)


def _target(
    level: str,
    referent: Referent | None,
    answered: set[str],
    facts: dict[str, Any],
    common: dict[str, Any],
    object_ids: tuple[str, ...] = (),
) -> DraftTarget:
    return DraftTarget(
        level=level,  # type: ignore[arg-type]  # one of the keys of DEFAULT_CATEGORIES
        referent=referent,
        categories=_requested(level, answered),
        answered_categories=tuple(sorted(answered)),
        facts=facts,
        object_ids=object_ids,
        **common,
    )


def _scene_facts(scene: Scene, rule_questions: list[Question]) -> dict[str, Any]:
    facts: dict[str, Any] = {"counts": _counts(scene.countable), "objects": len(scene.countable)}
    if scene.gsd is not None:
        facts["gsd_m"] = round(scene.gsd, 4)
    if scene.acquisition_date is not None:
        facts["acquisition_date"] = scene.acquisition_date.isoformat()
    if scene.center_lat is not None:
        facts["latitude"] = round(scene.center_lat, 2)
        facts["hemisphere"] = "northern" if scene.center_lat >= 0 else "southern"
    for question in rule_questions:
        key = RULE_ANSWER_FACTS.get(question.category)
        if key is not None:
            facts[key] = question.answer
    return facts


def _object_facts(scene: Scene, obj: LabeledObject) -> dict[str, Any]:
    facts: dict[str, Any] = {"class": obj.category}
    if obj.fine_category:
        facts["fine_category"] = obj.fine_category
    if scene.gsd is not None:
        x0, y0, x1, y1 = obj.bounds
        facts["box_width_m"] = round((x1 - x0) * scene.gsd, 1)
        facts["box_height_m"] = round((y1 - y0) * scene.gsd, 1)

    try:
        rgb, origin = scene.read_window(obj.bounds)
    except LrsgroError as error:
        logger.warning("%s: no colour measured for object %s: %s", scene.image_id, obj.id, error)
        return facts
    pixels = pixels_inside(rgb, origin, obj.geometry)
    color = dominant_color(pixels) if len(pixels) >= MIN_COLOR_PIXELS else None
    if color is not None:
        facts["color"] = color[0]
    return facts


def _counts(objects: list[LabeledObject]) -> dict[str, int]:
    return dict(sorted(Counter(o.category for o in objects).items()))


def _region_kind(region: Region) -> str:
    return {"label": "labelled area", "cluster": "group of objects", "grid": "part of the image"}.get(
        region.kind, region.kind
    )


def _sample(scene: Scene, seed: int, salt: str, items: list, limit: int) -> list:
    if len(items) <= limit:
        return list(items)
    digest = hashlib.sha256(f"{seed}\x1f{scene.image_id}\x1f{salt}".encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    chosen = sorted(rng.sample(range(len(items)), limit))
    return [items[i] for i in chosen]
