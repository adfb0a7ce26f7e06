"""Find the regions of a scene: region labels, area-class labels, object clusters, the 3x3 grid.

Region annotations (``is_region``) and labels of area classes (a harbor, an airport) become
regions named by a referring expression that must be unique; area labels are widened by 20 m
(2% of the image side without GSD) so that objects along their edge belong to them. Clusters group nearby objects of
one class; their linking distance is 30 m when the GSD is known, else 3% of the image side.
The 3x3 grid is always added.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

import numpy as np
from shapely.geometry import MultiPoint, box

from lrsgro.objects import LabeledObject
from lrsgro.referring import unique_references
from lrsgro.scene import Region, Scene, cell_phrase
from lrsgro.vocab import load_classes

CLUSTER_LINK_METRES = 30.0
CLUSTER_LINK_FRACTION = 0.03
CLUSTER_MIN_OBJECTS = 5
# A labelled area (a harbor pier, an airport apron) includes what lies along its edge: ships
# moor beside a pier, not on it. Region annotations are taken as drawn.
AREA_MARGIN_METRES = 20.0
AREA_MARGIN_FRACTION = 0.02


def find_regions(scene: Scene) -> list[Region]:
    """Return the regions of ``scene`` in a stable order: labels, clusters, grid.

    Every region is clipped to the image, so its ROI box never leaves it.
    """
    frame = box(0, 0, scene.width, scene.height)
    regions = []
    for region in _label_regions(scene) + _cluster_regions(scene) + scene.grid_regions():
        clipped = region.geometry.intersection(frame)
        if clipped.is_empty or clipped.area <= 0:
            continue
        regions.append(replace(region, geometry=clipped))
    return regions


def _label_regions(scene: Scene) -> list[Region]:
    vocabulary = load_classes()
    areas = [
        o
        for o in scene.objects
        if o.is_region or (vocabulary.resolve(o.category) is not None and vocabulary.resolve(o.category).kind == "area")
    ]
    margin = AREA_MARGIN_METRES / scene.gsd if scene.gsd else AREA_MARGIN_FRACTION * max(scene.width, scene.height)
    regions = []
    for reference in unique_references(scene, areas):
        obj = reference.obj
        geometry = obj.geometry if obj.is_region else obj.geometry.buffer(margin, join_style="mitre")
        regions.append(Region(f"label-{obj.id}", reference.expression, geometry, "label", obj.id, obj.category))
    return regions


def _cluster_regions(scene: Scene) -> list[Region]:
    link = CLUSTER_LINK_METRES / scene.gsd if scene.gsd else CLUSTER_LINK_FRACTION * max(scene.width, scene.height)
    by_class: dict[str, list[LabeledObject]] = defaultdict(list)
    for obj in scene.countable:
        by_class[obj.category].append(obj)

    regions = []
    for category in sorted(by_class):
        for members in _single_linkage(by_class[category], link):
            if len(members) < CLUSTER_MIN_OBJECTS:
                continue
            hull = MultiPoint([p for o in members for p in o.polygon]).convex_hull
            if hull.area <= 0:
                continue
            cx, cy = hull.centroid.x, hull.centroid.y
            where = cell_phrase(scene.grid_cell(cx, cy))
            plural = load_classes().resolve(category).plural_name
            regions.append(Region(
                f"cluster-{category}-{members[0].id}", f"the group of {plural} in {where}", hull.buffer(link / 2),
                "cluster", category=category,
            ))

    counts: dict[str, int] = defaultdict(int)
    for region in regions:
        counts[region.expression] += 1
    return [r for r in regions if counts[r.expression] == 1]


def _single_linkage(objects: list[LabeledObject], link: float) -> list[list[LabeledObject]]:
    """Group objects whose centroids are chained within ``link`` pixels (union-find on a grid)."""
    if not objects:
        return []
    points = np.array([o.centroid for o in objects])
    parent = list(range(len(objects)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    cells: dict[tuple[int, int], list[int]] = defaultdict(list)
    for index, (x, y) in enumerate(points):
        cells[(int(x // link), int(y // link))].append(index)

    for (cx, cy), members in cells.items():
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for j in cells.get((cx + dx, cy + dy), ()):
                    for i in members:
                        if i < j and np.hypot(*(points[i] - points[j])) <= link:
                            parent[find(i)] = find(j)

    groups: dict[int, list[LabeledObject]] = defaultdict(list)
    for index, obj in enumerate(objects):
        groups[find(index)].append(obj)
    return sorted(groups.values(), key=lambda g: g[0].id)
