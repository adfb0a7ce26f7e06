"""Small files in the published layouts of the zero-shot benchmarks, written by seeded code.

Field names, image encodings and option formats follow each release (see the adapter
docstrings in ``lrsgro/benchmarks``); every value is made up here. Images are a few dozen
pixels of seeded noise, encoded as JPEG, PNG or GeoTIFF, so base64 strings, Parquet binary
columns and Arrow files carry real image bytes.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner, Result
from PIL import Image

from lrsgro.cli import cli
from lrsgro.eval.runlog import PredictionRecord


def image_bytes(size: tuple[int, int], seed: int, kind: str = "PNG") -> bytes:
    """Return an image of ``size`` (width, height) with seeded pixels, encoded as ``kind``."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=kind)
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def write_json(path: Path, payload: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records), encoding="utf-8")
    return path


def write_parquet(path: Path, rows: list[dict[str, Any]], schema: pa.Schema) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path, row_group_size=2)
    return path


# --- MME-RealWorld -------------------------------------------------------------------------


def mme_annotation(qid: str, image: str, text: str, choices: list[str], truth: str, category: str,
                   subtask: str = "Remote Sensing", task: str = "Perception") -> dict[str, Any]:
    """Return a record of ``MME_RealWorld.json`` (annotation layout)."""
    return {
        "Question_id": qid, "Question Type": "Multiple Choice", "Image": image, "Text": text,
        "Answer choices": choices, "Ground truth": truth, "Task": task, "Subtask": subtask,
        "Category": category, "Dataset": "synthetic",
    }


def mme_base64_row(index: int, image: bytes, question: str, choices: list[str], answer: str, l2: str,
                   category: str = "Perception/Remote Sensing") -> dict[str, Any]:
    """Return a record of MME-RealWorld-Base64 (``image`` is the base64 string)."""
    return {
        "index": index, "image": b64(image), "question": question, "multi-choice options": choices,
        "answer": answer, "category": category, "l2-category": l2,
    }


MME_LMMS_EVAL_SCHEMA = pa.schema([
    ("bytes", pa.string()), ("path", pa.string()), ("index", pa.int64()), ("question", pa.string()),
    ("multi-choice options", pa.list_(pa.string())), ("answer", pa.string()), ("category", pa.string()),
    ("l2-category", pa.string()),
])


def mme_lmms_eval_row(index: int, image: bytes, question: str, choices: list[str], answer: str, l2: str,
                      category: str = "Perception/Remote Sensing") -> dict[str, Any]:
    """Return a row of MME-RealWorld-Lmms-eval Parquet (base64 text in the ``bytes`` column)."""
    return {
        "bytes": b64(image), "path": f"remote_sensing/{index:05d}.png", "index": index, "question": question,
        "multi-choice options": choices, "answer": answer, "category": category, "l2-category": l2,
    }


# --- XLRS-Bench lite -----------------------------------------------------------------------

XLRS_IMAGE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
XLRS_SCHEMA = pa.schema([
    ("index", pa.int32()), ("question", pa.string()), ("multi-choice options", pa.list_(pa.string())),
    ("answer", pa.string()), ("category", pa.string()), ("l2-category", pa.string()),
    ("image", pa.list_(XLRS_IMAGE)), ("path", pa.string()),
])


def xlrs_row(index: int, images: list[bytes], question: str, choices: list[str], answer: str,
             category: str) -> dict[str, Any]:
    """Return a row of the lmms-eval copy: ``category`` is "<group>/<sub-task>", images are structs."""
    return {
        "index": index, "question": question, "multi-choice options": choices, "answer": answer,
        "category": category, "l2-category": "default",
        "image": [{"bytes": data, "path": f"img_{index}_{n}.png"} for n, data in enumerate(images)],
        "path": f"img_{index}_0.png",
    }


def xlrs_vlmevalkit_row(index: int, images: list[bytes], question: str, choices: list[str], answer: str,
                        group: str, subtask: str) -> dict[str, Any]:
    """Return a VLMEvalKit JSON Lines record: base64 images, options as one block of lines."""
    block = "\nThe choices are listed below:\n" + "\n".join(choices) + "\nSelect the best answer.\nThe answer is:"
    image: str | list[str] = b64(images[0]) if len(images) == 1 else [b64(data) for data in images]
    return {
        "index": index, "image": image, "question": question, "multi-choice options": block,
        "answer": answer, "category": group, "l2-category": subtask,
    }


# --- replay and CLI ------------------------------------------------------------------------


def write_replay(path: Path, outputs: Mapping[str, str]) -> Path:
    """Write an lrsgro predictions file with one final ``answer`` record per question."""
    records = [
        PredictionRecord(qid=qid, stage="answer", final=True, raw_output=output, attempts=1)
        for qid, output in outputs.items()
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(record.model_dump_json() + "\n" for record in records), encoding="utf-8")
    return path


def run_cli(*args: str) -> Result:
    """Run ``lrsgro`` in-process and return click's result."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def eval_with_replay(benchmark: str, data: Path, replay: Path, out: Path, *extra: str) -> dict[str, Any]:
    """Run ``lrsgro eval --model replay:FILE`` and return its ``scores.json``."""
    result = run_cli("eval", "--benchmark", benchmark, "--data", str(data), "--model", f"replay:{replay}",
                     "--out", str(out), "--resamples", "0", *extra)
    assert result.exit_code == 0, result.output
    return json.loads((out / "scores.json").read_text(encoding="utf-8"))


def group(scores: dict[str, Any], rule: str, key: str) -> dict[str, Any]:
    """Return the accuracy group ``key`` ("level/category") of ``rule``'s final table."""
    return scores["rules"][rule]["final"]["per_type"][key]
