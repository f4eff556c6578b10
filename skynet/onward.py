"""Where the target may be heading: the chance it passes each camera on its way on.

The frontier asks which camera shows the target *next*; to skip ahead one
needs the chance that it passes a camera *at all*. Here every road junction
within reach (the horizon) is a place the target may be heading for, all
alike (``DESTINATION_SCALE_S``: nearer ones likelier fitted worse), within
reach by the free-flow seconds of the way it drives there: the cheapest for
a fleeing driver (``RouteChoice``: each road's free-flow seconds times a
factor per road class, main roads dearest, and every watched road
``WATCHED_COST_S`` more — it leans towards lanes and unwatched roads, but a
way round all cameras fitted far worse), from where it left the last view
(along its exit edge, so the way it was heading counts). A camera's chance is the share of
those places whose way passes a road it watches: a camera a fleeing driver
can go round scores lower, one where every
way converges (a bridge, the one lane out of a village) scores high however
far. Each road of a camera opened and found empty on the way to a place
weighs that place down by the miss probability (it would have seen the
target pass), and places back through the camera the target came from
weigh ``TURN_BACK``, as in the frontier. The shares are sums over the
search tree (one pass down, one up), so memory stays linear in the network.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from skynet._paths import bounded_tree
from skynet._tree import SearchTree, levels
from skynet.frontier import TURN_BACK, departures
from skynet.implied import RoadGraph, road_graph
from skynet.roads.cameras import CameraAttachment, edge_label
from skynet.roads.classes import HIGHWAY_CLASSES, HIGHWAY_CODE
from skynet.roads.network import EdgeArrays, RoadNetwork

#: Free-flow seconds over which a place's chance of being where the target is heading
#: falls by e (infinite: every place within reach alike; the rest of an escape is unknown).
DESTINATION_SCALE_S: Final = math.inf
#: Seconds a road an online camera watches costs on the way to a place, more than its
#: free-flow time: a driver who flees leans a little towards the roads no camera watches,
#: but does not go far out of the way for it.
WATCHED_COST_S: Final = 60.0

FloatArray = NDArray[np.float64]

#: Road-class codes of each group a route choice weighs alike (the rest: minor roads).
_MAIN: Final = tuple(HIGHWAY_CODE[c] for c in HIGHWAY_CLASSES[: HIGHWAY_CODE["secondary"]])
_SECONDARY: Final = (HIGHWAY_CODE["secondary"], HIGHWAY_CODE["secondary_link"])
_TERTIARY: Final = (HIGHWAY_CODE["tertiary"], HIGHWAY_CODE["tertiary_link"])
_RESIDENTIAL: Final = (HIGHWAY_CODE["residential"], HIGHWAY_CODE["living_street"])


@dataclass(frozen=True)
class RouteChoice:
    """How a fleeing driver weighs a road: its free-flow seconds times its class's factor
    (trunk and primary roads, secondary, tertiary, residential, minor lanes and tracks),
    and ``watched_s`` more where an online camera watches it. A driver takes the cheapest
    way to where it heads."""

    main: float = 1.0
    secondary: float = 1.0
    tertiary: float = 1.0
    residential: float = 1.0
    minor: float = 1.0
    watched_s: float = WATCHED_COST_S

    def cost(self, edges: EdgeArrays, watched: NDArray[np.bool_]) -> FloatArray:
        """Per edge: what it costs the driver."""
        factor = np.full(len(HIGHWAY_CLASSES), self.minor, dtype=np.float64)
        factor[list(_MAIN)] = self.main
        factor[list(_SECONDARY)] = self.secondary
        factor[list(_TERTIARY)] = self.tertiary
        factor[list(_RESIDENTIAL)] = self.residential
        cost = edges.travel_time * factor[edges.highway]
        return np.asarray(cost + self.watched_s * watched, dtype=np.float64)

    def network_cost(self, network: RoadNetwork, attachment: CameraAttachment) -> FloatArray:
        """:meth:`cost` of every road of ``network``, watched where an online camera of
        ``attachment`` watches it."""
        watched = np.zeros(len(network.edges), dtype=bool)
        watched[attachment.edge[attachment.online[attachment.camera]]] = True
        return self.cost(network.edges, watched)


#: The route choice the planner uses: each step up the road classes (tertiary, secondary,
#: trunk and primary) 1.6 times dearer per free-flow second, chosen on the training seeds
#: 200-235 (openings 467 -> 412; 1.3: 432, 2: 435, 2.5: 445) and checked on 300-314
#: (271 -> 200); a fleeing driver keeps off the main roads (``benchmarks/README.md``).
ROUTE_CHOICE: Final = RouteChoice(main=4.0, secondary=2.5, tertiary=1.6)


@dataclass(frozen=True, eq=False)
class Onward:
    """Per registry camera: the chance the target passes it, the free-flow seconds to it on
    the way round, and the directed edge (``u-v-key``) it is reached on ("" if unreached)."""

    chance: FloatArray
    seconds: FloatArray
    entry_edge: list[str]


@dataclass(eq=False)
class OnwardModel:
    """The quickest-way tree from a view, and what share of it passes each camera."""

    network: RoadNetwork
    attachment: CameraAttachment
    horizon_s: float
    miss_probability: float = 0.15
    destination_scale_s: float = DESTINATION_SCALE_S
    route: RouteChoice = ROUTE_CHOICE
    _graph: RoadGraph | None = None

    def onward(
        self,
        from_camera: str,
        exit_edge: str | None = None,
        *,
        empty: Collection[str] = (),
        came_from: str | None = None,
    ) -> Onward:
        """Chance and free-flow time of each camera on the way on from ``from_camera``'s view;
        ``empty``: cameras opened that held no target; ``came_from``: the camera of the
        sighting before (places back through it weigh ``TURN_BACK``, as in the frontier)."""
        att, edges = self.attachment, self.network.edges
        graph = self._road_graph()
        mine, to_head = departures(att, self.network, from_camera, exit_edge)
        edge = att.edge[mine]
        # the cheapest way to each place; a place is within reach by its free-flow seconds
        cost, before = bounded_tree(graph.matrix, edges.v[edge], to_head, np.inf)
        tree = self._tree(cost, before)
        start = np.full_like(cost, np.inf)
        np.minimum.at(start, edges.v[edge], to_head)
        start[~np.isfinite(start)] = 0.0
        reach = tree.down(edges.travel_time, start)
        reach[~np.isfinite(cost) | (reach > self.horizon_s)] = np.inf
        cameras = att.camera_ids.shape[0]
        ahead = np.zeros(cameras, dtype=bool)  # farther along the exit edge: always passed
        if mine.size == 1:
            on = (att.edge == edge[0]) & (att.end_m > att.end_m[mine[0]])
            ahead[att.camera[on]] = True
        weight = np.zeros_like(reach)
        finite = np.isfinite(reach)
        weight[finite] = np.exp(-reach[finite] / self.destination_scale_s)  # 1: all alike
        behind = np.asarray(att.camera_rows(list(empty)), dtype=np.intp)
        behind = behind[behind >= 0]
        if behind.size:  # each watched road of an empty camera on the way: a miss
            silent = tree.down(self._roads_of(behind)) + ahead[behind].sum()
            weight *= self.miss_probability**silent
        back = att.camera_rows([came_from])[0] if came_from is not None else -1
        if back >= 0:
            through = tree.down(self._roads_of(np.array([back], dtype=np.intp)))
            weight *= np.where(through > 0, TURN_BACK, 1.0)
        total = weight.sum()
        chance = self._mass(tree, tree.up(weight)) / total if total > 0 else np.zeros(cameras)
        chance[ahead] = 1.0
        own = att.camera_rows([from_camera])[0]
        seconds = np.full(cameras, np.inf)
        at = reach[edges.u[att.edge]] + edges.travel_time[att.edge] * np.clip(
            att.start_m / edges.length[att.edge], 0.0, 1.0
        )
        np.minimum.at(seconds, att.camera, at)
        first = np.lexsort((at, att.camera))  # each camera's soonest pair first
        lead = first[np.concatenate([[True], att.camera[first][1:] != att.camera[first][:-1]])]
        entry = [""] * cameras
        for pair in lead[np.isfinite(at[lead])].tolist():
            entry[int(att.camera[pair])] = edge_label(self.network.edge_ids[int(att.edge[pair])])
        chance[own] = 0.0
        return Onward(chance, seconds, entry)

    def _tree(self, reach: FloatArray, before: NDArray[np.int32]) -> SearchTree:
        """The search's tree over the places within reach, level by level from its roots."""
        graph, edges = self._road_graph(), self.network.edges
        size = reach.shape[0]
        parent = np.asarray(before[:size], dtype=np.intp)
        nodes = np.flatnonzero(np.isfinite(reach) & (parent >= 0) & (parent < size))
        parent = np.where(np.isin(np.arange(size), nodes), parent, -1)
        keys = edges.u[graph.chosen].astype(np.int64) * size + edges.v[graph.chosen]
        edge_into = np.full(size, -1, dtype=np.intp)
        edge_into[nodes] = graph.chosen[np.searchsorted(keys, parent[nodes] * size + nodes)]
        _, by_depth = levels(parent, nodes)
        return SearchTree(parent, edge_into, by_depth)

    def _mass(self, tree: SearchTree, below: FloatArray) -> FloatArray:
        """Per camera, the weight of the places whose way passes a road it watches: the
        places below each of its tree roads, a road below another of its own counted once."""
        att, edges = self.attachment, self.network.edges
        pairs = np.flatnonzero(att.online[att.camera])
        heads = edges.v[att.edge[pairs]]
        slot = self._road_graph().slot  # a parallel road counts as the one the tree took
        into = tree.into[heads]
        on_tree = (into >= 0) & (slot[np.maximum(into, 0)] == slot[att.edge[pairs]])
        on_tree &= below[heads] > 0  # nothing to head for beyond: no share (out of reach)
        cams, heads = att.camera[pairs[on_tree]], heads[on_tree]
        first, size = tree.preorder()
        order = np.lexsort((first[heads], cams))
        mass = np.zeros(att.camera_ids.shape[0])
        camera, until = -1, -1
        for c, h in zip(cams[order].tolist(), heads[order].tolist(), strict=True):
            if c != camera:
                camera, until = c, -1
            if first[h] >= until:  # not below a road of this camera already counted
                mass[c] += below[h]
                until = int(first[h] + size[h])
        return mass

    def _roads_of(self, camera_rows: NDArray[np.intp]) -> FloatArray:
        """Per edge: how many of the given cameras watch it (online ones)."""
        att = self.attachment
        mine = np.isin(att.camera, camera_rows) & att.online[att.camera]
        pairs = np.unique(np.stack([att.camera[mine], att.edge[mine]]), axis=1)
        return np.bincount(pairs[1], minlength=len(self.network.edges)).astype(np.float64)

    def _road_graph(self) -> RoadGraph:
        """Each road at the route choice's cost: free-flow seconds times its class's factor,
        ``watched_s`` more on every road an online camera watches."""
        if self._graph is None:
            cost = self.route.network_cost(self.network, self.attachment)
            self._graph = road_graph(self.network, cost)
        return self._graph
