"""Model-free baselines: the majority answer per question type, and a seeded random answer.

Both learn from a reference split, never from the answers they are scored on, unless no
other split exists; then the run log says so. ``majority`` answers the most common reference
answer of the question's type (ties go to the alphabetically first answer). ``random`` picks
uniformly among the distinct reference answers of the type, or among the options of a
multiple-choice question, with a generator seeded by the seed and the question id, so the
answers do not depend on order or concurrency. A type absent from the reference falls back
to the answers of all types (flag ``type-unseen``).
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from lrsgro.benchmarks.base import OPTION_LETTERS, BenchmarkData, EvalSample
from lrsgro.eval.runlog import PredictionRecord

logger = logging.getLogger(__name__)

DEFAULT_REFERENCE_SPLIT = "train"


@dataclass(frozen=True)
class ReferenceChoice:
    """The reference answers a baseline learns from, and where they came from.

    Attributes:
        samples: the reference questions.
        split: the split(s) used, comma-separated.
        message: a sentence for the log when the requested split was not available.
    """

    samples: list[EvalSample]
    split: str
    message: str | None = None


def choose_reference(data: BenchmarkData, eval_split: str, requested: str = DEFAULT_REFERENCE_SPLIT) -> ReferenceChoice:
    """Pick the reference split: ``requested``, else every other split, else the evaluated one."""
    requested = requested.lower()
    if requested != eval_split and data.split(requested):
        return ReferenceChoice(data.split(requested), requested)

    others = [split for split in data.splits if split != eval_split]
    if others:
        samples = [sample for sample in data.samples if sample.split in others]
        message = f"reference split {requested!r} not found; using {', '.join(others)} instead"
        return ReferenceChoice(samples, ",".join(others), message)

    message = (
        f"reference split {requested!r} not found and no other split exists; the baseline learns "
        f"from the evaluated split {eval_split!r} itself, which overstates its accuracy"
    )
    return ReferenceChoice(data.split(eval_split), eval_split, message)


class MajorityBaseline:
    """The most common reference answer of each question type."""

    name = "majority"

    def __init__(self, reference: Sequence[EvalSample]) -> None:
        counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        overall: Counter[str] = Counter()
        for sample in reference:
            counts[sample.type_key][_answer_key(sample.answer)] += 1
            overall[_answer_key(sample.answer)] += 1
        self._by_type = {key: _most_common(counter) for key, counter in counts.items()}
        self._overall = _most_common(overall) if overall else None

    def answer(self, sample: EvalSample, previous: Mapping[str, PredictionRecord]) -> Iterator[PredictionRecord]:
        record = PredictionRecord(
            qid=sample.id, stage="answer", final=True, answer_source="baseline", reference=sample.reference()
        )
        answer = self._by_type.get(sample.type_key)
        if answer is None:
            answer = self._overall
            record.flags.append("type-unseen")
        record.answer = answer
        record.raw_output = answer
        if answer is None:
            record.flags.append("no-answer")
        yield record


class RandomBaseline:
    """A seeded uniform choice among the reference answers of the type, or the options."""

    name = "random"

    def __init__(self, reference: Sequence[EvalSample], seed: int = 0) -> None:
        answers: dict[tuple[str, str], set[str]] = defaultdict(set)
        for sample in reference:
            answers[sample.type_key].add(_answer_key(sample.answer))
        self._by_type = {key: sorted(values) for key, values in answers.items()}
        self._overall = sorted({value for values in answers.values() for value in values})
        self.seed = seed

    def answer(self, sample: EvalSample, previous: Mapping[str, PredictionRecord]) -> Iterator[PredictionRecord]:
        record = PredictionRecord(
            qid=sample.id, stage="answer", final=True, answer_source="baseline", reference=sample.reference()
        )
        rng = random.Random(_question_seed(self.seed, sample.id))
        if sample.options:
            choices = list(OPTION_LETTERS[: len(sample.options)])
        else:
            choices = self._by_type.get(sample.type_key, [])
            if not choices:
                choices = self._overall
                record.flags.append("type-unseen")

        if choices:
            record.answer = rng.choice(choices)
            record.raw_output = record.answer
        else:
            record.flags.append("no-answer")
        yield record


def _answer_key(answer: str) -> str:
    return " ".join(answer.casefold().split())


def _most_common(counter: Counter[str]) -> str:
    best = max(counter.values())
    return min(answer for answer, count in counter.items() if count == best)


def _question_seed(seed: int, qid: str) -> int:
    digest = hashlib.sha256(f"{seed}\0{qid}".encode()).digest()
    return int.from_bytes(digest[:8], "big")
