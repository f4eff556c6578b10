"""All cameras' reach in chunks: bounded trees → per-camera sparse rows.

A trip from camera A to camera B leaves A at the head node of an edge A
watches and ends once it has driven an edge B watches (from its tail node),
so the time includes reaching B's view. Per chunk, every reached tail node
expands to the (camera, edge) pairs starting there, and the quickest pair per
(source, target camera) wins; nothing N × N is ever held.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np
from numpy.typing import NDArray

from skynet._transition_graph import RoadMatrix, search
from skynet.roads.network import EdgeArrays

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

#: Elements of one chunk's (cameras × nodes) arrays; bounds build memory (~40 B each).
CHUNK_ELEMENTS = 2_000_000


@dataclass(frozen=True, eq=False)
class Pairs:
    """(camera row, watched edge row) pairs, as an attachment holds them."""

    camera: IntArray
    edge: IntArray


@dataclass(frozen=True, eq=False)
class ReachRows:
    """Per-camera sparse rows (CSR): targets, free-flow s, metres, arrival edge."""

    indptr: NDArray[np.int64]
    target: NDArray[np.int32]
    time: FloatArray
    distance: FloatArray
    arrive_edge: NDArray[np.int32]


@dataclass(frozen=True, eq=False)
class LeaveAnchors(Sequence[IntArray]):
    """Per camera, the head nodes of the edges it watches (CSR: one slice a camera).

    A sequence of arrays like a list of them, built without one array object per
    camera (70,000 of them took half a second to split off, on every on-demand model).
    """

    ptr: IntArray
    nodes: IntArray

    def __len__(self) -> int:
        return int(self.ptr.size - 1)

    @overload
    def __getitem__(self, index: int) -> IntArray: ...
    @overload
    def __getitem__(self, index: slice) -> list[IntArray]: ...
    def __getitem__(self, index: int | slice) -> IntArray | list[IntArray]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        i = int(index) % len(self)
        return self.nodes[self.ptr[i] : self.ptr[i + 1]]

    def sizes(self) -> NDArray[np.intp]:
        """How many head nodes each camera has (0: it watches no edge)."""
        return np.diff(self.ptr)


def leave_anchors(pairs: Pairs, edges: EdgeArrays, camera_count: int) -> LeaveAnchors:
    """Head nodes of the edges each camera watches (empty for a camera with none)."""
    width = np.int64(edges.v.max(initial=0)) + 1
    key = np.unique(pairs.camera.astype(np.int64) * width + edges.v[pairs.edge])
    bounds = np.searchsorted(key // width, np.arange(camera_count + 1))
    return LeaveAnchors(bounds.astype(np.intp), (key % width).astype(np.intp))


class ReachSearch:
    """Everything one bounded search needs, built once per (network, cameras, horizon)."""

    def __init__(
        self, edges: EdgeArrays, node_count: int, pairs: Pairs, camera_count: int, horizon_s: float
    ) -> None:
        self.edges = edges
        self.horizon_s = horizon_s
        self.camera_count = camera_count
        self.matrix = RoadMatrix.from_edges(edges, node_count)
        self.anchors = leave_anchors(pairs, edges, camera_count)
        self.by_tail = _TailIndex.of(pairs, edges, node_count)

    def rows_of(self, sources: IntArray) -> Part:
        """Reach of the given cameras (each must watch at least one edge)."""
        tree = search(self.matrix, [self.anchors[r] for r in sources], self.horizon_s)
        return _chunk_rows(
            tree.time, tree.length, self.by_tail, self.edges, sources, self.horizon_s
        )

    def rows_and_tree(self, source: int) -> tuple[Part, NDArray[np.int32]]:
        """One camera's reach and its search tree's predecessors (``size``: the root),
        so that its paths need no second search."""
        tree = search(self.matrix, [self.anchors[source]], self.horizon_s)
        sources = np.array([source], dtype=np.intp)
        part = _chunk_rows(
            tree.time, tree.length, self.by_tail, self.edges, sources, self.horizon_s
        )
        return part, tree.predecessor[0]

    def all_rows(self) -> ReachRows:
        """Reach rows of every camera, a memory-bounded chunk of cameras at a time."""
        active = np.flatnonzero(self.anchors.sizes() > 0)
        chunk = max(1, CHUNK_ELEMENTS // (self.matrix.size + 1))
        counts = np.zeros(self.camera_count, dtype=np.int64)
        parts: list[Part] = []
        for start in range(0, active.size, chunk):
            rows = active[start : start + chunk]
            part = self.rows_of(rows)
            counts[rows] = part.counts
            parts.append(part)
        return _assemble(parts, counts)


@dataclass(frozen=True, eq=False)
class Part:
    """One chunk's transitions, grouped by source in chunk order, nearest first."""

    counts: NDArray[np.int64]
    target: NDArray[np.int32]
    time: FloatArray
    distance: FloatArray
    arrive_edge: NDArray[np.int32]


@dataclass(frozen=True, eq=False)
class _TailIndex:
    """Pairs grouped by the tail node of their edge (CSR over nodes)."""

    ptr: IntArray
    camera: IntArray
    edge: IntArray

    @classmethod
    def of(cls, pairs: Pairs, edges: EdgeArrays, node_count: int) -> _TailIndex:
        tails = edges.u[pairs.edge]
        order = np.argsort(tails, kind="stable")
        counts = np.bincount(tails, minlength=node_count)
        ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.intp)
        return cls(ptr, pairs.camera[order], pairs.edge[order])


def _chunk_rows(
    time: FloatArray,
    length: FloatArray,
    by_tail: _TailIndex,
    edges: EdgeArrays,
    sources: IntArray,
    horizon_s: float,
) -> Part:
    """The quickest (target, time, distance, arrival edge) per pair of cameras."""
    row, node = np.nonzero(time <= horizon_s)
    counts = by_tail.ptr[node + 1] - by_tail.ptr[node]
    row, node, counts = row[counts > 0], node[counts > 0], counts[counts > 0]
    first = np.repeat(by_tail.ptr[node], counts)
    within = np.arange(first.size) - np.repeat(np.cumsum(counts) - counts, counts)
    pair = first + within
    row, node = np.repeat(row, counts), np.repeat(node, counts)
    edge = by_tail.edge[pair]
    target = by_tail.camera[pair]
    arrive = time[row, node] + edges.travel_time[edge]
    keep = (arrive <= horizon_s) & (target != sources[row])
    row, node, edge, target, arrive = row[keep], node[keep], edge[keep], target[keep], arrive[keep]
    key = row.astype(np.int64) * (int(target.max(initial=0)) + 1) + target
    best = _quickest_per_key(key, arrive, sources.size * (int(target.max(initial=0)) + 1))
    best = best[np.lexsort((target[best], arrive[best], row[best]))]  # nearest first
    row, node, edge = row[best], node[best], edge[best]
    return Part(
        np.bincount(row, minlength=sources.size).astype(np.int64),
        target[best].astype(np.int32),
        arrive[best],
        length[row, node] + edges.length[edge],
        edge.astype(np.int32),
    )


def _quickest_per_key(key: NDArray[np.int64], arrive: FloatArray, space: int) -> IntArray:
    """Per distinct key, the row with the least ``arrive`` (the first such row on a tie).

    A minimum over a dense table of keys where it is small (one camera's reach: a
    few ms less than sorting its tens of thousands of pairs), else by sorting.
    """
    if space <= max(4 * key.size, 1 << 20):
        least = np.full(space, np.inf)
        np.minimum.at(least, key, arrive)
        hit = np.flatnonzero(arrive == least[key])
        _, first = np.unique(key[hit], return_index=True)
        return hit[first].astype(np.intp)
    order = np.lexsort((arrive, key))
    key = key[order]
    return order[np.concatenate([[True], key[1:] != key[:-1]])] if key.size else order


def _assemble(parts: list[Part], counts: NDArray[np.int64]) -> ReachRows:
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    if not parts:
        none = np.empty(0, dtype=np.int32)
        return ReachRows(indptr, none, np.empty(0), np.empty(0), none)
    return ReachRows(
        indptr,
        np.concatenate([p.target for p in parts]),
        np.concatenate([p.time for p in parts]),
        np.concatenate([p.distance for p in parts]),
        np.concatenate([p.arrive_edge for p in parts]),
    )
