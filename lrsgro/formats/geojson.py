"""GeoJSON labels in any CRS, converted to pixels of their GeoTIFF.

Source: the GeoJSON format (RFC 7946, 2016, and the 2008 specification whose ``crs`` member
many tools still write). Used by SpaceNet, RarePlanes, solaris and most GIS exports; the
licence is that of the labels.

Format: a FeatureCollection, a single Feature or a bare geometry. Coordinates are in the
CRS named by the top-level ``crs`` member, written as ``{"type": "name", "properties":
{"name": "urn:ogc:def:crs:EPSG::32616"}}`` or in the older form ``{"type": "EPSG",
"properties": {"code": 32616}}``. Without a ``crs`` member they are lon/lat on WGS 84
(OGC:CRS84), as RFC 7946 requires. Every geographic CRS is read in lon/lat order, because
that is the order GeoJSON writers use.

Conversion: the image (``ReadContext.image_path``, the ``--image`` option) supplies the CRS
and the geotransform, read from its header with rasterio. Geometries in another CRS are
reprojected with ``rasterio.warp.transform_geom``; the inverse geotransform then gives pixel
(column, row) coordinates with (0, 0) at the top-left corner of the top-left pixel. A third
coordinate (height) is dropped.

Geometries: a Polygon is one object, holes kept; a MultiPolygon gives one object per part,
each with its holes; a GeometryCollection is read part by part. Points and LineStrings
(roads, say) have no area: they are skipped with a warning and counted as dropped.

Class: the first non-empty property among ``ReadContext.class_properties`` (default
``class``, ``category``, ``label``, ``type``, ``name``); a feature without one takes
``ReadContext.default_class`` when set, or is an error. Classes are coarse classes. Feature
indices (1-based) stand in for line numbers in issues.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lrsgro.errors import LabelFormatError
from lrsgro.formats.base import (
    ImageHeader,
    ReadContext,
    add_polygon,
    context_for_image,
    parse_json,
    read_image_header,
    record_error,
    record_warning,
    resolve_class,
)
from lrsgro.objects import ImageLabels, Point

NAME = "geojson"
DESCRIPTION = "GeoJSON polygons in any CRS, converted to pixels through the GeoTIFF given with --image"

_GEOJSON_TYPE = re.compile(r'"type"\s*:\s*"(FeatureCollection|Feature|Polygon|MultiPolygon|GeometryCollection)"')
_AREA_TYPES = ("Polygon", "MultiPolygon")
_WGS84_LONLAT = "OGC:CRS84"


def sniff(path: Path, head: str) -> int:
    """Score a file: a GeoJSON object (``"type": "FeatureCollection"`` and kin)."""
    text = head.lstrip("\ufeff").lstrip()
    if not text.startswith("{"):
        return 0
    if _GEOJSON_TYPE.search(text):
        return 75
    if path.suffix.lower() == ".geojson":
        return 50
    return 0


def read(path: Path, context: ReadContext) -> list[ImageLabels]:
    """Read one GeoJSON file into the ``ImageLabels`` of the image in ``context``.

    Raises:
        LabelFormatError: when no image is given, the image has no georeference, the CRS
            is unknown, or the file is not GeoJSON.
        ImageError: when the image cannot be opened.
    """
    if context.image_path is None:
        raise LabelFormatError(
            "GeoJSON labels need their GeoTIFF to convert coordinates to pixels",
            path=path,
            fix="pass the image with --image IMAGE.tif",
        )
    header = read_image_header(context.image_path)
    if not header.georeferenced:
        raise LabelFormatError(
            f"image {header.path} has no CRS or geotransform, so map coordinates cannot be placed on it",
            path=path,
            fix="pass the georeferenced GeoTIFF the labels were drawn on",
        )

    data = parse_json(path)
    features = _features(data, path)
    source_crs = _source_crs(data, path)

    labels = ImageLabels(image_id=header.path.stem, source=str(path), format=NAME, image_name=header.path.name)
    labels.metadata["crs"] = source_crs.to_string()
    labels.metadata["image_crs"] = header.crs.to_string()
    labels.gsd = _ground_sample_distance(header)
    context = context_for_image(context, labels, (header.width, header.height))

    skipped: dict[str, list[int]] = {}
    for index, feature in enumerate(features, start=1):
        _read_feature(labels, context, header, source_crs, feature, index, skipped)

    for kind, indices in skipped.items():
        listed = ", ".join(str(i) for i in indices[:10]) + (" ..." if len(indices) > 10 else "")
        record_warning(
            labels,
            f"{len(indices)} {kind} feature(s) skipped: only Polygon and MultiPolygon have an area "
            f"(features {listed})",
            indices[0],
        )
        labels.dropped += len(indices)

    return [labels]


def _features(data: Any, path: Path) -> list[dict[str, Any]]:
    if not isinstance(data, dict):
        raise LabelFormatError("expected a GeoJSON object", path=path)
    kind = data.get("type")
    if kind == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list):
            raise LabelFormatError("FeatureCollection has no 'features' list", path=path)
        return features
    if kind == "Feature":
        return [data]
    if (isinstance(kind, str) and "coordinates" in data) or kind == "GeometryCollection":
        return [{"type": "Feature", "properties": {}, "geometry": data}]
    raise LabelFormatError(
        f"expected a GeoJSON FeatureCollection, Feature or geometry, found type {kind!r}",
        path=path,
        fix="pass a GeoJSON file, or choose another --format",
    )


def _source_crs(data: dict[str, Any], path: Path) -> Any:
    from rasterio.crs import CRS
    from rasterio.errors import CRSError

    member = data.get("crs")
    if member is None:
        return CRS.from_user_input(_WGS84_LONLAT)

    properties = member.get("properties") if isinstance(member, dict) else None
    text = None
    if isinstance(properties, dict):
        if "name" in properties:
            text = str(properties["name"])
        elif "code" in properties:
            text = f"EPSG:{properties['code']}"
    if text is None:
        raise LabelFormatError(
            "the 'crs' member names no CRS", path=path, fix="write crs.properties.name, e.g. EPSG:32616"
        )
    try:
        crs = CRS.from_user_input(text)
    except CRSError:
        raise LabelFormatError(f"unknown CRS {text!r}", path=path, fix="name the CRS by an EPSG code") from None
    if crs.is_geographic and crs.to_epsg() == 4326:
        # GeoJSON writers put longitude first, whatever axis order the EPSG definition gives.
        return CRS.from_user_input(_WGS84_LONLAT)
    return crs


def _read_feature(
    labels: ImageLabels,
    context: ReadContext,
    header: ImageHeader,
    source_crs: Any,
    feature: Any,
    index: int,
    skipped: dict[str, list[int]],
) -> None:
    if not isinstance(feature, dict):
        record_error(labels, "feature is not an object", index, feature)
        return
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or "type" not in geometry:
        record_error(labels, "feature has no geometry", index)
        return

    polygons = _polygons(geometry, skipped, index)
    if not polygons:
        return

    properties = feature.get("properties") if isinstance(feature.get("properties"), dict) else {}
    name = _class_name(properties, context)
    if name is None:
        record_error(
            labels,
            f"feature names no class in any of the properties {', '.join(context.class_properties)}",
            index,
            _property_summary(properties),
        )
        return
    category = resolve_class(name, labels, context, index)
    if category is None:
        return

    try:
        pixel_polygons = [_to_pixels(polygon, source_crs, header) for polygon in polygons]
    except (ValueError, TypeError, IndexError) as error:
        record_error(labels, f"coordinates cannot be converted: {error}", index, geometry.get("coordinates"))
        return

    attributes = {}
    if "id" in feature:
        attributes["feature_id"] = str(feature["id"])
    for part, (exterior, holes) in enumerate(pixel_polygons):
        if len(pixel_polygons) > 1:
            attributes = {**attributes, "part": str(part)}
        add_polygon(labels, context, exterior, category, index, holes=holes, attributes=attributes)


def _polygons(geometry: dict[str, Any], skipped: dict[str, list[int]], index: int) -> list[list[Any]]:
    """Return the polygons (lists of rings) of a geometry; record other kinds as skipped."""
    kind = geometry.get("type")
    if kind == "Polygon":
        return [geometry.get("coordinates") or []]
    if kind == "MultiPolygon":
        return list(geometry.get("coordinates") or [])
    if kind == "GeometryCollection":
        found: list[list[Any]] = []
        for part in geometry.get("geometries") or []:
            if isinstance(part, dict):
                found.extend(_polygons(part, skipped, index))
        return found
    skipped.setdefault(str(kind), []).append(index)
    return []


def _to_pixels(rings: list[Any], source_crs: Any, header: ImageHeader) -> tuple[list[Point], tuple[tuple[Point, ...], ...]]:
    from rasterio.warp import transform_geom

    flat = [[(float(point[0]), float(point[1])) for point in ring] for ring in rings]
    if not flat or not flat[0]:
        raise ValueError("polygon has no exterior ring")

    if source_crs != header.crs:
        moved = transform_geom(source_crs, header.crs, {"type": "Polygon", "coordinates": flat})
        flat = [[(float(x), float(y)) for x, y, *_ in ring] for ring in moved["coordinates"]]

    inverse = ~header.transform
    pixel_rings = [[inverse * point for point in ring] for ring in flat]
    return pixel_rings[0], tuple(tuple(ring) for ring in pixel_rings[1:])


def _ground_sample_distance(header: ImageHeader) -> float | None:
    """Return the pixel size in metres for a north-up raster in a metre-based CRS, else None."""
    transform = header.transform
    if header.crs.is_geographic or header.crs.linear_units not in ("metre", "meter"):
        return None
    if transform.b != 0 or transform.d != 0 or abs(transform.a) != abs(transform.e):
        return None
    return abs(transform.a)


def _class_name(properties: dict[str, Any], context: ReadContext) -> str | None:
    for key in context.class_properties:
        value = properties.get(key)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    return context.default_class


def _property_summary(properties: dict[str, Any]) -> str:
    return ", ".join(sorted(properties)[:20])
