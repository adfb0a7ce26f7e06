"""The town of a demo scene: a street grid turned by a small angle, with a roundabout and blocks of
houses with pools, offices, a parking lot, tennis courts and a park.

The grid is laid out axis-aligned around the town centre and every geometry is turned by the town's
angle just before it is placed.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from shapely import affinity
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from lrsgro.demo import palette
from lrsgro.demo.builder import SceneBuilder
from lrsgro.demo.landscape import ROOF_COLORS, random_vehicle
from lrsgro.demo.shapes import Paint, disc, oriented_box, square_around

ROAD_WIDTH = 18.0
BLOCK_INSET = 8.0
COURT_LENGTH, COURT_WIDTH = 66.0, 32.0
OFFICE_COLORS = {"white": 3.0, "grey": 3.0, "blue": 1.0}

Turn = Callable[[BaseGeometry], BaseGeometry]


def lay_out_town(scene: SceneBuilder) -> None:
    """Lay out a town in the top right of the canonical frame and link it to the highway.

    The town is about 0.5 km a side on a 2048-pixel scene and 1 km on an 8192-pixel one.
    """
    size, rng = scene.size, scene.rng
    angle = scene.uniform(-12.0, 12.0)
    x0, y0, room_x, room_y = 0.43 * size, 0.03 * size, 0.54 * size, 0.53 * size
    spread = abs(math.cos(math.radians(angle))) + abs(math.sin(math.radians(angle)))
    side = min(min(room_x, room_y) / spread, 1000 + 250 * scene.scale)
    extent = side * spread
    cx = x0 + extent / 2 + scene.uniform(0.0, room_x - extent)
    cy = y0 + extent / 2 + scene.uniform(0.0, room_y - extent)
    left, top = cx - side / 2, cy - side / 2

    def turn(geometry: BaseGeometry) -> BaseGeometry:
        return affinity.rotate(geometry, angle, origin=(cx, cy))

    scene.paint(box(cx - ROAD_WIDTH / 2, cy, cx + ROAD_WIDTH / 2, scene.highway_y), palette.ASPHALT, 8)
    square = turn(box(left, top, left + side, top + side))
    scene.paint(square, palette.ASPHALT, 8)
    scene.zones["urban area"] = square

    per_side = max(4, round(side / 400)) + int(rng.integers(2))
    block = (side - (per_side + 1) * ROAD_WIDTH) / per_side
    pitch = block + ROAD_WIDTH
    _place_roundabout(scene, turn, left, top, pitch, per_side)

    kinds = ["parking", "sports", "offices", "offices", "park"]
    kinds += ["houses"] * (per_side * per_side - len(kinds))
    kinds = [kinds[i] for i in rng.permutation(len(kinds))]
    for index, kind in enumerate(kinds):
        bx = left + ROAD_WIDTH + (index % per_side) * pitch
        by = top + ROAD_WIDTH + (index // per_side) * pitch
        cell = box(bx, by, bx + block, by + block)
        ground = palette.CONCRETE if kind in ("offices", "parking") else palette.LAWN[scene.season]
        scene.paint(turn(cell), scene.jitter(ground, 6), 10)
        _BLOCKS[kind](scene, turn, cell.buffer(-BLOCK_INSET, join_style="mitre"))

    _place_street_traffic(scene, turn, left, top, side, pitch, per_side)


def _place_roundabout(scene: SceneBuilder, turn: Turn, left: float, top: float, pitch: float, count: int) -> None:
    i, j = (int(v) for v in scene.rng.integers(1, count, size=2))
    x, y = left + i * pitch + ROAD_WIDTH / 2, top + j * pitch + ROAD_WIDTH / 2
    radius = scene.uniform(30.0, 38.0)
    island = disc(x, y, 0.5 * radius)
    scene.place(
        "roundabout",
        "grey",
        turn(square_around(x, y, radius)),
        shape=turn(disc(x, y, radius).difference(island)),
        group="roundabout",
        details=[Paint(turn(island), palette.LAWN[scene.season], 10)],
    )


def _fill_houses(scene: SceneBuilder, turn: Turn, cell: Polygon) -> None:
    """Scatter two to five houses, about half of them with a swimming pool beside them."""
    x0, y0, x1, y1 = cell.bounds
    for _ in range(int(scene.rng.integers(2, 6))):
        for _attempt in range(20):
            length, width = scene.uniform(22.0, 40.0), scene.uniform(18.0, 32.0)
            heading = scene.choice((0.0, 90.0)) + scene.uniform(-4.0, 4.0)
            hx, hy = scene.uniform(x0, x1), scene.uniform(y0, y1)
            house = oriented_box(hx, hy, length, width, heading)
            if not cell.contains(house):
                continue
            if scene.place("building", scene.pick_color(ROOF_COLORS), turn(house), group="houses", shadow=4.0):
                if scene.chance(0.5):
                    _add_pool(scene, turn, cell, (hx, hy, length, width, heading))
                break


def _add_pool(
    scene: SceneBuilder, turn: Turn, cell: Polygon, house: tuple[float, float, float, float, float]
) -> None:
    hx, hy, length, width, heading = house
    pool_length, pool_width = scene.uniform(12.0, 22.0), scene.uniform(7.0, 12.0)
    quarter = int(scene.rng.integers(4))
    direction = math.radians(heading + 90 * quarter)
    if quarter % 2 == 0:
        reach = length / 2 + 5 + pool_length / 2
    else:
        reach = width / 2 + 5 + pool_width / 2
    px, py = hx + reach * math.cos(direction), hy + reach * math.sin(direction)
    pool = oriented_box(px, py, pool_length, pool_width, heading)
    if cell.contains(pool):
        scene.place("swimming pool", "cyan", turn(pool), group="houses")


def _fill_offices(scene: SceneBuilder, turn: Turn, cell: Polygon) -> None:
    """Put one to three large office buildings on a paved block."""
    x0, y0, x1, y1 = cell.bounds
    extent = x1 - x0
    for _ in range(int(scene.rng.integers(1, 4))):
        for _attempt in range(20):
            length = min(220.0, max(50.0, scene.uniform(0.25, 0.55) * extent))
            width = min(220.0, max(40.0, scene.uniform(0.2, 0.45) * extent))
            office = oriented_box(
                scene.uniform(x0, x1), scene.uniform(y0, y1), length, width, scene.uniform(-3.0, 3.0)
            )
            if cell.contains(office) and scene.place(
                "building", scene.pick_color(OFFICE_COLORS), turn(office), group="offices", shadow=6.0
            ):
                break


def _fill_parking(scene: SceneBuilder, turn: Turn, cell: Polygon) -> None:
    """Pave a parking lot and park cars in back-to-back rows of 7-pixel slots, half of them taken."""
    x0, y0, x1, y1 = cell.bounds
    lot_width = min(x1 - x0, 110 + 30 * scene.scale)
    lot_height = min(y1 - y0, 80 + 20 * scene.scale)
    lx0, ly0 = (x0 + x1 - lot_width) / 2, (y0 + y1 - lot_height) / 2
    lot = box(lx0, ly0, lx0 + lot_width, ly0 + lot_height)
    scene.paint(turn(lot), palette.ASPHALT, 8)
    scene.zones["parking lot"] = turn(lot)

    row_top = ly0 + 3
    while row_top + 24 <= ly0 + lot_height - 3:
        for row in range(2):
            cy = row_top + 12 * row + 6
            x = lx0 + 4
            while x + 7 <= lx0 + lot_width - 4:
                if scene.chance(0.5):
                    heading = 90 + scene.choice((0.0, 180.0)) + scene.uniform(-3.0, 3.0)
                    car, color = random_vehicle(scene, "small vehicle", x + 3.5, cy, heading)
                    scene.place("small vehicle", color, turn(car), group="parking lot")
                x += 7
        row_top += 24 + 14


def _fill_sports(scene: SceneBuilder, turn: Turn, cell: Polygon) -> None:
    """Lay out tennis courts in a grid, mostly in one surface color, each with a white net."""
    x0, y0, x1, y1 = cell.bounds
    along_x = scene.chance(0.5)
    step_x = (COURT_LENGTH if along_x else COURT_WIDTH) + 10
    step_y = (COURT_WIDTH if along_x else COURT_LENGTH) + 10
    cols, rows = int((x1 - x0) // step_x), int((y1 - y0) // step_y)
    main, other = ("green", "blue") if scene.chance(0.5) else ("blue", "green")
    heading = 0.0 if along_x else 90.0

    court_count = min(round(2 + scene.scale), cols * rows)
    for index in range(court_count):
        cx = x0 + (index % cols + 0.5) * step_x
        cy = y0 + (index // cols + 0.5) * step_y
        net = oriented_box(cx, cy, 1.5, COURT_WIDTH - 4, heading)
        scene.place(
            "tennis court",
            main if scene.chance(0.8) else other,
            turn(oriented_box(cx, cy, COURT_LENGTH, COURT_WIDTH, heading)),
            group="sports ground",
            details=[Paint(turn(net), palette.MARKING, 3)],
        )


def _fill_park(scene: SceneBuilder, turn: Turn, cell: Polygon) -> None:
    """Plant trees on a lawn around a public swimming pool."""
    x0, y0, x1, y1 = cell.bounds
    pool = None
    if scene.chance(0.7):
        length, width = scene.uniform(40.0, 60.0), scene.uniform(20.0, 30.0)
        candidate = oriented_box(scene.uniform(x0, x1), scene.uniform(y0, y1), length, width, 0.0)
        if cell.contains(candidate) and scene.place("swimming pool", "cyan", turn(candidate), group="park"):
            pool = candidate

    crowns = []
    for _ in range(round(20 + 10 * scene.scale)):
        crown = disc(scene.uniform(x0, x1), scene.uniform(y0, y1), scene.uniform(5.0, 12.0))
        if cell.contains(crown) and (pool is None or crown.distance(pool) > 6):
            crowns.append(crown)
    if crowns:
        scene.paint(turn(unary_union(crowns)), palette.TREE, 12)


def _place_street_traffic(
    scene: SceneBuilder, turn: Turn, left: float, top: float, side: float, pitch: float, count: int
) -> None:
    """Put cars and trucks in the lanes of the street grid, kept clear of the roundabout."""
    streets = box(left, top, left + side, top + side)
    for category, count in (("small vehicle", round(6 + 6 * scene.scale)), ("large vehicle", round(1 + scene.scale))):
        for _ in range(count):
            for _attempt in range(30):
                line = int(scene.rng.integers(count + 1))
                along = scene.uniform(left + 10, left + side - 10)
                lane = scene.choice((-1, 1))
                across = line * pitch + ROAD_WIDTH / 2 + lane * ROAD_WIDTH / 4
                if scene.chance(0.5):
                    cx, cy, heading = along, top + across, (0.0 if lane > 0 else 180.0)
                else:
                    cx, cy, heading = left + across, along, (270.0 if lane > 0 else 90.0)
                heading += scene.uniform(-2.0, 2.0)
                shape, color = random_vehicle(scene, category, cx, cy, heading)
                if streets.contains(shape) and scene.place(category, color, turn(shape), group="streets"):
                    break


_BLOCKS: dict[str, Callable[[SceneBuilder, Turn, Polygon], None]] = {
    "houses": _fill_houses,
    "offices": _fill_offices,
    "parking": _fill_parking,
    "sports": _fill_sports,
    "park": _fill_park,
}
