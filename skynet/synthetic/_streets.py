"""The road graph as flat arrays: what the traffic and the renderer need, read once.

A networkx graph is read edge by edge exactly once into an :class:`EdgeTable`;
every later step (routing for a whole fleet, positions of every vehicle, the
ground of every camera) works on its arrays.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final

import networkx as nx
import numpy as np
import shapely
from numpy.typing import NDArray

from skynet.errors import BadInputError

#: Carriageway width (m) by road class; unknown classes get :data:`DEFAULT_WIDTH_M`.
ROAD_WIDTH_M: Final = {
    "motorway": 14.0, "motorway_link": 7.0, "trunk": 12.0, "trunk_link": 7.0,
    "primary": 10.0, "primary_link": 7.0, "secondary": 8.5, "secondary_link": 6.5,
    "tertiary": 7.0, "tertiary_link": 6.0, "residential": 6.0, "living_street": 5.0,
    "unclassified": 5.0, "road": 5.5, "service": 4.0, "track": 3.5,
}  # fmt: skip
DEFAULT_WIDTH_M: Final = 5.5
#: Free-flow speed (km/h) by class where ``maxspeed`` is missing or unreadable.
DEFAULT_SPEED_KPH: Final = {
    "motorway": 100.0, "trunk": 80.0, "primary": 60.0, "secondary": 50.0,
    "tertiary": 40.0, "residential": 30.0, "unclassified": 40.0, "track": 20.0,
    "service": 20.0, "living_street": 10.0,
}  # fmt: skip
FALLBACK_SPEED_KPH: Final = 30.0


@dataclass(frozen=True, eq=False)
class EdgeTable:
    """Nodes and directed edges of a road graph as arrays (edge ``i`` runs ``u[i] → v[i]``)."""

    node_ids: NDArray[np.object_]
    node_x: NDArray[np.float64]
    node_y: NDArray[np.float64]
    u: NDArray[np.int64]
    v: NDArray[np.int64]
    key: NDArray[np.object_]
    length: NDArray[np.float64]
    speed_kph: NDArray[np.float64]
    highway: NDArray[np.str_]
    oneway: NDArray[np.bool_]
    geometry: NDArray[np.object_]

    @classmethod
    def from_graph(cls, graph: nx.MultiDiGraph) -> EdgeTable:
        """Read a graph in osmnx conventions; a missing ``geometry`` is the straight line."""
        if graph.number_of_edges() == 0:
            msg = "the road graph has no edges"
            raise BadInputError(msg, field="graph")
        node_ids = list(graph.nodes)
        index = {node: i for i, node in enumerate(node_ids)}
        try:
            node_x = np.array([graph.nodes[n]["x"] for n in node_ids], dtype=np.float64)
            node_y = np.array([graph.nodes[n]["y"] for n in node_ids], dtype=np.float64)
        except KeyError as exc:
            msg = "every node needs metric 'x' and 'y'"
            raise BadInputError(msg, field=str(exc.args[0])) from exc
        rows = [_edge_row(u, v, k, data) for u, v, k, data in graph.edges(keys=True, data=True)]
        u_idx = np.array([index[r[0]] for r in rows], dtype=np.int64)
        v_idx = np.array([index[r[1]] for r in rows], dtype=np.int64)
        geometry = np.empty(len(rows), dtype=object)
        geometry[:] = [r[6] for r in rows]
        missing = np.array([g is None for g in geometry], dtype=bool)
        if missing.any():
            starts = np.column_stack([node_x[u_idx[missing]], node_y[u_idx[missing]]])
            ends = np.column_stack([node_x[v_idx[missing]], node_y[v_idx[missing]]])
            geometry[missing] = shapely.linestrings(np.stack([starts, ends], axis=1))
        length = np.array([r[3] for r in rows], dtype=np.float64)
        no_length = ~np.isfinite(length) | (length <= 0.0)
        length[no_length] = shapely.length(geometry[no_length])
        keys = np.empty(len(rows), dtype=object)
        keys[:] = [r[2] for r in rows]
        nodes = np.empty(len(node_ids), dtype=object)
        nodes[:] = node_ids
        return cls(
            node_ids=nodes,
            node_x=node_x,
            node_y=node_y,
            u=u_idx,
            v=v_idx,
            key=keys,
            length=np.maximum(length, 0.1),
            speed_kph=np.array([r[4] for r in rows], dtype=np.float64),
            highway=np.array([r[5] for r in rows], dtype=np.str_),
            oneway=np.array([r[7] for r in rows], dtype=bool),
            geometry=geometry,
        )

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return int(self.u.shape[0])

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_x.shape[0])

    @cached_property
    def node_index(self) -> dict[Hashable, int]:
        """Position of each node id in the node arrays."""
        return {node: i for i, node in enumerate(self.node_ids.tolist())}

    @cached_property
    def width_m(self) -> NDArray[np.float64]:
        """Carriageway width of each edge from its class."""
        widths = [ROAD_WIDTH_M.get(str(h), DEFAULT_WIDTH_M) for h in self.highway.tolist()]
        return np.array(widths, dtype=np.float64)

    @cached_property
    def geometry_length(self) -> NDArray[np.float64]:
        """Length of each edge's drawn geometry (may differ a little from ``length``)."""
        return np.asarray(shapely.length(self.geometry), dtype=np.float64)

    @cached_property
    def tree(self) -> shapely.STRtree:
        """Spatial index over the edge geometries."""
        return shapely.STRtree(self.geometry)

    @cached_property
    def drawn(self) -> NDArray[np.bool_]:
        """One edge of each two-way pair (and every one-way edge), for drawing the road once."""
        ids = self.node_ids.astype(str)
        forward = ids[self.u] <= ids[self.v]
        pair = self.u * self.n_nodes + self.v
        has_twin = np.isin(self.v * self.n_nodes + self.u, pair)
        return np.asarray(self.oneway | forward | ~has_twin, dtype=bool)

    def edges_near(self, geometry: shapely.Geometry) -> NDArray[np.int64]:
        """Indices of edges whose geometry intersects ``geometry``."""
        hits = self.tree.query(geometry, predicate="intersects")
        return np.sort(np.asarray(hits, dtype=np.int64))


def _edge_row(
    u: Hashable, v: Hashable, key: Hashable, data: dict[str, Any]
) -> tuple[Hashable, Hashable, Hashable, float, float, str, Any, bool]:
    """One edge's attributes, tolerant of osmnx's list-valued and string attributes."""
    highway = str(_first(data.get("highway", "other")))
    length = _as_float(data.get("length"), math.nan)
    speed = _as_float(_first(data.get("maxspeed")), math.nan)
    if not math.isfinite(speed) or speed <= 0.0:
        speed = DEFAULT_SPEED_KPH.get(highway, FALLBACK_SPEED_KPH)
    geometry = data.get("geometry")
    oneway = data.get("oneway", False)
    oneway_flag = (
        oneway if isinstance(oneway, bool) else str(oneway).lower() in {"true", "yes", "1"}
    )
    return u, v, key, length, speed, highway, geometry, oneway_flag


def _first(value: Any) -> Any:
    """The first element of a list value (osmnx merges tags into lists)."""
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value


def _as_float(value: Any, default: float) -> float:
    """A number from a float, int or a string such as ``'50'`` or ``'50 mph'``."""
    if value is None:
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        head = str(value).split()[0] if str(value).split() else ""
        try:
            factor = 1.609344 if "mph" in str(value) else 1.0
            return float(head) * factor
        except ValueError:
            return default
