"""Camera transition model: who can reach whom within a horizon, how fast, past whom.

Built once from the road network and the cameras' watched edges (bounded
Dijkstra from every camera at once, in chunks; see ``_transition_build``) and
kept sparse: one CSR row per camera of (target, free-flow seconds, metres,
arrival edge). A trip from A to B leaves A at the head node of an edge A
watches and ends after driving an edge B watches, so the time includes
reaching B's view. Paths (and so the cameras passed on the way) are rebuilt on
demand from one camera's tree, which keeps memory at O(pairs). Where even the
pairs are too many (tens of thousands of cameras in a dense town, long
horizon), :meth:`TransitionModel.on_demand` answers the same questions one
camera at a time (a bounded search of a few ms each, memoised).
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections import OrderedDict
from functools import cached_property
from pathlib import Path
from typing import Final

import numpy as np
import shapely
from numpy.typing import NDArray

from camera_registry.registry import CameraRegistry
from skynet._ranges import groups, ranges
from skynet._transition_build import Pairs, Part, ReachRows, ReachSearch
from skynet._transition_graph import search
from skynet._transition_reference import naive_reach
from skynet._transition_types import Reach, no_edge_reason
from skynet.errors import BadInputError, NotFoundError
from skynet.roads.cameras import CameraAttachment, attach_cameras
from skynet.roads.network import RoadNetwork

__all__ = ["Reach", "TransitionModel", "cache_path", "fingerprint", "naive_reach"]

FORMAT: Final = "skynet-transitions/1"
#: Cameras whose shortest-path trees are kept for ``via``/``path_edges`` queries.
TREE_CACHE: Final = 64
#: Cameras whose reach an on-demand model keeps.
REACH_CACHE: Final = 4096
#: Free-flow seconds of a camera's first search when linking asks for a few cameras
#: (``reachable_among``): those a vehicle reaches unseen lie within a minute or so.
NEAR_S: Final = 120.0

IntArray = NDArray[np.intp]
FloatArray = NDArray[np.float64]
#: Target rows, free-flow seconds, metres and arrival edge rows of one camera's trips.
Arrivals = tuple[IntArray, FloatArray, FloatArray, IntArray]


def fingerprint(network: RoadNetwork, registry: CameraRegistry) -> str:
    """A digest of everything the model depends on: roads and camera poses.

    Edge topology, lengths, travel times and geometries; camera ids,
    positions, headings, fields of view, ranges and status.
    """
    digest = hashlib.sha256(FORMAT.encode())
    edges = network.edges
    for column in (edges.u, edges.v, edges.key, edges.length, edges.travel_time):
        digest.update(np.ascontiguousarray(column).tobytes())
    digest.update(np.ascontiguousarray(network.nodes.x).tobytes())
    digest.update(np.ascontiguousarray(network.nodes.y).tobytes())
    digest.update(b"".join(shapely.to_wkb(network.geometries).tolist()))
    digest.update("\x1f".join(c.id for c in registry.cameras).encode())
    digest.update("\x1f".join(c.status for c in registry.cameras).encode())
    pose = np.array(
        [(c.lon, c.lat, c.heading_deg, c.fov_deg, c.range_m) for c in registry.cameras],
        dtype=np.float64,
    )
    digest.update(pose.tobytes())
    return digest.hexdigest()


class TransitionModel:
    """For each camera, the cameras reachable within ``horizon_s`` of free flow."""

    def __init__(
        self,
        network: RoadNetwork,
        camera_ids: NDArray[np.str_],
        pairs: Pairs,
        pair_start_m: NDArray[np.float64],
        rows: ReachRows | None,
        *,
        horizon_s: float,
        fingerprint: str,
        from_cache: bool = False,
    ) -> None:
        self.network = network
        self.camera_ids = camera_ids
        self.pairs = pairs
        self.pair_start_m = pair_start_m
        self.rows = rows
        self.horizon_s = horizon_s
        self.fingerprint = fingerprint
        self.from_cache = from_cache
        self._row_of = {str(c): i for i, c in enumerate(camera_ids.tolist())}
        self._trees: OrderedDict[int, NDArray[np.int32]] = OrderedDict()
        self._computed: OrderedDict[int, Part] = OrderedDict()
        self._searched: OrderedDict[int, tuple[FloatArray, FloatArray, NDArray[np.int32]]] = (
            OrderedDict()
        )
        self._near: OrderedDict[int, tuple[FloatArray, FloatArray, NDArray[np.int32]]] = (
            OrderedDict()
        )

    def __repr__(self) -> str:
        stored = "on demand" if self.rows is None else f"{self.rows.target.size} transitions"
        return (
            f"TransitionModel({self.camera_ids.size} cameras, {stored} within {self.horizon_s:g} s)"
        )

    @classmethod
    def build(
        cls,
        network: RoadNetwork,
        registry: CameraRegistry,
        attachment: CameraAttachment | None = None,
        *,
        horizon_s: float = 1800.0,
    ) -> TransitionModel:
        """Compute every camera's reach (``attachment`` defaults to ``attach_cameras``).

        Memory grows with the number of (camera, reachable camera) pairs: with
        many cameras in a dense town and a long horizon use :meth:`on_demand`.
        """
        model = cls.on_demand(network, registry, attachment, horizon_s=horizon_s)
        model.rows = model._search.all_rows()
        return model

    @classmethod
    def on_demand(
        cls,
        network: RoadNetwork,
        registry: CameraRegistry,
        attachment: CameraAttachment | None = None,
        *,
        horizon_s: float = 1800.0,
    ) -> TransitionModel:
        """The same model, each camera's reach computed on first use (one bounded
        search, a few ms) and kept for the last ``REACH_CACHE`` cameras asked."""
        horizon = _check_horizon(horizon_s)
        if attachment is None:
            attachment = attach_cameras(network, registry)
        ids = np.array([c.id for c in registry.cameras], dtype=str)
        if not np.array_equal(attachment.camera_ids, ids):
            msg = "the camera attachment was made for a different registry"
            raise BadInputError(msg, field="attachment")
        pairs = Pairs(attachment.camera.astype(np.intp), attachment.edge.astype(np.intp))
        return cls(
            network,
            ids,
            pairs,
            attachment.start_m.astype(np.float64),
            None,
            horizon_s=horizon,
            fingerprint=fingerprint(network, registry),
        )

    @classmethod
    def cached(
        cls,
        network: RoadNetwork,
        registry: CameraRegistry,
        folder: str | os.PathLike[str],
        *,
        horizon_s: float = 1800.0,
        attachment: CameraAttachment | None = None,
    ) -> TransitionModel:
        """Load the model for this network, registry and horizon from ``folder``,
        or build and store it there (``.from_cache`` tells which happened)."""
        horizon = _check_horizon(horizon_s)
        key = fingerprint(network, registry)
        path = cache_path(folder, key, horizon)
        loaded = _load(path, network, key, horizon)
        if loaded is not None:
            return loaded
        model = cls.build(network, registry, attachment, horizon_s=horizon)
        model.save(path)
        return model

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the built model as one ``.npz`` (atomically: never half a file)."""
        if self.rows is None:
            self.rows = self._search.all_rows()
        target = Path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".part")
            with partial.open("wb") as handle:
                np.savez(
                    handle,
                    format=np.array(FORMAT),
                    fingerprint=np.array(self.fingerprint),
                    horizon_s=np.array(self.horizon_s),
                    camera_ids=self.camera_ids,
                    pair_camera=self.pairs.camera,
                    pair_edge=self.pairs.edge,
                    pair_start_m=self.pair_start_m,
                    indptr=self.rows.indptr,
                    target=self.rows.target,
                    time=self.rows.time,
                    distance=self.rows.distance,
                    arrive_edge=self.rows.arrive_edge,
                )
            partial.replace(target)
        except OSError as exc:
            msg = f"cannot write the transition cache {target}: {exc.strerror or exc}"
            raise BadInputError(msg, source=str(target)) from None

    def reachable(self, camera_id: str) -> Reach:
        """Cameras reachable from ``camera_id``, nearest (by free flow) first."""
        row = self._row(camera_id)
        if not self._anchored(row):
            return Reach.empty(no_edge_reason(camera_id))
        part = self._part(row)
        return Reach(
            self.camera_ids[part.target], part.time, part.distance, rows=part.target.astype(np.intp)
        )

    def reachable_among(self, camera_id: str, rows: IntArray) -> Reach:
        """:meth:`reachable` kept to the cameras at registry ``rows`` (the same trips, in
        the same order), without expanding the thousands of others a search reaches.

        Linking asks this for the few cameras a sighting's vehicle could reach
        unseen (a hundred of a reach of thousands); a camera whose whole reach
        is already known is answered from it.
        """
        row = self._row(camera_id)
        if not self._anchored(row):
            return Reach.empty(no_edge_reason(camera_id))
        if self.rows is not None or row in self._computed:
            whole = self.reachable(camera_id)
            keep = np.isin(whole.rows, rows) if whole.rows is not None else slice(None)
            return Reach(
                whole.to_ids[keep],
                whole.free_flow_s[keep],
                whole.distance_m[keep],
                rows=None if whole.rows is None else whole.rows[keep],
            )
        target, time, distance, _ = self._arrivals(row, np.unique(rows))
        return Reach(self.camera_ids[target], time, distance, rows=target)

    def _arrivals(self, source: int, targets: IntArray) -> Arrivals:
        """Target rows, seconds, metres and arrival edges of the quickest trips from one
        camera to each of ``targets`` it reaches, nearest first: :meth:`_part`'s rule (the
        first pair on a tie, by tail node then pair row) on those targets' pairs alone.

        Asked first of a search bounded at :data:`NEAR_S` (a few hundred nodes where the
        horizon's reaches thousands): the answer stands when every target is reached on
        it sooner than the bound, for a trip to any of their pairs not reached would be
        longer; else the search over the whole horizon answers."""
        if self.horizon_s > NEAR_S and source not in self._searched:
            near = self._arrivals_on(self._near_search(source), source, targets)
            asked = targets[targets != source]
            if near[0].size == asked.size and (near[1] < NEAR_S).all():
                return near
        return self._arrivals_on(self._tree_search(source), source, targets)

    def _arrivals_on(
        self, tree: tuple[FloatArray, FloatArray, NDArray[np.int32]], source: int, targets: IntArray
    ) -> Arrivals:
        """:meth:`_arrivals` on one search (``targets`` distinct)."""
        time, length, _ = tree
        edges, horizon = self.network.edges, self.horizon_s
        order, bounds = self._pairs_by_camera
        pairs = order[ranges(bounds[targets], bounds[targets + 1])]
        edge = self.pairs.edge[pairs]
        node = edges.u[edge].astype(np.intp)
        arrive = time[node] + edges.travel_time[edge]
        target = self.pairs.camera[pairs]
        keep = (time[node] <= horizon) & (arrive <= horizon) & (target != source)
        pairs, edge, node, arrive, target = (
            pairs[keep],
            edge[keep],
            node[keep],
            arrive[keep],
            target[keep],
        )
        order = np.lexsort((pairs, node, arrive, target))
        first = order[np.r_[True, target[order][1:] != target[order][:-1]]] if order.size else order
        first = first[np.lexsort((target[first], arrive[first]))]
        distance = length[node[first]] + edges.length[edge[first]]
        return target[first].astype(np.intp), arrive[first], distance, edge[first].astype(np.intp)

    @cached_property
    def _pairs_by_camera(self) -> tuple[IntArray, IntArray]:
        return groups(self.pairs.camera, self.camera_ids.size)

    def _tree_search(self, source: int) -> tuple[FloatArray, FloatArray, NDArray[np.int32]]:
        """One camera's bounded search: seconds and tree metres per node, predecessors
        (kept for the last ``TREE_CACHE`` cameras; its tree serves the path queries)."""
        if source in self._searched:
            self._searched.move_to_end(source)
            return self._searched[source]
        tree = search(self._search.matrix, [self._search.anchors[source]], self.horizon_s)
        found = (tree.time[0], tree.length[0], tree.predecessor[0])
        self._searched[source] = found
        if len(self._searched) > TREE_CACHE:
            self._searched.popitem(last=False)
        self._keep_tree(source, tree.predecessor[0])
        return found

    def _near_search(self, source: int) -> tuple[FloatArray, FloatArray, NDArray[np.int32]]:
        """One camera's search bounded at :data:`NEAR_S` (kept like :meth:`_tree_search`'s;
        within the bound its times, tree lengths and predecessors are that search's)."""
        if source in self._near:
            self._near.move_to_end(source)
            return self._near[source]
        tree = search(self._search.matrix, [self._search.anchors[source]], NEAR_S)
        found = (tree.time[0], tree.length[0], tree.predecessor[0])
        self._near[source] = found
        if len(self._near) > TREE_CACHE:
            self._near.popitem(last=False)
        return found

    def _predecessors(self, source: int, arrive: IntArray) -> NDArray[np.int32]:
        """A tree of the camera holding every arrival edge's tail: its near search where
        that reaches them all, else its whole tree."""
        near = self._near.get(source)
        tails = self.network.edges.u[arrive]
        if near is not None and source not in self._trees and np.isfinite(near[0][tails]).all():
            return near[2]
        return self._tree(source)

    def path_edges(self, camera_id: str, to_id: str) -> IntArray:
        """Edge rows of the free-flow path from A's view to B's view (B's edge last).

        Their travel times add up to the pair's ``free_flow_s``.
        """
        source, arrive = self._transition(camera_id, to_id)
        pred = self._tree(source)
        size = len(self.network.nodes)
        nodes = [int(self.network.edges.u[arrive])]
        while pred[nodes[-1]] < size:
            nodes.append(int(pred[nodes[-1]]))
        walk = np.array(nodes[::-1], dtype=np.intp)
        along = self._search.matrix.edge_between(walk[:-1], walk[1:])
        return np.concatenate([along, [arrive]]).astype(np.intp)

    def path_ends(self, camera_id: str, to_ids: list[str]) -> tuple[IntArray, IntArray]:
        """First and last edge rows of the free-flow paths from A's view to each B's
        (those of :meth:`path_edges`), from one walk up A's tree for all of them:
        linking needs only how each path leaves and arrives."""
        source = self._row(camera_id)
        targets = np.array([self._row(t) for t in to_ids], dtype=np.intp)
        if not self._anchored(source) or not self._watch_counts[targets].all():
            for to_id in to_ids:
                self._transition(camera_id, to_id)  # the error that says which and why
        arrive = self._arrival_edges(source, targets)
        if arrive is None:
            for to_id in to_ids:
                self._transition(camera_id, to_id)
            msg = f"a camera of {to_ids!r} is not reachable from {camera_id!r}"
            raise NotFoundError(msg)  # not reached: _transition says which
        pred = self._predecessors(source, arrive)
        size = len(self.network.nodes)
        child = self.network.edges.u[arrive].astype(np.intp)
        parent = pred[child].astype(np.intp)
        along = parent < size  # the arrival edge does not start at an anchor
        walking = np.flatnonzero(along)
        while walking.size:  # up the tree until the parent is an anchor
            above = pred[parent[walking]].astype(np.intp)
            up = above < size
            step = walking[up]
            child[step], parent[step] = parent[step], above[up]
            walking = step
        first = arrive.copy()
        first[along] = self._search.matrix.edge_between(parent[along], child[along])
        return first, arrive

    def _arrival_edges(self, source: int, targets: IntArray) -> IntArray | None:
        """The edge each target's quickest trip arrives on (None if one is not reached):
        from the whole reach where it is known, else from the targets' pairs alone (on
        the camera's search: going back, each earlier candidate's camera is a source)."""
        if self.rows is not None or source in self._computed:
            part = self._part(source)
            position = np.full(self.camera_ids.size, -1, dtype=np.intp)
            position[part.target] = np.arange(part.target.size)
            found = position[targets]
            return None if (found < 0).any() else part.arrive_edge[found].astype(np.intp)
        reached, _, _, edge = self._arrivals(source, np.unique(targets))
        position = np.full(self.camera_ids.size, -1, dtype=np.intp)
        position[reached] = np.arange(reached.size)
        found = position[targets]
        return None if (found < 0).any() else edge[found]

    def via(self, camera_id: str, to_id: str) -> list[str]:
        """Cameras (online or not) watching the free-flow path from A to B, in order.

        A and B themselves are left out; cameras on one edge come in the order
        a vehicle passes their watched spans.
        """
        path = self.path_edges(camera_id, to_id)
        order = self._pairs_by_edge
        sorted_edges = self.pairs.edge[order]
        low = np.searchsorted(sorted_edges, path, side="left")
        high = np.searchsorted(sorted_edges, path, side="right")
        seen = {camera_id, to_id}
        out: list[str] = []
        for a, b in zip(low.tolist(), high.tolist(), strict=True):
            for camera in self.pairs.camera[order[a:b]].tolist():
                name = str(self.camera_ids[camera])
                if name not in seen:
                    seen.add(name)
                    out.append(name)
        return out

    def unanchored(self) -> list[str]:
        """Ids of cameras that watch no road edge (they have no transitions)."""
        return [str(c) for c in self.camera_ids[self._watch_counts == 0]]

    @cached_property
    def _search(self) -> ReachSearch:
        return ReachSearch(
            self.network.edges,
            len(self.network.nodes),
            self.pairs,
            self.camera_ids.size,
            self.horizon_s,
        )

    def _part(self, row: int) -> Part:
        """One anchored camera's reach: a slice of the built rows, or computed now."""
        if self.rows is not None:
            low, high = int(self.rows.indptr[row]), int(self.rows.indptr[row + 1])
            rows = self.rows
            return Part(
                np.array([high - low], dtype=np.int64),
                rows.target[low:high],
                rows.time[low:high],
                rows.distance[low:high],
                rows.arrive_edge[low:high],
            )
        if row in self._computed:
            self._computed.move_to_end(row)
        else:
            self._computed[row], tree = self._search.rows_and_tree(row)
            self._keep_tree(row, tree)
            if len(self._computed) > REACH_CACHE:
                self._computed.popitem(last=False)
        return self._computed[row]

    @cached_property
    def _pairs_by_edge(self) -> IntArray:
        return np.lexsort((self.pair_start_m, self.pairs.edge)).astype(np.intp)

    def _row(self, camera_id: str) -> int:
        try:
            return self._row_of[camera_id]
        except KeyError:
            msg = f"no camera with id {camera_id!r} in the transition model"
            raise NotFoundError(msg) from None

    @cached_property
    def _watch_counts(self) -> NDArray[np.intp]:
        return np.bincount(self.pairs.camera, minlength=self.camera_ids.size)

    def _anchored(self, row: int) -> bool:
        return bool(self._watch_counts[row] > 0)

    def _transition(self, camera_id: str, to_id: str) -> tuple[int, int]:
        """Source row and arrival edge of the pair, or a NotFoundError saying why not."""
        source, target = self._row(camera_id), self._row(to_id)
        for row, name in ((source, camera_id), (target, to_id)):
            if not self._anchored(row):
                raise NotFoundError(no_edge_reason(name))
        part = self._part(source)
        hits = np.flatnonzero(part.target == target)
        if hits.size == 0:
            msg = (
                f"camera {to_id!r} is not reachable from {camera_id!r} "
                f"within {self.horizon_s:g} s of free-flow driving"
            )
            raise NotFoundError(msg)
        return source, int(part.arrive_edge[hits[0]])

    def _tree(self, source: int) -> NDArray[np.int32]:
        """Predecessor row of one camera's bounded tree (``size`` = its virtual root)."""
        if source in self._trees:
            self._trees.move_to_end(source)
            return self._trees[source]
        tree = search(self._search.matrix, [self._search.anchors[source]], self.horizon_s)
        self._keep_tree(source, tree.predecessor[0])
        return self._trees[source]

    def _keep_tree(self, source: int, predecessor: NDArray[np.int32]) -> None:
        self._trees[source] = predecessor
        self._trees.move_to_end(source)
        if len(self._trees) > TREE_CACHE:
            self._trees.popitem(last=False)


def cache_path(folder: str | os.PathLike[str], key: str, horizon_s: float) -> Path:
    """Where :meth:`TransitionModel.cached` keeps the model for a fingerprint and horizon."""
    return Path(folder) / f"transitions-{key[:24]}-{horizon_s:g}s.npz"


def _check_horizon(horizon_s: float) -> float:
    try:
        horizon = float(horizon_s)
    except (TypeError, ValueError):
        horizon = float("nan")
    if not (np.isfinite(horizon) and horizon > 0.0):
        msg = f"the horizon must be a positive number of seconds, got {horizon_s!r}"
        raise BadInputError(msg, field="horizon_s")
    return horizon


def _load(path: Path, network: RoadNetwork, key: str, horizon_s: float) -> TransitionModel | None:
    """The stored model if it is there, readable and made for exactly these inputs."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["format"]) != FORMAT or str(data["fingerprint"]) != key:
                return None
            if float(data["horizon_s"]) != horizon_s:
                return None
            rows = ReachRows(
                data["indptr"], data["target"], data["time"], data["distance"], data["arrive_edge"]
            )
            pairs = Pairs(data["pair_camera"].astype(np.intp), data["pair_edge"].astype(np.intp))
            return TransitionModel(
                network,
                data["camera_ids"],
                pairs,
                data["pair_start_m"],
                rows,
                horizon_s=horizon_s,
                fingerprint=key,
                from_cache=True,
            )
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
