"""Hand-built road networks and cameras shared by the road tests (imported by name:
the conftest beside it puts this folder on ``sys.path``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import networkx as nx

from camera_registry import Camera, CameraRegistry, SiteCRS

#: UTM 50N, around (119°E, 25.45°N); tests place things relative to ORIGIN.
SITE = SiteCRS.from_user_input("EPSG:32650")
ORIGIN = (700_000.0, 2_816_000.0)


def node_attrs(dx: float, dy: float, **extra: Any) -> dict[str, Any]:
    return {"x": ORIGIN[0] + dx, "y": ORIGIN[1] + dy, **extra}


def road_graph(
    nodes: dict[Any, tuple[float, float]],
    roads: Iterable[tuple[Any, Any, str]],
    *,
    oneway: Sequence[tuple[Any, Any]] = (),
    node_extra: dict[Any, dict[str, Any]] | None = None,
) -> nx.MultiDiGraph:
    """Straight roads between nodes at metric offsets; two-way unless listed in ``oneway``."""
    graph = nx.MultiDiGraph()
    for node, (dx, dy) in nodes.items():
        graph.add_node(node, **node_attrs(dx, dy, **(node_extra or {}).get(node, {})))
    for u, v, highway in roads:
        (ux, uy), (vx, vy) = nodes[u], nodes[v]
        length = ((ux - vx) ** 2 + (uy - vy) ** 2) ** 0.5
        one = (u, v) in oneway
        graph.add_edge(u, v, length=length, highway=highway, oneway=one)
        if not one:
            graph.add_edge(v, u, length=length, highway=highway, oneway=False)
    return graph


def camera_at(
    camera_id: str,
    dx: float,
    dy: float,
    heading: float,
    *,
    fov: float = 90.0,
    reach: float = 30.0,
    status: str = "online",
    area: str | None = None,
    kind: str = "road",
) -> Camera:
    lon, lat = SITE.to_lonlat([ORIGIN[0] + dx], [ORIGIN[1] + dy])
    return Camera(
        id=camera_id,
        name=camera_id,
        kind=kind,
        lon=float(lon[0]),
        lat=float(lat[0]),
        heading_deg=heading,
        fov_deg=fov,
        range_m=reach,
        status=status,
        area=area,
    )


def registry_of(*cameras: Camera) -> CameraRegistry:
    return CameraRegistry(list(cameras), SITE)
