"""Answer and box extraction from awkward model outputs."""

from __future__ import annotations

import dataclasses
import json

import pytest

from lrsgro.errors import InputError
from lrsgro.scoring import Box, Extraction, extract, parse_box, parse_boxes

CHATML_PROMPT = (
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Is there a ship? "
    "Put the final answer in <answer> ... </answer>.<|im_end|>\n"
)

# (raw output, expected answer or None, expected status, expected source)
ANSWER_CASES = [
    ("<answer>red</answer>", "red", "ok", "answer_tag"),
    ("<answer>red", "red", "ok", "answer_tag"),
    ("<think>it is red</think>\n<answer>red", "red", "ok", "answer_tag"),
    ("<answer>no</answer> on second look <answer>yes</answer>", "yes", "ok", "answer_tag"),
    ("<answer>no</answer> then <answer>yes</answer> and <answer>maybe", "yes", "ok", "answer_tag"),
    ("<answer>\n  two  \n</answer>", "two", "ok", "answer_tag"),
    ("<ANSWER>Yes</ANSWER>", "Yes", "ok", "answer_tag"),
    ("< answer >harbor< /answer >", "harbor", "ok", "answer_tag"),
    ("<answer>red</ans", "red", "ok", "answer_tag"),
    ("<answer>red</answer", "red", "ok", "answer_tag"),
    ("red</answer>", "red", "ok", "answer_tag"),
    ("<think>I see a dock.</think>harbor</answer>", "harbor", "ok", "answer_tag"),
    ("<answer>**storage tank**</answer>", "storage tank", "ok", "answer_tag"),
    ("<answer></answer>", None, "no_answer", "answer_tag"),
    ("<answer> ... </answer>", None, "no_answer", "answer_tag"),
    (CHATML_PROMPT + "<|im_start|>assistant\nThe answer is yes<|im_end|>", "The answer is yes", "ok", "assistant_turn"),
    (CHATML_PROMPT + "<|im_start|>assistant\n<answer>no</answer><|im_end|>\n<|endoftext|>", "no", "ok", "answer_tag"),
    ("USER: <image>\nIs there a ship? ASSISTANT: yes", "yes", "ok", "assistant_turn"),
    ("USER: first ASSISTANT: no</s>USER: again ASSISTANT: yes</s>", "yes", "ok", "assistant_turn"),
    ("[INST] How many ships? [/INST] 3 </s>", "3", "ok", "assistant_turn"),
    ("<start_of_turn>user\nColour?<end_of_turn>\n<start_of_turn>model\ngrey<end_of_turn>", "grey", "ok", "assistant_turn"),
    ("<|start_header_id|>assistant<|end_header_id|>\n\nYes.<|eot_id|>", "Yes.", "ok", "assistant_turn"),
    ("<|user|>\nWhat is it?<|end|>\n<|assistant|>\nairport<|end|>", "airport", "ok", "assistant_turn"),
    (CHATML_PROMPT + "<|im_start|>assistant\n<|im_end|>", None, "no_answer", "assistant_turn"),
    ("yes", "yes", "ok", "plain"),
    ("  Harbour.  \n", "Harbour.", "ok", "plain"),
    ('"red car"', "red car", "ok", "plain"),
    ("`B`", "B", "ok", "plain"),
    ("yes<|im_end|>", "yes", "ok", "plain"),
    ("Let me count the ships.\nI see three near the pier.\nAnswer: 3", "3", "ok", "plain"),
    ("Final answer: **yes**", "yes", "ok", "plain"),
    ("**Answer:** harbor", "harbor", "ok", "plain"),
    ("Answer:\n\nB", "B", "ok", "plain"),
    ("<think>Ships are docked.</think>\n3", "3", "ok", "plain"),
    ("<think>The image shows a port with many", None, "no_answer", "plain"),
    ("<think>only reasoning</think>", None, "no_answer", "plain"),
    ("", None, "no_answer", "plain"),
    ("   \n\t", None, "no_answer", "plain"),
    (None, None, "no_answer", "plain"),
    ("<|im_end|>", None, "no_answer", "plain"),
    ("...", None, "no_answer", "plain"),
    ("图像的右侧", "图像的右侧", "ok", "plain"),
]


@pytest.mark.parametrize(("output", "answer", "status", "source"), ANSWER_CASES)
def test_extract_answer_table(output: str | None, answer: str | None, status: str, source: str) -> None:
    result = extract(output)

    assert result.answer == answer
    assert result.status == status
    assert result.source == source
    assert result.explanation


def test_extract_table_is_large() -> None:
    assert len(ANSWER_CASES) >= 30


def test_prompt_answer_tags_ignored() -> None:
    prompt = CHATML_PROMPT.replace("<answer> ... </answer>", "<answer>yes</answer>")
    output = prompt + "<|im_start|>assistant\nno<|im_end|>"

    result = extract(output)

    assert result.answer == "no"
    assert result.source == "assistant_turn"


def test_no_answer_never_guessed() -> None:
    result = extract("<think>The harbor has three ships and the answer is probably", box_frame="view")

    assert result.status == "no_answer"
    assert result.answer is None
    assert "never closed" in result.explanation


def test_extraction_serialises_to_json() -> None:
    result = extract('{"bbox_2d": [10, 20, 30, 40]}<answer>ship</answer>', box_frame="norm1000")

    record = json.loads(json.dumps(dataclasses.asdict(result)))

    assert record["answer"] == "ship"
    assert record["box"] == [10.0, 20.0, 30.0, 40.0]
    assert record["box_frame"] == "norm1000"


def test_extraction_is_frozen() -> None:
    result = extract("yes")

    assert isinstance(result, Extraction)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.answer = "no"  # type: ignore[misc]


# (text, expected xyxy or None, expected label)
BOX_CASES = [
    ('{"bbox_2d": [12, 30, 200, 240], "label": "ship"}', (12, 30, 200, 240), "ship"),
    ('[{"bbox_2d": [12, 30, 200, 240], "label": "ship"}, {"bbox_2d": [1, 2, 3, 4], "label": "car"}]', (12, 30, 200, 240), "ship"),
    ('```json\n[\n  {"bbox_2d": [12, 30, 200, 240], "label": "bridge"}\n]\n```', (12, 30, 200, 240), "bridge"),
    ("```json\n[{'bbox_2d': [12, 30, 200, 240,], 'label': 'red car',},]\n```", (12, 30, 200, 240), "red car"),
    ('{"bbox_2d": [12, 30, 200, 240', (12, 30, 200, 240), None),
    ('[{"bbox_2d": [12, 30, 200, 240], "label": "ship"', (12, 30, 200, 240), "ship"),
    ('{"bbox_2d": [200, 240, 12, 30]}', (12, 30, 200, 240), None),
    ('{"bbox_2d": [200, 30, 12, 240]}', (12, 30, 200, 240), None),
    ('{"label": "pier", "bbox_2d": ["12", "30", "200", "240"]}', (12, 30, 200, 240), "pier"),
    ('"bbox_2d": [[12, 30], [200, 240]]', (12, 30, 200, 240), None),
    ('{"bbox": [12.5, 30, 200, 240.75]}', (12.5, 30, 200, 240.75), None),
    ("<|object_ref_start|>the ship<|object_ref_end|><|box_start|>(12,30),(200,240)<|box_end|>", (12, 30, 200, 240), "the ship"),
    ("The ship is at [12, 30, 200, 240].", (12, 30, 200, 240), None),
    ("[12, 30, 200, 240", (12, 30, 200, 240), None),
    ("[12, 30, 200, 240, 250]", None, None),
    ('{"bbox_2d": [12, 30, 200, 240, 5]}', None, None),
    ('[{"bbox_2d": [x_min, y_min, x_max, y_max], "label": "<short description>"}]', None, None),
    ("There are 3 ships in 2 rows.", None, None),
]


@pytest.mark.parametrize(("text", "expected", "label"), BOX_CASES)
def test_parse_box_table(text: str, expected: tuple[float, ...] | None, label: str | None) -> None:
    box = parse_box(text, "view")

    if expected is None:
        assert box is None
        return
    assert box is not None
    assert box.as_tuple() == tuple(float(value) for value in expected)
    assert box.label == label
    assert box.frame == "view"


def test_box_frame_recorded() -> None:
    box = parse_box('{"bbox_2d": [100, 200, 300, 400]}', "norm1000")

    assert box == Box(100.0, 200.0, 300.0, 400.0, "norm1000")


def test_keyed_box_preferred() -> None:
    text = 'The image is [0, 0, 1024, 1024] wide. {"bbox_2d": [12, 30, 200, 240]}'

    boxes = parse_boxes(text, "view")

    assert [box.as_tuple() for box in boxes] == [(12.0, 30.0, 200.0, 240.0)]


def test_unknown_frame_rejected() -> None:
    with pytest.raises(InputError, match="norm1000"):
        parse_box("[1, 2, 3, 4]", "pixels")  # type: ignore[arg-type]


def test_extract_reads_box_in_turn() -> None:
    output = (
        CHATML_PROMPT.replace("Is there a ship?", "Example box: [1, 1, 2, 2]. Is there a ship?")
        + "<|im_start|>assistant\n<think>The ship is here: "
        + '[{"bbox_2d": [40, 50, 90, 120], "label": "ship"}]</think>\n<answer>yes</answer><|im_end|>'
    )

    result = extract(output, box_frame="view")

    assert result.answer == "yes"
    assert result.box == (40.0, 50.0, 90.0, 120.0)
    assert result.box_frame == "view"


def test_box_without_answer_kept() -> None:
    output = '<think>Crop first.</think>[{"bbox_2d": [5, 6, 7, 8], "label": "tank"}]'

    result = extract(output, box_frame="norm1000")

    assert result.status == "ok"
    assert result.box == (5.0, 6.0, 7.0, 8.0)

    stage_one = extract('<think>[{"bbox_2d": [5, 6, 7, 8]}]', box_frame="norm1000")

    assert stage_one.status == "no_answer"
    assert stage_one.box == (5.0, 6.0, 7.0, 8.0)


def test_box_skipped_without_frame() -> None:
    result = extract('{"bbox_2d": [1, 2, 3, 4]}<answer>ship</answer>')

    assert result.box is None
    assert result.box_frame is None
