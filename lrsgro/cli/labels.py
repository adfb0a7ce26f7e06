"""``lrsgro labels``."""

from __future__ import annotations

import click


@click.group()
def labels() -> None:
    """Look at label files without building."""
