"""Which cameras the target may have passed between two of its sightings, and how likely.

Between leaving one camera's view and entering another's the target drove
some route that fits the gap at free flow. Every road it could have
driven in the time (the quickest way to its start from the first view, the road,
then the quickest way on to the second, within the gap plus ``SLACK_S``)
stands for one such route: the quickest one along it. A route weighs less the longer
its detour over the quickest of all (falling by e per ``DETOUR_SCALE_S``)
and, for each camera opened and found empty on it, by the miss probability
(it would have seen the target pass). A camera's chance is the weight share
of the routes that pass a road it watches: the chance it was passed at all
in the gap, on the same footing as the onward chance (``skynet.onward``),
not the share of being the next one. Where no route fits the gap (the target
drove faster than free flow), the quickest routes stand in. The time it would have been passed is
read off the route through it, stretched to fill the gap.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix

from skynet._anchors import edge_rows_by_label
from skynet._paths import bounded_tree
from skynet.frontier import departures
from skynet.implied import SLACK_S, RoadGraph, Visit, road_graph
from skynet.roads.cameras import CameraAttachment, edge_label
from skynet.roads.network import RoadNetwork

#: How much longer than the gap a route may take at free flow and still stand in when no
#: route fits the gap (the target drove faster than free flow): the quickest ones then.
FASTER: Final = 2.0
#: Free-flow seconds of detour over the quickest route over which a route's weight falls
#: by e: far above most gaps' slack, so the routes that fit weigh nearly alike (300 s, the
#: frontier's scale, fitted worse: 1,299 against 1,267 openings on 56 escapes).
DETOUR_SCALE_S: Final = 1200.0

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class InGap:
    """Per registry camera: the chance the target passed it in the gap, the time (UTC s)
    it would have entered its view then (nan where no route through it fits), and the
    directed edge (``u-v-key``) it would have been passed on ("" where none)."""

    chance: FloatArray
    at_s: FloatArray
    entry_edge: list[str]


@dataclass(eq=False)
class GapModel:
    """The routes between two views within their gap, over one network and attachment."""

    network: RoadNetwork
    attachment: CameraAttachment
    miss_probability: float = 0.15
    detour_scale_s: float = DETOUR_SCALE_S
    _graphs: tuple[RoadGraph, csr_matrix] | None = None
    _watch: BoolArray | None = field(default=None, repr=False)

    def between(self, left: Visit, entered: Visit, *, empty: Collection[str] = ()) -> InGap:
        """The chance of each camera being passed after ``left`` and before ``entered``;
        ``empty``: cameras opened that held no target."""
        att, edges = self.attachment, self.network.edges
        cameras = att.camera_ids.shape[0]
        none = InGap(np.zeros(cameras), np.full(cameras, np.nan), [""] * cameras)
        gap = entered.time_s - left.time_s
        # searched farther: a target faster than free flow drove one of the quickest routes
        budget = FASTER * gap + SLACK_S
        if gap <= 0.0:
            return none
        graph, back = self._road_graphs()
        mine, to_head = departures(att, self.network, left.camera_id, left.edge)
        ahead, ahead_before = bounded_tree(graph.matrix, edges.v[att.edge[mine]], to_head, budget)
        theirs, from_tail = _arrivals(att, self.network, entered)
        behind, behind_before = bounded_tree(back, edges.u[att.edge[theirs]], from_tail, budget)
        matrix = graph.matrix
        tail = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
        total = ahead[tail] + matrix.data + behind[matrix.indices]
        if not np.isfinite(total).any():
            return none
        budget = max(gap + SLACK_S, float(total.min()) + SLACK_S)
        fits = np.flatnonzero(total <= budget)
        watch = self._watched()
        onward = _path_cameras(ahead, ahead_before, graph, watch, forward=True)
        onto = _path_cameras(behind, behind_before, graph, watch, forward=False)
        routes = onward[tail[fits]] | watch[fits] | onto[matrix.indices[fits]]
        weight = np.exp(-(total[fits] - total[fits].min()) / self.detour_scale_s)
        silent = att.camera_rows(list(empty))
        silent = silent[silent >= 0]
        if silent.size:
            weight *= self.miss_probability ** routes[:, silent].sum(axis=1)
        chance = (weight @ routes) / weight.sum()
        # the route through each camera's view: to the start of its edge, along it, on
        through = ahead[edges.u[att.edge]] + edges.travel_time[att.edge] + behind[edges.v[att.edge]]
        along = edges.travel_time[att.edge] * np.clip(
            att.start_m / edges.length[att.edge], 0.0, 1.0
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            reached = (ahead[edges.u[att.edge]] + along) * gap / through
            at = np.where(through <= budget, left.time_s + reached, np.nan)
        at_s = np.full(cameras, np.nan)
        entry = [""] * cameras
        order = np.lexsort((through, att.camera))  # each camera's shortest route first
        lead = order[np.concatenate([[True], att.camera[order][1:] != att.camera[order][:-1]])]
        for pair in lead[np.isfinite(at[lead])].tolist():
            camera = int(att.camera[pair])
            at_s[camera] = float(at[pair])
            entry[camera] = edge_label(self.network.edge_ids[int(att.edge[pair])])
        chance[np.isnan(at_s)] = 0.0
        for pairs, when, after in ((mine, left.time_s, True), (theirs, entered.time_s, False)):
            if pairs.size != 1:  # the edge is not known: which stretch was driven is not
                continue
            row = int(pairs[0])
            same = att.edge == att.edge[row]
            # views on the same edge the trip drives: on from where the first view starts,
            # up to where the last one ends (views that overlap them too)
            on = (
                same & (att.end_m > att.start_m[row])
                if after
                else same & (att.start_m < att.end_m[row])
            )
            for camera in np.unique(att.camera[on]).tolist():
                chance[camera], at_s[camera] = 1.0, when
                entry[camera] = edge_label(self.network.edge_ids[int(att.edge[row])])
        for own in (left.camera_id, entered.camera_id):
            chance[att.camera_rows([own])[0]] = 0.0
        return InGap(chance, at_s, entry)

    def _road_graphs(self) -> tuple[RoadGraph, csr_matrix]:
        if self._graphs is None:
            graph = road_graph(self.network)
            self._graphs = (graph, csr_matrix(graph.matrix.T))
        return self._graphs

    def _watched(self) -> BoolArray:
        """Per entry of the road graph and registry camera: whether the camera watches a
        road from the entry's tail to its head (any of parallel ones)."""
        if self._watch is None:
            att = self.attachment
            graph, _ = self._road_graphs()
            watch = np.zeros((graph.matrix.nnz, att.camera_ids.shape[0]), dtype=bool)
            watch[graph.slot[att.edge], att.camera] = True
            self._watch = watch
        return self._watch


def _arrivals(
    attachment: CameraAttachment, network: RoadNetwork, entered: Visit
) -> tuple[IntArray, FloatArray]:
    """Where a target enters a camera's view: its attachment rows (on the entry edge when
    the camera watches it, else every edge it watches) and the free-flow seconds from each
    edge's tail to the start of the view."""
    mine = attachment.pairs_of(entered.camera_id)
    row = edge_rows_by_label(network).get(entered.edge or "")
    if row is not None and np.any(attachment.edge[mine] == row):
        mine = mine[attachment.edge[mine] == row]
    edges = network.edges
    edge = attachment.edge[mine]
    share = np.clip(attachment.start_m[mine] / edges.length[edge], 0.0, 1.0)
    return mine, np.asarray(edges.travel_time[edge] * share, dtype=np.float64)


def _path_cameras(
    cost: FloatArray,
    before: NDArray[np.int32],
    graph: RoadGraph,
    watch: BoolArray,
    *,
    forward: bool,
) -> BoolArray:
    """Per node and camera: whether the search tree's way between the root and the node
    drives a road the camera watches (``watch``: per graph entry; ``forward``: the tree
    grows along the roads; else against them, towards the root)."""
    size = cost.shape[0]
    out = np.zeros((size, watch.shape[1]), dtype=bool)
    parent = np.asarray(before[:size], dtype=np.intp)
    nodes = np.flatnonzero(np.isfinite(cost) & (parent >= 0) & (parent < size))
    if nodes.size == 0:
        return out
    u = np.repeat(np.arange(size, dtype=np.int64), np.diff(graph.matrix.indptr))
    keys = u * size + graph.matrix.indices
    tail, head = (parent[nodes], nodes) if forward else (nodes, parent[nodes])
    row = np.searchsorted(keys, tail.astype(np.int64) * size + head)
    edge_into = np.full(size, -1, dtype=np.intp)
    edge_into[nodes] = row
    depth = np.zeros(size, dtype=np.intp)
    is_child = np.zeros(size, dtype=bool)
    is_child[nodes] = True
    for node in nodes[np.argsort(cost[nodes], kind="stable")].tolist():
        depth[node] = depth[parent[node]] + 1 if is_child[parent[node]] else 1
    order = nodes[np.argsort(depth[nodes], kind="stable")]
    for level in np.split(order, np.flatnonzero(np.diff(depth[order])) + 1):
        out[level] = out[parent[level]] | watch[edge_into[level]]
    return out
