"""The countryside of a demo scene: river, highway and bridge, harbor, tank farm, fields and farms.

Every function lays out one feature in the canonical frame (river on the left, town top right,
airport bottom right) and records what later steps need on the builder.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.ops import unary_union

from lrsgro.demo import palette
from lrsgro.demo.builder import SceneBuilder
from lrsgro.demo.shapes import Paint, disc, oriented_box, ship_outline, square_around

HIGHWAY_WIDTH = 24.0
SHIP_COLORS = {"white": 6.0, "grey": 3.0}
BOAT_COLORS = {"white": 6.0, "grey": 2.0, "blue": 1.0, "red": 1.0}
TANK_COLORS = {"white": 6.0, "grey": 1.0}
TRUCK_COLORS = {"white": 3.0, "orange": 1.5, "blue": 1.0, "red": 1.0, "grey": 1.0}
CAR_COLORS = {"white": 3.0, "black": 2.0, "grey": 2.0, "red": 1.2, "blue": 1.2, "yellow": 0.6}
ROOF_COLORS = {"red": 3.0, "grey": 2.0, "brown": 2.0, "white": 1.0, "orange": 1.0}


def lay_out_river(scene: SceneBuilder) -> None:
    """Paint a winding river with sandy banks near the left edge.

    The river is about 205 m wide on a 2048-pixel scene and 400 m on an 8192-pixel one, give or take 15%.
    """
    size = scene.size
    ys = np.linspace(-0.02 * size, 1.02 * size, max(33, size // 48))
    t = ys / size
    phase = scene.rng.uniform(0.0, 2 * math.pi, size=3)
    width = min(0.2 * size, 400 + 100 * scene.scale)
    left = size * (0.055 + 0.012 * np.sin(2 * math.pi * 1.3 * t + phase[0]))
    right = left + width * (
        1 + 0.11 * np.sin(2 * math.pi * 0.9 * t + phase[1]) + 0.04 * np.sin(2 * math.pi * 3.1 * t + phase[2])
    )

    water = Polygon([*zip(left, ys, strict=True), *zip(right[::-1], ys[::-1], strict=True)])
    scene.paint(water.buffer(6.0), palette.SAND, 10)
    scene.paint(water, palette.WATER, 5)

    scene.water = water
    scene.bank_ys, scene.left_bank, scene.right_bank = ys, left, right
    scene.zones["water"] = water


def lay_out_highway(scene: SceneBuilder) -> None:
    """Paint an east-west highway across the scene and label the bridge where it crosses the river."""
    size = scene.size
    y = scene.uniform(0.60, 0.64) * size
    half = HIGHWAY_WIDTH / 2

    scene.paint(box(-10, y - half, size + 10, y + half), palette.ASPHALT, 8)
    dashes = MultiPolygon([box(x, y - 0.75, x + 14, y + 0.75) for x in np.arange(0.0, size, 32.0)])
    scene.paint(dashes, palette.MARKING, 4)

    crossing = scene.water.intersection(box(-10, y - HIGHWAY_WIDTH, size + 10, y + HIGHWAY_WIDTH))
    x0, _, x1, _ = crossing.bounds
    deck = box(x0 - 20, y - half - 5, x1 + 20, y + half + 5)
    scene.place("bridge", "grey", deck, group="highway")
    scene.highway_y = y


def lay_out_harbor(scene: SceneBuilder) -> None:
    """Lay out a quay on the right bank with piers (label ``harbor``), moored boats and parked trucks."""
    size, k = scene.size, scene.scale
    count = 1 + int(k >= 2)
    top, bottom = 0.36 * size, 0.54 * size
    slot = (bottom - top) / count

    pier_ys = [top + slot * (i + 0.5) + scene.uniform(-0.15, 0.15) * slot for i in range(count)]
    quay_top, quay_bottom = pier_ys[0] - 60 - 20 * k, pier_ys[-1] + 60 + 20 * k
    bank = np.interp(np.linspace(quay_top, quay_bottom, 16), scene.bank_ys, scene.right_bank)
    quay = box(bank.min() - 10, quay_top, bank.max() + 70, quay_bottom)
    scene.paint(quay, palette.CONCRETE, 8)
    scene.zones["harbor quay"] = quay

    ship_water = scene.water.difference(quay).buffer(-6.0)
    shapely.prepare(ship_water)
    scene.ship_water = ship_water

    for y in pier_ys:
        bank_x = float(np.interp(y, scene.bank_ys, scene.right_bank))
        river_width = bank_x - float(np.interp(y, scene.bank_ys, scene.left_bank))
        length = min(river_width * scene.uniform(0.3, 0.42), 160 + 40 * k)
        width = scene.uniform(34.0, 46.0)
        pier = box(bank_x - length, y - width / 2, bank.max() + 14, y + width / 2)
        if scene.place("harbor", "grey", pier, group="harbor") is not None:
            _moor_boats(scene, pier, quay.bounds[0])

    quay_land = quay.difference(scene.water.buffer(4.0))
    shapely.prepare(quay_land)
    qx0, qy0, qx1, qy1 = quay_land.bounds
    for _ in range(round(2 + 2 * k)):
        for _attempt in range(30):
            length = scene.uniform(20.0, 28.0)
            truck = oriented_box(
                scene.uniform(qx0, qx1), scene.uniform(qy0, qy1), length, 6.0, 90 + scene.uniform(-3, 3)
            )
            if scene.place("large vehicle", scene.pick_color(TRUCK_COLORS), truck, group="harbor", within=quay_land):
                break


def lay_out_ships(scene: SceneBuilder) -> None:
    """Anchor ships at random headings along the river, away from the harbor."""
    x0, y0, x1, y1 = scene.ship_water.bounds
    for _ in range(round(2 + 1.5 * scene.scale)):
        for _attempt in range(200):
            length = scene.uniform(50.0, 130.0)
            heading = 90 + scene.uniform(-30, 30) + scene.choice((0, 180))
            cx, cy = scene.uniform(x0, x1), scene.uniform(y0, y1)
            beam = length * scene.uniform(0.16, 0.22)
            hull = ship_outline(cx, cy, length, beam, heading)
            label = oriented_box(cx, cy, length, beam, heading)
            color = scene.pick_color(SHIP_COLORS)
            if scene.place("ship", color, label, shape=hull, group="anchorage", within=scene.ship_water):
                break


def lay_out_tank_farm(scene: SceneBuilder) -> None:
    """Lay out storage tanks in a loose grid on gravel between the river and the town."""
    size, k = scene.size, scene.scale
    height = min(0.25 * size, 500 + 150 * k)
    y0 = 0.06 * size + scene.uniform(0.0, 0.25 * size - height)
    y1 = y0 + height
    bank = np.interp(np.linspace(y0, y1, 16), scene.bank_ys, scene.right_bank)
    west, east = bank.max() + 0.035 * size, 0.40 * size
    width = min(east - west, 200 + 100 * k)
    x0 = west + scene.uniform(0.0, east - west - width)
    x1 = x0 + width
    yard = box(x0, y0, x1, y1)
    scene.paint(yard, palette.GRAVEL, 10)
    scene.zones["tank farm"] = yard

    grow = math.sqrt(k)
    cell = 56 * grow + 14
    cols, rows = int((x1 - x0 - 8) // cell), int((y1 - y0 - 8) // cell)
    for row in range(rows):
        for col in range(cols):
            if not scene.chance(0.8):
                continue
            radius = scene.uniform(12.0, 28.0) * grow
            room = cell / 2 - radius - 4
            cx = x0 + 4 + (col + 0.5) * cell + scene.uniform(-room, room)
            cy = y0 + 4 + (row + 0.5) * cell + scene.uniform(-room, room)
            scene.place(
                "storage tank",
                scene.pick_color(TANK_COLORS),
                square_around(cx, cy, radius),
                shape=disc(cx, cy, radius),
                group="tank farm",
                shadow=max(3.0, 0.2 * radius),
            )


def lay_out_traffic(scene: SceneBuilder) -> None:
    """Put cars and trucks on both lanes of the highway, never on the bridge."""
    size, k, y = scene.size, scene.scale, scene.highway_y
    for category, count in (("small vehicle", round(4 + 6 * k)), ("large vehicle", round(1 + 2 * k))):
        for _ in range(count):
            for _attempt in range(30):
                lane = scene.choice((-1, 1))
                heading = (0 if lane > 0 else 180) + scene.uniform(-2, 2)
                cx, cy = scene.uniform(0.0, size), y + lane * HIGHWAY_WIDTH / 4
                vehicle, color = random_vehicle(scene, category, cx, cy, heading)
                if scene.place(category, color, vehicle, group="highway"):
                    break


def random_vehicle(scene: SceneBuilder, category: str, cx: float, cy: float, heading: float) -> tuple[Polygon, str]:
    """Return the box and color of a random car (``small vehicle``) or truck centred on (cx, cy).

    ``heading`` is in degrees. Size and color are drawn from ``scene``'s generator, size first.
    """
    if category == "small vehicle":
        vehicle = oriented_box(cx, cy, scene.uniform(8.0, 10.0), scene.uniform(3.6, 4.2), heading)
        return vehicle, scene.pick_color(CAR_COLORS)

    vehicle = oriented_box(cx, cy, scene.uniform(20.0, 28.0), 6.0, heading)
    return vehicle, scene.pick_color(TRUCK_COLORS)


def lay_out_farms(scene: SceneBuilder) -> None:
    """Fill the scene with fields in the season's colors and scatter farm buildings among them.

    Fields hidden under water, the town or the airport are left out, so they cost nothing to paint.
    """
    size, rng = scene.size, scene.rng
    covered = unary_union([scene.zones[name] for name in ("water", "urban area", "airport")])
    shapely.prepare(covered)
    field_colors = palette.FIELDS[scene.season]

    y = -scene.uniform(0.0, 100.0)
    while y < size:
        height = scene.uniform(120.0, 320.0)
        x = -scene.uniform(0.0, 150.0)
        while x < size:
            width = scene.uniform(150.0, 420.0)
            field = box(x + 2, y + 2, x + width - 2, y + height - 2)
            color = scene.jitter(field_colors[int(rng.integers(len(field_colors)))], 10)
            if not covered.contains(field):
                scene.fields.append(Paint(field, color, 12))
            x += width
        y += height

    built = unary_union(
        [
            covered.buffer(12.0),
            scene.zones["tank farm"].buffer(12.0),
            scene.zones["harbor quay"].buffer(12.0),
            box(-10, scene.highway_y - 30, size + 10, scene.highway_y + 30),
        ]
    )
    farmland = box(0, 0, size, size).difference(built)
    shapely.prepare(farmland)
    scene.zones["farmland"] = farmland

    for _ in range(round(2 + scene.scale)):
        for _attempt in range(50):
            barn = oriented_box(
                scene.uniform(0, size),
                scene.uniform(0, size),
                scene.uniform(30.0, 60.0),
                scene.uniform(20.0, 36.0),
                scene.uniform(0, 180),
            )
            if scene.place("building", scene.pick_color(ROOF_COLORS), barn, group="farm", within=farmland, shadow=5.0):
                break


def _moor_boats(scene: SceneBuilder, pier: Polygon, quay_x: float) -> None:
    """Moor small boats side by side along both long edges of a pier, bows pointing away from it."""
    px0, py0, _, py1 = pier.bounds
    for side, edge in ((-1, py0), (1, py1)):
        x = px0 + 6
        while x < quay_x - 16:
            length = scene.uniform(20.0, 36.0)
            beam = length * scene.uniform(0.3, 0.38)
            cx, cy = x + beam / 2, edge + side * (3 + length / 2)
            heading = 90 * side
            if scene.chance(0.65):
                hull = ship_outline(cx, cy, length, beam, heading)
                label = oriented_box(cx, cy, length, beam, heading)
                scene.place(
                    "ship", scene.pick_color(BOAT_COLORS), label, shape=hull, group="marina", within=scene.ship_water
                )
            x += beam + scene.uniform(4.0, 8.0)
