"""Villages (small clusters of residential lanes) and the rural lanes that join them.

Villages are scattered over the countryside at a minimum spacing; each is a
main lane with side lanes. Rural lanes follow a spanning tree over a Delaunay
triangulation of the villages and the town's, park's and arterials' access
points (so every village is reachable), plus some of the remaining short
triangle edges as extra ``track`` and ``unclassified`` loops.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.spatial import Delaunay

from skynet.errors import BadInputError
from skynet.synthetic._builder import FloatArray, GraphBuilder, IntArray, winding_interior

_PREFIXES: Final = (
    "Dong",
    "Xi",
    "Nan",
    "Bei",
    "Shang",
    "Xia",
    "Qian",
    "Hou",
    "Da",
    "Xiao",
    "Huang",
    "Lin",
    "Shi",
    "Tang",
    "Hong",
    "Zhang",
    "Chen",
    "Wu",
    "Cai",
    "Zheng",
)
_SUFFIXES: Final = (
    "cun",
    "pu",
    "tou",
    "tang",
    "keng",
    "yang",
    "cuo",
    "ban",
    "dian",
    "lin",
    "shan",
    "xi",
)
#: Share of the non-tree triangle edges that become extra lanes (loops).
EXTRA_LANE_SHARE: Final = 0.45


def village_names(count: int, rng: np.random.Generator) -> list[str]:
    """Distinct pinyin-style names (numbered once the syllable pairs run out)."""
    pairs = [p + s for p, s in itertools.product(_PREFIXES, _SUFFIXES)]
    order = rng.permutation(len(pairs))
    names = [pairs[i] for i in order]
    return [
        names[i % len(names)] + ("" if i < len(names) else f" {i // len(names) + 1}")
        for i in range(count)
    ]


def scatter_centres(
    count: int,
    bounds: tuple[float, float, float, float],
    keep_out: shapely.Geometry,
    spacing_m: float,
    rng: np.random.Generator,
) -> FloatArray:
    """``count`` points in ``bounds``, outside ``keep_out``, at least ``spacing_m`` apart.

    The spacing shrinks by 15% at a time when the area cannot hold them all.
    """
    xmin, ymin, xmax, ymax = bounds
    candidates = np.column_stack(
        [rng.uniform(xmin, xmax, size=60 * count), rng.uniform(ymin, ymax, size=60 * count)]
    )
    candidates = candidates[~shapely.intersects_xy(keep_out, candidates[:, 0], candidates[:, 1])]
    spacing = spacing_m
    while spacing >= 1.0:
        kept = np.empty((count, 2))
        found = 0
        for point in candidates:
            if found == 0 or np.min(np.hypot(*(kept[:found] - point).T)) >= spacing:
                kept[found] = point
                found += 1
                if found == count:
                    return kept
        spacing *= 0.85
    msg = f"the area has no room for {count} villages"
    raise BadInputError(msg, field="size")


@dataclass(frozen=True)
class Village:
    """One village: its name, node ids and centre."""

    name: str
    nodes: IntArray
    centre: FloatArray


def build_village(
    builder: GraphBuilder,
    name: str,
    centre: FloatArray,
    rng: np.random.Generator,
    *,
    compact: bool,
) -> Village:
    """A main lane through the centre with side lanes branching off it."""
    main_count = int(rng.integers(4, 6) if compact else rng.integers(5, 9))
    branch_chance = 0.35 if compact else 0.7
    heading = rng.uniform(0.0, np.pi)
    along = np.array([np.cos(heading), np.sin(heading)])
    across = np.array([-along[1], along[0]])
    spacing = rng.uniform(70.0, 110.0, size=main_count - 1)
    offsets = np.concatenate([[0.0], np.cumsum(spacing)])
    offsets -= offsets.mean()
    points = [centre + offsets[:, None] * along]
    edges = [np.column_stack([np.arange(main_count - 1), np.arange(1, main_count)])]
    count = main_count
    for anchor in range(main_count):
        for side in (-1.0, 1.0):
            if rng.random() >= branch_chance:
                continue
            length = int(rng.integers(1, 4))
            steps = np.cumsum(rng.uniform(60.0, 90.0, size=length))
            points.append(points[0][anchor] + side * steps[:, None] * across)
            chain = np.concatenate([[anchor], np.arange(count, count + length)])
            edges.append(np.column_stack([chain[:-1], chain[1:]]))
            count += length
    xy = np.concatenate(points) + rng.uniform(-8.0, 8.0, size=(count, 2))
    ids = builder.add_nodes(xy, "village", village=name)
    local = np.concatenate(edges)
    builder.add_segments(ids[local[:, 0]], ids[local[:, 1]], "residential")
    return Village(name, ids, np.asarray(centre, dtype=np.float64))


@dataclass(frozen=True)
class Lane:
    """A rural lane between two anchors (indexes into the anchor list)."""

    a: int
    b: int
    highway: str


def plan_lanes(
    anchors: FloatArray,
    village_count: int,
    blocked: shapely.Geometry,
    barriers: shapely.Geometry,
    max_length_m: float,
    rng: np.random.Generator,
) -> list[Lane]:
    """Which anchor pairs get a rural lane.

    Anchors ``0 … village_count-1`` are villages; the rest are access points
    of the already connected core (town ring, park, arterials), treated as one
    component. A lane may not enter ``blocked`` (town, park) nor cross one of
    the ``barriers`` (main roads) between nodes. A spanning tree gives every
    village a way in; extra triangle edges add loops.
    """
    candidates = _triangle_edges(anchors)
    is_village = candidates < village_count
    candidates = candidates[is_village.any(axis=1)]
    lines = shapely.linestrings(
        anchors[candidates].reshape(-1, 2), indices=np.repeat(np.arange(candidates.shape[0]), 2)
    )
    length = shapely.length(lines)
    usable = (
        (length <= max_length_m)
        & ~shapely.intersects(lines, blocked)
        & ~shapely.crosses(lines, barriers)
    )
    candidates, length = candidates[usable], length[usable]
    order = np.argsort(length, kind="stable")
    candidates = candidates[order]

    components = _Components(village_count)
    lanes: list[Lane] = []
    spare: list[tuple[int, int]] = []
    for a, b in candidates.tolist():
        if components.union(a, b):
            lanes.append(Lane(a, b, "unclassified"))
        else:
            spare.append((a, b))
    lanes.extend(_fallback_lanes(anchors, village_count, components))
    extra = rng.random(len(spare)) < EXTRA_LANE_SHARE
    track = rng.random(len(spare)) < 0.6
    for (a, b), chosen, is_track in zip(spare, extra.tolist(), track.tolist(), strict=True):
        if chosen:
            lanes.append(Lane(a, b, "track" if is_track else "unclassified"))
    return lanes


class _Components:
    """Union-find over villages ``0 … n-1`` plus one element ``n`` for the whole core."""

    def __init__(self, village_count: int) -> None:
        self.core = village_count
        self.parent = list(range(village_count + 1))

    def find(self, anchor: int) -> int:
        i = min(anchor, self.core)
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> bool:
        """Join the components of ``a`` and ``b``; False when already joined."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        self.parent[ra] = rb
        return True


def _fallback_lanes(anchors: FloatArray, village_count: int, components: _Components) -> list[Lane]:
    """Lanes for villages the filtered triangulation left unconnected (rare)."""
    lanes: list[Lane] = []
    for village in range(village_count):
        if components.find(village) == components.find(village_count):
            continue
        joined = [
            i
            for i in range(anchors.shape[0])
            if components.find(i) == components.find(village_count)
        ]
        distance = np.hypot(*(anchors[joined] - anchors[village]).T)
        target = joined[int(np.argmin(distance))]
        components.union(village, target)
        lanes.append(Lane(village, target, "unclassified"))
    return lanes


def _triangle_edges(points: FloatArray) -> NDArray[np.int64]:
    """Unique undirected edges ``(i, j)``, ``i < j``, of the Delaunay triangulation."""
    triangles = Delaunay(points).simplices
    pairs = np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [0, 2]]])
    pairs = np.sort(pairs, axis=1)
    return np.unique(pairs, axis=0).astype(np.int64)


def lane_geometry(start: FloatArray, end: FloatArray, rng: np.random.Generator) -> FloatArray:
    """Interior points of a meandering rural lane."""
    return winding_interior(start, end, rng, step_m=150.0, amplitude_m=150.0)


def entrance_node(village: Village, xy: FloatArray, toward: FloatArray) -> int:
    """The village node nearest to where a lane comes from."""
    distance = np.hypot(*(xy[village.nodes] - toward).T)
    return int(village.nodes[int(np.argmin(distance))])


def village_spacing(area_m2: float, count: int) -> float:
    """Minimum distance between village centres for ``count`` villages in an area."""
    return 0.4 * math.sqrt(area_m2 / max(count, 1))
