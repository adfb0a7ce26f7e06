"""Model-free baselines: the majority answer per question type, and a seeded random answer.

Both learn from a reference split, never from the answers they are scored on, unless no
other split exists. Then the run reports that in one message. For the random baseline it does
so only when the split has open questions, because on options it picks one without learning
anything. ``majority`` answers the most common reference answer of the question's type (ties
go to the alphabetically first answer). ``random`` picks uniformly among the distinct
reference answers of the type, or among the options of a multiple-choice question, with a
generator seeded by the seed and the question id, so the answers do not depend on order or
concurrency. A type absent from the reference falls back
to the answers of all types (flag ``type-unseen``).

A question with options (a multiple-choice benchmark, or an LRS-GRO question whose choices
the dataset stores) is always answered with the letter of one of its own options.
``majority`` takes the option whose text was the most common reference answer of the type
(LRS-GRO choices are answered by text). When no offered option text occurs among those
answers, as in benchmarks whose answers are letters, it takes the offered letter that was
most common among the type's reference answers. Ties go to the earlier option.
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


def choose_reference(
    data: BenchmarkData, eval_split: str, requested: str = DEFAULT_REFERENCE_SPLIT, baseline: str = "majority"
) -> ReferenceChoice:
    """Pick the reference split: ``requested``, else every other split, else the evaluated one.

    ``baseline`` is the baseline that learns from it. The random baseline answers a question
    with options by picking one of them, so when every evaluated question has options it
    learns nothing from the reference, and the choice gets no message.
    """
    requested = requested.lower()
    if requested != eval_split and data.split(requested):
        return ReferenceChoice(data.split(requested), requested)

    uses_reference = baseline != "random" or any(not sample.options for sample in data.split(eval_split))
    others = [split for split in data.splits if split != eval_split]
    if others:
        samples = [sample for sample in data.samples if sample.split in others]
        message = f"reference split {requested!r} not found; using {', '.join(others)} instead"
        return ReferenceChoice(samples, ",".join(others), message if uses_reference else None)

    if not uses_reference:
        return ReferenceChoice(data.split(eval_split), eval_split)
    if baseline == "random":
        message = (
            f"reference split {requested!r} not found and no other split exists; the random baseline draws "
            f"its answers to open questions from the evaluated split {eval_split!r} itself, which overstates "
            "its accuracy on them"
        )
    else:
        message = (
            f"reference split {requested!r} not found and no other split exists; the baseline learns "
            f"from the evaluated split {eval_split!r} itself, which overstates its accuracy"
        )
    return ReferenceChoice(data.split(eval_split), eval_split, message)


class MajorityBaseline:
    """The most common reference answer of each question type, restricted to the options offered."""

    name = "majority"

    def __init__(self, reference: Sequence[EvalSample]) -> None:
        self._texts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        self._letters: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        self._all_texts: Counter[str] = Counter()
        self._all_letters: Counter[str] = Counter()
        self._types = {sample.type_key for sample in reference}
        for sample in reference:
            letters = _letter_answer(sample)
            if letters:
                self._letters[sample.type_key].update(letters)
                self._all_letters.update(letters)
            else:
                self._texts[sample.type_key][_answer_key(sample.answer)] += 1
                self._all_texts[_answer_key(sample.answer)] += 1

        self._by_type = {key: _most_common(counter) for key, counter in self._texts.items() if counter}
        self._overall = _most_common(self._all_texts) if self._all_texts else None

    def answer(self, sample: EvalSample, previous: Mapping[str, PredictionRecord]) -> Iterator[PredictionRecord]:
        record = PredictionRecord(
            qid=sample.id, stage="answer", final=True, answer_source="baseline", reference=sample.reference()
        )
        seen = sample.type_key in self._types
        if not seen:
            record.flags.append("type-unseen")

        if sample.options:
            answer: str | None = self._option_letter(sample, seen)
        elif seen:
            answer = self._by_type.get(sample.type_key, self._overall)
        else:
            answer = self._overall

        record.answer = answer
        record.raw_output = answer
        if answer is None:
            record.flags.append("no-answer")
        yield record

    def _option_letter(self, sample: EvalSample, seen: bool) -> str:
        """Return the letter of the offered option the reference answers favour most."""
        texts = self._texts.get(sample.type_key, Counter()) if seen else self._all_texts
        letters = self._letters.get(sample.type_key, Counter()) if seen else self._all_letters
        offered = OPTION_LETTERS[: len(sample.options)]

        text_counts = [texts[_answer_key(option)] for option in sample.options[: len(offered)]]
        if max(text_counts) > 0:
            return offered[text_counts.index(max(text_counts))]
        letter_counts = [letters[letter] for letter in offered]
        # list.index returns the first maximum, so ties (and a type without letters) go to A.
        return offered[letter_counts.index(max(letter_counts))]


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


def _letter_answer(sample: EvalSample) -> str:
    """Return the option letters a reference answer is written as ("B", "AC"), or "".

    Only answers given as capital letters of the sample's own options count. An answer
    equal to an option's text is a text answer, as LRS-GRO stores its choice answers.
    """
    if not sample.options:
        return ""
    offered = OPTION_LETTERS[: len(sample.options)]
    text = sample.answer.strip()
    if any(text.casefold() == option.strip().casefold() for option in sample.options):
        return ""
    if text and all(letter in offered for letter in text):
        return "".join(sorted(set(text)))
    return ""


def _answer_key(answer: str) -> str:
    return " ".join(answer.casefold().split())


def _most_common(counter: Counter[str]) -> str:
    best = max(counter.values())
    return min(answer for answer, count in counter.items() if count == best)


def _question_seed(seed: int, qid: str) -> int:
    digest = hashlib.sha256(f"{seed}\0{qid}".encode()).digest()
    return int.from_bytes(digest[:8], "big")
