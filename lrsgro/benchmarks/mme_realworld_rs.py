"""MME-RealWorld, remote-sensing subset: 3,738 five-option multiple-choice questions.

Source: Zhang et al., "MME-RealWorld: Could Your Multimodal LLM Challenge High-Resolution
Real-World Scenarios that are Difficult for Humans?" (arXiv:2408.13257), repository
yfzhang114/MME-RealWorld, Hugging Face ``yifanzhang114/MME-RealWorld`` (annotation JSON and
image archives), ``yifanzhang114/MME-RealWorld-Base64`` (JSON with base64 images) and
``yifanzhang114/MME-RealWorld-Lmms-eval`` (Parquet for lmms-eval).
Licence: the Hub page of the annotations states Apache-2.0. The images come from other
public datasets whose own terms apply, so the repository contains no real sample.

Size and categories: the remote-sensing part of the perception task has 3,738 questions in
three categories, Position, Color and Count, on high-resolution aerial and satellite images.
Every question has five options A-E, the last usually "the image does not feature it".

Layouts read (a file, or a folder in which only the files named as :data:`DATA_FILES` lists
are read):

- annotation JSON: a list of records ``Question_id, Image, Text, Answer choices,
  Ground truth, Task, Subtask, Category`` (and ``Dataset``, ``Question Type``), with
  ``Image`` relative to the folder the image archives were unpacked in;
- base64 JSON and lmms-eval Parquet: ``index, question, multi-choice options, answer,
  category, l2-category`` with the image as a base64 string in ``image`` (base64 JSON) or
  ``bytes`` (lmms-eval Parquet); ``category`` is ``<Task>/<Subtask>`` and ``l2-category``
  the category. A ``datasets.Image`` column (``{"bytes", "path"}``) is read too.

Only records whose subtask is ``Remote Sensing`` are kept (case, spaces and underscores
ignored). NOTE: the base64 and Parquet field meanings come from lmms-eval's
``mme_realworld/utils.py`` (``category`` split at "/", ``l2-category`` lower-cased) and
VLMEvalKit's loader, not from a file of those releases; records of the CN version, whose
subtask names may differ, are left out.

Scoring: ``paper`` is the published rule, ``extract_characters_regex`` of
``evaluation/eval_your_results.py`` (:func:`lrsgro.scoring.score_mme_realworld_official`),
applied to the raw reply with the record's ``(A) ...`` option strings as choices, as the
authors' script does; ``robust`` is lrsgro's letter extraction
(:func:`lrsgro.scoring.extract_choice`). The report groups questions as the paper does:
level = task (Perception), category = Position, Color or Count.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lrsgro.benchmarks._choice import LETTERS, option_texts, published_reply, reference_letters, robust_choice
from lrsgro.benchmarks._embedded import EmbeddedImages, image_roots, note_missing_image
from lrsgro.benchmarks._records import HUB_PARQUET_SHARDS, SAVED_ARROW_SHARDS, SourceRecord, locate_errors, source_records
from lrsgro.benchmarks.base import Benchmark, BenchmarkData, EvalSample, wanted_splits
from lrsgro.errors import InputError
from lrsgro.scoring.official import score_mme_realworld_official
from lrsgro.scoring.types import Score

logger = logging.getLogger(__name__)

BENCHMARK_NAME = "mme-realworld-rs"
SUBTASK = "remote sensing"
TASKS = ("Perception", "Reasoning")
DEFAULT_TASK = "Perception"
SPLIT = "test"
IMAGE_FOLDERS = ("", "images", "image", "data", "MME-RealWorld")
# The files read in a --data folder: the annotation JSON (named as the release and as the
# authors' script call it), the Base64 release's MME-RealWorld/ folder (not MME-RealWorld-CN/),
# and Hub Parquet or save_to_disk Arrow shards.
DATA_FILES = ("MME_RealWorld.json", "MME-RealWorld.json", "MME-RealWorld/*.json", HUB_PARQUET_SHARDS, SAVED_ARROW_SHARDS)
IMAGE_FIX = (
    "paths in Image are resolved against the folder of --data (and its images/, image/, data/ and "
    "MME-RealWorld/ subfolders, and its parent), or against --images alone when given; MME-RealWorld "
    "images live under remote_sensing/, so write Image as remote_sensing/<file> and point --images at the "
    "folder that holds remote_sensing/"
)

# Field names of the layouts, first match wins.
ID_FIELDS = ("Question_id", "question_id", "index")
QUESTION_FIELDS = ("Text", "question")
OPTION_FIELDS = ("Answer choices", "multi-choice options", "options")
ANSWER_FIELDS = ("Ground truth", "answer")
IMAGE_FIELDS = ("Image", "image", "bytes", "image_path")


class MMERealWorldRS(Benchmark):
    """The remote-sensing questions of MME-RealWorld, from any of its three releases."""

    name = BENCHMARK_NAME
    description = "MME-RealWorld remote-sensing subset: five-option multiple choice on high-resolution images"
    default_split = SPLIT
    rule_descriptions = {
        "paper": "MME-RealWorld's published letter extraction on the raw reply "
        "(first capital A-E after removing answer prefixes), exact letter match",
        "robust": "lrsgro's multiple-choice letter extraction (cues, brackets, option text; "
        "no guess), exact letter match",
    }

    def load(self, data: Path, splits: Sequence[str] | None = None, images: Path | None = None) -> BenchmarkData:
        data = Path(data)
        wanted = wanted_splits(splits)
        result = BenchmarkData(BENCHMARK_NAME, data, [])
        if wanted is not None and SPLIT not in wanted:
            return result

        store = EmbeddedImages(image_roots(data, images, IMAGE_FOLDERS))
        samples = (_sample(source, store, result) for source in source_records(data, BENCHMARK_NAME, DATA_FILES))
        result.add_samples(sample for sample in samples if sample is not None)

        if store.decoded:
            logger.info("wrote %d embedded images to %s", store.decoded, store.cache_dir)
        if not result.samples:
            logger.warning("no remote-sensing questions found in %s", data)
        return result

    def score(self, rule: str, answer: str | None, reference: Mapping[str, Any], output: str | None = None) -> Score:
        options = list(reference.get("options") or [])
        target = str(reference["answer"])
        if rule == "paper":
            choices = [f"({LETTERS[index]}) {text}" for index, text in enumerate(options)]
            return score_mme_realworld_official(published_reply(answer, output), target, choices)
        if rule == "robust":
            return robust_choice(answer, output, target, options, multiple=False)
        raise ValueError(f"unknown scoring rule {rule!r}; {self.name} has {', '.join(self.rules)}")


def _sample(source: SourceRecord, store: EmbeddedImages, result: BenchmarkData) -> EvalSample | None:
    """Return the sample of one record, or None for a record outside the remote-sensing subset."""
    record, path, line = source.record, source.path, source.line
    task, subtask, category = _task_fields(record)
    if subtask is not None and _key(subtask) != SUBTASK:
        return None

    qid = _first(record, ID_FIELDS)
    question = _first(record, QUESTION_FIELDS)
    raw_options = _first(record, OPTION_FIELDS)
    raw_answer = _first(record, ANSWER_FIELDS)
    missing = [name for name, value in (("id", qid), ("question", question), ("options", raw_options), ("answer", raw_answer)) if value is None]
    if missing:
        raise InputError(
            f"record lacks {', '.join(missing)}",
            path=path,
            line=line,
            fix="MME-RealWorld records need Question_id, Text, Answer choices and Ground truth "
            "(or index, question, multi-choice options and answer)",
        )

    qid = str(qid)
    if subtask is None:
        result.note("subtask-missing", "records without a subtask field were kept as remote sensing").add(qid)
    with locate_errors(qid, path, line):
        options = option_texts(raw_options)
        answer = reference_letters(raw_answer, options)
        files = store.files(_first(record, IMAGE_FIELDS))
        size = store.size(files[0]) if files else None
    if len(answer) != 1:
        raise InputError(f"question {qid}: answer {raw_answer!r} names several options", path=path, line=line)
    if not files:
        field = next((name for name in IMAGE_FIELDS if record.get(name) is not None), "Image")
        note_missing_image(result, store, qid, field, IMAGE_FIX)

    if category is None:
        result.note("category-missing", "records without a category were put in category 'Other'").add(qid)
    extra = {"raw_category": category, "subtask": subtask, "task": task, "dataset": record.get("Dataset")}
    return EvalSample(
        id=qid,
        images=tuple(files[:1]),
        question=str(question).strip(),
        answer=answer,
        category=(category or "other").strip().capitalize(),
        level=_level(task, qid, result),
        options=options,
        image_size=size,
        split=SPLIT,
        extra=extra,
    )


def _task_fields(record: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """Return (task, subtask, category) from ``Task``/``Subtask``/``Category`` or ``category``/``l2-category``."""
    if "Subtask" in record:
        return _text(record.get("Task")), _text(record.get("Subtask")), _text(record.get("Category"))

    combined = _text(record.get("category"))
    category = _text(record.get("l2-category"))
    if combined is None:
        return None, None, category
    parts = [part.strip() for part in combined.split("/") if part.strip()]
    task = parts[0] if len(parts) > 1 else None
    return task, parts[-1] if parts else None, category


def _level(task: str | None, qid: str, result: BenchmarkData) -> str:
    for candidate in (task, qid.split("/")[0]):
        for name in TASKS:
            if candidate is not None and candidate.strip().lower() == name.lower():
                return name
    result.note("task-derived", f"records without a Perception/Reasoning task were put in {DEFAULT_TASK}").add(qid)
    return DEFAULT_TASK


def _first(record: dict[str, Any], fields: Sequence[str]) -> Any:
    for field in fields:
        if record.get(field) is not None:
            return record[field]
    return None


def _text(value: Any) -> str | None:
    return str(value).strip() if value is not None and str(value).strip() else None


def _key(text: str) -> str:
    return re.sub(r"[\s_]+", " ", text).strip().lower()


BENCHMARK = MMERealWorldRS()
