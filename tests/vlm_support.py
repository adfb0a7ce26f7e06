"""Shared pieces of the VLM drafting tests: seeded GeoTIFFs, targets and a fake drafting model."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

from lrsgro.taxonomy import get_type
from lrsgro.vlm import DraftTarget, Referent
from tests.openai_stub import RecordedRequest, Reply

ANSWERS = {"word": "concrete", "phrase": "storing goods", "yes_no": "yes", "integer": "2", "choice": "A"}

_REQUIRED = re.compile(r'- level "(\w+)", category "([^"]+)", answer_kind "(\w+)"')
_REFERENT_ID = re.compile(r"^- id: (\S+)$", re.MULTILINE)


def write_geotiff(path: Path, width: int, height: int, seed: int = 0) -> Path:
    """Write a seeded 3-band uint8 GeoTIFF (UTM 50N, 0.5 m pixels) with smooth bands and noise."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width]
    bands = np.stack(
        [
            (xs * 255 // max(1, width - 1)),
            (ys * 255 // max(1, height - 1)),
            ((xs + ys) * 255 // max(1, width + height - 2)),
        ]
    ).astype(np.int16)
    bands += rng.integers(-20, 21, size=bands.shape, dtype=np.int16)
    data = np.clip(bands, 0, 255).astype(np.uint8)
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 3,
        "dtype": "uint8",
        "crs": "EPSG:32650",
        "transform": from_origin(500000.0, 4000000.0, 0.5, 0.5),
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
    }
    with rasterio.open(path, "w", **profile) as dataset:
        dataset.write(data)
    return path


def object_target(image: Path, index: int, width: int, height: int, **overrides) -> DraftTarget:
    """An object target on a diagonal row of 60 x 40 px objects."""
    x0 = 100 + index * 150
    y0 = 80 + index * 90
    referent = Referent(
        id=f"obj-{index}",
        box=(float(x0), float(y0), float(x0 + 60), float(y0 + 40)),
        expression=f"the ship number {index} from the top",
        category="ship",
    )
    fields = dict(
        image_path=image,
        image_id=image.stem,
        image=f"images/{image.name}",
        image_width=width,
        image_height=height,
        level="object",
        referent=referent,
        facts={"color": "white", "length_m": 30.0},
    )
    fields.update(overrides)
    return DraftTarget(**fields)


def reply_text_for(request: RecordedRequest, extra: list[dict] | None = None) -> str:
    """Return a well-formed reply drafting every required type named in the request's prompt."""
    required_block = request.text.split("for each of these types:", 1)[1].split("You may add", 1)[0]
    match = _REFERENT_ID.search(request.text)
    referent = match.group(1) if match else None
    drafts = []
    for level, category, kind in _REQUIRED.findall(required_block):
        answer_kind = get_type(level, category).answer_kind.value
        drafts.append(
            {
                "level": level,
                "category": category,
                "question": f"What is the {category.lower()} of {referent or 'the scene'}?",
                "answer": ANSWERS[answer_kind],
                "answer_kind": kind,
                "choices": ["A", "B"] if kind == "choice" else [],
                "referent": referent,
            }
        )
    drafts.extend(extra or [])
    return json.dumps({"questions": drafts})


def well_formed(request: RecordedRequest) -> Reply:
    """A script function: a valid draft for whatever target the request is about."""
    return Reply(text=reply_text_for(request))
