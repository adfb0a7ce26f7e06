"""What every benchmark adapter shares: the sample, the loaded data and the adapter interface.

An adapter turns one benchmark's files (whatever their layout) into :class:`EvalSample`
objects. Everything downstream (protocols, backends, run logs, scoring) sees only samples,
so a new benchmark is one new module in ``lrsgro.benchmarks``.
"""

from __future__ import annotations

import copy
import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from lrsgro.errors import InputError
from lrsgro.scoring.choice import score_choice
from lrsgro.scoring.open_ended import score_paper, score_robust
from lrsgro.scoring.types import Score
from lrsgro.taxonomy import find_type

Box = tuple[float, float, float, float]
RULES: tuple[str, ...] = ("paper", "robust")
OPTION_LETTERS = "ABCDEFGHIJ"


@dataclass(frozen=True)
class EvalSample:
    """One question of a benchmark, ready for evaluation.

    Attributes:
        id: the question id, unique within the benchmark.
        images: image files, the first one being the image the question is about. Empty for
            a benchmark without images or when the image could not be found.
        question: the question text as the model sees it, without option lines.
        answer: the reference answer.
        category: the question category (for LRS-GRO one of the 17 type categories, or
            ``<level>-other`` for categories outside them).
        level: ``global``, ``region`` or ``object`` for LRS-GRO; free text elsewhere.
        options: the answer options of a multiple-choice question, in letter order. A
            dataset from ``lrsgro build`` puts a question's ``choices`` here, so the model
            sees them as lettered options.
        roi: the region of interest as (x0, y0, x1, y1) in full-resolution pixels.
        image_size: (width, height) of the first image in pixels, when known.
        split: the split the question belongs to.
        extra: adapter-specific values kept for reports (raw category, source frame boxes).
    """

    id: str
    images: tuple[Path, ...]
    question: str
    answer: str
    category: str
    level: str
    options: tuple[str, ...] = ()
    roi: Box | None = None
    image_size: tuple[int, int] | None = None
    split: str = "test"
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def image(self) -> Path | None:
        """The image the question is about, or None."""
        return self.images[0] if self.images else None

    @property
    def type_key(self) -> tuple[str, str]:
        return (self.level, self.category)

    @property
    def in_taxonomy(self) -> bool:
        """Whether (level, category) is one of the 17 LRS-GRO types."""
        return find_type(self.level, self.category) is not None

    @property
    def needs_roi(self) -> bool:
        """Whether answering needs a region of the image: the type says so, or a box is given."""
        qtype = find_type(self.level, self.category)
        if qtype is not None:
            return qtype.needs_roi
        return self.roi is not None

    def reference(self) -> dict[str, Any]:
        """Return the values scoring needs, so a run log can be scored without the data."""
        return {
            "answer": self.answer,
            "category": self.category,
            "level": self.level,
            "options": list(self.options),
            "roi": list(self.roi) if self.roi is not None else None,
            "image_size": list(self.image_size) if self.image_size is not None else None,
            "needs_roi": self.needs_roi,
            "report_apart": bool(self.extra.get("report_apart", False)),
            "split": self.split,
        }


@dataclass
class DataNote:
    """One kind of noise an adapter normalised or a problem it found, with how often.

    Attributes:
        code: a stable identifier, e.g. ``answer-case``.
        message: what was changed or found, in a sentence.
        count: how many records it affected.
        examples: a few record ids, for looking them up.
    """

    code: str
    message: str
    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, record_id: str, max_examples: int = 5) -> None:
        self.count += 1
        if len(self.examples) < max_examples:
            self.examples.append(record_id)


@dataclass
class BenchmarkData:
    """The samples an adapter loaded, with the notes on what it normalised.

    Attributes:
        benchmark: the adapter name.
        source: the file or folder the samples came from.
        samples: the samples of every loaded split, in file order.
        notes: normalisations and problems, keyed by note code.
    """

    benchmark: str
    source: Path
    samples: list[EvalSample]
    notes: dict[str, DataNote] = field(default_factory=dict)

    @property
    def splits(self) -> list[str]:
        """The split names present, in first-seen order."""
        return list(dict.fromkeys(sample.split for sample in self.samples))

    def split(self, name: str) -> list[EvalSample]:
        """Return the samples of one split."""
        return [sample for sample in self.samples if sample.split == name]

    def note(self, code: str, message: str) -> DataNote:
        """Return the note for ``code``, creating it with ``message`` on first use."""
        if code not in self.notes:
            self.notes[code] = DataNote(code, message)
        return self.notes[code]

    def add_samples(self, samples: Iterable[EvalSample]) -> None:
        """Append ``samples`` in order, keeping the first sample of each id.

        A later sample with an id already present is left out and counted in the
        ``duplicate-id`` note.
        """
        seen = {sample.id for sample in self.samples}
        for sample in samples:
            if sample.id in seen:
                self.note("duplicate-id", "repeated question ids; the first record kept").add(sample.id)
                continue
            seen.add(sample.id)
            self.samples.append(sample)


@dataclass(frozen=True)
class BenchmarkOption:
    """One ``--benchmark-option KEY=VALUE`` setting an adapter accepts.

    Attributes:
        name: the key.
        help: what the option selects, in a sentence.
        choices: the allowed values; empty when any value is allowed.
        default: the value used when the option is not given.
    """

    name: str
    help: str
    choices: tuple[str, ...] = ()
    default: str = ""


def wanted_splits(splits: Sequence[str] | None) -> set[str] | None:
    """Return the split names to keep, stripped and lower-cased, or None (every split) when ``splits`` is None."""
    if splits is None:
        return None
    return {split.strip().lower() for split in splits}


def fingerprint(samples: Iterable[EvalSample]) -> str:
    """Return a SHA-256 over what defines the questions: ids, text, answers, boxes, images.

    The order of ``samples`` does not matter, so the same questions give the same value.
    """
    lines = []
    for sample in samples:
        payload = {
            "id": sample.id,
            "images": [path.name for path in sample.images],
            "question": sample.question,
            "answer": sample.answer,
            "category": sample.category,
            "level": sample.level,
            "options": list(sample.options),
            "roi": [round(v, 3) for v in sample.roi] if sample.roi else None,
            "split": sample.split,
        }
        lines.append(json.dumps(payload, sort_keys=True, ensure_ascii=False))

    digest = hashlib.sha256()
    for line in sorted(lines):
        digest.update(line.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


class Benchmark(ABC):
    """The interface of a benchmark adapter.

    A module in ``lrsgro.benchmarks`` becomes an adapter by defining ``BENCHMARK``, an
    instance of a subclass of this class. ``name`` is the ``--benchmark`` value.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    default_split: ClassVar[str] = "test"
    rules: ClassVar[tuple[str, ...]] = RULES
    # One sentence per rule, copied into scores.json so a report names the rule it used.
    rule_descriptions: ClassVar[Mapping[str, str]] = {
        "paper": "lower-cased exact match or a shared WordNet synset, as published with LRS-GRO",
        "robust": "lrsgro's robust normaliser, then exact match or a shared WordNet synset",
    }
    options: ClassVar[tuple[BenchmarkOption, ...]] = ()
    settings: Mapping[str, str] = {}

    def with_options(self, values: Mapping[str, str]) -> Benchmark:
        """Return a copy of this adapter whose ``settings`` hold ``values`` over the defaults.

        Raises:
            InputError: a key the adapter does not accept, or a value outside its choices.
        """
        known = {option.name: option for option in self.options}
        for key, value in values.items():
            option = known.get(key)
            if option is None:
                accepted = ", ".join(known) or "none"
                raise InputError(f"benchmark {self.name} has no option {key!r}", fix=f"options it accepts: {accepted}")
            if option.choices and value not in option.choices:
                raise InputError(
                    f"invalid value {value!r} for option {key!r} of benchmark {self.name}",
                    fix=f"use one of: {', '.join(option.choices)}",
                )

        configured = copy.copy(self)
        configured.settings = {**{option.name: option.default for option in self.options}, **values}
        return configured

    def setting(self, key: str) -> str:
        """Return the value of option ``key``: the configured one, else its default."""
        if key in self.settings:
            return self.settings[key]
        for option in self.options:
            if option.name == key:
                return option.default
        raise KeyError(key)

    @abstractmethod
    def load(
        self, data: Path, splits: Sequence[str] | None = None, images: Path | None = None
    ) -> BenchmarkData:
        """Read the benchmark at ``data``, keeping only ``splits`` (all of them when None).

        ``images`` is the folder of image files when they do not sit where the adapter looks
        by default.

        Raises:
            lrsgro.errors.InputError: when ``data`` is missing or not in a known layout.
        """

    def score(
        self, rule: str, answer: str | None, reference: Mapping[str, Any], output: str | None = None
    ) -> Score:
        """Score one extracted answer against a question's reference under ``rule``.

        ``output`` is the raw model output the answer was extracted from, when known; rules
        published for raw replies read it. The default covers ``paper`` (lower-cased exact match or a shared WordNet synset,
        as published with LRS-GRO) and ``robust`` (the documented normaliser of
        :func:`lrsgro.scoring.score_robust`); a multiple-choice question is scored by its
        option letter under both. An adapter with a published rule of its own overrides this.
        """
        target = str(reference["answer"])
        options = list(reference.get("options") or [])
        if options:
            letter = _target_letter(target, options)
            if letter is not None:
                letters = OPTION_LETTERS[: len(options)]
                return score_choice(answer, letter, options=options, letters=letters)
        if rule == "paper":
            return score_paper(answer, target)
        if rule == "robust":
            return score_robust(answer, target)
        raise ValueError(f"unknown scoring rule {rule!r}; {self.name} has {', '.join(self.rules)}")


def _target_letter(target: str, options: Sequence[str]) -> str | None:
    """Return the option letter of ``target``: itself when it is a letter, else its option."""
    stripped = target.strip()
    letters = OPTION_LETTERS[: len(options)]
    if len(stripped) == 1 and stripped.upper() in letters:
        return stripped.upper()
    for index, option in enumerate(options):
        if option.strip().casefold() == stripped.casefold():
            return letters[index]
    return None
