"""Conversion of a PNG or JPEG into a tiled GeoTIFF with overviews, in one pass over the rows.

PNG and JPEG can only be decoded from the first row down, and decoding is most of the cost
of a conversion. ``convert_to_tiled_geotiff`` therefore decodes each row once: a reader thread
decodes strips of ``STRIP_ROWS`` rows into one of two reusable buffers while the calling thread
writes the previous strip as full-resolution tiles and averages it into every overview level.

- Full resolution: a GeoTIFF with ``TILE_WIDTH`` x ``STRIP_ROWS`` tiles stored band by band
  (the layout rasterio reads and writes without reordering), ZSTD level 1 with the horizontal
  predictor. Each strip completes one row of tiles, so GDAL's block cache never keeps a partly
  written tile.
- Overviews: for 1- or 3-band 8- or 16-bit images without nodata, alpha or colour table, an
  external ``<destination>.ovr`` file with factors 2, 4, ... (see ``overview_file`` and
  ``pyramid``), which GDAL and rasterio use for any downsampled read of the GeoTIFF. Other
  images get internal overviews built by GDAL afterwards, which reads the written GeoTIFF back.

Memory stays near two strips plus a 1 MiB block cache, whatever the image height.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import ColorInterp, MaskFlags, Resampling
from rasterio.errors import NotGeoreferencedWarning, RasterioError
from rasterio.windows import Window

from lrsgro.errors import ImageError
from lrsgro.imagery.gdal_cache import limited_block_cache
from lrsgro.imagery.overview_file import OverviewFileWriter
from lrsgro.imagery.pyramid import OverviewPyramid

logger = logging.getLogger(__name__)

TILE_WIDTH = 256
STRIP_ROWS = 64
MIN_OVERVIEW_SIDE = 256
ZSTD_LEVEL = 1
OVERVIEW_SUFFIX = ".ovr"
# GDAL's block cache while converting. Each strip completes its tiles, so nothing needs to stay
# cached, and with GDAL's default (5% of RAM) the written tiles piled up to about 1.2 GB at
# 20000 x 20000 before being flushed.
CONVERSION_BLOCK_CACHE_BYTES = 2**20
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
_PYRAMID_DTYPES = frozenset({"uint8", "uint16"})
_PYRAMID_INTERPRETATIONS = (
    (ColorInterp.gray,),
    (ColorInterp.red, ColorInterp.green, ColorInterp.blue),
)


def convert_to_tiled_geotiff(
    source: str | Path, destination: str | Path, *, checkpoint: Callable[[], None] | None = None
) -> None:
    """Write ``source`` as a tiled, ZSTD-compressed GeoTIFF with overviews.

    The overviews go to ``external_overview_path(destination)`` when ``source`` suits the
    single-pass pyramid, and into ``destination`` itself otherwise. Colour interpretation,
    the colour table, nodata, georeference and metadata tags are carried over, so header
    facts such as an EXIF date survive the conversion. ``checkpoint`` is called after each
    strip; an exception it raises stops the conversion and propagates unchanged.

    Raises:
        ImageError: the source cannot be decoded or the destination cannot be written.
    """
    source_path = Path(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(source_path) as src:
                if src.driver == "PNG":
                    check_png_complete(source_path)
                with (
                    limited_block_cache(CONVERSION_BLOCK_CACHE_BYTES, respect_caller=False),
                    rasterio.Env(COMPRESS_OVERVIEW="ZSTD", ZSTD_LEVEL_OVERVIEW=ZSTD_LEVEL, PREDICTOR_OVERVIEW=2),
                ):
                    _convert(src, Path(destination), checkpoint or _no_checkpoint)
    except RasterioError as exc:
        raise ImageError(
            f"cannot convert image to a tiled GeoTIFF: {exc}",
            path=source_path,
            fix="check that the file is complete, and that the cache folder has free space",
        ) from exc


def check_png_complete(path: str | Path) -> None:
    """Raise ImageError unless a PNG file ends with its IEND chunk.

    GDAL 3.10 returns the rows of a truncated PNG that it could not decode as zeros, without
    an error, so a cut-off download is caught here instead.
    """
    file_path = Path(path)
    with file_path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - len(PNG_END)))
        tail = handle.read()
    if tail != PNG_END:
        raise ImageError(
            "PNG file is truncated: it does not end with the IEND chunk",
            path=file_path,
            fix="re-download or re-export the image",
        )


def external_overview_path(path: str | Path) -> Path:
    """Return the ``.ovr`` file that GDAL reads as the overviews of the GeoTIFF ``path``."""
    return Path(f"{path}{OVERVIEW_SUFFIX}")


def overview_factors(width: int, height: int) -> list[int]:
    """Return the overview factors 2, 4, 8... until the long side is ``MIN_OVERVIEW_SIDE`` or less."""
    factors: list[int] = []
    long_side = max(width, height)
    while long_side > MIN_OVERVIEW_SIDE:
        factors.append(2 ** (len(factors) + 1))
        long_side = -(-long_side // 2)
    return factors


def suits_pyramid(src: rasterio.io.DatasetReader) -> bool:
    """Return True when the single-pass overview pyramid reproduces GDAL's average for ``src``.

    Nodata, alpha and masks need masked averages and a colour table needs nearest-neighbour
    overviews, so those images fall back to GDAL's overview builder.
    """
    return (
        src.dtypes[0] in _PYRAMID_DTYPES
        and src.nodata is None
        and tuple(src.colorinterp) in _PYRAMID_INTERPRETATIONS
        and all(flags == [MaskFlags.all_valid] for flags in src.mask_flag_enums)
    )


def write_tiled_geotiff(
    src: rasterio.io.DatasetReader,
    destination: str | Path,
    *,
    compress: bool = True,
    overviews: bool = True,
    checkpoint: Callable[[], None] | None = None,
) -> None:
    """Copy an open dataset into a tiled GeoTIFF, ``STRIP_ROWS`` rows at a time.

    ``destination`` may be a ``/vsimem/`` path. Without ``compress`` the tiles are stored raw,
    which suits in-memory copies that are read many times and never written to disk. With
    ``overviews`` GDAL builds internal overviews from the written tiles. ``checkpoint`` is
    called after each strip.
    """
    with rasterio.open(destination, "w", **_profile(src, compress)) as dst:
        _copy_header(src, dst)
        with closing(_strips(src)) as strips:
            for window, strip in strips:
                dst.write(strip, window=window)
                if checkpoint is not None:
                    checkpoint()

        factors = overview_factors(src.width, src.height) if overviews else []
        if factors:
            resampling = Resampling.nearest if src.colorinterp[0] == ColorInterp.palette else Resampling.average
            dst.build_overviews(factors, resampling)


def _convert(src: rasterio.io.DatasetReader, destination: Path, checkpoint: Callable[[], None]) -> None:
    factors = overview_factors(src.width, src.height)
    if not factors or not suits_pyramid(src):
        write_tiled_geotiff(src, destination, checkpoint=checkpoint)
        return

    # GDAL deletes an existing "<destination>.ovr" when it creates the GeoTIFF, so the
    # overview file is created second.
    with rasterio.open(destination, "w", **_profile(src, compress=True)) as dst:
        _copy_header(src, dst)
        sizes = [(-(-src.width // factor), -(-src.height // factor)) for factor in factors]
        with OverviewFileWriter(external_overview_path(destination), sizes, src.count, src.dtypes[0]) as writer:
            pyramid = OverviewPyramid(len(factors), writer.write_rows)
            with closing(_strips(src)) as strips:
                for window, strip in strips:
                    dst.write(strip, window=window)
                    pyramid.push(strip)
                    checkpoint()
            pyramid.finish()


def _no_checkpoint() -> None:
    pass


def _strips(src: rasterio.io.DatasetReader) -> Iterator[tuple[Window, np.ndarray]]:
    """Yield (window, bands x rows x cols strip) from top to bottom, decoded one strip ahead.

    A strip is valid until the next one is requested, because its buffer is then reused.
    Close the generator when done, which stops and joins the reader thread.
    """
    buffers: queue.Queue[np.ndarray] = queue.Queue()
    for _ in range(2):
        buffers.put(np.empty((src.count, STRIP_ROWS, src.width), dtype=src.dtypes[0]))
    decoded: queue.Queue[tuple[Window, np.ndarray] | BaseException | None] = queue.Queue()
    stop = threading.Event()

    def decode() -> None:
        try:
            for row in range(0, src.height, STRIP_ROWS):
                buffer = buffers.get()
                if stop.is_set():
                    return
                window = Window(0, row, src.width, min(STRIP_ROWS, src.height - row))
                src.read(window=window, out=buffer[:, : int(window.height)])
                decoded.put((window, buffer))
            decoded.put(None)
        except BaseException as exc:  # handed to the consuming thread, which re-raises it
            decoded.put(exc)

    reader = threading.Thread(target=decode, name="lrsgro-strip-reader", daemon=True)
    reader.start()
    try:
        in_use: np.ndarray | None = None
        while (item := decoded.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            if in_use is not None:
                buffers.put(in_use)
            window, in_use = item
            yield window, in_use[:, : int(window.height)]
    finally:
        stop.set()
        buffers.put(np.empty(0))  # wakes the reader if it waits for a buffer
        reader.join()


def _profile(src: rasterio.io.DatasetReader, compress: bool) -> dict:
    profile = {
        "driver": "GTiff",
        "width": src.width,
        "height": src.height,
        "count": src.count,
        "dtype": src.dtypes[0],
        "tiled": True,
        "blockxsize": TILE_WIDTH,
        "blockysize": STRIP_ROWS,
        "bigtiff": "IF_SAFER",
        "interleave": "band",
        "nodata": src.nodata,
    }
    if compress:
        # Compression runs in the calling thread: GDAL's worker threads would only compete with
        # the reader thread, which decodes more slowly than one thread compresses.
        profile.update(compress="zstd", zstd_level=ZSTD_LEVEL, predictor=2)
    if src.crs is not None:
        profile["crs"] = src.crs
        profile["transform"] = src.transform
    return profile


def _copy_header(src: rasterio.io.DatasetReader, dst: rasterio.io.DatasetWriter) -> None:
    # Called before any pixel is written: once GDAL's worker threads have flushed a tile, the
    # TIFF directory is on disk and the photometric interpretation can no longer change.
    dst.colorinterp = src.colorinterp
    if src.colorinterp[0] == ColorInterp.palette:
        dst.write_colormap(1, src.colormap(1))
    dst.update_tags(**src.tags())
