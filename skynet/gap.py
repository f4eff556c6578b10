"""Which cameras the target may have passed between two of its sightings, and how likely.

Between leaving one camera's view and entering another's the target drove
some route that fits the gap at free flow. Every road it could have
driven in the time (the quickest way to its start from the first view, the road,
then the quickest way on to the second, within the gap plus ``SLACK_S``)
stands for one such route: the quickest one along it. A route weighs less the longer
its detour over the quickest of all (falling by e per ``DETOUR_SCALE_S``;
with a ``route`` choice, its detour in the driver's cost over the cheapest
route that fits: a fleeing driver's way round the main roads weighs more)
and, for each camera opened and found empty on it, by the miss probability
(it would have seen the target pass). A camera's chance is the weight share
of the routes that pass a road it watches: the chance it was passed at all
in the gap, on the same footing as the onward chance (``skynet.onward``),
not the share of being the next one. Where no route fits the gap (the target
drove faster than free flow), the quickest routes stand in. The time it would have been passed is
read off the route through it, stretched to fill the gap.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix

from skynet._anchors import edge_rows_by_label
from skynet._paths import bounded_tree
from skynet._ranges import ranges
from skynet._tree import SearchTree, levels
from skynet.frontier import departures
from skynet.implied import SLACK_S, RoadGraph, Visit, road_graph
from skynet.onward import RouteChoice
from skynet.roads.cameras import CameraAttachment, edge_label
from skynet.roads.network import RoadNetwork

#: How much longer than the gap a route may take at free flow and still stand in when no
#: route fits the gap (the target drove faster than free flow): the quickest ones then.
FASTER: Final = 2.0
#: Free-flow seconds of detour over the quickest route over which a route's weight falls
#: by e: far above most gaps' slack, so the routes that fit weigh nearly alike (300 s, the
#: frontier's scale, fitted worse: 1,299 against 1,267 openings on 56 escapes).
DETOUR_SCALE_S: Final = 1200.0
#: Routes whose cameras are gathered at once (bounds the memory of one gap's routes).
_BLOCK: Final = 8192

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
    route: RouteChoice | None = None
    _graphs: tuple[RoadGraph, csr_matrix] | None = None
    _entry_cost: FloatArray | None = field(default=None, repr=False)
    _watch: _Sets | None = field(default=None, repr=False)

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
        silent = att.camera_rows(list(empty))
        silent = np.unique(silent[silent >= 0])
        routes = _Routes(onward, watch, onto, tail[fits], fits, matrix.indices[fits], cameras)
        if self.route is not None:  # the driver's cost of each route, not its time
            entry_cost = self._entry_costs()
            ahead_cost = _tree_cost(ahead, ahead_before, graph, entry_cost, forward=True)
            behind_cost = _tree_cost(behind, behind_before, graph, entry_cost, forward=False)
            cost = ahead_cost[tail[fits]] + entry_cost[fits] + behind_cost[matrix.indices[fits]]
        else:
            cost = total[fits]
        weight = np.exp(-(cost - cost.min()) / self.detour_scale_s)
        if silent.size:
            weight *= self.miss_probability ** routes.count(silent)
        chance = routes.weigh(weight) / weight.sum()
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

    def _entry_costs(self) -> FloatArray:
        """Per entry of the road graph: the route choice's cost of its road."""
        if self._entry_cost is None:
            assert self.route is not None
            graph, _ = self._road_graphs()
            cost = self.route.network_cost(self.network, self.attachment)
            self._entry_cost = cost[graph.chosen]
        return self._entry_cost

    def _watched(self) -> _Sets:
        """Per entry of the road graph: the registry cameras that watch a road from the
        entry's tail to its head (any of parallel ones)."""
        if self._watch is None:
            att = self.attachment
            graph, _ = self._road_graphs()
            self._watch = _Sets.of(
                graph.slot[att.edge], att.camera, graph.matrix.nnz, att.camera_ids.shape[0]
            )
        return self._watch


@dataclass(frozen=True, eq=False)
class _Sets:
    """Sets of camera rows in CSR layout (row ``i``'s cameras, ascending, are
    ``cameras[indptr[i]:indptr[i + 1]]``): memory grows with the pairs held, not with
    rows times cameras (70,000 cameras at city scale)."""

    indptr: IntArray
    cameras: IntArray
    columns: int
    alias: IntArray | None = None  # outer row -> row here (-1: empty), when rows share sets

    @classmethod
    def of(cls, rows: IntArray, cameras: IntArray, size: int, columns: int) -> _Sets:
        """The sets of ``size`` rows over ``columns`` cameras holding each pair
        (``rows[i]``, ``cameras[i]``)."""
        pairs = np.unique(
            np.stack([np.asarray(rows, np.intp), np.asarray(cameras, np.intp)]), axis=1
        )
        counts = np.bincount(pairs[0], minlength=size)
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.intp)
        return cls(indptr, pairs[1].astype(np.intp), columns)

    def sizes(self) -> IntArray:
        return np.diff(self.indptr)

    def gather(self, rows: IntArray) -> tuple[IntArray, IntArray]:
        """The pairs of ``rows``: each pair's place in ``rows`` and its camera."""
        if self.alias is not None:
            rows = self.alias[rows]
        low = np.zeros(rows.shape[0], dtype=np.intp)
        high = np.zeros(rows.shape[0], dtype=np.intp)
        held = rows >= 0
        low[held], high[held] = self.indptr[rows[held]], self.indptr[rows[held] + 1]
        owner = np.repeat(np.arange(rows.shape[0], dtype=np.intp), high - low)
        return owner, self.cameras[ranges(low, high)]


@dataclass(frozen=True, eq=False)
class _Routes:
    """Each route's cameras: the union of those on the way to its road's tail, on the road
    and on the way on from its head. Read in blocks of routes, so memory stays bounded
    by the block, not by the routes that fit times the cameras."""

    onward: _Sets
    watch: _Sets
    onto: _Sets
    tails: IntArray
    entries: IntArray
    heads: IntArray
    cameras: int

    def count(self, among: IntArray) -> IntArray:
        """Per route: how many of the cameras ``among`` it passes."""
        mark = np.zeros(self.cameras, dtype=bool)
        mark[among] = True
        out = np.zeros(self.tails.shape[0], dtype=np.intp)
        for block, owner, camera in self._blocks():
            hit = mark[camera]
            out[block] = np.bincount(owner[hit], minlength=block.stop - block.start)
        return out

    def weigh(self, weight: FloatArray) -> FloatArray:
        """Per camera: the weight of the routes that pass it."""
        out = np.zeros(self.cameras)
        for block, owner, camera in self._blocks():
            out += np.bincount(camera, weights=weight[block][owner], minlength=self.cameras)
        return out

    def _blocks(self) -> Iterator[tuple[slice, IntArray, IntArray]]:
        """Per block of routes: its slice, and each (route in the block, camera) pair once,
        ordered by route then camera."""
        for low in range(0, self.tails.shape[0], _BLOCK):
            block = slice(low, min(low + _BLOCK, self.tails.shape[0]))
            parts = [
                sets.gather(rows[block])
                for sets, rows in (
                    (self.onward, self.tails),
                    (self.watch, self.entries),
                    (self.onto, self.heads),
                )
            ]
            keys = _merged([owner.astype(np.int64) * self.cameras + cam for owner, cam in parts])
            yield (
                block,
                (keys // self.cameras).astype(np.intp),
                (keys % self.cameras).astype(np.intp),
            )


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
    watch: _Sets,
    *,
    forward: bool,
) -> _Sets:
    """Per node: the cameras that watch a road the search tree's way between the root and
    the node drives (``watch``: per graph entry; ``forward``: the tree grows along the
    roads; else against them, towards the root).

    Nodes share the set of their nearest watched road up the tree, so only the watched
    roads of the tree hold one (a road's set is its cameras and the set of the watched road
    above it): memory grows with the watched roads reached, not with nodes times cameras."""
    size = cost.shape[0]
    parent, nodes, edge_into = _entries_into(cost, before, graph, forward=forward)
    alias = np.full(size, -1, dtype=np.intp)  # node -> its nearest watched road's set
    if nodes.size == 0:
        return _Sets(np.zeros(1, dtype=np.intp), np.zeros(0, dtype=np.intp), watch.columns, alias)
    member = np.zeros(size, dtype=bool)
    member[nodes] = True
    watched = np.zeros(size, dtype=bool)
    watched[nodes] = watch.sizes()[edge_into[nodes]] > 0
    up_tree = np.full(size, -1, dtype=np.intp)  # parents within the tree (roots: -1)
    up_tree[nodes] = np.where(member[parent[nodes]], parent[nodes], -1)
    anchor = nearest_marked(up_tree, watched)
    heads = np.flatnonzero(watched)  # each watched tree road, by the node it leads to
    above = np.full(size, -1, dtype=np.intp)  # the watched road above each one
    above[heads] = np.where(up_tree[heads] >= 0, anchor[np.maximum(up_tree[heads], 0)], -1)
    _, by_depth = levels(above, heads)
    start = np.zeros(size, dtype=np.intp)  # each head's cameras in ``chunks``
    stop = np.zeros(size, dtype=np.intp)
    chunks: list[IntArray] = []
    built, previous, columns = 0, np.zeros(0, dtype=np.intp), watch.columns
    for level in by_depth:
        up = np.maximum(above[level], 0)
        held = np.where(above[level] >= 0, stop[up] - start[up], 0)
        base = built - previous.shape[0]  # the heads above lie in the previous chunk
        at = ranges(start[up] - base, start[up] - base + held)
        owner = np.repeat(np.arange(level.shape[0], dtype=np.intp), held)
        own, cam = watch.gather(edge_into[level])
        merged = _merged([owner.astype(np.int64) * columns + previous[at],
                          own.astype(np.int64) * columns + cam])  # fmt: skip
        counts = np.bincount(merged // columns, minlength=level.shape[0])
        start[level] = built + np.cumsum(counts) - counts
        stop[level] = start[level] + counts
        previous = (merged % columns).astype(np.intp)
        chunks.append(previous)
        built += previous.shape[0]
    alias[nodes] = np.searchsorted(heads, anchor[nodes])
    alias[anchor < 0] = -1
    indptr = np.concatenate([[0], np.cumsum(stop[heads] - start[heads])]).astype(np.intp)
    flat = np.concatenate([*chunks, np.zeros(0, dtype=np.intp)])[ranges(start[heads], stop[heads])]
    return _Sets(indptr, flat, columns, alias)


def _entries_into(
    reach: FloatArray, before: NDArray[np.int32], graph: RoadGraph, *, forward: bool
) -> tuple[IntArray, IntArray, IntArray]:
    """A search tree's raw parents, its nodes below a root, and per node the road-graph
    entry of the road between it and its parent (-1 off the tree; ``forward`` as in
    :func:`_path_cameras`)."""
    size = reach.shape[0]
    parent = np.asarray(before[:size], dtype=np.intp)
    nodes = np.flatnonzero(np.isfinite(reach) & (parent >= 0) & (parent < size))
    entry = np.full(size, -1, dtype=np.intp)
    if nodes.size:
        u = np.repeat(np.arange(size, dtype=np.int64), np.diff(graph.matrix.indptr))
        keys = u * size + graph.matrix.indices
        tail, head = (parent[nodes], nodes) if forward else (nodes, parent[nodes])
        entry[nodes] = np.searchsorted(keys, tail.astype(np.int64) * size + head)
    return parent, nodes, entry


def _tree_cost(
    reach: FloatArray,
    before: NDArray[np.int32],
    graph: RoadGraph,
    entry_cost: FloatArray,
    *,
    forward: bool,
) -> FloatArray:
    """Per node: ``entry_cost`` summed over the search tree's way between the root and the
    node (roots: their offset; ``forward`` as in :func:`_path_cameras`)."""
    parent, nodes, entry = _entries_into(reach, before, graph, forward=forward)
    up = np.full(parent.shape[0], -1, dtype=np.intp)
    up[nodes] = parent[nodes]
    _, by_depth = levels(up, nodes)
    at_root = np.where(np.isfinite(reach), reach, np.inf)
    return SearchTree(up, entry, by_depth).down(entry_cost, at_root)


def _merged(runs: list[NDArray[np.int64]]) -> NDArray[np.int64]:
    """The distinct keys of runs that are each sorted, ascending: a stable sort merges the
    runs in linear time (timsort), where a hash or quick sort would not see them."""
    keys = np.concatenate(runs)
    keys.sort(kind="stable")
    return keys[np.concatenate([[True], keys[1:] != keys[:-1]])] if keys.size else keys


def nearest_marked(parent: IntArray, marked: BoolArray) -> IntArray:
    """Per node: the nearest node on its way up (itself included) that is ``marked``, -1
    where none; ``parent`` -1 at roots. By pointer jumping: a node looks twice as far up
    each round, so a path of length d takes about log2 d vectorised rounds."""
    size = parent.shape[0]
    found = np.where(marked, np.arange(size, dtype=np.intp), -1)
    jump = np.where(marked, -1, parent)
    live = np.flatnonzero(jump >= 0)
    while live.size:
        to = jump[live]
        there, further = found[to], jump[to]  # read before either is written
        found[live] = there
        jump[live] = np.where(there >= 0, -1, further)
        live = live[jump[live] >= 0]
    return found
