"""Flat colors of the unlabelled ground of a demo scene: roads, water, lawns and fields by season.

Labelled objects take their colors from ``annotation/vocab/colors.yaml`` instead.
"""

from __future__ import annotations

from lrsgro.demo.shapes import RGB

ASPHALT: RGB = (72, 72, 76)
RUNWAY: RGB = (88, 88, 92)
TAXIWAY: RGB = (108, 108, 110)
CONCRETE: RGB = (176, 174, 166)
APRON: RGB = (186, 186, 180)
AIRFIELD_GRASS: RGB = (118, 138, 84)
GRAVEL: RGB = (160, 152, 130)
WATER: RGB = (40, 85, 135)
SAND: RGB = (190, 178, 140)
HEDGE: RGB = (56, 76, 42)
TREE: RGB = (34, 68, 36)
MARKING: RGB = (222, 222, 214)
SHADOW: RGB = (46, 48, 44)

FIELDS: dict[str, tuple[RGB, ...]] = {
    "spring": ((118, 158, 80), (132, 102, 72), (100, 146, 66), (140, 168, 96), (122, 98, 70)),
    "summer": ((72, 118, 48), (96, 138, 58), (60, 100, 42), (188, 168, 92), (120, 148, 62), (84, 128, 52)),
    "autumn": ((172, 142, 72), (150, 112, 62), (122, 118, 60), (186, 160, 100), (140, 100, 58)),
    "winter": ((120, 96, 70), (142, 118, 88), (165, 150, 122), (98, 104, 74), (132, 110, 84)),
}
LAWN: dict[str, RGB] = {
    "spring": (104, 142, 74),
    "summer": (92, 130, 66),
    "autumn": (130, 128, 76),
    "winter": (128, 126, 96),
}
