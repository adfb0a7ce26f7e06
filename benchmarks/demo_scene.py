"""Benchmark: painting the ``lrsgro demo`` scene strip by strip against painting it in one piece.

Each way generates the same seeded scene in a fresh Python process and records its wall time and
peak resident memory (``ru_maxrss``):

- ``strips``: :func:`lrsgro.demo.generate_scene` as shipped, 512 rows at a time.
- ``whole``: the same code with the strip height set to the scene size, so the paint ids, the noise
  and the RGB pixels of the whole scene are held at once (the naive way).

Both include laying out the scene, writing the tiled GeoTIFF, building its overviews and writing the
labels. The last two lines printed are ``speed ratio`` and ``memory ratio``: whole divided by strips.

Usage::

    .venv/bin/python benchmarks/demo_scene.py               # 8192 x 8192, seed 0
    .venv/bin/python benchmarks/demo_scene.py --size 4096 --seed 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=8192, help="side of the scene in pixels")
    parser.add_argument("--seed", type=int, default=0, help="seed of the scene")
    parser.add_argument("--child", choices=("strips", "whole"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        _run_child(args.child, args.out, args.size, args.seed)
        return

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    results = {}
    with tempfile.TemporaryDirectory(prefix="lrsgro-demo-bench-") as scratch:
        for way in ("strips", "whole"):
            command = [sys.executable, __file__, "--child", way, "--out", f"{scratch}/{way}"]
            command += ["--size", str(args.size), "--seed", str(args.seed)]
            completed = subprocess.run(command, check=True, capture_output=True, text=True)
            results[way] = json.loads(completed.stdout.strip().splitlines()[-1])
            record = results[way]
            print(
                f"{way:>6}: {record['seconds']:.2f} s, peak RSS {record['peak_mib']:.0f} MiB, "
                f"{record['objects']} objects, image {record['image_mib']:.0f} MiB"
            )

    print(f"speed ratio: {results['whole']['seconds'] / results['strips']['seconds']:.2f}")
    print(f"memory ratio: {results['whole']['peak_mib'] / results['strips']['peak_mib']:.2f}")


def _run_child(way: str, out: Path, size: int, seed: int) -> None:
    from lrsgro.demo import generate_scene, raster

    if way == "whole":
        raster.STRIP_ROWS = size

    started = time.perf_counter()
    scene = generate_scene(out, seed=seed, size=size)
    seconds = time.perf_counter() - started

    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    record = {
        "seconds": seconds,
        "peak_mib": peak_kib / 1024,
        "objects": scene.object_count,
        "image_mib": scene.image_path.stat().st_size / 2**20,
    }
    print(json.dumps(record))


if __name__ == "__main__":
    main()
