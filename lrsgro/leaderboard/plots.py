"""PNG plots of a benchmark's runs, drawn with matplotlib's Agg canvas (no display needed).

* per-type accuracy: horizontal bars, one group per type and one bar per run;
* accuracy against cost per question: micro accuracy over tokens and over seconds per
  question, with model-free and blind baselines drawn as horizontal lines.

Figures are built with ``matplotlib.figure.Figure`` and never through pyplot, so plotting
leaves the process's backend and global figure list alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lrsgro.leaderboard.layout import ordered_runs, type_rows
from lrsgro.leaderboard.runs import Accuracy, RunSummary

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_DPI = 100
_BASELINE_STYLES = {"blind": ":", "majority": "--", "random": "-."}


def plot_per_type(benchmark: str, runs: list[RunSummary], path: Path) -> None:
    """Write grouped horizontal bars of per-type accuracy (percent), one bar per run."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ordered = ordered_runs(runs)
    types = type_rows(benchmark, runs)
    bar_height = 0.8 / max(1, len(ordered))
    figure = Figure(figsize=(10, 1.2 + 0.28 * len(types) * max(1, len(ordered)) ** 0.5), dpi=_DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()

    for index, run in enumerate(ordered):
        values = [_percent(run.per_type.get(key, Accuracy()).accuracy) for key in types]
        offsets = [row + (index - (len(ordered) - 1) / 2) * bar_height for row in range(len(types))]
        hatch = "//" if run.baseline else None
        axes.barh(offsets, values, height=bar_height, label=_label(run, ordered), hatch=hatch)

    axes.set_yticks(range(len(types)), [key.replace("/", ": ", 1) for key in types], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.set_xlabel("accuracy (%)")
    axes.set_title(f"{benchmark}: accuracy per question type")
    axes.grid(axis="x", alpha=0.3)
    axes.legend(fontsize=7, loc="lower right")
    figure.tight_layout()
    _save(figure, path)


def plot_cost(benchmark: str, runs: list[RunSummary], path: Path) -> None:
    """Write micro accuracy against tokens and against seconds per question."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ordered = ordered_runs(runs)
    figure = Figure(figsize=(11, 4.5), dpi=_DPI)
    FigureCanvasAgg(figure)
    panels = figure.subplots(1, 2)

    for axes, attribute, unit in ((panels[0], "tokens", "tokens per question"), (panels[1], "seconds", "seconds per question")):
        costs = [getattr(run.cost, attribute) for run in ordered if getattr(run.cost, attribute) is not None]
        for run in ordered:
            accuracy = run.micro.accuracy
            cost = getattr(run.cost, attribute)
            if accuracy is None:
                continue
            if run.baseline in ("majority", "random") or cost is None:
                # A baseline with no cost (or unknown cost) is a level to beat, not a point.
                style = _BASELINE_STYLES.get(run.baseline or "", "-")
                axes.axhline(100 * accuracy, linestyle=style, linewidth=1, color="grey")
                axes.annotate(_label(run, ordered), (0, 100 * accuracy), xycoords=("axes fraction", "data"),
                              fontsize=7, color="grey", xytext=(2, 2), textcoords="offset points")
                continue
            marker = "s" if run.baseline == "blind" else "o"
            axes.scatter([cost], [100 * accuracy], marker=marker)
            axes.annotate(_label(run, ordered), (cost, 100 * accuracy), fontsize=7,
                          xytext=(4, 4), textcoords="offset points")
        axes.set_xlabel(unit)
        axes.set_ylabel("micro accuracy (%)")
        accuracies = [100 * run.micro.accuracy for run in ordered if run.micro.accuracy is not None]
        axes.set_ylim(0, min(100.0, max(accuracies, default=100.0) + 15.0))
        # Room on the right for the labels of the costliest runs.
        axes.set_xlim(0, 1.3 * max(costs) if costs and max(costs) > 0 else 1.0)
        axes.grid(alpha=0.3)

    figure.suptitle(f"{benchmark}: accuracy against cost per question")
    figure.tight_layout()
    _save(figure, path)


def _label(run: RunSummary, runs: list[RunSummary]) -> str:
    # Two runs with one label (same model and protocol) are distinguished by their run ids.
    if sum(other.label == run.label for other in runs) > 1:
        return f"{run.label} [{run.run_id}]"
    return run.label


def _percent(value: float | None) -> float:
    return 0.0 if value is None else 100 * value


def _save(figure: Figure, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Dropping the Software entry keeps the matplotlib version out of the file.
    figure.savefig(path, format="png", metadata={"Software": None})
