"""An external overview file (``.ovr``) written row by row as an uncompressed tiled BigTIFF.

GDAL looks for ``<image>.ovr`` next to an image without internal overviews and reads its first
image as the first overview level and that image's reduced-resolution IFDs as the further
levels (GDAL 3.10 checked). ``OverviewFileWriter`` lays out every level's IFD and tiles when it
is created, so the conversion can write the rows of all levels in the same pass that reads the
source, in any order, without holding a level in memory.

Tiles are stored uncompressed and band by band (planar configuration 2), so each tile's offset
is known in advance and rows arrive in the bands x rows x columns order that rasterio reads.
They are written straight into place with ``os.pwrite``, which goes through the page cache,
so unlike a memory map the written pages never count toward the process's resident memory.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

OVERVIEW_TILE_SIDE = 256

_BIGTIFF_HEADER = struct.Struct("<2sHHHQ")
_ENTRY = struct.Struct("<HHQQ")
_SHORT, _LONG, _LONG8 = 3, 4, 16
_TYPE_CODES = {_SHORT: "H", _LONG: "I", _LONG8: "Q"}
_REDUCED_IMAGE = 1
_NO_COMPRESSION = 1
_MIN_IS_BLACK, _RGB = 1, 2
_SEPARATE_PLANES = 2
_ENTRY_COUNT = 12
_SUPPORTED_DTYPES = frozenset({"uint8", "uint16"})


@dataclass(frozen=True)
class _Level:
    width: int
    height: int
    tiles_across: int
    tiles_down: int
    data_offset: int


class OverviewFileWriter:
    """Writes the overview levels of one image into an external ``.ovr`` file.

    Args:
        path: the file to create (replaced if it exists).
        sizes: (width, height) of each level, largest first, as GDAL computes them:
            ``ceil(width / factor)`` by ``ceil(height / factor)``.
        bands: 1 (grey) or 3 (RGB).
        dtype: ``uint8`` or ``uint16``.

    Raises:
        ValueError: no levels, or a band count or data type the writer does not support.
        OSError: the file cannot be created.
    """

    def __init__(self, path: str | Path, sizes: list[tuple[int, int]], bands: int, dtype: str) -> None:
        if not sizes:
            raise ValueError("an overview file needs at least one level")
        if bands not in (1, 3):
            raise ValueError(f"overview files are written for 1 or 3 bands, got {bands}")
        if dtype not in _SUPPORTED_DTYPES:
            raise ValueError(f"overview files are written for {sorted(_SUPPORTED_DTYPES)}, got {dtype}")

        self._path = Path(path)
        self._bands = bands
        self._dtype = np.dtype(dtype).newbyteorder("<")
        self._row_bytes = OVERVIEW_TILE_SIDE * self._dtype.itemsize
        self._tile_bytes = OVERVIEW_TILE_SIDE * self._row_bytes

        header, self._levels, size = self._layout(sizes)
        self._fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.ftruncate(self._fd, size)
            os.pwrite(self._fd, header, 0)
        except BaseException:
            self.close()
            raise

    @property
    def sizes(self) -> list[tuple[int, int]]:
        """(width, height) of each level, largest first."""
        return [(level.width, level.height) for level in self._levels]

    def write_rows(self, level_index: int, first_row: int, rows: np.ndarray) -> None:
        """Write ``rows`` (bands x rows x level width) into a level, starting at ``first_row``.

        Raises:
            ValueError: the array does not fit the level.
        """
        level = self._levels[level_index]
        count = rows.shape[1]
        if (
            rows.shape[0] != self._bands
            or rows.shape[2] != level.width
            or first_row < 0
            or first_row + count > level.height
        ):
            raise ValueError(
                f"rows of shape {rows.shape} at row {first_row} do not fit overview level {level_index} "
                f"of {level.width}x{level.height} with {self._bands} bands"
            )

        side = OVERVIEW_TILE_SIDE
        row = first_row
        while row < first_row + count:
            tile_row = row // side
            end = min(first_row + count, (tile_row + 1) * side)
            self._write_tile_rows(level, tile_row, row - tile_row * side, rows[:, row - first_row : end - first_row])
            row = end

    def close(self) -> None:
        """Close the file; rows never written read as zeros."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> OverviewFileWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _write_tile_rows(self, level: _Level, tile_row: int, offset_in_tile: int, rows: np.ndarray) -> None:
        # Pad the rows to whole tiles and regroup them tile by tile, so that each tile's part
        # is one contiguous run of bytes in the file.
        side = OVERVIEW_TILE_SIDE
        count = rows.shape[1]
        padded = np.zeros((self._bands, count, level.tiles_across * side), dtype=self._dtype)
        padded[:, :, : level.width] = rows
        tiles = np.ascontiguousarray(padded.reshape(self._bands, count, level.tiles_across, side).swapaxes(1, 2))

        for band in range(self._bands):
            tile_index = (band * level.tiles_down + tile_row) * level.tiles_across
            first_tile = level.data_offset + tile_index * self._tile_bytes
            if count == side:
                os.pwrite(self._fd, tiles[band], first_tile)
                continue
            for column in range(level.tiles_across):
                position = first_tile + column * self._tile_bytes + offset_in_tile * self._row_bytes
                os.pwrite(self._fd, tiles[band, column], position)

    def _layout(self, sizes: list[tuple[int, int]]) -> tuple[bytes, list[_Level], int]:
        # Header, then each level's IFD followed by its tile offsets and byte counts, then the
        # tiles of every level in order: band 1 row by row, then band 2, and so on.
        side = OVERVIEW_TILE_SIDE
        shapes = [(width, height, -(-width // side), -(-height // side)) for width, height in sizes]
        position = _BIGTIFF_HEADER.size
        ifd_offsets = []
        for _, _, across, down in shapes:
            ifd_offsets.append(position)
            position += 8 + _ENTRY_COUNT * _ENTRY.size + 8 + 2 * 8 * across * down * self._bands
        data_start = position

        levels = []
        for width, height, across, down in shapes:
            levels.append(_Level(width, height, across, down, position))
            position += across * down * self._bands * self._tile_bytes

        header = bytearray(_BIGTIFF_HEADER.pack(b"II", 43, 8, 0, ifd_offsets[0]))
        for index, level in enumerate(levels):
            next_ifd = ifd_offsets[index + 1] if index + 1 < len(levels) else 0
            header += self._ifd(level, ifd_offsets[index], next_ifd)
        if len(header) != data_start:
            raise AssertionError(f"overview file header is {len(header)} bytes, expected {data_start}")
        return bytes(header), levels, position

    def _ifd(self, level: _Level, offset: int, next_ifd: int) -> bytes:
        tile_count = level.tiles_across * level.tiles_down * self._bands
        offsets_at = offset + 8 + _ENTRY_COUNT * _ENTRY.size + 8
        counts_at = offsets_at + 8 * tile_count
        photometric = _RGB if self._bands == 3 else _MIN_IS_BLACK
        bits = [8 * self._dtype.itemsize] * self._bands
        entries = [
            _entry(254, _LONG, [_REDUCED_IMAGE]),
            _entry(256, _LONG, [level.width]),
            _entry(257, _LONG, [level.height]),
            _entry(258, _SHORT, bits),
            _entry(259, _SHORT, [_NO_COMPRESSION]),
            _entry(262, _SHORT, [photometric]),
            _entry(277, _SHORT, [self._bands]),
            _entry(284, _SHORT, [_SEPARATE_PLANES]),
            _entry(322, _LONG, [OVERVIEW_TILE_SIDE]),
            _entry(323, _LONG, [OVERVIEW_TILE_SIDE]),
            _array_entry(324, tile_count, offsets_at, level.data_offset),
            _array_entry(325, tile_count, counts_at, self._tile_bytes),
        ]
        # SampleFormat (339) is left out: its default, unsigned integer, fits every supported dtype.

        tile_offsets = level.data_offset + self._tile_bytes * np.arange(tile_count, dtype="<u8")
        tile_counts = np.full(tile_count, self._tile_bytes, dtype="<u8")
        body = struct.pack("<Q", len(entries)) + b"".join(entries) + struct.pack("<Q", next_ifd)
        return body + tile_offsets.tobytes() + tile_counts.tobytes()


def _array_entry(tag: int, count: int, offset: int, single_value: int) -> bytes:
    # A LONG8 array is stored elsewhere unless it has one value, which fits in the entry.
    if count == 1:
        return _entry(tag, _LONG8, [single_value])
    return _ENTRY.pack(tag, _LONG8, count, offset)


def _entry(tag: int, field_type: int, values: list[int]) -> bytes:
    # Values that fit in 8 bytes are stored in the entry itself, left-justified.
    data = struct.pack(f"<{len(values)}{_TYPE_CODES[field_type]}", *values)
    if len(data) > 8:
        raise ValueError(f"TIFF tag {tag} needs {len(data)} bytes, more than fit in an entry")
    return struct.pack("<HHQ", tag, field_type, len(values)) + data.ljust(8, b"\x00")

