"""Read LRS-GRO questions for evaluation: a folder from ``lrsgro build`` or the official release.

Layouts of the official release (ZoomEarth authors, Hugging Face ``HappyBug/LRS-GRO`` and the
ZoomEarth repository), all of which may mix in one JSONL file:

- SFT records: ``question_id, image_name, category, question, ground_truth, type, label,
  cut, global, stage_1_reasoning, stage_2_reasoning, bbox, scale, split``;
- RL and test records: ``question_id, image_name, category, question, higher_level,
  ground_truth, bbox, type, [label], split``;
- older test records: like SFT records without ``scale`` and the reasoning fields.

Hugging Face folders contain the same columns. They are written by ``datasets.save_to_disk``
(one sub-folder per split with ``state.json`` and Arrow files) or as Parquet/JSONL files named
by split. Their records often lack ``split`` and ``type``, so these come from the folder or
file name and from the category.

``bbox`` is (x0, y0, x1, y1) in the frame whose long side is 1024 pixels, ``[]`` for global
questions. It is converted to full-resolution pixels with the image size read from the image
header. The release's known noise is normalised and every change is counted in a
:class:`~lrsgro.benchmarks.base.DataNote`, which the run log reports:

- ``Yes``/``No`` in any case become ``yes``/``no``;
- surrounding whitespace, newlines and trailing periods are removed from answers, and
  surrounding whitespace from questions;
- split names are lower-cased (``RL`` and ``rl`` are one split);
- a category spelled with other case or spacing is matched to the 17 types; a category that
  is still outside them becomes ``<level>-other`` (``global-other`` for global questions) with
  the original kept in ``extra["raw_category"]``, so scores report it apart.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from lrsgro.benchmarks._embedded import EmbeddedImages, image_roots
from lrsgro.benchmarks._records import iter_records, record_box, require_fields
from lrsgro.benchmarks.base import BenchmarkData, EvalSample, wanted_splits
from lrsgro.dataset import DATA_DIR, IMAGE_INDEX, read_questions
from lrsgro.errors import InputError
from lrsgro.imagery.frames import LRSGRO_FRAME_SIDE, clamp_box, from_frame, is_empty
from lrsgro.imagery.paths import resolve_image_path
from lrsgro.taxonomy import LEVELS, QUESTION_TYPES, find_type

logger = logging.getLogger(__name__)

BENCHMARK_NAME = "lrs-gro"
RELEASE_ID_FIELD = "question_id"
RELEASE_REQUIRED = ("question_id", "image_name", "category", "question", "ground_truth")
IMAGE_FOLDERS = ("", "image", "images", "imgs")
OTHER_SUFFIX = "-other"
DEFAULT_SPLIT = "test"

_SPACES = re.compile(r"\s+")
_YES_NO = {"yes", "no"}
_SPLIT_FILES = re.compile(r"^(?P<split>[A-Za-z]+)(?:[-_.].*)?$")


def load_lrs_gro(
    data: Path,
    splits: Sequence[str] | None = None,
    images: Path | None = None,
) -> BenchmarkData:
    """Read LRS-GRO questions from a built dataset folder or the official release.

    Args:
        data: a folder written by ``lrsgro build``, a release JSONL file, a folder of JSONL
            files, or a release Hugging Face folder.
        splits: split names to keep (compared lower-case); all splits when None.
        images: the folder that holds the release images; by default ``image/`` or
            ``images/`` beside the data, or the data folder itself.

    Raises:
        InputError: ``data`` is missing or in no known layout, or a record is invalid.
    """
    data = Path(data)
    if not data.exists():
        raise InputError("benchmark data not found", path=data, fix="pass --data with a dataset folder or JSONL file")

    wanted = wanted_splits(splits)
    if data.is_dir() and (data / IMAGE_INDEX).is_file() and any((data / DATA_DIR).glob("*.parquet")):
        return _load_built(data, wanted)

    result = BenchmarkData(BENCHMARK_NAME, data, [])
    store = EmbeddedImages(_image_roots(data, images))
    for split_hint, source, line, record in _release_records(data):
        sample = _release_sample(record, split_hint, source, line, store, result, wanted)
        if sample is not None:
            result.samples.append(sample)

    _drop_duplicate_ids(result)
    if not result.samples and wanted is not None:
        logger.warning("no questions of split(s) %s in %s", ", ".join(sorted(wanted)), data)
    return result


def normalise_category(level: str, category: str) -> tuple[str, bool]:
    """Return (category as one of the 17, True), or (``<level>-other``, False) when none fits.

    Matching ignores case and runs of whitespace, so ``object color /  Pattern`` is
    ``Object color / pattern``.
    """
    if find_type(level, category) is not None:
        return category, True

    key = _SPACES.sub(" ", category.strip().casefold())
    for qtype in QUESTION_TYPES:
        if qtype.level == level and _SPACES.sub(" ", qtype.category.casefold()) == key:
            return qtype.category, True
    return f"{level}{OTHER_SUFFIX}", False


def normalise_answer(answer: str) -> str:
    """Strip whitespace and trailing periods, and lower-case yes/no."""
    text = _strip_periods(answer.strip())
    if text.casefold() in _YES_NO:
        text = text.casefold()
    return text


def question_key(question: str) -> str:
    """Return the comparison form of a question: case-folded, single spaces, no end punctuation."""
    text = _SPACES.sub(" ", question.strip().casefold())
    return text.rstrip(" ?.!")


def _load_built(folder: Path, wanted: set[str] | None) -> BenchmarkData:
    result = BenchmarkData(BENCHMARK_NAME, folder, [])
    for question in read_questions(folder):
        if wanted is not None and question.split.lower() not in wanted:
            continue
        if question.review_status == "rejected":
            result.note("rejected", "questions rejected in review were left out").add(question.qid)
            continue
        if question.review_status == "candidate":
            result.note("unreviewed", "questions not yet reviewed (status candidate) are included").add(
                question.qid
            )

        image = resolve_image_path(folder, question.image, must_exist=False)
        if not image.is_file():
            result.note("image-missing", "image file not found; protocols that show images cannot run").add(
                question.qid
            )

        result.samples.append(
            EvalSample(
                id=question.qid,
                images=(image,),
                question=question.question,
                answer=question.answer,
                category=question.category,
                level=question.level,
                options=tuple(question.choices),
                roi=tuple(question.roi) if question.roi is not None else None,
                image_size=(question.image_width, question.image_height),
                split=question.split.lower(),
                extra={
                    "image_id": question.image_id,
                    "image_name": Path(question.image).name,
                    "answer_kind": question.answer_kind.value,
                    "roi_1024": question.roi_1024,
                    "review_status": question.review_status,
                    "provenance": question.provenance,
                    "report_apart": not question.is_known_type,
                },
            )
        )
    return result


def _release_records(data: Path) -> Iterator[tuple[str | None, Path, int, dict[str, Any]]]:
    """Yield (split from the file or folder name, source file, line, record) for each record."""
    if data.is_file():
        yield from _file_records(data, None)
        return

    if (data / "dataset_dict.json").is_file() or (data / "state.json").is_file():
        yield from _saved_records(data)
        return

    files = sorted(
        path
        for pattern in ("*.jsonl", "*.json", "*.parquet", "data/*.parquet", "data/*.jsonl", "*/*.parquet")
        for path in data.glob(pattern)
        if path.name not in ("dataset_info.json", "state.json", "dataset_dict.json")
    )
    if not files:
        raise InputError(
            "no LRS-GRO questions found: expected a folder from `lrsgro build`, JSONL or Parquet files, "
            "or a folder written by datasets.save_to_disk",
            path=data,
            fix="pass --data with the dataset folder or the release JSONL file",
        )
    for path in files:
        yield from _file_records(path, _split_from_path(path, data))


def _file_records(path: Path, split_hint: str | None) -> Iterator[tuple[str | None, Path, int, dict[str, Any]]]:
    for source in iter_records(path):
        yield split_hint, source.path, source.line, source.record


def _saved_records(folder: Path) -> Iterator[tuple[str | None, Path, int, dict[str, Any]]]:
    """Read a folder written by ``DatasetDict.save_to_disk`` or ``Dataset.save_to_disk``."""
    from datasets import Dataset, DatasetDict, load_from_disk

    try:
        loaded = load_from_disk(str(folder))
    except (FileNotFoundError, ValueError) as error:
        raise InputError(f"cannot load the Hugging Face folder: {error}", path=folder) from error

    if isinstance(loaded, DatasetDict):
        parts: Iterable[tuple[str | None, Dataset]] = loaded.items()
    else:
        parts = [(folder.name, loaded)]
    for split, dataset in parts:
        for number, row in enumerate(dataset, start=1):
            yield split, folder / str(split), number, dict(row)


def _split_from_path(path: Path, root: Path) -> str | None:
    relative = path.relative_to(root)
    candidates = [relative.stem, *(part for part in relative.parts[:-1] if part != "data")]
    for text in candidates:
        match = _SPLIT_FILES.match(text)
        if match and match.group("split").lower() in {"sft", "rl", "test", "train", "validation", "val"}:
            return match.group("split").lower()
    return None


def _release_sample(
    record: dict[str, Any],
    split_hint: str | None,
    source: Path,
    line: int,
    store: EmbeddedImages,
    result: BenchmarkData,
    wanted: set[str] | None,
) -> EvalSample | None:
    """Return the sample of one release record, or None when it is left out (noted)."""
    require_fields(record, RELEASE_REQUIRED, source, line, fix=f"each LRS-GRO record needs {', '.join(RELEASE_REQUIRED)}")

    qid = str(record["question_id"])
    if wanted is not None and _split_name(record, split_hint) not in wanted:
        return None
    split = _record_split(record, split_hint, qid, result)
    answer = _record_answer(str(record["ground_truth"]), qid, result)
    if not answer:
        result.note("answer-empty", "records with an empty answer were left out").add(qid)
        return None

    question = str(record["question"])
    if question != question.strip():
        result.note("question-whitespace", "surrounding whitespace or newlines removed from questions").add(qid)
        question = question.strip()

    bbox = record.get("bbox")
    box_1024 = None if bbox == "" else record_box(bbox, "bbox", qid, source, line)
    level = _record_level(record, box_1024, qid, result)
    raw_category = str(record["category"])
    category, known = normalise_category(level, raw_category)
    if known and category != raw_category:
        result.note("category-spelling", "category spelling matched to one of the 17 types").add(qid)
    if not known:
        result.note(
            "category-other",
            "categories outside the 17 types kept as <level>-other and reported apart",
        ).add(qid)

    image_name = str(record["image_name"])
    image = store.find(image_name)
    image_size: tuple[int, int] | None = None
    roi = None
    if image is None:
        result.note("image-missing", "image file not found; protocols that show images cannot run").add(qid)
    else:
        image_size = store.size(image)
        if box_1024 is not None:
            roi = _full_resolution_box(box_1024, image_size, qid, result)

    extra: dict[str, Any] = {"image_name": image_name, "raw_category": raw_category, "report_apart": not known}
    if box_1024 is not None:
        extra["roi_1024"] = list(box_1024)
    for key in ("higher_level", "label", "cut", "scale"):
        if record.get(key) is not None:
            extra[key] = record[key]

    return EvalSample(
        id=qid,
        images=(image,) if image is not None else (),
        question=question,
        answer=answer,
        category=category,
        level=level,
        options=(),
        roi=roi,
        image_size=image_size,
        split=split,
        extra=extra,
    )


def _split_name(record: dict[str, Any], hint: str | None) -> str:
    raw = record.get("split")
    if raw is None:
        return hint or DEFAULT_SPLIT
    return str(raw).strip().lower()


def _record_split(record: dict[str, Any], hint: str | None, qid: str, result: BenchmarkData) -> str:
    raw = record.get("split")
    if raw is None:
        if hint is None:
            result.note("split-missing", f"records without a split name were put in split {DEFAULT_SPLIT!r}").add(qid)
            return DEFAULT_SPLIT
        return hint

    split = str(raw).strip().lower()
    if split != raw:
        result.note("split-name", "split names lower-cased (RL and rl are one split)").add(qid)
    return split


def _record_answer(raw: str, qid: str, result: BenchmarkData) -> str:
    stripped = raw.strip()
    if stripped != raw:
        result.note("answer-whitespace", "surrounding whitespace or newlines removed from answers").add(qid)

    without_period = _strip_periods(stripped)
    if without_period != stripped:
        result.note("answer-period", "trailing periods removed from answers").add(qid)

    folded = without_period.casefold()
    if folded in _YES_NO and folded != without_period:
        result.note("answer-case", "Yes/No answers lower-cased").add(qid)
    return normalise_answer(raw)


def _record_level(
    record: dict[str, Any], box: tuple[float, float, float, float] | None, qid: str, result: BenchmarkData
) -> str:
    raw = record.get("type")
    if raw is not None and str(raw).strip().lower() in LEVELS:
        return str(raw).strip().lower()

    category = str(record["category"]).strip().casefold()
    levels = {qtype.level for qtype in QUESTION_TYPES if qtype.category.casefold() == category}
    if len(levels) == 1:
        level = levels.pop()
    elif levels:
        # Counting exists at two levels: a global question has no box.
        level = "global" if box is None else "region"
    else:
        level = "global" if box is None else "object"
    result.note("level-derived", "question level derived from the category and box").add(qid)
    return level


def _full_resolution_box(
    box_1024: tuple[float, float, float, float],
    image_size: tuple[int, int],
    qid: str,
    result: BenchmarkData,
) -> tuple[float, float, float, float] | None:
    box = clamp_box(from_frame(box_1024, image_size, LRSGRO_FRAME_SIDE), image_size)
    if is_empty(box):
        result.note("box-outside", "boxes outside the image after conversion were dropped").add(qid)
        return None
    return box


def _image_roots(data: Path, images: Path | None) -> list[Path]:
    if images is not None and not images.is_dir():
        raise InputError("image folder not found", path=images, fix="pass --images with the folder of release images")
    return image_roots(data, images, IMAGE_FOLDERS)


def _strip_periods(text: str) -> str:
    """Remove one or more trailing periods, but keep an ellipsis."""
    if text.endswith("..."):
        return text
    return text.rstrip(".").rstrip()


def _drop_duplicate_ids(result: BenchmarkData) -> None:
    seen: set[tuple[str, str]] = set()
    kept = []
    for sample in result.samples:
        key = (sample.split, sample.id)
        if key in seen:
            result.note("duplicate-id", "repeated question ids within a split; the first record kept").add(sample.id)
            continue
        seen.add(key)
        kept.append(sample)
    result.samples = kept
