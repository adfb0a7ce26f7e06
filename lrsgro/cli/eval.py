"""``lrsgro eval`` and ``lrsgro score``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from lrsgro.cli.common import console, error_console
from lrsgro.errors import InputError, LrsgroError
from lrsgro.eval.config import PROTOCOLS
from lrsgro.eval.report import MIN_QUESTIONS_FOR_INTERVAL
from lrsgro.eval.retry import RetryPolicy
from lrsgro.openai_client import API_KEY_ENV, api_key_from_environment, read_api_key_file

# Exit status of a run stopped by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED_EXIT = 130
PROTOCOL_HELP: dict[str, str] = {
    "zoom": "two stages, as ZoomEarth runs: the model sees a downsized view and may name a box; "
    "the full-resolution crop of that box is sent next and the model answers again",
    "direct": "one request with the whole image downsized to --max-side pixels on its long side",
    "blind": "the question without any image, which measures the language prior",
    "oracle-crop": "the downsized view plus the crop around the reference region of interest: "
    "an upper bound on what perfect zooming gives",
}
MODEL_SPECS: dict[str, str] = {
    "openai:NAME": "model NAME on an OpenAI-compatible server at --endpoint (vLLM, SGLang, a hosted API)",
    "transformers:PATH": "local weights in folder PATH, run with transformers",
    "replay:FILE": "the answers of an lrsgro predictions file (or run directory) or a ZoomEarth result file, "
    "scored again",
    "majority": "model-free baseline: the most common --reference-split answer of each question type, "
    "or of the options a question offers",
    "random": "model-free baseline: a seeded uniform choice among the type's answers or the options",
}


class EvalCommand(click.Command):
    """``lrsgro eval`` whose help lists the protocols, benchmarks and models after the options.

    The benchmark and model lists are read only when the help is shown, so importing the
    CLI loads no adapter and reads no configuration file.
    """

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from lrsgro.benchmarks import benchmark_names, get_benchmark

        with formatter.section("Protocols (--protocol)"):
            formatter.write_dl(list(PROTOCOL_HELP.items()))
        with formatter.section("Benchmarks (--benchmark)"):
            formatter.write_dl([(name, get_benchmark(name).description) for name in benchmark_names()])
        with formatter.section("Models (--model): files in eval/models, or a spec"):
            formatter.write_dl([*_model_rows(), *MODEL_SPECS.items()])
        super().format_epilog(ctx, formatter)


@click.command("eval", cls=EvalCommand)
@click.option("--benchmark", default="lrs-gro", show_default=True,
              help="Benchmark adapter name; the names are listed below.")
@click.option("--data", "data", type=click.Path(exists=True, path_type=Path), required=True,
              help="Benchmark data: a folder from `lrsgro build`, a release JSONL file or a Hugging Face folder. "
              "For the zero-shot benchmarks, a question file or a folder holding the files of the published "
              "layouts; the file names, record fields and image paths each benchmark accepts are described in "
              "the README section \"Zero-shot benchmarks\".")
@click.option("--model", required=True,
              help="A name from eval/models (e.g. zoomearth-3b) or a spec: openai:NAME, transformers:PATH, "
              "replay:FILE, majority, random; all are listed below.")
@click.option("--protocol", type=click.Choice(PROTOCOLS), default=None,
              help="How questions are asked, described below; default: the model configuration's protocol.")
@click.option("--endpoint", default=None, help="Base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Run directory; rerunning with the same setup resumes it. Default: runs/<model>__<protocol>__<benchmark>-<split>.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Evaluate only the first N questions of the split.")
@click.option("--concurrency", type=click.IntRange(min=1), default=4, show_default=True,
              help="Questions in flight at once.")
@click.option("--split", default=None, help="Split to evaluate; default: the benchmark's (test).")
@click.option("--images", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Folder of the benchmark images, when they are not beside the data; image paths in the "
              "records are then resolved against this folder alone.")
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
    """Evaluate a model (or a baseline) on a benchmark split and write a run directory.

    Each answer is saved as it arrives. After Ctrl-C or a crash, rerunning the same command
    resumes the run and asks only the questions not yet answered.
    """
    from tqdm import tqdm

    from lrsgro.eval.runner import EvalSettings, run_directory, run_eval

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
    settings.out = run_directory(settings)

    bar: tqdm | None = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="q", desc="questions", dynamic_ncols=True)
        bar.update(done - bar.n)

    try:
        try:
            summary = run_eval(settings, progress)
        finally:
            if bar is not None:
                bar.close()
    except KeyboardInterrupt:
        _print_interrupted(settings.out)
        raise click.exceptions.Exit(INTERRUPTED_EXIT) from None

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
    in_split = None
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
            in_split = manifest.questions_in_split
            context.update(benchmark=benchmark, split=manifest.split, model=manifest.model, protocol=manifest.protocol)

    scores = score_records(
        records,
        benchmark=benchmark,
        expected=expected,
        resamples=resamples,
        context=context,
        benchmark_options=options,
        in_split=in_split,
    )
    if folder is not None and format_ == "lrsgro":
        write_json(folder / SCORES_FILE, scores)

    if as_json:
        click.echo(json.dumps(scores, indent=2, sort_keys=True))
        return
    _print_scores(scores, rule)


def _print_interrupted(out: Path) -> None:
    """Tell the user what an interrupted run kept and how to resume it."""
    from lrsgro.eval.runlog import PREDICTIONS_FILE, done_questions, read_predictions

    path = out / PREDICTIONS_FILE
    try:
        answered = len(done_questions(read_predictions(path))) if path.is_file() else 0
    except LrsgroError:
        answered = None
    if answered == 0:
        saved = f"no answer was saved yet in {out}"
    elif answered is None:
        saved = f"the predictions so far are saved in {out}"
    else:
        saved = f"{answered} answered questions are saved in {out}"
    error_console.print(
        f"interrupted: {saved}. Rerun the same command to resume; answered questions are not asked again.",
        highlight=False,
        markup=False,
    )


def _model_rows() -> list[tuple[str, str]]:
    """Return (name, description) of each model configuration file, for the help text."""
    from lrsgro.eval.config import load_model_config, model_names, models_dir

    rows = []
    for name in model_names():
        try:
            description = load_model_config(models_dir() / f"{name}.yaml").description or ""
        except InputError as error:
            description = f"(invalid configuration: {error.reason})"
        rows.append((name, description))
    return rows


def _api_key(path: Path | None) -> str | None:
    if path is not None:
        return read_api_key_file(path, "--api-key-file")
    return api_key_from_environment()


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
            value = "n/a" if iou["mean_iou"] is None else f"{iou['mean_iou']:.3f}"
            if iou["mean_iou"] is not None and iou["ci_low"] is not None:
                if iou["questions"] < MIN_QUESTIONS_FOR_INTERVAL:
                    value += f" [n<{MIN_QUESTIONS_FOR_INTERVAL}]"
                else:
                    value += f" [{_fmt(iou['ci_low'])}, {_fmt(iou['ci_high'])}]"
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
    """Return the accuracy table; each interval sits beside the question count it rests on."""
    table = Table(title=title, title_justify="left")
    for column in ("group", "accuracy", "95% CI", "n", "no answer", "failed"):
        table.add_column(column, justify="left" if column == "group" else "right")

    def row(name: str, group: dict[str, Any]) -> None:
        table.add_row(
            name,
            _percent(group),
            _interval(group["ci_low"], group["ci_high"], group["counted"]),
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
    # A macro average rests on the same questions as the micro one, split into groups.
    questions = report["micro"]["counted"]
    for unit in ("level", "type"):
        macro = report[f"macro_over_{unit}s"]
        groups = f"{macro['groups']} {unit}" + ("" if macro["groups"] == 1 else "s")
        table.add_row(
            f"macro over {unit}s",
            _fmt_pct(macro["accuracy"]),
            _interval(macro["ci_low"], macro["ci_high"], questions),
            f"{questions} ({groups})",
            "",
            "",
        )
    return table


def _interval(low: float | None, high: float | None, questions: int) -> str:
    """Return "low-high" in percent; "n<5" when so few questions make the interval meaningless."""
    if low is None or high is None:
        return ""
    if questions < MIN_QUESTIONS_FOR_INTERVAL:
        return f"n<{MIN_QUESTIONS_FOR_INTERVAL}"
    return f"{_fmt_pct(low)}-{_fmt_pct(high)}"


def _percent(group: dict[str, Any]) -> str:
    return _fmt_pct(group["accuracy"])


def _fmt_pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}%"


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"
