"""GraphML as osmnx writes and reads it.

osmnx saves every attribute as a string: node ids, ``x``/``y`` in the graph's
CRS, ``geometry`` as WKT, ``oneway``/``reversed`` as ``"True"``/``"False"``,
merged tags as list strings (``"['50', '60']"``) and the graph's ``crs``, and
converts known attributes back by name on load. We read that unchanged
(projecting lon/lat graphs onto a metric CRS) and write the same way, every key
``attr.type="string"``, so that ``osmnx.load_graphml`` reads our files too.
Columns that loading by name would not restore (an integer ``lanes``, a float
``maxspeed``) are listed with their type in the graph attribute
:data:`TYPES_ATTR`, which our reader applies and osmnx keeps as a string, so a
round trip preserves every value.
"""

from __future__ import annotations

import ast
import json
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
#: Graph attribute with the types of written columns that their names do not
#: imply, as JSON: ``{"edge": {"lanes": "int"}, "node": {...}}``.
TYPES_ATTR: Final = "skynet_attr_types"
_SCOPES: Final = ("node", "edge")


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
        (key, _text(value))
        for key, value in network.graph.graph.items()
        if key not in ("node_default", "edge_default", TYPES_ATTR) and value is not None
    )
    graph.graph["crs"] = network.crs.code
    nodes, node_types = _writable(list(network.graph.nodes(data=True)), "node")
    edges = list(network.graph.edges(keys=True, data=True))
    rows, edge_types = _writable([((u, v, k), data) for u, v, k, data in edges], "edge")
    types = {scope: kinds for scope, kinds in (("node", node_types), ("edge", edge_types)) if kinds}
    if types:
        graph.graph[TYPES_ATTR] = json.dumps(types, sort_keys=True, separators=(",", ":"))
    graph.add_nodes_from(nodes)
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


def _as_text(value: Any) -> Any:
    return value


#: Readers of the column types :data:`TYPES_ATTR` names.
_KIND_READERS: Final[dict[str, Callable[[Any], Any]]] = {
    "int": _as_int,
    "float": _as_float,
    "bool": _as_bool,
    "str": _as_text,
}


def _default_kind(key: str, scope: str) -> str:
    """The type loading by name gives a column (``str`` also covers list strings)."""
    if key in (_NODE_FLOATS if scope == "node" else _EDGE_FLOATS):
        return "float"
    if key == "osmid" or (scope == "node" and key in _NODE_INTS):
        return "int"
    if scope == "edge" and key in _BOOL_KEYS:
        return "bool"
    return "str"


def _converter(key: str, scope: str) -> Callable[[Any], Any]:
    kind = _default_kind(key, scope)
    if kind == "float":
        return _as_float
    if kind == "int":
        return lambda value: _as_int(_literal(value))
    if kind == "bool":
        return _as_bool
    return _literal


def _declared_types(graph: nx.MultiDiGraph, source: str) -> dict[str, dict[str, str]]:
    """The column types our writer recorded in :data:`TYPES_ATTR` (removed from the graph)."""
    text = graph.graph.pop(TYPES_ATTR, None)
    if text is None:
        return {}
    try:
        declared = json.loads(text)
    except (TypeError, ValueError):
        declared = None
    if not (
        isinstance(declared, dict)
        and set(declared) <= set(_SCOPES)
        and all(
            isinstance(kinds, dict) and all(k in _KIND_READERS for k in kinds.values())
            for kinds in declared.values()
        )
    ):
        msg = f"graph attribute {TYPES_ATTR!r} is not a column type record: {text!r}"
        raise BadInputError(msg, source=source)
    return declared


def _convert_types(graph: nx.MultiDiGraph, source: str) -> None:
    """Turn osmnx's strings back into numbers, bools, lists and geometries."""
    declared = _declared_types(graph, source)
    converters: dict[tuple[str, str], Callable[[Any], Any]] = {}

    def convert(scope: str, data: dict[str, Any]) -> None:
        for key, value in data.items():
            if scope == "edge" and key == "geometry":
                continue
            if (scope, key) not in converters:
                kind = declared.get(scope, {}).get(key)
                converters[scope, key] = (
                    _converter(key, scope) if kind is None else _KIND_READERS[kind]
                )
            data[key] = converters[scope, key](value)

    for _, data in graph.nodes(data=True):
        convert("node", data)
    for _, _, data in graph.edges(data=True):
        convert("edge", data)
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


def _writable(
    rows: list[tuple[Any, dict[str, Any]]], scope: str
) -> tuple[list[tuple[Any, dict[str, Any]]], dict[str, str]]:
    """Attribute dicts of strings as osmnx writes them (WKT for geometries), and
    the types of the uniform columns that loading by name would not restore."""
    kinds: dict[str, set[str | None]] = {}
    listlike: set[str] = set()
    for _, data in rows:
        for key, value in data.items():
            if value is None or (key == "geometry" and isinstance(value, shapely.Geometry)):
                continue
            kinds.setdefault(key, set()).add(_kind(value))
            if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
                listlike.add(key)
    types = {}
    for key, found in sorted(kinds.items()):
        kind = next(iter(found)) if len(found) == 1 else None
        if kind is None or (scope == "edge" and key == "geometry"):
            continue
        if kind != _default_kind(key, scope) or (kind == "str" and key in listlike):
            types[key] = kind
    geometry_text = _wkt_column(rows)
    out: list[tuple[Any, dict[str, Any]]] = []
    for row, (ident, data) in enumerate(rows):
        clean: dict[str, str] = {}
        for key, value in data.items():
            if value is None:
                continue
            if key == "geometry" and row in geometry_text:
                clean[key] = geometry_text[row]
            else:
                clean[key] = _text(value)
        out.append((ident, clean))
    return out, types


def _kind(value: Any) -> str | None:
    """The column type :data:`TYPES_ATTR` can record for a value, if any."""
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, int | np.integer):
        return "int"
    if isinstance(value, float | np.floating):
        return "float"
    if isinstance(value, str):
        return "str"
    return None


def _plain(value: Any) -> Any:
    """numpy scalars as Python ones, inside lists, tuples, sets and dicts too."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple | set | frozenset):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    return value


def _text(value: Any) -> str:
    """A value as osmnx writes it: numbers as their repr, ``True``/``False``,
    lists as Python literals, geometries as full-precision WKT."""
    if isinstance(value, str):
        return value
    if isinstance(value, shapely.Geometry):
        return str(shapely.to_wkt(value, rounding_precision=-1))
    plain = _plain(value)
    if isinstance(plain, bool | int | float | list | tuple | set | frozenset | dict):
        return repr(plain)
    return str(value)


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
