"""Printing helpers shared by the subcommands: only the CLI prints."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

console = Console()
error_console = Console(stderr=True)


def print_error(message: str) -> None:
    """Print an error message to standard error."""
    error_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
