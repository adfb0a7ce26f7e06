"""LRS-VQA: open-ended questions on large remote-sensing images from FAIR1M, GLH-Bridge and STAR.

Source: Luo et al., "When Large Vision-Language Model Meets Large Remote Sensing Imagery:
Coarse-to-Fine Text-Guided Token Pruning" (arXiv:2503.07588), repository VisionXLab/LRS-VQA,
Hugging Face ``ll-13/LRS-VQA``; ZoomEarth's copy ``data/LRS_VQA_merged.jsonl`` has the same
record layout. Licence: the repository README states none for the questions, and the images
keep the terms of FAIR1M (train set), GLH-Bridge and STAR (test sets), so the repository
contains no real sample.

Size and categories: 7,333 questions on 1,657 images of 1,024 to 27,328 pixels a side, in
8 categories such as count, object category, object shape, object background, reasoning
and rural or urban (the category strings are kept as the records write them). The paper
reports accuracy per source dataset, LRS-FAIR, LRS-Bridge and LRS-STAR, named by the
question id prefix (``FAIR_``, ``GLH-Bridge_``, ``STAR_``).

Layout (a file, or a folder in which only the files named as :data:`DATA_FILES` lists are
read): JSON Lines (or a JSON array) of records ``question_id, image, text, category,
ground_truth`` with optional ``hbox`` (x0, y0, x1, y1), ``rbox`` (four corner points) in
full-resolution pixels, ``image_size`` (width, height), ``abs_size`` and ``size_bin``;
``image`` is relative to the image folder (``LRS_VQA/image/15565.tif``). ``text`` ends with
the answer instruction "Answer the question using a single word or phrase.", which is
removed from the question because the protocols add their own. ``hbox`` becomes the
question's region of interest, clipped to the image (some boxes reach past the edge).

Scoring: ``paper`` is ``Script/evaluation_LRSVQA.py``: the lower-cased reply equals the
lower-cased reference, or a WordNet synset pair of the two has path similarity above 0.8
(:func:`lrsgro.scoring.score_lrs_vqa_official`); ``robust`` is
:func:`lrsgro.scoring.score_robust`. The report groups questions as the paper does:
level = source dataset, category = question category; the script's overall accuracy is
the micro accuracy of a level and its average accuracy the mean of that level's types.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lrsgro.benchmarks._choice import published_reply
from lrsgro.benchmarks._embedded import EmbeddedImages, image_roots, note_missing_image
from lrsgro.benchmarks._records import SourceRecord, locate_errors, record_box, require_fields, source_records
from lrsgro.benchmarks.base import Benchmark, BenchmarkData, EvalSample, wanted_splits
from lrsgro.errors import InputError
from lrsgro.imagery.frames import clamp_box, is_empty
from lrsgro.scoring.official import score_lrs_vqa_official
from lrsgro.scoring.open_ended import score_robust
from lrsgro.scoring.types import Score

logger = logging.getLogger(__name__)

BENCHMARK_NAME = "lrs-vqa"
SPLIT = "test"
REQUIRED = ("question_id", "image", "text", "category", "ground_truth")
SOURCE_DATASETS = {"fair": "LRS-FAIR", "glh-bridge": "LRS-Bridge", "star": "LRS-STAR"}
IMAGE_FOLDERS = ("", "image", "images", "LRS_VQA", "LRS_VQA/image")
# The files read in a --data folder: the merged question file and files named like it.
DATA_FILES = ("LRS_VQA*.jsonl", "LRS_VQA*.json")
IMAGE_FIX = (
    "paths in image (LRS_VQA/image/<file>) are resolved against the folder of --data and its parent "
    "(and their image/, images/, LRS_VQA/ and LRS_VQA/image/ subfolders), or against --images alone "
    "when given; point --images at the folder that holds LRS_VQA/ or at the image files themselves"
)
_INSTRUCTION = re.compile(r"\s*answer the question using a single word or phrase\.?\s*$", re.IGNORECASE)


class LrsVqa(Benchmark):
    """LRS-VQA question files."""

    name = BENCHMARK_NAME
    description = "LRS-VQA: open-ended questions on FAIR1M, GLH-Bridge and STAR images up to 27,328 px"
    default_split = SPLIT
    rule_descriptions = {
        "paper": "LRS-VQA's published script: lower-cased reply equals the reference, or a WordNet "
        "synset pair has path similarity above 0.8",
        "robust": "lrsgro's robust normaliser (numbers, yes/no, plurals, articles), then exact match "
        "or a shared WordNet synset",
    }

    def load(self, data: Path, splits: Sequence[str] | None = None, images: Path | None = None) -> BenchmarkData:
        data = Path(data)
        wanted = wanted_splits(splits)
        result = BenchmarkData(BENCHMARK_NAME, data, [])
        if wanted is not None and SPLIT not in wanted:
            return result

        store = EmbeddedImages(image_roots(data, images, IMAGE_FOLDERS))
        records = source_records(data, BENCHMARK_NAME, DATA_FILES)
        result.add_samples(_sample(source, store, result) for source in records)
        return result

    def score(self, rule: str, answer: str | None, reference: Mapping[str, Any], output: str | None = None) -> Score:
        target = str(reference["answer"])
        if rule == "paper":
            return score_lrs_vqa_official(published_reply(answer, output), target)
        if rule == "robust":
            return score_robust(answer, target)
        raise ValueError(f"unknown scoring rule {rule!r}; {self.name} has {', '.join(self.rules)}")


def source_dataset(question_id: str) -> str:
    """Return the paper's name of the dataset a question id belongs to ("FAIR_12" -> "LRS-FAIR")."""
    prefix = question_id.split("_")[0]
    return SOURCE_DATASETS.get(prefix.lower(), prefix)


def _sample(source: SourceRecord, store: EmbeddedImages, result: BenchmarkData) -> EvalSample:
    record, path, line = source.record, source.path, source.line
    require_fields(record, REQUIRED, path, line, fix=f"LRS-VQA records need {', '.join(REQUIRED)}")

    qid = str(record["question_id"])
    answer = str(record["ground_truth"])
    if not answer.strip():
        raise InputError(f"question {qid} has an empty ground_truth", path=path, line=line)

    with locate_errors(qid, path, line):
        files = store.files(record["image"])
        size = store.size(files[0]) if files else None
    if not files:
        note_missing_image(result, store, qid, "image", IMAGE_FIX)
    size = _checked_size(record.get("image_size"), size, qid, path, line, result)

    text = str(record["text"])
    question = _INSTRUCTION.sub("", text).strip()
    roi = _roi(record.get("hbox"), size, qid, path, line, result)
    extra: dict[str, Any] = {"prompt_text": text, "image_name": str(record["image"])}
    for key in ("rbox", "abs_size", "size_bin"):
        if record.get(key) is not None:
            extra[key] = record[key]

    return EvalSample(
        id=qid,
        images=tuple(files[:1]),
        question=question,
        answer=answer,
        category=str(record["category"]).strip(),
        level=source_dataset(qid),
        roi=roi,
        image_size=size,
        split=SPLIT,
        extra=extra,
    )


def _checked_size(
    listed: Any, header: tuple[int, int] | None, qid: str, path: Path, line: int, result: BenchmarkData
) -> tuple[int, int] | None:
    """Return the image size: the header's when the image exists, else the record's ``image_size``."""
    recorded = None
    if listed is not None:
        if not isinstance(listed, list | tuple) or len(listed) != 2:
            raise InputError(f"question {qid}: image_size {listed!r} must be [width, height]", path=path, line=line)
        recorded = (int(listed[0]), int(listed[1]))

    if header is None:
        return recorded
    if recorded is not None and recorded != header:
        result.note("image-size-differs", "image_size differs from the image header; the header was used").add(qid)
    return header


def _roi(
    hbox: Any, size: tuple[int, int] | None, qid: str, path: Path, line: int, result: BenchmarkData
) -> tuple[float, float, float, float] | None:
    box = record_box(hbox, "hbox", qid, path, line)
    if box is None or size is None:
        return box

    clipped = clamp_box(box, size)
    if clipped != box:
        result.note("box-clipped", "hbox reaching past the image edge clipped to the image").add(qid)
    if is_empty(clipped):
        result.note("box-outside", "hbox outside the image dropped").add(qid)
        return None
    return clipped


BENCHMARK = LrsVqa()
