"""Tests of lrsgro.imagery.frames: the ZoomEarth crop rule and rescaling between frames."""

from __future__ import annotations

import numpy as np
import pytest

from lrsgro.errors import InputError
from lrsgro.imagery import (
    LRSGRO_FRAME_SIDE,
    clamp_box,
    frame_scale,
    frame_size,
    from_frame,
    from_normalized,
    to_frame,
    to_normalized,
    view_size,
    zoom_crop_window,
)


@pytest.mark.parametrize(
    ("box", "image_size", "expected"),
    [
        # a small box grows to 512 x 512 around its centre (1050, 1025)
        ((1000, 1000, 1100, 1050), (4000, 3000), (794, 769, 1306, 1281)),
        # near the top-left corner the window is shifted inside the image
        ((10, 10, 60, 40), (4000, 3000), (0, 0, 512, 512)),
        # near the bottom-right corner as well
        ((3950, 2980, 3990, 2999), (4000, 3000), (3488, 2488, 4000, 3000)),
        # a box of 512 or more on both sides is kept as it is
        ((100, 200, 900, 1000), (4000, 3000), (100, 200, 900, 1000)),
        ((100, 200, 612, 712), (4000, 3000), (100, 200, 612, 712)),
        # each axis on its own: 100 wide grows to 512, 800 tall stays 800
        ((1000, 1000, 1100, 1800), (4000, 3000), (794, 1000, 1306, 1800)),
        # an image smaller than 512 on both sides: the whole image
        ((10, 10, 20, 20), (300, 400), (0, 0, 300, 400)),
        # smaller than 512 on one side only
        ((10, 1000, 20, 1010), (300, 2000), (0, 749, 300, 1261)),
        # a large box is clamped to the image
        ((-100, -100, 700, 700), (4000, 3000), (0, 0, 700, 700)),
        # clamping first can leave a side short, which then grows
        ((-600, 0, 100, 600), (4000, 3000), (0, 0, 512, 600)),
        # a point grows like any small box
        ((2000, 1500, 2000, 1500), (4000, 3000), (1744, 1244, 2256, 1756)),
    ],
)
def test_zoom_crop_window_rule(
    box: tuple[float, ...], image_size: tuple[int, int], expected: tuple[float, ...]
) -> None:
    assert zoom_crop_window(box, image_size) == pytest.approx(expected)


def test_zoom_crop_window_starts_on_whole_pixels() -> None:
    window = zoom_crop_window((1000.3, 900.6, 1010.9, 905.2), (4000, 3000))

    assert window[0] == int(window[0])
    assert window[1] == int(window[1])
    assert window[2] - window[0] == 512
    assert window[3] - window[1] == 512


def test_zoom_crop_window_keeps_large_float_box() -> None:
    box = (10.25, 20.5, 900.75, 700.125)

    assert zoom_crop_window(box, (4000, 3000)) == box


def test_zoom_crop_window_custom_min_side() -> None:
    assert zoom_crop_window((500, 500, 510, 510), (1000, 1000), min_side=256) == (377, 377, 633, 633)
    assert zoom_crop_window((100, 100, 110, 110), (1000, 1000), min_side=256) == (0, 0, 256, 256)


@pytest.mark.parametrize(
    "box",
    [
        (5000, 100, 5100, 200),  # right of the image
        (-300, -300, -10, -10),  # above and left of it
        (100, 200, 50, 300),  # x1 < x0
        (0, 0, float("nan"), 10),
        (0, 0, 10),
    ],
)
def test_zoom_crop_window_rejects_bad_boxes(box: tuple[float, ...]) -> None:
    with pytest.raises(InputError):
        zoom_crop_window(box, (4000, 3000))


def test_clamp_box_clips_each_side() -> None:
    assert clamp_box((-5, 10, 120, 300), (100, 200)) == (0, 10, 100, 200)


@pytest.mark.parametrize(
    ("image_size", "long_side", "expected"),
    [
        ((4000, 3000), 1024, (1024, 768)),
        ((3000, 4000), 1024, (768, 1024)),
        ((20000, 7), 1024, (1024, 1)),
        ((500, 300), 1024, (1024, 614)),
    ],
)
def test_frame_size(image_size: tuple[int, int], long_side: int, expected: tuple[int, int]) -> None:
    assert frame_size(image_size, long_side) == expected


def test_view_size_never_upsamples() -> None:
    assert view_size((500, 300), 1024) == (500, 300)
    assert view_size((4000, 3000), 1024) == (1024, 768)


def test_to_frame_uses_long_side_scale() -> None:
    assert frame_scale((8000, 6000), 1024) == pytest.approx(0.128)
    assert to_frame((0, 0, 8000, 6000), (8000, 6000)) == pytest.approx((0, 0, 1024, 768))
    assert to_frame((800, 600, 1600, 1200), (8000, 6000), 512) == pytest.approx((51.2, 38.4, 102.4, 76.8))
    assert LRSGRO_FRAME_SIDE == 1024


def test_frame_round_trips() -> None:
    rng = np.random.default_rng(30)
    for _ in range(200):
        width, height = (int(v) for v in rng.integers(100, 40000, size=2))
        x0, x1 = sorted(rng.uniform(0, width, size=2))
        y0, y1 = sorted(rng.uniform(0, height, size=2))
        box = (x0, y0, x1, y1)
        long_side = int(rng.choice([512, 1024, 2048]))

        assert from_frame(to_frame(box, (width, height), long_side), (width, height), long_side) == pytest.approx(box)
        assert from_normalized(to_normalized(box, (width, height)), (width, height)) == pytest.approx(box)


def test_normalized_coordinates_per_axis() -> None:
    assert to_normalized((0, 0, 4000, 1000), (4000, 1000)) == pytest.approx((0, 0, 1000, 1000))
    assert to_normalized((1000, 250, 2000, 500), (4000, 1000)) == pytest.approx((250, 250, 500, 500))
    assert from_normalized((500, 500, 1000, 1000), (4000, 1000)) == pytest.approx((2000, 500, 4000, 1000))


def test_frame_between_view_and_full_resolution() -> None:
    # A box found in a 1024 view maps back to full resolution and into the LRS-GRO frame.
    image_size = (20000, 15000)
    in_view = (512.0, 384.0, 563.2, 435.2)

    full = from_frame(in_view, image_size, 1024)

    assert full == pytest.approx((10000, 7500, 11000, 8500))
    assert to_frame(full, image_size) == pytest.approx(in_view)


@pytest.mark.parametrize(
    "call",
    [
        lambda: frame_scale((0, 100), 1024),
        lambda: frame_scale((100, 100), 0),
        lambda: to_normalized((0, 0, 1, 1), (0, 10)),
        lambda: view_size((100, 100), -1),
    ],
)
def test_frames_reject_bad_sizes(call) -> None:
    with pytest.raises(InputError):
        call()
