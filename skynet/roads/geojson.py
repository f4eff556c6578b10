"""Road networks as GeoJSON LineStrings (WGS84, RFC 7946 order lon/lat).

Writing: one Feature per directed edge with its attributes as properties.
Reading: every LineString (or MultiLineString part) is a road from its first
to its last point; end points closer than ``merge_m`` metres become one node.
Roads are not split where they merely cross. ``oneway`` true makes one edge
(``"-1"``: one against the drawing direction), else two; a two-way line that
retraces one already read backwards is the back direction of a road we
wrote, so it is skipped. Lengths are measured in the metric working CRS
unless a feature carries its own ``length`` property.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Final

import networkx as nx
import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from camera_registry.crs import SiteCRS
from skynet.errors import BadInputError
from skynet.roads.classes import parse_oneway
from skynet.roads.network import RoadNetwork

#: End points closer than this (metres) are one node.
MERGE_M: Final = 0.5
_WRITTEN_APART: Final = frozenset({"u", "v", "key", "length", "geometry"})
_READ_APART: Final = _WRITTEN_APART | {"reversed"}
#: OSM's ``oneway`` values for travel against the line's drawing direction.
_AGAINST: Final = ("-1", "reverse")


def write_geojson(network: RoadNetwork, path: str | Path) -> None:
    """Save the edges as a GeoJSON FeatureCollection in WGS84."""
    document = to_geojson(network)
    try:
        Path(path).write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    except OSError as exc:
        msg = f"cannot write GeoJSON ({exc.strerror or exc})"
        raise BadInputError(msg, source=str(path)) from None


def to_geojson(network: RoadNetwork) -> dict[str, Any]:
    """The edges as a FeatureCollection; lon/lat geometries in one vectorised call."""
    crs = network.crs

    def unproject(coordinates: NDArray[np.float64]) -> NDArray[np.float64]:
        lon, lat = crs.to_lonlat(coordinates[:, 0], coordinates[:, 1])
        return np.column_stack([lon, lat])

    lonlat = shapely.transform(network.geometries, unproject)
    geometries = json.loads("[" + ",".join(str(g) for g in shapely.to_geojson(lonlat)) + "]")
    features = []
    for (u, v, key, data), geometry in zip(
        network.graph.edges(keys=True, data=True), geometries, strict=True
    ):
        properties: dict[str, Any] = {"u": u, "v": v, "key": key, "length": data["length"]}
        properties.update(
            (name, _jsonable(value)) for name, value in data.items() if name not in _WRITTEN_APART
        )
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    return {"type": "FeatureCollection", "working_crs": crs.code, "features": features}


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return str(value)


def read_geojson(
    path: str | Path,
    crs: SiteCRS | None = None,
    *,
    largest_component: bool = False,
    merge_m: float = MERGE_M,
) -> RoadNetwork:
    """A road network from GeoJSON LineStrings (see the module docstring)."""
    source = str(path)
    lines, properties, declared = _read_lines(path, source)
    coordinates = shapely.get_coordinates(lines)
    if crs is not None:
        working = crs
    elif declared is not None:
        working = SiteCRS.from_user_input(declared)
    else:
        working = SiteCRS.for_points(coordinates[:, 0], coordinates[:, 1])

    def project(points: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = working.to_metric(points[:, 0], points[:, 1])
        return np.column_stack([x, y])

    metric = shapely.transform(lines, project)
    lengths = shapely.length(metric)
    keep = lengths > 0.0
    metric, lines, lengths = metric[keep], lines[keep], lengths[keep]
    properties = [p for p, k in zip(properties, keep, strict=True) if k]
    if metric.size == 0:
        raise BadInputError("no LineString of positive length", source=source)
    node_of_end = _merge_ends(metric, merge_m)
    graph = nx.MultiDiGraph(crs=working.code)
    ends = np.concatenate([shapely.get_point(metric, 0), shapely.get_point(metric, -1)])
    end_lonlat = np.concatenate([shapely.get_point(lines, 0), shapely.get_point(lines, -1)])
    xy, lonlat = shapely.get_coordinates(ends), shapely.get_coordinates(end_lonlat)
    _, first_row = np.unique(node_of_end, return_index=True)
    graph.add_nodes_from(
        (
            int(node_of_end[r]),
            {"x": xy[r, 0], "y": xy[r, 1], "lon": lonlat[r, 0], "lat": lonlat[r, 1]},
        )
        for r in first_row
    )
    _add_edges(graph, lines, metric, lengths, node_of_end, properties)
    return RoadNetwork.from_graph(
        graph, working, largest_component=largest_component, source=source
    )


def _add_edges(
    graph: nx.MultiDiGraph,
    lines: NDArray[np.object_],
    metric: NDArray[np.object_],
    lengths: NDArray[np.float64],
    node_of_end: NDArray[np.intp],
    properties: list[dict[str, Any]],
) -> None:
    """One edge per one-way line, two per two-way line; a two-way line that is the
    reverse of one already read (the back direction we export) adds nothing."""
    count = metric.size
    reversed_lines = shapely.reverse(metric)
    coordinates, owner = shapely.get_coordinates(lines, return_index=True)
    bounds = np.searchsorted(owner, np.arange(count + 1))
    two_way_seen: set[bytes] = set()
    for row in range(count):
        data = {k: v for k, v in properties[row].items() if k not in _READ_APART}
        oneway = parse_oneway(data.get("oneway", False))
        if not oneway:
            points = np.round(coordinates[bounds[row] : bounds[row + 1]], 9)
            if points[::-1].tobytes() in two_way_seen:
                continue
            two_way_seen.add(points.tobytes())
        a, b = int(node_of_end[row]), int(node_of_end[row + count])
        data.update(oneway=oneway, length=_length(properties[row], float(lengths[row])))
        against = str(properties[row].get("oneway", "")).strip() in _AGAINST
        if not oneway or not against:
            graph.add_edge(a, b, **data, geometry=metric[row], reversed=False)
        if not oneway or against:
            graph.add_edge(b, a, **data, geometry=reversed_lines[row], reversed=True)


def _length(properties: dict[str, Any], measured: float) -> float:
    """The feature's own ``length`` (m) when it has a usable one, else the measured."""
    given = properties.get("length")
    if isinstance(given, int | float) and math.isfinite(given) and given > 0.0:
        return float(given)
    return measured


def _read_lines(
    path: str | Path, source: str
) -> tuple[NDArray[np.object_], list[dict[str, Any]], str | None]:
    """Lines in lon/lat, their properties, and the ``working_crs`` our export writes."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInputError("no such file", source=source) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        msg = f"not a GeoJSON road network ({exc})"
        raise BadInputError(msg, source=source) from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise BadInputError("not a GeoJSON FeatureCollection", source=source)
    lines: list[Any] = []
    properties: list[dict[str, Any]] = []
    for index, feature in enumerate(document.get("features") or []):
        geometry = (feature or {}).get("geometry") or {}
        kind, coordinates = geometry.get("type"), geometry.get("coordinates")
        parts: list[Any] = []
        if kind == "LineString":
            parts = [coordinates]
        elif kind == "MultiLineString" and isinstance(coordinates, list):
            parts = coordinates
        for part in parts:
            try:
                line = shapely.linestrings(np.asarray(part, dtype=np.float64)[:, :2])
            except (ValueError, TypeError, IndexError, shapely.errors.GEOSException):
                msg = "has an unreadable LineString"
                raise BadInputError(msg, source=source, record=index, field="geometry") from None
            lines.append(line)
            properties.append(dict(feature.get("properties") or {}))
    if not lines:
        raise BadInputError("no LineString features: not a road network", source=source)
    declared = document.get("working_crs")
    return (
        np.asarray(lines, dtype=object),
        properties,
        declared if isinstance(declared, str) else None,
    )


def _merge_ends(lines: NDArray[np.object_], merge_m: float) -> NDArray[np.intp]:
    """Node number of each line end (starts, then ends): ends within ``merge_m`` join."""
    ends = np.concatenate(
        [
            shapely.get_coordinates(shapely.get_point(lines, 0)),
            shapely.get_coordinates(shapely.get_point(lines, -1)),
        ]
    )
    pairs = cKDTree(ends).query_pairs(merge_m, output_type="ndarray")
    count = ends.shape[0]
    matrix = coo_matrix(
        (np.ones(pairs.shape[0], dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(count, count)
    )
    _, labels = connected_components(matrix, directed=False)
    return np.asarray(labels, dtype=np.intp)
