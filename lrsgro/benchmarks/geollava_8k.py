"""GeoLLaVA-8K's ultra-high-resolution VQA data: SuperRS-VQA and HighRS-VQA records.

Source: Wang et al., "GeoLLaVA-8K: Scaling Remote-Sensing Multimodal Large Language Models
to 8K Resolution" (NeurIPS 2025, arXiv:2505.21375), repository MiliLab/GeoLLaVA-8K, Hugging
Face ``initiacms/GeoLLaVA-Data`` (folder ``geollava_raw_format``).
Licence: the dataset page states none, and the images come from remote-sensing datasets
with their own terms, so the repository contains no real sample.

Size and categories: SuperRS-VQA (manually annotated, images of about 8,400 x 8,400
pixels) and HighRS-VQA (generated and selected, about 2,000 x 1,900 pixels), 81,367
image-text pairs in all over 22 dialogue tasks, multiple choice and open questions.
NOTE: the release publishes no separate test split and ZoomEarth's paper does not say
which subset it evaluated, so the subset is an option (``--benchmark-option
subset=superrs|highrs|all``, default ``all``) and a record's ``split`` field is used
when present (``test`` otherwise).

Layouts read (JSON array, JSON Lines, Parquet or Arrow; a file, or a folder in which only the
files named as :data:`DATA_FILES` lists are read):

- LLaVA conversations, the published layout: ``id``, ``image`` (a path, or a list of
  paths) and ``conversations``, a list of ``{"from": "human"|"gpt", "value": ...}`` turns;
  each human turn with the gpt turn after it is one question (``<id>#<n>`` from the second
  pair on);
- flat records: ``question_id``/``id``, ``image``, ``question``/``text``,
  ``answer``/``ground_truth``, optional ``options``/``choices`` and ``category``.

Options are read from lines of the question that start with a letter ("A. ...", "(A) ...");
two or more make the question multiple choice, and its answer is read as a letter, the
letter and its text, or the text of an option. The subset of a record comes, in order, from
a ``subset``/``source``/``dataset`` field, from "SuperRS"/"HighRS" in the image path, id or
file name, and last from the image size: a long side of at least
:data:`SUPERRS_MIN_SIDE` pixels counts as SuperRS (counted in the run log).

Scoring: NOTE: GeoLLaVA-8K publishes no scoring script for this data. ``paper`` applies the
rules of the same authors' XLRS-Bench to multiple-choice questions (letter set read from
the raw reply, :func:`lrsgro.scoring.score_xlrs_official`) and the LRS-GRO published rule
(lower-cased exact match or a shared WordNet synset) to open ones; ``robust`` is lrsgro's
letter extraction and robust open-ended rule. The report groups questions by level = subset
(SuperRS-VQA, HighRS-VQA) and category = the record's category, else "multiple choice"
or "open".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from lrsgro.benchmarks._choice import option_texts, published_reply, reference_letters, robust_choice
from lrsgro.benchmarks._embedded import EmbeddedImages, image_roots, note_missing_image
from lrsgro.benchmarks._records import HUB_PARQUET_SHARDS, SAVED_ARROW_SHARDS, SourceRecord, locate_errors, source_records
from lrsgro.benchmarks.base import Benchmark, BenchmarkData, BenchmarkOption, EvalSample, wanted_splits
from lrsgro.errors import InputError
from lrsgro.scoring.choice import extract_choice
from lrsgro.scoring.official import score_xlrs_official
from lrsgro.scoring.open_ended import score_paper, score_robust
from lrsgro.scoring.types import Score

logger = logging.getLogger(__name__)

BENCHMARK_NAME = "geollava-8k"
DEFAULT_SPLIT = "test"
SUBSETS = {"superrs": "SuperRS-VQA", "highrs": "HighRS-VQA"}
ALL_SUBSETS = "all"
# NOTE: a guessed boundary between the two published average sizes (8,376 and 2,000
# pixels), used only for records that name no subset.
SUPERRS_MIN_SIDE = 4000
IMAGE_FOLDERS = ("", "images", "image", "imgs")
# The files read in a --data folder: JSON or JSON Lines in the release's geollava_raw_format/
# folder or named after a subset, and Hub Parquet or save_to_disk Arrow shards.
# NOTE: the names of the files inside geollava_raw_format/ were not confirmed.
DATA_FILES = (
    "geollava_raw_format/*.json",
    "geollava_raw_format/*.jsonl",
    "*SuperRS*.json",
    "*SuperRS*.jsonl",
    "*HighRS*.json",
    "*HighRS*.jsonl",
    HUB_PARQUET_SHARDS,
    SAVED_ARROW_SHARDS,
)
IMAGE_FIX = (
    "paths in image are resolved against the folder of --data and its parent (and their images/, image/ "
    "and imgs/ subfolders), or against --images alone when given; a path such as SuperRS-VQA/<file> "
    "needs the folder that holds SuperRS-VQA/"
)
# Longer values (embedded images) are not searched for a subset name.
MAX_NAME_CHARS = 1000
MULTIPLE_CHOICE = "multiple choice"
XLRS_LETTERS = "ABCDE"
OPEN = "open"

_IMAGE_TOKEN = re.compile(r"<image>\s*", re.IGNORECASE)
_OPTION_LINE = re.compile(r"^\s*(?:\(\s*[A-Z]\s*\)|[A-Z]\s*[.):：、])")
# Answer instructions that prompts append; the protocols add their own.
_INSTRUCTION = re.compile(
    r"^\s*(?:answer with|answer the question|select the best|only respond|respond with|please answer|"
    r"the choices are listed|choices:|options:|the answer is\s*:?\s*$|the best answer is\s*:?\s*$)",
    re.IGNORECASE,
)
_SUBSET_FIELDS = ("subset", "source", "dataset", "data_source")


class GeoLLaVA8K(Benchmark):
    """SuperRS-VQA and HighRS-VQA records of GeoLLaVA-8K."""

    name = BENCHMARK_NAME
    description = "GeoLLaVA-8K UHR VQA data (SuperRS-VQA, HighRS-VQA): multiple choice and open questions"
    default_split = DEFAULT_SPLIT
    options = (
        BenchmarkOption(
            "subset",
            "which records to evaluate: superrs (SuperRS-VQA), highrs (HighRS-VQA) or all",
            choices=(*SUBSETS, ALL_SUBSETS),
            default=ALL_SUBSETS,
        ),
    )
    rule_descriptions = {
        "paper": "no rule is published for this data: XLRS-Bench's letter-set rule on the raw reply for "
        "multiple choice, LRS-GRO's exact-or-WordNet rule for open questions",
        "robust": "lrsgro's multiple-choice letter extraction (exact letters) and robust open-ended rule",
    }

    def load(self, data: Path, splits: Sequence[str] | None = None, images: Path | None = None) -> BenchmarkData:
        data = Path(data)
        result = BenchmarkData(BENCHMARK_NAME, data, [])
        store = EmbeddedImages(image_roots(data, images, IMAGE_FOLDERS))

        records = source_records(data, BENCHMARK_NAME, DATA_FILES)
        samples = (sample for source in records for sample in _samples(source, store, result))
        result.add_samples(_selected(samples, wanted_splits(splits), self.setting("subset"), result))
        return result

    def score(self, rule: str, answer: str | None, reference: Mapping[str, Any], output: str | None = None) -> Score:
        target = str(reference["answer"])
        options = list(reference.get("options") or [])
        if rule == "paper":
            if not options:
                return score_paper(answer, target)
            if set(target) <= set(XLRS_LETTERS):
                return score_xlrs_official(published_reply(answer, output), target)
            # The published extraction reads only the letters A-E, so it never finds F or later.
            return Score(0.0, False, None, target, "xlrs_official", f"the published extraction reads only {XLRS_LETTERS}")
        if rule == "robust":
            if options:
                return robust_choice(answer, output, target, options, multiple=len(target) > 1)
            return score_robust(answer, target)
        raise ValueError(f"unknown scoring rule {rule!r}; {self.name} has {', '.join(self.rules)}")


def _selected(
    samples: Iterable[EvalSample], wanted: set[str] | None, subset: str, result: BenchmarkData
) -> Iterator[EvalSample]:
    """Yield the samples of the wanted splits and subset, noting those outside the subset."""
    for sample in samples:
        if wanted is not None and sample.split not in wanted:
            continue
        if subset != ALL_SUBSETS and sample.level != SUBSETS[subset]:
            result.note("subset-left-out", f"questions outside subset {SUBSETS[subset]} left out").add(sample.id)
            continue
        yield sample


def _samples(source: SourceRecord, store: EmbeddedImages, result: BenchmarkData) -> list[EvalSample]:
    """Return the questions of one record: one per human/gpt pair, or the flat record's one."""
    record, path, line = source.record, source.path, source.line
    base_id = record.get("question_id", record.get("id"))
    if base_id is None:
        raise InputError("record lacks an id", path=path, line=line, fix="each record needs id or question_id")
    base_id = str(base_id)

    pairs = _question_answer_pairs(record, path, line)
    with locate_errors(base_id, path, line):
        files = store.files(record.get("image", record.get("images")))
        size = store.size(files[0]) if files else None
    if not files:
        note_missing_image(result, store, base_id, "image", IMAGE_FIX)

    subset = _subset(record, base_id, size, path, result)
    split = str(record.get("split") or DEFAULT_SPLIT).strip().lower()
    samples = []
    for number, (human, gpt) in enumerate(pairs, start=1):
        qid = base_id if number == 1 else f"{base_id}#{number}"
        sample = _sample(qid, human, gpt, record, files, size, subset, split, result)
        if sample is not None:
            samples.append(sample)
    return samples


def _sample(
    qid: str,
    human: str,
    gpt: str,
    record: dict[str, Any],
    files: list[Path],
    size: tuple[int, int] | None,
    subset: str,
    split: str,
    result: BenchmarkData,
) -> EvalSample | None:
    question, options = _split_question(human, record.get("options", record.get("choices")))
    answer = gpt.strip()
    if not answer:
        result.note("answer-empty", "questions with an empty answer left out").add(qid)
        return None

    if options:
        try:
            answer = reference_letters(answer, options)
        except InputError:
            read = extract_choice(answer, list(options), letters="ABCDEFGHIJ"[: len(options)], multiple=True)
            if read.answer is None:
                result.note("answer-unreadable", "multiple-choice answers naming no option left out").add(qid)
                return None
            answer = read.answer

    category = str(record.get("category") or record.get("task") or (MULTIPLE_CHOICE if options else OPEN)).strip()
    return EvalSample(
        id=qid,
        images=tuple(files[:1]),
        question=question,
        answer=answer,
        category=category,
        level=subset,
        options=options,
        image_size=size,
        split=split,
        extra={"raw_question": human},
    )


def _question_answer_pairs(record: dict[str, Any], path: Path, line: int) -> list[tuple[str, str]]:
    conversations = record.get("conversations")
    if conversations is None:
        question = record.get("question", record.get("text"))
        answer = record.get("answer", record.get("ground_truth"))
        if question is None or answer is None:
            raise InputError(
                "record has neither conversations nor question and answer",
                path=path,
                line=line,
                fix="use the LLaVA layout (id, image, conversations) or question_id, image, question, answer",
            )
        return [(str(question), str(answer))]

    pairs = []
    turns = list(conversations)
    for index, turn in enumerate(turns):
        if not isinstance(turn, dict) or turn.get("from") not in ("human", "user"):
            continue
        following = turns[index + 1] if index + 1 < len(turns) else None
        if isinstance(following, dict) and following.get("from") in ("gpt", "assistant"):
            pairs.append((str(turn.get("value", "")), str(following.get("value", ""))))
    if not pairs:
        raise InputError("conversations hold no human turn followed by a gpt turn", path=path, line=line)
    return pairs


def _split_question(text: str, listed: Any) -> tuple[str, tuple[str, ...]]:
    """Return (question without image tokens, option lines and instructions, options)."""
    lines = _IMAGE_TOKEN.sub("", text).splitlines()
    option_lines = [line for line in lines if _OPTION_LINE.match(line)]
    kept = [line for line in lines if line.strip() and not _OPTION_LINE.match(line) and not _INSTRUCTION.match(line)]
    question = "\n".join(kept).strip()

    if listed:
        return question, option_texts(listed)
    if len(option_lines) < 2:
        return _IMAGE_TOKEN.sub("", text).strip(), ()
    try:
        return question, option_texts("\n".join(option_lines))
    except InputError:
        # Lines that merely start like "A." without forming an A, B, C... list are text.
        return _IMAGE_TOKEN.sub("", text).strip(), ()


def _subset(record: dict[str, Any], qid: str, size: tuple[int, int] | None, path: Path, result: BenchmarkData) -> str:
    texts = [str(record.get(field, "")) for field in _SUBSET_FIELDS]
    texts += [str(record.get("image")), qid, path.name, path.parent.name]
    for text in texts:
        if len(text) > MAX_NAME_CHARS:
            continue
        key = re.sub(r"[^a-z]", "", text.lower())
        for name, title in SUBSETS.items():
            if name in key:
                return title

    if size is not None:
        result.note(
            "subset-from-size",
            f"records naming no subset assigned by image size (SuperRS-VQA from {SUPERRS_MIN_SIDE} px)",
        ).add(qid)
        return SUBSETS["superrs"] if max(size) >= SUPERRS_MIN_SIDE else SUBSETS["highrs"]
    result.note("subset-unknown", "records naming no subset and without an image, put in HighRS-VQA").add(qid)
    return SUBSETS["highrs"]


BENCHMARK = GeoLLaVA8K()
