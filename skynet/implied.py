"""Cameras a trail must have passed: forced between two sightings by the roads and the clock.

Between two sightings of one target (it left camera A's view at ``leave_s`` and
entered camera C's at ``arrive_s``) it drove some route, and no route takes less
than its free-flow time. A camera B is *implied* when every route that fits in
that gap passes B's view: the rest of A's exit edge ahead of A's view, C's entry
edge before C's view, or a road between whose every way round takes longer at
free flow than the gap. Its footage need not be opened to know the target
passed it: a stretch with no junction is the plain case, a junction whose
other ways cannot be driven in the time the general one. Only the roads and the
two sightings decide (reviewed cameras' silence does not), so it holds for any
way of choosing what to open. A forced road lies on every route, the quickest
too, so the candidates are the cameras on the quickest route; each is tested by
one Dijkstra with the roads it watches barred, bounded by the gap.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix

from skynet._anchors import edge_rows_by_label
from skynet._paths import bounded_tree
from skynet.roads.cameras import CameraAttachment
from skynet.roads.network import RoadNetwork
from trackers.sighting import Sighting

#: Seconds of slack on the gap (clock and timing error): a way round that fits in the gap
#: plus this much still counts as possible, so fewer cameras are implied, never more.
SLACK_S: Final = 10.0
#: Cost added to a barred road: far above any gap, so a bounded search never takes it.
_BARRED_S: Final = 1.0e7

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


@dataclass(frozen=True)
class Visit:
    """One end of a leg: the camera, when the target left (or entered) its view, on which
    directed edge (``u-v-key``; None when the sighting does not tell)."""

    camera_id: str
    time_s: float
    edge: str | None = None

    @classmethod
    def leaving(cls, sighting: Sighting) -> Visit:
        return cls(sighting.camera_id, sighting.t_out, sighting.exit_edge)

    @classmethod
    def entering(cls, sighting: Sighting) -> Visit:
        return cls(sighting.camera_id, sighting.t_in, sighting.entry_edge)


@dataclass(frozen=True)
class _Ends:
    """Pair rows of a leg's two cameras on the edges the trip may start and end on."""

    start: IntArray
    end: IntArray


@dataclass(eq=False)
class ImpliedCameras:
    """The forced-camera test over one road network and camera attachment."""

    network: RoadNetwork
    attachment: CameraAttachment
    _graph: tuple[csr_matrix, IntArray] | None = None

    def between(self, earlier: Sighting, later: Sighting) -> list[str]:
        """Cameras the target must have passed between two of its sightings, in route order."""
        return self.forced(Visit.leaving(earlier), Visit.entering(later))

    def forced(self, left: Visit, entered: Visit) -> list[str]:
        """Cameras every route from ``left`` to ``entered`` within their gap passes, in the
        quickest route's order (neither end's camera; none when no route fits the gap)."""
        budget = entered.time_s - left.time_s + SLACK_S
        if budget <= 0.0:
            return []
        ends = self._ends(left, entered)
        if ends.start.size == 0 or ends.end.size == 0:
            return []
        quickest, path = self._quickest(ends, budget)
        if not np.isfinite(quickest):
            return []
        own = {left.camera_id, entered.camera_id}
        first, last = self._on_ends(ends, direct=path is None)
        middle: list[str] = []
        for edge in [] if path is None else path.tolist():
            for camera in self.attachment.cameras_of(edge):
                if camera in own or camera in middle or camera in first or camera in last:
                    continue
                if not np.isfinite(self._quickest(ends, budget, barred=camera)[0]):
                    middle.append(camera)
        return [c for c in dict.fromkeys(first + middle + last) if c not in own]

    def _ends(self, left: Visit, entered: Visit) -> _Ends:
        """The trip starts on the exit edge when known (else any edge the camera watches)."""
        labels = edge_rows_by_label(self.network)
        att = self.attachment

        def rows(visit: Visit) -> IntArray:
            mine = att.pairs_of(visit.camera_id)
            row = labels.get(visit.edge or "")
            on = mine[att.edge[mine] == row] if row is not None else mine[:0]
            return on if on.size else mine

        return _Ends(rows(left), rows(entered))

    def _on_ends(self, ends: _Ends, *, direct: bool) -> tuple[list[str], list[str]]:
        """Cameras on the stretches the trip cannot avoid at either end: ahead of the first
        view on its exit edge and before the last view on its entry edge (each only when
        that edge is known, one pair); on one edge between the two when the trip is direct."""
        att = self.attachment

        def ids(mask: NDArray[np.bool_]) -> list[str]:
            return [str(att.camera_ids[c]) for c in att.camera[mask][np.argsort(att.start_m[mask])]]

        first: list[str] = []
        last: list[str] = []
        if ends.start.size == 1:
            edge, end_m = int(att.edge[ends.start[0]]), float(att.end_m[ends.start[0]])
            ahead = (att.edge == edge) & (att.end_m > end_m)
            if direct and ends.end.size == 1:
                ahead &= att.start_m < float(att.start_m[ends.end[0]])
            first = ids(ahead)
        if ends.end.size == 1 and not direct:
            edge, start_m = int(att.edge[ends.end[0]]), float(att.start_m[ends.end[0]])
            last = ids((att.edge == edge) & (att.start_m < start_m))
        return first, last

    def _quickest(
        self, ends: _Ends, budget: float, barred: str | None = None
    ) -> tuple[float, IntArray | None]:
        """Least free-flow seconds of the trip within ``budget`` (inf if none fits), and the
        edge rows between the two end edges on that route (None when it is direct, along
        one edge); with ``barred``, every road that camera watches is closed."""
        att, edges = self.attachment, self.network.edges
        matrix, slot = self._matrix()
        if barred is not None:
            data = matrix.data.copy()
            data[slot[att.edges_of(barred)]] += _BARRED_S
            matrix = csr_matrix((data, matrix.indices, matrix.indptr), shape=matrix.shape)
        first, last = ends.start, ends.end
        to_head = edges.travel_time[att.edge[first]] * (
            1.0 - np.clip(att.end_m[first] / edges.length[att.edge[first]], 0.0, 1.0)
        )
        from_tail = edges.travel_time[att.edge[last]] * np.clip(
            att.start_m[last] / edges.length[att.edge[last]], 0.0, 1.0
        )
        reach, before = bounded_tree(matrix, edges.v[att.edge[first]], to_head, budget)
        at_end = reach[edges.u[att.edge[last]]] + from_tail
        best = int(np.argmin(at_end))
        direct = np.inf
        for s in first.tolist():
            same = (att.edge[last] == att.edge[s]) & (att.start_m[last] >= att.end_m[s])
            if same.any():
                length = edges.length[att.edge[s]]
                gap_m = float(np.min(att.start_m[last][same])) - float(att.end_m[s])
                direct = min(direct, float(edges.travel_time[att.edge[s]]) * gap_m / length)
        if direct <= at_end[best] and direct <= budget:
            return direct, None
        if not at_end[best] <= budget:
            return np.inf, None
        nodes = _walk(before, int(edges.u[att.edge[last[best]]]))
        if barred is not None:
            return float(at_end[best]), None
        return float(at_end[best]), self._edge_rows(nodes)

    def _edge_rows(self, nodes: Sequence[int]) -> IntArray:
        """The quickest edge row between each two consecutive nodes."""
        edges = self.network.edges
        out = []
        for u, v in itertools.pairwise(nodes):
            rows = np.flatnonzero((edges.u == u) & (edges.v == v))
            out.append(int(rows[np.argmin(edges.travel_time[rows])]))
        return np.asarray(out, dtype=np.intp)

    def _matrix(self) -> tuple[csr_matrix, IntArray]:
        if self._graph is None:
            graph = road_graph(self.network)
            self._graph = (graph.matrix, graph.slot)
        return self._graph


@dataclass(frozen=True, eq=False)
class RoadGraph:
    """Node-to-node free-flow seconds (the quickest of parallel edges) as a CSR matrix;
    ``slot``: each edge row's entry in its data; ``chosen``: the edge row of each entry."""

    matrix: csr_matrix
    slot: IntArray
    chosen: IntArray


def road_graph(network: RoadNetwork, cost: FloatArray | None = None) -> RoadGraph:
    """The graph of ``network`` at each edge's ``cost`` (default: free-flow seconds)."""
    edges = network.edges
    size = len(network.nodes)
    cost = edges.travel_time if cost is None else cost
    order = np.lexsort((cost, edges.v, edges.u))
    key = edges.u[order].astype(np.int64) * size + edges.v[order]
    first = np.concatenate([[True], key[1:] != key[:-1]])
    chosen = order[first]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(edges.u[chosen], minlength=size))])
    matrix = csr_matrix((cost[chosen], edges.v[chosen], indptr), shape=(size, size))
    every = edges.u.astype(np.int64) * size + edges.v
    slot = np.searchsorted(key[first], every).astype(np.intp)
    return RoadGraph(matrix, slot, chosen.astype(np.intp))


def _walk(before: NDArray[np.int32], node: int) -> list[int]:
    """Nodes from the search's start to ``node`` (the virtual source left out)."""
    size = before.shape[0] - 1
    out = [node]
    while before[out[-1]] >= 0 and before[out[-1]] != size:
        out.append(int(before[out[-1]]))
    return out[::-1]
