"""Records of the public benchmarks' question files: JSON, JSON Lines, Parquet and Arrow.

Benchmark releases ship their questions in four containers. MME-RealWorld uses a JSON array,
up to 4 GB when the images are embedded as base64. LRS-VQA and VLMEvalKit's XLRS-Bench use
JSON Lines, lmms-eval copies on the Hugging Face Hub use Parquet shards, and folders written
by ``datasets.Dataset.save_to_disk`` hold Arrow files. :func:`iter_records` reads all of them
one record at a time, so a multi-gigabyte file is never in memory whole, and it returns the
file and line or row of each record for error messages. The checks that adapters run on a
record's fields (required fields, boxes) raise errors that name that file and line.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from lrsgro.benchmarks.base import Box
from lrsgro.errors import InputError

logger = logging.getLogger(__name__)

RECORD_SUFFIXES = (".json", ".jsonl", ".parquet", ".arrow")
# Files of a Hugging Face folder that describe the data rather than hold records.
METADATA_FILES = frozenset({"dataset_info.json", "state.json", "dataset_dict.json"})
JSON_CHUNK_BYTES = 1 << 24
ROWS_PER_BATCH = 16
# Hugging Face Hub shards: Parquet files of a dataset repository, Arrow files of save_to_disk.
HUB_PARQUET_SHARDS = "*-?????-of-?????.parquet"
SAVED_ARROW_SHARDS = "data-?????-of-?????.arrow"
MAX_LISTED = 10


@dataclass(frozen=True)
class SourceRecord:
    """One record and where it was read.

    Attributes:
        path: the file.
        line: the line (JSON Lines) or the 1-based position (JSON arrays, Parquet and Arrow rows).
        record: the record as a dict.
    """

    path: Path
    line: int
    record: dict[str, Any]


def record_files(data: Path, benchmark: str, patterns: Sequence[str]) -> list[Path]:
    """Return ``data`` when it is a file, else the question files under it, sorted.

    A file given directly is read whatever its name. In a folder, searched at every depth,
    only files whose names match ``patterns`` (the benchmark's published file names) are
    read. Other record files (``.json``, ``.jsonl``, ``.parquet``, ``.arrow``) are left out
    and listed in one info log. See :func:`matches_pattern` for the pattern syntax.

    Raises:
        InputError: ``data`` does not exist, or a folder holds no file matching ``patterns``;
            the message lists the expected names and the record files found instead.
    """
    if not data.exists():
        raise InputError("benchmark data not found", path=data, fix="pass --data with the question file or its folder")
    if data.is_file():
        return [data]

    candidates = sorted(
        path
        for path in data.rglob("*")
        if path.suffix.lower() in RECORD_SUFFIXES and path.name not in METADATA_FILES and path.is_file()
    )
    files = [path for path in candidates if any(matches_pattern(path, pattern) for pattern in patterns)]
    chosen = set(files)
    ignored = [_relative_name(path, data) for path in candidates if path not in chosen]
    if not files:
        found = f"; record files found instead: {_listing(ignored)}" if ignored else ""
        raise InputError(
            f"no {benchmark} question file found in the folder",
            path=data,
            fix=f"expected file names: {', '.join(patterns)}{found}; rename the file, or pass it to --data directly",
        )
    if ignored:
        logger.info(
            "%s: read %d question file(s) in %s; left out %d file(s) whose names are not %s question files: %s",
            benchmark, len(files), data, len(ignored), benchmark, _listing(ignored),
        )
    return files


def source_records(data: Path, benchmark: str, patterns: Sequence[str]) -> Iterator[SourceRecord]:
    """Yield every record of the question files :func:`record_files` finds, file by file."""
    for path in record_files(data, benchmark, patterns):
        yield from iter_records(path)


def matches_pattern(path: Path, pattern: str) -> bool:
    """Tell whether ``path`` matches a file-name pattern, case-insensitively.

    A pattern is a shell pattern (``*``, ``?``, ``[...]``) on the file name, such as
    ``LRS_VQA*.jsonl``. A pattern with ``/`` also names the folders above the file, one
    component each, so ``MME-RealWorld/*.json`` matches a ``.json`` file whose folder is
    called ``MME-RealWorld``.
    """
    pieces = pattern.lower().split("/")
    parts = [part.lower() for part in path.parts]
    if len(parts) < len(pieces):
        return False
    return all(fnmatchcase(part, piece) for part, piece in zip(parts[-len(pieces):], pieces, strict=True))


def iter_records(path: Path) -> Iterator[SourceRecord]:
    """Yield every record of one file, read incrementally.

    Raises:
        InputError: the file is not valid JSON, JSON Lines, Parquet or Arrow, or a record
            is not an object.
    """
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        yield from _parquet_records(path)
    elif suffix == ".arrow":
        yield from _arrow_records(path)
    elif suffix == ".jsonl":
        yield from json_lines(path)
    else:
        yield from _json_values(path)


def json_lines(path: Path) -> Iterator[SourceRecord]:
    """Yield the object on each non-blank line of a JSON Lines file, whatever its name.

    Raises:
        InputError: a line is not valid JSON or not an object.
    """
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise InputError(f"invalid JSON line: {error.msg}", path=path, line=number, fix="repair or remove the line") from error
            yield SourceRecord(path, number, _as_object(record, path, number))


def require_fields(record: Mapping[str, Any], fields: Sequence[str], path: Path, line: int, fix: str) -> None:
    """Check that ``record`` has a non-null value for each of ``fields``.

    Raises:
        InputError: naming every missing field, the file and line, and ``fix``.
    """
    missing = [field for field in fields if record.get(field) is None]
    if missing:
        raise InputError(f"record lacks {', '.join(missing)}", path=path, line=line, fix=fix)


def record_box(value: Any, field: str, qid: str, path: Path, line: int) -> Box | None:
    """Return a record's (x0, y0, x1, y1) box field as floats, or None when it is null or ``[]``.

    Raises:
        InputError: the value is not four numbers, or x1 < x0 or y1 < y0.
    """
    if value is None or value == []:
        return None
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise InputError(f"question {qid}: {field} {value!r} must be [] or four numbers [x0, y0, x1, y1]", path=path, line=line)
    try:
        x0, y0, x1, y1 = (float(number) for number in value)
    except (TypeError, ValueError) as error:
        raise InputError(f"question {qid}: {field} {value!r} contains a value that is not a number", path=path, line=line) from error
    if x1 < x0 or y1 < y0:
        raise InputError(f"question {qid}: {field} {value!r} has x1 < x0 or y1 < y0", path=path, line=line)
    return x0, y0, x1, y1


@contextmanager
def locate_errors(qid: str, path: Path, line: int) -> Iterator[None]:
    """Re-raise an InputError of the block with the question id, the file and the line of its record."""
    try:
        yield
    except InputError as error:
        raise InputError(f"question {qid}: {error.reason}", path=path, line=line, fix=error.fix) from error


def _parquet_records(path: Path) -> Iterator[SourceRecord]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        number = 0
        for batch in parquet.iter_batches(batch_size=ROWS_PER_BATCH):
            for row in batch.to_pylist():
                number += 1
                yield SourceRecord(path, number, row)
    except (pa.ArrowException, OSError) as error:
        raise InputError(f"cannot read the Parquet file: {error}", path=path) from error


def _arrow_records(path: Path) -> Iterator[SourceRecord]:
    import pyarrow as pa

    try:
        with pa.memory_map(str(path)) as source:
            try:
                reader = pa.ipc.open_stream(source)
            except pa.ArrowInvalid:
                source.seek(0)
                reader = pa.ipc.open_file(source)
                batches = (reader.get_batch(index) for index in range(reader.num_record_batches))
            else:
                batches = iter(reader)

            number = 0
            for batch in batches:
                for start in range(0, batch.num_rows, ROWS_PER_BATCH):
                    for row in batch.slice(start, ROWS_PER_BATCH).to_pylist():
                        number += 1
                        yield SourceRecord(path, number, row)
    except (pa.ArrowException, OSError) as error:
        raise InputError(f"cannot read the Arrow file: {error}", path=path) from error


def _json_values(path: Path) -> Iterator[SourceRecord]:
    """Yield the objects of a JSON array, or of objects written one after another.

    The file is read in chunks of :data:`JSON_CHUNK_BYTES`; each object is parsed with
    ``json.JSONDecoder.raw_decode`` once the buffer contains all of it, so memory stays near
    the largest single record plus one chunk.
    """
    decoder = json.JSONDecoder()
    with path.open(encoding="utf-8-sig") as handle:
        buffer, position, at_end = "", 0, False
        in_array: bool | None = None
        number = 0
        while True:
            position = _skip_space(buffer, position)
            if position >= len(buffer) and not at_end:
                buffer, position = buffer[position:] + handle.read(JSON_CHUNK_BYTES), 0
                at_end = position >= len(buffer)
                continue
            if position >= len(buffer):
                if in_array:
                    raise InputError("the JSON array is not closed with ']'", path=path, fix="the file looks truncated; download it again")
                return

            character = buffer[position]
            if in_array is None:
                in_array = character == "["
                position += 1 if in_array else 0
                continue
            if in_array and character == "]":
                return
            if in_array and character == "," and number > 0:
                position += 1
                continue

            try:
                value, end = decoder.raw_decode(buffer, position)
            except json.JSONDecodeError as error:
                more = handle.read(JSON_CHUNK_BYTES) if not at_end else ""
                if not more:
                    raise InputError(f"invalid JSON: {error.msg} in record {number + 1}", path=path) from error
                buffer, position = buffer[position:] + more, 0
                continue

            number += 1
            yield SourceRecord(path, number, _as_object(value, path, number))
            position = end


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _as_object(value: Any, path: Path, number: int) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(f"record {number} is a JSON {type(value).__name__}, not an object", path=path, line=number)
    return value


def _relative_name(path: Path, folder: Path) -> str:
    return path.relative_to(folder).as_posix()


def _listing(names: Sequence[str]) -> str:
    shown = ", ".join(names[:MAX_LISTED])
    if len(names) > MAX_LISTED:
        shown += f" and {len(names) - MAX_LISTED} more"
    return shown
