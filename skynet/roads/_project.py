"""Bring a freshly read graph onto the site's metric working CRS.

Readers hand over a graph whose node ``x, y`` and edge geometries are in some
source CRS; this moves them onto the working CRS (the one the user names, the
graph's own when it is metric, else the UTM zone of the nodes), keeping
``lon, lat`` on every node. Geometries move in one vectorised call.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray

from camera_registry.crs import WGS84, SiteCRS
from skynet.errors import BadInputError


def source_crs(value: Any, *, source: str | None) -> pyproj.CRS:
    """The CRS a file declares (``epsg:4326``, a proj string, WKT …)."""
    try:
        return pyproj.CRS.from_user_input(str(value))
    except pyproj.exceptions.CRSError as exc:
        msg = f"cannot read the graph's 'crs' attribute {value!r} ({exc})"
        raise BadInputError(msg, source=source) from None


def to_working_crs(
    graph: nx.MultiDiGraph,
    declared: pyproj.CRS,
    target: SiteCRS | None,
    *,
    source: str | None,
) -> SiteCRS:
    """Reproject nodes and geometries in place; returns the working CRS."""
    nodes = list(graph.nodes)
    x = _coordinate(graph, nodes, "x", source)
    y = _coordinate(graph, nodes, "y", source)
    if declared.is_geographic:
        lon, lat = x, y
        site = target or SiteCRS.for_points(lon, lat)
        x, y = site.to_metric(lon, lat)
        transformer = pyproj.Transformer.from_crs(WGS84, site.crs, always_xy=True)
        _set_nodes(graph, nodes, {"x": x, "y": y, "lon": lon, "lat": lat})
    else:
        site = target or SiteCRS(_metric(declared, source))
        if site.crs == declared:
            graph.graph["crs"] = site.code
            return site
        transformer = pyproj.Transformer.from_crs(declared, site.crs, always_xy=True)
        x, y = transformer.transform(x, y)
        _set_nodes(graph, nodes, {"x": np.asarray(x), "y": np.asarray(y)})
    _transform_geometries(graph, transformer)
    graph.graph["crs"] = site.code
    return site


def _metric(declared: pyproj.CRS, source: str | None) -> pyproj.CRS:
    if not declared.is_projected or declared.axis_info[0].unit_name not in ("metre", "meter"):
        msg = f"the graph's CRS {declared.name!r} is neither lon/lat nor projected in metres"
        raise BadInputError(msg, source=source)
    return declared


def _coordinate(
    graph: nx.MultiDiGraph, nodes: list[Any], name: str, source: str | None
) -> NDArray[np.float64]:
    values = [graph.nodes[node].get(name) for node in nodes]
    missing = [node for node, value in zip(nodes, values, strict=True) if value is None]
    if missing:
        msg = f"node {missing[0]}: no coordinates (missing {name!r}); {len(missing)} such nodes"
        raise BadInputError(msg, source=source)
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        msg = f"node coordinates {name!r} are not all numbers"
        raise BadInputError(msg, source=source) from None


def _set_nodes(
    graph: nx.MultiDiGraph, nodes: list[Any], columns: dict[str, NDArray[np.float64]]
) -> None:
    for row, node in enumerate(nodes):
        attributes = graph.nodes[node]
        for name, column in columns.items():
            attributes[name] = float(column[row])


def _transform_geometries(graph: nx.MultiDiGraph, transformer: pyproj.Transformer) -> None:
    carriers = [data for _, _, data in graph.edges(data=True) if data.get("geometry") is not None]
    if not carriers:
        return
    geometries = np.asarray([data["geometry"] for data in carriers], dtype=object)

    def move(coordinates: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = transformer.transform(coordinates[:, 0], coordinates[:, 1])
        return np.column_stack([x, y])

    moved = shapely.transform(geometries, move)
    for data, geometry in zip(carriers, moved, strict=True):
        data["geometry"] = geometry
