"""``lrsgro labels``: look at label files without building.

``lrsgro labels inspect PATH`` reads one label file and prints the format (given or guessed),
the number of objects, the objects per class, and every warning and error with its file and
line or record. Exit status: 0 when the file was read, even with invalid records listed as
errors; 2 when it was rejected (missing, unknown format, not parseable, an image that cannot
be opened, or every record invalid).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click

from lrsgro.cli.common import console
from lrsgro.errors import InputError, LrsgroError
from lrsgro.formats import readers
from lrsgro.formats.base import DEFAULT_CLASS_PROPERTIES, ReadContext, read_image_header
from lrsgro.formats.report import LabelReport, inspect_labels
from lrsgro.vocab import load_classes

logger = logging.getLogger(__name__)

EXIT_READ = 0
EXIT_REJECTED = 2


@click.group()
def labels() -> None:
    """Look at label files without building."""


@labels.command("formats")
def formats() -> None:
    """List the label formats that --format accepts."""
    modules = readers()
    width = max(len(name) for name in modules)
    for name, module in modules.items():
        _line(f"{name:<{width}}  {module.DESCRIPTION}")


@labels.command("classes")
def classes() -> None:
    """List the vocabulary's classes with their parent class and accepted spellings.

    The vocabulary is annotation/vocab/classes.yaml; set LRSGRO_ANNOTATION_DIR to a copy of
    the annotation folder to add classes without editing the installed package.
    """
    vocabulary = load_classes()
    width = max(len(name) for name in vocabulary.classes)
    for name in sorted(vocabulary.classes):
        info = vocabulary.classes[name]
        parent = f"  (parent: {info.parent})" if info.parent else ""
        aliases = f"  aliases: {', '.join(info.aliases)}" if info.aliases else ""
        _line(f"{name:<{width}}{parent}{aliases}")


@labels.command("inspect")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "format_name",
    default="auto",
    show_default=True,
    help="Reader to use, by name ('lrsgro labels formats' lists them), or auto to guess it from the "
    "file's content.",
)
@click.option(
    "--image",
    type=click.Path(path_type=Path),
    default=None,
    help="Image the labels belong to: its width and height (pixels) clip the objects, and its "
    "CRS and geotransform place GeoJSON labels. Only the header is read.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option(
    "--class-map",
    "class_map",
    multiple=True,
    metavar="FROM=TO",
    help="Read the class FROM as the vocabulary class TO; repeat for more classes.",
)
@click.option(
    "--class-property",
    "class_properties",
    multiple=True,
    metavar="NAME",
    help="GeoJSON feature property that names the class, tried in the order given "
    f"(default: {', '.join(DEFAULT_CLASS_PROPERTIES)}).",
)
@click.option(
    "--default-class",
    default=None,
    metavar="CLASS",
    help="Class of GeoJSON features that have none of the class properties.",
)
@click.option(
    "--names",
    "names_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Class-name file of YOLO-OBB labels (data.yaml with names: or classes.txt); "
    "by default it is looked for beside the labels.",
)
def inspect(
    path: Path,
    format_name: str,
    image: Path | None,
    as_json: bool,
    class_map: tuple[str, ...],
    class_properties: tuple[str, ...],
    default_class: str | None,
    names_file: Path | None,
) -> None:
    """Read one label file and print its format, objects per class, warnings and errors.

    Exits with 0 when the file was read (invalid records are listed as errors) and with 2
    when it was rejected.
    """
    report = _inspect(path, format_name, image, class_map, class_properties, default_class, names_file)

    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_report(report)

    # SystemExit rather than ctx.exit: lrsgro's entry point runs click with
    # standalone_mode=False, where click returns the code of ctx.exit instead of exiting.
    raise SystemExit(EXIT_REJECTED if report.status == "rejected" else EXIT_READ)


def _inspect(
    path: Path,
    format_name: str,
    image: Path | None,
    class_map: tuple[str, ...],
    class_properties: tuple[str, ...],
    default_class: str | None,
    names_file: Path | None,
) -> LabelReport:
    """Build the report; input errors and parsing failures become a rejected report instead of a traceback."""
    try:
        context = _context(path, image, class_map, class_properties, default_class, names_file)
        return inspect_labels(path, format_name, context)
    except InputError as error:
        return _rejected(path, format_name, error)
    except (LrsgroError, OSError, ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as error:
        logger.debug("reading %s failed", path, exc_info=True)
        return _rejected(
            path,
            format_name,
            InputError(
                f"reading failed: {type(error).__name__}: {error}",
                path=path,
                fix="run with -vv to see the traceback",
            ),
        )


def _context(
    path: Path,
    image: Path | None,
    class_map: tuple[str, ...],
    class_properties: tuple[str, ...],
    default_class: str | None,
    names_file: Path | None,
) -> ReadContext:
    mapping: dict[str, str] = {}
    for entry in class_map:
        source, separator, target = entry.partition("=")
        if not separator or not source.strip() or not target.strip():
            raise InputError(f"--class-map value {entry!r} is not FROM=TO", path=path, fix="write e.g. car=small car")
        mapping[source.strip()] = target.strip()

    context = ReadContext(class_map=mapping, default_class=default_class, names_file=names_file)
    if class_properties:
        context.class_properties = tuple(class_properties)
    if image is not None:
        header = read_image_header(image)
        context.image_path = header.path
        context.image_size = (header.width, header.height)
    return context


def _rejected(path: Path, format_name: str, error: InputError) -> LabelReport:
    return LabelReport(
        path=path,
        format=None if format_name == "auto" else format_name,
        guessed=format_name == "auto",
        status="rejected",
        rejection=error,
    )


def _print_report(report: LabelReport) -> None:
    _line(f"file: {report.path}")
    if report.format is None:
        _line("format: unknown")
    elif report.guessed:
        _line(f"format: {report.format} (guessed from the content, score {report.score})")
    else:
        _line(f"format: {report.format} (given)")

    if report.status == "rejected":
        _line(f"status: rejected: {report.rejection}")
    else:
        _line("status: read")

    _line(f"images: {len(report.images)}")
    _line(f"objects: {report.objects} (dropped {report.dropped}, clipped {report.clipped})")
    _print_counts("classes", report.classes)
    _print_counts("fine classes", report.fine_classes)
    _print_issues("warnings", [issue.render() for issue in report.warnings])
    _print_issues("errors", [issue.render() for issue in report.errors])


def _print_counts(title: str, counts: dict[str, int]) -> None:
    if not counts:
        return
    _line(f"{title}:")
    width = max(len(name) for name in counts)
    for name, count in counts.items():
        _line(f"  {name:<{width}}  {count}")


def _print_issues(title: str, lines: list[str]) -> None:
    _line(f"{title}: {len(lines)}")
    for line in lines:
        _line(f"  {line}")


def _line(text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)
