"""`lrsgro eval --help` lists what --protocol, --benchmark and --model accept."""

from __future__ import annotations

from click.testing import CliRunner

from lrsgro.benchmarks import benchmark_names
from lrsgro.cli import cli
from lrsgro.eval.config import PROTOCOLS, model_names, models_dir


def help_text() -> str:
    result = CliRunner().invoke(cli, ["eval", "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    return result.output


def definition_lines(text: str, section: str) -> dict[str, str]:
    """Return {term: description} of one help section, read up to the next blank line."""
    lines = text.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith(section))
    entries: dict[str, str] = {}
    term = ""
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        if line.startswith("   "):
            # A wrapped description continues on a deeper-indented line.
            entries[term] += " " + line.strip()
            continue
        term, _, description = line.strip().partition("  ")
        entries[term] = description.strip()
    return entries


def test_help_describes_each_protocol() -> None:
    protocols = definition_lines(help_text(), "Protocols")

    assert sorted(protocols) == sorted(PROTOCOLS)
    for name, description in protocols.items():
        assert len(description.split()) >= 5, name
    assert "crop" in protocols["zoom"]
    assert "without any image" in protocols["blind"]


def test_help_lists_benchmark_names() -> None:
    benchmarks = definition_lines(help_text(), "Benchmarks")

    assert sorted(benchmarks) == benchmark_names()
    assert "lrs-gro" in benchmarks


def test_help_lists_models_and_specs() -> None:
    models = definition_lines(help_text(), "Models")

    configured = sorted(path.stem for path in models_dir().glob("*.yaml"))
    assert configured
    assert model_names() == configured
    for name in [*configured, "openai:NAME", "transformers:PATH", "replay:FILE", "majority", "random"]:
        assert name in models, name
        assert models[name], name
