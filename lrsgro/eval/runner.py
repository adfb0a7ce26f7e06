"""Run one evaluation: load the benchmark, check inputs, ask every question once, score.

The runner writes each record to the run log as it arrives (see :mod:`lrsgro.eval.runlog`),
so an interrupted run resumes where it stopped. Questions run on a bounded thread pool; each
request has its own timeout and retries (:mod:`lrsgro.eval.retry`).
"""

from __future__ import annotations

import logging
import re
import subprocess
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lrsgro import __version__
from lrsgro.benchmarks import get_benchmark
from lrsgro.benchmarks.base import BenchmarkData, EvalSample, fingerprint
from lrsgro.dataset import write_json
from lrsgro.errors import InputError, LrsgroError
from lrsgro.eval.backends.base import ChatBackend
from lrsgro.eval.baselines import MajorityBaseline, RandomBaseline, choose_reference
from lrsgro.eval.config import ModelConfig, resolve_model, sanitize_endpoint
from lrsgro.eval.inputs import ImageStore, preflight
from lrsgro.eval.prompts import load_templates, templates_hash
from lrsgro.eval.protocols import Answerer, ProtocolContext, make_protocol
from lrsgro.eval.replay import ReplayAnswerer
from lrsgro.eval.report import score_records
from lrsgro.eval.retry import RetryPolicy
from lrsgro.eval.runlog import SCORES_FILE, PredictionRecord, RunLog, RunManifest, done_questions, latest_by_stage

logger = logging.getLogger(__name__)

DEFAULT_RUNS_DIR = Path("runs")
DEFAULT_CONCURRENCY = 4


@dataclass
class EvalSettings:
    """Everything ``lrsgro eval`` is asked to do.

    Attributes:
        data: the benchmark files.
        model: a configuration name or a spec (see :func:`lrsgro.eval.config.resolve_model`).
        benchmark: the adapter name.
        protocol: ``zoom``, ``direct``, ``blind`` or ``oracle-crop``; the model's default when None.
        endpoint: the server URL for ``openai`` models; the configuration's when None.
        out: the run directory; ``runs/<model>__<protocol>__<benchmark>-<split>`` when None.
        limit: evaluate only the first ``limit`` questions of the split.
        concurrency: questions in flight at once.
        split: the split to evaluate; the adapter's default when None.
        images: the folder of benchmark images, when not where the adapter looks.
        prompt_file: a template replacing the protocol's main prompt.
        max_side: long side in pixels of the image in ``direct``; the model's when None.
        reference_split: the split baselines learn from.
        seed: the seed of the ``random`` baseline.
        api_key: the API key; never stored.
        retry: retries and timeout of each request.
        resamples: bootstrap resamples for the score intervals.
        benchmark_options: adapter settings given as ``--benchmark-option KEY=VALUE``.
    """

    data: Path
    model: str
    benchmark: str = "lrs-gro"
    protocol: str | None = None
    endpoint: str | None = None
    out: Path | None = None
    limit: int | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    split: str | None = None
    images: Path | None = None
    prompt_file: Path | None = None
    max_side: int | None = None
    reference_split: str = "train"
    seed: int = 0
    api_key: str | None = field(default=None, repr=False)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    resamples: int = 1000
    benchmark_options: dict[str, str] = field(default_factory=dict)


@dataclass
class RunSummary:
    """What one invocation did.

    Attributes:
        out: the run directory.
        selected: questions selected (after ``--limit``).
        already_done: questions answered by an earlier invocation and skipped.
        answered: questions answered now.
        failed: questions whose requests failed now (error records).
        scores: the content of ``scores.json``.
        messages: notes for the user (normalised noise, fallbacks).
    """

    out: Path
    selected: int
    already_done: int
    answered: int
    failed: int
    scores: dict[str, Any]
    messages: list[str] = field(default_factory=list)


ProgressCallback = Callable[[int, int], None]


def run_eval(settings: EvalSettings, progress: ProgressCallback | None = None) -> RunSummary:
    """Evaluate a model on a benchmark split, resuming the run directory if it exists.

    ``progress(done, total)`` is called after each question of this invocation.

    Raises:
        InputError: bad settings or data, a run directory holding another setup, or inputs
            that fail the pre-flight check. Nothing is sent to a model before these checks.
    """
    model = resolve_model(settings.model)
    protocol = _protocol(settings, model)
    if model.model_free and settings.protocol not in (None, "none"):
        logger.warning("%s needs no model, so --protocol %s is ignored", model.name, settings.protocol)
    adapter = get_benchmark(settings.benchmark).with_options(settings.benchmark_options)
    split = (settings.split or adapter.default_split).lower()
    if settings.concurrency < 1:
        raise InputError(f"concurrency must be at least 1, got {settings.concurrency}")

    data = adapter.load(Path(settings.data), None if model.model_free else [split], settings.images)
    samples = data.split(split)
    if not samples:
        raise InputError(
            f"split {split!r} has no questions",
            path=settings.data,
            fix=f"use --split with one of: {', '.join(data.splits) or '(none)'}",
        )
    selected = samples[: settings.limit] if settings.limit is not None else samples
    messages = [f"{note.message}: {note.count}" for note in data.notes.values()]

    direct_side = settings.max_side or model.direct_side
    templates = load_templates(protocol, settings.prompt_file) if not model.model_free and model.backend != "replay" else {}
    answerer, backend, baseline = _answerer(settings, model, protocol, data, split, templates, direct_side, messages)
    try:
        manifest = _manifest(settings, model, protocol, split, data, samples, selected, templates, direct_side, backend, baseline)
        if settings.out is not None:
            out = Path(settings.out)
        else:
            out = _default_run_dir(settings.model, protocol, adapter.name, split)
        if backend is not None:
            preflight(selected, protocol, model, direct_side)

        with RunLog.open(Path(out), manifest) as log:
            done = done_questions(log.records)
            previous = latest_by_stage(log.records)
            pending = [sample for sample in selected if sample.id not in done]
            logger.info("%d questions selected, %d already answered, %d to ask", len(selected), len(selected) - len(pending), len(pending))

            answered, failed = _ask_all(answerer, pending, previous, log, settings.concurrency, progress)
            expected = len({sample.id for sample in selected} | {record.qid for record in log.records})
            scores = score_records(
                log.records,
                benchmark=adapter.name,
                expected=expected,
                resamples=settings.resamples,
                context=_score_context(log.manifest),
                benchmark_options=log.manifest.benchmark_options,
                in_split=len(samples),
            )
            write_json(Path(out) / SCORES_FILE, scores)
    finally:
        if backend is not None:
            backend.close()

    return RunSummary(Path(out), len(selected), len(selected) - len(pending), answered, failed, scores, messages)


def run_directory(settings: EvalSettings) -> Path:
    """Return the run directory ``run_eval`` writes for ``settings``, without loading any data.

    Raises:
        InputError: the model or the benchmark is unknown.
    """
    if settings.out is not None:
        return Path(settings.out)
    model = resolve_model(settings.model)
    adapter = get_benchmark(settings.benchmark)
    split = (settings.split or adapter.default_split).lower()
    return _default_run_dir(settings.model, _protocol(settings, model), adapter.name, split)


def git_commit() -> str | None:
    """Return the commit of the lrsgro source tree, or None outside a git checkout."""
    source = Path(__file__).resolve().parents[2]
    if not (source / ".git").exists():
        return None
    try:
        result = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


def _protocol(settings: EvalSettings, model: ModelConfig) -> str:
    if model.model_free:
        return "none"
    return settings.protocol or model.default_protocol()


def _answerer(
    settings: EvalSettings,
    model: ModelConfig,
    protocol: str,
    data: BenchmarkData,
    split: str,
    templates: dict,
    direct_side: int,
    messages: list[str],
) -> tuple[Answerer, ChatBackend | None, dict[str, Any]]:
    """Return the answerer, the chat backend it uses (if any) and baseline settings."""
    if model.model_free:
        choice = choose_reference(data, split, settings.reference_split, model.backend)
        if choice.message:
            # The caller shows the messages (the CLI prints each once), so it is not logged too.
            messages.append(choice.message)
        baseline = {"reference_split": choice.split, "reference_questions": len(choice.samples)}
        if model.backend == "majority":
            return MajorityBaseline(choice.samples), None, baseline
        baseline["seed"] = settings.seed
        return RandomBaseline(choice.samples, settings.seed), None, baseline

    if model.backend == "replay":
        return ReplayAnswerer(Path(model.served_model or "")), None, {}

    backend = _chat_backend(settings, model)
    context = ProtocolContext(backend, model, templates, ImageStore(), settings.retry, direct_side)
    return make_protocol(protocol, context), backend, {}


def _chat_backend(settings: EvalSettings, model: ModelConfig) -> ChatBackend:
    if model.backend == "openai":
        from lrsgro.eval.backends.openai_chat import OpenAIChatBackend

        endpoint = settings.endpoint or model.endpoint
        if not endpoint:
            raise InputError(f"model {model.name!r} needs a server URL", fix="pass --endpoint, e.g. http://127.0.0.1:8000/v1")
        served = model.served_model or model.name
        return OpenAIChatBackend(endpoint, served, settings.api_key, model.decoding, model.extra_body)

    from lrsgro.eval.backends.local_transformers import TransformersBackend

    return TransformersBackend(Path(model.served_model or ""), model.decoding)


def _manifest(
    settings: EvalSettings,
    model: ModelConfig,
    protocol: str,
    split: str,
    data: BenchmarkData,
    samples: list[EvalSample],
    selected: list[EvalSample],
    templates: dict,
    direct_side: int,
    backend: ChatBackend | None,
    baseline: dict[str, Any],
) -> RunManifest:
    description = backend.describe() if backend is not None else {}
    uses_images = backend is not None and protocol != "blind"
    return RunManifest(
        benchmark=data.benchmark,
        benchmark_options=dict(settings.benchmark_options),
        data=str(settings.data),
        split=split,
        dataset_fingerprint=fingerprint(samples),
        questions_selected=len(selected),
        questions_in_split=len(samples),
        model=settings.model,
        backend=model.backend,
        served_model=description.get("served_model") or model.served_model,
        endpoint=description.get("endpoint") or sanitize_endpoint(settings.endpoint),
        protocol=protocol,
        prompt_hash=templates_hash(templates),
        prompts={name: template.sha256 for name, template in templates.items()},
        pixel_limits=(
            {
                "max_pixels": model.max_pixels,
                "view_side": model.view_side if protocol in ("zoom", "oracle-crop") else None,
                "crop_side": model.crop_side if protocol in ("zoom", "oracle-crop") else None,
                "min_crop_side": model.min_crop_side if protocol in ("zoom", "oracle-crop") else None,
                "direct_side": direct_side if protocol == "direct" else None,
            }
            if uses_images
            else {}
        ),
        decoding=model.decoding.model_dump() if backend is not None else {},
        box_convention=model.box_convention if protocol == "zoom" else None,
        baseline=baseline,
        lrsgro_version=__version__,
        git_commit=git_commit(),
        data_notes=[asdict(note) for note in data.notes.values()],
    )


def _ask_all(
    answerer: Answerer,
    pending: list[EvalSample],
    previous: dict[str, dict[str, PredictionRecord]],
    log: RunLog,
    concurrency: int,
    progress: ProgressCallback | None,
) -> tuple[int, int]:
    """Answer ``pending`` on a thread pool of ``concurrency``; return (answered, failed)."""

    def work(sample: EvalSample) -> bool:
        try:
            for record in answerer.answer(sample, previous.get(sample.id, {})):
                log.append(record)
                if not record.ok:
                    return False
        except LrsgroError as error:
            logger.warning("question %s failed: %s", sample.id, error)
            log.append(
                PredictionRecord(
                    qid=sample.id,
                    stage="answer",
                    final=False,
                    error=str(error),
                    error_kind="input",
                    reference=sample.reference(),
                )
            )
            return False
        return True

    answered = failed = 0
    executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="lrsgro-eval")
    queue = iter(pending)
    running: set[Future[bool]] = set()
    try:
        # Keep at most ``concurrency`` questions submitted, so an interrupt leaves few in flight.
        for sample in queue:
            running.add(executor.submit(work, sample))
            if len(running) >= concurrency:
                break
        while running:
            try:
                finished, running = wait(running, return_when=FIRST_COMPLETED)
            except KeyboardInterrupt:
                logger.warning("interrupted: waiting for the %d questions in flight to finish", len(running))
                raise
            for future in finished:
                if future.result():
                    answered += 1
                else:
                    failed += 1
                if progress is not None:
                    progress(answered + failed, len(pending))
                following = next(queue, None)
                if following is not None:
                    running.add(executor.submit(work, following))
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    return answered, failed


def _score_context(manifest: RunManifest) -> dict[str, Any]:
    return {
        "benchmark": manifest.benchmark,
        "split": manifest.split,
        "model": manifest.model,
        "protocol": manifest.protocol,
        "dataset_fingerprint": manifest.dataset_fingerprint,
    }


def _default_run_dir(model: str, protocol: str, benchmark: str, split: str) -> Path:
    safe_model = re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("_") or "model"
    return DEFAULT_RUNS_DIR / f"{safe_model}__{protocol}__{benchmark}-{split}"
