"""Routes given by hand (node ids or edge tuples) turned into edge indices.

A scripted vehicle, such as the scenario's fleeing three-wheeler, drives a
route someone wrote down; this checks that every step exists and that the
steps join up, and names the first one that does not.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
from numpy.typing import NDArray

from skynet.errors import BadInputError
from skynet.synthetic._routing import PairIndex
from skynet.synthetic._streets import EdgeTable

IntArray = NDArray[np.int64]


def route_edges(streets: EdgeTable, route: Sequence[Hashable]) -> IntArray:
    """Edge indices of a route given as node ids or as ``(u, v[, key])`` tuples.

    A route whose steps are all node ids is read as nodes (tuple node ids are
    common), otherwise tuples of two or three are read as edges.
    """
    if len(route) == 0:
        msg = "a scripted route needs at least one edge"
        raise BadInputError(msg, field="route")
    index = streets.node_index
    as_nodes = all(_is_node(step, index) for step in route)
    as_edges = all(isinstance(step, tuple) and len(step) in (2, 3) for step in route)
    if as_edges and not as_nodes:
        edges = _edges_from_tuples(streets, route)  # type: ignore[arg-type]
    else:
        edges = _edges_from_nodes(streets, route)
    joins = streets.v[edges[:-1]] == streets.u[edges[1:]]
    if not joins.all():
        bad = int(np.flatnonzero(~joins)[0])
        msg = f"route is not connected between step {bad} and step {bad + 1}"
        raise BadInputError(msg, field="route")
    return edges


def _is_node(step: Hashable, index: dict[Hashable, int]) -> bool:
    """True when ``step`` is a node id of the graph (unhashable steps are not)."""
    try:
        return step in index
    except TypeError:
        return False


def _edges_from_nodes(streets: EdgeTable, nodes: Sequence[Hashable]) -> IntArray:
    """Shortest parallel edge for each consecutive node pair."""
    if len(nodes) < 2:
        msg = "a route of nodes needs at least two nodes"
        raise BadInputError(msg, field="route")
    index = streets.node_index
    missing = [n for n in nodes if not _is_node(n, index)]
    if missing:
        msg = f"route node {missing[0]!r} is not in the road graph"
        raise BadInputError(msg, field="route")
    positions = np.array([index[n] for n in nodes], dtype=np.int64)
    pairs = PairIndex.build(streets, streets.length)
    wanted = positions[:-1] * streets.n_nodes + positions[1:]
    where = np.searchsorted(pairs.keys, wanted).clip(0, pairs.keys.shape[0] - 1)
    absent = pairs.keys[where] != wanted
    if absent.any():
        bad = int(np.flatnonzero(absent)[0])
        msg = f"no road from {nodes[bad]!r} to {nodes[bad + 1]!r}"
        raise BadInputError(msg, field="route")
    return np.asarray(pairs.edges[where], dtype=np.int64)


def _edges_from_tuples(streets: EdgeTable, steps: Sequence[tuple[Hashable, ...]]) -> IntArray:
    """Edge indices of ``(u, v)`` or ``(u, v, key)`` tuples."""
    lookup: dict[tuple[Hashable, ...], int] = {}
    node_ids = streets.node_ids
    for i, (u, v, key) in enumerate(
        zip(
            node_ids[streets.u].tolist(),
            node_ids[streets.v].tolist(),
            streets.key.tolist(),
            strict=True,
        )
    ):
        lookup.setdefault((u, v, key), i)
        previous = lookup.get((u, v))
        if previous is None or streets.length[i] < streets.length[previous]:
            lookup[(u, v)] = i
    edges = []
    for step in steps:
        if step not in lookup:
            msg = f"route edge {step!r} is not in the road graph"
            raise BadInputError(msg, field="route")
        edges.append(lookup[step])
    return np.array(edges, dtype=np.int64)
