"""``lrsgro eval`` and ``lrsgro score``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from lrsgro.cli.common import console
from lrsgro.errors import InputError
from lrsgro.eval.config import PROTOCOLS
from lrsgro.eval.retry import RetryPolicy

API_KEY_ENV = "OPENAI_API_KEY"


@click.command("eval")
@click.option("--benchmark", default="lrs-gro", show_default=True, help="Benchmark adapter name.")
@click.option("--data", "data", type=click.Path(exists=True, path_type=Path), required=True,
              help="Benchmark data: a folder from `lrsgro build`, a release JSONL file or a Hugging Face folder.")
@click.option("--model", required=True,
              help="A name from eval/models (e.g. zoomearth-3b) or a spec: openai:NAME, transformers:PATH, "
              "replay:FILE, majority, random.")
@click.option("--protocol", type=click.Choice(PROTOCOLS), default=None,
              help="How questions are asked; default: the model configuration's protocol.")
@click.option("--endpoint", default=None, help="Base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Run directory; rerunning with the same setup resumes it. Default: runs/<model>__<protocol>__<benchmark>-<split>.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Evaluate only the first N questions of the split.")
@click.option("--concurrency", type=click.IntRange(min=1), default=4, show_default=True,
              help="Questions in flight at once.")
@click.option("--split", default=None, help="Split to evaluate; default: the benchmark's (test).")
@click.option("--images", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Folder of the benchmark images, when they are not beside the data.")
@click.option("--prompt-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Template replacing the protocol's main prompt ($question marks the question).")
@click.option("--max-side", type=click.IntRange(min=16), default=None,
              help="Long side in pixels of the image sent by the direct protocol.")
@click.option("--reference-split", default="train", show_default=True,
              help="Split the majority and random baselines learn answers from.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random baseline.")
@click.option("--api-key-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help=f"File holding the API key; default: the {API_KEY_ENV} environment variable.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=120.0, show_default=True,
              help="Seconds one request may take before it is retried.")
@click.option("--retries", type=click.IntRange(min=0), default=4, show_default=True,
              help="Retries of a request after a rate limit, server error or timeout.")
@click.option("--retry-delay", type=click.FloatRange(min=0.0), default=1.0, show_default=True,
              help="Seconds: upper bound of the random wait before the first retry; doubles with each retry.")
@click.option("--resamples", type=click.IntRange(min=0), default=1000, show_default=True,
              help="Bootstrap resamples for the 95% intervals (0 skips them).")
@click.option("--benchmark-option", "benchmark_options", multiple=True, metavar="KEY=VALUE",
              help="A setting of the benchmark adapter, e.g. subset=superrs for geollava-8k; repeatable.")
def eval_command(**options: Any) -> None:
    """Evaluate a model (or a baseline) on a benchmark split and write a run directory."""
    from tqdm import tqdm

    from lrsgro.eval.runner import EvalSettings, run_eval

    settings = EvalSettings(
        data=options["data"],
        model=options["model"],
        benchmark=options["benchmark"],
        protocol=options["protocol"],
        endpoint=options["endpoint"],
        out=options["out"],
        limit=options["limit"],
        concurrency=options["concurrency"],
        split=options["split"],
        images=options["images"],
        prompt_file=options["prompt_file"],
        max_side=options["max_side"],
        reference_split=options["reference_split"],
        seed=options["seed"],
        api_key=_api_key(options["api_key_file"]),
        retry=RetryPolicy(retries=options["retries"], base_delay_s=options["retry_delay"], timeout_s=options["timeout"]),
        resamples=options["resamples"],
        benchmark_options=_key_values(options["benchmark_options"]),
    )

    bar: tqdm | None = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="q", desc="questions", dynamic_ncols=True)
        bar.update(done - bar.n)

    try:
        summary = run_eval(settings, progress)
    finally:
        if bar is not None:
            bar.close()

    for message in summary.messages:
        console.print(f"[dim]data:[/] {message}", highlight=False)
    console.print(
        f"{summary.selected} questions: {summary.already_done} answered before, {summary.answered} now, "
        f"{summary.failed} failed (rerun to retry them)",
        highlight=False,
    )
    _print_scores(summary.scores, "paper")
    console.print(f"run directory: {summary.out}", highlight=False)


@click.command("score")
@click.argument("target", type=click.Path(exists=True, path_type=Path))
@click.option("--format", "format_", type=click.Choice(["auto", "lrsgro", "zoomearth"]), default="auto",
              show_default=True, help="Layout of TARGET: an lrsgro run directory or predictions file, "
              "or a ZoomEarth result file.")
@click.option("--rule", type=click.Choice(["paper", "robust"]), default="paper", show_default=True,
              help="Which rule's tables to print; scores.json always holds both.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole score report as JSON.")
@click.option("--benchmark", default="lrs-gro", show_default=True,
              help="Benchmark whose rules score the answers, when TARGET has no manifest.")
@click.option("--view-side", type=click.IntRange(min=1), default=512, show_default=True,
              help="Long side in pixels of the view the boxes of a ZoomEarth file refer to.")
@click.option("--resamples", type=click.IntRange(min=0), default=1000, show_default=True,
              help="Bootstrap resamples for the 95% intervals (0 skips them).")
def score(target: Path, format_: str, rule: str, as_json: bool, benchmark: str, view_side: int, resamples: int) -> None:
    """Score a run directory, an lrsgro predictions file or a ZoomEarth result file."""
    from lrsgro.dataset import write_json
    from lrsgro.eval.report import score_records
    from lrsgro.eval.runlog import MANIFEST_FILE, PREDICTIONS_FILE, SCORES_FILE, read_manifest, read_predictions
    from lrsgro.eval.zoomearth_format import looks_like_zoomearth, read_zoomearth_results

    folder = target if target.is_dir() else None
    path = target / PREDICTIONS_FILE if folder is not None else target
    if not path.is_file():
        raise InputError("predictions.jsonl not found", path=target, fix="pass a run directory written by `lrsgro eval`")

    if format_ == "auto":
        format_ = "zoomearth" if looks_like_zoomearth(path) else "lrsgro"
    context: dict[str, Any] = {"source": str(target), "format": format_}
    expected = None
    options: dict[str, str] = {}
    if format_ == "zoomearth":
        records = read_zoomearth_results(path, view_side)
        context.update(benchmark=benchmark, protocol="zoom")
    else:
        records = read_predictions(path)
        manifest_dir = folder if folder is not None else path.parent
        if (manifest_dir / MANIFEST_FILE).is_file():
            manifest = read_manifest(manifest_dir)
            benchmark = manifest.benchmark
            options = manifest.benchmark_options
            expected = max(manifest.questions_selected, len({record.qid for record in records}))
            context.update(benchmark=benchmark, split=manifest.split, model=manifest.model, protocol=manifest.protocol)

    scores = score_records(
        records, benchmark=benchmark, expected=expected, resamples=resamples, context=context, benchmark_options=options
    )
    if folder is not None and format_ == "lrsgro":
        write_json(folder / SCORES_FILE, scores)

    if as_json:
        click.echo(json.dumps(scores, indent=2, sort_keys=True))
        return
    _print_scores(scores, rule)


def _api_key(path: Path | None) -> str | None:
    if path is not None:
        text = path.read_text(encoding="utf-8").strip()
        if not text:
            raise InputError("the API key file is empty", path=path)
        return text.splitlines()[0].strip()
    return os.environ.get(API_KEY_ENV) or None


def _key_values(pairs: tuple[str, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key.strip():
            raise InputError(f"invalid --benchmark-option {pair!r}", fix="write it as KEY=VALUE, e.g. subset=superrs")
        values[key.strip()] = value.strip()
    return values


def _print_scores(scores: dict[str, Any], rule: str) -> None:
    counts = scores["questions"]
    console.print(
        f"questions: {counts['answered']} answered, {counts['errors']} failed (left out of accuracy)"
        + (f", {counts['missing']} not yet asked" if counts.get("missing") else "")
        + (f", {counts['outside_taxonomy']} outside the 17 types (reported apart)" if counts.get("outside_taxonomy") else ""),
        highlight=False,
    )

    tables = scores["rules"][rule]
    other_rules = [name for name in scores["rules"] if name != rule]
    for name, description in scores.get("rule_descriptions", {}).items():
        if description:
            console.print(f"rule {name}: {description}", highlight=False)
    console.print(_accuracy_table(tables["final"], f"accuracy, rule: {rule}"))
    if "stage1" in tables:
        console.print(_accuracy_table(tables["stage1"], f"stage-1 accuracy (before zooming), rule: {rule}", types=False))
    if "outside_taxonomy" in tables:
        console.print(_accuracy_table(tables["outside_taxonomy"], f"categories outside the 17 types, rule: {rule}"))
    for other in other_rules:
        micro = scores["rules"][other]["final"]["micro"]
        console.print(f"micro accuracy, rule {other}: {_percent(micro)}", highlight=False)

    if "roi_iou" in scores:
        for name, label in (("full_resolution", "ROI IoU at full resolution"), ("crop_window", "ROI IoU of the crop window")):
            iou = scores["roi_iou"][name]
            value = "n/a" if iou["mean_iou"] is None else f"{iou['mean_iou']:.3f} [{_fmt(iou['ci_low'])}, {_fmt(iou['ci_high'])}]"
            console.print(f"{label}: {value} over {iou['questions']} questions, {iou['missing_boxes']} without a box", highlight=False)
    if "zoom" in scores:
        zoom = scores["zoom"]
        rate = "n/a" if zoom["zoom_rate"] is None else f"{zoom['zoom_rate']:.1%}"
        console.print(f"zoomed: {zoom['questions_zoomed']} questions ({rate}); changes: {zoom['changes']}", highlight=False)

    cost = scores["cost"]
    console.print(
        "per question: "
        + ", ".join(
            f"{label} {_fmt(cost[key], 1)}"
            for key, label in (
                ("prompt_tokens_per_question", "prompt tokens"),
                ("completion_tokens_per_question", "completion tokens"),
                ("seconds_per_question", "seconds"),
                ("crops_per_question", "crops"),
            )
        ),
        highlight=False,
    )
    if scores["errors"]["questions"]:
        console.print(f"failed requests by kind: {scores['errors']['by_kind']}", highlight=False)


def _accuracy_table(report: dict[str, Any], title: str, types: bool = True) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("group", "accuracy", "95% CI", "n", "no answer", "failed"):
        table.add_column(column, justify="left" if column == "group" else "right")

    def row(name: str, group: dict[str, Any]) -> None:
        table.add_row(
            name,
            _percent(group),
            f"{_fmt_pct(group['ci_low'])}-{_fmt_pct(group['ci_high'])}" if group["ci_low"] is not None else "",
            str(group["counted"]),
            str(group["no_answers"]),
            str(group["errors"]),
        )

    if types:
        for key, group in report["per_type"].items():
            row(f"  {key}", group)
    for level, group in report["per_level"].items():
        row(level, group)
    row("micro", report["micro"])
    for name, macro in (("macro over levels", report["macro_over_levels"]), ("macro over types", report["macro_over_types"])):
        table.add_row(
            name,
            _fmt_pct(macro["accuracy"]),
            f"{_fmt_pct(macro['ci_low'])}-{_fmt_pct(macro['ci_high'])}" if macro["ci_low"] is not None else "",
            f"{macro['groups']} groups",
            "",
            "",
        )
    return table


def _percent(group: dict[str, Any]) -> str:
    return _fmt_pct(group["accuracy"])


def _fmt_pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}%"


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"
