"""The ``replay`` backend: answers read from an existing predictions file.

``replay:FILE`` takes an lrsgro ``predictions.jsonl`` (or a run directory) or a ZoomEarth
result file, and for each question yields the successful records stored there, with answers
extracted again from the raw outputs, so a parser change applies, and the reference values
of the current data. A question absent from the file becomes an error record.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from pathlib import Path

from lrsgro.benchmarks.base import EvalSample
from lrsgro.errors import InputError
from lrsgro.eval.runlog import PREDICTIONS_FILE, PredictionRecord, read_predictions
from lrsgro.eval.zoomearth_format import looks_like_zoomearth, read_zoomearth_results
from lrsgro.scoring.extract import extract

logger = logging.getLogger(__name__)

STAGE_ORDER = ("stage1", "stage2", "answer")


class ReplayAnswerer:
    """Answers copied from a recorded run."""

    name = "replay"

    def __init__(self, source: Path) -> None:
        path = source / PREDICTIONS_FILE if source.is_dir() else source
        if not path.is_file():
            raise InputError("replay file not found", path=path, fix="give replay:FILE with a predictions file")
        zoomearth = looks_like_zoomearth(path)
        records = read_zoomearth_results(path) if zoomearth else read_predictions(path)
        # ZoomEarth files carry the authors' own extracted answers, which stay as published.
        self._reextract = not zoomearth

        self._by_question: dict[str, dict[str, PredictionRecord]] = {}
        for record in records:
            if record.ok:
                self._by_question.setdefault(record.qid, {})[record.stage] = record
        logger.info("replaying %d questions from %s", len(self._by_question), path)

    def answer(self, sample: EvalSample, previous: Mapping[str, PredictionRecord]) -> Iterator[PredictionRecord]:
        stored = self._by_question.get(sample.id)
        if not stored:
            yield PredictionRecord(
                qid=sample.id,
                stage="answer",
                final=False,
                error="question not in the replay file",
                error_kind="input",
                reference=sample.reference(),
            )
            return

        for stage in STAGE_ORDER:
            if stage not in stored or stage in previous:
                continue
            record = stored[stage].model_copy(deep=True)
            record.reference = sample.reference()
            if self._reextract and record.raw_output is not None and record.answer_source != "baseline":
                extraction = extract(record.raw_output)
                record.answer = extraction.answer
                record.answer_source = extraction.source
            yield record
