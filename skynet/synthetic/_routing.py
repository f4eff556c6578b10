"""Time-shortest routes for a whole fleet at once, with random detours.

Detours come from *weight profiles*: each profile multiplies every edge's
travel time by its own log-normal noise, so two vehicles on different profiles
take different (plausible, near-shortest) roads. Each profile is one sparse
graph; all the trips of a profile are solved by one batched
:func:`scipy.sparse.csgraph.dijkstra` call per chunk of sources, and paths are
read back by walking every vehicle's predecessor chain in lock-step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from skynet.synthetic._streets import EdgeTable

#: Sources solved per dijkstra call (memory: chunk × nodes × 12 bytes).
SOURCE_CHUNK: Final = 64
_NO_PATH: Final = -9999


@dataclass(frozen=True, eq=False)
class PairIndex:
    """The best directed edge between each connected node pair, under one weighting."""

    keys: NDArray[np.int64]
    edges: NDArray[np.int64]
    matrix: csr_matrix

    @classmethod
    def build(cls, table: EdgeTable, weights: NDArray[np.float64]) -> PairIndex:
        """Keep, for each ``(u, v)``, the parallel edge of least weight."""
        pair = table.u * table.n_nodes + table.v
        order = np.lexsort((weights, pair))
        first = np.ones(order.shape[0], dtype=bool)
        first[1:] = pair[order][1:] != pair[order][:-1]
        best = order[first]
        matrix = csr_matrix(
            (weights[best], (table.u[best], table.v[best])), shape=(table.n_nodes, table.n_nodes)
        )
        return cls(keys=pair[best], edges=best, matrix=matrix)

    def lookup(
        self, tails: NDArray[np.int64], heads: NDArray[np.int64], n_nodes: int
    ) -> NDArray[np.int64]:
        """Edge index of each hop ``tails[i] → heads[i]`` (all hops must exist)."""
        where = np.searchsorted(self.keys, tails * n_nodes + heads)
        return self.edges[where]


def free_flow_time(table: EdgeTable) -> NDArray[np.float64]:
    """Seconds to drive each edge at its speed limit."""
    return np.asarray(table.length / (table.speed_kph / 3.6), dtype=np.float64)


def profile_weights(
    table: EdgeTable, rng: np.random.Generator, n_profiles: int, detour_sigma: float
) -> list[NDArray[np.float64]]:
    """Perturbed travel times, one array per profile (profile 0 is unperturbed)."""
    base = free_flow_time(table)
    out = [base]
    for _ in range(1, n_profiles):
        out.append(base * rng.lognormal(0.0, detour_sigma, size=base.shape[0]))
    return out


def batch_routes(
    table: EdgeTable,
    pairs: PairIndex,
    sources: NDArray[np.int64],
    targets: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """Shortest routes ``sources[i] → targets[i]`` under ``pairs``' weights.

    Returns ``(offsets, edges, found)``: trip ``i`` is ``edges[offsets[i]:offsets[i+1]]``
    (empty when ``found[i]`` is False: no path, or source equals target).
    """
    n = sources.shape[0]
    node_paths: list[NDArray[np.int64]] = [np.empty(0, dtype=np.int64)] * n
    unique_sources, row_of = np.unique(sources, return_inverse=True)
    for start in range(0, unique_sources.shape[0], SOURCE_CHUNK):
        chunk = unique_sources[start : start + SOURCE_CHUNK]
        _, predecessors = dijkstra(
            pairs.matrix, directed=True, indices=chunk, return_predecessors=True
        )
        members = np.flatnonzero((row_of >= start) & (row_of < start + chunk.shape[0]))
        paths = _walk_back(
            predecessors, row_of[members] - start, sources[members], targets[members]
        )
        for member, path in zip(members.tolist(), paths, strict=True):
            node_paths[member] = path
    lengths = np.array([max(p.shape[0] - 1, 0) for p in node_paths], dtype=np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    tails = np.concatenate(
        [p[:-1] for p in node_paths if p.shape[0] > 1] or [np.empty(0, np.int64)]
    )
    heads = np.concatenate([p[1:] for p in node_paths if p.shape[0] > 1] or [np.empty(0, np.int64)])
    edges = pairs.lookup(tails.astype(np.int64), heads.astype(np.int64), table.n_nodes)
    return offsets, edges, lengths > 0


def _walk_back(
    predecessors: NDArray[np.int32],
    rows: NDArray[np.int64],
    sources: NDArray[np.int64],
    targets: NDArray[np.int64],
) -> list[NDArray[np.int64]]:
    """Node paths source → target for many trips, following predecessors in lock-step."""
    current = targets.astype(np.int64).copy()
    reachable = predecessors[rows, current] != _NO_PATH
    active = reachable & (current != sources)
    hops = [current.copy()]
    while active.any():
        current[active] = predecessors[rows[active], current[active]]
        hops.append(current.copy())
        active &= current != sources
    stacked = np.stack(hops, axis=1)  # (trips, steps) from target back to source
    steps = np.argmax(stacked == sources[:, None], axis=1)
    paths: list[NDArray[np.int64]] = []
    for i in range(stacked.shape[0]):
        if reachable[i] and targets[i] != sources[i]:
            paths.append(stacked[i, : steps[i] + 1][::-1].copy())
        else:
            paths.append(np.empty(0, dtype=np.int64))
    return paths
