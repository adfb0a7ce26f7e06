"""The dataset folder: sharded Parquet in the Hugging Face layout, one image store, a report.

Layout of a dataset folder::

    README.md                               dataset card with ``configs:`` (see lrsgro.card)
    data/<split>-00000-of-00001.parquet     questions, one shard per 50,000 rows
    images/<image_id>.<ext>                 each image once
    images/index.jsonl                      one ImageRecord per image
    build_report.json                       counts, skipped records and reasons

``datasets.load_dataset(<folder>)`` loads the questions offline through the card's configs.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from lrsgro.errors import DatasetError
from lrsgro.records import ImageRecord, Question

logger = logging.getLogger(__name__)

ROWS_PER_SHARD = 50_000
DATA_DIR = "data"
IMAGES_DIR = "images"
IMAGE_INDEX = "images/index.jsonl"
REPORT_FILE = "build_report.json"

QUESTION_SCHEMA = pa.schema(
    [
        ("qid", pa.string()),
        ("image_id", pa.string()),
        ("image", pa.string()),
        ("image_width", pa.int32()),
        ("image_height", pa.int32()),
        ("split", pa.string()),
        ("level", pa.string()),
        ("category", pa.string()),
        ("question", pa.string()),
        ("answer", pa.string()),
        ("answer_kind", pa.string()),
        ("choices", pa.list_(pa.string())),
        ("roi", pa.list_(pa.float64())),
        ("roi_1024", pa.list_(pa.float64())),
        ("referent", pa.string()),
        ("provenance", pa.string()),
        ("review_status", pa.string()),
        ("evidence", pa.string()),
        ("vlm", pa.string()),
        ("reviews", pa.string()),
        ("source_labels", pa.string()),
    ]
)


def hf_features_json() -> str:
    """Return the ``datasets`` features of the question table as the JSON Parquet metadata holds."""
    from datasets import Features, List, Value

    types = {
        pa.string(): Value("string"),
        pa.int32(): Value("int32"),
        pa.list_(pa.string()): List(Value("string")),
        pa.list_(pa.float64()): List(Value("float64")),
    }
    features = Features({field.name: types[field.type] for field in QUESTION_SCHEMA})
    return json.dumps({"info": {"features": features.to_dict()}})


def write_questions(folder: Path, questions: Iterable[Question]) -> dict[str, int]:
    """Write the questions as Parquet shards per split, replacing any old shards atomically.

    Rows are sorted by (split, image_id, qid) so the same questions give byte-identical files.
    Returns the number of rows per split.
    """
    by_split: dict[str, list[dict[str, Any]]] = {}
    for question in sorted(questions, key=lambda q: (q.split, q.image_id, q.qid)):
        by_split.setdefault(question.split, []).append(question.to_row())

    data_dir = folder / DATA_DIR
    staging = Path(tempfile.mkdtemp(prefix=".data-", dir=folder))
    metadata = {b"huggingface": hf_features_json().encode("utf-8")}
    schema = QUESTION_SCHEMA.with_metadata(metadata)

    try:
        for split, rows in by_split.items():
            shards = max(1, -(-len(rows) // ROWS_PER_SHARD))
            for index in range(shards):
                chunk = rows[index * ROWS_PER_SHARD : (index + 1) * ROWS_PER_SHARD]
                table = pa.Table.from_pylist(chunk, schema=schema)
                pq.write_table(table, staging / f"{split}-{index:05d}-of-{shards:05d}.parquet")
    except BaseException:
        _remove_tree(staging)
        raise

    _replace_dir(staging, data_dir)
    return {split: len(rows) for split, rows in by_split.items()}


def read_questions(folder: str | Path) -> list[Question]:
    """Read every question of a dataset folder.

    Raises:
        DatasetError: when the folder has no ``data/*.parquet`` or a row is invalid.
    """
    folder = Path(folder)
    _recover_interrupted_swap(folder / DATA_DIR)
    shards = sorted((folder / DATA_DIR).glob("*.parquet"))
    if not shards:
        raise DatasetError(
            "no Parquet shards under data/",
            path=folder,
            fix="pass a folder written by `lrsgro build`",
        )

    questions: list[Question] = []
    for shard in shards:
        for index, row in enumerate(pq.read_table(shard).to_pylist()):
            try:
                questions.append(Question.from_row(row))
            except ValueError as error:
                raise DatasetError(f"invalid question row: {error}", path=shard, line=index + 1) from error
    return questions


def write_image_index(folder: Path, images: Iterable[ImageRecord]) -> None:
    """Write ``images/index.jsonl`` sorted by image id."""
    lines = [img.model_dump_json() for img in sorted(images, key=lambda i: i.image_id)]
    _write_text_atomic(folder / IMAGE_INDEX, "".join(line + "\n" for line in lines))


def read_image_index(folder: str | Path) -> dict[str, ImageRecord]:
    """Read ``images/index.jsonl`` into a dict keyed by image id."""
    path = Path(folder) / IMAGE_INDEX
    if not path.is_file():
        raise DatasetError("image index not found", path=path, fix="pass a folder written by `lrsgro build`")

    records: dict[str, ImageRecord] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = ImageRecord.model_validate_json(line)
        except ValueError as error:
            raise DatasetError(f"invalid image record: {error}", path=path, line=number) from error
        records[record.image_id] = record
    return records


def write_json(path: Path, data: Any) -> None:
    """Write JSON with sorted keys atomically."""
    _write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def _write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(temp, 0o666 & ~_umask())
    os.replace(temp, path)


def _umask() -> int:
    """Return the process umask (mkstemp creates files readable by the owner only)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _replace_dir(staging: Path, target: Path) -> None:
    """Swap ``staging`` in for ``target``; the old folder is removed only after the swap."""
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        if old.exists():
            _remove_tree(old)
        os.replace(target, old)
        os.replace(staging, target)
        _remove_tree(old)
    else:
        os.replace(staging, target)


def _recover_interrupted_swap(target: Path) -> None:
    """Put the previous shards back when a process died between the two renames of a swap."""
    old = target.with_name(f".{target.name}.old")
    if not target.exists() and old.is_dir():
        logger.warning("%s is missing but %s exists (an interrupted write); restoring it", target, old)
        os.replace(old, target)


def _remove_tree(path: Path) -> None:
    for child in path.iterdir():
        child.unlink()
    path.rmdir()
