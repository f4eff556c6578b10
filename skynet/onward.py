"""Where the target may be heading: the chance it passes each camera on its way on.

The frontier asks which camera shows the target *next*; to skip ahead one
needs the chance that it passes a camera *at all*. Here every road junction
within reach (the horizon, at free flow, past at most ``MAX_PASSED`` watched
roads) is a place the target may be heading for, a nearer one likelier
(``DESTINATION_SCALE_S``), and it
drives there the frontier's way round: past the fewest watched roads, then
the quickest, from where it left the last view (along its exit edge, so the
way it was heading counts). A camera's chance is the share of those places
whose way passes a road it watches: a camera a fleeing driver can go round
scores low, one where every way converges (a bridge, the one lane out of a
village) scores high however far. A camera opened and found empty weighs
every place behind it down by the miss probability (it would have seen the
target pass).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix

from skynet._anchors import edge_rows_by_label
from skynet.errors import BadInputError
from skynet.frontier import MAX_PASSED, PENALTY_S, TURN_BACK
from skynet.implied import RoadGraph, road_graph, search
from skynet.roads.cameras import CameraAttachment, edge_label
from skynet.roads.network import RoadNetwork

#: Free-flow seconds over which a place's chance of being where the target is heading
#: falls by e (nearer places are likelier goals; the rest of an escape is unknown).
DESTINATION_SCALE_S: Final = 600.0

FloatArray = NDArray[np.float64]


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
    _graph: RoadGraph | None = None
    _watch: NDArray[np.bool_] | None = None

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
        mine = att.pairs_of(from_camera)
        row = edge_rows_by_label(self.network).get(exit_edge or "")
        if row is not None and np.any(att.edge[mine] == row):
            mine = mine[att.edge[mine] == row]
        if mine.size == 0:
            msg = f"camera {from_camera!r} watches no road edge: no way out of its view is known"
            raise BadInputError(msg, field="camera")
        edge = att.edge[mine]
        to_head = edges.travel_time[edge] * (
            1.0 - np.clip(att.end_m[mine] / edges.length[edge], 0.0, 1.0)
        )
        budget = MAX_PASSED * PENALTY_S + self.horizon_s
        cost, before = search(graph.matrix, edges.v[edge], to_head, budget)
        reach = np.full(cost.shape, np.inf)  # seconds on the way round, past the penalties
        finite = np.isfinite(cost)
        reach[finite] = cost[finite] - np.floor(cost[finite] / PENALTY_S) * PENALTY_S
        reach[reach > self.horizon_s] = np.inf
        passes = self._passes(reach, cost, before)
        cameras = att.camera_ids.shape[0]
        ahead = np.zeros(cameras, dtype=bool)  # farther along the exit edge: always passed
        if mine.size == 1:
            on = (att.edge == edge[0]) & (att.end_m > att.end_m[mine[0]])
            ahead[att.camera[on]] = True
        weight = np.isfinite(reach).astype(np.float64)
        weight[weight > 0] = np.exp(-reach[weight > 0] / self.destination_scale_s)
        behind = np.asarray(att.camera_rows(list(empty)), dtype=np.intp)
        behind = behind[behind >= 0]
        if behind.size:
            silent = np.asarray(passes[:, behind].sum(axis=1)).ravel()
            silent = silent + ahead[behind].sum()
            weight *= self.miss_probability**silent
        back = att.camera_rows([came_from])[0] if came_from is not None else -1
        if back >= 0:
            weight *= np.where(np.asarray(passes[:, back].todense()).ravel() > 0, TURN_BACK, 1.0)
        total = weight.sum()
        chance = np.asarray(passes.T @ weight).ravel() / total if total > 0 else weight[:0]
        if chance.size:
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
        if chance.size:
            chance[own] = 0.0
        return Onward(chance if chance.size else np.zeros(cameras), seconds, entry)

    def _passes(self, reach: FloatArray, cost: FloatArray, before: NDArray[np.int32]) -> csr_matrix:
        """Node × camera: whether the quickest way to the node passes a road the camera
        watches (built down the tree level by level, each row from its parent's)."""
        graph, edges = self._road_graph(), self.network.edges
        size = reach.shape[0]
        parent = before[:size].astype(np.intp)
        nodes = np.flatnonzero(np.isfinite(reach) & (parent >= 0) & (parent < size))
        keys = edges.u[graph.chosen].astype(np.int64) * size + edges.v[graph.chosen]
        edge_into = np.full(size, -1, dtype=np.intp)
        edge_into[nodes] = graph.chosen[np.searchsorted(keys, parent[nodes] * size + nodes)]
        depth = np.zeros(size, dtype=np.intp)
        for node in nodes[np.argsort(cost[nodes], kind="stable")].tolist():
            depth[node] = depth[parent[node]] + 1  # a parent is reached first
        watch = self._watched()
        passes = np.zeros((size, watch.shape[1]), dtype=bool)
        for level in range(1, int(depth.max(initial=0)) + 1):
            at = nodes[depth[nodes] == level]
            passes[at] = passes[parent[at]] | watch[edge_into[at]]
        return csr_matrix(passes.astype(np.float64))

    def _road_graph(self) -> RoadGraph:
        """Free-flow seconds, ``PENALTY_S`` more on every road an online camera watches."""
        if self._graph is None:
            watched = self._watched().any(axis=1)
            self._graph = road_graph(
                self.network, self.network.edges.travel_time + PENALTY_S * watched
            )
        return self._graph

    def _watched(self) -> NDArray[np.bool_]:
        """Edge × camera: the online cameras that watch each directed edge."""
        if self._watch is None:
            att = self.attachment
            keep = att.online[att.camera]
            watch = np.zeros((len(self.network.edges), att.camera_ids.shape[0]), dtype=bool)
            watch[att.edge[keep], att.camera[keep]] = True
            self._watch = watch
        return self._watch
