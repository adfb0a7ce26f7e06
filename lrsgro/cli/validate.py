"""``lrsgro validate``."""

from __future__ import annotations

import click


@click.command()
def validate() -> None:
    """Check a dataset folder."""
    raise click.ClickException("not implemented yet")
