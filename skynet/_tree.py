"""Search trees read level by level, without a Python loop over their nodes.

A shortest-path tree (``scipy``'s predecessors) is walked root to leaves
by levels: every node's depth is counted by pointer jumping (each round
doubles the stretch of ancestors summed, so a tree of depth d takes about
log2 d vectorised rounds), then the nodes are grouped by depth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.intp]
FloatArray = NDArray[np.float64]


def depths(parent: IntArray, nodes: IntArray) -> IntArray:
    """Per node: how many of ``nodes`` lie on its way up to the root, itself included (0
    for a node not in ``nodes``; a parent not in ``nodes`` is a root)."""
    size = parent.shape[0]
    depth = np.zeros(size, dtype=np.intp)
    depth[nodes] = 1
    member = depth.astype(bool)
    jump = np.full(size, -1, dtype=np.intp)
    up = parent[nodes]
    inside = (up >= 0) & (up < size)
    jump[nodes[inside]] = up[inside]
    jump[jump >= 0] = np.where(member[jump[jump >= 0]], jump[jump >= 0], -1)
    live = np.flatnonzero(jump >= 0)
    while live.size:
        to = jump[live]
        depth[live] += depth[to]
        jump[live] = jump[to]
        live = live[jump[live] >= 0]
    return depth


def levels(parent: IntArray, nodes: IntArray) -> tuple[IntArray, list[IntArray]]:
    """Each node's depth (:func:`depths`) and ``nodes`` grouped by it, shallowest first (a
    node's parent is in an earlier group or is a root)."""
    depth = depths(parent, nodes)
    order = nodes[np.argsort(depth[nodes], kind="stable")]
    if order.size == 0:
        return depth, []
    return depth, np.split(order, np.flatnonzero(np.diff(depth[order])) + 1)


@dataclass(frozen=True, eq=False)
class SearchTree:
    """A search tree: each node's parent and the road (edge or graph entry) into it (-1 at
    roots and unreached nodes), and the tree's nodes by depth (:func:`levels`). Sums along
    its ways run one level at a time, so they cost a few vectorised passes, not a walk."""

    parent: IntArray
    into: IntArray
    levels: list[IntArray]

    def down(self, per_road: FloatArray, at_root: FloatArray | None = None) -> FloatArray:
        """Per node: the sum of ``per_road`` over the roads of its way from the root, plus
        ``at_root`` of its root (nodes off the tree keep theirs; 0 without)."""
        size = self.parent.shape[0]
        out = np.zeros(size) if at_root is None else np.asarray(at_root, dtype=np.float64).copy()
        for at in self.levels:
            out[at] = out[self.parent[at]] + per_road[self.into[at]]
        return out

    def up(self, weight: FloatArray) -> FloatArray:
        """Per node: its weight and that of every node below it."""
        below = np.asarray(weight, dtype=np.float64).copy()
        for at in reversed(self.levels):
            np.add.at(below, self.parent[at], below[at])
        return below

    def preorder(self) -> tuple[IntArray, IntArray]:
        """Each node's place in a depth-first walk and how many nodes its subtree holds
        (a subtree is the run of places from its root's)."""
        size = self.parent.shape[0]
        count = np.asarray(self.up(np.ones(size)), dtype=np.intp)
        children = np.argsort(self.parent, kind="stable")
        starts = np.searchsorted(self.parent[children], np.arange(size + 1))
        first = np.zeros(size, dtype=np.intp)
        stack = np.flatnonzero(self.parent < 0).tolist()[::-1]
        at = 0
        while stack:
            node = stack.pop()
            first[node] = at
            at += 1
            stack += children[starts[node] : starts[node + 1]].tolist()[::-1]
        return first, count
