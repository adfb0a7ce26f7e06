"""Object-level questions about one object named by a unique referring expression:
colour, shape, relative position (nearest labelled neighbour), category refinement and function.
"""

from __future__ import annotations

from shapely.strtree import STRtree

from lrsgro.generate.common import GenerationContext, make_question, sample
from lrsgro.objects import LabeledObject
from lrsgro.pixels import dominant_color, pixels_inside
from lrsgro.records import Question
from lrsgro.referring import Reference, parent_group, unique_references
from lrsgro.scene import Scene
from lrsgro.vocab import load_classes

ELONGATED_RATIO = 2.5
SQUARE_RATIO = 1.25
NEIGHBOUR_MARGIN = 1.5
MIN_COLOR_PIXELS = 12


def generate(scene: Scene, context: GenerationContext) -> list[Question]:
    """Generate every object-level question the scene supports."""
    references = unique_references(scene, scene.countable)
    if not references:
        context.skip("object_color", "no object has a unique referring expression")
        return []

    questions: list[Question] = []
    questions += _color(scene, context, references)
    questions += _shape(scene, context, references)
    questions += _context(scene, context, references)
    questions += _refinement(scene, context)
    questions += _function(scene, context, references)
    return questions


def _ask(scene: Scene, slug: str, reference: Reference, question: str, answer: str, measured: dict, rule: str,
         object_ids: list[str] | None = None, choices: list[str] | None = None) -> Question:
    return make_question(
        scene, slug, question, answer, roi=reference.obj.bounds, referent=reference.expression,
        object_ids=object_ids or [reference.obj.id], measured=measured, rule=rule, choices=choices,
    )


def _color(scene: Scene, context: GenerationContext, references: list[Reference]) -> list[Question]:
    questions = []
    for reference in sample(context.rng(scene, "object_color"), references, context.max_per_type * 2):
        if len(questions) >= context.max_per_type:
            break
        rgb, origin = scene.read_window(reference.obj.bounds)
        pixels = pixels_inside(rgb, origin, reference.obj.geometry)
        if len(pixels) < MIN_COLOR_PIXELS:
            context.skip("object_color", "object too small to measure its colour")
            continue
        color = dominant_color(pixels)
        if color is None:
            context.skip("object_color", "no colour dominates the object")
            continue
        questions.append(_ask(
            scene, "object_color", reference, f"What is the color of {reference.expression}?", color[0],
            {"color": color[0], "share": round(color[1], 4), "pixels": int(len(pixels))}, "pixel-color",
        ))
    return questions


def _shape(scene: Scene, context: GenerationContext, references: list[Reference]) -> list[Question]:
    questions = []
    for reference in sample(context.rng(scene, "object_shape"), references, context.max_per_type * 2):
        if len(questions) >= context.max_per_type:
            break
        length, width = _side_lengths(reference.obj)
        ratio = length / width if width > 0 else float("inf")
        if ratio >= ELONGATED_RATIO:
            shape = "elongated"
        elif ratio <= SQUARE_RATIO:
            shape = "square"
        else:
            context.skip("object_shape", "aspect ratio between square and elongated")
            continue
        measured = {"aspect_ratio": round(ratio, 3), "length_px": round(length, 2), "width_px": round(width, 2)}
        if scene.gsd:
            measured |= {"length_m": round(length * scene.gsd, 2), "width_m": round(width * scene.gsd, 2)}
        questions.append(_ask(
            scene, "object_shape", reference, f"Is {reference.expression} elongated or square in shape?", shape,
            measured, "rotated-box-aspect",
        ))
    return questions


def _side_lengths(obj: LabeledObject) -> tuple[float, float]:
    rectangle = obj.geometry.minimum_rotated_rectangle
    xs, ys = rectangle.exterior.coords.xy
    a = ((xs[1] - xs[0]) ** 2 + (ys[1] - ys[0]) ** 2) ** 0.5
    b = ((xs[2] - xs[1]) ** 2 + (ys[2] - ys[1]) ** 2) ** 0.5
    return max(a, b), min(a, b)


def _context(scene: Scene, context: GenerationContext, references: list[Reference]) -> list[Question]:
    objects = scene.countable
    if len(objects) < 2:
        context.skip("object_context", "fewer than two labelled objects")
        return []
    tree = STRtree([o.geometry for o in objects])

    questions = []
    for reference in sample(context.rng(scene, "object_context"), references, context.max_per_type * 2):
        if len(questions) >= context.max_per_type:
            break
        nearest, distance, runner_up = _nearest_neighbour(reference.obj, objects, tree)
        if nearest is None or (runner_up is not None and runner_up < NEIGHBOUR_MARGIN * max(distance, 1.0)):
            context.skip("object_context", "no clearly nearest object")
            continue
        questions.append(_ask(
            scene, "object_context", reference, f"What kind of object is closest to {reference.expression}?",
            nearest.category,
            {"nearest": nearest.id, "distance_px": round(distance, 2),
             "runner_up_distance_px": round(runner_up, 2) if runner_up is not None else None},
            "nearest-object", object_ids=[reference.obj.id, nearest.id],
        ))
    return questions


def _nearest_neighbour(
    obj: LabeledObject, objects: list[LabeledObject], tree: STRtree
) -> tuple[LabeledObject | None, float, float | None]:
    """Return (nearest other object of any class, its distance, distance of the nearest object
    of a different class than that one).

    The answer names the nearest object's class, so it is unambiguous only when no object of
    another class is almost as near; the caller compares the two distances.
    """
    index = tree.query_nearest(obj.geometry, exclusive=True, all_matches=False)
    candidates = [objects[i] for i in index if objects[i] is not obj]
    if not candidates:
        return None, 0.0, None
    nearest = candidates[0]
    distance = obj.geometry.distance(nearest.geometry)

    runner_up = None
    for other in objects:
        if other is obj or other.category == nearest.category:
            continue
        d = obj.geometry.distance(other.geometry)
        if runner_up is None or d < runner_up:
            runner_up = d
    return nearest, distance, runner_up


def _refinement(scene: Scene, context: GenerationContext) -> list[Question]:
    vocabulary = load_classes()
    siblings: dict[str, list[str]] = {}
    for info in vocabulary.classes.values():
        if info.parent:
            siblings.setdefault(info.parent, []).append(info.name)

    candidates = [o for o in scene.countable if _fine_class(o) and parent_group(o) in siblings]
    references = unique_references(scene, candidates, group=parent_group)
    rng = context.rng(scene, "object_refinement")
    present = {_fine_class(o) for o in scene.countable}

    questions = []
    for index, reference in enumerate(sample(rng, references, context.max_per_type)):
        fine = _fine_class(reference.obj)
        parent = parent_group(reference.obj)
        options = sorted(s for s in siblings[parent] if s != fine)
        preferred = [s for s in options if s in present] or options
        distractor = rng.choice(preferred)
        choices = [fine, distractor] if index % 2 == 0 else [distractor, fine]
        questions.append(_ask(
            scene, "object_refinement", reference,
            f"Is {reference.expression} a {choices[0]} or a {choices[1]}?", fine,
            {"class": fine, "parent": parent, "distractor": distractor}, "fine-class-same-parent", choices=choices,
        ))
    if not questions:
        context.skip("object_refinement", "no fine-grained class with a same-parent distractor")
    return questions


def _fine_class(obj: LabeledObject) -> str | None:
    if obj.fine_category:
        return obj.fine_category
    info = load_classes().resolve(obj.category)
    return info.name if info is not None and info.parent else None


def _function(scene: Scene, context: GenerationContext, references: list[Reference]) -> list[Question]:
    vocabulary = load_classes()
    usable = [r for r in references if (info := vocabulary.resolve(r.obj.category)) and info.function]
    questions = []
    for reference in sample(context.rng(scene, "object_function"), usable, context.max_per_type):
        function = vocabulary.resolve(reference.obj.category).function
        questions.append(_ask(
            scene, "object_function", reference, f"What is {reference.expression} used for?", function,
            {"class": reference.obj.category}, "class-function",
        ))
    if not questions:
        context.skip("object_function", "no referable object of a class with a known function")
    return questions
