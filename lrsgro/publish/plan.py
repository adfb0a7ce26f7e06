"""Decide what ``lrsgro push`` uploads, without touching the network.

A push sends three things from a dataset folder written by ``lrsgro build``: the Parquet
shards under ``data/``, the image store (``images/index.jsonl`` and every image it names)
and a dataset card regenerated from the questions being pushed. ``build_report.json`` stays
local because it can contain paths of the machine that built the dataset.

Questions that reviewers rejected are left out unless the caller includes them. The other
questions are then written as new shards into a temporary staging folder, and closing the plan
removes that folder. The dataset folder itself is only read.
"""

from __future__ import annotations

import importlib
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from lrsgro.card import CardInfo, read_card_info, render_card
from lrsgro.dataset import (
    DATA_DIR,
    IMAGE_INDEX,
    IMAGES_DIR,
    read_image_index,
    read_questions,
    write_image_index,
    write_questions,
)
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
    """The files of one push, in upload order, and the review state of the questions.

    ``questions`` counts the questions to publish, and ``rejected_excluded`` the rejected
    questions left out of them. When questions are left out, ``staging_dir`` contains the
    filtered shards that ``files`` points to. Use the plan as a context manager, or call
    :meth:`close`, to remove that folder after the upload.
    """

    folder: Path
    files: tuple[PlannedFile, ...]
    questions: int
    candidates: int
    rejected_excluded: int = 0
    staging_dir: Path | None = None

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def close(self) -> None:
        """Remove the staging folder; the plan's filtered shards are gone after this."""
        if self.staging_dir is not None:
            _remove_staging(self.staging_dir)

    def __enter__(self) -> PushPlan:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def plan_push(folder: str | Path, *, allow_unreviewed: bool = False, include_rejected: bool = False) -> PushPlan:
    """Check a dataset folder and list the files a push would upload.

    Questions with review status ``rejected`` are left out unless ``include_rejected`` is
    true: the others are written as new shards into a staging folder under the system's
    temporary folder (``TMPDIR``), and the plan lists those shards instead of the folder's.
    The questions to publish must pass ``lrsgro validate``.

    The card is regenerated from the questions to publish and the images, with the CardInfo
    embedded in the folder's ``README.md``. It marks the dataset as not fully reviewed when
    questions are still ``candidate``, and states how many rejected questions were left out.

    Raises:
        DatasetError: the folder has no shards or image index, the questions to publish fail
            ``lrsgro validate``, every question is rejected, an image of the index is missing,
            or questions are still ``candidate`` and ``allow_unreviewed`` is false.
        LrsgroError: ``lrsgro.validate`` is not installed.
    """
    folder = Path(folder)
    questions = read_questions(folder)
    images = read_image_index(folder)
    rejected = 0 if include_rejected else sum(q.review_status == "rejected" for q in questions)
    if not rejected:
        return _plan(folder, folder, questions, images, allow_unreviewed=allow_unreviewed)

    published = [q for q in questions if q.review_status != "rejected"]
    if not published:
        raise DatasetError(
            f"all {len(questions)} questions are in review status 'rejected'; nothing to publish",
            path=folder,
            fix="review them again (`lrsgro review push --filter status=rejected`, then pull), "
            "or pass --include-rejected to publish them",
        )

    # An image whose questions were all rejected is not published either.
    used = {q.image_id for q in published}
    published_images = {image_id: record for image_id, record in images.items() if image_id in used}
    staging = _stage_shards(folder, published, published_images)
    try:
        plan = _plan(
            folder, staging, published, published_images, allow_unreviewed=allow_unreviewed, rejected_excluded=rejected
        )
    except BaseException:
        _remove_staging(staging)
        raise
    logger.info("left out %d rejected questions; filtered shards staged in %s", rejected, staging)
    return replace(plan, staging_dir=staging)


def _plan(
    folder: Path,
    shards_from: Path,
    questions: list[Question],
    images: dict[str, ImageRecord],
    *,
    allow_unreviewed: bool,
    rejected_excluded: int = 0,
) -> PushPlan:
    # shards_from is the dataset folder, or the staging folder with the filtered shards.
    _check_valid(shards_from, shown_as=folder, rejected_excluded=rejected_excluded)

    candidates = sum(q.review_status == "candidate" for q in questions)
    if candidates and not allow_unreviewed:
        raise DatasetError(
            f"{candidates} of {len(questions)} questions are still in review status 'candidate'",
            path=folder,
            fix="review them with `lrsgro review push/pull`, or pass --allow-unreviewed to publish them "
            "with a card that says so",
        )

    card = _regenerate_card(
        folder, questions, list(images.values()), unreviewed=candidates > 0, rejected_excluded=rejected_excluded
    )
    files = [PlannedFile(CARD_FILE, len(card), content=card)]
    files += [_local_file(shards_from, path) for path in sorted((shards_from / DATA_DIR).glob("*.parquet"))]
    files.append(_local_file(shards_from, shards_from / IMAGE_INDEX))
    files += [_image_file(folder, record) for record in sorted(images.values(), key=lambda r: r.file)]

    # Two index records may share one file, and the repository contains each path once.
    unique = {planned.path_in_repo: planned for planned in files}
    return PushPlan(
        folder=folder,
        files=tuple(unique.values()),
        questions=len(questions),
        candidates=candidates,
        rejected_excluded=rejected_excluded,
    )


def _stage_shards(folder: Path, questions: list[Question], images: dict[str, ImageRecord]) -> Path:
    """Write ``questions`` and the index of ``images`` into a new staging folder that validates
    like a dataset.

    The validator checks the image store too, so the staging store holds one link per image
    file instead of a copy. Removing the staging folder removes the links, never the images.
    """
    staging = Path(tempfile.mkdtemp(prefix="lrsgro-push-"))
    try:
        write_questions(staging, questions)
        write_image_index(staging, images.values())
        store = Path(os.path.normpath(staging / IMAGES_DIR))
        for record in images.values():
            link = Path(os.path.normpath(staging / record.file))
            # A path that climbs out of the store gets no link; planning the upload rejects it.
            if link.is_relative_to(store) and not link.exists():
                link.parent.mkdir(parents=True, exist_ok=True)
                os.symlink((Path(folder) / record.file).resolve(), link)
    except BaseException:
        _remove_staging(staging)
        raise
    return staging


def _remove_staging(staging: Path) -> None:
    # rmtree unlinks the images link instead of following it.
    shutil.rmtree(staging, ignore_errors=True)


def _check_valid(folder: Path, *, shown_as: Path, rejected_excluded: int) -> None:
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
    subject = "dataset"
    if rejected_excluded:
        subject = f"dataset without its {rejected_excluded} rejected questions"
    raise DatasetError(
        f"{subject} fails validation with {len(report.problems)} problem(s): {listing}",
        path=shown_as,
        fix=f"run `lrsgro validate {shown_as}` for the full list and fix them before pushing",
    )


def _regenerate_card(
    folder: Path,
    questions: list[Question],
    images: list[ImageRecord],
    *,
    unreviewed: bool,
    rejected_excluded: int,
) -> bytes:
    card_path = folder / CARD_FILE
    info = read_card_info(card_path.read_text(encoding="utf-8")) if card_path.is_file() else None
    if info is None:
        logger.warning(
            "%s has no embedded card settings; the pushed card uses the default licence and limitations",
            card_path,
        )
        info = CardInfo()

    info = replace(info, unreviewed=unreviewed, rejected_excluded=rejected_excluded)
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
