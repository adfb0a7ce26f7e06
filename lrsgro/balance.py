"""Answer balancing: yes/no parity, capped count answers and alternating option order."""

from __future__ import annotations

import hashlib
import math
import random
from collections import defaultdict

from lrsgro.records import Question
from lrsgro.taxonomy import AnswerKind

COUNT_ANSWER_CAP = 0.25
COUNT_CAP_FLOOR = 3


def balance(questions: list[Question], seed: int) -> tuple[list[Question], dict[str, int]]:
    """Balance answers per (split, type); return the kept questions and dropped counts per reason.

    - yes/no types keep as many "yes" as "no" answers;
    - integer types keep at most max(3, 25%) questions with the same answer;
    - two-option questions alternate the position of the correct option.
    """
    groups: dict[tuple[str, str, str], list[Question]] = defaultdict(list)
    for question in questions:
        groups[(question.split, question.level, question.category)].append(question)

    kept: list[Question] = []
    dropped: dict[str, int] = defaultdict(int)
    for key in sorted(groups):
        group = sorted(groups[key], key=lambda q: q.qid)
        rng = random.Random(int(hashlib.sha256(f"{seed}\x1f{key}".encode()).hexdigest()[:16], 16))
        kind = group[0].answer_kind
        if kind == AnswerKind.YES_NO:
            group = _balance_yes_no(group, rng, dropped)
        elif kind == AnswerKind.INTEGER:
            group = _cap_counts(group, rng, dropped)
        elif kind == AnswerKind.CHOICE:
            group = _alternate_options(group)
        kept += group
    return kept, dict(dropped)


def _balance_yes_no(group: list[Question], rng: random.Random, dropped: dict[str, int]) -> list[Question]:
    yes = [q for q in group if q.answer == "yes"]
    no = [q for q in group if q.answer == "no"]
    keep = min(len(yes), len(no))
    chosen = set(q.qid for q in rng.sample(yes, keep) + rng.sample(no, keep))
    dropped["yes/no parity"] += len(group) - len(chosen)
    return [q for q in group if q.qid in chosen]


def _cap_counts(group: list[Question], rng: random.Random, dropped: dict[str, int]) -> list[Question]:
    cap = max(COUNT_CAP_FLOOR, math.ceil(COUNT_ANSWER_CAP * len(group)))
    by_answer: dict[str, list[Question]] = defaultdict(list)
    for question in group:
        by_answer[question.answer].append(question)

    chosen = set()
    for answer in sorted(by_answer):
        members = by_answer[answer]
        picked = members if len(members) <= cap else rng.sample(members, cap)
        chosen.update(q.qid for q in picked)
    dropped["count answer cap"] += len(group) - len(chosen)
    return [q for q in group if q.qid in chosen]


def _alternate_options(group: list[Question]) -> list[Question]:
    """Put the correct option first in every other question, second in the rest."""
    result = []
    for index, question in enumerate(group):
        if len(question.choices) != 2 or question.answer not in question.choices:
            result.append(question)
            continue
        other = next(c for c in question.choices if c != question.answer)
        choices = [question.answer, other] if index % 2 == 0 else [other, question.answer]
        if choices != question.choices:
            text = question.question.replace(f"a {question.choices[0]} or a {question.choices[1]}", f"a {choices[0]} or a {choices[1]}")
            question = question.model_copy(update={"choices": choices, "question": text})
        result.append(question)
    return result
