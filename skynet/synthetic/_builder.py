"""Collect nodes and road segments as arrays, then assemble one osmnx-style graph.

The generator's parts (town grid, ring, park, villages, rural lanes) append
blocks of nodes and undirected *segments*; :meth:`GraphBuilder.build` turns all
of them into directed edges at once: LineStrings built by one vectorised
``shapely.linestrings`` call per direction, lengths measured along them,
travel times from the class speed.
"""

from __future__ import annotations

from typing import Final

import networkx as nx
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from camera_registry.crs import SiteCRS

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Road classes the generator uses and their free-flow speeds (km/h).
SPEED_KPH: Final = {
    "trunk": 80.0,
    "primary": 60.0,
    "secondary": 50.0,
    "tertiary": 40.0,
    "residential": 30.0,
    "unclassified": 40.0,
    "track": 20.0,
}
HIGHWAYS: Final = tuple(SPEED_KPH)
HIGHWAY_CODE: Final = {name: code for code, name in enumerate(HIGHWAYS)}
#: Roads whose junctions get intersection cameras and whose length gets checkpoints.
ARTERIAL: Final = frozenset({"trunk", "primary", "secondary"})
#: Roads between settlements.
RURAL: Final = frozenset({"unclassified", "track"})
_NO_POINTS: Final = np.empty((0, 2))


class GraphBuilder:
    """Accumulates node blocks and undirected segments; ids are consecutive ints."""

    def __init__(self) -> None:
        self._xy: list[FloatArray] = []
        self._zone: list[NDArray[np.object_]] = []
        self._village: list[NDArray[np.object_]] = []
        self._node_count = 0
        self._u: list[IntArray] = []
        self._v: list[IntArray] = []
        self._code: list[NDArray[np.int8]] = []
        self._oneway: list[NDArray[np.bool_]] = []
        self._interior: list[list[FloatArray]] = []

    @property
    def node_count(self) -> int:
        return self._node_count

    @property
    def segment_count(self) -> int:
        return sum(block.shape[0] for block in self._u)

    def xy(self) -> FloatArray:
        """Coordinates of every node added so far, ``(N, 2)``."""
        return np.concatenate(self._xy) if self._xy else np.empty((0, 2))

    def add_nodes(self, xy: ArrayLike, zone: str, village: str | None = None) -> IntArray:
        """Append nodes; returns their ids."""
        points = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        count = points.shape[0]
        ids = np.arange(self._node_count, self._node_count + count, dtype=np.int64)
        self._xy.append(points)
        self._zone.append(np.full(count, zone, dtype=object))
        self._village.append(np.full(count, village, dtype=object))
        self._node_count += count
        return ids

    def add_segments(
        self,
        u: ArrayLike,
        v: ArrayLike,
        highway: str | ArrayLike,
        oneway: bool | ArrayLike = False,
    ) -> None:
        """Append straight segments ``u → v`` (both directions unless one-way).

        ``highway`` is one class name for all, or an array of class codes
        (:data:`HIGHWAY_CODE`) per segment.
        """
        us = np.asarray(u, dtype=np.int64).reshape(-1)
        vs = np.asarray(v, dtype=np.int64).reshape(-1)
        code = HIGHWAY_CODE[highway] if isinstance(highway, str) else highway
        self._u.append(us)
        self._v.append(vs)
        self._code.append(np.broadcast_to(np.asarray(code, dtype=np.int8), us.shape).copy())
        self._oneway.append(np.broadcast_to(np.asarray(oneway, dtype=bool), us.shape).copy())
        self._interior.append([_NO_POINTS] * us.shape[0])

    def add_path(self, u: int, v: int, highway: str, interior: ArrayLike) -> None:
        """Append one two-way segment whose geometry bends through ``interior`` points."""
        self._u.append(np.array([u], dtype=np.int64))
        self._v.append(np.array([v], dtype=np.int64))
        self._code.append(np.array([HIGHWAY_CODE[highway]], dtype=np.int8))
        self._oneway.append(np.zeros(1, dtype=bool))
        self._interior.append([np.asarray(interior, dtype=np.float64).reshape(-1, 2)])

    def build(self, crs: SiteCRS, name: str) -> nx.MultiDiGraph:
        """The directed graph: a two-way segment becomes a pair of reversed edges."""
        xy = self.xy()
        lon, lat = crs.to_lonlat(xy[:, 0], xy[:, 1])
        u = np.concatenate(self._u)
        v = np.concatenate(self._v)
        code = np.concatenate(self._code)
        oneway = np.concatenate(self._oneway)
        interiors = [points for block in self._interior for points in block]
        forward, backward = _linestrings(xy, u, v, interiors, ~oneway)
        speed = np.array([SPEED_KPH[h] for h in HIGHWAYS])[code]
        length = shapely.length(forward)
        travel_time = length / (speed / 3.6)

        graph = nx.MultiDiGraph(crs=crs.code, name=name)
        zones = np.concatenate(self._zone)
        villages = np.concatenate(self._village)
        graph.add_nodes_from(_node_rows(xy, lon, lat, zones, villages))
        graph.add_edges_from(
            _edge_rows(u, v, code, oneway, forward, backward, length, speed, travel_time)
        )
        return graph


def _node_rows(
    xy: FloatArray,
    lon: FloatArray,
    lat: FloatArray,
    zones: NDArray[np.object_],
    villages: NDArray[np.object_],
) -> list[tuple[int, dict[str, object]]]:
    """networkx node rows; a dict per node is what networkx stores, hence the loop."""
    rows: list[tuple[int, dict[str, object]]] = []
    for node, (x, y, lo, la, zone, village) in enumerate(
        zip(
            xy[:, 0].tolist(),
            xy[:, 1].tolist(),
            lon.tolist(),
            lat.tolist(),
            zones.tolist(),
            villages.tolist(),
            strict=True,
        )
    ):
        data: dict[str, object] = {"x": x, "y": y, "lon": lo, "lat": la, "zone": zone}
        if village is not None:
            data["village"] = village
        rows.append((node, data))
    return rows


def _edge_rows(
    u: IntArray,
    v: IntArray,
    code: NDArray[np.int8],
    oneway: NDArray[np.bool_],
    forward: NDArray[np.object_],
    backward: NDArray[np.object_],
    length: FloatArray,
    speed: FloatArray,
    travel_time: FloatArray,
) -> list[tuple[int, int, int, dict[str, object]]]:
    """networkx edge rows (key 0): the forward edge, then its reverse unless one-way."""
    rows: list[tuple[int, int, int, dict[str, object]]] = []
    for a, b, c, one, fwd, bwd, metres, kph, seconds in zip(
        u.tolist(),
        v.tolist(),
        code.tolist(),
        oneway.tolist(),
        forward.tolist(),
        backward.tolist(),
        length.tolist(),
        speed.tolist(),
        travel_time.tolist(),
        strict=True,
    ):
        common = {
            "highway": HIGHWAYS[c],
            "maxspeed": kph,
            "length": metres,
            "travel_time": seconds,
            "oneway": one,
        }
        rows.append((a, b, 0, {**common, "geometry": fwd}))
        if not one:
            rows.append((b, a, 0, {**common, "geometry": bwd}))
    return rows


def _linestrings(
    xy: FloatArray,
    u: IntArray,
    v: IntArray,
    interiors: list[FloatArray],
    two_way: NDArray[np.bool_],
) -> tuple[NDArray[np.object_], NDArray[np.object_]]:
    """Forward geometries of all segments, reversed ones where ``two_way`` (else None).

    End vertices are the node coordinates themselves (bit-exact), so a
    geometry's ends always equal its nodes' ``x, y``.
    """
    inner_counts = np.array([p.shape[0] for p in interiors], dtype=np.int64)
    counts = inner_counts + 2
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    coords = np.empty((int(counts.sum()), 2))
    coords[starts] = xy[u]
    coords[starts + counts - 1] = xy[v]
    if inner_counts.any():
        segment_of_inner = np.repeat(np.arange(u.shape[0]), inner_counts)
        inner_starts = np.concatenate([[0], np.cumsum(inner_counts)[:-1]])
        rank = np.arange(int(inner_counts.sum())) - inner_starts[segment_of_inner]
        coords[starts[segment_of_inner] + 1 + rank] = np.concatenate(interiors)
    segment_of_vertex = np.repeat(np.arange(u.shape[0]), counts)
    forward = shapely.linestrings(coords, indices=segment_of_vertex)
    rank = np.arange(coords.shape[0]) - starts[segment_of_vertex]
    reverse_index = starts[segment_of_vertex] + counts[segment_of_vertex] - 1 - rank
    backward_all = shapely.linestrings(coords[reverse_index], indices=segment_of_vertex)
    backward = np.where(two_way, backward_all, None)
    return np.asarray(forward, dtype=object), np.asarray(backward, dtype=object)


def winding_interior(
    start: FloatArray,
    end: FloatArray,
    rng: np.random.Generator,
    *,
    step_m: float = 150.0,
    amplitude_m: float = 120.0,
) -> FloatArray:
    """Interior vertices of a lane that meanders between two points.

    The sideways offset is a sum of two sines tapered to zero at both ends, so
    the lane leaves and reaches its nodes cleanly; it stays below 8% of the
    straight distance, which keeps the line simple (no self-crossing).
    """
    delta = np.asarray(end, dtype=np.float64) - np.asarray(start, dtype=np.float64)
    distance = float(np.hypot(*delta))
    count = max(3, round(distance / step_m))
    t = np.linspace(0.0, 1.0, count + 2)[1:-1]
    normal = np.array([-delta[1], delta[0]]) / max(distance, 1e-9)
    frequencies = rng.uniform(0.5, 2.5, size=2)
    phases = rng.uniform(0.0, 2.0 * np.pi, size=2)
    weights = rng.uniform(0.3, 1.0, size=2)
    wave = (weights[:, None] * np.sin(2 * np.pi * frequencies[:, None] * t + phases[:, None])).sum(
        0
    )
    wave /= max(float(weights.sum()), 1e-9)
    offset = min(amplitude_m, 0.08 * distance) * np.sin(np.pi * t) * wave
    return np.asarray(start + t[:, None] * delta + offset[:, None] * normal, dtype=np.float64)
