"""Camera import and export: GeoJSON (RFC 7946) and CSV, lossless both ways.

A file is read whole and validated whole before anything is returned, so a
caller that writes only after :func:`read_cameras` succeeds is all-or-nothing.
The site's working CRS travels in GeoJSON as the foreign member
``working_crs`` (RFC 7946 §6.1), because homographies are expressed in it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Final, TextIO

from camera_registry.camera import Camera, check_unique_ids
from skynet.errors import BadInputError

#: Column order of the CSV format, and the record fields of the GeoJSON one.
FIELDS: Final = tuple(f.name for f in fields(Camera))
_POSITION: Final = frozenset({"id", "lon", "lat"})
FORMATS: Final = ("geojson", "csv")


@dataclass(frozen=True)
class CameraFile:
    """What a camera file holds: validated records and the CRS it names, if any."""

    cameras: list[Camera]
    working_crs: str | None = None


def format_of(path: Path, explicit: str | None = None) -> str:
    """The format named explicitly or by the file's suffix."""
    name = (explicit or path.suffix.lstrip(".")).lower()
    name = {"json": "geojson"}.get(name, name)
    if name not in FORMATS:
        msg = f"unknown camera file format {name!r} (use {' or '.join(FORMATS)})"
        raise BadInputError(msg, source=str(path))
    return name


def read_cameras(path: str | Path, file_format: str | None = None) -> CameraFile:
    """Read and validate every record of a GeoJSON or CSV camera file."""
    path = Path(path)
    kind = format_of(path, file_format)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInputError("file not found", source=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"cannot read file ({exc})", source=str(path)) from None
    try:
        result = _parse_geojson(text) if kind == "geojson" else _parse_csv(text)
        check_unique_ids(result.cameras)
    except BadInputError as exc:
        raise BadInputError(
            exc.reason, source=str(path), record=exc.record, field=exc.field
        ) from None
    return result


def write_cameras(
    cameras: Iterable[Camera],
    path: str | Path,
    file_format: str | None = None,
    *,
    working_crs: str | None = None,
) -> None:
    """Write cameras as GeoJSON or CSV (by suffix unless ``file_format`` is given).

    A path that cannot be written (missing folder, no permission) is bad input.
    """
    path = Path(path)
    kind = format_of(path, file_format)
    try:
        with path.open("w", encoding="utf-8", newline="") as stream:
            if kind == "geojson":
                json.dump(to_geojson(cameras, working_crs=working_crs), stream)
            else:
                write_csv(cameras, stream)
    except OSError as exc:
        msg = f"cannot write camera file ({exc.strerror or exc})"
        raise BadInputError(msg, source=str(path)) from None


def to_geojson(cameras: Iterable[Camera], *, working_crs: str | None = None) -> dict[str, Any]:
    """A FeatureCollection of Points with every other field as a property."""
    features = [camera_feature(camera) for camera in cameras]
    collection: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if working_crs is not None:
        collection["working_crs"] = working_crs
    return collection


def camera_feature(camera: Camera) -> dict[str, Any]:
    """One camera as a GeoJSON Feature."""
    record = camera.as_dict()
    properties = {name: record[name] for name in FIELDS if name not in _POSITION}
    return {
        "type": "Feature",
        "id": camera.id,
        "geometry": {"type": "Point", "coordinates": [camera.lon, camera.lat]},
        "properties": properties,
    }


def write_csv(cameras: Iterable[Camera], stream: TextIO) -> None:
    """CSV with one column per field; homography as 9 numbers, tags ';'-joined."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(FIELDS)
    for camera in cameras:
        row = camera.as_dict()
        row["homography"] = (
            "" if camera.homography is None else " ".join(repr(v) for v in camera.homography)
        )
        row["tags"] = ";".join(camera.tags)
        row["area"] = camera.area or ""
        writer.writerow(["" if row[name] is None else row[name] for name in FIELDS])


def _parse_geojson(text: str) -> CameraFile:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInputError(f"not valid JSON ({exc})") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise BadInputError("not a GeoJSON FeatureCollection", field="type")
    features = document.get("features")
    if not isinstance(features, list):
        raise BadInputError("'features' must be a list", field="features")
    crs = document.get("working_crs")
    cameras = [_feature_to_camera(feature, index) for index, feature in enumerate(features)]
    return CameraFile(cameras, None if crs is None else str(crs))


def _feature_to_camera(feature: Any, index: int) -> Camera:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise BadInputError("is not a GeoJSON Feature", record=index, field="type")
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        raise BadInputError("geometry must be a Point", record=index, field="geometry")
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list) or len(coordinates) not in (2, 3):
        raise BadInputError("Point needs [lon, lat]", record=index, field="geometry")
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict):
        raise BadInputError("properties must be an object", record=index, field="properties")
    _reject_unknown(properties.keys(), index)
    record = dict(properties)
    record["id"] = feature.get("id", properties.get("id"))
    record["lon"], record["lat"] = coordinates[0], coordinates[1]
    return Camera.from_mapping(record, record=index)


def _parse_csv(text: str) -> CameraFile:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None:
        raise BadInputError("empty CSV (no header row)")
    _reject_unknown(reader.fieldnames, None)
    cameras = []
    for index, row in enumerate(reader):
        if None in row:
            raise BadInputError("more cells than header columns", record=index)
        cameras.append(Camera.from_mapping(row, record=index))
    return CameraFile(cameras)


def _reject_unknown(names: Iterable[str], index: int | None) -> None:
    unknown = sorted(set(names) - set(FIELDS))
    if unknown:
        msg = f"unknown field(s) {', '.join(map(repr, unknown))}; known: {', '.join(FIELDS)}"
        raise BadInputError(msg, record=index, field=unknown[0])
