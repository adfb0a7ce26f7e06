"""Find the answer (and the box) in one raw model output.

The steps, in order:

1. Keep only the last assistant turn when chat-template residue is present
   (``<|im_start|>assistant``, ``ASSISTANT:``, ``[/INST]`` and the like), and cut the
   text at the first end-of-turn token (``<|im_end|>``, ``</s>``, ...).
2. If the turn has complete ``<answer>...</answer>`` tags, the answer is the content of
   the last complete pair. Otherwise an ``<answer>`` left open at the end gives the text
   after it, and a lone ``</answer>`` gives the text before it.
3. Otherwise drop ``<think>...</think>`` reasoning and use the rest; when a line starts
   with ``Answer:`` or ``Final answer:``, the text after the last such label.

An answer that is empty or has no letter or digit (``<answer> ... </answer>`` copied from
the prompt) is recorded as ``no_answer``, and so is reasoning that never closed. Nothing
is guessed. Wording such as "The answer is yes" is kept as written, because
:func:`~lrsgro.scoring.open_ended.score_robust` removes it and
:func:`~lrsgro.scoring.open_ended.score_paper` must not.
"""

from __future__ import annotations

import re

from lrsgro.scoring.boxes import parse_box
from lrsgro.scoring.types import BoxFrame, Extraction, ExtractionSource

# The start of an assistant turn in the chat templates of common open VLMs.
_ASSISTANT_MARKER = re.compile(
    r"<\|im_start\|>\s*assistant\b[^\S\n]*\n?"  # ChatML: Qwen, InternVL, Yi
    r"|<\|start_header_id\|>\s*assistant\s*<\|end_header_id\|>"  # Llama 3
    r"|<\|assistant\|>"  # Phi-3
    r"|<[|｜]Assistant[|｜]>"  # DeepSeek
    r"|<start_of_turn>\s*model\b"  # Gemma
    r"|\[/INST\]"  # Mistral, Llama 2
    r"|(?:^|(?<=\s)|(?<=>))(?:ASSISTANT|Assistant)\s*:",  # Vicuna, LLaVA
)
_END_OF_TURN = re.compile(
    r"<\|im_end\|>|<\|endoftext\|>|<\|eot_id\|>|<\|end_of_text\|>|<end_of_turn>|<\|end\|>"
    r"|</s>|<eos>|<[|｜]end▁of▁sentence[|｜]>|<\|im_start\|>"
)
_COMPLETE_TAG = re.compile(r"<\s*answer\s*>(.*?)<\s*/\s*answer\s*>", re.IGNORECASE | re.DOTALL)
_OPEN_TAG = re.compile(r"<\s*answer\s*>", re.IGNORECASE)
_CLOSE_TAG = re.compile(r"<\s*/\s*answer\s*>", re.IGNORECASE)
# A closing tag cut off by the token limit: "</", "</ans", "</answer".
_TRUNCATED_CLOSE = re.compile(r"<\s*/\s*(?:a(?:n(?:s(?:w(?:e(?:r)?)?)?)?)?)?\s*$", re.IGNORECASE)
_THINK_OPEN = re.compile(r"<\s*think\s*>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"<\s*/\s*think\s*>", re.IGNORECASE)
_ANSWER_LABEL = re.compile(
    r"^[ \t>*#_-]*(?:final\s+)?answer\s*\**\s*[:：][ \t]*(?:\*\*(?=\s))?[ \t]*(.*)$",
    re.IGNORECASE | re.MULTILINE,
)
# Formatting wrapped around the whole answer: **yes**, `B`, "red car".
_WRAPPERS = (("**", "**"), ("__", "__"), ("*", "*"), ("`", "`"), ('"', '"'), ("'", "'"), ("“", "”"))


def extract(output: str | None, *, box_frame: BoxFrame | None = None) -> Extraction:
    """Read the answer, and the first box when ``box_frame`` is given, from ``output``.

    Args:
        output: the raw text the model generated, chat-template residue included.
        box_frame: the frame the model writes boxes in (``view`` pixels or ``norm1000``);
            ``None`` skips box parsing.

    Raises:
        InputError: ``box_frame`` is not a known frame.
    """
    if output is None or not output.strip():
        return Extraction(None, "no_answer", "plain", None, "the output is empty")

    turn, from_assistant = _last_assistant_turn(output)
    source: ExtractionSource = "assistant_turn" if from_assistant else "plain"

    box = parse_box(turn, box_frame) if box_frame is not None else None
    box_tuple = box.as_tuple() if box is not None else None
    frame = box.frame if box is not None else None
    box_note = ""
    if box_frame is not None:
        box_note = " A box was found." if box is not None else " No box was found."

    tagged = _from_answer_tags(turn)
    if tagged is not None:
        answer, explanation = tagged
        source = "answer_tag"
    else:
        answer, explanation = _from_plain_text(turn)

    if answer is not None:
        answer = _strip_wrappers(answer)
    if answer is None or not any(character.isalnum() for character in answer):
        if answer is not None:
            explanation = f"{explanation}, which has no letter or digit"
        return Extraction(None, "no_answer", source, box_tuple, explanation + "." + box_note, frame)
    return Extraction(answer, "ok", source, box_tuple, explanation + "." + box_note, frame)


def _last_assistant_turn(output: str) -> tuple[str, bool]:
    """Return the text of the last assistant turn (or all of it) up to its end token."""
    markers = list(_ASSISTANT_MARKER.finditer(output))
    turn = output[markers[-1].end() :] if markers else output

    end = _END_OF_TURN.search(turn)
    if end is not None:
        turn = turn[: end.start()]
    return turn, bool(markers)


def _from_answer_tags(turn: str) -> tuple[str, str] | None:
    """Return (answer, explanation) from ``<answer>`` tags, or ``None`` without any tag."""
    complete = _COMPLETE_TAG.findall(turn)
    if complete:
        count = len(complete)
        if count == 1:
            return complete[-1].strip(), "answer from the <answer> tag"
        return complete[-1].strip(), f"answer from the last of {count} <answer> tags"

    opens = list(_OPEN_TAG.finditer(turn))
    if opens:
        rest = _TRUNCATED_CLOSE.sub("", turn[opens[-1].end() :])
        return rest.strip(), "answer from an <answer> tag that was never closed"

    close = _CLOSE_TAG.search(turn)
    if close is not None:
        before = turn[: close.start()]
        think_end = list(_THINK_CLOSE.finditer(before))
        if think_end:
            before = before[think_end[-1].end() :]
        return before.strip(), "answer from the text before a </answer> tag without an opening tag"
    return None


def _from_plain_text(turn: str) -> tuple[str | None, str]:
    """Return (answer or None, explanation) from text without answer tags."""
    text = turn
    think_ends = list(_THINK_CLOSE.finditer(text))
    if think_ends:
        text = text[think_ends[-1].end() :]
    elif _THINK_OPEN.search(text):
        return None, "the reasoning block <think> never closed, so there is no answer"

    labels = [match for match in _ANSWER_LABEL.finditer(text)]
    if labels:
        last = labels[-1]
        labelled = last.group(1).strip()
        if not labelled:
            following = [line.strip() for line in text[last.end() :].splitlines() if line.strip()]
            labelled = following[0] if following else ""
        return labelled, "answer from the last 'Answer:' label"

    text = text.strip()
    if not text:
        return None, "the output has no text outside reasoning and template tokens"
    return text, "answer from the whole text"


def _strip_wrappers(answer: str) -> str:
    answer = answer.strip()
    changed = True
    while changed and len(answer) >= 2:
        changed = False
        for left, right in _WRAPPERS:
            inner = answer[len(left) : -len(right)]
            if answer.startswith(left) and answer.endswith(right) and len(answer) > len(left) + len(right):
                if left in inner:
                    continue
                answer = inner.strip()
                changed = True
                break
    return answer
