"""Global-level questions: Scene Type, Urban-Rural, Season and Counting over the whole image."""

from __future__ import annotations

from collections import Counter

from lrsgro.generate.common import GenerationContext, make_question, sample
from lrsgro.records import Question
from lrsgro.scene import Scene
from lrsgro.vocab import load_classes, load_yaml

TROPICS_LATITUDE = 23.44
_NORTH_SEASONS = {12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring", 5: "spring",
                  6: "summer", 7: "summer", 8: "summer", 9: "autumn", 10: "autumn", 11: "autumn"}
_OPPOSITE = {"winter": "summer", "summer": "winter", "spring": "autumn", "autumn": "spring"}


def generate(scene: Scene, context: GenerationContext) -> list[Question]:
    """Generate every global-level question the scene supports."""
    questions: list[Question] = []
    questions += _scene_type(scene, context)
    questions += _urban_rural(scene, context)
    questions += _season(scene, context)
    questions += _counting(scene, context)
    return questions


def season_of(month: int, latitude: float) -> str | None:
    """Return the meteorological season of ``month`` at ``latitude``; None inside the tropics."""
    if abs(latitude) < TROPICS_LATITUDE:
        return None
    season = _NORTH_SEASONS[month]
    return season if latitude > 0 else _OPPOSITE[season]


def _scene_type(scene: Scene, context: GenerationContext) -> list[Question]:
    rules = load_yaml("scenes.yaml")
    counts = Counter(o.category for o in scene.countable)
    neutral = set(rules.get("neutral", ()))
    if any(c not in neutral for c in counts):
        counts = Counter({c: n for c, n in counts.items() if c not in neutral})
    total = sum(counts.values())
    if total == 0:
        context.skip("scene_type", "no labelled objects")
        return []

    shares = {
        name: sum(counts.get(c, 0) for c in spec["classes"]) / total for name, spec in rules["scenes"].items()
    }
    ranked = sorted(shares.items(), key=lambda item: (-item[1], item[0]))
    (best, share), (_, runner_up) = ranked[0], ranked[1]
    if share < rules["min_share"] or share - runner_up < rules["min_margin"]:
        context.skip("scene_type", "label composition does not decide one scene")
        return []

    return [make_question(
        scene, "scene_type", "What is the main land use of this image?", best,
        measured={"scene_shares": {k: round(v, 4) for k, v in ranked if v > 0}, "objects": total},
        object_ids=[], rule="scene-composition",
    )]


def _urban_rural(scene: Scene, context: GenerationContext) -> list[Question]:
    if scene.area_m2 is None:
        context.skip("urban_rural", "GSD unknown, so density per km² cannot be measured")
        return []

    vocabulary = load_classes()
    built_up = [o for o in scene.countable if (info := vocabulary.resolve(o.category)) and info.built_up]
    density = len(built_up) / (scene.area_m2 / 1e6)
    thresholds = load_yaml("regions.yaml")["urban_rural"]
    if density >= thresholds["urban"]:
        answer = "urban"
    elif density <= thresholds["rural"]:
        answer = "rural"
    else:
        context.skip("urban_rural", "built-up density between the rural and urban thresholds")
        return []

    return [make_question(
        scene, "urban_rural", "Is this area urban or rural?", answer,
        measured={"built_up_objects": len(built_up), "area_km2": round(scene.area_m2 / 1e6, 6),
                  "density_per_km2": round(density, 3), "thresholds": thresholds},
        rule="built-up-density",
    )]


def _season(scene: Scene, context: GenerationContext) -> list[Question]:
    if scene.acquisition_date is None:
        context.skip("season", "acquisition date unknown")
        return []
    if scene.center_lat is None:
        context.skip("season", "image not georeferenced, so the hemisphere is unknown")
        return []

    season = season_of(scene.acquisition_date.month, scene.center_lat)
    if season is None:
        context.skip("season", "image lies in the tropics, where the four seasons do not apply")
        return []

    return [make_question(
        scene, "season", "In which season was this image most likely taken?", season,
        measured={"acquisition_date": scene.acquisition_date.isoformat(), "latitude": round(scene.center_lat, 5)},
        rule="date-hemisphere",
    )]


def _counting(scene: Scene, context: GenerationContext) -> list[Question]:
    vocabulary = load_classes()
    by_class: dict[str, list[str]] = {}
    for obj in scene.countable:
        by_class.setdefault(obj.category, []).append(obj.id)

    questions = []
    chosen = sample(context.rng(scene, "global_counting"), sorted(by_class), context.max_per_type)
    for category in chosen:
        ids = by_class[category]
        plural = vocabulary.resolve(category).plural_name
        questions.append(make_question(
            scene, "global_counting", f"How many {plural} are there in this image?", str(len(ids)),
            object_ids=ids, measured={"count": len(ids), "class": category}, rule="count-labels",
        ))
    if not questions:
        context.skip("global_counting", "no labelled objects")
    return questions
