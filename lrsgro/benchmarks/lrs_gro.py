"""LRS-GRO: 17 question types at global, region and object level on UHR remote-sensing images.

Source: the ZoomEarth authors' release (Liu et al., "ZoomEarth: Active Perception for
Ultra-High-Resolution Geospatial Vision-Language Tasks", arXiv:2511.12267; Hugging Face
``HappyBug/LRS-GRO``), licence Apache-2.0 as stated by the release, or a dataset folder
written by ``lrsgro build``. Boxes are (x0, y0, x1, y1); the release stores them in the frame
whose long side is 1024 pixels and this adapter converts them to full-resolution pixels.
Splits of the release: ``sft``, ``rl`` and ``test``. The reading and the normalised noise are
described in :mod:`lrsgro.eval.lrs_gro_data`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lrsgro.benchmarks.base import Benchmark, BenchmarkData, EvalSample
from lrsgro.eval.lrs_gro_data import BENCHMARK_NAME, load_lrs_gro, question_key

__all__ = ["BENCHMARK", "CrossSplitDuplicate", "LrsGroBenchmark", "find_cross_split_duplicates"]


@dataclass(frozen=True)
class CrossSplitDuplicate:
    """One question that appears in more than one split.

    Attributes:
        image: the image file name the question is about.
        question: the normalised question text (case-folded, single spaces).
        ids_by_split: the question ids of each split that holds it.
    """

    image: str
    question: str
    ids_by_split: dict[str, list[str]]

    @property
    def splits(self) -> list[str]:
        return sorted(self.ids_by_split)


class LrsGroBenchmark(Benchmark):
    """The LRS-GRO adapter: built datasets and the official release."""

    name = BENCHMARK_NAME
    description = "LRS-GRO: 17 question types (global, region, object) on UHR remote-sensing images"
    default_split = "test"

    def load(
        self, data: Path, splits: Sequence[str] | None = None, images: Path | None = None
    ) -> BenchmarkData:
        return load_lrs_gro(Path(data), splits, images)


def find_cross_split_duplicates(samples: Iterable[EvalSample]) -> list[CrossSplitDuplicate]:
    """Find questions asked about the same image with the same text in two or more splits.

    Two samples are the same question when their image file names are equal and their
    question texts are equal after case-folding, collapsing whitespace and dropping end
    punctuation. The result is sorted by image and question, so it is stable across runs.
    """
    groups: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for sample in samples:
        image = sample.extra.get("image_name") or (sample.image.name if sample.image else "")
        groups[(str(image), question_key(sample.question))][sample.split].append(sample.id)

    duplicates = []
    for (image, question), by_split in sorted(groups.items()):
        if len(by_split) > 1:
            duplicates.append(CrossSplitDuplicate(image, question, {k: sorted(v) for k, v in by_split.items()}))
    return duplicates


BENCHMARK = LrsGroBenchmark()
