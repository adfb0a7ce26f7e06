"""``lrsgro build`` and ``lrsgro demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from lrsgro.build import BuildConfig, BuildReport, build as run_build
from lrsgro.cli.common import console, progress_callback
from lrsgro.formats import format_names
from lrsgro.taxonomy import QUESTION_TYPES
from lrsgro.vlm.options import add_vlm_options, vlm_config_from_options

DEFAULT_DEMO_OUT = Path("lrsgro-demo")
TOP_REJECTION_KINDS = 3


@click.command()
@click.argument("labels", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--images", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of the images the labels describe; an image is found by the label file's name "
                   "(P0706.txt -> P0706.png/.tif/.jpg).")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Dataset folder to write (created; shards, card and report inside are replaced).")
@click.option("--format", "format_", default="auto", show_default=True, type=click.Choice(format_names()),
              help="Label format; 'auto' recognises it from the file content.")
@click.option("--seed", default=0, show_default=True, type=int,
              help="Seed of every random choice; the same input and seed give byte-identical output.")
@click.option("--split", default="test=0.8,train=0.2", show_default=True,
              help="Split names and fractions of images (never of questions), e.g. test=0.8,train=0.2.")
@click.option("--on-error", type=click.Choice(["stop", "skip"]), default="stop", show_default=True,
              help="What a bad record does (unknown class, wrong number of coordinates, missing image): "
                   "'stop' ends the build with its file, line and value; 'skip' leaves it out and counts it "
                   "in build_report.json.")
@click.option("--max-per-type", default=8, show_default=True, type=click.IntRange(1),
              help="Most questions of one type asked about one image.")
@click.option("--class-map", "class_map", multiple=True, metavar="SOURCE=TARGET",
              help="Map a class spelling of the labels to a vocabulary class; repeatable.")
@add_vlm_options
def build(labels: tuple[Path, ...], images: Path, out: Path, format_: str, seed: int, split: str,
          on_error: str, max_per_type: int, class_map: tuple[str, ...], **vlm_options: object) -> None:
    """Build an LRS-GRO-style VQA dataset from object labels and their images.

    LABELS are label files or folders of them (DOTA first; see `lrsgro labels inspect` for the
    formats). The build derives questions of every type whose answer the labels, geometry,
    pixels or metadata decide, balances answers, splits by image and writes Parquet shards,
    the image store, a dataset card and build_report.json to --out.
    """
    mapping = {}
    for item in class_map:
        source, sep, target = item.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise click.BadParameter(f"{item!r} is not SOURCE=TARGET", param_hint="--class-map")
        mapping[source.strip()] = target.strip()

    config = BuildConfig(labels=list(labels), images=images, out=out, format=format_, seed=seed, split=split,
                         on_error=on_error, max_per_type=max_per_type, class_map=mapping,
                         vlm=vlm_config_from_options(vlm_options))
    with progress_callback() as progress:
        report = run_build(config, progress)
    print_build_summary(config, report)
    if report.vlm:
        _print_vlm_summary(report.vlm)


@click.command()
@click.option("--out", default=DEFAULT_DEMO_OUT, show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the generated scenes and the dataset built from them.")
@click.option("--size", default=8192, show_default=True, type=click.IntRange(1024),
              help="Side of each generated square scene, in pixels.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the scenes and of the build.")
def demo(out: Path, size: int, seed: int) -> None:
    """Paint the embedded demo scenes, build a dataset from them and score model-free baselines.

    The scenes are tiled GeoTIFFs with overviews, georeferenced, with an acquisition date,
    and their labels are DOTA text; nothing is downloaded. The dataset lands in OUT/dataset.
    """
    from lrsgro.demo_scene import generate_scenes

    console.print(f"painting demo scenes ({size}x{size} px) into {escape(str(out))} ...")
    scenes = generate_scenes(out / "scene", seeds=(seed, seed + 1, seed + 2), size=size)
    config = BuildConfig(labels=[out / "scene" / "labelTxt"], images=out / "scene" / "images",
                         out=out / "dataset", seed=seed, split="test=0.67,train=0.33")
    with progress_callback() as progress:
        report = run_build(config, progress)
    print_build_summary(config, report)
    _print_baselines(config.out)
    console.print(f"\nscenes: {len(scenes)}; try: lrsgro validate {escape(str(config.out))}")


def _print_vlm_summary(vlm: dict[str, Any]) -> None:
    """Print what the VLM drafting stage kept and dropped, and what it cost."""
    console.print(f"vlm drafts: {vlm['questions']} kept ({vlm['flagged_questions']} flagged against measured facts), "
                  f"{len(vlm['rejected'])} rejected, {vlm['duplicates_of_rules']} dropped as duplicates of rule questions")
    by_kind = list(vlm.get("rejected_by_kind", {}).items())
    if by_kind:
        listed = ", ".join(f"{escape(kind)} {count}" for kind, count in by_kind[:TOP_REJECTION_KINDS])
        more = f" and {len(by_kind) - TOP_REJECTION_KINDS} more kinds" if len(by_kind) > TOP_REJECTION_KINDS else ""
        console.print(f"  rejected by kind: {listed}{more} (see 'vlm' in build_report.json)")
    console.print(f"  {vlm['requests']} requests, {vlm['cache_hits']} cache hits, {len(vlm['failed'])} failed targets")
    if vlm["stop_reason"]:
        console.print(f"  [yellow]stopped early[/]: {escape(vlm['stop_reason'])}")


def _print_baselines(dataset: Path) -> None:
    """Score the majority and random baselines on the test split and print them per level."""
    from lrsgro.eval.demo import run_baselines

    result = run_baselines(dataset)
    table = Table(title=f"model-free baselines on {result.split} (learned from {result.reference_split}, {result.rule} rule)")
    for column in ("level", "questions", "majority", "random"):
        table.add_column(column, justify="left" if column == "level" else "right")
    for row in result.rows:
        table.add_row(row.level, str(row.questions), _percent(row.majority), _percent(row.random))
    console.print(table)
    for message in result.messages:
        console.print(f"note: {escape(message)}")


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def print_build_summary(config: BuildConfig, report: BuildReport) -> None:
    """Print counts per type and what was not produced."""
    table = Table(title=f"{report.questions} questions from {report.images} images ({report.objects} objects)")
    table.add_column("level")
    table.add_column("category")
    table.add_column("questions", justify="right")
    for qtype in QUESTION_TYPES:
        table.add_row(qtype.level, qtype.category, str(report.per_type.get(f"{qtype.level}/{qtype.category}", 0)))
    console.print(table)

    for key, reason in sorted(report.types_not_produced.items()):
        console.print(f"[yellow]not produced[/] {escape(key)}: {escape(reason)}")
    for warning in report.warnings:
        if warning.startswith("split "):
            console.print(f"[yellow]warning[/]: {escape(warning)}")
    if report.skipped_records:
        console.print(f"[yellow]skipped records[/]: {len(report.skipped_records)} (see build_report.json)")
    if report.clipped_objects:
        console.print(f"clipped objects: {report.clipped_objects}")
    console.print(f"splits: {report.per_split}")
    console.print(f"written to {escape(str(config.out))}")
