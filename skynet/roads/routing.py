"""Shortest paths by travel time or length, on a CSR matrix built once per weight.

Parallel edges collapse to the cheapest one per node pair (what a driver takes);
the matrix remembers which edge row that was, so paths come back as edge rows.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from skynet.errors import BadInputError, NotFoundError
from skynet.roads.snap import snap

if TYPE_CHECKING:
    from skynet.roads.network import RoadNetwork

Weight = Literal["travel_time", "length"]
IntArray = NDArray[np.intp]


@dataclass(frozen=True)
class Path:
    """A path as node ids and edge rows, with its length and free-flow time."""

    nodes: tuple[Any, ...]
    edges: IntArray
    length_m: float
    travel_time_s: float


@dataclass(frozen=True, eq=False)
class _Matrix:
    graph: csr_matrix
    pair_key: NDArray[np.int64]  # sorted u * nodes + v of each node pair
    pair_edge: IntArray  # the cheapest edge row of each pair
    size: int

    def edges_along(self, node_rows: IntArray) -> IntArray:
        """Edge rows joining consecutive node rows of a path."""
        keys = node_rows[:-1].astype(np.int64) * self.size + node_rows[1:]
        return self.pair_edge[np.searchsorted(self.pair_key, keys)]


_MATRICES: weakref.WeakKeyDictionary[RoadNetwork, dict[str, _Matrix]] = weakref.WeakKeyDictionary()


def _matrix(network: RoadNetwork, weight: Weight) -> _Matrix:
    cache = _MATRICES.setdefault(network, {})
    if weight in cache:
        return cache[weight]
    if weight not in ("travel_time", "length"):
        msg = f"weight must be 'travel_time' or 'length', got {weight!r}"
        raise BadInputError(msg, field="weight")
    edges, size = network.edges, len(network.nodes)
    cost = edges.travel_time if weight == "travel_time" else edges.length
    order = np.lexsort((cost, edges.v, edges.u))
    pair = edges.u[order].astype(np.int64) * size + edges.v[order]
    first = np.concatenate([[True], pair[1:] != pair[:-1]])
    chosen = order[first]
    graph = csr_matrix((cost[chosen], (edges.u[chosen], edges.v[chosen])), shape=(size, size))
    cache[weight] = _Matrix(graph, pair[first], chosen.astype(np.intp), size)
    return cache[weight]


def _row(network: RoadNetwork, node: Any) -> int:
    try:
        return network.node_row[node]
    except KeyError:
        msg = f"no node {node!r} in the road network"
        raise NotFoundError(msg) from None


def shortest_path(
    network: RoadNetwork, source: Any, target: Any, weight: Weight = "travel_time"
) -> Path:
    """The cheapest path between two node ids (:class:`NotFoundError` when none)."""
    start, end = _row(network, source), _row(network, target)
    matrix = _matrix(network, weight)
    _, predecessors = dijkstra(matrix.graph, indices=start, return_predecessors=True)
    if start != end and predecessors[end] < 0:
        msg = f"no path from node {source!r} to node {target!r}"
        raise NotFoundError(msg)
    node_rows = _node_walk(predecessors, start, end)
    edge_rows = matrix.edges_along(node_rows)
    ids = network.nodes.ids
    return Path(
        tuple(v.item() if isinstance(v, np.generic) else v for v in ids[node_rows]),
        edge_rows,
        float(network.edges.length[edge_rows].sum()),
        float(network.edges.travel_time[edge_rows].sum()),
    )


@dataclass(frozen=True)
class PointPath:
    """A path between two snapped points: the part-edges at both ends plus whole edges."""

    edges: IntArray
    start_offset_m: float
    end_offset_m: float
    length_m: float
    travel_time_s: float


def path_between_points(
    network: RoadNetwork,
    start_xy: tuple[float, float],
    end_xy: tuple[float, float],
    weight: Weight = "travel_time",
) -> PointPath:
    """The cheapest path between two metric points, each snapped to its nearest road.

    A point on a two-way road may leave in either direction: both directed
    edges of its physical road are tried. Costs on the end edges are pro rata.
    """
    snapped = snap(network, [start_xy[0], end_xy[0]], [start_xy[1], end_xy[1]])
    starts = _directions(network, int(snapped.edge[0]), float(snapped.offset_m[0]))
    ends = _directions(network, int(snapped.edge[1]), float(snapped.offset_m[1]))
    edges = network.edges
    cost = edges.travel_time if weight == "travel_time" else edges.length
    matrix = _matrix(network, weight)
    sources = np.asarray([edges.v[e] for e, _ in starts], dtype=np.intp)
    dist, predecessors = dijkstra(matrix.graph, indices=sources, return_predecessors=True)
    best: tuple[float, int, int] | None = None
    for i, (first, first_offset) in enumerate(starts):
        leave = (1.0 - first_offset / edges.length[first]) * cost[first]
        for j, (last, last_offset) in enumerate(ends):
            arrive = last_offset / edges.length[last] * cost[last]
            if first == last and last_offset >= first_offset:
                total = (last_offset - first_offset) / edges.length[first] * cost[first]
            else:
                total = leave + dist[i, edges.u[last]] + arrive
            if np.isfinite(total) and (best is None or total < best[0]):
                best = (float(total), i, j)
    if best is None:
        raise NotFoundError("no path between the two points")
    _, i, j = best
    (first, first_offset), (last, last_offset) = starts[i], ends[j]
    if first == last and last_offset >= first_offset:
        rows = np.asarray([first], dtype=np.intp)
        length = last_offset - first_offset
    else:
        walk = _node_walk(predecessors[i], int(edges.v[first]), int(edges.u[last]))
        middle = matrix.edges_along(walk)
        rows = np.concatenate([[first], middle, [last]]).astype(np.intp)
        length = edges.length[first] - first_offset + edges.length[middle].sum() + last_offset
    time = _pro_rata(network, rows, first_offset, last_offset)
    return PointPath(rows, first_offset, last_offset, float(length), time)


def _directions(network: RoadNetwork, edge: int, offset: float) -> list[tuple[int, float]]:
    """The snapped edge and its reverse twin (same physical road), with offsets."""
    edges = network.edges
    twins = np.flatnonzero((edges.road == edges.road[edge]) & (edges.u == edges.v[edge]))
    out = [(edge, offset)]
    out.extend((int(t), float(edges.length[t] - offset)) for t in twins if t != edge)
    return out


def _node_walk(predecessors: NDArray[Any], start: int, end: int) -> IntArray:
    """Node rows from ``start`` to ``end`` following Dijkstra's predecessors."""
    rows = [end]
    while rows[-1] != start:
        rows.append(int(predecessors[rows[-1]]))
    rows.reverse()
    return np.asarray(rows, dtype=np.intp)


def _pro_rata(
    network: RoadNetwork, rows: IntArray, first_offset: float, last_offset: float
) -> float:
    edges = network.edges
    if rows.size == 1:
        share = (last_offset - first_offset) / edges.length[rows[0]]
        return float(share * edges.travel_time[rows[0]])
    time = edges.travel_time[rows[1:-1]].sum()
    time += (1.0 - first_offset / edges.length[rows[0]]) * edges.travel_time[rows[0]]
    time += last_offset / edges.length[rows[-1]] * edges.travel_time[rows[-1]]
    return float(time)
