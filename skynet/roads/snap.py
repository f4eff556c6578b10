"""Snap many points at once to their nearest road edge (one STRtree query)."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from skynet.errors import BadInputError

if TYPE_CHECKING:
    from skynet.roads.network import RoadNetwork


class Snapped(NamedTuple):
    """Where points fall on the network; unpacks as ``(edge, offset_m, distance_m)``.

    ``offset_m`` runs along the edge from its ``u`` node, scaled to the edge's
    ``length`` (so it lies in ``[0, length]`` even where the stored length is
    not the planar length of the geometry); ``distance_m`` is the planar
    distance from the point to the edge.
    """

    edge: NDArray[np.intp]
    offset_m: NDArray[np.float64]
    distance_m: NDArray[np.float64]


def snap(network: RoadNetwork, xs: ArrayLike, ys: ArrayLike) -> Snapped:
    """Nearest edge, offset along it and distance of each metric point ``(x, y)``.

    Where several edges are equally near (the two directions of a two-way road
    share a line) one of them is returned.
    """
    x = np.atleast_1d(np.asarray(xs, dtype=np.float64))
    y = np.atleast_1d(np.asarray(ys, dtype=np.float64))
    if x.shape != y.shape or x.ndim != 1:
        msg = f"snap needs two 1-D arrays of equal length, got shapes {x.shape} and {y.shape}"
        raise BadInputError(msg)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise BadInputError("cannot snap a point with a non-finite coordinate")
    if x.size == 0:
        empty = np.empty(0, dtype=np.float64)
        return Snapped(np.empty(0, dtype=np.intp), empty, empty.copy())
    points = shapely.points(x, y)
    pairs, distances = network.edge_tree.query_nearest(
        points, return_distance=True, all_matches=False
    )
    edge = np.empty(x.size, dtype=np.intp)
    distance = np.empty(x.size, dtype=np.float64)
    edge[pairs[0]] = pairs[1]
    distance[pairs[0]] = distances
    lines = network.geometries[edge]
    fraction = shapely.line_locate_point(lines, points, normalized=True)
    offset = np.clip(fraction, 0.0, 1.0) * network.edges.length[edge]
    return Snapped(edge, np.asarray(offset, dtype=np.float64), distance)
