"""Prompt templates of the evaluation protocols, read from ``eval/prompts``.

Templates are ``string.Template`` text, so JSON braces in a prompt need no escaping. Every
template in use is hashed into the run manifest.
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lrsgro.errors import InputError
from lrsgro.resources import eval_path

# The templates each protocol uses; the first one is what --prompt-file replaces.
PROTOCOL_TEMPLATES: dict[str, tuple[str, ...]] = {
    "zoom": ("zoom_stage1", "zoom_stage2"),
    "direct": ("direct",),
    "blind": ("blind",),
    "oracle-crop": ("oracle_crop",),
}
REQUIRED_PLACEHOLDER = "question"
OPEN_ANSWER = "Answer the question using a single word or phrase."
CHOICE_ANSWER = "Answer with the option's letter from the given choices directly."
BOX_FORMATS = {
    "absolute": "Give x and y in pixels of the image above, whose top-left corner is (0, 0).",
    "norm1000": "Give x and y as integers from 0 to 1000 relative to the image width and height.",
}
OPTION_LETTERS = string.ascii_uppercase


@dataclass(frozen=True)
class PromptTemplate:
    """One template and where it came from."""

    name: str
    text: str
    source: Path

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def render(self, **values: object) -> str:
        """Fill the placeholders; unknown placeholders stay as written."""
        return string.Template(self.text).safe_substitute({k: str(v) for k, v in values.items()}).strip()


def load_templates(protocol: str, prompt_file: Path | None = None) -> dict[str, PromptTemplate]:
    """Return the templates of ``protocol`` by name, the first one replaced by ``prompt_file``.

    Raises:
        InputError: a template file is missing, or ``prompt_file`` lacks ``$question``.
    """
    names = PROTOCOL_TEMPLATES.get(protocol, ())
    templates: dict[str, PromptTemplate] = {}
    for index, name in enumerate(names):
        path = prompt_file if index == 0 and prompt_file is not None else eval_path("prompts", f"{name}.txt")
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError("prompt template not found", path=path, fix="check --prompt-file or reinstall lrsgro") from None

        placeholders = {match[1] or match[2] for match in string.Template.pattern.findall(text)}
        if REQUIRED_PLACEHOLDER not in placeholders and name != "zoom_stage2":
            raise InputError(
                "prompt template has no $question placeholder",
                path=path,
                fix="write $question where the question goes",
            )
        templates[name] = PromptTemplate(name, text, path)
    return templates


def templates_hash(templates: Mapping[str, PromptTemplate]) -> str | None:
    """Return one SHA-256 over all templates (name and text), or None without templates."""
    if not templates:
        return None
    digest = hashlib.sha256()
    for name in sorted(templates):
        digest.update(f"{name}\0{templates[name].text}\0".encode())
    return digest.hexdigest()


def options_block(options: Sequence[str]) -> str:
    """Return the option lines of a multiple-choice question, or an empty string."""
    if not options:
        return ""
    lines = [f"({OPTION_LETTERS[index]}) {option}" for index, option in enumerate(options)]
    return "\n".join(lines) + "\n"


def answer_format(options: Sequence[str]) -> str:
    """Return the answer instruction for open or multiple-choice questions."""
    return CHOICE_ANSWER if options else OPEN_ANSWER
