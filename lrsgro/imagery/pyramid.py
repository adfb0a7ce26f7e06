"""Overview levels computed from full-resolution strips as they are read.

Each level halves the one above it by averaging 2 x 2 blocks and rounding half up. Where every
level above has an even size, this gives the same pixels as GDAL's ``average`` overviews
(GDAL 3.10 checked). An odd last row or column is averaged with itself, the mean of the pixels
that exist. Levels are computed one from the next larger one, so the whole pyramid costs about
4/3 of computing the first level.

NOTE: below a level with an odd size (625 pixels halved into 313, for example), GDAL spreads
its averaging windows evenly, while this pyramid pairs pixels from the top-left corner. Such
levels differ from GDAL's, shifted by up to one pixel of the level above at the far edge.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

_ACCUMULATORS = {np.dtype("uint8"): np.uint16, np.dtype("uint16"): np.uint32}

HALVE_CHUNK_ROWS = 16

RowSink = Callable[[int, int, np.ndarray], None]


def halve(rows: np.ndarray) -> np.ndarray:
    """Return the 2 x 2 block average of bands x rows x cols ``rows`` (uint8 or uint16).

    The result has ``ceil(rows / 2)`` rows and ``ceil(cols / 2)`` columns. Rows are averaged
    ``HALVE_CHUNK_ROWS`` at a time, which bounds the wider temporary arrays.
    """
    if rows.shape[1] % 2:
        rows = np.concatenate([rows, rows[:, -1:]], axis=1)

    bands, height, width = rows.shape
    result = np.empty((bands, height // 2, -(-width // 2)), dtype=rows.dtype)
    for start in range(0, height, HALVE_CHUNK_ROWS):
        stop = min(height, start + HALVE_CHUNK_ROWS)
        result[:, start // 2 : stop // 2] = _halve_rows(rows[:, start:stop])
    return result


class OverviewPyramid:
    """Computes every overview level from full-resolution strips pushed top to bottom.

    Args:
        levels: number of levels (factors 2, 4, ... ``2 ** levels``).
        sink: called as ``sink(level_index, first_row, rows)`` for each block of finished rows,
            level 0 being the factor-2 level.
    """

    def __init__(self, levels: int, sink: RowSink) -> None:
        self._sink = sink
        self._levels = levels
        # One row per level waits for its partner when a strip ends on an odd row.
        self._pending: list[np.ndarray | None] = [None] * levels
        self._next_row = [0] * levels

    def push(self, strip: np.ndarray) -> None:
        """Add the next bands x rows x cols strip of the full-resolution image."""
        self._push(0, strip)

    def finish(self) -> None:
        """Flush the rows held back for pairing; call once after the last strip."""
        for level in range(self._levels):
            pending = self._pending[level]
            if pending is not None:
                self._pending[level] = None
                self._emit(level, halve(pending))

    def _push(self, level: int, rows: np.ndarray) -> None:
        if level >= self._levels or rows.shape[1] == 0:
            return

        pending = self._pending[level]
        if pending is not None:
            rows = np.concatenate([pending, rows], axis=1)
            self._pending[level] = None
        if rows.shape[1] % 2:
            self._pending[level] = rows[:, -1:].copy()
            rows = rows[:, :-1]
        if rows.shape[1]:
            self._emit(level, halve(rows))

    def _emit(self, level: int, rows: np.ndarray) -> None:
        self._sink(level, self._next_row[level], rows)
        self._next_row[level] += rows.shape[1]
        self._push(level + 1, rows)


def _halve_rows(rows: np.ndarray) -> np.ndarray:
    accumulator = _ACCUMULATORS[rows.dtype]
    pairs = np.add(rows[:, 0::2], rows[:, 1::2], dtype=accumulator)
    width = pairs.shape[2]
    even = width - width % 2
    sums = np.empty((pairs.shape[0], pairs.shape[1], -(-width // 2)), dtype=accumulator)
    np.add(pairs[:, :, 0:even:2], pairs[:, :, 1:even:2], out=sums[:, :, : even // 2])
    if width % 2:
        np.multiply(pairs[:, :, -1], 2, out=sums[:, :, -1])

    sums += 2
    sums >>= 2
    return sums
