"""``RoadNetwork``: a validated road graph in osmnx conventions on a metric CRS.

The graph is a networkx ``MultiDiGraph``: nodes carry ``x, y`` (metric working
CRS) and ``lon, lat``; edges carry ``length`` (m), ``highway``, ``maxspeed``
(km/h), ``travel_time`` (s), ``oneway`` and optionally ``geometry`` (a shapely
LineString in the metric CRS; absent means the straight segment). Columns for
vectorised work (:class:`NodeArrays`, :class:`EdgeArrays`) are read once at
construction; geometries, the spatial index and routing matrices on first use.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import networkx as nx
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from camera_registry.crs import SiteCRS
from skynet.errors import BadInputError
from skynet.roads.classes import (
    DEFAULT_SPEED_BY_CODE,
    HIGHWAY_CODE,
    highway_class,
    parse_oneway,
    parse_speed_kph,
)
from skynet.roads.routing import Path, PointPath, Weight, path_between_points, shortest_path
from skynet.roads.snap import Snapped, snap

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
NodeId = Hashable
EdgeId = tuple[Any, Any, int]


@dataclass(frozen=True, eq=False)
class NodeArrays:
    """Node columns; row ``i`` is ``ids[i]``."""

    ids: NDArray[Any]
    x: FloatArray
    y: FloatArray
    lon: FloatArray
    lat: FloatArray

    def __len__(self) -> int:
        return int(self.x.shape[0])


@dataclass(frozen=True, eq=False)
class EdgeArrays:
    """Directed-edge columns; ``u``/``v`` are node rows, ``road`` groups the
    two directions of one two-way road into one physical road id."""

    u: IntArray
    v: IntArray
    key: NDArray[np.int64]
    length: FloatArray
    travel_time: FloatArray
    speed_kph: FloatArray
    highway: NDArray[np.int8]
    oneway: NDArray[np.bool_]
    road: IntArray

    def __len__(self) -> int:
        return int(self.u.shape[0])

    @property
    def road_count(self) -> int:
        return int(self.road.max()) + 1 if len(self) else 0


class RoadNetwork:
    """A weakly connected road graph with its metric CRS and column arrays.

    The network owns the graph it is given: derived attributes (``lon``/``lat``
    or ``x``/``y`` when only one pair is there, numeric ``length``,
    ``maxspeed`` in km/h where readable, ``travel_time``, ``oneway``) are
    written into it in place. Every check failure is a :class:`BadInputError`.
    The arrays are read once, so the graph must not change afterwards.
    """

    def __init__(self, graph: nx.MultiDiGraph, crs: SiteCRS, *, source: str | None = None) -> None:
        if not isinstance(graph, nx.MultiDiGraph):
            msg = f"a road network needs a networkx MultiDiGraph, got {type(graph).__name__}"
            raise BadInputError(msg, source=source)
        if graph.number_of_nodes() == 0:
            raise BadInputError("the road network is empty (no nodes)", source=source)
        if graph.number_of_edges() == 0:
            raise BadInputError("the road network has no edges", source=source)
        self.graph = graph
        self.crs = crs
        self.source = source
        self.nodes = _read_nodes(graph, crs, source)
        self.node_row: dict[Any, int] = {node: row for row, node in enumerate(graph.nodes)}
        self.edges = _read_edges(graph, self.node_row, source)
        components = _component_count(self.edges, len(self.nodes))
        if components > 1:
            msg = (
                f"the road network is not connected: {components} separate parts "
                "(keep the largest with --largest-component / largest_component=True)"
            )
            raise BadInputError(msg, source=source)

    @classmethod
    def from_graph(
        cls,
        graph: nx.MultiDiGraph,
        crs: SiteCRS,
        *,
        largest_component: bool = False,
        source: str | None = None,
    ) -> RoadNetwork:
        """A network from a graph, optionally keeping only its largest weakly connected part."""
        if largest_component and graph.number_of_nodes() > 0:
            largest = max(nx.weakly_connected_components(graph), key=len)
            if len(largest) < graph.number_of_nodes():
                graph = graph.subgraph(largest).copy()
        return cls(graph, crs, source=source)

    def __repr__(self) -> str:
        return (
            f"RoadNetwork({len(self.nodes)} nodes, {len(self.edges)} edges, "
            f"{self.edges.length.sum() / 1000.0:.1f} km directed, {self.crs.code})"
        )

    @cached_property
    def edge_ids(self) -> list[EdgeId]:
        """``(u, v, key)`` of every edge row, in row order."""
        return [(u, v, int(k)) for u, v, k in self.graph.edges(keys=True)]

    @cached_property
    def edge_row(self) -> dict[EdgeId, int]:
        """Row of each ``(u, v, key)``."""
        return {edge: row for row, edge in enumerate(self.edge_ids)}

    @cached_property
    def geometries(self) -> NDArray[np.object_]:
        """Edge LineStrings in the metric CRS, each running from ``u`` to ``v``."""
        return _edge_geometries(self)

    @cached_property
    def edge_tree(self) -> shapely.STRtree:
        """Spatial index over :attr:`geometries` (tree index = edge row)."""
        return shapely.STRtree(self.geometries)

    @property
    def bbox_lonlat(self) -> tuple[float, float, float, float]:
        """West, south, east, north of the nodes in degrees."""
        n = self.nodes
        return (float(n.lon.min()), float(n.lat.min()), float(n.lon.max()), float(n.lat.max()))

    def snap(self, xs: ArrayLike, ys: ArrayLike) -> Snapped:
        """Nearest edge row, offset along it (m) and distance (m) of metric points."""
        return snap(self, xs, ys)

    def shortest_path(self, source: Any, target: Any, weight: Weight = "travel_time") -> Path:
        """Cheapest path between two node ids by ``travel_time`` or ``length``."""
        return shortest_path(self, source, target, weight)

    def path_between_points(
        self,
        start_xy: tuple[float, float],
        end_xy: tuple[float, float],
        weight: Weight = "travel_time",
    ) -> PointPath:
        """Cheapest path between two metric points snapped onto the roads."""
        return path_between_points(self, start_xy, end_xy, weight)

    def node_attribute(self, name: str) -> NDArray[np.object_]:
        """One node attribute per node row (None where a node lacks it)."""
        values = np.empty(len(self.nodes), dtype=object)
        values[:] = [data.get(name) for _, data in self.graph.nodes(data=True)]
        return values

    def edge_attribute(self, name: str) -> NDArray[np.object_]:
        """One edge attribute per edge row (None where an edge lacks it)."""
        values = np.empty(len(self.edges), dtype=object)
        values[:] = [data.get(name) for _, _, data in self.graph.edges(data=True)]
        return values


def _float_column(
    values: list[Any], what: str, ids: Iterable[Any], source: str | None
) -> FloatArray:
    try:
        return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)
    except (TypeError, ValueError):
        pass
    for node, value in zip(ids, values, strict=True):
        try:
            float(value)
        except (TypeError, ValueError):
            msg = f"node {node}: {what} {value!r} is not a number"
            raise BadInputError(msg, source=source) from None
    raise AssertionError("unreachable")


def _read_nodes(graph: nx.MultiDiGraph, crs: SiteCRS, source: str | None) -> NodeArrays:
    """Node coordinates, filling ``x, y`` from ``lon, lat`` or the other way round."""
    ids = list(graph.nodes)
    data = [graph.nodes[node] for node in ids]
    x = _float_column([d.get("x") for d in data], "x", ids, source)
    y = _float_column([d.get("y") for d in data], "y", ids, source)
    lon = _float_column([d.get("lon") for d in data], "lon", ids, source)
    lat = _float_column([d.get("lat") for d in data], "lat", ids, source)
    has_xy = np.isfinite(x) & np.isfinite(y)
    has_lonlat = np.isfinite(lon) & np.isfinite(lat)
    missing = ~has_xy & ~has_lonlat
    if missing.any():
        node = ids[int(np.flatnonzero(missing)[0])]
        msg = f"node {node}: no coordinates (needs x/y or lon/lat); {int(missing.sum())} such nodes"
        raise BadInputError(msg, source=source)
    fill = ~has_xy
    if fill.any():
        x[fill], y[fill] = crs.to_metric(lon[fill], lat[fill])
    fill = ~has_lonlat
    if fill.any():
        lon[fill], lat[fill] = crs.to_lonlat(x[fill], y[fill])
    for row, attributes in enumerate(data):
        attributes["x"], attributes["y"] = float(x[row]), float(y[row])
        attributes["lon"], attributes["lat"] = float(lon[row]), float(lat[row])
    id_array = np.empty(len(ids), dtype=object)
    id_array[:] = ids
    if all(isinstance(node, int) for node in ids):
        id_array = id_array.astype(np.int64)
    return NodeArrays(id_array, x, y, lon, lat)


class _EdgeReader:
    """Reads and normalises one edge's attributes; memoises tag parsing."""

    def __init__(self, source: str | None) -> None:
        self.source = source
        self._classes: dict[str, int] = {}
        self._speeds: dict[str, float | None] = {}

    def fail(self, edge: tuple[Any, Any, Any], reason: str) -> BadInputError:
        u, v, k = edge
        return BadInputError(f"edge ({u}, {v}, {k}): {reason}", source=self.source)

    def length(self, edge: tuple[Any, Any, Any], data: dict[str, Any]) -> float:
        if "length" not in data or data["length"] is None:
            raise self.fail(edge, "missing 'length'")
        try:
            length = float(data["length"])
        except (TypeError, ValueError):
            raise self.fail(edge, f"'length' {data['length']!r} is not a number") from None
        if not (math.isfinite(length) and length > 0.0):
            raise self.fail(edge, f"'length' {length!r} must be a positive finite number of metres")
        return length

    def highway(self, data: dict[str, Any]) -> int:
        raw = data.get("highway")
        text = str(raw)
        code = self._classes.get(text)
        if code is None:
            code = HIGHWAY_CODE[highway_class(raw)]
            self._classes[text] = code
        return code

    def speed(self, data: dict[str, Any]) -> float | None:
        raw = data.get("maxspeed")
        if raw is None or isinstance(raw, float | int):
            return parse_speed_kph(raw)
        text = str(raw)
        if text not in self._speeds:
            self._speeds[text] = parse_speed_kph(raw)
        return self._speeds[text]


def _read_edges(graph: nx.MultiDiGraph, node_row: dict[Any, int], source: str | None) -> EdgeArrays:
    """Edge columns; fills ``length``, ``maxspeed``, ``travel_time``, ``oneway`` in place."""
    reader = _EdgeReader(source)
    count = graph.number_of_edges()
    u = np.empty(count, dtype=np.intp)
    v = np.empty(count, dtype=np.intp)
    key = np.empty(count, dtype=np.int64)
    length = np.empty(count, dtype=np.float64)
    speed = np.empty(count, dtype=np.float64)
    given_time = np.full(count, np.nan)
    highway = np.empty(count, dtype=np.int8)
    oneway = np.zeros(count, dtype=bool)
    has_oneway = np.zeros(count, dtype=bool)
    for row, (a, b, k, data) in enumerate(graph.edges(keys=True, data=True)):
        if not isinstance(k, int | np.integer):
            raise reader.fail((a, b, k), f"edge key {k!r} is not an integer")
        u[row], v[row], key[row] = node_row[a], node_row[b], k
        length[row] = reader.length((a, b, k), data)
        highway[row] = reader.highway(data)
        parsed = reader.speed(data)
        speed[row] = DEFAULT_SPEED_BY_CODE[highway[row]] if parsed is None else parsed
        time = data.get("travel_time")
        if time is not None:
            try:
                given_time[row] = float(time)
            except (TypeError, ValueError):
                raise reader.fail((a, b, k), f"'travel_time' {time!r} is not a number") from None
        if data.get("oneway") is not None:
            has_oneway[row] = True
            oneway[row] = parse_oneway(data["oneway"])
    travel_time = length / (speed / 3.6)
    usable = np.isfinite(given_time) & (given_time > 0.0)
    travel_time[usable] = given_time[usable]
    # An edge without a oneway tag is one-way exactly when no edge runs back.
    back = _has_reverse(u, v, len(node_row))
    oneway[~has_oneway] = ~back[~has_oneway]
    for row, (_, _, data) in enumerate(graph.edges(data=True)):
        data["length"] = float(length[row])
        data["maxspeed"] = float(speed[row])
        data["travel_time"] = float(travel_time[row])
        data["oneway"] = bool(oneway[row])
    road = _physical_roads(u, v, length)
    return EdgeArrays(u, v, key, length, travel_time, speed, highway, oneway, road)


def _has_reverse(u: IntArray, v: IntArray, node_count: int) -> NDArray[np.bool_]:
    forward = u.astype(np.int64) * node_count + v
    backward = v.astype(np.int64) * node_count + u
    return np.isin(backward, forward)


def _physical_roads(u: IntArray, v: IntArray, length: FloatArray) -> IntArray:
    """Group directed edges into physical roads: same end nodes, same length (to 1 cm)."""
    low, high = np.minimum(u, v), np.maximum(u, v)
    centimetres = np.round(length * 100.0).astype(np.int64)
    table = np.stack([low.astype(np.int64), high.astype(np.int64), centimetres], axis=1)
    _, road = np.unique(table, axis=0, return_inverse=True)
    return np.asarray(road.reshape(-1), dtype=np.intp)


def _component_count(edges: EdgeArrays, node_count: int) -> int:
    ones = np.ones(len(edges), dtype=np.int8)
    matrix = coo_matrix((ones, (edges.u, edges.v)), shape=(node_count, node_count)).tocsr()
    count, _ = connected_components(matrix, directed=True, connection="weak")
    return int(count)


def _edge_geometries(network: RoadNetwork) -> NDArray[np.object_]:
    """Stored LineStrings (oriented from u to v) and straight segments elsewhere."""
    nodes, edges = network.nodes, network.edges
    raw = network.edge_attribute("geometry")
    start = np.column_stack([nodes.x[edges.u], nodes.y[edges.u]])
    end = np.column_stack([nodes.x[edges.v], nodes.y[edges.v]])
    geometries = shapely.linestrings(np.stack([start, end], axis=1))
    stored = np.flatnonzero([g is not None for g in raw])
    if stored.size == 0:
        return np.asarray(geometries, dtype=object)
    given = np.asarray(
        [shapely.from_wkt(g) if isinstance(g, str) else g for g in raw[stored]], dtype=object
    )
    valid = shapely.get_type_id(given) == shapely.GeometryType.LINESTRING
    if not valid.all():
        row = int(stored[np.flatnonzero(~valid)[0]])
        u, v, k = network.edge_ids[row]
        msg = f"edge ({u}, {v}, {k}): 'geometry' is not a LineString"
        raise BadInputError(msg, source=network.source)
    first = shapely.points(shapely.get_coordinates(shapely.get_point(given, 0)))
    to_u = shapely.distance(first, shapely.points(start[stored]))
    to_v = shapely.distance(first, shapely.points(end[stored]))
    backwards = to_v < to_u
    given[backwards] = shapely.reverse(given[backwards])
    geometries[stored] = given
    return np.asarray(geometries, dtype=object)
