"""How much of the road network the cameras watch, and the deployments' rules.

Lengths are of physical roads: the two directions of a two-way road count
once. A stretch is *watched* when some camera's view sector covers it;
overlapping cameras are not counted twice (watched intervals are merged per
edge). Offline cameras see nothing, so the figures come twice: for online
cameras only and for every registered camera.

Rules checked (the real deployments' own):

(a) *Every village has at least* ``min_village_cameras`` *cameras.* Villages
    are the distinct values of the node attribute ``village``; a village's
    cameras are those within ``village_radius_m`` of one of its nodes or whose
    ``area`` equals the village's name. Without that attribute the rule does
    not apply (reported as None).
(b) *Every approach of a major intersection is watched.* Major intersections
    are defined once, in :mod:`skynet.roads.junctions` (arterial crossings),
    and camera placement uses the same definition. Each directed edge that
    ends there (other than a self-loop) is an approach. It is watched when an
    online camera watches some part of it within ``approach_reach_m`` metres
    of the node (along the edge), so a
    vehicle's arrival there is seen; departures are the approaches of the
    two-way roads' other direction and of the next intersection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from camera_registry.registry import CameraRegistry
from skynet.roads.cameras import CameraAttachment, WatchedParts, attach_cameras
from skynet.roads.classes import HIGHWAY_CLASSES
from skynet.roads.junctions import major_junction_rows
from skynet.roads.network import RoadNetwork

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

MIN_VILLAGE_CAMERAS: Final = 6
VILLAGE_RADIUS_M: Final = 300.0
APPROACH_REACH_M: Final = 80.0
UNASSIGNED: Final = "(unassigned)"


@dataclass(frozen=True)
class Share:
    """Road length in one group and how much of it is watched."""

    name: str
    length_m: float
    watched_m: float
    watched_online_m: float

    @property
    def share(self) -> float:
        return self.watched_m / self.length_m if self.length_m > 0.0 else 0.0

    @property
    def share_online(self) -> float:
        return self.watched_online_m / self.length_m if self.length_m > 0.0 else 0.0


@dataclass(frozen=True)
class BlindStretch:
    """A run of roads no online camera watches, chained through pass-through nodes."""

    length_m: float
    roads: int
    classes: tuple[str, ...]
    start_lonlat: tuple[float, float]
    end_lonlat: tuple[float, float]


@dataclass(frozen=True)
class VillageCheck:
    """Rule (a) for one village."""

    village: str
    cameras: int
    online: int
    ok: bool


@dataclass(frozen=True)
class IntersectionCheck:
    """Rule (b) for one major intersection; ``unwatched_from`` names approach origins."""

    node: Any
    lon: float
    lat: float
    approaches: int
    watched: int
    unwatched_from: tuple[Any, ...]

    @property
    def ok(self) -> bool:
        return self.watched == self.approaches


@dataclass(frozen=True)
class CoverageReport:
    """Coverage figures and rule checks; ``villages`` is None where rule (a) does not apply."""

    total: Share
    by_class: tuple[Share, ...]
    by_area: tuple[Share, ...]
    blind: tuple[BlindStretch, ...]
    villages: tuple[VillageCheck, ...] | None
    intersections: tuple[IntersectionCheck, ...]
    cameras: int
    cameras_online: int
    min_village_cameras: int
    approach_reach_m: float

    @property
    def villages_ok(self) -> bool | None:
        return None if self.villages is None else all(v.ok for v in self.villages)

    @property
    def approaches_ok(self) -> bool:
        return all(i.ok for i in self.intersections)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values, shares included."""

        def share(s: Share) -> dict[str, Any]:
            return {**asdict(s), "share": s.share, "share_online": s.share_online}

        return {
            "cameras": self.cameras,
            "cameras_online": self.cameras_online,
            "total": share(self.total),
            "by_class": [share(s) for s in self.by_class],
            "by_area": [share(s) for s in self.by_area],
            "blind_stretches": [asdict(b) for b in self.blind],
            "rules": {
                "village_cameras": {
                    "minimum": self.min_village_cameras,
                    "applicable": self.villages is not None,
                    "ok": self.villages_ok,
                    "villages": None
                    if self.villages is None
                    else [asdict(v) for v in self.villages],
                },
                "intersection_approaches": {
                    "reach_m": self.approach_reach_m,
                    "ok": self.approaches_ok,
                    "intersections": len(self.intersections),
                    "failing": [
                        {**asdict(i), "unwatched_from": list(i.unwatched_from)}
                        for i in self.intersections
                        if not i.ok
                    ],
                },
            },
        }


def coverage_report(
    network: RoadNetwork,
    registry: CameraRegistry,
    attachment: CameraAttachment | None = None,
    *,
    min_village_cameras: int = MIN_VILLAGE_CAMERAS,
    village_radius_m: float = VILLAGE_RADIUS_M,
    approach_reach_m: float = APPROACH_REACH_M,
    blind_limit: int = 20,
) -> CoverageReport:
    """Coverage by class and area, the longest blind stretches and rules (a) and (b)."""
    attached = attachment or attach_cameras(network, registry)
    roads = _Roads.of(network)
    everyone = np.ones(attached.camera_ids.size, dtype=bool)
    watched_all = roads.watched(network, attached.parts, everyone)
    watched_online = roads.watched(network, attached.parts, attached.online)
    camera_xy = _camera_xy(network, registry)
    by_class = _groups(
        [HIGHWAY_CLASSES[c] for c in roads.highway], roads, watched_all, watched_online
    )
    areas = _road_areas(network, registry, roads, camera_xy, village_radius_m)
    return CoverageReport(
        total=Share(
            "all roads",
            float(roads.length.sum()),
            float(watched_all.sum()),
            float(watched_online.sum()),
        ),
        by_class=by_class,
        by_area=_groups(areas, roads, watched_all, watched_online),
        blind=_blind_stretches(network, roads, watched_online, blind_limit),
        villages=_villages(network, registry, camera_xy, min_village_cameras, village_radius_m),
        intersections=_intersections(network, roads, attached, approach_reach_m),
        cameras=int(attached.camera_ids.size),
        cameras_online=int(attached.online.sum()),
        min_village_cameras=min_village_cameras,
        approach_reach_m=approach_reach_m,
    )


@dataclass(frozen=True, eq=False)
class _Roads:
    """Physical roads: one row per ``EdgeArrays.road`` id."""

    first_edge: IntArray
    length: FloatArray
    highway: NDArray[np.int8]
    low: IntArray
    high: IntArray

    @classmethod
    def of(cls, network: RoadNetwork) -> _Roads:
        edges = network.edges
        _, first = np.unique(edges.road, return_index=True)
        first = first.astype(np.intp)
        low = np.minimum(edges.u[first], edges.v[first])
        high = np.maximum(edges.u[first], edges.v[first])
        return cls(first, edges.length[first], edges.highway[first], low, high)

    def watched(self, network: RoadNetwork, parts: WatchedParts, cameras: BoolArray) -> FloatArray:
        """Watched length of each road by the selected cameras, overlaps merged."""
        per_edge = watched_lengths(parts, cameras, network.edges.length)
        out = np.zeros(self.length.size)
        np.maximum.at(out, network.edges.road, per_edge)
        return np.minimum(out, self.length)


def watched_lengths(parts: WatchedParts, cameras: BoolArray, lengths: FloatArray) -> FloatArray:
    """Per-edge length of the union of watched intervals, vectorised.

    Shifting each edge's intervals by a per-edge offset larger than any edge
    makes one running maximum over all intervals respect edge boundaries.
    """
    out = np.zeros(lengths.size)
    keep = cameras[parts.camera] if parts.camera.size else np.zeros(0, dtype=bool)
    if not keep.any():
        return out
    edge, start, end = parts.edge[keep], parts.start_m[keep], parts.end_m[keep]
    shift = edge.astype(np.float64) * (float(lengths.max()) * 2.0 + 1.0)
    order = np.lexsort((start, edge))
    edge, start, end = edge[order], start[order] + shift[order], end[order] + shift[order]
    reach = np.maximum.accumulate(end)
    before = np.concatenate([[-np.inf], reach[:-1]])
    gain = np.clip(end - np.maximum(start, before), 0.0, None)
    np.add.at(out, edge, gain)
    return out


def _groups(
    names: Sequence[str], roads: _Roads, watched_all: FloatArray, watched_online: FloatArray
) -> tuple[Share, ...]:
    labels, group = np.unique(np.asarray(names, dtype=str), return_inverse=True)
    group = group.reshape(-1)
    length = np.bincount(group, weights=roads.length, minlength=labels.size)
    seen = np.bincount(group, weights=watched_all, minlength=labels.size)
    seen_online = np.bincount(group, weights=watched_online, minlength=labels.size)
    rows = [
        Share(str(label), float(length[i]), float(seen[i]), float(seen_online[i]))
        for i, label in enumerate(labels)
    ]
    return tuple(sorted(rows, key=lambda s: -s.length_m))


def _camera_xy(network: RoadNetwork, registry: CameraRegistry) -> FloatArray:
    if len(registry) == 0:
        return np.empty((0, 2))
    x, y = network.crs.to_metric(registry.lonlat[:, 0], registry.lonlat[:, 1])
    return np.column_stack([x, y])


def _node_labels(network: RoadNetwork, name: str) -> NDArray[np.object_]:
    labels = network.node_attribute(name)
    blank = np.array([v is None or str(v).strip() == "" for v in labels], dtype=bool)
    labels[blank] = None
    return labels


def _is_none(values: NDArray[np.object_]) -> BoolArray:
    return np.fromiter((v is None for v in values), dtype=bool, count=values.size)


def _road_areas(
    network: RoadNetwork,
    registry: CameraRegistry,
    roads: _Roads,
    camera_xy: FloatArray,
    radius_m: float,
) -> list[str]:
    """A road's area: its end nodes' ``village`` (else ``area``), else the ``area`` of
    the nearest camera within ``radius_m`` of its middle, else unassigned."""
    labels = _node_labels(network, "village")
    fallback = _node_labels(network, "area")
    unlabelled = _is_none(labels)
    labels[unlabelled] = fallback[unlabelled]
    area = np.where(_is_none(labels[roads.low]), labels[roads.high], labels[roads.low])
    missing = np.flatnonzero(_is_none(area))
    named = np.flatnonzero([c.area is not None for c in registry.cameras])
    if missing.size and named.size:
        nodes = network.nodes
        middle = np.column_stack(
            [
                0.5 * (nodes.x[roads.low[missing]] + nodes.x[roads.high[missing]]),
                0.5 * (nodes.y[roads.low[missing]] + nodes.y[roads.high[missing]]),
            ]
        )
        distance, nearest = cKDTree(camera_xy[named]).query(middle, distance_upper_bound=radius_m)
        found = np.isfinite(distance)
        camera_areas = np.array([registry.cameras[int(r)].area for r in named], dtype=object)
        area[missing[found]] = camera_areas[nearest[found]]
    return [UNASSIGNED if a is None else str(a) for a in area]


def _villages(
    network: RoadNetwork,
    registry: CameraRegistry,
    camera_xy: FloatArray,
    minimum: int,
    radius_m: float,
) -> tuple[VillageCheck, ...] | None:
    labels = _node_labels(network, "village")
    has = np.flatnonzero(~_is_none(labels))
    if has.size == 0:
        return None
    names, village_of_node = np.unique(labels[has].astype(str), return_inverse=True)
    village_of_node = village_of_node.reshape(-1)
    member = np.zeros((names.size, len(registry)), dtype=bool)
    if len(registry):
        node_xy = np.column_stack([network.nodes.x[has], network.nodes.y[has]])
        near = cKDTree(camera_xy).sparse_distance_matrix(
            cKDTree(node_xy), radius_m, output_type="ndarray"
        )
        member[village_of_node[near["j"]], near["i"]] = True
        index = {str(name): row for row, name in enumerate(names)}
        for row, camera in enumerate(registry.cameras):
            if camera.area in index:
                member[index[camera.area], row] = True
    online = np.array([c.status == "online" for c in registry.cameras], dtype=bool)
    counts = member.sum(axis=1)
    online_counts = (member & online[None, :]).sum(axis=1) if len(registry) else counts
    return tuple(
        VillageCheck(str(name), int(counts[i]), int(online_counts[i]), bool(counts[i] >= minimum))
        for i, name in enumerate(names)
    )


def _major_nodes(network: RoadNetwork, roads: _Roads) -> IntArray:
    """Major junctions as defined in :mod:`skynet.roads.junctions`."""
    return major_junction_rows(roads.low, roads.high, roads.highway, len(network.nodes))


def _intersections(
    network: RoadNetwork, roads: _Roads, attached: CameraAttachment, reach_m: float
) -> tuple[IntersectionCheck, ...]:
    edges, nodes = network.edges, network.nodes
    major = _major_nodes(network, roads)
    parts = attached.parts
    online = attached.online[parts.camera] if parts.camera.size else np.zeros(0, dtype=bool)
    near_end = parts.end_m >= edges.length[parts.edge] - reach_m
    watched = np.zeros(len(edges), dtype=bool)
    watched[parts.edge[online & near_end]] = True
    is_major = np.zeros(len(nodes), dtype=bool)
    is_major[major] = True
    approach = np.flatnonzero(is_major[edges.v] & (edges.u != edges.v))
    approach = approach[np.argsort(edges.v[approach], kind="stable")]
    bounds = (
        np.searchsorted(edges.v[approach], major, side="left"),
        np.searchsorted(edges.v[approach], major, side="right"),
    )
    out = []
    for node, low, high in zip(major.tolist(), *bounds, strict=True):
        rows = approach[low:high]
        seen = watched[rows]
        out.append(
            IntersectionCheck(
                _node_id(network, node),
                float(nodes.lon[node]),
                float(nodes.lat[node]),
                int(rows.size),
                int(seen.sum()),
                tuple(_node_id(network, int(u)) for u in edges.u[rows[~seen]]),
            )
        )
    return tuple(out)


def _node_id(network: RoadNetwork, row: int) -> Any:
    value = network.nodes.ids[row]
    return value.item() if isinstance(value, np.generic) else value


def _blind_stretches(
    network: RoadNetwork, roads: _Roads, watched_online: FloatArray, limit: int
) -> tuple[BlindStretch, ...]:
    """Unwatched roads joined where they meet at a node with only those two roads."""
    blind = watched_online <= 0.0
    if not blind.any() or limit <= 0:
        return ()
    count = roads.length.size
    road_of_end = np.concatenate([np.arange(count), np.arange(count)])
    node_of_end = np.concatenate([roads.low, roads.high])
    degree = np.bincount(node_of_end, minlength=len(network.nodes))
    order = np.argsort(node_of_end, kind="stable")
    sorted_nodes, sorted_roads = node_of_end[order], road_of_end[order]
    first = np.concatenate([[True], sorted_nodes[1:] != sorted_nodes[:-1]])
    pass_through = first[:-1] & (degree[sorted_nodes[:-1]] == 2)
    a, b = sorted_roads[:-1][pass_through], sorted_roads[1:][pass_through]
    link = blind[a] & blind[b] & (a != b)
    matrix = coo_matrix(
        (np.ones(int(link.sum()), dtype=np.int8), (a[link], b[link])), shape=(count, count)
    )
    _, label = connected_components(matrix, directed=False)
    label = np.where(blind, label, -1)
    groups = np.unique(label[blind])
    totals = np.bincount(label[blind], weights=roads.length[blind], minlength=int(label.max()) + 1)
    top = groups[np.argsort(-totals[groups], kind="stable")][:limit]
    return tuple(_stretch(network, roads, np.flatnonzero(label == g)) for g in top)


def _stretch(network: RoadNetwork, roads: _Roads, members: IntArray) -> BlindStretch:
    ends = np.concatenate([roads.low[members], roads.high[members]])
    values, counts = np.unique(ends, return_counts=True)
    loose = values[counts % 2 == 1]
    start, end = (int(loose[0]), int(loose[-1])) if loose.size else (int(ends[0]), int(ends[0]))
    nodes = network.nodes
    classes = tuple(HIGHWAY_CLASSES[c] for c in sorted(set(roads.highway[members].tolist())))
    return BlindStretch(
        float(roads.length[members].sum()),
        int(members.size),
        classes,
        (float(nodes.lon[start]), float(nodes.lat[start])),
        (float(nodes.lon[end]), float(nodes.lat[end])),
    )
