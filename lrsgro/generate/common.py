"""What every question family shares: the generation context and the question factory."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from lrsgro.imagery.frames import to_frame
from lrsgro.records import Evidence, Question, make_qid
from lrsgro.scene import Scene
from lrsgro.taxonomy import QuestionType, get_type_by_slug

GENERATOR_VERSION = "rules-1"


@dataclass
class GenerationContext:
    """Settings and counters of one build.

    Attributes:
        seed: the build seed; every random choice derives from it and the image id.
        max_per_type: the most questions of one type asked about one image.
        skipped: (type slug, reason) -> how many times a question could not be asked.
    """

    seed: int = 0
    max_per_type: int = 8
    skipped: Counter[tuple[str, str]] = field(default_factory=Counter)

    def rng(self, scene: Scene, salt: str) -> random.Random:
        """Return a generator seeded by the build seed, the image and ``salt``."""
        digest = hashlib.sha256(f"{self.seed}\x1f{scene.image_id}\x1f{salt}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def skip(self, slug: str, reason: str) -> None:
        self.skipped[(slug, reason)] += 1


def make_question(
    scene: Scene,
    slug: str,
    question: str,
    answer: str,
    *,
    roi: tuple[float, float, float, float] | None = None,
    referent: str | None = None,
    object_ids: list[str] | None = None,
    measured: dict[str, Any] | None = None,
    rule: str,
    choices: list[str] | None = None,
) -> Question:
    """Build one rule-derived candidate question; its split is set later."""
    qtype: QuestionType = get_type_by_slug(slug)
    roi_list = [float(v) for v in roi] if roi is not None else None
    roi_1024 = to_frame(tuple(roi), (scene.width, scene.height), 1024) if roi is not None else None
    return Question(
        qid=make_qid(scene.image_id, qtype.slug, referent or "", question),
        image_id=scene.image_id,
        image="",
        image_width=scene.width,
        image_height=scene.height,
        split="",
        level=qtype.level,
        category=qtype.category,
        question=question,
        answer=answer,
        answer_kind=qtype.answer_kind,
        choices=choices or [],
        roi=roi_list,
        roi_1024=[round(v, 2) for v in roi_1024] if roi_1024 is not None else None,
        referent=referent,
        provenance="rule",
        review_status="candidate",
        evidence=Evidence(object_ids=object_ids or [], measured=measured or {}, rule=f"{GENERATOR_VERSION}/{rule}"),
        source_labels=scene.label_file,
    )


def sample(rng: random.Random, items: list, limit: int) -> list:
    """Return up to ``limit`` items chosen by ``rng``, in their original order."""
    if len(items) <= limit:
        return list(items)
    chosen = sorted(rng.sample(range(len(items)), limit))
    return [items[i] for i in chosen]
