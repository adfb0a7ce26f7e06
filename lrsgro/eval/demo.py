"""Model-free baselines on a built dataset, as a per-level table, for ``lrsgro demo``.

Runs in memory: no run directory is written, no model is called.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lrsgro.benchmarks import get_benchmark
from lrsgro.errors import InputError
from lrsgro.eval.baselines import MajorityBaseline, RandomBaseline, choose_reference
from lrsgro.eval.report import score_records
from lrsgro.eval.runlog import PredictionRecord
from lrsgro.taxonomy import LEVELS


@dataclass(frozen=True)
class BaselineRow:
    """Accuracy of both baselines on one level (or ``all``), under one scoring rule.

    Attributes:
        level: ``global``, ``region``, ``object`` or ``all`` (micro over every question).
        questions: questions scored at this level.
        majority: accuracy of the majority baseline, None without questions.
        random: accuracy of the random baseline, None without questions.
    """

    level: str
    questions: int
    majority: float | None
    random: float | None


@dataclass
class BaselineTable:
    """Per-level accuracy of the majority and random baselines.

    Attributes:
        split: the evaluated split.
        reference_split: the split the baselines learned from.
        rule: the scoring rule (``paper`` or ``robust``).
        rows: one row per level, then ``all``.
        messages: notes such as a missing reference split.
    """

    split: str
    reference_split: str
    rule: str
    rows: list[BaselineRow] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


def run_baselines(
    dataset_dir: str | Path,
    *,
    split: str = "test",
    reference_split: str = "train",
    rule: str = "paper",
    seed: int = 0,
) -> BaselineTable:
    """Evaluate the majority and random baselines on a dataset written by ``lrsgro build``.

    When ``split`` is absent, the last split of the dataset is evaluated instead.

    Raises:
        InputError: the folder is not a dataset or contains no questions.
    """
    data = get_benchmark("lrs-gro").load(Path(dataset_dir))
    if not data.samples:
        raise InputError("the dataset contains no questions", path=dataset_dir, fix="build it with `lrsgro build`")

    messages: list[str] = []
    if not data.split(split):
        fallback = data.splits[-1]
        messages.append(f"split {split!r} not found; evaluating {fallback!r}")
        split = fallback
    samples = data.split(split)
    choice = choose_reference(data, split, reference_split)
    if choice.message:
        messages.append(choice.message)

    baselines = {"majority": MajorityBaseline(choice.samples), "random": RandomBaseline(choice.samples, seed)}
    per_level: dict[str, dict] = {}
    for name, baseline in baselines.items():
        records: list[PredictionRecord] = [record for sample in samples for record in baseline.answer(sample, {})]
        report = score_records(records, resamples=0)["rules"][rule]["final"]
        per_level[name] = {**report["per_level"], "all": report["micro"]}

    table = BaselineTable(split, choice.split, rule, messages=messages)
    for level in (*LEVELS, "all"):
        majority = per_level["majority"].get(level)
        random_ = per_level["random"].get(level)
        if majority is None:
            continue
        table.rows.append(BaselineRow(level, majority["counted"], majority["accuracy"], random_["accuracy"]))
    return table
