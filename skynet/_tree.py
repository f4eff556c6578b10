"""Search trees read level by level, without a Python loop over their nodes.

A shortest-path tree (``scipy``'s predecessors) is walked root to leaves
by levels: every node's depth is counted by pointer jumping (each round
doubles the stretch of ancestors summed, so a tree of depth d takes about
log2 d vectorised rounds), then the nodes are grouped by depth.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.intp]


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
