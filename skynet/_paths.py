"""Candidate road paths between two camera anchors: k-shortest by class travel time.

A vehicle class drives each edge at ``min(limit x factor, top speed)``; the
search runs on that cost. Before Yen's algorithm (networkx
``shortest_simple_paths``) the graph is cut down to the nodes that can lie on
a path within the time budget (forward Dijkstra from the start plus backward
Dijkstra to the end, both bounded, in scipy), so the search stays local even
on a city-sized graph. A virtual source feeds the heads of the candidate
exit edges and a virtual sink drains the tails of the candidate entry edges,
so an uncertain anchor (several edges a camera watches) is resolved by the
search itself. Large corridors and the search that shuns silent cameras'
edges use repeated penalised Dijkstra (diverse paths, one scipy call each).
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final

import networkx as nx
import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from skynet._ranges import groups, ranges
from skynet._virtual_rows import with_virtual_rows
from skynet.errors import BadInputError
from skynet.roads.cameras import CameraAttachment
from skynet.roads.network import RoadNetwork

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

#: Per class: share of the speed limit driven and top speed (km/h).
CLASS_SPEED: Final[dict[str, tuple[float, float]]] = {
    "vehicle": (1.0, 130.0),
    "car": (1.0, 130.0),
    "van": (0.95, 110.0),
    "truck": (0.8, 90.0),
    "three_wheeler": (0.75, 50.0),
    "e_bike": (0.6, 25.0),
    "excavator": (0.5, 20.0),
}
#: Added to the virtual source's edges so that a zero offset stays an edge.
_EPSILON_S: Final = 1e-9
#: Corridors up to this many edges get exact k-shortest paths (Yen); larger, penalised ones.
EXACT_LIMIT: Final = 1_000


@dataclass(frozen=True, eq=False)
class _Costs:
    time: FloatArray
    forward: csr_matrix
    backward: csr_matrix


_COSTS: weakref.WeakKeyDictionary[RoadNetwork, dict[str, _Costs]] = weakref.WeakKeyDictionary()


def _costs(network: RoadNetwork, vehicle_class: str) -> _Costs:
    cache = _COSTS.setdefault(network, {})
    if vehicle_class not in cache:
        if vehicle_class not in CLASS_SPEED:
            msg = f"unknown vehicle class {vehicle_class!r}"
            raise BadInputError(msg, field="vehicle_class")
        share, top = CLASS_SPEED[vehicle_class]
        edges = network.edges
        time = edges.length / (np.minimum(edges.speed_kph * share, top) / 3.6)
        forward = _min_matrix(edges.u, edges.v, time, len(network.nodes))
        cache[vehicle_class] = _Costs(time, forward, forward.T.tocsr())
    return cache[vehicle_class]


def class_travel_time(network: RoadNetwork, vehicle_class: str) -> FloatArray:
    """Seconds a vehicle of the class needs for each edge at free flow (cached)."""
    return _costs(network, vehicle_class).time


@dataclass(frozen=True)
class Anchor:
    """Where a trip leaves or joins the road: candidate edge rows and positions (m) on them."""

    edges: IntArray
    offsets_m: FloatArray


@dataclass(frozen=True, eq=False)
class CandidatePath:
    """Edge rows from the exit edge to the entry edge, and the class time between anchors."""

    edges: IntArray
    time_s: float
    start_offset_m: float
    end_offset_m: float


def candidate_paths(
    network: RoadNetwork,
    vehicle_class: str,
    start: Anchor,
    end: Anchor,
    *,
    budget_s: float,
    k: int,
    exact_limit: int = EXACT_LIMIT,
    shunned: Callable[[IntArray], IntArray] | None = None,
    shun_factor: float = 4.0,
) -> list[CandidatePath]:
    """Up to ``k`` simple paths, quickest first, whose class time is within the budget.

    Corridors of up to ``exact_limit`` edges get Yen's exact k quickest paths;
    larger ones (long gaps on a city graph) get diverse paths by repeatedly
    penalising the edges already used, at one scipy Dijkstra per path.
    ``shunned`` maps the corridor's edge rows to those a target would avoid
    (watched by cameras that saw nothing like it): up to ``k`` more diverse
    paths are sought with those edges ``shun_factor`` times dearer, so the
    unwatched ways are among the candidates.
    """
    costs = _costs(network, vehicle_class)
    found = _same_edge_paths(network, costs.time, start, end)
    corridor = _corridor(network, costs, start, end, budget_s)
    if corridor is None:
        return found
    solve = _yen if corridor.weight.size <= exact_limit else _penalised
    solutions = solve(corridor, k)
    if shunned is not None:
        avoid = np.isin(corridor.row, shunned(np.unique(corridor.row)))
        if avoid.any():
            weight = np.where(avoid, corridor.weight * shun_factor, corridor.weight)
            solutions += _penalised(replace(corridor, weight=weight), k)
    seen: set[bytes] = set()
    for rows, time in solutions:
        if time <= corridor.budget_s and rows.tobytes() not in seen:
            seen.add(rows.tobytes())
            found.append(_candidate(start, end, rows, time))
    found.sort(key=lambda path: path.time_s)
    return found[: 2 * k if shunned is not None else k]


@dataclass(frozen=True, eq=False)
class _Corridor:
    """The edges that fit a within-budget path (parallel edges collapsed), plus virtual ends.

    Nodes are network rows; ``source`` and ``sink`` are two extra node numbers.
    """

    u: IntArray
    v: IntArray
    weight: FloatArray  # what the search minimises
    time: FloatArray  # the class's free-flow time
    row: IntArray
    source: int
    sink: int
    budget_s: float


def _yen(corridor: _Corridor, k: int) -> list[tuple[IntArray, float]]:
    """Yen's k quickest simple paths (networkx) over the corridor."""
    graph = nx.DiGraph()
    graph.add_weighted_edges_from(
        zip(corridor.u.tolist(), corridor.v.tolist(), corridor.weight.tolist(), strict=True)
    )
    steps_of = zip(corridor.u.tolist(), corridor.v.tolist(), strict=True)
    row_of = dict(zip(steps_of, corridor.row.tolist(), strict=True))
    out = []
    try:
        paths = nx.shortest_simple_paths(graph, corridor.source, corridor.sink, weight="weight")
        for nodes in itertools.islice(paths, k):
            steps = list(itertools.pairwise(nodes))
            time = sum(graph[a][b]["weight"] for a, b in steps)
            if time > corridor.budget_s:
                break
            out.append((np.array([row_of[step] for step in steps], dtype=np.intp), time))
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        pass
    return out


def _penalised(
    corridor: _Corridor, k: int, *, penalty: float = 1.4, attempts: int = 3
) -> list[tuple[IntArray, float]]:
    """Diverse quickest paths: after each, the edges it used cost ``penalty`` times more."""
    # the corridor's own nodes, numbered in the network's order (the same graph and
    # edge order, so the same search, on arrays of its size rather than the city's)
    own, local = np.unique(np.concatenate([corridor.u, corridor.v]), return_inverse=True)
    u, v = local[: corridor.u.size], local[corridor.u.size :].astype(np.int32)
    source, sink = (int(i) for i in np.searchsorted(own, [corridor.source, corridor.sink]))
    size = own.size
    indptr = np.concatenate([[0], np.cumsum(np.bincount(u, minlength=size))]).astype(np.int32)
    weight = corridor.weight.copy()
    pair = u.astype(np.int64) * size + v
    seen: set[bytes] = set()
    out: list[tuple[IntArray, float]] = []
    for _ in range(k * attempts):
        matrix = csr_matrix((weight, v, indptr), shape=(size, size))
        _, predecessors = dijkstra(matrix, indices=source, return_predecessors=True)
        if predecessors[sink] < 0:
            break
        nodes = _walk(predecessors, source, sink)
        used = np.searchsorted(pair, nodes[:-1].astype(np.int64) * size + nodes[1:])
        weight[used] *= penalty
        key = used.tobytes()
        if key in seen:
            continue
        seen.add(key)
        out.append((corridor.row[used], float(corridor.time[used].sum())))
        if len(out) == k:
            break
    return out


def _walk(predecessors: NDArray[np.int32], start: int, end: int) -> IntArray:
    nodes = [end]
    while nodes[-1] != start:
        nodes.append(int(predecessors[nodes[-1]]))
    return np.asarray(nodes[::-1], dtype=np.intp)


def _candidate(start: Anchor, end: Anchor, rows: IntArray, time: float) -> CandidatePath:
    first = np.flatnonzero(start.edges == rows[0])[0]
    last = np.flatnonzero(end.edges == rows[-1])[0]
    return CandidatePath(
        rows, float(time), float(start.offsets_m[first]), float(end.offsets_m[last])
    )


def _same_edge_paths(
    network: RoadNetwork, cost: FloatArray, start: Anchor, end: Anchor
) -> list[CandidatePath]:
    """Trips that stay on one edge: leave and join it at increasing offsets."""
    out = []
    length = network.edges.length
    for edge, a in zip(start.edges.tolist(), start.offsets_m.tolist(), strict=True):
        for other, b in zip(end.edges.tolist(), end.offsets_m.tolist(), strict=True):
            if other == edge and b >= a:
                time = (b - a) / length[edge] * cost[edge]
                out.append(CandidatePath(np.array([edge], dtype=np.intp), float(time), a, b))
    return out


def _corridor(
    network: RoadNetwork, costs: _Costs, start: Anchor, end: Anchor, budget_s: float
) -> _Corridor | None:
    """Edges on some within-budget path (bounded Dijkstra both ways), plus the virtual ends."""
    edges, cost = network.edges, costs.time
    leave = (1.0 - start.offsets_m / edges.length[start.edges]) * cost[start.edges]
    join = end.offsets_m / edges.length[end.edges] * cost[end.edges]
    forward = _bounded(costs.forward, edges.v[start.edges], leave, budget_s)
    backward = _bounded(costs.backward, edges.u[end.edges], join, budget_s)
    quickest = float((forward + backward).min())
    if not np.isfinite(quickest):
        return None
    if not np.isfinite(budget_s):  # unbounded search: keep the near-quickest corridor only
        budget_s = quickest * 1.5 + 1e-6
    keep = _within(network, forward, backward, cost, budget_s)
    size = len(network.nodes)
    source, sink = size, size + 1
    u = np.concatenate([edges.u[keep], np.full(start.edges.size, source), edges.u[end.edges]])
    v = np.concatenate([edges.v[keep], edges.v[start.edges], np.full(end.edges.size, sink)])
    # a tiny floor: scipy's sparse Dijkstra must not take a zero weight for a missing edge
    weight = np.concatenate([cost[keep], leave, join]) + 1e-9
    row = np.concatenate([keep, start.edges, end.edges]).astype(np.intp)
    order = np.lexsort((weight, v, u))
    pair = u[order].astype(np.int64) * (sink + 1) + v[order]
    first = order[np.concatenate([[True], pair[1:] != pair[:-1]])]
    return _Corridor(
        u[first].astype(np.intp),
        v[first].astype(np.intp),
        weight[first],
        weight[first],
        row[first],
        source,
        sink,
        budget_s,
    )


def _within(
    network: RoadNetwork, forward: FloatArray, backward: FloatArray, cost: FloatArray, budget: float
) -> IntArray:
    """Edge rows (ascending) on some path within the budget: read from the edges leaving
    the nodes the forward search reached where those are few (a leg's corridor is a few
    hundred of a city's 100,000 edges), else over every edge."""
    edges = network.edges
    reached = np.flatnonzero(np.isfinite(forward))
    if reached.size * 8 > forward.size:
        return np.flatnonzero(forward[edges.u] + cost + backward[edges.v] <= budget)
    order, bounds = _leaving(network)
    rows = order[ranges(bounds[reached], bounds[reached + 1])]
    rows = rows[forward[edges.u[rows]] + cost[rows] + backward[edges.v[rows]] <= budget]
    return np.sort(rows)


_LEAVING: weakref.WeakKeyDictionary[RoadNetwork, tuple[IntArray, IntArray]] = (
    weakref.WeakKeyDictionary()
)


def _leaving(network: RoadNetwork) -> tuple[IntArray, IntArray]:
    """Edge rows grouped by tail node (kept per network)."""
    if network not in _LEAVING:
        _LEAVING[network] = groups(network.edges.u, len(network.nodes))
    return _LEAVING[network]


def road_matrices(
    network: RoadNetwork, attachment: CameraAttachment, penalty_s: float
) -> tuple[csr_matrix, csr_matrix]:
    """Node-to-node free-flow seconds, and the same with ``penalty_s`` more on every edge an
    online camera watches (the way round the cameras), cheapest parallel edge kept."""
    edges = network.edges
    nodes = len(network.nodes)
    watched = np.zeros(len(edges.u), dtype=bool)
    watched[attachment.edge[attachment.online[attachment.camera]]] = True
    plain = _min_matrix(edges.u, edges.v, edges.travel_time, nodes)
    shunning = _min_matrix(edges.u, edges.v, edges.travel_time + penalty_s * watched, nodes)
    return plain, shunning


def _min_matrix(u: IntArray, v: IntArray, cost: FloatArray, size: int) -> csr_matrix:
    order = np.lexsort((cost, v, u))
    pair = u[order].astype(np.int64) * size + v[order]
    first = np.concatenate([[True], pair[1:] != pair[:-1]])
    chosen = order[first]
    return csr_matrix((cost[chosen], (u[chosen], v[chosen])), shape=(size, size))


def _bounded(
    matrix: csr_matrix, nodes: IntArray, offsets: FloatArray, budget_s: float
) -> FloatArray:
    """Least cost from any of ``nodes`` (each starting at its offset) to every node, up to
    ``budget_s`` in all: one Dijkstra from a virtual source joined to each node by its offset."""
    size = matrix.shape[0]
    reach = dijkstra(_sourced(matrix, nodes, offsets), indices=size, limit=budget_s + _EPSILON_S)
    return np.asarray(reach[:size] - _EPSILON_S, dtype=np.float64)


def bounded_tree(
    matrix: csr_matrix, nodes: IntArray, offsets: FloatArray, budget_s: float
) -> tuple[FloatArray, NDArray[np.int32]]:
    """:func:`_bounded` with each node's predecessor on its search tree (the virtual
    source is index ``matrix.shape[0]``)."""
    size = matrix.shape[0]
    reach, before = dijkstra(
        _sourced(matrix, nodes, offsets),
        indices=size,
        limit=budget_s + _EPSILON_S,
        return_predecessors=True,
    )
    return np.asarray(reach[:size] - _EPSILON_S, dtype=np.float64), before


def with_source(matrix: csr_matrix, nodes: IntArray, offsets: FloatArray) -> csr_matrix:
    """``matrix`` with one more row: a virtual source joined to each of ``nodes`` by its
    offset (the least, where a node repeats; no edges into it)."""
    size = matrix.shape[0]
    starts, where = np.unique(nodes, return_inverse=True)
    least = np.full(starts.size, np.inf)
    np.minimum.at(least, where, offsets)  # a sparse matrix would add duplicates up
    # a nanosecond on its edges keeps a zero offset an edge
    return csr_matrix(
        (
            np.concatenate([matrix.data, least + _EPSILON_S]),
            np.concatenate([matrix.indices, starts]),
            np.concatenate([matrix.indptr, [matrix.indptr[-1] + starts.size]]),
        ),
        shape=(size + 1, size + 1),
    )


def _sourced(matrix: csr_matrix, nodes: IntArray, offsets: FloatArray) -> csr_matrix:
    """:func:`with_source` for one search run at once, on arrays kept per matrix and thread
    (:func:`~skynet._virtual_rows.with_virtual_rows`) where the source's edges fit."""
    starts, where = np.unique(nodes, return_inverse=True)
    least = np.full(starts.size, np.inf)
    np.minimum.at(least, where, offsets)
    graph = with_virtual_rows(
        matrix,
        matrix.data,
        matrix.indices,
        matrix.indptr,
        starts,
        least + _EPSILON_S,  # a nanosecond on its edges keeps a zero offset an edge
        np.array([starts.size], dtype=np.intp),
    )
    return graph if graph is not None else with_source(matrix, nodes, offsets)
