"""Tests of lrsgro.imagery: header facts, views, crops, band mapping, errors and encoding.

Every image is written by seeded code into tmp_path; the NAIP tests read the real sample tiles.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
from PIL import Image
from rasterio.enums import ColorInterp, Resampling
from rasterio.transform import from_origin
from rasterio.windows import Window

from lrsgro.errors import ImageError, InputError
from lrsgro.imagery import (
    UHRImage,
    date_from_name,
    encode_jpeg,
    encode_png,
    open_image,
)
from lrsgro.imagery.memory import clear_decoded

NAIP_2009 = "naip/m_4709963_se_14_1_20090818.tif"

# The helpers write pixel-only files on purpose; the library's own reads are checked below.
pytestmark = pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")


def write_geotiff(
    path: Path,
    bands: np.ndarray,
    *,
    crs: str | None = None,
    transform=None,
    tags: dict[str, str] | None = None,
    colorinterp: list[ColorInterp] | None = None,
    overviews: list[int] | None = None,
    nodata: float | None = None,
) -> Path:
    """Write a (bands, rows, cols) array as a tiled GeoTIFF."""
    profile = {
        "driver": "GTiff",
        "width": bands.shape[2],
        "height": bands.shape[1],
        "count": bands.shape[0],
        "dtype": bands.dtype.name,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
    }
    if crs is not None:
        profile["crs"] = crs
        profile["transform"] = transform
    if nodata is not None:
        profile["nodata"] = nodata

    with rasterio.open(path, "w", **profile) as dst:
        dst.write(bands)
        if tags:
            dst.update_tags(**tags)
        if colorinterp:
            dst.colorinterp = colorinterp
        if overviews:
            dst.build_overviews(overviews, Resampling.average)
    return path


def random_bands(seed: int, count: int, height: int, width: int, dtype: str = "uint8") -> np.ndarray:
    """Seeded random bands covering the full range of ``dtype``."""
    rng = np.random.default_rng(seed)
    high = np.iinfo(dtype).max
    return rng.integers(0, high, size=(count, height, width), endpoint=True, dtype=dtype)


def write_png(path: Path, rgb: np.ndarray) -> Path:
    """Write a rows x cols x 3 (or x 4) uint8 array as PNG with Pillow."""
    Image.fromarray(rgb).save(path)
    return path


def quadrant_image(size: int) -> tuple[np.ndarray, dict[str, tuple[int, int, int]]]:
    """A (3, size, size) image with one flat colour per quadrant."""
    colours = {
        "top_left": (200, 30, 30),
        "top_right": (30, 200, 30),
        "bottom_left": (30, 30, 200),
        "bottom_right": (240, 240, 40),
    }
    half = size // 2
    bands = np.zeros((3, size, size), dtype=np.uint8)
    for name, (rows, cols) in {
        "top_left": (slice(0, half), slice(0, half)),
        "top_right": (slice(0, half), slice(half, size)),
        "bottom_left": (slice(half, size), slice(0, half)),
        "bottom_right": (slice(half, size), slice(half, size)),
    }.items():
        bands[:, rows, cols] = np.asarray(colours[name], dtype=np.uint8)[:, None, None]
    return bands, colours


@pytest.fixture(autouse=True)
def _fresh_decoded_cache():
    clear_decoded()
    yield
    clear_decoded()


# Header facts


def test_header_of_projected_geotiff(tmp_path: Path) -> None:
    bands = random_bands(1, 3, 300, 400)
    transform = from_origin(500000.0, 3500000.0, 0.5, 0.5)
    path = write_geotiff(tmp_path / "scene.tif", bands, crs="EPSG:32650", transform=transform)

    info = open_image(path)

    assert info.path == path
    assert (info.width, info.height, info.count) == (400, 300, 3)
    assert info.dtype == "uint8"
    assert info.crs == "EPSG:32650"
    assert info.transform == (0.5, 0.0, 500000.0, 0.0, -0.5, 3500000.0)
    assert info.gsd == pytest.approx(0.5)
    assert info.format == "GTiff"
    assert info.acquisition_date is None
    assert info.size == (400, 300)


def test_header_of_pixel_only_image(tmp_path: Path) -> None:
    path = write_geotiff(tmp_path / "plain.tif", random_bands(2, 1, 50, 60))

    info = open_image(path)

    assert info.crs is None
    assert info.transform is None
    assert info.gsd is None
    assert info.center_lat is None
    assert info.count == 1


def test_header_of_16_bit_four_bands(tmp_path: Path) -> None:
    path = write_geotiff(tmp_path / "deep.tif", random_bands(3, 4, 40, 30, "uint16"))

    info = open_image(path)

    assert info.dtype == "uint16"
    assert info.count == 4


def test_centre_latitude_north_and_south(tmp_path: Path) -> None:
    bands = random_bands(4, 1, 100, 100)
    north = write_geotiff(
        tmp_path / "north.tif", bands, crs="EPSG:32650", transform=from_origin(500000, 3500000, 1, 1)
    )
    # Northing 7,000,000 m in a southern UTM zone is about 27 degrees south.
    south = write_geotiff(
        tmp_path / "south.tif", bands, crs="EPSG:32750", transform=from_origin(500000, 7000000, 1, 1)
    )

    north_lat = open_image(north).center_lat
    south_lat = open_image(south).center_lat

    assert north_lat is not None
    assert 31.0 < north_lat < 32.0
    assert south_lat is not None
    assert -28.0 < south_lat < -26.0


def test_gsd_of_geographic_crs(tmp_path: Path) -> None:
    bands = random_bands(5, 1, 100, 100)
    degrees = 1e-5
    equator = write_geotiff(
        tmp_path / "equator.tif", bands, crs="EPSG:4326", transform=from_origin(10.0, 0.0005, degrees, degrees)
    )
    sixty = write_geotiff(
        tmp_path / "sixty.tif", bands, crs="EPSG:4326", transform=from_origin(10.0, 60.0005, degrees, degrees)
    )
    metres_per_degree = 2 * math.pi * 6_371_008.8 / 360

    assert open_image(equator).gsd == pytest.approx(degrees * metres_per_degree, rel=1e-3)
    assert open_image(sixty).gsd == pytest.approx(degrees * metres_per_degree * math.sqrt(0.5), rel=1e-3)
    assert open_image(sixty).center_lat == pytest.approx(60.0, abs=1e-3)


def test_gsd_converts_feet_to_metres(tmp_path: Path) -> None:
    # EPSG:2263 (New York Long Island, US survey feet).
    path = write_geotiff(
        tmp_path / "feet.tif", random_bands(6, 1, 20, 20), crs="EPSG:2263", transform=from_origin(1e6, 2e5, 1, 1)
    )

    assert open_image(path).gsd == pytest.approx(1200 / 3937, rel=1e-6)


@pytest.mark.parametrize(
    ("tags", "name", "expected", "source"),
    [
        ({"TIFFTAG_DATETIME": "2021:06:15 10:00:00"}, "a.tif", dt.date(2021, 6, 15), "TIFFTAG_DATETIME"),
        ({"ACQUISITIONDATE": "2020-01-02"}, "a.tif", dt.date(2020, 1, 2), "metadata"),
        (
            {"ACQUISITIONDATE": "2019-07-30T10:20:00Z", "TIFFTAG_DATETIME": "2023:01:01 00:00:00"},
            "b_20180101.tif",
            dt.date(2019, 7, 30),
            "metadata",
        ),
        ({"TIFFTAG_DATETIME": "2023:01:01 00:00:00"}, "c_20180405.tif", dt.date(2018, 4, 5), "file name"),
        ({"TIFFTAG_DATETIME": "not a date"}, "d.tif", None, None),
        ({}, "e.tif", None, None),
    ],
)
def test_acquisition_date_sources(
    tmp_path: Path, tags: dict[str, str], name: str, expected: dt.date | None, source: str | None
) -> None:
    path = write_geotiff(tmp_path / name, random_bands(7, 1, 10, 10), tags=tags)

    info = open_image(path)

    assert info.acquisition_date == expected
    assert info.date_source == source


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("m_4709963_se_14_1_20090818.tif", dt.date(2009, 8, 18)),
        ("scene_2021-03-05.png", dt.date(2021, 3, 5)),
        ("a20200101b.jpg", dt.date(2020, 1, 1)),
        ("x_20091345.tif", None),
        ("x_20090230.tif", None),
        ("id_123456789.tif", None),
        ("mixed_2020-0101.tif", None),
        ("tile_18000101.tif", None),
        ("bad_20091345_then_20100102.tif", dt.date(2010, 1, 2)),
        ("P0706.png", None),
    ],
)
def test_date_from_name(name: str, expected: dt.date | None) -> None:
    assert date_from_name(name) == expected


def test_png_header_is_pixel_only(tmp_path: Path) -> None:
    path = write_png(tmp_path / "shot_2022-09-01.png", np.zeros((30, 40, 3), dtype=np.uint8))

    info = open_image(path)

    assert info.format == "PNG"
    assert (info.width, info.height, info.count) == (40, 30, 3)
    assert info.acquisition_date == dt.date(2022, 9, 1)
    assert info.transform is None


# Views


def test_view_keeps_quadrant_colours(tmp_path: Path) -> None:
    bands, colours = quadrant_image(512)
    path = write_geotiff(tmp_path / "quadrants.tif", bands)

    with UHRImage(path) as image:
        view = image.view(64)

    assert view.shape == (64, 64, 3)
    assert view.dtype == np.uint8
    assert tuple(view[8, 8]) == colours["top_left"]
    assert tuple(view[8, 56]) == colours["top_right"]
    assert tuple(view[56, 8]) == colours["bottom_left"]
    assert tuple(view[56, 56]) == colours["bottom_right"]


def test_view_reads_overviews(tmp_path: Path) -> None:
    bands, _ = quadrant_image(1024)
    path = write_geotiff(tmp_path / "overviews.tif", bands, overviews=[2, 4, 8])
    # Repaint the full resolution without rebuilding overviews: a view that shows the old
    # colours was read from the overviews.
    with rasterio.open(path, "r+") as dst:
        dst.write(np.full((3, 1024, 1024), 7, dtype=np.uint8))

    with UHRImage(path) as image:
        view = image.view(128)
        crop = image.crop((0, 0, 64, 64))

    assert tuple(view[16, 16]) == (200, 30, 30)
    assert tuple(crop[0, 0]) == (7, 7, 7)


def test_view_warns_once_without_overviews(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    bands = np.zeros((3, 1024, 1024), dtype=np.uint8)
    bare = write_geotiff(tmp_path / "bare.tif", bands)
    pyramid = write_geotiff(tmp_path / "pyramid.tif", bands, overviews=[2, 4, 8])

    with caplog.at_level(logging.WARNING, logger="lrsgro.imagery"):
        with UHRImage(bare) as image:
            image.view(64)
            image.view(64)
        with UHRImage(pyramid) as image:
            image.view(64)

    warned = [record.getMessage() for record in caplog.records if "no overviews" in record.getMessage()]
    assert len(warned) == 1
    assert str(bare) in warned[0]


def test_view_never_upsamples(tmp_path: Path) -> None:
    path = write_geotiff(tmp_path / "small.tif", random_bands(8, 3, 200, 300))

    with UHRImage(path) as image:
        view = image.view(1024)

    assert view.shape == (200, 300, 3)


def test_view_long_side_and_aspect(tmp_path: Path) -> None:
    path = write_geotiff(tmp_path / "wide.tif", random_bands(9, 3, 250, 1000))

    with UHRImage(path) as image:
        view = image.view(400)

    assert view.shape == (100, 400, 3)


# Crops and windows


def test_crop_equals_direct_read(tmp_path: Path) -> None:
    bands = random_bands(10, 3, 400, 500)
    path = write_geotiff(tmp_path / "random.tif", bands)

    with UHRImage(path) as image:
        crop = image.crop((10.3, 20.7, 200.2, 150.9))

    expected = np.moveaxis(bands[:, 20:151, 10:201], 0, -1)
    assert crop.shape == expected.shape
    np.testing.assert_array_equal(crop, expected)


def test_crop_clamps_to_image(tmp_path: Path) -> None:
    bands = random_bands(11, 3, 100, 120)
    path = write_geotiff(tmp_path / "clamp.tif", bands)

    with UHRImage(path) as image:
        crop = image.crop((-50, 90, 30, 400))

    np.testing.assert_array_equal(crop, np.moveaxis(bands[:, 90:100, 0:30], 0, -1))


def test_crop_downsamples_to_out_max_side(tmp_path: Path) -> None:
    bands, colours = quadrant_image(512)
    path = write_geotiff(tmp_path / "quadrants.tif", bands)

    with UHRImage(path) as image:
        crop = image.crop((0, 0, 512, 256), out_max_side=128)
        small = image.crop((0, 0, 40, 20), out_max_side=128)

    assert crop.shape == (64, 128, 3)
    assert tuple(crop[10, 10]) == colours["top_left"]
    assert tuple(crop[10, 120]) == colours["top_right"]
    assert small.shape == (20, 40, 3)


@pytest.mark.parametrize("box", [(600, 600, 700, 700), (10, 10, 10, 50), (-20, -20, 0, 0)])
def test_crop_of_empty_box_raises(tmp_path: Path, box: tuple[float, ...]) -> None:
    path = write_geotiff(tmp_path / "empty.tif", random_bands(12, 3, 512, 512))

    with UHRImage(path) as image, pytest.raises(ImageError, match="empty") as caught:
        image.crop(box)

    assert str(path) in str(caught.value)


def test_crop_of_reversed_box_raises(tmp_path: Path) -> None:
    path = write_geotiff(tmp_path / "reversed.tif", random_bands(13, 3, 64, 64))

    with UHRImage(path) as image, pytest.raises(InputError, match="x1 < x0"):
        image.crop((50, 10, 20, 40))


def test_read_window_returns_origin(tmp_path: Path) -> None:
    bands = random_bands(14, 3, 300, 300)
    path = write_geotiff(tmp_path / "window.tif", bands)

    with UHRImage(path) as image:
        pixels, origin = image.read_window((100.5, 40.2, 130.1, 60.0))

    assert origin == (100, 40)
    np.testing.assert_array_equal(pixels, np.moveaxis(bands[:, 40:60, 100:131], 0, -1))


def test_full_resolution_crop_over_budget_raises(tmp_path: Path) -> None:
    # The budget is above one 256 x 256 tile, so only the size of the request matters.
    path = write_geotiff(tmp_path / "budget.tif", random_bands(15, 3, 300, 300))

    with UHRImage(path, pixel_budget=70_000) as image:
        with pytest.raises(ImageError, match="pixel budget"):
            image.crop((0, 0, 300, 300))
        with pytest.raises(ImageError, match="pixel budget"):
            image.read_window((0, 0, 280, 280))
        downsampled = image.crop((0, 0, 300, 300), out_max_side=50)
        window = image.read_window((0, 0, 250, 250))

    assert downsampled.shape == (50, 50, 3)
    assert window.pixels.shape == (250, 250, 3)


def test_single_strip_over_budget_raises(tmp_path: Path) -> None:
    bands = random_bands(28, 3, 300, 300)
    path = tmp_path / "one_strip.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=300, height=300, count=3, dtype="uint8", blockysize=300, compress="deflate"
    ) as dst:
        dst.write(bands)

    with UHRImage(path, pixel_budget=50_000) as image:
        with pytest.raises(ImageError, match="blocks of 300x300"):
            image.crop((0, 0, 10, 10))
    with UHRImage(path) as image:
        crop = image.crop((0, 0, 10, 10))

    np.testing.assert_array_equal(crop, np.moveaxis(bands[:, :10, :10], 0, -1))


# Bands and bit depth


def test_single_band_becomes_grey_rgb(tmp_path: Path) -> None:
    bands = random_bands(16, 1, 64, 64)
    path = write_geotiff(tmp_path / "grey.tif", bands)

    with UHRImage(path) as image:
        crop = image.crop((0, 0, 64, 64))

    for channel in range(3):
        np.testing.assert_array_equal(crop[:, :, channel], bands[0])


def test_four_bands_without_roles_take_first_three(tmp_path: Path) -> None:
    bands = np.stack([np.full((32, 32), value, dtype=np.uint8) for value in (10, 20, 30, 40)])
    path = write_geotiff(tmp_path / "rgbn.tif", bands)

    with UHRImage(path) as image:
        view = image.view(16)

    assert tuple(view[0, 0]) == (10, 20, 30)


def test_four_bands_follow_colour_interpretation(tmp_path: Path) -> None:
    bands = np.stack([np.full((32, 32), value, dtype=np.uint8) for value in (10, 20, 30, 40)])
    roles = [ColorInterp.blue, ColorInterp.green, ColorInterp.red, ColorInterp.undefined]
    path = write_geotiff(tmp_path / "bgrn.tif", bands, colorinterp=roles)

    with UHRImage(path) as image:
        view = image.view(16)

    assert tuple(view[0, 0]) == (30, 20, 10)


def test_rgba_png_drops_alpha(tmp_path: Path) -> None:
    rgba = np.zeros((20, 20, 4), dtype=np.uint8)
    rgba[...] = (90, 120, 150, 7)
    path = write_png(tmp_path / "rgba.png", rgba)

    with UHRImage(path) as image:
        crop = image.crop((0, 0, 20, 20))

    assert crop.shape == (20, 20, 3)
    assert tuple(crop[5, 5]) == (90, 120, 150)


def test_palette_png_uses_colour_table(tmp_path: Path) -> None:
    indexes = np.zeros((16, 16), dtype=np.uint8)
    indexes[:, 8:] = 1
    image = Image.fromarray(indexes, mode="P")
    image.putpalette([250, 0, 0, 0, 0, 250] + [0] * (254 * 3))
    path = tmp_path / "palette.png"
    image.save(path)

    with UHRImage(path) as opened:
        crop = opened.crop((0, 0, 16, 16))
        view = opened.view(8)

    assert tuple(crop[0, 0]) == (250, 0, 0)
    assert tuple(crop[0, 15]) == (0, 0, 250)
    assert tuple(view[0, 0]) == (250, 0, 0)
    assert tuple(view[0, 7]) == (0, 0, 250)


def test_16_bit_stretch_matches_percentiles(tmp_path: Path) -> None:
    rng = np.random.default_rng(17)
    bands = rng.normal(2000, 300, size=(3, 512, 512)).clip(0, 65535).astype(np.uint16)
    bands[1] += 5000
    path = write_geotiff(tmp_path / "deep.tif", bands, overviews=[2, 4])

    with UHRImage(path) as image:
        stretch = image.stretch

    assert stretch is not None
    for band in range(3):
        low, high = np.percentile(bands[band], [2, 98])
        # The stretch comes from a downsampled view, so allow a few grey levels of difference.
        assert abs(stretch.low[band] - low) < 0.05 * (high - low) + 150
        assert abs(stretch.high[band] - high) < 0.05 * (high - low) + 150


def test_16_bit_crops_share_one_stretch(tmp_path: Path) -> None:
    rng = np.random.default_rng(18)
    bands = rng.integers(0, 4000, size=(3, 256, 256), dtype=np.uint16)
    bands[:, :128, :] //= 8  # a dark top half, so the two crops have different local ranges
    path = write_geotiff(tmp_path / "two_halves.tif", bands)

    with UHRImage(path) as image:
        stretch = image.stretch
        top = image.crop((0, 0, 256, 128))
        bottom = image.crop((0, 128, 256, 256))
        view = image.view(256)
    with UHRImage(path) as reopened:
        again = reopened.crop((0, 0, 256, 128))

    assert stretch is not None
    np.testing.assert_array_equal(top, np.moveaxis(stretch.apply(bands[:, :128, :]), 0, -1))
    np.testing.assert_array_equal(bottom, np.moveaxis(stretch.apply(bands[:, 128:, :]), 0, -1))
    np.testing.assert_array_equal(view, np.moveaxis(stretch.apply(bands), 0, -1))
    np.testing.assert_array_equal(again, top)
    assert top.max() < bottom.max()


def test_16_bit_single_band_is_grey(tmp_path: Path) -> None:
    bands = random_bands(19, 1, 64, 64, "uint16")
    path = write_geotiff(tmp_path / "grey16.tif", bands)

    with UHRImage(path) as image:
        crop = image.crop((0, 0, 64, 64))

    assert crop.dtype == np.uint8
    np.testing.assert_array_equal(crop[:, :, 0], crop[:, :, 1])
    np.testing.assert_array_equal(crop[:, :, 0], crop[:, :, 2])
    assert crop.min() == 0
    assert crop.max() == 255


def test_16_bit_stretch_skips_nodata(tmp_path: Path) -> None:
    bands = np.full((1, 100, 100), 1000, dtype=np.uint16)
    bands[0, :, 50:] = 3000
    bands[0, :30, :] = 0
    path = write_geotiff(tmp_path / "nodata.tif", bands, nodata=0)

    with UHRImage(path) as image:
        stretch = image.stretch

    assert stretch is not None
    assert stretch.low[0] >= 1000


# PNG and JPEG sources


def test_small_png_is_read_from_memory(tmp_path: Path) -> None:
    rgb = np.moveaxis(random_bands(20, 3, 120, 160), 0, -1)
    path = write_png(tmp_path / "small.png", rgb)

    with UHRImage(path) as image:
        crop = image.crop((5, 6, 70, 80))
        source = image.source

    assert source == "memory"
    np.testing.assert_array_equal(crop, rgb[6:80, 5:70])


def test_memory_copy_is_shared_between_opens(tmp_path: Path) -> None:
    from lrsgro.imagery.memory import decoded_cache_size

    path = write_png(tmp_path / "shared.png", np.moveaxis(random_bands(21, 3, 50, 50), 0, -1))

    for _ in range(3):
        with UHRImage(path) as image:
            image.view(20)

    assert decoded_cache_size() == 1


def test_open_image_survives_memory_eviction(tmp_path: Path) -> None:
    rgb = np.moveaxis(random_bands(29, 3, 64, 64), 0, -1)
    path = write_png(tmp_path / "evicted.png", rgb)

    with UHRImage(path) as image:
        first = image.crop((0, 0, 32, 32))
        clear_decoded()
        second = image.crop((32, 32, 64, 64))

    np.testing.assert_array_equal(first, rgb[:32, :32])
    np.testing.assert_array_equal(second, rgb[32:, 32:])


def test_jpeg_crop_matches_gdal_decode(tmp_path: Path) -> None:
    rgb = np.moveaxis(random_bands(22, 3, 96, 128), 0, -1)
    path = tmp_path / "photo.jpg"
    Image.fromarray(rgb).save(path, quality=90)
    with rasterio.open(path) as src:
        decoded = np.moveaxis(src.read(window=Window(10, 20, 50, 40)), 0, -1)

    with UHRImage(path) as image:
        crop = image.crop((10, 20, 60, 60))

    np.testing.assert_array_equal(crop, decoded)


def test_pixel_only_reads_emit_no_warnings(tmp_path: Path) -> None:
    png = write_png(tmp_path / "plain.png", np.zeros((40, 40, 3), dtype=np.uint8))
    tif = write_geotiff(tmp_path / "plain.tif", random_bands(27, 3, 40, 40))

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for path in (png, tif):
            open_image(path)
            with UHRImage(path) as image:
                image.view(20)
                image.crop((0, 0, 10, 10))


# Errors


def test_missing_image_raises_with_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.tif"

    with pytest.raises(ImageError, match="not found") as caught:
        UHRImage(missing)

    assert str(missing) in str(caught.value)
    assert caught.value.fix


def test_unreadable_file_raises_with_path(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.tif"
    bogus.write_text("this is not an image\n")

    with pytest.raises(ImageError, match="cannot read image") as caught:
        open_image(bogus)

    assert str(bogus) in str(caught.value)


def test_truncated_tiff_raises_on_read(tmp_path: Path) -> None:
    path = write_geotiff(tmp_path / "cut.tif", random_bands(23, 3, 1024, 1024))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])

    with pytest.raises(ImageError) as caught:
        with UHRImage(path) as image:
            image.crop((0, 900, 1024, 1024))

    assert str(path) in str(caught.value)


def test_truncated_png_raises_on_read(tmp_path: Path) -> None:
    path = write_png(tmp_path / "cut.png", np.moveaxis(random_bands(24, 3, 300, 300), 0, -1))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])

    with pytest.raises(ImageError) as caught:
        with UHRImage(path) as image:
            image.view(100)

    assert str(path) in str(caught.value)


# Encoding


def test_encode_jpeg_round_trip() -> None:
    array = np.zeros((40, 60, 3), dtype=np.uint8)
    array[:, :30] = (200, 100, 50)

    data = encode_jpeg(array, quality=95)
    decoded = np.asarray(Image.open(io.BytesIO(data)))

    assert data[:2] == b"\xff\xd8"
    assert decoded.shape == (40, 60, 3)
    assert np.abs(decoded[:, :20].astype(int) - (200, 100, 50)).max() <= 6


def test_encode_png_is_lossless() -> None:
    array = np.moveaxis(random_bands(25, 3, 33, 47), 0, -1)
    grey = random_bands(26, 1, 10, 12)[0]

    decoded = np.asarray(Image.open(io.BytesIO(encode_png(array))))
    decoded_grey = np.asarray(Image.open(io.BytesIO(encode_png(grey))))

    np.testing.assert_array_equal(decoded, array)
    np.testing.assert_array_equal(decoded_grey, grey)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((4, 4, 3), dtype=np.uint16), "uint8"),
        (np.zeros((4, 4, 4), dtype=np.uint8), "shape"),
        (np.zeros((0, 4, 3), dtype=np.uint8), "empty"),
        (np.zeros((100, 100, 3), dtype=np.uint8), "encoding limit"),
    ],
)
def test_encode_rejects_bad_arrays(array: np.ndarray, message: str) -> None:
    with pytest.raises(InputError, match=message):
        encode_png(array, max_pixels=5000)


def test_encode_jpeg_rejects_bad_quality() -> None:
    with pytest.raises(InputError, match="quality"):
        encode_jpeg(np.zeros((4, 4, 3), dtype=np.uint8), quality=0)


# Real NAIP tiles


def test_naip_header(shared_data: Path) -> None:
    info = open_image(shared_data / NAIP_2009)

    assert info.acquisition_date == dt.date(2009, 8, 18)
    assert info.date_source == "file name"
    assert info.crs == "EPSG:26914"
    assert info.count == 4
    assert info.gsd == pytest.approx(5.0)
    # Quarter quad 4709963 lies between 47 and 48 degrees north.
    assert info.center_lat is not None
    assert 47.0 < info.center_lat < 48.0


def test_naip_rgb_is_first_three_bands(shared_data: Path) -> None:
    path = shared_data / NAIP_2009
    with rasterio.open(path) as src:
        raw = src.read(window=Window(100, 200, 64, 48))

    with UHRImage(path) as image:
        crop = image.crop((100, 200, 164, 248))
        view = image.view(512)

    np.testing.assert_array_equal(crop, np.moveaxis(raw[:3], 0, -1))
    assert view.shape == (round(724 * 512 / 934), 512, 3)
