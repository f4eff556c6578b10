"""Figures that describe a road network: size, length by class, extent, connectivity."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from skynet.roads.classes import HIGHWAY_CLASSES
from skynet.roads.network import RoadNetwork


@dataclass(frozen=True)
class NetworkSummary:
    """``km_by_class`` counts each physical road once (both directions together).

    ``strong_components`` counts the parts within which every node reaches
    every other one; ``largest_strong_share`` is the node share of the biggest.
    """

    crs: str
    nodes: int
    edges: int
    roads: int
    km: float
    km_by_class: dict[str, float]
    bbox_lonlat: tuple[float, float, float, float]
    oneway_edges: int
    strong_components: int
    largest_strong_share: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarise(network: RoadNetwork) -> NetworkSummary:
    """Describe the network (vectorised over edges)."""
    edges, size = network.edges, len(network.nodes)
    _, first = np.unique(edges.road, return_index=True)
    km = np.bincount(
        edges.highway[first], weights=edges.length[first], minlength=len(HIGHWAY_CLASSES)
    )
    by_class = {
        HIGHWAY_CLASSES[code]: float(km[code] / 1000.0) for code in np.flatnonzero(km > 0.0)
    }
    matrix = coo_matrix(
        (np.ones(len(edges), dtype=np.int8), (edges.u, edges.v)), shape=(size, size)
    ).tocsr()
    count, labels = connected_components(matrix, directed=True, connection="strong")
    largest = int(np.bincount(labels).max())
    return NetworkSummary(
        crs=network.crs.code,
        nodes=size,
        edges=len(edges),
        roads=int(first.size),
        km=float(edges.length[first].sum() / 1000.0),
        km_by_class=dict(sorted(by_class.items(), key=lambda item: -item[1])),
        bbox_lonlat=network.bbox_lonlat,
        oneway_edges=int(edges.oneway.sum()),
        strong_components=int(count),
        largest_strong_share=largest / size,
    )
