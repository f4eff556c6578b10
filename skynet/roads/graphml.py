"""GraphML as osmnx writes and reads it.

osmnx saves every attribute as a string: node ids, ``x``/``y`` in the graph's
CRS, ``geometry`` as WKT, ``oneway``/``reversed`` as ``"True"``/``"False"``,
merged tags as list strings (``"['50', '60']"``) and the graph's ``crs``. We
read that unchanged (projecting lon/lat graphs onto a metric CRS) and write
the same way, keeping uniform numeric columns typed so that a round trip
preserves every value.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, Final
from xml.etree.ElementTree import ParseError

import networkx as nx
import numpy as np
import shapely
from shapely.errors import ShapelyError

from camera_registry.crs import SiteCRS
from skynet.errors import BadInputError
from skynet.roads._project import source_crs, to_working_crs
from skynet.roads.network import RoadNetwork

_INTEGER: Final = re.compile(r"-?\d+")
_BOOL_KEYS: Final = frozenset({"oneway", "reversed"})
_NODE_FLOATS: Final = frozenset({"x", "y", "lon", "lat", "elevation"})
_NODE_INTS: Final = frozenset({"street_count"})
_EDGE_FLOATS: Final = frozenset(
    {"length", "travel_time", "speed_kph", "bearing", "grade", "grade_abs"}
)


def read_graphml(
    path: str | Path | BinaryIO,
    crs: SiteCRS | None = None,
    *,
    largest_component: bool = False,
    source: str | None = None,
) -> RoadNetwork:
    """Load a GraphML road graph (osmnx's or ours) onto a metric working CRS.

    ``crs`` is the working CRS to use; by default the graph's own when it is
    metric, else the UTM zone of its nodes. ``path`` may be an open binary
    file, named in errors by ``source``.
    """
    source = source or str(path)
    graph = _parse(path, source)
    _convert_types(graph, source)
    declared = graph.graph.get("crs")
    if declared is None:
        if crs is None:
            msg = (
                "the graph has no 'crs' attribute: name the CRS of its x/y (e.g. --crs EPSG:32650)"
            )
            raise BadInputError(msg, source=source)
        declared = crs.code
    site = to_working_crs(graph, source_crs(declared, source=source), crs, source=source)
    return RoadNetwork.from_graph(graph, site, largest_component=largest_component, source=source)


def write_graphml(network: RoadNetwork, path: str | Path | BinaryIO) -> None:
    """Save the network as osmnx-compatible GraphML (lossless for our attributes)."""
    graph = _writable_graph(network)
    try:
        nx.write_graphml(graph, path if not isinstance(path, str | Path) else str(path))
    except OSError as exc:
        msg = f"cannot write GraphML ({exc.strerror or exc})"
        raise BadInputError(msg, source=str(path)) from None


def _writable_graph(network: RoadNetwork) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    graph.graph.update(
        (key, str(value))
        for key, value in network.graph.graph.items()
        if key not in ("node_default", "edge_default")
    )
    graph.graph["crs"] = network.crs.code
    graph.add_nodes_from(
        (node, data) for node, data in _writable(list(network.graph.nodes(data=True)))
    )
    edges = list(network.graph.edges(keys=True, data=True))
    rows = _writable([((u, v, k), data) for u, v, k, data in edges])
    graph.add_edges_from((u, v, k, data) for (u, v, k), data in rows)
    return graph


def _parse(path: str | Path | BinaryIO, source: str) -> nx.MultiDiGraph:
    try:
        graph = nx.read_graphml(
            path if not isinstance(path, str | Path) else str(path), force_multigraph=True
        )
    except FileNotFoundError:
        raise BadInputError("no such file", source=source) from None
    except (ParseError, nx.NetworkXError, OSError, KeyError, ValueError, TypeError) as exc:
        msg = f"not a GraphML road network ({type(exc).__name__}: {exc})"
        raise BadInputError(msg, source=source) from None
    if not graph.is_directed():
        graph = graph.to_directed()
    if not isinstance(graph, nx.MultiDiGraph):
        graph = nx.MultiDiGraph(graph)
    if all(isinstance(n, str) and _INTEGER.fullmatch(n) for n in graph.nodes):
        graph = nx.relabel_nodes(graph, {n: int(n) for n in graph.nodes}, copy=True)
    if not all(isinstance(k, int) for _, _, k in graph.edges(keys=True)):
        graph = _integer_keys(graph)
    return graph


def _integer_keys(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Renumber edge keys 0, 1, … per node pair (other tools write ids like ``e7``)."""
    renumbered = nx.MultiDiGraph()
    renumbered.graph.update(graph.graph)
    renumbered.add_nodes_from(graph.nodes(data=True))
    renumbered.add_edges_from((u, v, data) for u, v, data in graph.edges(data=True))
    return renumbered


def _literal(value: Any) -> Any:
    """osmnx's list strings back to lists; anything else unchanged."""
    if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
    return value


def _as_bool(value: Any) -> Any:
    if isinstance(value, str) and value in ("True", "False"):
        return value == "True"
    return value


def _as_int(value: Any) -> Any:
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    return value


def _as_float(value: Any) -> Any:
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def _converter(key: str, floats: frozenset[str], ints: frozenset[str]) -> Callable[[Any], Any]:
    if key in floats:
        return _as_float
    if key in ints or key == "osmid":
        return lambda value: _as_int(_literal(value))
    if key in _BOOL_KEYS:
        return _as_bool
    return _literal


def _convert_types(graph: nx.MultiDiGraph, source: str) -> None:
    """Turn osmnx's strings back into numbers, bools, lists and geometries."""
    for _, data in graph.nodes(data=True):
        for key, value in data.items():
            data[key] = _converter(key, _NODE_FLOATS, _NODE_INTS)(value)
    for _, _, data in graph.edges(data=True):
        for key, value in data.items():
            if key != "geometry":
                data[key] = _converter(key, _EDGE_FLOATS, frozenset())(value)
    carriers = [
        data for _, _, data in graph.edges(data=True) if isinstance(data.get("geometry"), str)
    ]
    if not carriers:
        return
    try:
        geometries = shapely.from_wkt([data["geometry"] for data in carriers])
    except ShapelyError as exc:
        msg = f"an edge 'geometry' is not WKT ({exc})"
        raise BadInputError(msg, source=source) from None
    for data, geometry in zip(carriers, geometries, strict=True):
        data["geometry"] = geometry


def _writable(rows: list[tuple[Any, dict[str, Any]]]) -> list[tuple[Any, dict[str, Any]]]:
    """Attribute dicts GraphML can hold: uniform int/float/str columns stay typed,
    everything else becomes a string as osmnx writes it (WKT for geometries)."""
    kinds: dict[str, set[type]] = {}
    for _, data in rows:
        for key, value in data.items():
            kinds.setdefault(key, set()).add(type(value))
    typed = {
        key
        for key, types in kinds.items()
        if len(types) == 1 and next(iter(types)) in (int, float, str) and key not in _BOOL_KEYS
    }
    geometry_text = _wkt_column(rows)
    out: list[tuple[Any, dict[str, Any]]] = []
    for row, (ident, data) in enumerate(rows):
        clean: dict[str, Any] = {}
        for key, value in data.items():
            if value is None:
                continue
            if key == "geometry" and row in geometry_text:
                clean[key] = geometry_text[row]
            elif key in typed:
                clean[key] = value
            else:
                clean[key] = str(value)
        out.append((ident, clean))
    return out


def _wkt_column(rows: list[tuple[Any, dict[str, Any]]]) -> dict[int, str]:
    """Full-precision WKT of every shapely geometry attribute, in one call."""
    carriers = [
        row
        for row, (_, data) in enumerate(rows)
        if isinstance(data.get("geometry"), shapely.Geometry)
    ]
    if not carriers:
        return {}
    geometries = np.asarray([rows[row][1]["geometry"] for row in carriers], dtype=object)
    texts = shapely.to_wkt(geometries, rounding_precision=-1)
    return dict(zip(carriers, (str(t) for t in texts), strict=True))
