"""A county-sized synthetic city, deterministic from a seed.

:func:`generate_city` lays out a town grid with a ring road and through
arterials, an industrial park joined to the town by a trunk road, and 10–20
villages joined by meandering rural lanes, then places cameras on it
(:mod:`skynet.synthetic.placement`). The graph follows the osmnx conventions
(see :mod:`skynet.synthetic._builder`), so everything downstream treats it as
a real road network. The same seed gives the same city, bit for bit.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import networkx as nx
import numpy as np
import shapely

from camera_registry.camera import Camera
from camera_registry.crs import SiteCRS
from skynet.errors import BadInputError
from skynet.synthetic._builder import FloatArray, GraphBuilder
from skynet.synthetic._plan import SizePlan, size_plan
from skynet.synthetic._town import (
    RING_MARGIN_M,
    Park,
    RingAttachment,
    TownGrid,
    arterial_attachments,
    build_grid,
    build_park,
    build_ring,
    build_through_arterial,
    build_trunk,
    spaced_angles,
)
from skynet.synthetic._villages import (
    Village,
    build_village,
    entrance_node,
    lane_geometry,
    plan_lanes,
    scatter_centres,
    village_names,
    village_spacing,
)
from skynet.synthetic.placement import major_junctions, place_cameras

if TYPE_CHECKING:
    from skynet.roads import RoadNetwork

#: Default origin (centre of the area): near Putian, Fujian.
DEFAULT_ORIGIN: Final = (119.0, 25.45)
#: Margin (m) kept free along the area's boundary.
_BORDER_M: Final = 300.0
_STREAMS: Final = ("town", "park", "arterials", "villages", "lanes", "cameras")


@dataclass(frozen=True, eq=False)
class SyntheticCity:
    """A generated city: road graph, CRS, named places and cameras.

    ``villages`` maps each village name to its nodes; ``industrial_park`` is
    the park's outline and ``town_centre`` the grid's centre, both in the
    metric CRS; ``bounds`` is the area (xmin, ymin, xmax, ymax) in metres.
    """

    graph: nx.MultiDiGraph
    crs: SiteCRS
    villages: dict[str, list[Hashable]]
    industrial_park: shapely.Polygon
    town_centre: tuple[float, float]
    major_junctions: list[Hashable]
    seed: int
    cameras: list[Camera] = field(default_factory=list)
    size: str = "county"
    bounds: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    @property
    def village_ids(self) -> dict[str, str]:
        """Each village's short id (``V01`` …) as the camera ids use it."""
        return {name: f"V{number:02d}" for number, name in enumerate(self.villages, start=1)}

    @property
    def junction_ids(self) -> dict[Hashable, str]:
        """Each major junction's id (``J0001`` …) as the camera ids use it."""
        return {node: f"J{number:04d}" for number, node in enumerate(self.major_junctions, 1)}

    def summary(self) -> dict[str, Any]:
        """A JSON-ready description: places, junctions and counts (``city.json``)."""
        return _summary(self)

    def road_network(self) -> RoadNetwork:
        """The graph as a :class:`skynet.roads.RoadNetwork` (validated, with arrays)."""
        from skynet.roads import RoadNetwork

        return RoadNetwork(self.graph, self.crs, source=f"synthetic city seed {self.seed}")


def generate_city(
    seed: int,
    *,
    size: str | float = "county",
    origin: tuple[float, float] = DEFAULT_ORIGIN,
    crs: SiteCRS | None = None,
    coverage: float | Mapping[str, float] = 1.0,
    offline_share: float = 0.03,
    street_cameras: int = 0,
) -> SyntheticCity:
    """Generate the city for ``seed`` and place its cameras.

    ``size`` is ``small`` (a few hundred edges, for tests), ``county``
    (about 30 × 20 km), ``large`` (>= 100,000 edges), ``huge`` or a number of
    directed edges; ``origin`` (lon, lat) is the area's centre and ``crs`` the
    metric working CRS (default: its UTM zone). ``coverage``,
    ``offline_share`` and ``street_cameras`` go to
    :func:`~skynet.synthetic.placement.place_cameras`.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        msg = f"the seed must be a non-negative integer, got {seed!r}"
        raise BadInputError(msg, field="seed")
    plan = size_plan(size)
    site = crs if crs is not None else SiteCRS.for_points([origin[0]], [origin[1]])
    streams = np.random.SeedSequence(int(seed)).spawn(len(_STREAMS))
    rng = {name: np.random.default_rng(s) for name, s in zip(_STREAMS, streams, strict=True)}
    layout = _lay_out(plan, _bounds(site, origin, plan), rng)
    graph = layout.builder.build(site, f"synthetic city (seed {seed}, {plan.label})")
    cameras = place_cameras(
        graph,
        site,
        rng["cameras"],
        coverage=coverage,
        offline_share=offline_share,
        street_cameras=street_cameras,
    )
    return SyntheticCity(
        graph=graph,
        crs=site,
        villages={v.name: [int(n) for n in v.nodes] for v in layout.villages},
        industrial_park=layout.park.polygon,
        town_centre=(float(layout.town_centre[0]), float(layout.town_centre[1])),
        major_junctions=major_junctions(graph),
        seed=int(seed),
        cameras=cameras,
        size=plan.label,
        bounds=layout.bounds,
    )


def _bounds(
    site: SiteCRS, origin: tuple[float, float], plan: SizePlan
) -> tuple[float, float, float, float]:
    """The area (xmin, ymin, xmax, ymax) in metres, centred on the origin's whole metre."""
    x, y = (float(np.round(v[0])) for v in site.to_metric([origin[0]], [origin[1]]))
    width, height = plan.extent_m
    return (x - width / 2, y - height / 2, x + width / 2, y + height / 2)


@dataclass(frozen=True, eq=False)
class _Layout:
    """Everything laid out, before the graph is built."""

    builder: GraphBuilder
    bounds: tuple[float, float, float, float]
    town_centre: FloatArray
    park: Park
    villages: list[Village]


@dataclass(frozen=True)
class _TownRoads:
    """Ring nodes kept for rural lanes, each through arterial's nodes (from its
    ring node outwards) and the trunk road's ring node."""

    ring_anchors: list[int]
    arterials: list[list[int]]
    trunk_start: int


def _lay_out(
    plan: SizePlan, bounds: tuple[float, float, float, float], rng: dict[str, np.random.Generator]
) -> _Layout:
    """Town, park and main roads first; then villages where they leave room, then lanes."""
    xmin, ymin, xmax, ymax = bounds
    width, height = xmax - xmin, ymax - ymin
    builder = GraphBuilder()
    town_centre = np.array([xmin + 0.4 * width, ymin + 0.55 * height])
    town_centre += rng["town"].uniform(-0.03, 0.03, size=2) * np.array([width, height])
    grid = build_grid(builder, town_centre, plan.town_shape, plan.block_m, rng["town"])
    radius = math.hypot(*grid.half_size) + RING_MARGIN_M
    gap = min(1500.0, 0.12 * min(width, height))
    park = _place_park(builder, plan, grid, radius, gap, bounds, rng["park"])
    roads = _town_roads(builder, grid, radius, park, bounds, rng["arterials"])

    xy = builder.xy()
    arterial_lines = [shapely.LineString(xy[chain]) for chain in roads.arterials]
    town = shapely.Point(town_centre)
    keep_out = shapely.union_all(
        [town.buffer(radius + gap), park.polygon.buffer(0.8 * gap)]
        + [line.buffer(400.0) for line in arterial_lines]
    )
    villages = _place_villages(builder, plan, bounds, keep_out, rng["villages"])
    core_anchors = [
        *roads.ring_anchors,
        *park.corners,
        *(node for chain in roads.arterials for node in chain[1:]),
    ]
    blocked = shapely.union_all([town.buffer(0.97 * radius), park.polygon.buffer(-100.0)])
    trunk_line = shapely.LineString(xy[[roads.trunk_start, park.gate]])
    barriers = shapely.union_all([*arterial_lines, trunk_line])
    _rural_lanes(builder, villages, core_anchors, blocked, barriers, plan, rng["lanes"])
    return _Layout(builder, bounds, town_centre, park, villages)


def _place_park(
    builder: GraphBuilder,
    plan: SizePlan,
    grid: TownGrid,
    radius: float,
    gap: float,
    bounds: tuple[float, float, float, float],
    rng: np.random.Generator,
) -> Park:
    """The park south-east of town, a gap beyond the ring, inside the area."""
    px, py = plan.park_shape
    half_x, half_y = (
        (px - 1) * plan.park_block_m / 2 + 80.0,
        (py - 1) * plan.park_block_m / 2 + 80.0,
    )
    angle = math.radians(-45.0 + rng.uniform(-15.0, 15.0))
    distance = radius + gap + math.hypot(half_x, half_y)
    centre = grid.centre + distance * np.array([math.cos(angle), math.sin(angle)])
    xmin, ymin, xmax, ymax = bounds
    margin = 2 * _BORDER_M
    centre = np.clip(
        centre,
        [xmin + half_x + margin, ymin + half_y + margin],
        [xmax - half_x - margin, ymax - half_y - margin],
    )
    return build_park(builder, centre, plan.park_shape, plan.park_block_m, grid.centre, rng)


def _town_roads(
    builder: GraphBuilder,
    grid: TownGrid,
    radius: float,
    park: Park,
    bounds: tuple[float, float, float, float],
    rng: np.random.Generator,
) -> _TownRoads:
    """Ring road, trunk link to the park and through arterials."""
    arterial = arterial_attachments(grid, radius)
    taken = [a.angle for a in arterial]
    gate_xy = builder.xy()[park.gate]
    gate_angle = math.atan2(gate_xy[1] - grid.centre[1], gate_xy[0] - grid.centre[0])
    (trunk_angle,) = spaced_angles([gate_angle], taken, math.radians(2.0))
    wanted = [
        math.radians(22.5 + 45.0 * k)
        for k in range(8)
        if abs((math.radians(22.5 + 45.0 * k) - trunk_angle + math.pi) % (2 * math.pi) - math.pi)
        > math.radians(25.0)
    ]
    anchor_angles = spaced_angles(wanted, [*taken, trunk_angle], math.radians(2.0))
    free = [RingAttachment(a, None, None) for a in [trunk_angle, *anchor_angles]]
    ring_nodes = build_ring(builder, grid.centre, radius, arterial + free)
    build_trunk(builder, ring_nodes[len(arterial)], park.gate, rng)
    chains = []
    for attachment, ring_node in zip(arterial, ring_nodes, strict=False):
        if attachment.highway != "primary":
            continue
        direction = np.array([math.cos(attachment.angle), math.sin(attachment.angle)])
        start = builder.xy()[ring_node]
        distance = _distance_to_border(start, direction, bounds) - _BORDER_M
        if distance > 500.0:
            chains.append(
                [ring_node, *build_through_arterial(builder, ring_node, direction, distance, rng)]
            )
    return _TownRoads(ring_nodes[len(arterial) + 1 :], chains, ring_nodes[len(arterial)])


def _distance_to_border(
    start: FloatArray, direction: FloatArray, bounds: tuple[float, float, float, float]
) -> float:
    """How far a ray from ``start`` runs before it leaves the area."""
    xmin, ymin, xmax, ymax = bounds
    reach = math.inf
    for coordinate, step, low, high in (
        (start[0], direction[0], xmin, xmax),
        (start[1], direction[1], ymin, ymax),
    ):
        if step > 1e-9:
            reach = min(reach, (high - coordinate) / step)
        elif step < -1e-9:
            reach = min(reach, (low - coordinate) / step)
    return float(reach)


def _place_villages(
    builder: GraphBuilder,
    plan: SizePlan,
    bounds: tuple[float, float, float, float],
    keep_out: shapely.Geometry,
    rng: np.random.Generator,
) -> list[Village]:
    count = int(rng.integers(*plan.village_range))
    names = village_names(count, rng)
    xmin, ymin, xmax, ymax = bounds
    inset = 2 * _BORDER_M + 400.0
    spacing = village_spacing((xmax - xmin) * (ymax - ymin), count)
    centres = scatter_centres(
        count, (xmin + inset, ymin + inset, xmax - inset, ymax - inset), keep_out, spacing, rng
    )
    return [
        build_village(builder, name, centre, rng, compact=plan.compact_villages)
        for name, centre in zip(names, centres, strict=True)
    ]


def _rural_lanes(
    builder: GraphBuilder,
    villages: list[Village],
    core_anchors: list[int],
    blocked: shapely.Geometry,
    barriers: shapely.Geometry,
    plan: SizePlan,
    rng: np.random.Generator,
) -> None:
    """Join the villages to each other and to the core by meandering lanes."""
    xy = builder.xy()
    anchor_xy = np.concatenate([np.array([v.centre for v in villages]), xy[core_anchors]])
    lanes = plan_lanes(anchor_xy, len(villages), blocked, barriers, plan.lane_max_m, rng)
    for lane in lanes:
        ends = []
        for this, other in ((lane.a, lane.b), (lane.b, lane.a)):
            if this < len(villages):
                ends.append(entrance_node(villages[this], xy, anchor_xy[other]))
            else:
                ends.append(core_anchors[this - len(villages)])
        start, end = ends
        builder.add_path(start, end, lane.highway, lane_geometry(xy[start], xy[end], rng))


def _summary(city: SyntheticCity) -> dict[str, Any]:
    graph, crs = city.graph, city.crs
    nodes = graph.nodes
    xmin, ymin, xmax, ymax = city.bounds
    corner_lon, corner_lat = crs.to_lonlat([xmin, xmax], [ymin, ymax])
    park_xy = shapely.get_coordinates(city.industrial_park.exterior)
    park_lon, park_lat = crs.to_lonlat(park_xy[:, 0], park_xy[:, 1])
    centre_lon, centre_lat = crs.to_lonlat([city.town_centre[0]], [city.town_centre[1]])
    village_ids = city.village_ids
    villages = []
    for name, members in city.villages.items():
        lon = float(np.mean([nodes[n]["lon"] for n in members]))
        lat = float(np.mean([nodes[n]["lat"] for n in members]))
        villages.append(
            {"id": village_ids[name], "name": name, "centre": [lon, lat], "nodes": members}
        )
    junctions = [
        {
            "id": junction_id,
            "node": node,
            "lon": nodes[node]["lon"],
            "lat": nodes[node]["lat"],
            "zone": nodes[node].get("zone"),
        }
        for node, junction_id in city.junction_ids.items()
    ]
    highways = Counter(data["highway"] for _, _, data in graph.edges(data=True))
    road_km = sum(data["length"] for _, _, data in graph.edges(data=True)) / 1000.0
    return {
        "seed": city.seed,
        "size": city.size,
        "crs": crs.code,
        "bounds_m": list(city.bounds),
        "bbox_lonlat": [
            float(corner_lon[0]),
            float(corner_lat[0]),
            float(corner_lon[1]),
            float(corner_lat[1]),
        ],
        "town_centre": {
            "x": city.town_centre[0],
            "y": city.town_centre[1],
            "lon": float(centre_lon[0]),
            "lat": float(centre_lat[0]),
        },
        "industrial_park": {
            "outline_lonlat": [
                [float(a), float(b)] for a, b in zip(park_lon, park_lat, strict=True)
            ],
            "area_km2": city.industrial_park.area / 1e6,
        },
        "villages": villages,
        "junctions": junctions,
        "counts": {
            "nodes": graph.number_of_nodes(),
            "edges": graph.number_of_edges(),
            "directed_road_km": road_km,
            "edges_by_highway": dict(sorted(highways.items())),
            "villages": len(city.villages),
            "major_junctions": len(city.major_junctions),
            "cameras": len(city.cameras),
            "cameras_by_kind": dict(sorted(Counter(c.kind for c in city.cameras).items())),
            "cameras_offline": sum(c.status == "offline" for c in city.cameras),
        },
    }
