"""``lrsgro build`` and ``lrsgro demo``."""

from __future__ import annotations

import click


@click.command()
def build() -> None:
    """Build an LRS-GRO-style dataset from labels and images."""
    raise click.ClickException("not implemented yet")


@click.command()
def demo() -> None:
    """Generate the embedded demo scene and build a dataset from it."""
    raise click.ClickException("not implemented yet")
