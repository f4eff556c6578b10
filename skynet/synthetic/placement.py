"""Camera placement that follows how county deployments are actually built.

* **Intersection cameras** (``road``): one per approach of every major
  junction (3–4). Each is mounted on a pole a few metres back from the
  junction on its approach and looks *away from the junction along the
  approach*. It therefore sees both lanes of that approach: a vehicle arriving
  by it (front view, driving toward the junction) and a vehicle leaving by it
  (rear view). With one camera per approach, a vehicle crossing the junction
  is seen twice: on the approach it came from and on the one it took.
* **Checkpoints** (``checkpoint``): on arterials outside the town grid, every
  few kilometres, looking along the road.
* **Village cameras** (``village``) at each entrance (where a rural lane
  enters the village, looking out along the lane) and **community cameras**
  (``community``) on the village lanes, at least six per village in all.
* **Street cameras** (``other``), only when asked for (``street_cameras``):
  mid-block cameras on roads drawn at random, looking along the road, the
  dense deployment of a city that watches most of its blocks (the city-scale
  benchmark's 70,000 cameras). Always equipped, whatever the coverage.

``coverage`` equips that share of junctions, checkpoints and villages (one
share for all, or one per category); the choice is a prefix of one seeded
permutation per category, so lower coverage keeps a subset of the cameras of
higher coverage, with the same ids and poses.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import networkx as nx
import numpy as np
import shapely
from numpy.typing import NDArray

from camera_registry.camera import Camera
from camera_registry.crs import SiteCRS
from skynet.errors import BadInputError
from skynet.roads.classes import HIGHWAY_CODE, OTHER_CODE
from skynet.roads.junctions import major_junction_rows
from skynet.synthetic._builder import ARTERIAL
from skynet.synthetic._pose import Poses, ground_view, sample_poses
from skynet.synthetic._roadtable import RoadTable

#: Metres between checkpoints along the arterials outside town.
CHECKPOINT_SPACING_M: Final = 2500.0
#: Cameras each equipped village gets at least (entrances and lanes together).
MIN_VILLAGE_CAMERAS: Final = 6
#: Share of cameras that are offline (broken, unpowered).
OFFLINE_SHARE: Final = 0.03
#: How far back from its junction (m) an intersection camera's pole stands.
JUNCTION_SETBACK_M: Final = (6.0, 10.0)
#: Sideways offset (m) of the pole from the road centreline, to the right.
_SIDE_M: Final = {"road": 3.0, "checkpoint": 4.0, "village": 2.5, "community": 2.0, "other": 3.0}
#: What ``coverage`` counts: equipped junctions, checkpoints, villages.
CATEGORIES: Final = ("junctions", "checkpoints", "villages")
_CATEGORY_OF_KIND: Final = {
    "road": "junctions",
    "checkpoint": "checkpoints",
    "village": "villages",
    "community": "villages",
}
_COMPASS4: Final = ("N", "E", "S", "W")
_COMPASS8: Final = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


@dataclass(frozen=True)
class _Mount:
    """Where a camera goes, before its pose is drawn.

    The camera stands ``setback_m`` along ``line`` from its start, its kind's
    side offset to the right of it, and looks the way the line runs there.
    """

    camera_id: str
    name: str
    kind: str
    area: str
    group: str
    line: shapely.LineString
    setback_m: float
    tags: tuple[str, ...]


def major_junctions(graph: nx.MultiDiGraph) -> list[Hashable]:
    """Junctions that get intersection cameras, in graph node order.

    The definition is the road package's (:mod:`skynet.roads.junctions`), so
    that coverage checks the junctions that placement equips.
    """
    table = RoadTable.of(graph)
    return [table.nodes[i] for i in _major_rows(table).tolist()]


def _major_rows(table: RoadTable) -> NDArray[np.intp]:
    codes = [HIGHWAY_CODE.get(name, OTHER_CODE) for name in table.pair_highway]
    return major_junction_rows(table.pair_u, table.pair_v, codes, table.node_count)


def place_cameras(
    graph: nx.MultiDiGraph,
    crs: SiteCRS,
    rng: np.random.Generator,
    *,
    coverage: float | Mapping[str, float] = 1.0,
    offline_share: float = OFFLINE_SHARE,
    checkpoint_spacing_m: float = CHECKPOINT_SPACING_M,
    min_village_cameras: int = MIN_VILLAGE_CAMERAS,
    street_cameras: int = 0,
) -> list[Camera]:
    """Cameras for a road graph in osmnx conventions (see the module docstring).

    Villages are read from the node attribute ``village``; a node's ``zone``
    (``town``, ``ring``, ``industrial park``, ``village``, ``rural``) names the
    camera's area and keeps checkpoints out of the town grid. ``coverage`` is
    a share in (0, 1] or a mapping from ``junctions``, ``checkpoints`` and
    ``villages`` to shares in [0, 1] (a missing category is fully equipped).
    ``street_cameras`` adds that many mid-block cameras (at most two a road).
    """
    shares = _coverage_shares(coverage)
    if not 0.0 <= offline_share <= 1.0:
        msg = f"offline share must be in [0, 1], got {offline_share!r}"
        raise BadInputError(msg, field="offline_share")
    if checkpoint_spacing_m <= 0.0:
        msg = f"checkpoint spacing must be positive, got {checkpoint_spacing_m!r}"
        raise BadInputError(msg, field="checkpoint_spacing_m")
    layout_rng, pose_rng, offline_rng, choice_rng = rng.spawn(4)
    roads = RoadTable.of(graph)
    if isinstance(street_cameras, bool) or not 0 <= street_cameras <= 2 * len(roads.pair_u):
        most = 2 * len(roads.pair_u)
        msg = f"street cameras must be 0 to {most} (two a road), got {street_cameras!r}"
        raise BadInputError(msg, field="street_cameras")
    mounts = (
        _junction_mounts(graph, roads, layout_rng)
        + _checkpoint_mounts(roads, layout_rng, checkpoint_spacing_m)
        + _village_mounts(graph, roads, layout_rng, min_village_cameras)
    )
    if not mounts:
        return []
    poses = sample_poses([m.kind for m in mounts], pose_rng)
    offline = offline_rng.random(len(mounts)) < offline_share
    equipped = _equipped_groups(mounts, shares, choice_rng)
    keep = [i for i, mount in enumerate(mounts) if mount.group in equipped]
    cameras = _cameras([mounts[i] for i in keep], _take(poses, keep), offline[keep], crs)
    if street_cameras:  # their own stream: asking for street cameras changes no other camera
        street_rng = np.random.default_rng(rng.integers(2**63))
        streets = _street_mounts(roads, street_rng, street_cameras)
        street_poses = sample_poses([m.kind for m in streets], street_rng)
        street_offline = street_rng.random(len(streets)) < offline_share
        cameras += _cameras(streets, street_poses, street_offline, crs)
    return cameras


def _bearing_deg(line: shapely.LineString) -> float:
    """Compass bearing of a line's first 20 m (clockwise from north)."""
    start = shapely.get_coordinates(shapely.line_interpolate_point(line, 0.0))[0]
    ahead = shapely.get_coordinates(shapely.line_interpolate_point(line, min(20.0, line.length)))[0]
    return math.degrees(math.atan2(ahead[0] - start[0], ahead[1] - start[1])) % 360.0


def approach_labels(bearings: list[float]) -> list[str]:
    """Compass names for a junction's approaches, unique within the junction."""
    four = [_COMPASS4[round(b / 90.0) % 4] for b in bearings]
    if len(set(four)) == len(four):
        return four
    eight = [_COMPASS8[round(b / 45.0) % 8] for b in bearings]
    if len(set(eight)) == len(eight):
        return eight
    return [f"{name}{i + 1}" for i, name in enumerate(eight)]


def _area_of_zone(zone: Any) -> str:
    if zone in ("town", "ring"):
        return "town"
    if zone == "industrial park":
        return "industrial park"
    return "arterial"


def _junction_mounts(
    graph: nx.MultiDiGraph, roads: RoadTable, rng: np.random.Generator
) -> list[_Mount]:
    mounts: list[_Mount] = []
    for number, junction_row in enumerate(_major_rows(roads).tolist(), start=1):
        junction = roads.nodes[junction_row]
        junction_id = f"J{number:04d}"
        approaches = roads.outgoing(junction_row)
        labels = approach_labels([_bearing_deg(line) for _, line, _ in approaches])
        setbacks = rng.uniform(*JUNCTION_SETBACK_M, size=len(approaches))
        area = _area_of_zone(graph.nodes[junction].get("zone"))
        for (neighbour, line, highway), label, setback in zip(
            approaches, labels, setbacks.tolist(), strict=True
        ):
            other = roads.nodes[neighbour]
            mounts.append(
                _Mount(
                    camera_id=f"{junction_id}-{label}",
                    name=f"Junction {junction_id} {label} approach ({highway})",
                    kind="road",
                    area=area,
                    group=junction_id,
                    line=line,
                    setback_m=min(setback, 0.4 * line.length),
                    tags=(
                        f"junction={junction_id}",
                        f"approach={label}",
                        f"node={junction}",
                        f"edge={junction}-{other}",
                        f"highway={highway}",
                    ),
                )
            )
    return mounts


def _checkpoint_mounts(
    roads: RoadTable, rng: np.random.Generator, spacing_m: float
) -> list[_Mount]:
    """Checkpoints every ``spacing_m`` of arterial length outside the town grid."""
    candidates = [
        i
        for i, highway in enumerate(roads.pair_highway)
        if highway in ARTERIAL and "town" not in (roads.pair_zone_u[i], roads.pair_zone_v[i])
    ]
    if not candidates:
        return []
    lines = roads.pair_geometry[candidates]
    lengths = shapely.length(lines)
    ends = np.cumsum(lengths)
    first = rng.uniform(0.3, 0.7) * spacing_m
    marks = np.arange(first, float(ends[-1]), spacing_m)
    marks = marks + rng.uniform(-0.15, 0.15, size=marks.shape[0]) * spacing_m
    marks = np.clip(marks, 0.0, float(ends[-1]) - 1e-6)
    which = np.searchsorted(ends, marks, side="right")
    along = marks - (ends[which] - lengths[which])
    margin = np.minimum(40.0, lengths[which] / 2.0)
    along = np.clip(along, margin, lengths[which] - margin)
    backwards = rng.random(marks.shape[0]) < 0.5
    mounts: list[_Mount] = []
    for number, (index, offset, back) in enumerate(
        zip(which.tolist(), along.tolist(), backwards.tolist(), strict=True), start=1
    ):
        pair = candidates[index]
        line = roads.pair_geometry[pair]
        a, b = roads.nodes[int(roads.pair_u[pair])], roads.nodes[int(roads.pair_v[pair])]
        if back:
            line, offset, a, b = shapely.reverse(line), float(line.length) - offset, b, a
        checkpoint_id = f"CP{number:02d}"
        highway = roads.pair_highway[pair]
        mounts.append(
            _Mount(
                camera_id=checkpoint_id,
                name=f"Checkpoint {checkpoint_id} ({highway})",
                kind="checkpoint",
                area="arterial",
                group=checkpoint_id,
                line=line,
                setback_m=offset,
                tags=(f"checkpoint={checkpoint_id}", f"edge={a}-{b}", f"highway={highway}"),
            )
        )
    return mounts


def _village_mounts(
    graph: nx.MultiDiGraph, roads: RoadTable, rng: np.random.Generator, minimum: int
) -> list[_Mount]:
    """Entrance cameras looking out along each rural lane, then cameras on the lanes."""
    village_of = [graph.nodes[node].get("village") for node in roads.nodes]
    names = list(dict.fromkeys(v for v in village_of if v is not None))
    number_of = {name: i for i, name in enumerate(names)}
    village = np.array([number_of.get(v, -1) for v in village_of], dtype=np.int64)
    at_u, at_v = village[roads.pair_u], village[roads.pair_v]
    inside_of: list[list[int]] = [[] for _ in names]
    entrances_of: list[list[tuple[int, int]]] = [[] for _ in names]
    for pair in np.flatnonzero((at_u >= 0) | (at_v >= 0)).tolist():
        a, b = int(at_u[pair]), int(at_v[pair])
        if a == b:
            inside_of[a].append(pair)
            continue
        if a >= 0:
            entrances_of[a].append((pair, int(roads.pair_u[pair])))
        if b >= 0:
            entrances_of[b].append((pair, int(roads.pair_v[pair])))
    mounts: list[_Mount] = []
    for number, name in enumerate(names, start=1):
        village_id = f"V{number:02d}"
        inside, entrances = inside_of[number - 1], entrances_of[number - 1]
        for k, (pair, node_row) in enumerate(entrances, start=1):
            mounts.append(_entrance_mount(roads, pair, node_row, name, village_id, k))
        lane_count = max(minimum - len(entrances), math.ceil(0.3 * len(inside)))
        lane_count = min(lane_count, 2 * len(inside))
        order = rng.permutation(len(inside)).tolist()
        slots = [(inside[i], False) for i in order] + [(inside[i], True) for i in order]
        for k, (pair, backwards) in enumerate(slots[:lane_count], start=1):
            mounts.append(_lane_mount(roads, pair, backwards, name, village_id, k))
    return mounts


def _entrance_mount(
    roads: RoadTable, pair: int, node_row: int, name: str, village_id: str, number: int
) -> _Mount:
    line = roads.pair_geometry[pair]
    outward = line if roads.pair_u[pair] == node_row else shapely.reverse(line)
    other = int(roads.pair_v[pair] if roads.pair_u[pair] == node_row else roads.pair_u[pair])
    node, outside = roads.nodes[node_row], roads.nodes[other]
    return _Mount(
        camera_id=f"{village_id}-E{number}",
        name=f"{name} entrance {number}",
        kind="village",
        area=name,
        group=village_id,
        line=outward,
        setback_m=min(4.0, 0.4 * outward.length),
        tags=(
            f"village={name}",
            "entrance",
            f"node={node}",
            f"edge={node}-{outside}",
            f"highway={roads.pair_highway[pair]}",
        ),
    )


def _lane_mount(
    roads: RoadTable, pair: int, backwards: bool, name: str, village_id: str, number: int
) -> _Mount:
    line = roads.pair_geometry[pair]
    a, b = roads.nodes[int(roads.pair_u[pair])], roads.nodes[int(roads.pair_v[pair])]
    if backwards:
        line, a, b = shapely.reverse(line), b, a
    return _Mount(
        camera_id=f"{village_id}-L{number}",
        name=f"{name} lane {number}",
        kind="community",
        area=name,
        group=village_id,
        line=line,
        setback_m=min(5.0, 0.4 * line.length),
        tags=(f"village={name}", "lane", f"edge={a}-{b}", f"highway={roads.pair_highway[pair]}"),
    )


def _street_mounts(roads: RoadTable, rng: np.random.Generator, count: int) -> list[_Mount]:
    """``count`` mid-block mounts: distinct (road, direction) draws, a third to two thirds along."""
    if count == 0:
        return []
    draws = rng.choice(2 * len(roads.pair_u), size=count, replace=False)
    where = rng.uniform(0.33, 0.67, size=count)
    mounts: list[_Mount] = []
    for number, (draw, share) in enumerate(zip(draws.tolist(), where.tolist(), strict=True), 1):
        pair, backwards = divmod(draw, 2)
        line = roads.pair_geometry[pair]
        a, b = roads.nodes[int(roads.pair_u[pair])], roads.nodes[int(roads.pair_v[pair])]
        if backwards:
            line, a, b = shapely.reverse(line), b, a
        mounts.append(
            _Mount(
                camera_id=f"S{number:06d}",
                name=f"Street camera {number}",
                kind="other",
                area=_area_of_zone(roads.pair_zone_u[pair]),
                group=f"S{number:06d}",
                line=line,
                setback_m=share * line.length,
                tags=("street", f"edge={a}-{b}", f"highway={roads.pair_highway[pair]}"),
            )
        )
    return mounts


def _coverage_shares(coverage: float | Mapping[str, float]) -> dict[str, float]:
    """Coverage per category, checked."""
    if not isinstance(coverage, Mapping):
        if not 0.0 < coverage <= 1.0:
            msg = f"coverage must be in (0, 1], got {coverage!r}"
            raise BadInputError(msg, field="coverage")
        return dict.fromkeys(CATEGORIES, float(coverage))
    unknown = set(coverage) - set(CATEGORIES)
    if unknown:
        msg = f"unknown coverage categories {sorted(unknown)} (use {', '.join(CATEGORIES)})"
        raise BadInputError(msg, field="coverage")
    shares = {category: float(coverage.get(category, 1.0)) for category in CATEGORIES}
    for category, share in shares.items():
        if not 0.0 <= share <= 1.0:
            msg = f"coverage of {category} must be in [0, 1], got {share!r}"
            raise BadInputError(msg, field="coverage")
    return shares


def _equipped_groups(
    mounts: list[_Mount], shares: dict[str, float], rng: np.random.Generator
) -> set[str]:
    """The junctions, checkpoints and villages that get their cameras.

    A permutation is drawn for every category whatever its share, so changing
    one category's share leaves the others' choice alone.
    """
    equipped: set[str] = set()
    for category, groups in _groups_by_category(mounts).items():
        order = rng.permutation(len(groups))
        share = shares[category]
        count = 0 if share == 0.0 else max(1, round(share * len(groups)))
        equipped.update(groups[i] for i in order[:count].tolist())
    return equipped


def _groups_by_category(mounts: list[_Mount]) -> dict[str, list[str]]:
    """Each category's groups (junction, checkpoint or village ids) in order."""
    categories: dict[str, list[str]] = {category: [] for category in CATEGORIES}
    for mount in mounts:
        categories[_CATEGORY_OF_KIND[mount.kind]].append(mount.group)
    return {category: list(dict.fromkeys(groups)) for category, groups in categories.items()}


def _take(poses: Poses, keep: list[int]) -> Poses:
    index = np.asarray(keep, dtype=np.int64)
    return Poses(
        poses.height_m[index],
        poses.fov_deg[index],
        poses.tilt_deg[index],
        poses.image_width[index],
        poses.image_height[index],
    )


def _cameras(
    mounts: list[_Mount], poses: Poses, offline: NDArray[np.bool_], crs: SiteCRS
) -> list[Camera]:
    """Position, heading, homography and range of every kept mount."""
    lines = np.array([m.line for m in mounts], dtype=object)
    setback = np.array([m.setback_m for m in mounts])
    lengths = shapely.length(lines)
    here = shapely.get_coordinates(shapely.line_interpolate_point(lines, setback))
    ahead_at = np.minimum(setback + 2.0, lengths)
    behind_at = np.maximum(ahead_at - 2.0, 0.0)
    ahead = shapely.get_coordinates(shapely.line_interpolate_point(lines, ahead_at))
    behind = shapely.get_coordinates(shapely.line_interpolate_point(lines, behind_at))
    direction = ahead - behind
    heading = np.degrees(np.arctan2(direction[:, 0], direction[:, 1])) % 360.0
    side = np.array([_SIDE_M[m.kind] for m in mounts])
    radians = np.radians(heading)
    x = here[:, 0] + side * np.cos(radians)
    y = here[:, 1] - side * np.sin(radians)
    lon, lat = crs.to_lonlat(x, y)
    cameras: list[Camera] = []
    for i, mount in enumerate(mounts):
        homography, reach = ground_view(
            float(x[i]),
            float(y[i]),
            float(heading[i]),
            height_m=float(poses.height_m[i]),
            tilt_deg=float(poses.tilt_deg[i]),
            fov_deg=float(poses.fov_deg[i]),
            image_width=int(poses.image_width[i]),
            image_height=int(poses.image_height[i]),
        )
        cameras.append(
            Camera(
                id=mount.camera_id,
                name=mount.name,
                kind=mount.kind,
                lon=float(lon[i]),
                lat=float(lat[i]),
                heading_deg=float(heading[i]),
                fov_deg=float(poses.fov_deg[i]),
                range_m=reach,
                height_m=float(poses.height_m[i]),
                image_width=int(poses.image_width[i]),
                image_height=int(poses.image_height[i]),
                homography=tuple(float(h) for h in homography.reshape(-1)),  # type: ignore[arg-type]
                status="offline" if offline[i] else "online",
                area=mount.area,
                tags=(*mount.tags, f"tilt_deg={poses.tilt_deg[i]:.1f}"),
            )
        )
    return cameras
