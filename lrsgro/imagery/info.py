"""Image header facts: size, bands, georeference, GSD, acquisition date and centre latitude.

Everything here comes from the file header and its name. No pixel is decoded, so opening a
40,000-pixel GeoTIFF or a PNG that claims 30,000 x 30,000 pixels costs about as little as
opening a thumbnail.

Acquisition date, first match wins:

1. metadata that names an acquisition: ``ACQUISITIONDATE``, ``ACQUISITION_DATE``,
   ``ACQUISITIONDATETIME`` (also in GDAL's ``IMAGERY`` domain) or the EXIF
   ``DateTimeOriginal`` of a JPEG;
2. a date in the file name, ``YYYYMMDD`` or ``YYYY-MM-DD`` not touching other digits
   (NAIP ``m_4709963_se_14_1_20090818.tif`` gives 2009-08-18); the first valid one is used;
3. the TIFF tag ``TIFFTAG_DATETIME``, last because the TIFF standard defines it as the time
   the file was created, which processing software often sets to the processing date.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import rasterio
from rasterio.crs import CRS
from rasterio.errors import CRSError, NotGeoreferencedWarning, RasterioIOError
from rasterio.warp import transform as transform_points

from lrsgro.errors import ImageError

logger = logging.getLogger(__name__)

ACQUISITION_TAGS = (
    "ACQUISITIONDATE",
    "ACQUISITION_DATE",
    "ACQUISITIONDATETIME",
    "EXIF_DateTimeOriginal",
)
CREATION_TAG = "TIFFTAG_DATETIME"
EARTH_RADIUS_M = 6_371_008.8
MIN_YEAR = 1900
MAX_YEAR = 2100

_NAME_DATE = re.compile(r"(?<!\d)(\d{4})(-?)(\d{2})\2(\d{2})(?!\d)")
_TAG_DATE = re.compile(r"^\s*(\d{4})[-:/]?(\d{2})[-:/]?(\d{2})")


@dataclass(frozen=True)
class ImageInfo:
    """Header facts of one image file.

    Attributes:
        path: the file as given to ``open_image``.
        width: columns in full-resolution pixels.
        height: rows in full-resolution pixels.
        count: number of bands.
        dtype: numpy name of the band data type, such as ``uint8`` or ``uint16``.
        crs: ``EPSG:<code>`` when the CRS has one, otherwise its WKT; None without a CRS.
        transform: affine geotransform ``(a, b, c, d, e, f)`` in rasterio's order (``c`` and
            ``f`` are the offsets); None for pixel-only images.
        gsd: ground sample distance in metres per pixel; None when it cannot be computed.
        acquisition_date: the date the image was taken, when the file or its name records it.
        center_lat: latitude in degrees of the image centre; None when not georeferenced.
        format: GDAL driver name: ``GTiff``, ``PNG``, ``JPEG`` and so on.
        date_source: where ``acquisition_date`` came from: ``metadata``, ``file name`` or
            ``TIFFTAG_DATETIME``; None without a date.
    """

    path: Path
    width: int
    height: int
    count: int
    dtype: str
    crs: str | None
    transform: tuple[float, float, float, float, float, float] | None
    gsd: float | None
    acquisition_date: dt.date | None
    center_lat: float | None
    format: str
    date_source: str | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.width, self.height

    @property
    def pixels(self) -> int:
        """Number of pixels per band."""
        return self.width * self.height


def open_image(path: str | Path) -> ImageInfo:
    """Read the header of an image file into an ``ImageInfo``, decoding no pixels.

    Raises:
        ImageError: the file is missing or no GDAL driver can read it.
    """
    with open_dataset(path) as dataset:
        return info_from_dataset(Path(path), dataset)


def open_dataset(path: str | Path) -> rasterio.io.DatasetReader:
    """Open ``path`` with rasterio, turning a missing or unreadable file into ImageError."""
    file_path = Path(path)
    if not file_path.exists():
        raise ImageError(
            "image not found",
            path=file_path,
            fix="check the path, or the images folder passed with --images",
        )
    if not file_path.is_file():
        raise ImageError("image path is not a regular file", path=file_path, fix="point it at an image file")

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            return rasterio.open(file_path)
    except RasterioIOError as exc:
        raise ImageError(
            f"cannot read image: {exc}",
            path=file_path,
            fix="check that the file is a complete GeoTIFF, PNG or JPEG; re-export or re-download it",
        ) from exc


def info_from_dataset(path: Path, dataset: rasterio.io.DatasetReader) -> ImageInfo:
    """Build the ``ImageInfo`` of an open rasterio dataset."""
    crs = dataset.crs
    transform = None if dataset.transform.is_identity and crs is None else dataset.transform
    acquisition_date, date_source = _acquisition_date(path, dataset)
    centre_lat = _centre_latitude(crs, transform, dataset.width, dataset.height)

    return ImageInfo(
        path=path,
        width=dataset.width,
        height=dataset.height,
        count=dataset.count,
        dtype=dataset.dtypes[0],
        crs=_crs_text(crs),
        transform=tuple(transform)[:6] if transform is not None else None,
        gsd=_ground_sample_distance(crs, transform, centre_lat),
        acquisition_date=acquisition_date,
        center_lat=centre_lat,
        format=dataset.driver,
        date_source=date_source,
    )


def date_from_name(name: str) -> dt.date | None:
    """Return the first valid ``YYYYMMDD`` or ``YYYY-MM-DD`` date in a file name, or None.

    A candidate must not touch other digits, so an 8-digit run inside a longer number does
    not count, and an impossible date such as ``20091345`` is skipped.
    """
    for match in _NAME_DATE.finditer(name):
        parsed = _make_date(match.group(1), match.group(3), match.group(4))
        if parsed is not None:
            return parsed
    return None


def date_from_tag(value: str) -> dt.date | None:
    """Parse the date at the start of a metadata value such as ``2009:08:18 10:21:00``."""
    match = _TAG_DATE.match(value)
    if match is None:
        return None
    return _make_date(*match.groups())


def _acquisition_date(path: Path, dataset: rasterio.io.DatasetReader) -> tuple[dt.date | None, str | None]:
    tags = dict(dataset.tags())
    if "IMAGERY" in dataset.tag_namespaces():
        tags.update({f"IMAGERY:{k}": v for k, v in dataset.tags(ns="IMAGERY").items()})

    for key, value in tags.items():
        if key.removeprefix("IMAGERY:") in ACQUISITION_TAGS:
            parsed = date_from_tag(value)
            if parsed is not None:
                return parsed, "metadata"
            logger.debug("%s: ignoring unparseable %s=%r", path, key, value)

    parsed = date_from_name(path.name)
    if parsed is not None:
        return parsed, "file name"

    if CREATION_TAG in tags:
        parsed = date_from_tag(tags[CREATION_TAG])
        if parsed is not None:
            return parsed, CREATION_TAG
    return None, None


def _make_date(year: str, month: str, day: str) -> dt.date | None:
    try:
        parsed = dt.date(int(year), int(month), int(day))
    except ValueError:
        return None
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        return None
    return parsed


def _crs_text(crs: CRS | None) -> str | None:
    if crs is None:
        return None
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg is not None else crs.to_wkt()


def _centre_latitude(crs: CRS | None, transform, width: int, height: int) -> float | None:
    if crs is None or transform is None:
        return None

    x, y = transform * (width / 2, height / 2)
    try:
        if crs.is_geographic:
            latitude = y
        else:
            _, lats = transform_points(crs, "EPSG:4326", [x], [y])
            latitude = lats[0]
    except Exception as exc:  # PROJ raises several types for CRSs it cannot transform
        logger.debug("cannot transform the image centre to latitude: %s", exc)
        return None

    if not math.isfinite(latitude) or not -90.0 <= latitude <= 90.0:
        return None
    return float(latitude)


def _ground_sample_distance(crs: CRS | None, transform, centre_lat: float | None) -> float | None:
    if crs is None or transform is None:
        return None

    # The square root of the pixel area is also correct for rotated or non-square pixels.
    pixel_area = abs(transform.a * transform.e - transform.b * transform.d)
    if pixel_area == 0:
        return None

    if crs.is_projected:
        try:
            _, metres_per_unit = crs.linear_units_factor
        except CRSError:
            logger.debug("projected CRS without a linear unit; GSD unknown")
            return None
        return math.sqrt(pixel_area) * metres_per_unit

    if crs.is_geographic and centre_lat is not None:
        # NOTE: a sphere of the mean Earth radius, measured at the image centre, so the GSD
        # can be off the WGS 84 ellipsoid by an estimated 0.5 % at most.
        metres_per_degree = math.pi / 180 * EARTH_RADIUS_M
        area_m2 = pixel_area * metres_per_degree**2 * math.cos(math.radians(centre_lat))
        return math.sqrt(area_m2) if area_m2 > 0 else None
    return None
