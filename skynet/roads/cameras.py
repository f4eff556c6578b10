"""Attach cameras to the roads they see: one STRtree query for all view sectors.

A camera watches a directed edge where its view sector covers part of the
edge's line. Both directions of a two-way road are separate directed edges on
the same line, so a camera that sees the road sees both directions of travel;
a one-way road offers one. For every (camera, directed edge) pair we keep the
watched length, the watched span along the edge (from ``u``, in the edge's
``length`` metres), the direction of travel through the span and whether that
travel approaches the camera (the vehicle's front is seen) or leaves it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from camera_registry.geometry import view_sectors
from camera_registry.registry import CameraRegistry
from skynet._ranges import groups, ranges
from skynet.errors import NotFoundError
from skynet.roads.network import RoadNetwork

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class WatchedParts:
    """Each connected watched piece of an edge: one interval ``[start_m, end_m]``."""

    camera: IntArray
    edge: IntArray
    start_m: FloatArray
    end_m: FloatArray


@dataclass(frozen=True, eq=False)
class CameraAttachment:
    """Which cameras watch which directed edges; rows of the pair arrays are pairs.

    ``camera`` indexes :attr:`camera_ids` (the registry's order), ``edge`` the
    network's edge rows. ``start_m``/``end_m`` bound the watched span along the
    edge, ``heading_deg`` is the direction of travel through it (clockwise
    from north) and ``approaching`` tells whether that travel heads towards
    the camera.
    """

    camera_ids: NDArray[np.str_]
    online: BoolArray
    sectors: NDArray[np.object_]
    camera: IntArray
    edge: IntArray
    watched_m: FloatArray
    start_m: FloatArray
    end_m: FloatArray
    heading_deg: FloatArray
    approaching: BoolArray
    parts: WatchedParts

    def __len__(self) -> int:
        return int(self.camera.shape[0])

    @cached_property
    def _camera_row(self) -> dict[str, int]:
        return {str(camera_id): row for row, camera_id in enumerate(self.camera_ids)}

    @cached_property
    def _by_edge(self) -> IntArray:
        return np.argsort(self.edge, kind="stable")

    @cached_property
    def _sorted_edges(self) -> IntArray:
        return np.asarray(self.edge[self._by_edge], dtype=np.intp)

    def pairs_of(self, camera_id: str) -> IntArray:
        """Pair rows of one camera (:class:`NotFoundError` for an unknown id)."""
        try:
            row = self._camera_row[camera_id]
        except KeyError:
            msg = f"no camera with id {camera_id!r} in the registry"
            raise NotFoundError(msg) from None
        order, bounds = self._by_camera
        return np.sort(order[bounds[row] : bounds[row + 1]])

    def camera_rows(self, camera_ids: Sequence[str]) -> IntArray:
        """Row in :attr:`camera_ids` of each id (-1 for an id not in the registry)."""
        rows = self._camera_row
        return np.array([rows.get(str(c), -1) for c in camera_ids], dtype=np.intp)

    def edges_of(self, camera_id: str) -> IntArray:
        """Directed edge rows a camera watches."""
        return self.edge[self.pairs_of(camera_id)]

    @cached_property
    def _by_camera(self) -> tuple[IntArray, IntArray]:
        return groups(self.camera, self.camera_ids.shape[0])

    def pairs_of_rows(self, camera_rows: IntArray) -> tuple[IntArray, IntArray]:
        """Pair rows of many cameras (by registry row) and, for each, its camera's position."""
        order, bounds = self._by_camera
        low, high = bounds[camera_rows], bounds[camera_rows + 1]
        owner = np.repeat(np.arange(camera_rows.shape[0], dtype=np.intp), high - low)
        return order[ranges(low, high)], owner

    def rows_watching(self, edge_rows: IntArray) -> IntArray:
        """Pair rows of every camera view on any of the edges (by edge, in the given order)."""
        order, sorted_edges = self._by_edge, self._sorted_edges
        low = np.searchsorted(sorted_edges, edge_rows, side="left")
        high = np.searchsorted(sorted_edges, edge_rows, side="right")
        return np.asarray(order[ranges(low, high)], dtype=np.intp)

    def cameras_of(self, edge_row: int) -> list[str]:
        """Ids of the cameras that watch one directed edge."""
        order = self._by_edge
        low = np.searchsorted(self.edge[order], edge_row, side="left")
        high = np.searchsorted(self.edge[order], edge_row, side="right")
        return [str(self.camera_ids[c]) for c in self.camera[order[low:high]]]

    def watching(self, edge_count: int) -> list[list[str]]:
        """For every edge row, the ids of the cameras that watch it."""
        out: list[list[str]] = [[] for _ in range(edge_count)]
        for camera, edge in zip(self.camera.tolist(), self.edge.tolist(), strict=True):
            out[edge].append(str(self.camera_ids[camera]))
        return out


def network_sectors(network: RoadNetwork, registry: CameraRegistry) -> NDArray[np.object_]:
    """View sectors in the network's CRS (the registry's own when both agree)."""
    if len(registry) == 0:
        return np.empty(0, dtype=object)
    if registry.crs.crs == network.crs.crs:
        return registry.sectors
    x, y = network.crs.to_metric(registry.lonlat[:, 0], registry.lonlat[:, 1])
    pose = np.array(
        [(c.heading_deg, c.fov_deg, c.range_m) for c in registry.cameras], dtype=np.float64
    )
    return view_sectors(x, y, *pose.T)


def attach_cameras(network: RoadNetwork, registry: CameraRegistry) -> CameraAttachment:
    """The directed edges every camera watches, with spans and directions."""
    sectors = network_sectors(network, registry)
    camera_ids = np.array([c.id for c in registry.cameras], dtype=str)
    online = np.array([c.status == "online" for c in registry.cameras], dtype=bool)
    if sectors.size == 0:
        return _empty(camera_ids, online, sectors)
    camera, edge = network.edge_tree.query(sectors, predicate="intersects")
    lines = network.geometries[edge]
    pieces = shapely.intersection(lines, sectors[camera])
    parts = _parts(network, camera, edge, pieces)
    watched = np.asarray(
        np.bincount(parts.pair, weights=parts.end_m - parts.start_m, minlength=camera.size),
        dtype=np.float64,
    )
    seen = watched > 0.0
    start = np.full(camera.size, np.inf)
    end = np.zeros(camera.size)
    np.minimum.at(start, parts.pair, parts.start_m)
    np.maximum.at(end, parts.pair, parts.end_m)
    camera, edge, start, end, watched = (
        camera[seen],
        edge[seen],
        start[seen],
        end[seen],
        watched[seen],
    )
    heading, approaching = _travel(network, registry, camera, edge, start, end)
    keep = np.flatnonzero(seen)
    remap = np.full(seen.size, -1, dtype=np.intp)
    remap[keep] = np.arange(keep.size)
    part_pair = remap[parts.pair]
    return CameraAttachment(
        camera_ids,
        online,
        sectors,
        camera.astype(np.intp),
        edge.astype(np.intp),
        watched,
        start,
        end,
        heading,
        approaching,
        WatchedParts(camera[part_pair], edge[part_pair], parts.start_m, parts.end_m),
    )


@dataclass(frozen=True, eq=False)
class _Parts:
    pair: IntArray
    start_m: FloatArray
    end_m: FloatArray


def _parts(network: RoadNetwork, camera: IntArray, edge: IntArray, pieces: Any) -> _Parts:
    """Split each intersection into its line parts and locate them along the edge."""
    parts, pair = shapely.get_parts(pieces, return_index=True)
    is_line = (shapely.get_type_id(parts) == shapely.GeometryType.LINESTRING) & (
        shapely.length(parts) > 0.0
    )
    parts, pair = parts[is_line], pair[is_line]
    lines = network.geometries[edge[pair]]
    a = shapely.line_locate_point(lines, shapely.get_point(parts, 0))
    b = shapely.line_locate_point(lines, shapely.get_point(parts, -1))
    scale = network.edges.length[edge[pair]] / shapely.length(lines)
    low, high = np.minimum(a, b) * scale, np.maximum(a, b) * scale
    useful = high > low
    return _Parts(pair[useful].astype(np.intp), low[useful], high[useful])


def _travel(
    network: RoadNetwork,
    registry: CameraRegistry,
    camera: IntArray,
    edge: IntArray,
    start: FloatArray,
    end: FloatArray,
) -> tuple[FloatArray, BoolArray]:
    """Heading of travel through each watched span and whether it nears the camera."""
    lines = network.geometries[edge]
    scale = shapely.length(lines) / network.edges.length[edge]
    first = shapely.get_coordinates(shapely.line_interpolate_point(lines, start * scale))
    last = shapely.get_coordinates(shapely.line_interpolate_point(lines, end * scale))
    heading = np.degrees(np.arctan2(last[:, 0] - first[:, 0], last[:, 1] - first[:, 1])) % 360.0
    x, y = network.crs.to_metric(registry.lonlat[camera, 0], registry.lonlat[camera, 1])
    apex = np.column_stack([x, y])
    nearer = np.hypot(*(last - apex).T) < np.hypot(*(first - apex).T)
    return heading, nearer


def _empty(
    camera_ids: NDArray[np.str_], online: BoolArray, sectors: NDArray[np.object_]
) -> CameraAttachment:
    none_i = np.empty(0, dtype=np.intp)
    none_f = np.empty(0, dtype=np.float64)
    return CameraAttachment(
        camera_ids,
        online,
        sectors,
        none_i,
        none_i,
        none_f,
        none_f,
        none_f,
        none_f,
        np.empty(0, dtype=bool),
        WatchedParts(none_i, none_i, none_f, none_f),
    )


def edge_label(edge: tuple[object, object, object]) -> str:
    """The text id of a directed edge, ``u-v-key`` (as sightings carry it)."""
    u, v, key = edge
    return f"{u}-{v}-{key}"


def watched_edge_geometries(
    network: RoadNetwork, attachment: CameraAttachment
) -> dict[str, dict[str, shapely.LineString]]:
    """For each camera, the directed edges it watches: label → geometry (u to v)."""
    labels = [edge_label(e) for e in network.edge_ids]
    geometries = network.geometries
    out: dict[str, dict[str, shapely.LineString]] = {}
    for camera_id in attachment.camera_ids.tolist():
        rows = np.unique(attachment.edges_of(camera_id))
        out[str(camera_id)] = {labels[r]: geometries[r] for r in rows.tolist()}
    return out
