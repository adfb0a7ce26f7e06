"""The ``lrsgro`` command line: a thin layer over library calls.

Each subcommand lives in its own module here and is registered in :data:`COMMANDS`. Errors
that lrsgro raises on purpose are printed as one readable message, never as a traceback.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

from lrsgro import __version__
from lrsgro.cli.common import console, print_error
from lrsgro.errors import LrsgroError

# (module in lrsgro.cli, attribute): each attribute is a click command or group.
COMMANDS: list[tuple[str, str]] = [
    ("build", "build"),
    ("build", "demo"),
    ("validate", "validate"),
    ("labels", "labels"),
    ("push", "push"),
    ("eval", "eval_command"),
    ("eval", "score"),
    ("leaderboard", "leaderboard"),
    ("review", "review"),
]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="lrsgro")
@click.option("-v", "--verbose", count=True, help="Log more: -v for info, -vv for debug.")
def cli(verbose: int) -> None:
    """Build, review, publish and evaluate LRS-GRO-style VQA benchmarks for UHR remote sensing."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _register() -> None:
    for module_name, attribute in COMMANDS:
        module = importlib.import_module(f"lrsgro.cli.{module_name}")
        cli.add_command(getattr(module, attribute))


_register()


def main() -> None:
    """Run the CLI; turn lrsgro errors into a message and exit status 2."""
    try:
        # Without standalone mode click returns the code of ctx.exit(code) instead of exiting.
        result = cli.main(standalone_mode=False)
        if isinstance(result, int) and result:
            sys.exit(result)
    except click.exceptions.Abort as abort:
        # Click turns Ctrl-C into Abort; a refused confirmation prompt is an Abort too.
        if isinstance(abort.__cause__, KeyboardInterrupt):
            print_error("interrupted; files already written are kept")
        else:
            console.print("aborted")
        sys.exit(130)
    except click.exceptions.Exit as exit_:
        sys.exit(exit_.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except LrsgroError as error:
        print_error(str(error))
        sys.exit(2)
    except KeyboardInterrupt:
        print_error("interrupted; files already written are kept")
        sys.exit(130)
