"""Drafting targets: one image, one level and one referent per request to the model."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lrsgro.errors import InputError
from lrsgro.taxonomy import Level, Source, find_type, types_at

# The categories requested at each level when a target names none. At object level these
# are the two types no rule decides. At the other levels they are the types with the weakest rules.
DEFAULT_CATEGORIES: dict[str, tuple[str, ...]] = {
    "global": ("Scene Type", "Urban-Rural", "Season"),
    "region": ("Region status", "Other visual features", "Region function"),
    "object": ("Object state / motion / activity", "Object material / surface"),
}


@dataclass(frozen=True)
class Referent:
    """The region or object a question is about.

    Attributes:
        id: the object or region id, unique inside its image.
        box: (x0, y0, x1, y1) in full-resolution pixels of the image.
        expression: the referring expression that picks it out ("the largest ship").
        category: its class name ("ship"), or a region kind ("harbour area").
    """

    id: str
    box: tuple[float, float, float, float]
    expression: str
    category: str | None = None


@dataclass(frozen=True)
class DraftTarget:
    """One request to the model: draft questions of some types about one referent.

    Attributes:
        image_path: the image file read for the views.
        image_id: the image's id, used in question ids.
        image: the image path written on the questions (relative to the dataset folder).
        image_width, image_height: size of the full-resolution image in pixels.
        level: ``global``, ``region`` or ``object``.
        referent: the region or object (None at global level).
        categories: the categories to draft, all at ``level``; empty means the defaults of
            :data:`DEFAULT_CATEGORIES`.
        answered_categories: categories the rules already answered for this referent. The
            prompt leaves them out of the optional types.
        facts: rule-derived facts sent to the model as context and used to flag drafted
            answers that contradict them. Keys that are checked: ``counts`` (class name to
            labelled count inside the scope of the target), ``color`` (measured colour name
            of the referent), ``fine_category`` (labelled fine-grained class),
            ``acquisition_date`` (ISO date) with ``latitude`` (degrees) or ``hemisphere``
            (``northern`` or ``southern``), which decide the season, and ``scene_type`` and
            ``urban_rural`` (rule-derived answers). Other keys are context only. Values must
            be JSON-serialisable.
        object_ids: ids of the labelled objects the facts came from (stored as evidence);
            empty means the referent alone.
        context_box: the area around an object shown as the region view; None means the
            object box grown to three times its size (at least 256 pixels a side).
        split: the split written on the questions until the build assigns the real one.
        source_labels: the label file the facts came from, written on the questions.
    """

    image_path: Path
    image_id: str
    image: str
    image_width: int
    image_height: int
    level: Level
    referent: Referent | None = None
    categories: tuple[str, ...] = ()
    answered_categories: tuple[str, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)
    object_ids: tuple[str, ...] = ()
    context_box: tuple[float, float, float, float] | None = None
    split: str = "unassigned"
    source_labels: str | None = None

    @property
    def target_id(self) -> str:
        """The id of this target in reports: ``<image_id>/<level>/<referent id>``."""
        referent_id = self.referent.id if self.referent is not None else "image"
        return f"{self.image_id}/{self.level}/{referent_id}"

    @property
    def requested_categories(self) -> tuple[str, ...]:
        """The categories the model must draft."""
        return self.categories or DEFAULT_CATEGORIES[self.level]

    def check(self) -> None:
        """Raise :class:`InputError` naming the field when the target is inconsistent."""
        where = f"draft target {self.target_id}"
        if self.level not in DEFAULT_CATEGORIES:
            raise InputError(f"{where}: unknown level {self.level!r}; allowed: global, region, object")
        if self.image_width <= 0 or self.image_height <= 0:
            raise InputError(
                f"{where}: invalid image size {self.image_width}x{self.image_height}",
                path=self.image_path,
            )
        if self.level == "global" and self.referent is not None:
            raise InputError(f"{where}: a global target has no referent, got {self.referent.id!r}")
        if self.level != "global":
            if self.referent is None:
                raise InputError(f"{where}: a {self.level} target needs a referent")
            _check_box(where, self.referent.box, self.image_width, self.image_height)
            if not self.referent.expression.strip():
                raise InputError(f"{where}: the referent's referring expression is empty")
        if self.context_box is not None:
            _check_box(where, self.context_box, self.image_width, self.image_height)

        allowed = [t.category for t in types_at(self.level) if Source.VLM in t.sources]
        for category in (*self.requested_categories, *self.answered_categories):
            if find_type(self.level, category) is None:
                raise InputError(
                    f"{where}: unknown category {category!r} at level {self.level}",
                    fix=f"use one of: {', '.join(allowed)}",
                )


def _check_box(where: str, box: tuple[float, ...], width: int, height: int) -> None:
    if len(box) != 4:
        raise InputError(f"{where}: a box needs 4 numbers (x0, y0, x1, y1), got {box!r}")
    x0, y0, x1, y1 = box
    if not (x0 < x1 and y0 < y1):
        raise InputError(f"{where}: empty box {box!r}; it must satisfy x0 < x1 and y0 < y1")
    if x1 <= 0 or y1 <= 0 or x0 >= width or y0 >= height:
        raise InputError(f"{where}: box {box!r} lies outside the {width}x{height} image")
