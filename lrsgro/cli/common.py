"""Printing helpers shared by the subcommands: only the CLI prints."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

console = Console(soft_wrap=True)
error_console = Console(stderr=True, soft_wrap=True)


def print_error(message: str) -> None:
    """Print an error message to standard error."""
    error_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)


@contextmanager
def progress_callback() -> Iterator[Callable[[str, int, int], None]]:
    """Yield a ``progress(stage, done, total)`` callback that draws one rich bar per stage."""
    bars: dict[str, TaskID] = {}
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=error_console, transient=False,
    ) as progress:

        def update(stage: str, done: int, total: int) -> None:
            if stage not in bars:
                bars[stage] = progress.add_task(stage, total=total)
            progress.update(bars[stage], completed=done, total=total)

        yield update
