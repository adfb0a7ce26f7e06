"""``UHRImage``: views, crops and windowed reads of one image, in 8-bit RGB.

Where the pixels come from depends on the file (limits are described in ``limits``):

- GeoTIFF and any other format GDAL reads by block: the file itself. Views use its overviews
  when it has them; without overviews a view still works but reads every pixel.
- PNG or JPEG up to ``direct_max_pixels``: an uncompressed in-memory copy, decoded on the first
  pixel read and shared by later ``UHRImage`` objects of the same file (see ``memory``).
- PNG or JPEG up to ``pixel_budget``: the tiled copy from ``lrsgro.imagery.cache``, converted
  on the first pixel read and reused by later processes.
- PNG or JPEG above ``pixel_budget``: the file itself, scanline by scanline. Crops and windows
  up to the budget work, but a view is rejected, since it would decode the whole image.

A ``UHRImage`` keeps a rasterio dataset open. Use one per thread, and close it or use it as
a context manager.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import NamedTuple

import numpy as np
import rasterio
from rasterio.enums import ColorInterp, Resampling
from rasterio.errors import RasterioError
from rasterio.windows import Window

from lrsgro.errors import ImageError
from lrsgro.imagery.bands import Stretch, compute_stretch, plan_bands, to_rgb8
from lrsgro.imagery.cache import ensure_tiled_copy
from lrsgro.imagery.convert import check_png_complete
from lrsgro.imagery.frames import Box, Size, clamp_box, is_empty, view_size
from lrsgro.imagery.gdal_cache import limited_block_cache
from lrsgro.imagery.info import ImageInfo, info_from_dataset, open_dataset
from lrsgro.imagery.limits import DEFAULT_DIRECT_MAX_PIXELS, PIXEL_BUDGET_ENV, resolve_pixel_budget
from lrsgro.imagery.memory import open_decoded

logger = logging.getLogger(__name__)

DEFAULT_VIEW_SIDE = 1024
STRETCH_SAMPLE_SIDE = 1024
SCANLINE_FORMATS = frozenset({"PNG", "JPEG"})
NO_OVERVIEW_WARNING_FACTOR = 64
# GDAL's block cache during a read (see gdal_cache). With benchmarks/imagery.py on 2 vCPUs,
# it lowered the peak memory of 20 views and crops of a cached 20000 x 20000 copy by about
# 8 MiB at the same speed. Large reads of a GeoTIFF with 512 x 512 pixel-interleaved tiles were
# about 15% slower than with GDAL's default cache, because tiles are decoded again per band.
READ_BLOCK_CACHE_BYTES = 4 * 2**20

_stretch_memo: dict[tuple[str, int, int], Stretch] = {}


class PixelWindow(NamedTuple):
    """RGB pixels of a full-resolution window and where the window starts in the image.

    Attributes:
        pixels: rows x cols x 3 uint8 array.
        origin: (x0, y0), the image pixel of ``pixels[0, 0]``.
    """

    pixels: np.ndarray
    origin: tuple[int, int]


class UHRImage:
    """One image opened for 8-bit RGB views, crops and windowed reads.

    Args:
        path: the image file.
        cache_dir: folder for tiled copies of large PNG and JPEG files; the default comes
            from ``lrsgro.imagery.cache.default_cache_dir``.
        pixel_budget: maximum number of pixels decoded from a file that cannot be read by
            window, and maximum size of one full-resolution crop; default from ``limits``.
        direct_max_pixels: PNG and JPEG files up to this many pixels are decoded into memory
            instead of converted.

    Raises:
        ImageError: the file is missing or unreadable (at construction, from the header).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        cache_dir: str | Path | None = None,
        pixel_budget: int | None = None,
        direct_max_pixels: int = DEFAULT_DIRECT_MAX_PIXELS,
    ) -> None:
        self._path = Path(path)
        self._cache_dir = cache_dir
        self._budget = resolve_pixel_budget(pixel_budget)
        self._direct_max_pixels = direct_max_pixels

        dataset = open_dataset(self._path)
        try:
            self._info = info_from_dataset(self._path, dataset)
            colormap = dataset.colormap(1) if dataset.colorinterp[0] == ColorInterp.palette else None
            self._plan = plan_bands(dataset.count, dataset.colorinterp, colormap)
            self._nodata = dataset.nodata
        except BaseException:
            dataset.close()
            raise

        # A file that GDAL reads by block serves pixels through this same handle. For a PNG
        # or JPEG, the first read chooses between memory, the tiled copy and scanlines.
        self._dataset: rasterio.io.DatasetReader | None = None
        self._source = ""
        if self._info.format in SCANLINE_FORMATS:
            dataset.close()
        else:
            self._dataset = dataset
            self._source = "file"
        self._stretch: Stretch | None = None
        self._warned_overviews = False

    @property
    def info(self) -> ImageInfo:
        """Header facts of the image."""
        return self._info

    @property
    def path(self) -> Path:
        """The image file."""
        return self._path

    @property
    def source(self) -> str:
        """Where pixels are read from: ``file``, ``memory``, ``tiled copy`` or ``scanlines``.

        Empty until the first pixel read.
        """
        return self._source

    @property
    def stretch(self) -> Stretch | None:
        """The percentile stretch used for a non-8-bit image, computed on first use."""
        if self._info.dtype == "uint8" or self._plan.palette is not None:
            return None
        if self._stretch is None:
            self._stretch = self._compute_stretch()
        return self._stretch

    def view(self, max_side: int = DEFAULT_VIEW_SIDE) -> np.ndarray:
        """Return the whole image downsampled so its long side is ``max_side`` (never upsampled).

        Returns:
            rows x cols x 3 uint8 RGB array.

        Raises:
            ImageError: the image is a PNG or JPEG above the pixel budget, or reading failed.
        """
        size = view_size(self._info.size, max_side)
        self._open_pixels()
        if self._source == "scanlines":
            raise ImageError(
                f"a view of this {self._info.width}x{self._info.height} {self._info.format} needs all "
                f"{self._info.pixels:,} pixels decoded, over the pixel budget of {self._budget:,}",
                path=self._path,
                fix=f"raise pixel_budget or {PIXEL_BUDGET_ENV} if the file is genuine, or convert it "
                "to a tiled GeoTIFF with overviews",
            )

        self._warn_without_overviews(size)
        window = Window(0, 0, self._info.width, self._info.height)
        return to_rgb8(self._read(window, size), self._plan, self.stretch)

    def crop(self, box: Box, out_max_side: int | None = None) -> np.ndarray:
        """Return the full-resolution pixels inside ``box``, optionally downsampled.

        ``box`` is (x0, y0, x1, y1) in full-resolution pixels; floats are widened to whole
        pixels and the box is clamped to the image. With ``out_max_side`` the crop is
        resampled (average, from overviews when they help) so its long side is at most that.

        Returns:
            rows x cols x 3 uint8 RGB array.

        Raises:
            ImageError: the box is empty inside the image, exceeds the pixel budget at full
                resolution, or reading failed.
        """
        window = self._window(box)
        size = (int(window.width), int(window.height))
        if out_max_side is None:
            self._check_budget(window, "crop")
            out_size = size
        else:
            out_size = view_size(size, out_max_side)

        self._open_pixels()
        if self._source == "scanlines":
            self._check_budget(window, "crop")
        return to_rgb8(self._read(window, out_size), self._plan, self.stretch)

    def read_window(self, box: Box) -> PixelWindow:
        """Return the full-resolution RGB pixels of ``box`` with the window's origin.

        The window is ``box`` widened to whole pixels and clamped to the image, so
        ``pixels[r, c]`` is image pixel ``(origin[0] + c, origin[1] + r)``.

        Raises:
            ImageError: the box is empty inside the image, exceeds the pixel budget, or
                reading failed.
        """
        window = self._window(box)
        self._check_budget(window, "window")
        self._open_pixels()
        size = (int(window.width), int(window.height))
        pixels = to_rgb8(self._read(window, size), self._plan, self.stretch)
        return PixelWindow(pixels=pixels, origin=(int(window.col_off), int(window.row_off)))

    def close(self) -> None:
        """Close the pixel source; the header in ``info`` stays available."""
        if self._dataset is not None:
            self._dataset.close()
            self._dataset = None
        self._source = ""

    def __enter__(self) -> UHRImage:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        info = self._info
        return f"UHRImage({str(self._path)!r}, {info.width}x{info.height}, {info.count} bands, {info.dtype})"

    def _window(self, box: Box) -> Window:
        clamped = clamp_box(box, self._info.size)
        if is_empty(clamped):
            raise ImageError(
                f"box {tuple(box)!r} is empty inside the {self._info.width}x{self._info.height} image",
                path=self._path,
                fix="give (x0, y0, x1, y1) in full-resolution pixels with x0 < x1 and y0 < y1, "
                "overlapping the image",
            )

        x0, y0 = math.floor(clamped[0]), math.floor(clamped[1])
        x1, y1 = math.ceil(clamped[2]), math.ceil(clamped[3])
        return Window(x0, y0, x1 - x0, y1 - y0)

    def _check_budget(self, window: Window, read_kind: str) -> None:
        pixels = int(window.width) * int(window.height)
        if pixels > self._budget:
            raise ImageError(
                f"a full-resolution {read_kind} of {int(window.width)}x{int(window.height)} = {pixels:,} "
                f"pixels is over the pixel budget of {self._budget:,}",
                path=self._path,
                fix=f"pass out_max_side to downsample, use a smaller box, or raise pixel_budget "
                f"or {PIXEL_BUDGET_ENV}",
            )

    def _check_block_size(self, dataset: rasterio.io.DatasetReader) -> None:
        # GDAL decodes whole blocks, so a file stored as one huge strip is decoded whole
        # by any read, however small the window.
        rows, cols = dataset.block_shapes[0]
        if rows * cols > self._budget:
            raise ImageError(
                f"the image is stored in blocks of {cols}x{rows} = {rows * cols:,} pixels, over the "
                f"pixel budget of {self._budget:,}, so every read would decode a whole block",
                path=self._path,
                fix="re-save it as a tiled GeoTIFF (gdal_translate -co TILED=YES -co COMPRESS=DEFLATE), "
                f"or raise pixel_budget or {PIXEL_BUDGET_ENV}",
            )

    def _warn_without_overviews(self, view: Size) -> None:
        dataset = self._open_pixels()
        if self._warned_overviews or self._source != "file" or dataset.overviews(self._plan.indexes[0]):
            return
        if self._info.pixels >= NO_OVERVIEW_WARNING_FACTOR * view[0] * view[1]:
            logger.warning(
                "%s has no overviews, so each view reads all %s pixels; add them once with "
                "'gdaladdo -r average' or rasterio's build_overviews",
                self._path,
                f"{self._info.pixels:,}",
            )
            self._warned_overviews = True

    def _open_pixels(self) -> rasterio.io.DatasetReader:
        if self._dataset is not None:
            return self._dataset

        info = self._info
        if info.format == "PNG":
            check_png_complete(self._path)

        if info.format not in SCANLINE_FORMATS:
            self._dataset = open_dataset(self._path)
            self._source = "file"
        elif info.pixels <= min(self._direct_max_pixels, self._budget):
            self._dataset = open_decoded(self._path)
            self._source = "memory"
        elif info.pixels <= self._budget:
            copy = ensure_tiled_copy(self._path, self._cache_dir)
            # GDAL finds the copy's .ovr file by listing the cache folder when the copy is
            # opened, which GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR would turn off.
            with rasterio.Env(GDAL_DISABLE_READDIR_ON_OPEN="NO"):
                self._dataset = open_dataset(copy.path)
            self._source = "tiled copy"
        else:
            logger.warning(
                "%s: %s pixels is over the pixel budget of %s; reading scanlines, views disabled",
                self._path,
                f"{info.pixels:,}",
                f"{self._budget:,}",
            )
            self._dataset = open_dataset(self._path)
            self._source = "scanlines"
        return self._dataset

    def _read(self, window: Window, out_size: Size) -> np.ndarray:
        dataset = self._open_pixels()
        if self._source == "file":
            self._check_block_size(dataset)
        indexes = list(self._plan.indexes)
        resampling = Resampling.nearest if self._plan.palette is not None else Resampling.average
        try:
            with limited_block_cache(READ_BLOCK_CACHE_BYTES):
                if len(indexes) == 3 and self._info.dtype == "uint8" and self._plan.palette is None:
                    # GDAL fills a rows x cols x 3 array directly, so the bands x rows x cols
                    # view returned here needs no copy in to_rgb8.
                    pixels = np.empty((out_size[1], out_size[0], 3), dtype=np.uint8)
                    dataset.read(indexes, window=window, out=np.moveaxis(pixels, -1, 0), resampling=resampling)
                    return np.moveaxis(pixels, -1, 0)

                out_shape = (len(indexes), out_size[1], out_size[0])
                return dataset.read(indexes, window=window, out_shape=out_shape, resampling=resampling)
        except RasterioError as exc:
            raise ImageError(
                f"cannot decode pixels: {exc}",
                path=self._path,
                fix="the file is damaged or truncated; re-export or re-download it (for a cached "
                "copy, delete it from the cache folder)",
            ) from exc

    def _compute_stretch(self) -> Stretch:
        stat = self._path.stat()
        memo_key = (str(self._path.resolve()), stat.st_size, stat.st_mtime_ns)
        cached = _stretch_memo.get(memo_key)
        if cached is not None:
            return cached

        self._open_pixels()
        if self._source == "scanlines":
            # NOTE: a source over the pixel budget cannot be viewed, so its stretch comes from
            # the top-left corner only and may not fit the rest of the image.
            side = min(STRETCH_SAMPLE_SIDE, self._info.width), min(STRETCH_SAMPLE_SIDE, self._info.height)
            sample = self._read(Window(0, 0, side[0], side[1]), side)
        else:
            size = view_size(self._info.size, STRETCH_SAMPLE_SIDE)
            sample = self._read(Window(0, 0, self._info.width, self._info.height), size)

        stretch = compute_stretch(sample, self._nodata)
        _stretch_memo[memo_key] = stretch
        logger.debug("%s: stretch low=%s high=%s", self._path, stretch.low, stretch.high)
        return stretch
