"""Split images (never questions) into named splits, deterministically from the seed."""

from __future__ import annotations

import hashlib
import math

from lrsgro.errors import InputError


def parse_split_spec(spec: str) -> dict[str, float]:
    """Parse ``test=0.8,train=0.2`` into {name: fraction}; fractions must sum to 1.

    Raises:
        InputError: naming the bad part and the expected form.
    """
    fractions: dict[str, float] = {}
    for part in spec.split(","):
        name, sep, value = part.partition("=")
        name = name.strip()
        try:
            fraction = float(value)
        except ValueError:
            fraction = -1.0
        if not sep or not name or not 0 <= fraction <= 1 or name in fractions:
            raise InputError(
                f"invalid split {part!r} in --split {spec!r}",
                fix="write name=fraction pairs separated by commas, e.g. test=0.8,train=0.2",
            )
        fractions[name] = fraction

    if not math.isclose(sum(fractions.values()), 1.0, abs_tol=1e-6):
        raise InputError(f"split fractions in {spec!r} sum to {sum(fractions.values()):g}, not 1", fix="make them sum to 1")
    return fractions


def assign_splits(image_ids: list[str], fractions: dict[str, float], seed: int) -> dict[str, str]:
    """Assign each image to a split; return image id -> split name.

    Images are ordered by a seeded hash of their id and split sizes follow the fractions by
    largest remainder, so the assignment does not depend on input order.
    """
    order = sorted(image_ids, key=lambda i: hashlib.sha256(f"{seed}\x1f{i}".encode()).hexdigest())
    total = len(order)
    exact = {name: f * total for name, f in fractions.items()}
    sizes = {name: math.floor(v) for name, v in exact.items()}
    leftover = total - sum(sizes.values())
    for name in sorted(exact, key=lambda n: (-(exact[n] - sizes[n]), list(fractions).index(n)))[:leftover]:
        sizes[name] += 1

    assignment: dict[str, str] = {}
    start = 0
    for name in fractions:
        for image_id in order[start : start + sizes[name]]:
            assignment[image_id] = name
        start += sizes[name]
    return assignment
