"""``Route`` and ``Stretch``: a chosen sequence of legs as edges, geometry and evidence.

The route runs over whole edges from the edge the first sighting entered on
to the edge the last one left on; ``length_m`` is their total (as a ground
truth route over whole edges is measured). Each sighting is an ``observed``
stretch, the road between two sightings an ``inferred`` one (with the
cameras that were online on it and saw nothing) or a ``gap`` (no path fits
the time; its reason is in ``note``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import shapely
from numpy.typing import NDArray

from camera_registry.registry import CameraRegistry
from skynet._anchors import edge_rows_by_label
from skynet.errors import NotFoundError
from skynet.roads.cameras import edge_label
from skynet.roads.network import RoadNetwork
from trackers.sighting import Sighting

if TYPE_CHECKING:
    from skynet.routes import RouteLeg

IntArray = NDArray[np.intp]
StretchKind = Literal["observed", "inferred", "gap"]


@dataclass(frozen=True)
class Stretch:
    """A piece of the route and what backs it."""

    kind: StretchKind
    edges: tuple[str, ...]
    start_s: float
    end_s: float
    camera_id: str | None = None
    sighting_id: str | None = None
    silent_cameras: tuple[str, ...] = ()
    matched: tuple[tuple[str, str, float], ...] = ()
    offline_cameras: tuple[str, ...] = ()
    probability: float = 1.0
    note: str | None = None
    #: Road distance between the two sightings (inferred and gap stretches).
    length_m: float | None = None


@dataclass(frozen=True, eq=False)
class Route:
    """Edge rows and labels, WGS84 line, length, stretches, probability, ranked alternatives."""

    edges: IntArray
    labels: tuple[str, ...]
    line: shapely.LineString
    length_m: float
    stretches: tuple[Stretch, ...]
    probability: float
    sightings: tuple[Sighting, ...]
    markers: tuple[dict[str, Any], ...] = ()
    alternatives: tuple[Route, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()  # sighting id, why it is not on the route

    def as_geojson(self) -> dict[str, Any]:
        """RFC 7946 FeatureCollection: the route, its alternatives, sightings and cameras."""
        features = [_line_feature(self, "route", 0)]
        features += [
            _line_feature(alt, "alternative", rank) for rank, alt in enumerate(self.alternatives, 1)
        ]
        features += list(self.markers)
        return {"type": "FeatureCollection", "features": features}


def _line_feature(route: Route, role: str, rank: int) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": shapely.geometry.mapping(route.line),
        "properties": {
            "role": role,
            "rank": rank,
            "probability": route.probability,
            "length_m": route.length_m,
            "edges": list(route.labels),
            "skipped": [list(item) for item in route.skipped],
        },
    }


def build_route(
    network: RoadNetwork, registry: CameraRegistry | None, legs: Sequence[RouteLeg]
) -> Route:
    """One route from one chosen candidate per leg (no alternatives)."""
    sightings = (legs[0].start, *(leg.end for leg in legs))
    stretches: list[tuple[Stretch, list[int]]] = []
    stretches.append(_observed(network, sightings[0], None, legs[0]))
    for index, leg in enumerate(legs):
        stretches.append(_inferred(network, leg))
        following = legs[index + 1] if index + 1 < len(legs) else None
        stretches.append(_observed(network, leg.end, leg, following))
    rows = _joined(network, [rows for _, rows in stretches])
    probability = float(np.prod([leg.probability for leg in legs]))
    return Route(
        edges=rows,
        labels=tuple(edge_label(network.edge_ids[r]) for r in rows.tolist()),
        line=_line(network, rows),
        length_m=float(network.edges.length[rows].sum()),
        stretches=tuple(stretch for stretch, _ in stretches),
        probability=probability,
        sightings=sightings,
        markers=tuple(_markers(network, registry, sightings, legs)),
    )


def _labels(network: RoadNetwork, rows: Sequence[int]) -> tuple[str, ...]:
    return tuple(edge_label(network.edge_ids[r]) for r in rows)


def _observed(
    network: RoadNetwork, sighting: Sighting, before: RouteLeg | None, after: RouteLeg | None
) -> tuple[Stretch, list[int]]:
    """The edges a camera saw the target on: the one it entered on, the one it left on."""
    by_label = edge_rows_by_label(network)
    entry = int(before.edges[-1]) if before is not None else by_label.get(sighting.entry_edge or "")
    exit_ = int(after.edges[0]) if after is not None else by_label.get(sighting.exit_edge or "")
    rows = [r for r in (entry, exit_) if r is not None]
    stretch = Stretch(
        "observed",
        _labels(network, rows),
        sighting.t_in,
        sighting.t_out,
        camera_id=sighting.camera_id,
        sighting_id=sighting.id,
    )
    return stretch, rows


def _inferred(network: RoadNetwork, leg: RouteLeg) -> tuple[Stretch, list[int]]:
    rows = leg.edges.tolist()
    stretch = Stretch(
        "gap" if leg.note else "inferred",
        _labels(network, rows[1:-1]),
        leg.start.t_out,
        leg.end.t_in,
        silent_cameras=leg.evidence.silent,
        matched=leg.evidence.matched,
        offline_cameras=leg.evidence.offline,
        probability=leg.probability,
        note=leg.note,
        length_m=leg.length_m,
    )
    return stretch, rows


def _joined(network: RoadNetwork, pieces: Sequence[list[int]]) -> IntArray:
    """Concatenate edge rows, dropping repeats and bridging a turn inside a camera's view."""
    out: list[int] = []
    edges = network.edges
    for piece in pieces:
        for row in piece:
            if out and out[-1] == row:
                continue
            if out and edges.v[out[-1]] != edges.u[row]:
                out.extend(_bridge(network, out[-1], row))
            out.append(row)
    return np.asarray(out, dtype=np.intp)


def _bridge(network: RoadNetwork, before: int, after: int) -> list[int]:
    ids = network.nodes.ids
    head, tail = ids[network.edges.v[before]], ids[network.edges.u[after]]
    try:
        path = network.shortest_path(_plain(head), _plain(tail))
    except NotFoundError:
        return []
    return [int(r) for r in path.edges.tolist()]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _line(network: RoadNetwork, rows: IntArray) -> shapely.LineString:
    """The route's WGS84 line, joined edge by edge."""
    parts = [shapely.get_coordinates(g) for g in network.geometries[rows]]
    xy = np.concatenate([parts[0], *(p[1:] for p in parts[1:])])
    lon, lat = network.crs.to_lonlat(xy[:, 0], xy[:, 1])
    return shapely.LineString(np.column_stack([lon, lat]))


def _markers(
    network: RoadNetwork,
    registry: CameraRegistry | None,
    sightings: Sequence[Sighting],
    legs: Sequence[RouteLeg],
) -> list[dict[str, Any]]:
    """Point features: each sighting where it was seen, each camera that bears on the route."""
    out = []
    for sighting in sightings:
        where = _sighting_lonlat(network, registry, sighting)
        if where is not None:
            properties = {
                "role": "sighting",
                "id": sighting.id,
                "camera_id": sighting.camera_id,
                "t_in": sighting.t_in,
                "t_out": sighting.t_out,
            }
            out.append(_point(where, properties))
    if registry is None:
        return out
    roles: dict[str, str] = {s.camera_id: "observed" for s in sightings}
    for leg in legs:
        for camera in leg.evidence.silent:
            roles.setdefault(camera, "silent")
        for camera, _, _ in leg.evidence.matched:
            roles.setdefault(camera, "matched")
        for camera in leg.evidence.offline:
            roles.setdefault(camera, "offline")
    for camera_id, role in roles.items():
        if camera_id in registry:
            record = registry.get(camera_id)
            properties = {"role": "camera", "id": camera_id, "evidence": role}
            out.append(_point((record.lon, record.lat), properties))
    return out


def _sighting_lonlat(
    network: RoadNetwork, registry: CameraRegistry | None, sighting: Sighting
) -> tuple[float, float] | None:
    point = sighting.exit_xy or sighting.entry_xy
    if point is not None:
        lon, lat = network.crs.to_lonlat([point[0]], [point[1]])
        return float(lon[0]), float(lat[0])
    if registry is not None and sighting.camera_id in registry:
        camera = registry.get(sighting.camera_id)
        return camera.lon, camera.lat
    return None


def _point(lonlat: tuple[float, float], properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lonlat[0], lonlat[1]]},
        "properties": properties,
    }
