"""A road graph read once into columns of physical roads, for camera placement.

networkx keeps one dict per edge; placement needs, per road, its ends, class,
geometry and the zones of its ends, and per node the roads that meet there.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import networkx as nx
import numpy as np
import shapely
from numpy.typing import NDArray


@dataclass(frozen=True, eq=False)
class RoadTable:
    """The graph's physical roads (a two-way pair counted once), read once.

    ``pair_*`` columns describe each road; ``pair_u``/``pair_v`` are node rows
    (positions in ``nodes``) and the geometry runs from ``u`` to ``v``.
    """

    nodes: list[Hashable]
    node_count: int
    pair_u: NDArray[np.int64]
    pair_v: NDArray[np.int64]
    pair_highway: list[str]
    pair_geometry: NDArray[np.object_]
    pair_zone_u: list[Any]
    pair_zone_v: list[Any]

    @classmethod
    def of(cls, graph: nx.MultiDiGraph) -> RoadTable:
        nodes = list(graph.nodes)
        row = {node: i for i, node in enumerate(nodes)}
        seen: set[tuple[int, int]] = set()
        u: list[int] = []
        v: list[int] = []
        highway: list[str] = []
        geometry: list[Any] = []
        for a, b, data in graph.edges(data=True):
            ra, rb = row[a], row[b]
            key = (min(ra, rb), max(ra, rb))
            if ra == rb or key in seen:
                continue
            seen.add(key)
            u.append(ra)
            v.append(rb)
            highway.append(str(data.get("highway", "")))
            geometry.append(data.get("geometry"))
        zones = [graph.nodes[node].get("zone") for node in nodes]
        xy = np.array([[graph.nodes[n]["x"], graph.nodes[n]["y"]] for n in nodes], dtype=np.float64)
        lines = np.array(geometry, dtype=object)
        missing = np.array([g is None for g in geometry], dtype=bool)
        if missing.any():
            ends = np.stack([xy[np.array(u)[missing]], xy[np.array(v)[missing]]], axis=1)
            lines[missing] = shapely.linestrings(ends)
        pair_u = np.array(u, dtype=np.int64)
        pair_v = np.array(v, dtype=np.int64)
        return cls(
            nodes=nodes,
            node_count=len(nodes),
            pair_u=pair_u,
            pair_v=pair_v,
            pair_highway=highway,
            pair_geometry=lines,
            pair_zone_u=[zones[i] for i in u],
            pair_zone_v=[zones[i] for i in v],
        )

    @cached_property
    def _incidence(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Roads sorted by the node they touch, and where each node's run starts."""
        touching = np.concatenate([self.pair_u, self.pair_v])
        order = np.argsort(touching, kind="stable")
        pairs = np.concatenate([np.arange(self.pair_u.shape[0])] * 2)[order]
        starts = np.searchsorted(touching[order], np.arange(self.node_count + 1))
        return pairs, starts

    def outgoing(self, node_row: int) -> list[tuple[int, shapely.LineString, str]]:
        """Each road at a node as (neighbour row, line starting at the node, class)."""
        pairs, starts = self._incidence
        out: list[tuple[int, shapely.LineString, str]] = []
        for index in pairs[starts[node_row] : starts[node_row + 1]].tolist():
            line = self.pair_geometry[index]
            if self.pair_u[index] == node_row:
                out.append((int(self.pair_v[index]), line, self.pair_highway[index]))
            else:
                out.append(
                    (int(self.pair_u[index]), shapely.reverse(line), self.pair_highway[index])
                )
        return out
