"""Benchmark: preparing VQA model inputs from a UHR image, naive Pillow against lrsgro.imagery.

One question's model input is a global view (long side 1024) plus one ROI crop (the ZoomEarth
window around the question's box, downsampled to a long side of at most 1024), each encoded
as JPEG. The same seeded questions are prepared on the same synthetic RGB image five ways,
each in a fresh Python process whose wall time and peak resident memory (``ru_maxrss``) are
recorded:

- ``naive-png``: Pillow decodes the whole PNG for every question; only this process lifts
  ``Image.MAX_IMAGE_PIXELS``.
- ``lrsgro-png-cold``: ``UHRImage`` on the PNG with an empty cache, so the one-time
  conversion to a tiled GeoTIFF (hashing included) is part of the figures.
- ``lrsgro-png-warm``: the same with the cache left by the cold run.
- ``naive-tif`` and ``lrsgro-tif``: the same two ways on the tiled GeoTIFF with overviews.

The image is generated strip by strip, so the generator stays low on memory. The last two
lines printed are ``speed ratio`` and ``memory ratio``: ``naive-png`` divided by
``lrsgro-png-cold``.

Usage::

    .venv/bin/python benchmarks/imagery.py                     # 20000 x 20000, 20 questions
    .venv/bin/python benchmarks/imagery.py --side 4000 --questions 5
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

VIEW_SIDE = 1024
CROP_MAX_SIDE = 1024
STRIP_ROWS = 512
PNG_LEVEL = 1
NOISE_SIGMA = 3.0
SEED = 20261204
REPO_ROOT = Path(__file__).resolve().parents[1]
METHODS = ("naive-png", "lrsgro-png-cold", "lrsgro-png-warm", "naive-tif", "lrsgro-tif")


def main(argv: list[str] | None = None) -> int:
    """Generate the image, run every method in its own process and print the comparison."""
    args = _parse_args(argv)
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))  # run from a source checkout without installing
    if args.worker:
        return _run_worker(args)

    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="lrsgro-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        return _run_benchmark(args, workdir)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def _run_benchmark(args: argparse.Namespace, workdir: Path) -> int:
    side = args.side
    png = workdir / f"synthetic_{side}.png"
    tif = workdir / f"synthetic_{side}.tif"
    print(f"machine: {_machine_description()}")

    started = time.perf_counter()
    generation = _run_child(["--generate", "--side", str(side), "--png", str(png), "--tif", str(tif)])
    print(
        f"generated {side}x{side} RGB: PNG {png.stat().st_size / 2**20:.0f} MiB, "
        f"tiled GeoTIFF {tif.stat().st_size / 2**20:.0f} MiB in {time.perf_counter() - started:.1f} s "
        f"(generator peak {generation['max_rss_mib']:.0f} MiB)"
    )

    plan = workdir / "questions.json"
    plan.write_text(json.dumps(_question_plan(side, args.questions, SEED)))
    cache = workdir / "cache"
    shutil.rmtree(cache, ignore_errors=True)

    results = {}
    for method in METHODS:
        image = png if "png" in method else tif
        results[method] = _run_child(
            ["--worker", method, "--image", str(image), "--plan", str(plan), "--cache-dir", str(cache)]
        )
        result = results[method]
        print(
            f"{method:16s} {result['wall_s']:8.2f} s total  {result['wall_s'] / args.questions:7.3f} s/question  "
            f"first question {result['first_question_s']:7.2f} s  peak {result['max_rss_mib']:7.0f} MiB"
        )

    _check_outputs_agree(results, json.loads(plan.read_text()))
    naive, warm = results["naive-png"], results["lrsgro-png-warm"]
    tif_naive, tif_lrsgro = results["naive-tif"], results["lrsgro-tif"]
    print(
        f"PNG, warm cache: speed {naive['wall_s'] / warm['wall_s']:.1f}x, "
        f"memory {naive['max_rss_mib'] / warm['max_rss_mib']:.1f}x"
    )
    print(
        f"GeoTIFF: speed {tif_naive['wall_s'] / tif_lrsgro['wall_s']:.1f}x, "
        f"memory {tif_naive['max_rss_mib'] / tif_lrsgro['max_rss_mib']:.1f}x"
    )
    cold = results["lrsgro-png-cold"]
    print(f"speed ratio: {naive['wall_s'] / cold['wall_s']:.1f}x")
    print(f"memory ratio: {naive['max_rss_mib'] / cold['max_rss_mib']:.1f}x")
    return 0


def _question_plan(side: int, questions: int, seed: int) -> list[dict]:
    from lrsgro.imagery.frames import view_size, zoom_crop_window

    rng = np.random.default_rng(seed)
    plan = []
    for _ in range(questions):
        width, height = np.exp(rng.uniform(math.log(16), math.log(min(4000, side)), size=2))
        x0 = rng.uniform(0, side - width)
        y0 = rng.uniform(0, side - height)
        window = zoom_crop_window((x0, y0, x0 + width, y0 + height), (side, side))
        whole = (int(window[0]), int(window[1]), math.ceil(window[2]), math.ceil(window[3]))
        crop_size = view_size((whole[2] - whole[0], whole[3] - whole[1]), CROP_MAX_SIDE)
        plan.append(
            {
                "window": whole,
                "view_size": view_size((side, side), VIEW_SIDE),
                "crop_size": crop_size,
                "full_resolution": crop_size == (whole[2] - whole[0], whole[3] - whole[1]),
                "image_pixels": side * side,
            }
        )
    return plan


def _run_child(arguments: list[str]) -> dict:
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *arguments],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr)
        raise SystemExit(f"benchmark step {arguments[:2]} failed with exit code {completed.returncode}")

    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result["wall_s"] = wall
    return result


def _run_worker(args: argparse.Namespace) -> int:
    if args.generate:
        _generate(args.side, Path(args.png), Path(args.tif))
        print(json.dumps({"max_rss_mib": _peak_rss_mib(), "first_question_s": 0.0}))
        return 0

    plan = json.loads(Path(args.plan).read_text())
    if args.worker.startswith("naive"):
        timings, means = _answer_naive(Path(args.image), plan)
    else:
        timings, means = _answer_lrsgro(Path(args.image), plan, Path(args.cache_dir))

    print(json.dumps({"max_rss_mib": _peak_rss_mib(), "first_question_s": timings[0], "means": means}))
    return 0


def _answer_naive(image_path: Path, plan: list[dict]) -> tuple[list[float], list[float]]:
    from PIL import Image

    # Lifted only in this throwaway process: the naive way decodes the whole image.
    Image.MAX_IMAGE_PIXELS = None
    timings, means = [], []
    for question in plan:
        started = time.perf_counter()
        with Image.open(image_path) as image:
            image.load()
            view = image.resize(tuple(question["view_size"]), Image.Resampling.BOX)
            crop = image.crop(tuple(question["window"]))
            if crop.size != tuple(question["crop_size"]):
                crop = crop.resize(tuple(question["crop_size"]), Image.Resampling.BOX)
        _pillow_jpeg(view)
        _pillow_jpeg(crop)
        timings.append(time.perf_counter() - started)
        means.append(float(np.asarray(crop).mean()))
    return timings, means


def _answer_lrsgro(image_path: Path, plan: list[dict], cache_dir: Path) -> tuple[list[float], list[float]]:
    from lrsgro.imagery import UHRImage, encode_jpeg

    timings, means = [], []
    for question in plan:
        started = time.perf_counter()
        with UHRImage(image_path, cache_dir=cache_dir, pixel_budget=question["image_pixels"]) as image:
            view = image.view(VIEW_SIDE)
            crop = image.crop(tuple(question["window"]), out_max_side=CROP_MAX_SIDE)
        if (crop.shape[1], crop.shape[0]) != tuple(question["crop_size"]):
            raise SystemExit(f"crop size {crop.shape} differs from the plan {question['crop_size']}")
        encode_jpeg(view)
        encode_jpeg(crop)
        timings.append(time.perf_counter() - started)
        means.append(float(crop.mean()))
    return timings, means


def _pillow_jpeg(image) -> bytes:
    import io

    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _check_outputs_agree(results: dict, plan: list[dict]) -> None:
    # Full-resolution crops are the same pixels whichever way they are read; downsampled
    # crops differ slightly because Pillow's box filter and GDAL's overviews average differently.
    reference = np.asarray(results["naive-png"]["means"])
    exact = np.asarray([question["full_resolution"] for question in plan])
    for label, mask in (("full-resolution", exact), ("downsampled", ~exact)):
        if not mask.any():
            continue
        worst = max(float(np.max(np.abs(np.asarray(r["means"])[mask] - reference[mask]))) for r in results.values())
        print(f"largest difference in mean {label} crop value between methods: {worst:.3f} (of 255)")


def _generate(side: int, png: Path, tif: Path) -> None:
    import rasterio
    from rasterio.enums import ColorInterp, Resampling
    from rasterio.windows import Window

    from lrsgro.imagery.convert import overview_factors

    profile = {
        "driver": "GTiff",
        "width": side,
        "height": side,
        "count": 3,
        "dtype": "uint8",
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
        "predictor": 2,
        "num_threads": "ALL_CPUS",
        "interleave": "pixel",
        "photometric": "RGB",
    }
    with (
        rasterio.Env(GDAL_CACHEMAX=256, GDAL_NUM_THREADS="ALL_CPUS", COMPRESS_OVERVIEW="DEFLATE", PREDICTOR_OVERVIEW=2),
        rasterio.open(tif, "w", **profile) as dst,
        _PngStripWriter(png, side, side, PNG_LEVEL) as png_writer,
    ):
        for row, strip in _synthetic_strips(side):
            png_writer.write(strip)
            window = Window(0, row, side, strip.shape[0])
            dst.write(np.moveaxis(strip, -1, 0), window=window)
        dst.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue]
        dst.build_overviews(overview_factors(side, side), Resampling.average)


def _synthetic_strips(side: int) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (first row, rows x side x 3 uint8) strips of smooth fields, edges and noise."""
    x = np.arange(side, dtype=np.float32)
    for row in range(0, side, STRIP_ROWS):
        rows = min(STRIP_ROWS, side - row)
        y = np.arange(row, row + rows, dtype=np.float32)[:, None]
        rng = np.random.default_rng([SEED, row])
        field = np.sin(x / 690.0) * np.cos(y / 910.0)
        blocks = ((x // 97 + y // 113) % 5) * 9
        strip = np.empty((rows, side, 3), dtype=np.uint8)
        for band, (base, gain) in enumerate(((110, 60), (120, 45), (95, 35))):
            noise = rng.normal(0.0, NOISE_SIGMA, size=(rows, side)).astype(np.float32)
            strip[:, :, band] = np.clip(base + gain * field + blocks + noise, 0, 255)
        yield row, strip


class _PngStripWriter:
    """A PNG encoder that takes rows in strips, so the image never sits in memory whole."""

    def __init__(self, path: Path, width: int, height: int, level: int) -> None:
        self._path = path
        self._width = width
        self._height = height
        self._compressor = zlib.compressobj(level)

    def __enter__(self) -> _PngStripWriter:
        self._handle = self._path.open("wb")
        self._handle.write(b"\x89PNG\r\n\x1a\n")
        self._chunk(b"IHDR", struct.pack(">IIBBBBB", self._width, self._height, 8, 2, 0, 0, 0))
        return self

    def write(self, strip: np.ndarray) -> None:
        """Append rows x width x 3 uint8 rows, each with the Sub filter (type 1)."""
        rows = strip.reshape(strip.shape[0], -1)
        filtered = np.empty((rows.shape[0], rows.shape[1] + 1), dtype=np.uint8)
        filtered[:, 0] = 1
        filtered[:, 1:4] = rows[:, :3]
        filtered[:, 4:] = rows[:, 3:] - rows[:, :-3]
        self._chunk(b"IDAT", self._compressor.compress(filtered.tobytes()))

    def __exit__(self, *exc_info: object) -> None:
        self._chunk(b"IDAT", self._compressor.flush())
        self._chunk(b"IEND", b"")
        self._handle.close()

    def _chunk(self, kind: bytes, data: bytes) -> None:
        if kind == b"IDAT" and not data:
            return
        self._handle.write(struct.pack(">I", len(data)) + kind + data)
        self._handle.write(struct.pack(">I", zlib.crc32(kind + data)))


def _peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _machine_description() -> str:
    memory = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages / 2**30:.0f} GiB RAM"
    except (ValueError, OSError):
        pass
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            models = [line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")]
        cpu = models[0] if models else cpu
    except OSError:
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{system}, {os.cpu_count()} CPUs ({cpu}){memory}, Python {platform.python_version()}"


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=20000, help="image width and height in pixels (default 20000)")
    parser.add_argument("--questions", type=int, default=20, help="number of seeded questions (default 20)")
    parser.add_argument("--workdir", help="folder for the generated images and cache (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder instead of deleting it")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--image", help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", help=argparse.SUPPRESS)
    parser.add_argument("--png", help=argparse.SUPPRESS)
    parser.add_argument("--tif", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.generate:
        args.worker = "generate"
    if args.side < 1024 or args.questions < 1:
        parser.error("--side must be at least 1024 and --questions at least 1")
    return args


if __name__ == "__main__":
    sys.exit(main())
