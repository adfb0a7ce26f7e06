"""Evaluation of vision-language models on LRS-GRO and other UHR benchmarks.

* :mod:`~lrsgro.eval.runner`: ``run_eval``, the whole run;
* :mod:`~lrsgro.eval.protocols`: zoom, direct, blind and oracle-crop;
* :mod:`~lrsgro.eval.backends`: OpenAI-compatible servers and local transformers;
* :mod:`~lrsgro.eval.baselines`, :mod:`~lrsgro.eval.replay`: answers without a model;
* :mod:`~lrsgro.eval.runlog`: manifest, predictions and resumption;
* :mod:`~lrsgro.eval.report`: the score tables; :mod:`~lrsgro.eval.demo`: ``run_baselines``.
"""

from lrsgro.eval.demo import BaselineRow, BaselineTable, run_baselines
from lrsgro.eval.runner import EvalSettings, RunSummary, run_eval

__all__ = ["BaselineRow", "BaselineTable", "EvalSettings", "RunSummary", "run_baselines", "run_eval"]
