"""The gap model's sparse camera sets against a dense walk up the search tree, and the
vectorised tree helpers against plain loops, on random trees and a random road grid."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from scipy.sparse import csr_matrix

from skynet._paths import bounded_tree
from skynet._tree import depths, levels
from skynet.gap import _path_cameras, _Sets, nearest_marked
from skynet.implied import RoadGraph


def random_tree(size: int, seed: int) -> np.ndarray:
    """Parents of a random forest (-1 at roots), each parent numbered before its child."""
    rng = np.random.default_rng(seed)
    parent = np.array([rng.integers(-1, i) if i else -1 for i in range(size)], dtype=np.intp)
    shuffle = rng.permutation(size)  # numbering no longer follows depth
    inverse = np.argsort(shuffle)
    return np.where(parent[shuffle] >= 0, inverse[np.maximum(parent[shuffle], 0)], -1)


def walk_up(parent: np.ndarray, node: int) -> list[int]:
    out = [node]
    while parent[out[-1]] >= 0:
        out.append(int(parent[out[-1]]))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_depths_levels_and_nearest_marked_match_a_walk_up_the_tree(seed: int) -> None:
    parent = random_tree(300, seed)
    nodes = np.arange(300, dtype=np.intp)
    depth = depths(parent, nodes)
    assert depth.tolist() == [len(walk_up(parent, n)) for n in range(300)]
    _, by_depth = levels(parent, nodes)
    seen: set[int] = set()
    for level in by_depth:
        assert all(parent[n] < 0 or int(parent[n]) in seen for n in level.tolist())
        seen |= set(level.tolist())
    assert seen == set(range(300))
    marked = np.random.default_rng(seed).random(300) < 0.1
    found = nearest_marked(parent, marked)
    expected = [next((m for m in walk_up(parent, n) if marked[m]), -1) for n in range(300)]
    assert found.tolist() == expected


def test_path_cameras_match_the_dense_walk_over_a_road_grid() -> None:
    grid = nx.grid_2d_graph(12, 12).to_directed()
    rng = np.random.default_rng(7)
    index = {node: i for i, node in enumerate(grid.nodes)}
    u = np.array([index[a] for a, _ in grid.edges], dtype=np.intp)
    v = np.array([index[b] for _, b in grid.edges], dtype=np.intp)
    cost = rng.uniform(10.0, 60.0, u.shape[0])
    size = len(index)
    order = np.lexsort((v, u))
    matrix = csr_matrix(
        (cost[order], v[order], np.r_[0, np.cumsum(np.bincount(u, minlength=size))])
    )
    graph = RoadGraph(matrix, np.argsort(order), order)
    cameras = 40
    entry = rng.integers(0, matrix.nnz, 90)
    watch = _Sets.of(entry, rng.integers(0, cameras, 90), matrix.nnz, cameras)
    dense = np.zeros((matrix.nnz, cameras), dtype=bool)
    for row in range(matrix.nnz):
        dense[row, watch.cameras[watch.indptr[row] : watch.indptr[row + 1]]] = True
    tail = np.repeat(np.arange(size), np.diff(matrix.indptr))
    for forward in (True, False):
        graph_used = matrix if forward else csr_matrix(matrix.T)
        reach, before = bounded_tree(graph_used, np.array([0, 5]), np.array([0.0, 3.0]), 400.0)
        sets = _path_cameras(reach, before, graph, watch, forward=forward)
        for node in range(size):
            want = np.zeros(cameras, dtype=bool)
            at = node
            while np.isfinite(reach[at]) and 0 <= before[at] < size:
                up = int(before[at])
                a, b = (up, at) if forward else (at, up)
                hit = np.flatnonzero((tail == a) & (matrix.indices == b))
                want |= dense[hit].any(axis=0)
                at = up
            _, got = sets.gather(np.array([node], dtype=np.intp))
            assert sorted(got.tolist()) == np.flatnonzero(want).tolist()


def test_path_cameras_of_a_tree_that_drives_no_watched_road_are_empty() -> None:
    matrix = csr_matrix((np.array([5.0, 5.0]), np.array([1, 2]), np.array([0, 1, 2, 2])))
    graph = RoadGraph(matrix, np.arange(2), np.arange(2))
    watch = _Sets.of(np.zeros(0, np.intp), np.zeros(0, np.intp), 2, 3)
    reach, before = bounded_tree(matrix, np.array([0]), np.array([0.0]), 100.0)
    owner, got = _path_cameras(reach, before, graph, watch, forward=True).gather(np.arange(3))
    assert owner.size == 0 and got.size == 0
