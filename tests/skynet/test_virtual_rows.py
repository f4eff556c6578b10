"""Kept virtual-row graphs equal the graphs built afresh, call after call."""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse import random as sparse_random

from skynet._virtual_rows import ROOM, with_virtual_rows


def _fresh(
    graph: csr_matrix, heads: np.ndarray, weights: np.ndarray, counts: np.ndarray
) -> csr_matrix:
    total = graph.shape[0] + counts.size
    indptr = np.concatenate([graph.indptr, graph.indptr[-1] + np.cumsum(counts)])
    data = np.concatenate([graph.data, weights])
    indices = np.concatenate([graph.indices, heads])
    return csr_matrix((data, indices, indptr), shape=(total, total))


def test_kept_rows_match_fresh_graphs_after_reuse() -> None:
    rng = np.random.default_rng(3)
    graph = csr_matrix(sparse_random(50, 50, density=0.1, random_state=4, format="csr"))
    for rows in (1, 3, 2):  # fewer rows after more: no stale row may survive
        counts = rng.integers(0, 5, size=rows)
        heads = rng.integers(0, 50, size=int(counts.sum()))
        weights = rng.random(heads.size)
        kept = with_virtual_rows(
            graph, graph.data, graph.indices, graph.indptr, heads, weights, counts
        )
        assert kept is not None
        fresh = _fresh(graph, heads, weights, counts)
        assert kept.shape == fresh.shape
        assert (kept != fresh).nnz == 0


def test_rows_beyond_the_room_are_refused() -> None:
    graph = csr_matrix(np.eye(4))
    heads = np.zeros(ROOM + 1, dtype=np.intp)
    counts = np.array([heads.size])
    refused = with_virtual_rows(
        graph, graph.data, graph.indices, graph.indptr, heads, np.ones(heads.size), counts
    )
    assert refused is None
