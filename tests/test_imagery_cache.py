"""Tests of the tiled GeoTIFF cache for PNG and JPEG sources, and of the pixel budget.

Includes two processes converting the same PNG at once, and a PNG decompression bomb that
claims 30,000 x 30,000 pixels.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest
import rasterio
from PIL import Image

from lrsgro.errors import ImageError, InputError
from lrsgro.imagery import UHRImage, content_hash, ensure_tiled_copy, open_image
from lrsgro.imagery.cache import CACHE_VERSION, PENDING_PREFIX
from lrsgro.imagery.convert import STRIP_ROWS, TILE_WIDTH, convert_to_tiled_geotiff, external_overview_path
from tests.test_imagery import random_bands, write_png

REPO_ROOT = Path(__file__).resolve().parents[1]
BOMB_SIDE = 30_000

pytestmark = pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")


def write_zero_png(path: Path, width: int, height: int, rows_per_block: int = 100) -> Path:
    """Write an all-black RGB PNG of any size in a fraction of a second.

    One block of rows is deflated once with a full flush, which makes it independent of what
    came before, and repeated. The zlib checksum of all-zero data is computed directly:
    Adler-32 of n zero bytes is ``(n % 65521) << 16 | 1``.
    """
    if height % rows_per_block:
        raise ValueError("height must be a multiple of rows_per_block")

    row = bytes(1 + 3 * width)  # filter byte 0, then black pixels
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(row * rows_per_block) + compressor.flush(zlib.Z_FULL_FLUSH)
    final_block = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    raw_size = len(row) * height
    adler = ((raw_size % 65521) << 16) | 1
    stream = b"\x78\xda" + block * (height // rows_per_block) + final_block + struct.pack(">I", adler)

    with path.open("wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n")
        _write_chunk(handle, b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        for start in range(0, len(stream), 1 << 20):
            _write_chunk(handle, b"IDAT", stream[start : start + (1 << 20)])
        _write_chunk(handle, b"IEND", b"")
    return path


def _write_chunk(handle, kind: bytes, data: bytes) -> None:
    handle.write(struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data)))


def child_environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


@pytest.fixture
def source_png(tmp_path: Path) -> tuple[Path, np.ndarray]:
    rgb = np.moveaxis(random_bands(40, 3, 700, 900), 0, -1)
    return write_png(tmp_path / "scene.png", rgb), rgb


# Conversion and reuse


def test_conversion_writes_tiled_zstd_with_overviews(tmp_path: Path, source_png) -> None:
    path, rgb = source_png

    copy = ensure_tiled_copy(path, tmp_path / "cache")

    assert copy.converted
    assert copy.path.parent == tmp_path / "cache"
    assert copy.key == f"{content_hash(path)}.v{CACHE_VERSION}"
    assert external_overview_path(copy.path).is_file()
    with rasterio.open(copy.path) as src:
        assert src.profile["tiled"]
        assert src.block_shapes[0] == (STRIP_ROWS, TILE_WIDTH)
        assert src.compression.name == "zstd"
        assert src.tags(ns="IMAGE_STRUCTURE").get("PREDICTOR") == "2"
        assert src.overviews(1) == [2, 4]
        np.testing.assert_array_equal(np.moveaxis(src.read(), 0, -1), rgb)


def test_second_call_reuses_the_copy(tmp_path: Path, source_png) -> None:
    path, _ = source_png
    cache = tmp_path / "cache"

    first = ensure_tiled_copy(path, cache)
    mtime = first.path.stat().st_mtime_ns
    second = ensure_tiled_copy(path, cache)

    assert first.converted
    assert not second.converted
    assert second.path == first.path
    assert second.path.stat().st_mtime_ns == mtime


def test_deleted_copy_is_converted_again(tmp_path: Path, source_png) -> None:
    path, rgb = source_png
    cache = tmp_path / "cache"
    first = ensure_tiled_copy(path, cache)
    first.path.unlink()
    external_overview_path(first.path).unlink()

    # The hash comes from the index this time, so the conversion takes the locked path.
    second = ensure_tiled_copy(path, cache)

    assert second.converted
    assert second.path == first.path
    assert external_overview_path(second.path).is_file()
    with rasterio.open(second.path) as src:
        np.testing.assert_array_equal(np.moveaxis(src.read(), 0, -1), rgb)


def test_copy_is_keyed_by_content(tmp_path: Path, source_png) -> None:
    path, rgb = source_png
    cache = tmp_path / "cache"
    renamed = tmp_path / "renamed.png"
    renamed.write_bytes(path.read_bytes())
    edited = write_png(tmp_path / "edited.png", 255 - rgb)

    original = ensure_tiled_copy(path, cache)
    same_bytes = ensure_tiled_copy(renamed, cache)
    different = ensure_tiled_copy(edited, cache)

    assert not same_bytes.converted
    assert same_bytes.path == original.path
    assert different.converted
    assert different.path != original.path


def test_uhr_image_converts_large_png_once(tmp_path: Path, source_png) -> None:
    path, rgb = source_png
    cache = tmp_path / "cache"

    with UHRImage(path, cache_dir=cache, direct_max_pixels=0) as image:
        crop = image.crop((100, 50, 400, 300))
        source = image.source
    copies = list(cache.glob("*.tif"))
    mtime = copies[0].stat().st_mtime_ns
    with UHRImage(path, cache_dir=cache, direct_max_pixels=0) as image:
        view = image.view(90)

    assert source == "tiled copy"
    np.testing.assert_array_equal(crop, rgb[50:300, 100:400])
    assert len(copies) == 1
    assert list(cache.glob("*.tif")) == copies
    assert copies[0].stat().st_mtime_ns == mtime
    assert view.shape == (70, 90, 3)


def test_conversion_keeps_header_facts(tmp_path: Path) -> None:
    rgb = np.moveaxis(random_bands(41, 3, 64, 64), 0, -1)
    path = tmp_path / "shot.jpg"
    exif = Image.Exif()
    exif[0x8769] = {0x9003: "2018:05:06 07:08:09"}  # Exif IFD, DateTimeOriginal
    Image.fromarray(rgb).save(path, quality=95, exif=exif)

    copy = ensure_tiled_copy(path, tmp_path / "cache")

    assert open_image(path).acquisition_date is not None
    assert open_image(copy.path).acquisition_date == open_image(path).acquisition_date


def test_jpeg_through_the_cache_matches_gdal(tmp_path: Path) -> None:
    rgb = np.moveaxis(random_bands(42, 3, 300, 400), 0, -1)
    path = tmp_path / "photo.jpg"
    Image.fromarray(rgb).save(path, quality=85)
    with rasterio.open(path) as src:
        decoded = np.moveaxis(src.read(), 0, -1)

    with UHRImage(path, cache_dir=tmp_path / "cache", direct_max_pixels=0) as image:
        crop = image.crop((0, 0, 400, 300))
        source = image.source

    assert source == "tiled copy"
    np.testing.assert_array_equal(crop, decoded)


def test_stale_temporary_is_removed(tmp_path: Path, source_png) -> None:
    path, _ = source_png
    cache = tmp_path / "cache"
    cache.mkdir()
    key = f"{content_hash(path)}.v{CACHE_VERSION}"
    stale = cache / f"{key}.99999-deadbeef.tmp"
    stale.write_bytes(b"half a GeoTIFF")
    stale_overviews = external_overview_path(stale)
    stale_overviews.write_bytes(b"half an overview file")

    ensure_tiled_copy(path, cache)

    assert not stale.exists()
    assert not stale_overviews.exists()
    assert list(cache.glob("*.tmp")) == []
    assert list(cache.glob("*.tmp.ovr")) == []


def test_copy_found_by_hash_leaves_no_pending_files(tmp_path: Path, source_png) -> None:
    path, _ = source_png
    cache = tmp_path / "cache"
    original = ensure_tiled_copy(path, cache)
    duplicate = tmp_path / "duplicate.png"
    duplicate.write_bytes(path.read_bytes())

    # The duplicate has no hash record yet, so its conversion starts while it is hashed and
    # is dropped once the hash finds the existing copy.
    found = ensure_tiled_copy(duplicate, cache)

    assert not found.converted
    assert found.path == original.path
    assert list(cache.glob(f"{PENDING_PREFIX}.*")) == []
    assert sorted(p.name for p in cache.glob("*.tif*")) == [original.path.name, f"{original.path.name}.ovr"]


def test_abandoned_pending_files_are_removed(tmp_path: Path, source_png) -> None:
    path, _ = source_png
    cache = tmp_path / "cache"
    cache.mkdir()
    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.wait()
    host = socket.gethostname()
    abandoned = [
        cache / f"{PENDING_PREFIX}.{exited.pid}.deadbeef.{host}.tmp",
        cache / f"{PENDING_PREFIX}.{exited.pid}.deadbeef.{host}.tmp.ovr",
    ]
    survivors = [
        cache / f"{PENDING_PREFIX}.{os.getpid()}.cafecafe.{host}.tmp",  # a live process
        cache / f"{PENDING_PREFIX}.{exited.pid}.deadbeef.other-host.tmp",  # a pid of another host
    ]
    for leftover in abandoned + survivors:
        leftover.write_bytes(b"partial")

    ensure_tiled_copy(path, cache)

    assert [leftover.exists() for leftover in abandoned] == [False, False]
    assert [leftover.exists() for leftover in survivors] == [True, True]


def test_checkpoint_error_stops_conversion(tmp_path: Path, source_png) -> None:
    path, _ = source_png
    calls = []

    class Stop(Exception):
        pass

    def checkpoint() -> None:
        calls.append(1)
        if len(calls) == 2:
            raise Stop

    with pytest.raises(Stop):
        convert_to_tiled_geotiff(path, tmp_path / "stopped.tif", checkpoint=checkpoint)

    assert len(calls) == 2
    assert [thread.name for thread in threading.enumerate() if thread.name == "lrsgro-strip-reader"] == []


def test_truncated_png_is_not_converted(tmp_path: Path, source_png) -> None:
    path, _ = source_png
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 3 // 4])
    cache = tmp_path / "cache"

    with pytest.raises(ImageError, match="truncated"):
        ensure_tiled_copy(path, cache)

    assert list(cache.glob("*.tif")) == []
    assert list(cache.glob("*.tmp")) == []


def test_default_cache_dir_follows_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from lrsgro.imagery import default_cache_dir

    monkeypatch.setenv("LRSGRO_CACHE", str(tmp_path / "root"))
    assert default_cache_dir() == tmp_path / "root" / "images"

    monkeypatch.delenv("LRSGRO_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "lrsgro" / "images"


# Concurrency

CONVERT_SCRIPT = textwrap.dedent(
    """
    import json, logging, sys
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    from lrsgro.imagery import ensure_tiled_copy
    print("started", file=sys.stderr, flush=True)
    copy = ensure_tiled_copy(sys.argv[1], sys.argv[2])
    print(json.dumps({"converted": copy.converted, "path": str(copy.path)}))
    """
)


def test_two_processes_convert_once(tmp_path: Path) -> None:
    rgb = np.moveaxis(random_bands(43, 3, 1200, 1500), 0, -1)
    png = write_png(tmp_path / "shared.png", rgb)
    cache = tmp_path / "cache"
    cache.mkdir()
    key = f"{content_hash(png)}.v{CACHE_VERSION}"

    # Hold the conversion lock so that both processes are waiting for it at the same time,
    # then let them race for it.
    with (cache / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", CONVERT_SCRIPT, str(png), str(cache)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=child_environment(),
            )
            for _ in range(2)
        ]
        for process in processes:
            assert _wait_for_line(process, "waiting for another process")
        assert not (cache / f"{key}.tif").exists()
        fcntl.flock(lock, fcntl.LOCK_UN)

    outputs = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
        outputs.append(json.loads(stdout))

    assert sorted(output["converted"] for output in outputs) == [False, True]
    assert outputs[0]["path"] == outputs[1]["path"] == str(cache / f"{key}.tif")
    assert external_overview_path(outputs[0]["path"]).is_file()
    assert list(cache.glob("*.tmp")) == []
    assert list(cache.glob("*.tmp.ovr")) == []
    with rasterio.open(outputs[0]["path"]) as src:
        np.testing.assert_array_equal(np.moveaxis(src.read(), 0, -1), rgb)


def _wait_for_line(process: subprocess.Popen, text: str, max_lines: int = 50) -> bool:
    """Read the process's stderr until a line contains ``text``; False at end of output."""
    for _ in range(max_lines):
        line = process.stderr.readline()
        if not line:
            return False
        if text in line:
            return True
    return False


# Decompression bomb and pixel budget


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_zero_png(tmp_path_factory.mktemp("bomb") / "bomb.png", BOMB_SIDE, BOMB_SIDE)


def test_bomb_is_small_and_pillow_refuses_it(bomb: Path) -> None:
    assert bomb.stat().st_size < 4 * 2**20
    with pytest.raises(Image.DecompressionBombError):
        Image.open(bomb)


def test_bomb_header_opens_lazily(bomb: Path) -> None:
    info = open_image(bomb)

    assert (info.width, info.height, info.count) == (BOMB_SIDE, BOMB_SIDE, 3)
    assert info.format == "PNG"


def test_bomb_view_is_rejected(bomb: Path, tmp_path: Path) -> None:
    with UHRImage(bomb, cache_dir=tmp_path / "cache") as image:
        with pytest.raises(ImageError, match="pixel budget") as caught:
            image.view(1024)
        source = image.source

    assert source == "scanlines"
    assert str(bomb) in str(caught.value)
    assert not (tmp_path / "cache").exists()


def test_bomb_is_read_by_window(bomb: Path, tmp_path: Path) -> None:
    with UHRImage(bomb, cache_dir=tmp_path / "cache") as image:
        crop = image.crop((100, 0, 356, 256))
        small = image.crop((0, 0, BOMB_SIDE, 300), out_max_side=1000)
        with pytest.raises(ImageError, match="pixel budget"):
            image.crop((0, 0, BOMB_SIDE, BOMB_SIDE))
        with pytest.raises(ImageError, match="pixel budget"):
            image.crop((0, 0, BOMB_SIDE, BOMB_SIDE), out_max_side=1024)

    assert crop.shape == (256, 256, 3)
    assert not crop.any()
    assert small.shape == (10, 1000, 3)


BOMB_SCRIPT = textwrap.dedent(
    """
    def peak_mib():
        # VmHWM belongs to this process image; ru_maxrss would also count the parent's memory
        # at the spawn, because Linux keeps that high-water mark across exec.
        try:
            status = open("/proc/self/status").read().splitlines()
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
        except (OSError, StopIteration):
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    import json, resource, sys
    from PIL import Image
    limit = Image.MAX_IMAGE_PIXELS
    from lrsgro.errors import ImageError, InputError
    from lrsgro.imagery import UHRImage, open_image
    open_image(sys.argv[1])
    with UHRImage(sys.argv[1], cache_dir=sys.argv[2]) as image:
        try:
            image.view(1024)
            viewed = True
        except ImageError:
            viewed = False
        crop = image.crop((0, 0, 512, 512))
    print(json.dumps({
        "viewed": viewed,
        "crop_sum": int(crop.sum()),
        "limit_before": limit,
        "limit_after": Image.MAX_IMAGE_PIXELS,
        "peak_mib": peak_mib(),
    }))
    """
)


def test_bomb_never_decoded_whole(bomb: Path, tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-c", BOMB_SCRIPT, str(bomb), str(tmp_path / "cache")],
        capture_output=True,
        text=True,
        env=child_environment(),
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)

    assert not result["viewed"]
    assert result["crop_sum"] == 0
    assert result["limit_after"] == result["limit_before"] is not None
    # Decoding the whole image would need 2.7 GB; a 512-row window needs a few MB.
    assert result["peak_mib"] < 400


# The peak comes from VmHWM: ru_maxrss of a spawned child also counts the parent's memory at
# the spawn (Linux keeps the high-water mark across exec), and pytest's parent is large.
CONVERT_MEMORY_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from lrsgro.imagery.convert import convert_to_tiled_geotiff
    convert_to_tiled_geotiff(sys.argv[1], sys.argv[2])
    status = open("/proc/self/status").read().splitlines()
    peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print(json.dumps({"peak_mib": peak_kib / 1024}))
    """
)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc/self/status (Linux)")
def test_conversion_memory_does_not_grow_with_height(tmp_path: Path) -> None:
    # 8000 x 8000 RGB is 183 MiB decoded, while the conversion keeps two 64-row strips of it.
    png = write_zero_png(tmp_path / "tall.png", 8000, 8000)

    completed = subprocess.run(
        [sys.executable, "-c", CONVERT_MEMORY_SCRIPT, str(png), str(tmp_path / "tall.tif")],
        capture_output=True,
        text=True,
        env=child_environment(),
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)

    assert result["peak_mib"] < 150
    with rasterio.open(tmp_path / "tall.tif") as src:
        assert src.overviews(1) == [2, 4, 8, 16, 32]
        assert not src.read(1, out_shape=(250, 250)).any()


def test_pixel_budget_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, source_png) -> None:
    path, _ = source_png
    monkeypatch.setenv("LRSGRO_PIXEL_BUDGET", "1000")

    with UHRImage(path, cache_dir=tmp_path / "cache") as image:
        with pytest.raises(ImageError, match="LRSGRO_PIXEL_BUDGET"):
            image.view(64)


def test_invalid_pixel_budget_environment(monkeypatch: pytest.MonkeyPatch, source_png) -> None:
    path, _ = source_png
    monkeypatch.setenv("LRSGRO_PIXEL_BUDGET", "lots")

    with pytest.raises(InputError, match="not a whole number"):
        UHRImage(path)
