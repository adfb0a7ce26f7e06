"""Prompt templates of the drafting stage: one plain file per level in ``annotation/prompts``.

A template is versioned by its content: the first 12 hex digits of the SHA-256 of its bytes.
That hash is stored on every drafted question, so a changed template shows in the data.
Placeholders use ``string.Template`` syntax (``${name}``), which leaves the braces of the JSON
example in a template alone.
"""

from __future__ import annotations

import hashlib
import json
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lrsgro.errors import InputError
from lrsgro.resources import annotation_path
from lrsgro.taxonomy import AnswerKind, Source, get_type, types_at
from lrsgro.vlm.drafts import MAX_ANSWER_WORDS
from lrsgro.vlm.targets import DraftTarget

HASH_LENGTH = 12
PLACEHOLDERS = (
    "image_width",
    "image_height",
    "referent_id",
    "referent_expression",
    "referent_category",
    "referent_box",
    "facts",
    "required_types",
    "optional_types",
    "extra_questions",
    "word_answer_max_words",
    "phrase_answer_max_words",
)


@dataclass(frozen=True)
class PromptTemplate:
    """One template file.

    Attributes:
        name: the file name, e.g. ``object.txt``.
        path: where it was read from.
        text: its content.
        hash: the first 12 hex digits of the SHA-256 of its bytes.
    """

    name: str
    path: Path
    text: str
    hash: str

    def render(self, target: DraftTarget, extra_questions: int) -> str:
        """Fill the template for one target (placeholders were checked when it was loaded)."""
        values = _placeholder_values(target, extra_questions)
        return string.Template(self.text).substitute(values)


def prompts_dir() -> Path:
    """Return the folder of the shipped templates, ``annotation/prompts``."""
    return annotation_path("prompts")


def load_template(level: str, directory: Path | None = None) -> PromptTemplate:
    """Read the template of one level (``<level>.txt``) from ``directory`` or the shipped folder.

    Raises:
        InputError: the file is missing or is not UTF-8 text.
    """
    folder = directory if directory is not None else prompts_dir()
    path = folder / f"{level}.txt"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(
            f"no prompt template for level {level!r}",
            path=path,
            fix=f"create {path.name} in {folder}",
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            f"the prompt template is not UTF-8 text: {error.reason} at byte {error.start}",
            path=path,
            fix="save the file as UTF-8",
        ) from None
    _check_placeholders(text, path)
    return PromptTemplate(name=path.name, path=path, text=text, hash=content_hash(data))


def content_hash(data: bytes) -> str:
    """Return the first 12 hex digits of the SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()[:HASH_LENGTH]


def _check_placeholders(text: str, path: Path) -> None:
    template = string.Template(text)
    if not template.is_valid():
        raise InputError(
            "invalid placeholder in the prompt template",
            path=path,
            fix="write placeholders as ${name} and a literal dollar sign as $$",
        )
    unknown = sorted(set(template.get_identifiers()) - set(PLACEHOLDERS))
    if unknown:
        raise InputError(
            f"unknown placeholder(s) in the prompt template: {', '.join(unknown)}",
            path=path,
            fix=f"use only: {', '.join(PLACEHOLDERS)}",
        )


def _placeholder_values(target: DraftTarget, extra_questions: int) -> dict[str, Any]:
    referent = target.referent
    required = target.requested_categories
    optional = [
        t.category
        for t in types_at(target.level)
        if Source.VLM in t.sources and t.category not in required and t.category not in target.answered_categories
    ]
    return {
        "image_width": target.image_width,
        "image_height": target.image_height,
        "referent_id": referent.id if referent else "none",
        "referent_expression": referent.expression if referent else "none",
        "referent_category": (referent.category or "unknown") if referent else "none",
        "referent_box": _format_box(referent.box) if referent else "none",
        "facts": _format_facts(target.facts),
        "required_types": _format_types(target.level, required),
        "optional_types": _format_types(target.level, optional) if optional else "- (none)",
        "extra_questions": extra_questions if optional else 0,
        "word_answer_max_words": MAX_ANSWER_WORDS[AnswerKind.WORD],
        "phrase_answer_max_words": MAX_ANSWER_WORDS[AnswerKind.PHRASE],
    }


def _format_types(level: str, categories: list[str] | tuple[str, ...]) -> str:
    lines = []
    for category in categories:
        question_type = get_type(level, category)
        lines.append(
            f'- level "{level}", category "{category}", '
            f'answer_kind "{question_type.answer_kind.value}"'
        )
    return "\n".join(lines)


def _format_box(box: tuple[float, float, float, float]) -> str:
    return "(" + ", ".join(str(round(v)) for v in box) + ")"


def _format_facts(facts: Mapping[str, Any]) -> str:
    if not facts:
        return "(none)"
    return json.dumps(dict(facts), indent=2, sort_keys=True, ensure_ascii=False, default=str)
