"""Bounded multi-source Dijkstra for camera transitions, a chunk of cameras per call.

Each camera in a chunk gets a virtual source node joined by zero-cost edges
to the head nodes of the edges it watches (scipy keeps explicit zeros in a
sparse graph as edges), so one ``dijkstra`` call answers the whole chunk and
each output row is already the minimum over that camera's anchors. Parallel
edges collapse to the quickest one, as a driver would take.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from skynet._virtual_rows import with_virtual_rows
from skynet.roads.network import EdgeArrays

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


@dataclass(frozen=True, eq=False)
class RoadMatrix:
    """The quickest edge of every node pair as CSR arrays, with edge rows kept."""

    size: int
    indptr: IntArray
    indices: IntArray
    time: FloatArray
    length: FloatArray
    pair_key: NDArray[np.int64]  # sorted u * size + v
    pair_edge: IntArray  # edge row of each key

    @classmethod
    def from_edges(cls, edges: EdgeArrays, size: int) -> RoadMatrix:
        order = np.lexsort((edges.travel_time, edges.v, edges.u))
        key = edges.u[order].astype(np.int64) * size + edges.v[order]
        first = np.concatenate([[True], key[1:] != key[:-1]])
        chosen = order[first].astype(np.intp)
        counts = np.bincount(edges.u[chosen], minlength=size)
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.intp)
        return cls(
            size=size,
            indptr=indptr,
            indices=edges.v[chosen].astype(np.intp),
            time=edges.travel_time[chosen].astype(np.float64),
            length=edges.length[chosen].astype(np.float64),
            pair_key=key[first],
            pair_edge=chosen,
        )

    def position(self, tails: IntArray, heads: IntArray) -> IntArray:
        """CSR positions of the quickest edges ``tails[i] → heads[i]`` (all must exist);
        the CSR order is the ``pair_key`` order."""
        keys = tails.astype(np.int64) * self.size + heads
        return np.searchsorted(self.pair_key, keys).astype(np.intp)

    def edge_between(self, tails: IntArray, heads: IntArray) -> IntArray:
        """Edge rows of the quickest edges ``tails[i] → heads[i]``."""
        return self.pair_edge[self.position(tails, heads)]

    def with_sources(self, anchors: list[IntArray]) -> csr_matrix:
        """The graph plus one virtual node per anchor list (rows ``size + i``)."""
        counts = np.array([a.size for a in anchors], dtype=np.intp)
        extra = np.concatenate(anchors) if anchors else np.empty(0, dtype=np.intp)
        indptr = np.concatenate([self.indptr, self.indptr[-1] + np.cumsum(counts)])
        indices = np.concatenate([self.indices, extra])
        data = np.concatenate([self.time, np.zeros(extra.size)])
        total = self.size + len(anchors)
        return csr_matrix((data, indices, indptr), shape=(total, total))


def _sourced(matrix: RoadMatrix, anchors: list[IntArray]) -> csr_matrix:
    """:meth:`RoadMatrix.with_sources` for a search run at once, on arrays kept per thread
    (:func:`~skynet._virtual_rows.with_virtual_rows`) where the anchors fit."""
    counts = np.array([a.size for a in anchors], dtype=np.intp)
    heads = np.concatenate(anchors) if anchors else np.empty(0, dtype=np.intp)
    graph = with_virtual_rows(
        matrix, matrix.time, matrix.indices, matrix.indptr, heads, np.zeros(heads.size), counts
    )
    return graph if graph is not None else matrix.with_sources(anchors)


@dataclass(frozen=True, eq=False)
class ChunkTree:
    """Shortest-path trees of a chunk: free-flow time, tree length, predecessor."""

    time: FloatArray  # (k, size) seconds, inf beyond the horizon
    length: FloatArray  # (k, size) metres along the tree path
    predecessor: NDArray[np.int32]  # (k, size + k); ``size + i`` is row i's source


def search(matrix: RoadMatrix, anchors: list[IntArray], horizon_s: float) -> ChunkTree:
    """Bounded Dijkstra from each anchor list at once, with tree lengths."""
    graph = _sourced(matrix, anchors)
    k = len(anchors)
    sources = matrix.size + np.arange(k)
    time, pred = dijkstra(
        graph, directed=True, indices=sources, limit=horizon_s, return_predecessors=True
    )
    length = _tree_lengths(matrix, pred, sources)
    return ChunkTree(time[:, : matrix.size], length, pred)


def _tree_lengths(matrix: RoadMatrix, pred: NDArray[np.int32], sources: IntArray) -> FloatArray:
    """Metres from each root along its tree, by pointer jumping over the reached nodes.

    Each reached node holds the length of its tree edge and a pointer to its
    parent; ``log2(depth)`` rounds of "add the parent's sum, jump to the
    parent's parent" leave every node with its whole path length.
    """
    k, width = pred.shape
    flat = pred.reshape(-1)
    node_flat = np.flatnonzero(flat >= 0)
    count = node_flat.size
    parent = flat[node_flat].astype(np.intp)
    node = node_flat % width
    step = np.zeros(count + 1)
    jump = np.full(count + 1, count, dtype=np.intp)  # ``count``: the roots' sentinel
    real = parent < matrix.size
    step[:count][real] = matrix.length[matrix.position(parent[real], node[real])]
    slot = np.full(k * width, -1, dtype=np.intp)
    slot[node_flat] = np.arange(count)
    jump[:count][real] = slot[(node_flat - node + parent)[real]]
    while np.any(jump[:count] != count):
        step += step[jump]
        jump = jump[jump]
    out = np.full(k * width, np.inf)
    out[node_flat] = step[:count]
    out[np.arange(k) * width + sources] = 0.0
    return out.reshape(k, width)[:, : matrix.size]
