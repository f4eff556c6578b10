"""Trips between two sightings on the edges the cameras saw the vehicle on.

The camera transition model is camera to camera: a trip leaves at the head of
any edge the first camera watches and ends on any edge the second watches.
A sighting says more: the edge the vehicle left the view on, and in which
direction, and where along it the view ended. A trip from there to where the
other sighting entered its view (its entry edge, the start of its view) is
what the vehicle had to drive: a junction camera's two approaches are
seconds apart for a vehicle going straight on and minutes apart for one that
would have to come round the block. For each such trip this module gives
the free-flow time and the online cameras watching it on the way (those it
would have passed in view).

One bounded Dijkstra per edge a sighting left or entered on (scipy), cached; the
path to each candidate is read back from its predecessors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from skynet._anchors import edge_rows_by_label
from skynet._paths import CLASS_SPEED, _bounded, _min_matrix, road_matrices
from skynet._ranges import groups, ranges
from skynet._transition_graph import RoadMatrix
from skynet.roads.cameras import CameraAttachment
from skynet.roads.network import RoadNetwork
from trackers.sighting import Sighting

FloatArray = NDArray[np.float64]
#: Extra cost (s) of a watched edge on the way round the cameras: far above any trip.
AVOID_PENALTY_S = 100_000.0
#: Watched edges the way round may still cross (beyond, it is not a way round).
MAX_AVOIDED = 4
#: Seconds the way round may take beyond the observed gap (timing noise at both views).
ROUND_SLACK_S = 30.0
#: Free-flow seconds of a sighting's first directed search (trips to its candidates lie
#: within two minutes or so; a window's limit is several times that): a trip it reaches
#: is the same on a farther search, so only those it does not reach ask for one.
NEAR_S = 180.0
_NONE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _TripFact:
    """One trip between two views, as far as it does not depend on the pair's timing.

    ``node`` is where the road search must reach (-1: both views on one edge, no
    search); ``seconds`` the free-flow time; ``passed`` the online cameras watching
    it; ``round_s``/``round_passed`` the quickest way round them (inf: none).
    """

    node: int
    seconds: float
    passed: int
    round_s: float
    round_passed: int


@dataclass(frozen=True, eq=False)
class _NodePairs:
    """Pair rows grouped by one node of their edge (CSR over nodes)."""

    ptr: NDArray[np.intp]
    pairs: NDArray[np.intp]

    @classmethod
    def of(cls, nodes: NDArray[np.intp], node_count: int) -> _NodePairs:
        order, ptr = groups(nodes, node_count)
        return cls(ptr, order)

    def rows_at(self, nodes: NDArray[np.intp]) -> NDArray[np.intp]:
        """Pair rows whose node is one of ``nodes``."""
        return self.pairs[ranges(self.ptr[nodes], self.ptr[nodes + 1])]


@dataclass(eq=False)
class DirectedTrips:
    """Free-flow times and cameras passed between sightings' own edges (see the module)."""

    network: RoadNetwork
    attachment: CameraAttachment
    _matrices: dict[tuple[bool, bool], csr_matrix] = field(default_factory=dict)
    _searches: dict[tuple[int, bool, bool], tuple[float, FloatArray, NDArray[np.int32]]] = field(
        default_factory=dict
    )
    _watchers: dict[int, list[tuple[str, float, float, bool]]] = field(default_factory=dict)
    _path_sets: dict[tuple[int, bool, bool], dict[int, frozenset[str]]] = field(
        default_factory=dict
    )
    _overlaps: dict[tuple[str, int], frozenset[str]] = field(default_factory=dict)
    _bounds: dict[tuple[str, int, bool], float] = field(default_factory=dict)
    _watching_memo: dict[tuple[int, float, float], frozenset[str]] = field(default_factory=dict)
    _facts: dict[tuple[int, int, bool, str, str], _TripFact] = field(default_factory=dict)
    _edge_pace: FloatArray | None = None
    _node_pairs: dict[bool, _NodePairs] = field(default_factory=dict)
    _online: dict[int, list[tuple[str, float]]] = field(default_factory=dict)
    _roads: RoadMatrix | None = None
    _reverse_length: csr_matrix | None = None
    #: The last sighting's trips found (its rings measure the inner rings' candidates again).
    _recent_of: tuple[str, bool] | None = None
    _recent: dict[str, tuple[float, float]] = field(default_factory=dict)

    def trips(
        self, sighting: Sighting, others: list[Sighting], *, forward: bool, limit_s: float
    ) -> tuple[FloatArray, FloatArray]:
        """Seconds (at the pair's class speed) and online cameras passed, sighting to each other.

        ``forward``: from ``sighting`` to each later one, else from each
        earlier one to ``sighting``. NaN (times and counts) where an edge is
        unknown or nothing is reachable within ``limit_s``.
        """
        times = np.full(len(others), np.nan)
        passed = np.full(len(others), np.nan)
        own = self._own_edge(sighting, forward)
        if own is None:
            return times, passed
        shares = _class_share(sighting, others)
        if self._recent_of != (sighting.id, forward):  # a sighting's rings ask again
            self._recent_of, self._recent = (sighting.id, forward), {}
        # the near search first: a trip it reaches is the same on any farther one
        rest = list(range(len(others)))
        for limit in dict.fromkeys((min(limit_s, NEAR_S), limit_s)):
            if not rest:
                break
            reach, _ = self._search(own, forward, limit)
            rest = self._fill(sighting, others, rest, own, forward, reach, shares, times, passed)
        return times / shares, passed

    def _fill(
        self,
        sighting: Sighting,
        others: list[Sighting],
        rest: list[int],
        own: int,
        forward: bool,
        reach: FloatArray,
        shares: FloatArray,
        times: FloatArray,
        passed: FloatArray,
    ) -> list[int]:
        """:meth:`trips` of ``others[i]`` for ``i`` in ``rest`` on one search, in place; the
        rows it does not reach (a farther search may)."""
        labels = edge_rows_by_label(self.network)
        recent = self._recent
        beyond = []
        for i in rest:
            other = others[i]
            known = recent.get(other.id)
            if known is not None:
                times[i], passed[i] = known
                continue
            theirs = labels.get((other.entry_edge if forward else other.exit_edge) or "")
            if theirs is None:
                continue
            early, late = (sighting, other) if forward else (other, sighting)
            fact = self._trip_fact(own, theirs, forward, early.camera_id, late.camera_id, reach)
            if fact is None or (fact.node >= 0 and not math.isfinite(reach[fact.node])):
                beyond.append(i)  # beyond this search's limit (the fact was found farther)
                continue
            times[i] = fact.seconds
            passed[i] = fact.passed
            # could it have gone round the cameras it passed in the time it took?
            gap = late.t_in - early.t_out
            if fact.passed > 0 and fact.round_s / shares[i] <= gap + ROUND_SLACK_S:
                passed[i] = min(fact.passed, fact.round_passed)
            recent[other.id] = (times[i], passed[i])  # found: the same at any farther limit
        return beyond

    def _trip_fact(
        self, own: int, theirs: int, forward: bool, early_id: str, late_id: str, reach: FloatArray
    ) -> _TripFact | None:
        """The free-flow trip between two views on their edges and the cameras it passes
        (kept: thousands of sightings share each pair of views); None when unreached."""
        key = (own, theirs, forward, early_id, late_id)
        fact = self._facts.get(key)
        if fact is not None:
            return fact
        edges = self.network.edges
        pace = self._pace()
        e_early, e_late = (own, theirs) if forward else (theirs, own)
        left = self._bound(early_id, e_early, end=True)
        entered = self._bound(late_id, e_late, end=False)
        # cameras whose views overlap either sighting's saw the same stretch, not the next
        skip = {early_id, late_id}
        skip |= self._overlapping(early_id, e_early) | self._overlapping(late_id, e_late)
        if e_early == e_late and entered >= left:
            seconds = (entered - left) * pace[e_early]
            count = len(self._watching(e_early, left, entered) - skip)
            fact = _TripFact(-1, seconds, count, math.inf, count)
        else:
            node = int(edges.u[e_late] if forward else edges.v[e_early])
            reach_node = float(reach[node])
            if not math.isfinite(reach_node):
                return None  # not kept: a farther search may reach it
            partial = (edges.length[e_early] - left) * pace[e_early] + entered * pace[e_late]
            ends = self._watching(e_early, left, math.inf) | self._watching(e_late, 0.0, entered)
            watchers = self._path_watchers((own, forward, False), node)
            count = len((watchers | ends) - skip)
            round_s, round_passed = (
                self._round(own, node, forward, ends, skip, partial) if count else (math.inf, 0)
            )
            fact = _TripFact(node, reach_node + partial, count, round_s, round_passed)
        self._facts[key] = fact
        return fact

    def _pace(self) -> FloatArray:
        """Seconds per metre of each edge at free flow."""
        if self._edge_pace is None:
            edges = self.network.edges
            self._edge_pace = edges.travel_time / np.maximum(edges.length, 1e-6)
        return self._edge_pace

    def camera_times(
        self, sighting: Sighting, camera_ids: NDArray[np.str_], *, forward: bool, limit_s: float
    ) -> FloatArray:
        """Free-flow seconds from the sighting's own edge to the nearest edge each camera
        watches (forward), or from it back to the sighting (backward); NaN where unknown."""
        out = np.full(camera_ids.shape[0], np.nan)
        own = self._own_edge(sighting, forward)
        if own is None:
            return out
        rows = self.attachment.camera_rows(camera_ids.tolist())
        found = np.flatnonzero(rows >= 0)
        for limit in dict.fromkeys((min(limit_s, NEAR_S), limit_s)):  # near search first
            reach, _ = self._search(own, forward, limit)
            out[found] = self._nearest(reach, rows[found], forward)
            found = found[~np.isfinite(out[found])]  # the rest: beyond it, or unreached
            if found.size == 0:
                break
        out[~np.isfinite(out)] = np.nan
        share = float(_class_share(sighting, [sighting])[0])
        return np.asarray(out / share, dtype=np.float64)

    def least_passed(
        self, sighting: Sighting, camera_rows: NDArray[np.intp], *, forward: bool
    ) -> FloatArray:
        """Fewest watched edges (online cameras) a vehicle must drive past unseen between the
        sighting's own edge and each camera's view; inf beyond ``MAX_AVOIDED``.

        Read from the way-round search (each watched edge costs ``AVOID_PENALTY_S``),
        so a camera reachable only past many cameras that saw nothing is known at
        once, before any of its sightings is fetched. Cameras on the sighting's own
        edge count 0; with no edge label nothing is known (0 for all).
        """
        table = self.passed_table(sighting, forward=forward)
        return np.zeros(camera_rows.shape[0]) if table is None else table[camera_rows]

    def passed_table(self, sighting: Sighting, *, forward: bool) -> FloatArray | None:
        """:meth:`least_passed` for every camera at once (by registry row); None when the
        sighting's edge is unknown (nothing is known: 0 for all)."""
        own = self._own_edge(sighting, forward)
        if own is None:
            return None
        reach, _ = self._search(own, forward, math.inf, avoid=True)
        return self._passed_table(reach, own, forward)

    def _passed_table(self, reach: FloatArray, own: int, forward: bool) -> FloatArray:
        """Watched edges passed to every camera (by registry row; inf: unreached), from the
        few nodes the way-round search reached: a reach of thousands of cameras is then
        filtered by one lookup, not by each camera's pairs."""
        att = self.attachment
        reached = np.flatnonzero(np.isfinite(reach))
        pairs = self._pairs_at(forward).rows_at(reached)
        pairs = np.concatenate([pairs, att.rows_watching(np.array([own], dtype=np.intp))])
        edges = self.network.edges
        ends = edges.u[att.edge[pairs]] if forward else edges.v[att.edge[pairs]]
        cost = np.where(att.edge[pairs] == own, 0.0, reach[ends])
        best = np.full(att.camera_ids.shape[0], np.inf)
        np.minimum.at(best, att.camera[pairs], cost)
        return np.asarray(np.floor(best / AVOID_PENALTY_S), dtype=np.float64)

    def _pairs_at(self, forward: bool) -> _NodePairs:
        """The attachment's pairs by the node a trip reaches their edge at (kept)."""
        key = forward
        if key not in self._node_pairs:
            edges = self.network.edges
            edge = self.attachment.edge
            nodes = edges.u[edge] if forward else edges.v[edge]
            self._node_pairs[key] = _NodePairs.of(nodes, len(self.network.nodes))
        return self._node_pairs[key]

    def _own_edge(self, sighting: Sighting, forward: bool) -> int | None:
        """The edge row the vehicle left the view on (forward) or entered it on; None unknown."""
        label = sighting.exit_edge if forward else sighting.entry_edge
        return edge_rows_by_label(self.network).get(label or "")

    def _nearest(
        self, reach: FloatArray, camera_rows: NDArray[np.intp], forward: bool, own: int = -1
    ) -> FloatArray:
        """Each camera's least search cost to the start (forward) or end of an edge it
        watches; 0 on the sighting's own edge ``own``, inf where unreached."""
        att = self.attachment
        edges = self.network.edges
        pairs, owner = att.pairs_of_rows(camera_rows)
        edge = att.edge[pairs]
        at = reach[edges.u[edge]] if forward else reach[edges.v[edge]]
        at = np.where(edge == own, 0.0, at)
        best = np.full(camera_rows.shape[0], np.inf)
        np.minimum.at(best, owner, at)
        return best

    def reaching(
        self, camera_id: str, horizon_s: float
    ) -> tuple[NDArray[np.str_], FloatArray, FloatArray, NDArray[np.intp]]:
        """Cameras that reach ``camera_id`` within the horizon: ids, free-flow s, metres, rows.

        The transition model's trip read backwards (it leaves the other camera
        at the head of an edge that camera watches and ends after driving an
        edge this one watches), found with one reverse search from this
        camera's edges rather than one forward search from every camera.
        Metres are those of the shortest road, a lower bound of the quickest's.
        """
        att = self.attachment
        me = int(att.camera_rows([camera_id])[0])
        mine = att.edges_of(camera_id) if me >= 0 else np.empty(0, dtype=np.intp)
        if mine.size == 0:
            return np.empty(0, dtype=str), np.empty(0), np.empty(0), np.empty(0, dtype=np.intp)
        edges = self.network.edges
        graphs = self._graphs()
        seconds = _bounded(graphs[(False, False)], edges.u[mine], edges.travel_time[mine],
                                horizon_s)  # fmt: skip
        if self._reverse_length is None:
            nodes = len(self.network.nodes)
            self._reverse_length = _min_matrix(edges.u, edges.v, edges.length, nodes).T.tocsr()
        metres = _bounded(self._reverse_length, edges.u[mine], edges.length[mine], math.inf)
        at = seconds[edges.v[att.edge]]
        best = np.full(att.camera_ids.shape[0], np.inf)
        np.minimum.at(best, att.camera, at)
        far = np.full(att.camera_ids.shape[0], np.inf)
        np.minimum.at(far, att.camera, metres[edges.v[att.edge]])
        best[me] = np.inf
        rows = np.flatnonzero(np.isfinite(best) & (best <= horizon_s))
        rows = rows[np.argsort(best[rows], kind="stable")]
        return att.camera_ids[rows].astype(str), best[rows], far[rows], rows.astype(np.intp)

    def _path_watchers(self, key: tuple[int, bool, bool], node: int) -> frozenset[str]:
        """Online cameras watching the search tree's path from its start to ``node``.

        Kept per tree node: the candidates of a step share most of their paths, so
        each node's set is its parent's plus the cameras on the edge between them.
        """
        _, forward, _ = key
        _, predecessors = self._searches[key][1:]
        memo = self._path_sets.setdefault(key, {})
        chain = []
        while node not in memo and predecessors[node] >= 0:
            chain.append(node)
            node = int(predecessors[node])
        known = memo.setdefault(node, frozenset())
        if not chain:
            return known
        if self._roads is None:
            self._roads = RoadMatrix.from_edges(self.network.edges, len(self.network.nodes))
        nodes = np.asarray(chain[::-1], dtype=np.intp)  # from the known ancestor outwards
        parents = np.concatenate([[node], nodes[:-1]]).astype(np.intp)
        tails, heads = (parents, nodes) if forward else (nodes, parents)
        rows = self._roads.edge_between(tails, heads).tolist()
        for child, row in zip(nodes.tolist(), rows, strict=True):
            on_edge = self._watching(int(row), 0.0, math.inf)
            known = known | on_edge if on_edge else known
            memo[child] = known
        return known

    def _round(
        self,
        own: int,
        node: int,
        forward: bool,
        ends: frozenset[str],
        skip: set[str],
        partial_s: float,
    ) -> tuple[float, int]:
        """The quickest way round watched edges to ``node``: its free-flow seconds (with the
        trip's two partial edges) and the cameras it still passes; inf when there is none."""
        reach, _ = self._search(own, forward, math.inf, avoid=True)
        if not math.isfinite(reach[node]):
            return math.inf, 0
        # the cost is free-flow seconds plus the penalty once a watched edge: no trip
        # comes near the penalty, so what is left of it is the way round's seconds
        driving = float(reach[node]) % AVOID_PENALTY_S
        watchers = self._path_watchers((own, forward, True), node)
        return driving + partial_s, len((watchers | ends) - skip)

    def _search(
        self, own: int, forward: bool, limit_s: float, *, avoid: bool = False
    ) -> tuple[FloatArray, NDArray[np.int32]]:
        """Bounded Dijkstra from the head (forward) or tail (backward) of the sighting's edge;
        ``avoid``: with every edge an online camera watches made dearer by ``AVOID_PENALTY_S``
        (and bounded by ``MAX_AVOIDED`` of them). Kept per edge and direction, so every
        sighting that left (or entered) on that edge shares one tree (association scores
        thousands of them); searched again only when asked to look farther than before,
        and a tree searched farther reads as one bounded at ``limit_s``."""
        limit = limit_s if not avoid else MAX_AVOIDED * AVOID_PENALTY_S
        key = (own, forward, avoid)
        cached = self._searches.get(key)
        if cached is None or cached[0] < limit:
            edges = self.network.edges
            graph = self._graphs()[(forward, avoid)]
            start = int(edges.v[own] if forward else edges.u[own])
            reach, predecessors = dijkstra(
                graph, indices=start, limit=limit, return_predecessors=True
            )
            cached = (limit, reach, predecessors)
            self._searches[key] = cached
            self._path_sets.pop(key, None)  # a new tree: its paths anew
        if cached[0] > limit:
            return np.where(cached[1] <= limit, cached[1], np.inf), cached[2]
        return cached[1], cached[2]

    def _graphs(self) -> dict[tuple[bool, bool], csr_matrix]:
        """(forward, avoid) → the road graph with free-flow or camera-shunning costs."""
        if not self._matrices:
            plain, costly = road_matrices(self.network, self.attachment, AVOID_PENALTY_S)
            self._matrices = {
                (True, False): plain,
                (False, False): plain.T.tocsr(),
                (True, True): costly,
                (False, True): costly.T.tocsr(),
            }
        return self._matrices

    def _bound(self, camera_id: str, row: int, *, end: bool) -> float:
        """Where the camera's view on the edge ends (or starts); the whole edge if unwatched
        (kept: each new pair of views asks it twice)."""
        key = (camera_id, row, end)
        bound = self._bounds.get(key)
        if bound is None:
            bound = float(self.network.edges.length[row]) if end else 0.0
            for name, start, stop, _ in self._watchers_of(row):
                if name == camera_id:
                    bound = stop if end else start
                    break
            self._bounds[key] = bound
        return bound

    def _overlapping(self, camera_id: str, row: int) -> frozenset[str]:
        """Cameras whose view on the edge overlaps this camera's view there (kept)."""
        key = (camera_id, row)
        if key not in self._overlaps:
            mine = [(a, b) for name, a, b, _ in self._watchers_of(row) if name == camera_id]
            self._overlaps[key] = frozenset(
                name
                for name, start, stop, _ in self._watchers_of(row)
                if any(start < b and stop > a for a, b in mine)
            )
        return self._overlaps[key]

    def _watching(self, row: int, after_m: float, before_m: float) -> frozenset[str]:
        """Online cameras whose view on the edge starts within ``[after_m, before_m)`` (kept:
        a view's own edge is asked of by every trip to or from it)."""
        online = self._online_on(row)
        if not online:
            return _NONE
        key = (row, after_m, before_m)
        found = self._watching_memo.get(key)
        if found is None:
            found = frozenset(name for name, start in online if after_m <= start < before_m)
            self._watching_memo[key] = found
        return found

    def _online_on(self, row: int) -> list[tuple[str, float]]:
        """(camera, view start) of the online cameras watching the edge (kept: most edges a
        timeline's trips cross are asked of again and again, and most have none)."""
        online = self._online.get(row)
        if online is None:
            online = self._online[row] = [
                (name, start) for name, start, _, on in self._watchers_of(row) if on
            ]
        return online

    def _watchers_of(self, row: int) -> list[tuple[str, float, float, bool]]:
        """(camera, view start, view end, online) of every camera watching the edge, in the
        attachment's order (read per edge when first asked: a timeline asks of few)."""
        watchers = self._watchers.get(row)
        if watchers is None:
            att = self.attachment
            pairs = att.rows_watching(np.array([row], dtype=np.intp))
            cameras = att.camera[pairs]
            watchers = self._watchers[row] = list(
                zip(
                    att.camera_ids[cameras].tolist(),
                    att.start_m[pairs].tolist(),
                    att.end_m[pairs].tolist(),
                    att.online[cameras].tolist(),
                    strict=True,
                )
            )
        return watchers


def _class_share(sighting: Sighting, others: list[Sighting]) -> FloatArray:
    """Share of free-flow speed each pair's class drives at (1 when neither class is known)."""
    classes = [
        sighting.vehicle_class if sighting.vehicle_class != "vehicle" else o.vehicle_class
        for o in others
    ]
    return np.array([CLASS_SPEED.get(c, (1.0, 0.0))[0] for c in classes], dtype=np.float64)
