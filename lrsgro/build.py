"""``lrsgro build``: labels + imagery -> scene facts -> rule-based candidates -> balanced,
image-disjoint splits -> a dataset folder (see :mod:`lrsgro.dataset`).

Bad records follow one policy for the whole run. With ``stop``, every label file is read and
then one error lists each bad record with its file, line and value, before anything is
written. With ``skip``, bad records are left out and counted in ``build_report.json``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lrsgro import __version__
from lrsgro.balance import balance
from lrsgro.card import CardInfo, write_card
from lrsgro.dataset import IMAGES_DIR, REPORT_FILE, write_image_index, write_json, write_questions
from lrsgro.errors import ImageError, InputError
from lrsgro.formats import list_label_files, read_labels
from lrsgro.formats.base import ReadContext
from lrsgro.generate import global_level, object_level, region_level
from lrsgro.generate.common import GenerationContext
from lrsgro.imagery import find_image, open_image
from lrsgro.objects import ImageLabels
from lrsgro.records import ImageRecord, Question
from lrsgro.regions import find_regions
from lrsgro.scene import Scene
from lrsgro.splits import assign_splits, parse_split_spec
from lrsgro.taxonomy import QUESTION_TYPES

if TYPE_CHECKING:
    from lrsgro.vlm import VlmConfig

logger = logging.getLogger(__name__)

OnError = Literal["stop", "skip"]
MAX_LISTED_RECORDS = 20
FAMILIES = (global_level.generate, region_level.generate, object_level.generate)


@dataclass
class BuildConfig:
    """Everything ``lrsgro build`` takes."""

    labels: list[Path]
    images: Path
    out: Path
    format: str = "auto"
    seed: int = 0
    split: str = "test=0.8,train=0.2"
    on_error: OnError = "stop"
    max_per_type: int = 8
    class_map: dict[str, str] = field(default_factory=dict)
    vlm: VlmConfig | None = None


@dataclass
class BuildReport:
    """Counts, skipped records and reasons of one build, written as ``build_report.json``."""

    label_files: int = 0
    images: int = 0
    objects: int = 0
    questions: int = 0
    formats: Counter[str] = field(default_factory=Counter)
    per_split: dict[str, int] = field(default_factory=dict)
    per_type: dict[str, int] = field(default_factory=dict)
    skipped_records: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    clipped_objects: int = 0
    skipped_questions: dict[str, dict[str, int]] = field(default_factory=dict)
    balance_dropped: dict[str, int] = field(default_factory=dict)
    types_not_produced: dict[str, str] = field(default_factory=dict)
    vlm: dict[str, Any] | None = None

    def to_json(self, config: BuildConfig) -> dict[str, Any]:
        return {
            "lrsgro_version": __version__,
            "seed": config.seed,
            "split": config.split,
            "on_error": config.on_error,
            "label_files": self.label_files,
            "images": self.images,
            "objects": self.objects,
            "questions": self.questions,
            "formats": dict(sorted(self.formats.items())),
            "questions_per_split": dict(sorted(self.per_split.items())),
            "questions_per_type": dict(sorted(self.per_type.items())),
            "clipped_objects": self.clipped_objects,
            "skipped_records": self.skipped_records,
            "warnings": self.warnings,
            "skipped_questions": self.skipped_questions,
            "balance_dropped": dict(sorted(self.balance_dropped.items())),
            "types_not_produced": self.types_not_produced,
            "vlm": self.vlm,
        }


Progress = Callable[[str, int, int], None]


def build(config: BuildConfig, progress: Progress | None = None) -> BuildReport:
    """Run the rule-based build and write the dataset folder; return the report.

    Raises:
        InputError: for a bad record or a missing image when ``on_error`` is ``stop``, and for
            arguments that make the build impossible (no label files, bad split spec).
    """
    fractions = parse_split_spec(config.split)
    report = BuildReport()
    scenes = _read_scenes(config, report, progress)
    if not scenes:
        raise InputError("no image could be built from the given labels", fix="check the paths and the build report")

    context = GenerationContext(seed=config.seed, max_per_type=config.max_per_type)
    questions: dict[str, Question] = {}
    for index, scene in enumerate(scenes, start=1):
        if progress:
            progress("questions", index, len(scenes))
        scene.regions = find_regions(scene)
        try:
            for family in FAMILIES:
                for question in family(scene, context):
                    questions.setdefault(question.qid, question)
        finally:
            scene.close()

    if config.vlm is not None:
        from lrsgro.vlm.scenes import draft_scenes

        drafted, vlm_report = draft_scenes(
            scenes,
            config.vlm,
            rule_questions=list(questions.values()),
            seed=config.seed,
            max_per_level=config.max_per_type,
            progress=progress,
        )
        report.vlm = vlm_report.model_dump(mode="json")
        for question in drafted:
            questions.setdefault(question.qid, question)

    assignment = assign_splits([s.image_id for s in scenes], fractions, config.seed)
    for split in fractions:
        if fractions[split] > 0 and split not in assignment.values():
            message = f"split {split!r} received no image: {len(scenes)} images cannot fill --split {config.split}"
            logger.warning(message)
            report.warnings.append(message)
    image_files = {s.image_id: f"{IMAGES_DIR}/{s.image_id}{s.image_path.suffix.lower()}" for s in scenes}
    placed = [
        q.model_copy(update={"split": assignment[q.image_id], "image": image_files[q.image_id]})
        for q in questions.values()
    ]
    kept, report.balance_dropped = balance(placed, config.seed)

    _write(config, scenes, kept, assignment, image_files, report, context)
    return report


def _read_scenes(config: BuildConfig, report: BuildReport, progress: Progress | None) -> list[Scene]:
    files = list_label_files(config.labels)
    report.label_files = len(files)
    scenes: dict[str, Scene] = {}

    for index, path in enumerate(files, start=1):
        if progress:
            progress("labels", index, len(files))
        image_path, size = _image_for_stem(config.images, path.stem)
        context = ReadContext(image_size=size, image_path=image_path, class_map=config.class_map)
        try:
            format_name, groups = read_labels(path, config.format, context)
        except InputError as error:
            _bad_record(config, report, error.path or str(path), error.line, None, error.reason)
            continue
        report.formats[format_name] += 1

        for labels in groups:
            scene = _scene_from_labels(config, report, labels)
            if scene is None:
                continue
            if scene.image_id in scenes:
                raise InputError(
                    f"image {scene.image_id!r} is labelled twice (also in {scenes[scene.image_id].label_file})",
                    path=labels.source,
                    fix="pass each image's labels once",
                )
            scenes[scene.image_id] = scene

    if config.on_error == "stop":
        _stop_on_bad_records(report)
    report.images = len(scenes)
    report.objects = sum(len(s.objects) for s in scenes.values())
    return [scenes[key] for key in sorted(scenes)]


def _image_for_stem(images: Path, stem: str) -> tuple[Path | None, tuple[int, int] | None]:
    try:
        path = find_image(images, stem)
    except ImageError:
        return None, None
    info = open_image(path)
    return path, (info.width, info.height)


def _scene_from_labels(config: BuildConfig, report: BuildReport, labels: ImageLabels) -> Scene | None:
    for issue in labels.issues:
        if issue.severity == "error":
            _bad_record(config, report, issue.path, issue.line, issue.value, issue.message)
        else:
            report.warnings.append(issue.render())
    report.clipped_objects += labels.clipped

    image_id = Path(labels.image_name).stem if labels.image_name else labels.image_id
    try:
        image_path = find_image(config.images, image_id)
    except ImageError as error:
        _bad_record(config, report, labels.source, None, image_id, f"image not found: {error.reason}")
        return None

    info = open_image(image_path)
    return Scene(
        image_id=image_id,
        image_path=image_path,
        width=info.width,
        height=info.height,
        objects=labels.objects,
        gsd=labels.gsd or info.gsd,
        crs=info.crs,
        acquisition_date=info.acquisition_date,
        center_lat=info.center_lat,
        label_file=Path(labels.source).name,
    )


def _bad_record(config: BuildConfig, report: BuildReport, path: str, line: int | None, value: str | None, reason: str) -> None:
    """Record one bad record; with ``on_error="stop"`` the build stops after reading every file."""
    report.skipped_records.append({"file": path, "line": line, "value": value, "reason": reason})


def _stop_on_bad_records(report: BuildReport) -> None:
    """Raise one error listing every bad record (the first is the error's location)."""
    records = report.skipped_records
    if not records:
        return
    first = records[0]
    detail = first["reason"] if first["value"] is None else f"{first['reason']} (value: {first['value']!r})"
    if len(records) > 1:
        listed = [
            f"{r['file']}:{r['line']}" if r["line"] is not None else r["file"] for r in records[1:MAX_LISTED_RECORDS]
        ]
        more = len(records) - MAX_LISTED_RECORDS
        detail += f"; {len(records) - 1} more bad records: " + ", ".join(listed) + (f" and {more} more" if more > 0 else "")
    raise InputError(
        detail, path=first["file"], line=first["line"], fix="fix the records, or pass --on-error skip to skip and count them"
    )


def _write(
    config: BuildConfig,
    scenes: list[Scene],
    questions: list[Question],
    assignment: dict[str, str],
    image_files: dict[str, str],
    report: BuildReport,
    context: GenerationContext,
) -> None:
    config.out.mkdir(parents=True, exist_ok=True)
    images = []
    for scene in scenes:
        target = config.out / image_files[scene.image_id]
        _place_image(scene.image_path, target)
        images.append(ImageRecord(
            image_id=scene.image_id,
            file=image_files[scene.image_id],
            width=scene.width,
            height=scene.height,
            split=assignment[scene.image_id],
            sha256=_sha256(target),
            gsd=scene.gsd,
            crs=scene.crs,
            acquisition_date=scene.acquisition_date.isoformat() if scene.acquisition_date else None,
            center_lat=scene.center_lat,
            label_file=scene.label_file,
            objects=len(scene.objects),
        ))

    report.per_split = write_questions(config.out, questions)
    report.questions = len(questions)
    per_type = Counter(f"{q.level}/{q.category}" for q in questions)
    report.per_type = dict(per_type)
    skipped: dict[str, dict[str, int]] = {}
    for (slug, reason), count in sorted(context.skipped.items()):
        skipped.setdefault(slug, {})[reason] = count
    report.skipped_questions = skipped
    for qtype in QUESTION_TYPES:
        if per_type.get(f"{qtype.level}/{qtype.category}"):
            continue
        if not qtype.rule_decidable and config.vlm is None:
            report.types_not_produced[f"{qtype.level}/{qtype.category}"] = "needs the VLM stage (--vlm-endpoint); no rule decides it"
        elif not qtype.rule_decidable:
            report.types_not_produced[f"{qtype.level}/{qtype.category}"] = "the VLM stage kept no draft of this type (see 'vlm' in the report)"
        else:
            reasons = skipped.get(qtype.slug) or {"no candidate": 0}
            report.types_not_produced[f"{qtype.level}/{qtype.category}"] = "; ".join(sorted(reasons))

    write_image_index(config.out, images)
    card_info = CardInfo(
        unreviewed=any(q.review_status == "candidate" for q in questions),
        vlm_drafting=_vlm_card_summary(report.vlm),
    )
    write_card(config.out, questions, images, card_info)
    write_json(config.out / REPORT_FILE, report.to_json(config))


def _vlm_card_summary(vlm_report: dict[str, Any] | None) -> dict[str, Any] | None:
    """Return what the dataset card states about the VLM drafting run (see CardInfo)."""
    if vlm_report is None:
        return None
    return {
        "model": vlm_report["model"],
        "templates": vlm_report["templates"],
        "kept": vlm_report["questions"],
        "rejected": len(vlm_report["rejected"]),
        "flagged": vlm_report["flagged_questions"],
        "duplicates_of_rules": vlm_report["duplicates_of_rules"],
    }


def _place_image(source: Path, target: Path) -> None:
    """Put one image into the store: a hard link when possible, else a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        if target.stat().st_size == source.stat().st_size and _sha256(target) == _sha256(source):
            return
        target.unlink()
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
