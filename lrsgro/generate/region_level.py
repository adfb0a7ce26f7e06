"""Region-level questions: Counting, Object existence, Region status, Other visual features,
Region function and Object category inside one region.

An object belongs to a region when its centroid lies inside the region polygon.
"""

from __future__ import annotations

from collections import Counter

from lrsgro.generate.common import GenerationContext, make_question, sample
from lrsgro.pixels import dominant_color, pixels_inside
from lrsgro.records import Question
from lrsgro.scene import Region, Scene
from lrsgro.vocab import load_classes, load_yaml

DOMINANT_SHARE = 0.6
COLOR_READ_SIDE = 512
# Regions mix surfaces, so a region colour is named only when it covers most of the region.
REGION_COLOR_SHARE = 0.7
ELONGATED_RATIO = 2.5
COMPACT_RATIO = 1.5


def generate(scene: Scene, context: GenerationContext) -> list[Question]:
    """Generate every region-level question the scene's regions support."""
    if not scene.regions:
        context.skip("region_counting", "no regions")
        return []

    questions: list[Question] = []
    for family in (_counting, _existence, _status, _visual, _function, _object_category):
        questions += family(scene, context)
    return questions


def _plural(category: str) -> str:
    return load_classes().resolve(category).plural_name


def _contents(scene: Scene, region: Region) -> Counter[str]:
    return Counter(o.category for o in scene.objects_in(region.geometry) if o.id != region.object_id)


def _ids(scene: Scene, region: Region, category: str | None = None) -> list[str]:
    return [o.id for o in scene.objects_in(region.geometry)
            if o.id != region.object_id and (category is None or o.category == category)]


def _counting(scene: Scene, context: GenerationContext) -> list[Question]:
    candidates = []
    for region in scene.regions:
        for category, count in sorted(_contents(scene, region).items()):
            candidates.append((region, category, count))

    questions = []
    for region, category, count in sample(context.rng(scene, "region_counting"), candidates, context.max_per_type):
        questions.append(make_question(
            scene, "region_counting", f"How many {_plural(category)} are there in {region.expression}?", str(count),
            roi=region.bounds, referent=region.expression, object_ids=_ids(scene, region, category),
            measured={"count": count, "class": category, "region": region.id}, rule="count-in-region",
        ))
    if not questions:
        context.skip("region_counting", "no region contains a labelled object")
    return questions


def _existence(scene: Scene, context: GenerationContext) -> list[Question]:
    present_classes = sorted({o.category for o in scene.countable})
    yes, no = [], []
    for region in scene.regions:
        contents = _contents(scene, region)
        for category in present_classes:
            if category == region.category:
                continue
            (yes if contents.get(category) else no).append((region, category, contents.get(category, 0)))

    rng = context.rng(scene, "object_existence")
    per_side = min(len(yes), len(no), max(1, context.max_per_type // 2))
    if per_side == 0:
        context.skip("object_existence", "no region allows both a yes and a no answer")
        return []

    questions = []
    for region, category, count in sample(rng, yes, per_side) + sample(rng, no, per_side):
        questions.append(make_question(
            scene, "object_existence", f"Is there any {category} in {region.expression}?", "yes" if count else "no",
            roi=region.bounds, referent=region.expression, object_ids=_ids(scene, region, category),
            measured={"count": count, "class": category, "region": region.id}, rule="presence-in-region",
        ))
    return questions


def _status(scene: Scene, context: GenerationContext) -> list[Question]:
    settings = load_yaml("regions.yaml")["status"]
    active = set(settings["classes"])
    candidates = []
    for region in scene.regions:
        count = sum(n for c, n in _contents(scene, region).items() if c in active)
        area_px = region.geometry.area
        if scene.gsd:
            density, unit, limits = count / (area_px * scene.gsd**2 / 1e4), "per_hectare", settings["per_hectare"]
        else:
            density, unit, limits = count / (area_px / 1e6), "per_megapixel", settings["per_megapixel"]
        if density >= limits["busy"]:
            candidates.append((region, "busy", count, density, unit))
        elif density <= limits["idle"] and region.kind != "grid":
            candidates.append((region, "idle", count, density, unit))

    questions = []
    for region, answer, count, density, unit in sample(context.rng(scene, "region_status"), candidates, context.max_per_type):
        questions.append(make_question(
            scene, "region_status", f"Is {region.expression} busy or idle?", answer,
            roi=region.bounds, referent=region.expression, object_ids=_ids(scene, region),
            measured={"active_objects": count, f"density_{unit}": round(density, 4), "region": region.id},
            rule="activity-density",
        ))
    if not questions:
        context.skip("region_status", "no region is clearly busy or idle")
    return questions


def _visual(scene: Scene, context: GenerationContext) -> list[Question]:
    questions = []
    rng = context.rng(scene, "region_visual")
    shaped = [r for r in scene.regions if r.kind != "grid"]
    for region in sample(rng, shaped, max(1, context.max_per_type // 2)):
        rectangle = region.geometry.minimum_rotated_rectangle
        xs, ys = rectangle.exterior.coords.xy
        sides = sorted({round(((xs[i + 1] - xs[i]) ** 2 + (ys[i + 1] - ys[i]) ** 2) ** 0.5, 6) for i in range(4)})
        ratio = sides[-1] / sides[0] if sides and sides[0] > 0 else float("inf")
        if ratio >= ELONGATED_RATIO:
            shape = "elongated"
        elif ratio <= COMPACT_RATIO:
            shape = "compact"
        else:
            context.skip("region_visual", "region aspect ratio between compact and elongated")
            continue
        questions.append(make_question(
            scene, "region_visual", f"What is the overall shape of {region.expression}, elongated or compact?", shape,
            roi=region.bounds, referent=region.expression, measured={"aspect_ratio": round(ratio, 3), "region": region.id},
            rule="region-shape",
        ))

    for region in sample(rng, list(scene.regions), max(1, context.max_per_type // 2)):
        rgb, origin = scene.read_window(region.bounds, max_side=COLOR_READ_SIDE)
        color = dominant_color(pixels_inside(rgb, origin, region.geometry), min_share=REGION_COLOR_SHARE)
        if color is None:
            context.skip("region_visual", "no colour dominates the region")
            continue
        questions.append(make_question(
            scene, "region_visual", f"What is the dominant color of {region.expression}?", color[0],
            roi=region.bounds, referent=region.expression,
            measured={"color": color[0], "share": round(color[1], 4), "region": region.id}, rule="region-color",
        ))
    return questions


def _dominant(scene: Scene, region: Region) -> tuple[str, int, int] | None:
    contents = _contents(scene, region)
    total = sum(contents.values())
    if total < 2:
        return None
    category, count = min(contents.items(), key=lambda item: (-item[1], item[0]))
    return (category, count, total) if count / total >= DOMINANT_SHARE else None


def _function(scene: Scene, context: GenerationContext) -> list[Question]:
    functions = load_yaml("regions.yaml")["functions"]
    candidates = []
    for region in scene.regions:
        if region.kind == "label":
            if region.category in functions:
                candidates.append((region, functions[region.category], region.category, 1, 1))
            continue
        if region.kind == "cluster":
            continue
        dominant = _dominant(scene, region)
        if dominant and dominant[0] in functions:
            candidates.append((region, functions[dominant[0]], *dominant))

    questions = []
    for region, function, category, count, total in sample(context.rng(scene, "region_function"), candidates, context.max_per_type):
        questions.append(make_question(
            scene, "region_function", f"What is the main function of {region.expression}?", function,
            roi=region.bounds, referent=region.expression, object_ids=_ids(scene, region, category),
            measured={"dominant_class": category, "share": round(count / total, 4), "region": region.id},
            rule="dominant-class-function",
        ))
    if not questions:
        context.skip("region_function", "no region is dominated by a class with a known function")
    return questions


def _object_category(scene: Scene, context: GenerationContext) -> list[Question]:
    candidates = [
        (region, dominant)
        for region in scene.regions
        if region.kind != "cluster" and (dominant := _dominant(scene, region))
    ]
    questions = []
    for region, (category, count, total) in sample(context.rng(scene, "region_object_category"), candidates, context.max_per_type):
        questions.append(make_question(
            scene, "region_object_category", f"What kind of objects mainly fill {region.expression}?", category,
            roi=region.bounds, referent=region.expression, object_ids=_ids(scene, region, category),
            measured={"class": category, "share": round(count / total, 4), "objects": total, "region": region.id},
            rule="dominant-class",
        ))
    if not questions:
        context.skip("region_object_category", "no region is dominated by one class")
    return questions
