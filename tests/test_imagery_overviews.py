"""Tests of the single-pass overview pyramid, the external overview file, the hash index and
the limit on GDAL's block cache.

The pyramid is checked against a plain 2 x 2 block mean and against GDAL's own ``average``
overviews. The ``.ovr`` file is read back through rasterio, because that is how every reader
sees it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import rasterio
import rasterio.env
from rasterio.enums import ColorInterp, Resampling

from lrsgro.errors import ImageError
from lrsgro.imagery import UHRImage, content_hash, ensure_tiled_copy, hashing
from lrsgro.imagery.cache import INDEX_FOLDER
from lrsgro.imagery.convert import convert_to_tiled_geotiff, external_overview_path, overview_factors
from lrsgro.imagery.gdal_cache import limited_block_cache
from lrsgro.imagery.overview_file import OVERVIEW_TILE_SIDE, OverviewFileWriter
from lrsgro.imagery.pyramid import OverviewPyramid, halve
from tests.test_imagery import random_bands, write_geotiff, write_png

pytestmark = pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")


def block_mean(bands: np.ndarray) -> np.ndarray:
    """2 x 2 block mean rounded half up, the last odd row or column averaged with itself."""
    padded = np.pad(bands.astype(np.float64), ((0, 0), (0, bands.shape[1] % 2), (0, bands.shape[2] % 2)), mode="edge")
    blocks = padded.reshape(bands.shape[0], padded.shape[1] // 2, 2, padded.shape[2] // 2, 2)
    return np.floor(blocks.mean(axis=(2, 4)) + 0.5).astype(bands.dtype)


def gdal_average_overviews(tmp_path: Path, bands: np.ndarray, factors: list[int]) -> list[np.ndarray]:
    """The overview levels GDAL builds with ``average`` for ``bands``."""
    path = write_geotiff(tmp_path / "gdal_reference.tif", bands, overviews=factors)
    levels = []
    for level in range(len(factors)):
        with rasterio.open(path, overview_level=level) as src:
            levels.append(src.read())
    return levels


@pytest.fixture
def fresh_hash_memo():
    hashing._hash_memo.clear()
    yield
    hashing._hash_memo.clear()


# Halving and the pyramid


@pytest.mark.parametrize("dtype", ["uint8", "uint16"])
@pytest.mark.parametrize("shape", [(3, 40, 64), (1, 7, 9), (3, 1, 1), (3, 33, 10_001)])
def test_halve_matches_block_mean(dtype: str, shape: tuple[int, int, int]) -> None:
    bands = random_bands(50, *shape, dtype=dtype)

    halved = halve(bands)

    assert halved.dtype == bands.dtype
    assert halved.shape == (shape[0], -(-shape[1] // 2), -(-shape[2] // 2))
    np.testing.assert_array_equal(halved, block_mean(bands))


def test_halve_does_not_overflow_at_maximum() -> None:
    bands = np.full((3, 4, 4), 255, dtype=np.uint8)

    assert (halve(bands) == 255).all()


@pytest.mark.parametrize("strip_rows", [1, 6, 64])
def test_pyramid_from_strips_matches_whole_image(strip_rows: int) -> None:
    bands = random_bands(51, 3, 203, 157)
    levels = 4
    received: dict[int, list[tuple[int, np.ndarray]]] = {level: [] for level in range(levels)}
    pyramid = OverviewPyramid(levels, lambda level, row, rows: received[level].append((row, rows.copy())))

    for row in range(0, bands.shape[1], strip_rows):
        pyramid.push(bands[:, row : row + strip_rows])
    pyramid.finish()

    expected = bands
    for level in range(levels):
        expected = block_mean(expected)
        first_rows = [row for row, _ in received[level]]
        assert first_rows == sorted(first_rows)
        assert first_rows[0] == 0
        np.testing.assert_array_equal(np.concatenate([rows for _, rows in received[level]], axis=1), expected)


def test_pyramid_matches_gdal_average_for_even_sizes(tmp_path: Path) -> None:
    bands = random_bands(52, 3, 256, 384)
    factors = [2, 4, 8]
    levels: list[list[np.ndarray]] = [[] for _ in factors]
    pyramid = OverviewPyramid(len(factors), lambda level, row, rows: levels[level].append(rows.copy()))

    for row in range(0, bands.shape[1], 64):
        pyramid.push(bands[:, row : row + 64])
    pyramid.finish()

    for ours, gdal in zip(levels, gdal_average_overviews(tmp_path, bands, factors), strict=True):
        np.testing.assert_array_equal(np.concatenate(ours, axis=1), gdal)


# The external overview file


@pytest.mark.parametrize(("bands_count", "dtype"), [(3, "uint8"), (1, "uint16")])
def test_overview_file_reads_back_through_rasterio(tmp_path: Path, bands_count: int, dtype: str) -> None:
    width, height = 2 * OVERVIEW_TILE_SIDE + 37, OVERVIEW_TILE_SIDE + 5
    base = write_geotiff(tmp_path / "base.tif", random_bands(53, bands_count, height, width, dtype=dtype))
    levels = [
        random_bands(54 + factor, bands_count, -(-height // factor), -(-width // factor), dtype=dtype)
        for factor in (2, 4)
    ]
    sizes = [(level.shape[2], level.shape[1]) for level in levels]

    with OverviewFileWriter(external_overview_path(base), sizes, bands_count, dtype) as writer:
        # Uneven blocks of rows, some crossing a tile boundary, some filling whole tile rows.
        for index, level in enumerate(levels):
            row = 0
            for count in (3, OVERVIEW_TILE_SIDE - 3, 1, level.shape[1]):
                writer.write_rows(index, row, level[:, row : row + count])
                row = min(level.shape[1], row + count)

    with rasterio.open(base) as src:
        assert src.overviews(1) == [2, 4]
        for index, level in enumerate(levels):
            with rasterio.open(base, overview_level=index) as overview:
                assert overview.dtypes[0] == dtype
                np.testing.assert_array_equal(overview.read(), level)


def test_overview_file_rejects_rows_that_do_not_fit(tmp_path: Path) -> None:
    with OverviewFileWriter(tmp_path / "x.tif.ovr", [(10, 8)], 3, "uint8") as writer:
        with pytest.raises(ValueError, match="do not fit"):
            writer.write_rows(0, 5, np.zeros((3, 4, 10), dtype=np.uint8))
        with pytest.raises(ValueError, match="do not fit"):
            writer.write_rows(0, 0, np.zeros((3, 4, 11), dtype=np.uint8))


@pytest.mark.parametrize(("bands_count", "dtype"), [(4, "uint8"), (3, "float32")])
def test_overview_file_rejects_unsupported_layouts(tmp_path: Path, bands_count: int, dtype: str) -> None:
    with pytest.raises(ValueError, match="overview files are written for"):
        OverviewFileWriter(tmp_path / "x.tif.ovr", [(10, 8)], bands_count, dtype)


# Conversion


def test_converted_overviews_match_gdal_average(tmp_path: Path) -> None:
    rgb = np.moveaxis(random_bands(55, 3, 1024, 1536), 0, -1)
    source = write_png(tmp_path / "scene.png", rgb)
    destination = tmp_path / "scene.tif"

    convert_to_tiled_geotiff(source, destination)

    factors = overview_factors(1536, 1024)
    reference = gdal_average_overviews(tmp_path, np.moveaxis(rgb, -1, 0), factors)
    assert external_overview_path(destination).is_file()
    with rasterio.open(destination) as src:
        assert src.overviews(1) == factors
        assert src.colorinterp == (ColorInterp.red, ColorInterp.green, ColorInterp.blue)
        np.testing.assert_array_equal(src.read(), np.moveaxis(rgb, -1, 0))
    for level, expected in enumerate(reference):
        with rasterio.open(destination, overview_level=level) as overview:
            np.testing.assert_array_equal(overview.read(), expected)


def test_converted_odd_size_overviews_are_block_means(tmp_path: Path) -> None:
    rgb = np.moveaxis(random_bands(56, 3, 301, 517), 0, -1)
    source = write_png(tmp_path / "odd.png", rgb)
    destination = tmp_path / "odd.tif"

    convert_to_tiled_geotiff(source, destination)

    expected = np.moveaxis(rgb, -1, 0)
    with rasterio.open(destination) as src:
        factors = src.overviews(1)
    assert factors == overview_factors(517, 301)
    for level in range(len(factors)):
        expected = block_mean(expected)
        with rasterio.open(destination, overview_level=level) as overview:
            np.testing.assert_array_equal(overview.read(), expected)


def test_16_bit_grey_png_gets_external_overviews(tmp_path: Path) -> None:
    grey = random_bands(62, 1, 600, 520, dtype="uint16")
    source = tmp_path / "grey16.png"
    with rasterio.open(source, "w", driver="PNG", width=520, height=600, count=1, dtype="uint16") as dst:
        dst.write(grey)
    destination = tmp_path / "grey16.tif"

    convert_to_tiled_geotiff(source, destination)

    assert external_overview_path(destination).is_file()
    with rasterio.open(destination) as src:
        assert src.overviews(1) == [2, 4]
        np.testing.assert_array_equal(src.read(), grey)
    with rasterio.open(destination, overview_level=1) as overview:
        np.testing.assert_array_equal(overview.read(), block_mean(block_mean(grey)))


@pytest.mark.parametrize("readdir", [None, "EMPTY_DIR"])
def test_view_reads_the_external_overviews(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, readdir: str | None
) -> None:
    if readdir is not None:
        monkeypatch.setenv("GDAL_DISABLE_READDIR_ON_OPEN", readdir)
    rgb = np.moveaxis(random_bands(57, 3, 1024, 1024), 0, -1)
    source = write_png(tmp_path / "scene.png", rgb)
    cache = tmp_path / "cache"
    copy = ensure_tiled_copy(source, cache)

    # Overwrite every overview level with one colour: a view that comes out in that colour
    # was read from the .ovr file, not averaged from the full-resolution tiles.
    sizes = [(1024 // factor, 1024 // factor) for factor in overview_factors(1024, 1024)]
    with OverviewFileWriter(external_overview_path(copy.path), sizes, 3, "uint8") as writer:
        for index, (width, height) in enumerate(sizes):
            colour = np.asarray([7, 77, 177], dtype=np.uint8)[:, None, None]
            writer.write_rows(index, 0, np.broadcast_to(colour, (3, height, width)))

    with UHRImage(source, cache_dir=cache, direct_max_pixels=0) as image:
        view = image.view(256)
        crop = image.crop((0, 0, 64, 64))

    assert view.shape == (256, 256, 3)
    assert tuple(view[0, 0]) == (7, 77, 177)
    assert (view == view[0, 0]).all()
    np.testing.assert_array_equal(crop, rgb[:64, :64])


def test_palette_png_gets_internal_nearest_overviews(tmp_path: Path) -> None:
    from PIL import Image

    indexes = np.zeros((600, 600), dtype=np.uint8)
    indexes[:, 300:] = 1
    image = Image.fromarray(indexes, mode="P")
    image.putpalette([250, 0, 0, 0, 0, 250] + [0] * (254 * 3))
    source = tmp_path / "palette.png"
    image.save(source)
    destination = tmp_path / "palette.tif"

    convert_to_tiled_geotiff(source, destination)

    assert not external_overview_path(destination).exists()
    with rasterio.open(destination) as src:
        assert src.overviews(1) == [2, 4]
        assert src.colorinterp[0] == ColorInterp.palette
        assert set(np.unique(src.read(1, out_shape=(150, 150), resampling=Resampling.nearest))) == {0, 1}


def test_rgba_png_gets_internal_overviews(tmp_path: Path) -> None:
    rgba = np.moveaxis(random_bands(58, 4, 520, 520), 0, -1)
    source = write_png(tmp_path / "rgba.png", rgba)
    destination = tmp_path / "rgba.tif"

    convert_to_tiled_geotiff(source, destination)

    assert not external_overview_path(destination).exists()
    with rasterio.open(destination) as src:
        assert src.overviews(1) == [2, 4]
        np.testing.assert_array_equal(src.read(), np.moveaxis(rgba, -1, 0))


def test_corrupt_png_raises_and_leaves_no_files(tmp_path: Path) -> None:
    rgb = np.moveaxis(random_bands(59, 3, 700, 900), 0, -1)
    source = write_png(tmp_path / "corrupt.png", rgb)
    data = bytearray(source.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)  # breaks the IDAT data and its CRC; IEND stays
    source.write_bytes(bytes(data))
    cache = tmp_path / "cache"

    with pytest.raises(ImageError) as caught:
        ensure_tiled_copy(source, cache)

    assert str(source) in str(caught.value)
    assert [path.name for path in cache.iterdir() if path.suffix in (".tif", ".ovr", ".tmp")] == []


# The hash index


def test_hash_index_record_is_written_and_used(tmp_path: Path, fresh_hash_memo) -> None:
    source = tmp_path / "scene.png"
    source.write_bytes(os.urandom(5000))
    index = tmp_path / "index"

    digest = content_hash(source, index)
    records = list(index.glob("*.json"))
    assert len(records) == 1
    stored = json.loads(records[0].read_text())
    assert stored["sha256"] == digest
    assert stored["path"] == str(source.absolute())

    # A later process trusts the record: give it a digest no file has and it is returned.
    stored["sha256"] = "f" * 64
    records[0].write_text(json.dumps(stored))
    hashing._hash_memo.clear()
    assert content_hash(source, index) == "f" * 64


def test_hash_index_ignores_record_after_mtime_change(tmp_path: Path, fresh_hash_memo) -> None:
    source = tmp_path / "scene.png"
    source.write_bytes(os.urandom(5000))
    index = tmp_path / "index"
    digest = content_hash(source, index)
    record = next(index.glob("*.json"))
    stored = json.loads(record.read_text())
    stored["sha256"] = "f" * 64
    record.write_text(json.dumps(stored))

    stat = source.stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    hashing._hash_memo.clear()

    assert content_hash(source, index) == digest
    assert json.loads(record.read_text())["sha256"] == digest


def test_hash_index_ignores_edit_of_same_size(tmp_path: Path, fresh_hash_memo) -> None:
    source = tmp_path / "scene.png"
    source.write_bytes(b"a" * 5000)
    index = tmp_path / "index"
    first = content_hash(source, index)
    stat = source.stat()

    # Same size and, after utime, the same mtime, so only ctime differs between the versions.
    source.write_bytes(b"b" * 5000)
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    hashing._hash_memo.clear()

    second = content_hash(source, index)
    assert second != first
    assert second == content_hash(source)


@pytest.mark.parametrize("text", ["not json", "{}", '{"path": 1}'])
def test_hash_index_survives_bad_record(tmp_path: Path, fresh_hash_memo, text: str) -> None:
    source = tmp_path / "scene.png"
    source.write_bytes(os.urandom(5000))
    index = tmp_path / "index"
    digest = content_hash(source, index)
    record = next(index.glob("*.json"))
    record.write_text(text)
    hashing._hash_memo.clear()

    assert content_hash(source, index) == digest
    assert json.loads(record.read_text())["sha256"] == digest


def test_cache_writes_hash_index(tmp_path: Path, fresh_hash_memo) -> None:
    rgb = np.moveaxis(random_bands(60, 3, 300, 300), 0, -1)
    source = write_png(tmp_path / "scene.png", rgb)
    cache = tmp_path / "cache"

    copy = ensure_tiled_copy(source, cache)
    hashing._hash_memo.clear()
    again = ensure_tiled_copy(source, cache)

    records = list((cache / INDEX_FOLDER).glob("*.json"))
    assert len(records) == 1
    assert json.loads(records[0].read_text())["sha256"] == copy.key.split(".")[0]
    assert not again.converted
    assert again.path == copy.path


# GDAL's block cache limit


def gdal_cache_bytes() -> int:
    return int(rasterio.env.get_gdal_config("GDAL_CACHEMAX"))


def test_block_cache_limit_is_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GDAL_CACHEMAX", raising=False)
    before = gdal_cache_bytes()

    with limited_block_cache(3 * 2**20):
        inside = gdal_cache_bytes()
        with limited_block_cache(2 * 2**20):
            nested = gdal_cache_bytes()
        after_nested = gdal_cache_bytes()

    assert inside == 3 * 2**20
    assert nested == 2 * 2**20
    assert after_nested == 2 * 2**20
    assert gdal_cache_bytes() == before


def test_block_cache_limit_inside_caller_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GDAL_CACHEMAX", raising=False)

    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True):
        before = gdal_cache_bytes()
        with limited_block_cache(3 * 2**20):
            inside = gdal_cache_bytes()
        after = gdal_cache_bytes()

    assert inside == 3 * 2**20
    assert after == before


def test_block_cache_limit_respects_caller_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GDAL_CACHEMAX", raising=False)
    with rasterio.Env(GDAL_CACHEMAX=64 * 2**20):
        with limited_block_cache(3 * 2**20):
            in_env = gdal_cache_bytes()
        with limited_block_cache(3 * 2**20, respect_caller=False):
            forced = gdal_cache_bytes()

    monkeypatch.setenv("GDAL_CACHEMAX", "512")
    before = gdal_cache_bytes()
    with limited_block_cache(3 * 2**20):
        with_variable = gdal_cache_bytes()

    assert in_env == 64 * 2**20
    assert forced == 3 * 2**20
    assert with_variable == before


def test_conversion_restores_block_cache_after_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GDAL_CACHEMAX", raising=False)
    source = write_png(tmp_path / "scene.png", np.moveaxis(random_bands(61, 3, 300, 300), 0, -1))
    before = gdal_cache_bytes()

    def fail() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        convert_to_tiled_geotiff(source, tmp_path / "stopped.tif", checkpoint=fail)

    assert gdal_cache_bytes() == before
