"""XLRS-Bench lite: multiple-choice VQA on ultra-high-resolution remote-sensing images.

Source: Wang et al., "XLRS-Bench: Could Your Multimodal LLMs Understand Extremely Large
Ultra-High-Resolution Remote Sensing Imagery?" (CVPR 2025, arXiv:2503.23771), repository
AI9Stars/XLRS-Bench, Hugging Face ``initiacms/XLRS-Bench-lite`` (the lmms-eval copy) and
``initiacms/XLRS-Bench-lite_VLM`` (JSON Lines for VLMEvalKit).
Licence: the annotations are CC BY-NC-SA 4.0. The images come from DOTA, ITCVD, MiniFrance,
HRSCD, Toronto and Potsdam, whose terms include academic use only and, for Toronto, no
redistribution, so the repository contains no real sample.

Size and categories: about 2,800 questions (the lite subset of 45,942), options A-D, in
13 sub-tasks under 5 groups, named as lmms-eval's ``xlrs/mcq_utils.py`` lists them:
Complex reasoning (Anomaly Detection and Interpretation, Environmental condition
reasoning, Route planning), Counting (Counting with changing detection, Counting with
complex reasoning, Overall counting, Regional counting), Land use classification (Overall
Land use classification, Regional Land use classification), Object properties (Object
classification, Object color, Object motion state) and Object spatial relationship.
Questions of "Counting with changing detection" hold two images, before and after.
"Overall Land use classification" questions accept several letters ("A C").

Layouts read (a file, or a folder in which only the files named as :data:`DATA_FILES` lists
are read):

- lmms-eval (Arrow files written by ``datasets``, or Parquet): ``index, question,
  multi-choice options`` (a list of "(A) ..."), ``answer``, ``category`` ("<group>/<sub-task>"),
  ``l2-category``, and ``image``, a list of ``{"bytes", "path"}`` images;
- VLMEvalKit JSON Lines: the same names with ``category`` the group, ``l2-category`` the
  sub-task, ``image`` a base64 string or a list of them, and ``multi-choice options`` a
  block of option lines.

NOTE: the VLMEvalKit field meanings come from VLMEvalKit's ``XLRSBench`` class (it joins
``category`` and ``l2-category`` into the sub-task), not from a file of that release. How a
multiple-answer reference is written ("AC" or "A,C") was not confirmed; both are read.

Scoring: ``paper`` is the published rule of lmms-eval's ``xlrs/mcq_utils.py`` (and
VLMEvalKit): the letter set read by ``extract_characters_regex`` from the raw reply must
equal the reference set (:func:`lrsgro.scoring.score_xlrs_official`); ``robust`` is
lrsgro's letter extraction with the ``exact_set`` rule: all and only the right letters,
for one-answer and multiple-answer questions alike, so both rules give land-use credit only
for the exact set. The report groups questions as the benchmark does: level = group,
category = sub-task; the macro average over types is lmms-eval's ``xlrs_macro_score``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lrsgro.benchmarks._choice import option_texts, published_reply, reference_letters, robust_choice
from lrsgro.benchmarks._embedded import EmbeddedImages, image_roots, note_missing_image
from lrsgro.benchmarks._records import (
    HUB_PARQUET_SHARDS,
    SAVED_ARROW_SHARDS,
    SourceRecord,
    locate_errors,
    require_fields,
    source_records,
)
from lrsgro.benchmarks.base import Benchmark, BenchmarkData, EvalSample, wanted_splits
from lrsgro.scoring.official import score_xlrs_official
from lrsgro.scoring.types import Score

logger = logging.getLogger(__name__)

BENCHMARK_NAME = "xlrs-bench-lite"
SPLIT = "test"
MULTIPLE_ANSWER_SUBTASKS = frozenset({"overall land use classification"})
SUBTASKS = (
    "Complex reasoning/Anomaly Detection and Interpretation",
    "Complex reasoning/Environmental condition reasoning",
    "Complex reasoning/Route planning",
    "Counting/Counting with changing detection",
    "Counting/Counting with complex reasoning",
    "Counting/Overall counting",
    "Counting/Regional counting",
    "Land use classification/Overall Land use classification",
    "Land use classification/Regional Land use classification",
    "Object properties/Object classification",
    "Object properties/Object color",
    "Object properties/Object motion state",
    "Object spatial relationship/Object spatial relationship",
)
PLACEHOLDER_L2 = "default"
IMAGE_FOLDERS = ("", "images", "image")
# The files read in a --data folder: Hub Parquet shards and save_to_disk Arrow shards of the
# lmms-eval copy, and the VLMEvalKit JSON Lines.
# NOTE: the VLMEvalKit file name was not confirmed; any XLRS-Bench*.jsonl is read.
DATA_FILES = (HUB_PARQUET_SHARDS, SAVED_ARROW_SHARDS, "XLRS-Bench*.jsonl")
IMAGE_FIX = (
    "both releases embed the images, so a path in image means they were left out: use the published "
    "files, or keep the path relative to the folder of --data (or its images/ or image/ subfolder), "
    "or to --images alone when given"
)


class XLRSBenchLite(Benchmark):
    """XLRS-Bench lite from its lmms-eval or VLMEvalKit release."""

    name = BENCHMARK_NAME
    description = "XLRS-Bench lite: multiple choice (A-D) in 13 sub-tasks on UHR remote-sensing images"
    default_split = SPLIT
    rule_descriptions = {
        "paper": "XLRS-Bench's published letter extraction on the raw reply (lmms-eval xlrs/mcq_utils.py); "
        "the set of letters read must equal the reference set",
        "robust": "lrsgro's multiple-choice letter extraction, rule exact_set: all and only the right "
        "letters (multiple-answer land-use questions too)",
    }

    def load(self, data: Path, splits: Sequence[str] | None = None, images: Path | None = None) -> BenchmarkData:
        data = Path(data)
        wanted = wanted_splits(splits)
        result = BenchmarkData(BENCHMARK_NAME, data, [])
        if wanted is not None and SPLIT not in wanted:
            return result

        store = EmbeddedImages(image_roots(data, images, IMAGE_FOLDERS, search_parent=False))
        records = source_records(data, BENCHMARK_NAME, DATA_FILES)
        result.add_samples(_sample(source, store, result) for source in records)

        if store.decoded:
            logger.info("wrote %d embedded images to %s", store.decoded, store.cache_dir)
        return result

    def score(self, rule: str, answer: str | None, reference: Mapping[str, Any], output: str | None = None) -> Score:
        target = str(reference["answer"])
        if rule == "paper":
            return score_xlrs_official(published_reply(answer, output), target)
        if rule == "robust":
            options = list(reference.get("options") or [])
            return robust_choice(answer, output, target, options, multiple=is_multiple_answer(reference))
        raise ValueError(f"unknown scoring rule {rule!r}; {self.name} has {', '.join(self.rules)}")


def is_multiple_answer(reference: Mapping[str, Any]) -> bool:
    """Tell whether a question accepts several letters: its sub-task does, or its reference has several."""
    return str(reference.get("category", "")).strip().lower() in MULTIPLE_ANSWER_SUBTASKS or len(str(reference["answer"])) > 1


def _sample(source: SourceRecord, store: EmbeddedImages, result: BenchmarkData) -> EvalSample:
    record, path, line = source.record, source.path, source.line
    require_fields(
        record,
        ("question", "multi-choice options", "answer", "category"),
        path,
        line,
        fix="XLRS-Bench records need index, question, multi-choice options, answer, category and image",
    )

    qid = str(record.get("index", record.get("question_id", f"{path.stem}-{line}")))
    group, subtask = _group_and_subtask(record)
    if f"{group}/{subtask}" not in SUBTASKS:
        result.note("subtask-unknown", "sub-tasks outside the 13 that lmms-eval lists were kept as written").add(qid)

    with locate_errors(qid, path, line):
        options = option_texts(record["multi-choice options"])
        answer = reference_letters(record["answer"], options)
        files = store.files(record.get("image") if record.get("image") is not None else record.get("image_path"))
        size = store.size(files[0]) if files else None

    if not files:
        note_missing_image(result, store, qid, "image", IMAGE_FIX)
    if len(files) > 1:
        # NOTE: protocols other than direct show only the first image (the "before" image).
        result.note("several-images", "questions with several images (before and after)").add(qid)
    if len(answer) > 1:
        result.note("multiple-answer", "questions whose reference holds several letters").add(qid)

    return EvalSample(
        id=qid,
        images=tuple(files),
        question=str(record["question"]).strip(),
        answer=answer,
        category=subtask,
        level=group,
        options=options,
        image_size=size,
        split=SPLIT,
        extra={"raw_category": record["category"], "l2_category": record.get("l2-category")},
    )


def _group_and_subtask(record: dict[str, Any]) -> tuple[str, str]:
    """Return (group, sub-task) from "<group>/<sub-task>" or from ``category`` plus ``l2-category``."""
    category = str(record["category"]).strip()
    if "/" in category:
        group, _, subtask = category.partition("/")
        return group.strip(), subtask.strip()

    l2 = str(record.get("l2-category") or "").strip()
    if not l2 or l2.lower() == PLACEHOLDER_L2:
        return category, category
    return category, l2


BENCHMARK = XLRSBenchLite()
