"""Decide what ``lrsgro push`` uploads, without touching the network.

A push sends three things from a dataset folder written by ``lrsgro build``: the Parquet
shards under ``data/``, the image store (``images/index.jsonl`` and every image it names)
and a dataset card regenerated from the questions being pushed. ``build_report.json`` stays
local because it can contain paths of the machine that built the dataset.
"""

from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path

from lrsgro.card import CardInfo, read_card_info, render_card
from lrsgro.dataset import DATA_DIR, IMAGE_INDEX, IMAGES_DIR, read_image_index, read_questions
from lrsgro.errors import DatasetError, LrsgroError
from lrsgro.records import ImageRecord, Question

logger = logging.getLogger(__name__)

CARD_FILE = "README.md"
# Remote files under these folders that the push does not upload are deleted, so that a
# rebuilt dataset with fewer shards or images leaves no stale rows behind on the Hub.
MANAGED_PREFIXES = (f"{DATA_DIR}/", f"{IMAGES_DIR}/")
_MAX_PROBLEMS_LISTED = 10


@dataclass(frozen=True)
class PlannedFile:
    """One file of a push: where it goes in the repository and what it contains.

    Exactly one of ``local_path`` and ``content`` is set: the card is generated in memory,
    every other file is read from the dataset folder.
    """

    path_in_repo: str
    size: int
    local_path: Path | None = None
    content: bytes | None = None


@dataclass(frozen=True)
class PushPlan:
    """The files of one push, in upload order, and the review state of the questions."""

    folder: Path
    files: tuple[PlannedFile, ...]
    questions: int
    candidates: int

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


def plan_push(folder: str | Path, *, allow_unreviewed: bool = False) -> PushPlan:
    """Check a dataset folder and list the files a push would upload.

    The card is regenerated from the questions and images with the CardInfo embedded in the
    folder's ``README.md``. When questions are still ``candidate``, the card marks the dataset
    as not fully reviewed.

    Raises:
        DatasetError: the folder fails ``lrsgro validate``, an image of the index is missing,
            or questions are still ``candidate`` and ``allow_unreviewed`` is false.
        LrsgroError: ``lrsgro.validate`` is not installed.
    """
    folder = Path(folder)
    _check_valid(folder)

    questions = read_questions(folder)
    images = read_image_index(folder)
    candidates = sum(q.review_status == "candidate" for q in questions)
    if candidates and not allow_unreviewed:
        raise DatasetError(
            f"{candidates} of {len(questions)} questions are still in review status 'candidate'",
            path=folder,
            fix="review them and rebuild, or pass --allow-unreviewed to publish them with a card that says so",
        )

    card = _regenerate_card(folder, questions, list(images.values()), unreviewed=candidates > 0)
    files = [PlannedFile(CARD_FILE, len(card), content=card)]
    files += [_local_file(folder, path) for path in sorted((folder / DATA_DIR).glob("*.parquet"))]
    files.append(_local_file(folder, folder / IMAGE_INDEX))
    files += [_image_file(folder, record) for record in sorted(images.values(), key=lambda r: r.file)]

    # Two index records may share one file, and the repository contains each path once.
    unique = {planned.path_in_repo: planned for planned in files}
    return PushPlan(folder=folder, files=tuple(unique.values()), questions=len(questions), candidates=candidates)


def _check_valid(folder: Path) -> None:
    # Imported on use, so an install without the validator fails here with a clear message
    # instead of failing to import lrsgro.publish.
    try:
        validate_module = importlib.import_module("lrsgro.validate")
        validate_dataset = validate_module.validate_dataset
    except (ImportError, AttributeError) as error:
        raise LrsgroError(
            "cannot check the dataset before pushing: lrsgro.validate.validate_dataset is not available "
            f"({error}); install a complete lrsgro release"
        ) from error

    report = validate_dataset(folder)
    if report.ok:
        return

    listed = report.problems[:_MAX_PROBLEMS_LISTED]
    more = len(report.problems) - len(listed)
    listing = "; ".join(listed) + (f"; and {more} more" if more > 0 else "")
    raise DatasetError(
        f"dataset fails validation with {len(report.problems)} problem(s): {listing}",
        path=folder,
        fix=f"run `lrsgro validate {folder}` for the full list and fix them before pushing",
    )


def _regenerate_card(folder: Path, questions: list[Question], images: list[ImageRecord], *, unreviewed: bool) -> bytes:
    card_path = folder / CARD_FILE
    info = read_card_info(card_path.read_text(encoding="utf-8")) if card_path.is_file() else None
    if info is None:
        logger.warning(
            "%s has no embedded card settings; the pushed card uses the default licence and limitations",
            card_path,
        )
        info = CardInfo()

    info = replace(info, unreviewed=unreviewed)
    return render_card(questions, images, info).encode("utf-8")


def _local_file(folder: Path, path: Path) -> PlannedFile:
    return PlannedFile(path.relative_to(folder).as_posix(), path.stat().st_size, local_path=path)


def _image_file(folder: Path, record: ImageRecord) -> PlannedFile:
    # Lexical normalisation, not resolve(): an image store of symlinks to the source imagery
    # is fine, a record whose path climbs out of images/ is not.
    store = Path(os.path.normpath(folder / IMAGES_DIR))
    path = Path(os.path.normpath(folder / record.file))
    if not path.is_relative_to(store):
        raise DatasetError(
            f"image {record.image_id!r} has file {record.file!r}, which is outside the image store {IMAGES_DIR}/",
            path=folder / IMAGE_INDEX,
            fix="rebuild the dataset so every image is copied into images/",
        )
    if not path.is_file():
        raise DatasetError(
            f"image {record.image_id!r} is listed in the index but its file {record.file!r} is missing",
            path=folder / IMAGE_INDEX,
            fix="rebuild the dataset so the image store is complete",
        )
    return PlannedFile(f"{IMAGES_DIR}/{path.relative_to(store).as_posix()}", path.stat().st_size, local_path=path)
