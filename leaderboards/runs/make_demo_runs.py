"""Write the demo run logs in this folder: baselines and a text-only stub on synthetic data.

These runs exist to show what ``lrsgro leaderboard`` renders and to test that the committed
README regenerates byte for byte. They are not model results:

* the dataset is generated here from a seed (random answers on noise images, all 17 types);
* ``majority-baseline`` and ``random-baseline`` are lrsgro's model-free baselines;
* ``text-stub-blind`` and ``text-stub-direct`` ask an OpenAI-compatible stub server on
  127.0.0.1 that never looks at the image and answers from the question text alone
  ("how many" -> 3, "is there" -> yes, anything else -> white), through the real
  ``openai`` backend with the ``blind`` and ``direct`` protocols.

Every run goes through ``lrsgro.eval.runner.run_eval``, the code behind ``lrsgro eval``.
Run from the repository root (it replaces the four run folders)::

    .venv/bin/python leaderboards/runs/make_demo_runs.py
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from lrsgro.dataset import write_image_index, write_questions  # noqa: E402
from lrsgro.eval.runner import EvalSettings, run_eval  # noqa: E402
from lrsgro.records import ImageRecord, Question, make_qid  # noqa: E402
from lrsgro.taxonomy import QUESTION_TYPES, AnswerKind  # noqa: E402
from tests.openai_stub import RecordedRequest, Reply, ScriptedOpenAIServer  # noqa: E402

RUNS_DIR = Path(__file__).resolve().parent
SEED = 20260101
IMAGE_SIZE = (320, 240)
SPLITS = {"train": 4, "test": 3}
ANSWERS = {
    AnswerKind.WORD: ["white", "grey", "red", "urban", "rural", "summer", "winter", "port", "busy", "round"],
    AnswerKind.PHRASE: ["parking vehicles", "storing oil", "left of the bridge", "next to the road"],
    AnswerKind.INTEGER: ["0", "1", "2", "3", "4", "5", "7"],
    AnswerKind.YES_NO: ["yes", "no"],
    AnswerKind.CHOICE: ["cargo ship", "fishing boat"],
}


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="lrsgro-demo-runs-") as scratch:
        os.chdir(scratch)
        write_dataset(Path("demo-dataset"))
        with ScriptedOpenAIServer(text_only_reply, models=("text-stub",)) as server:
            runs = {
                "majority-baseline": EvalSettings(data=Path("demo-dataset"), model="majority"),
                "random-baseline": EvalSettings(data=Path("demo-dataset"), model="random", seed=SEED),
                "text-stub-blind": stub_settings(server.url, "blind"),
                "text-stub-direct": stub_settings(server.url, "direct"),
            }
            for name, settings in runs.items():
                out = RUNS_DIR / name
                shutil.rmtree(out, ignore_errors=True)
                settings.out = out
                summary = run_eval(settings)
                print(f"{name}: {summary.answered} answered, {summary.failed} failed")


def stub_settings(url: str, protocol: str) -> EvalSettings:
    return EvalSettings(
        data=Path("demo-dataset"),
        model="openai:text-stub",
        protocol=protocol,
        endpoint=url,
        api_key="EMPTY",
        concurrency=1,
        max_side=256,
        resamples=1000,
    )


def text_only_reply(request: RecordedRequest) -> Reply:
    """Answer from the question text alone, as a language prior would; tokens grow with images."""
    text = request.text.lower()
    if "how many" in text:
        answer = "3"
    elif "is there" in text:
        answer = "yes"
    else:
        answer = "white"
    prompt_tokens = len(text.split()) + 256 * len(request.images)
    return Reply(text=answer, prompt_tokens=prompt_tokens, completion_tokens=1)


def write_dataset(folder: Path) -> None:
    """Write a seeded dataset folder: noise images, every type twice per image."""
    rng = random.Random(SEED)
    pixels = np.random.default_rng(SEED)
    (folder / "images").mkdir(parents=True)
    width, height = IMAGE_SIZE
    images: list[ImageRecord] = []
    questions: list[Question] = []

    for split, count in SPLITS.items():
        for index in range(count):
            image_id = f"demo-{split}-{index}"
            path = folder / "images" / f"{image_id}.png"
            Image.fromarray(pixels.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(path)
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            images.append(ImageRecord(image_id=image_id, file=f"images/{image_id}.png", width=width,
                                      height=height, split=split, sha256=digest))
            for qtype in QUESTION_TYPES:
                for repeat in range(2):
                    questions.append(make_question(rng, image_id, split, qtype, repeat))

    write_questions(folder, questions)
    write_image_index(folder, images)


def make_question(rng: random.Random, image_id: str, split: str, qtype, repeat: int) -> Question:  # noqa: ANN001
    width, height = IMAGE_SIZE
    x0, y0 = rng.randrange(0, width // 2), rng.randrange(0, height // 2)
    roi = [float(x0), float(y0), float(x0 + width // 4), float(y0 + height // 4)] if qtype.needs_roi else None
    answer = rng.choice(ANSWERS[qtype.answer_kind])
    choices = ANSWERS[AnswerKind.CHOICE] if qtype.answer_kind is AnswerKind.CHOICE else []
    if qtype.answer_kind is AnswerKind.INTEGER:
        text = "How many ships are in the marked area?"
    elif qtype.answer_kind is AnswerKind.YES_NO:
        text = "Is there a plane in the marked area?"
    else:
        text = f"What is the {qtype.category.lower()} of the marked object?"
    return Question(
        qid=make_qid(image_id, qtype.slug, str(repeat)),
        image_id=image_id,
        image=f"images/{image_id}.png",
        image_width=width,
        image_height=height,
        split=split,
        level=qtype.level,
        category=qtype.category,
        question=text,
        answer=answer,
        answer_kind=qtype.answer_kind,
        choices=choices,
        roi=roi,
        review_status="accepted",
    )


if __name__ == "__main__":
    main()
