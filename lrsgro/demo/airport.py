"""The airport of a demo scene: runway, taxiway, an apron with a terminal, parked and taxiing planes,
and service vehicles."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, box

from lrsgro.demo import palette
from lrsgro.demo.builder import SceneBuilder
from lrsgro.demo.shapes import oriented_box, plane_outline

RUNWAY_WIDTH = 70.0
TAXIWAY_WIDTH = 26.0
MAX_PLANE_LENGTH = 100.0
PLANE_COLORS = {"white": 5.0, "grey": 1.0}
SERVICE_COLORS = {"yellow": 3.0, "white": 1.0}
TANKER_COLORS = {"white": 2.0, "orange": 1.0}


def lay_out_airport(scene: SceneBuilder) -> None:
    """Lay out an airport in the bottom right of the canonical frame and link it to the highway.

    The airport is about 0.55 x 0.29 km on a 2048-pixel scene and 1.15 x 0.38 km on an 8192-pixel one.
    """
    size, k = scene.size, scene.scale
    room_x, room_y = 0.54 * size, 0.28 * size
    width, height = min(room_x, 1100 + 300 * k), min(room_y, 520 + 60 * k)
    x0 = 0.43 * size + scene.uniform(0.0, room_x - width)
    y0 = 0.69 * size + scene.uniform(0.0, room_y - height)
    x1, y1 = x0 + width, y0 + height

    link_x = scene.uniform(x0 + 0.2 * (x1 - x0), x1 - 0.2 * (x1 - x0))
    scene.paint(box(link_x - 9, scene.highway_y, link_x + 9, y0 + 40), palette.ASPHALT, 8)
    scene.paint(box(x0, y0, x1, y1), palette.AIRFIELD_GRASS, 10)
    scene.zones["airport"] = box(x0, y0, x1, y1)

    runway_y = y1 - 20 - RUNWAY_WIDTH / 2
    scene.paint(box(x0 + 20, runway_y - RUNWAY_WIDTH / 2, x1 - 20, runway_y + RUNWAY_WIDTH / 2), palette.RUNWAY, 6)
    centreline = MultiPolygon([box(x, runway_y - 1, x + 30, runway_y + 1) for x in np.arange(x0 + 40, x1 - 60, 60.0)])
    scene.paint(centreline, palette.MARKING, 4)

    taxi_y = runway_y - RUNWAY_WIDTH / 2 - 50 - TAXIWAY_WIDTH / 2
    half_taxi = TAXIWAY_WIDTH / 2
    scene.paint(box(x0 + 40, taxi_y - half_taxi, x1 - 40, taxi_y + half_taxi), palette.TAXIWAY, 6)
    for end in (x0 + 40, x1 - 40 - TAXIWAY_WIDTH):
        scene.paint(box(end, taxi_y, end + TAXIWAY_WIDTH, runway_y), palette.TAXIWAY, 6)

    ax0, ay0 = x0 + 30, y0 + 20
    ax1, ay1 = x1 - 30, taxi_y - half_taxi - 30
    apron = box(ax0, ay0, ax1, ay1)
    scene.paint(box(ax0 + 20, ay1 - 1, ax0 + 60, taxi_y), palette.TAXIWAY, 6)
    scene.paint(apron, palette.APRON, 6)
    scene.zones["apron"] = apron

    terminal_depth = scene.uniform(36.0, 50.0)
    terminal_length = (ax1 - ax0) * scene.uniform(0.45, 0.65)
    tx = ax0 + scene.uniform(10.0, ax1 - ax0 - terminal_length - 10)
    terminal = box(tx, ay0 + 8, tx + terminal_length, ay0 + 8 + terminal_depth)
    scene.place("building", scene.pick_color({"white": 1.0, "grey": 1.0}), terminal, group="terminal", shadow=6.0)

    _park_planes(scene, ax0, ax1, ay0 + 8 + terminal_depth + 24, ay1)
    _taxi_planes(scene, x0, x1, taxi_y)
    _place_service_vehicles(scene, apron)


def _park_planes(scene: SceneBuilder, x0: float, x1: float, top: float, bottom: float) -> None:
    """Park planes nose to the terminal in one row, or in two rows when the apron is deep enough."""
    for _ in range(1 + int(bottom - top > 3 * MAX_PLANE_LENGTH)):
        if top + MAX_PLANE_LENGTH > bottom - 10:
            return
        x = x0 + 10
        while True:
            length = scene.uniform(56.0, MAX_PLANE_LENGTH)
            span = length * scene.uniform(0.9, 1.05)
            if x + span > x1 - 10:
                break
            if scene.chance(0.8):
                cx, cy = x + span / 2, top + length / 2
                heading = -90 + scene.uniform(-5.0, 5.0)
                scene.place(
                    "plane",
                    scene.pick_color(PLANE_COLORS),
                    oriented_box(cx, cy, length, span, heading),
                    shape=plane_outline(cx, cy, length, span, heading),
                    group="apron",
                    shadow=3.0,
                )
            x += span + scene.uniform(10.0, 24.0)
        top += MAX_PLANE_LENGTH + 40


def _taxi_planes(scene: SceneBuilder, x0: float, x1: float, taxi_y: float) -> None:
    for _ in range(1 + int(scene.scale >= 2)):
        for _attempt in range(30):
            length = scene.uniform(56.0, MAX_PLANE_LENGTH)
            span = length * scene.uniform(0.9, 1.05)
            cx = scene.uniform(x0 + 60, x1 - 60)
            heading = scene.choice((0.0, 180.0)) + scene.uniform(-2.0, 2.0)
            placed = scene.place(
                "plane",
                scene.pick_color(PLANE_COLORS),
                oriented_box(cx, taxi_y, length, span, heading),
                shape=plane_outline(cx, taxi_y, length, span, heading),
                group="taxiway",
                shadow=3.0,
            )
            if placed:
                break


def _place_service_vehicles(scene: SceneBuilder, apron: shapely.Geometry) -> None:
    inner = apron.buffer(-6.0)
    shapely.prepare(inner)
    x0, y0, x1, y1 = inner.bounds
    fleet = (
        ("small vehicle", round(2 + 2 * scene.scale), (7.0, 9.0), 4.0, SERVICE_COLORS),
        ("large vehicle", round(1 + scene.scale), (18.0, 24.0), 6.0, TANKER_COLORS),
    )
    for category, count, (shortest, longest), width, colors in fleet:
        for _ in range(count):
            for _attempt in range(30):
                vehicle = oriented_box(
                    scene.uniform(x0, x1),
                    scene.uniform(y0, y1),
                    scene.uniform(shortest, longest),
                    width,
                    scene.uniform(0.0, 360.0),
                )
                if scene.place(category, scene.pick_color(colors), vehicle, group="apron", within=inner):
                    break
