"""A target's timeline: from one seed sighting, its sightings forward and back in time.

Candidates for the next sighting come from the transition model: every
camera reachable from the current one, with a time window from the class's
top speed (earliest) to :data:`~skynet.linking.MAX_SLOWDOWN` × free-flow
time (latest; the longer of the camera-to-camera trip and the directed one,
so a camera round the block is not cut off). The search widens in rings
(:data:`RING_SHARES` of the horizon): nearer cameras first, and a ring
holding a link at least :data:`RING_ENOUGH` likely ends it, for a vehicle
going farther would have passed the cameras that saw this one. Cameras a
vehicle could reach only past more than ``MAX_AVOIDED`` watched edges are
left out at once. Per ring the candidates' columns come from the store
(through :class:`~skynet._window_cache.WindowCache`: a step fetches only
cameras and minutes no earlier step asked for), the :data:`SHORTLIST` best
by :func:`~skynet.linking.rough_scores` (appearance, time, class) are kept
with every candidate an inner ring measured, and
:func:`~skynet.linking.score_links` scores them at once; in a city of 70,000
cameras a step takes about 15 ms. A beam search over the candidate
DAG keeps the ``beam`` best chains by summed log-odds of their
links (only links above ``threshold`` are taken), so a chain through every
camera that saw the target beats one that jumps over some. Each end of the
timeline says why the chain stopped there.

Each pair's trip is measured on the sightings' own edges where they carry
them (:mod:`skynet._directed`: from where the earlier vehicle left its view,
in the direction it left, to where the later one entered): its free-flow
time, and the online cameras on it that would have seen the vehicle pass.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Final, Literal, Protocol

import numpy as np
import shapely
from numpy.typing import NDArray

from camera_registry.registry import CameraRegistry
from skynet._directed import MAX_AVOIDED, DirectedTrips
from skynet._evidence import SightingSource as SightingFinder
from skynet._transition_types import Reach
from skynet._window_cache import WindowCache
from skynet.errors import BadInputError, NotFoundError
from skynet.linking import (
    LINK_MODELS,
    MAX_SLOWDOWN,
    WINDOW_PAD_S,
    LabelledPairs,
    LinkModel,
    PairPaths,
    SightingArrays,
    bearing_deg,
    candidate_window,
    light_at,
    rough_scores,
    score_links,
)
from skynet.roads.cameras import CameraAttachment, attach_cameras
from skynet.roads.network import RoadNetwork
from skynet.store import TimeSide
from trackers.sighting import Sighting

FloatArray = NDArray[np.float64]
#: Length (m) of path read at each end to tell its direction.
BEARING_SPAN_M: Final = 30.0
#: A path longer than ``DETOUR_FACTOR`` × straight line + ``DETOUR_SLACK_M`` is a
#: same-edge detour of the transition model (see ``Linker._shortcut``).
DETOUR_FACTOR: Final = 2.0
DETOUR_SLACK_M: Final = 300.0

#: Reach of the candidate rings, as shares of the transition model's horizon.
RING_SHARES: Final = (0.125, 0.25, 0.5, 1.0)
#: A ring whose best link is at least this likely ends the widening.
RING_ENOUGH: Final = 0.9
#: Candidates of a step scored in full: the best by rough score of those in the window.
SHORTLIST: Final = 96

#: Links a timeline follows each way at most (a 20 km escape past a city's cameras
#: is seen a few hundred times).
MAX_LINKS: Final = 2000
#: A camera's neighbours: ids, free-flow seconds, metres, and rows in the registry.
Neighbours = tuple[NDArray[np.str_], FloatArray, FloatArray, NDArray[np.intp]]

EndReason = Literal["no_onward_road", "no_sightings", "no_candidate", "horizon", "max_links"]


class ReachLike(Protocol):
    """What the timeline needs of :class:`skynet.transitions.Reach`."""

    @property
    def to_ids(self) -> NDArray[np.str_]: ...
    @property
    def free_flow_s(self) -> FloatArray: ...
    @property
    def distance_m(self) -> FloatArray: ...


class Transitions(Protocol):
    """What the timeline needs of :class:`skynet.transitions.TransitionModel`."""

    @property
    def horizon_s(self) -> float:
        """Free-flow seconds the model looks ahead: the candidate rings are shares of it."""
        ...

    def reachable(self, camera_id: str) -> ReachLike: ...
    def reachable_among(self, camera_id: str, rows: NDArray[np.intp]) -> Reach:
        """:meth:`reachable` kept to the cameras at registry ``rows`` (same trips, same
        order); a model may answer it without expanding the rest of the reach."""
        ...

    def path_edges(self, camera_id: str, to_id: str) -> NDArray[np.intp]: ...


class SightingSource(SightingFinder, Protocol):
    """A sighting store (:class:`skynet.store.SightingStore` or :class:`SightingPool`)."""

    def get(self, sighting_id: str) -> Sighting: ...

    def window(
        self, camera_ids: Sequence[str], start_s: float, end_s: float, *, by: TimeSide
    ) -> SightingArrays: ...


class SightingPool:
    """Sightings held in memory, queried like the store (for sweeps, fitting, association)."""

    def __init__(self, sightings: list[Sighting]) -> None:
        self._sightings = sorted(sightings, key=lambda s: (s.t_in, s.id))
        self._by_id = {s.id: s for s in self._sightings}
        self._arrays = SightingArrays.from_sightings(self._sightings)
        # each camera's rows (in time order): a window reads only its cameras' rows
        order = np.argsort(self._arrays.camera_ids, kind="stable")
        names, starts = np.unique(self._arrays.camera_ids[order], return_index=True)
        ends = np.r_[starts[1:], order.size][: starts.size]  # none when there are no rows
        self._camera_rows = {
            str(name): order[a:b]
            for name, a, b in zip(names.tolist(), starts.tolist(), ends.tolist(), strict=True)
        }

    def get(self, sighting_id: str) -> Sighting:
        if sighting_id not in self._by_id:
            msg = f"no sighting with id {sighting_id!r}"
            raise NotFoundError(msg)
        return self._by_id[sighting_id]

    def find(
        self,
        *,
        camera_ids: Iterable[str] | None = None,
        start_s: float | None = None,
        end_s: float | None = None,
        ids: Iterable[str] | None = None,
    ) -> list[Sighting]:
        if ids is not None and camera_ids is None and start_s is None and end_s is None:
            found = {i: self._by_id[i] for i in ids if i in self._by_id}  # by id: no scan
            return sorted(found.values(), key=lambda s: (s.t_in, s.id))
        a = self._arrays
        keep = np.ones(len(a), dtype=bool)
        if ids is not None:
            keep &= np.isin(a.ids, np.asarray(list(ids), dtype=str))
        if camera_ids is not None:
            keep &= np.isin(a.camera_ids, np.asarray(list(camera_ids), dtype=str))
        if start_s is not None:
            keep &= a.t_out >= start_s
        if end_s is not None:
            keep &= a.t_in <= end_s
        return [self._sightings[i] for i in np.flatnonzero(keep).tolist()]

    def window(
        self, camera_ids: Sequence[str], start_s: float, end_s: float, *, by: TimeSide
    ) -> SightingArrays:
        a = self._arrays
        none = np.empty(0, dtype=np.intp)
        rows = np.concatenate([self._camera_rows.get(str(c), none) for c in camera_ids] or [none])
        at = (a.t_in if by == "t_in" else a.t_out)[rows]
        rows = np.unique(rows[(at >= start_s) & (at <= end_s)])  # the store's order: t_in, id
        return a.take(rows)


@dataclass(frozen=True)
class ChainEnd:
    """Why one end of a timeline is where it is."""

    reason: EndReason
    detail: str


@dataclass(frozen=True, eq=False)
class TimelineEntry:
    """One confirmed sighting and the probability of the link that reached it."""

    sighting: Sighting
    link_probability: float | None


@dataclass(frozen=True, eq=False)
class Timeline:
    """The target's sightings in time order; ``start``/``end`` say why each end stops."""

    seed_id: str
    entries: list[TimelineEntry]
    start: ChainEnd
    end: ChainEnd

    @property
    def sighting_ids(self) -> list[str]:
        return [e.sighting.id for e in self.entries]


@dataclass(frozen=True, eq=False)
class Candidates:
    """Scored candidates of one sighting, in one direction of time."""

    sightings: list[Sighting]
    probability: FloatArray
    end: ChainEnd | None  # why nothing lies beyond, when nothing does


@dataclass(eq=False)
class Linker:
    """Finds and scores the candidate links of a sighting (results cached per sighting)."""

    transitions: Transitions
    network: RoadNetwork
    registry: CameraRegistry
    source: SightingSource
    model: LinkModel | None = None
    attachment: CameraAttachment | None = None
    since_s: float = -math.inf
    until_s: float = math.inf
    _reverse: dict[str, tuple[NDArray[np.str_], FloatArray, FloatArray]] | None = None
    _bearings: dict[tuple[str, str], tuple[float, float, float]] = field(default_factory=dict)
    directed: bool = True
    _trips: DirectedTrips | None = None
    _cache: dict[tuple[str, bool], Candidates] = field(default_factory=dict)
    _detours: set[tuple[str, str]] = field(default_factory=set)
    _direct: dict[tuple[str, str], tuple[float, float, float]] = field(default_factory=dict)
    _near: dict[tuple[str, bool], Neighbours] = field(default_factory=dict)
    _reachable: dict[tuple[str, bool], Neighbours] = field(default_factory=dict)
    _windows: WindowCache | None = None
    _last_window: (
        tuple[tuple[str, bytes, bytes, bytes], tuple[SightingArrays, NDArray[np.intp]]] | None
    ) = None
    _last_directed: tuple[tuple[str, bool, bytes, float], FloatArray] | None = None
    _edge_bearings: dict[bool | None, FloatArray] = field(default_factory=dict)

    def model_for(self, sighting: Sighting) -> LinkModel:
        if self.model is not None:
            return self.model
        lon = float(self.registry.get(sighting.camera_id).lon)
        return LINK_MODELS[light_at(sighting.t_in, lon)]

    def check_camera(self, camera_id: str) -> None:
        """A clear error when the camera is unknown or watches no road."""
        if camera_id not in self.registry:
            msg = f"camera {camera_id!r} of the seed sighting is not in the camera registry"
            raise BadInputError(msg, field="camera_id", record=camera_id)
        reason = getattr(self.transitions.reachable(camera_id), "reason", None)
        if reason is not None:
            raise BadInputError(str(reason), field="camera_id", record=camera_id)

    def candidates(self, sighting: Sighting, *, forward: bool) -> Candidates:
        key = (sighting.id, forward)
        if key not in self._cache:
            self._cache[key] = self._candidates(sighting, forward)
        return self._cache[key]

    def _neighbours(self, camera_id: str, forward: bool) -> Neighbours:
        """The cameras the transition model links to this one (from it, or to it going back)."""
        key = (camera_id, forward)
        if key not in self._near:
            self._near[key] = self._reach_of(camera_id, forward)
        return self._near[key]

    def _reach_of(self, camera_id: str, forward: bool) -> Neighbours:
        rows: NDArray[np.intp] | None = None
        if forward:
            reach = self.transitions.reachable(camera_id)
            to_ids, flow, dist = reach.to_ids, reach.free_flow_s, reach.distance_m
            rows = getattr(reach, "rows", None)
        elif getattr(self.transitions, "rows", True) is None:  # an on-demand model
            # one reverse search from this camera, not one forward search from every camera
            to_ids, flow, dist, rows = self._directed_trips().reaching(camera_id, self._horizon_s())
        else:
            if self._reverse is None:
                self._reverse = self._reverse_reach()
            empty = (np.empty(0, dtype=str), np.empty(0), np.empty(0))
            to_ids, flow, dist = self._reverse.get(camera_id, empty)
        if rows is None:
            rows = self.registry.rows(to_ids.tolist()).astype(np.intp)
        return to_ids, flow, dist, rows

    def _cameras_for(self, sighting: Sighting, forward: bool) -> Neighbours:
        """The camera's neighbours this sighting's vehicle could reach without passing more
        cameras than a chain survives, their trips adjusted (same edge, straight line);
        kept per sighting, for every ring of its search."""
        key = (sighting.id, forward)
        if key not in self._reachable:
            camera = sighting.camera_id
            to_ids, flow, dist, rows = self._passable(sighting, forward)
            flow, dist = self._shortcut(camera, to_ids, rows, flow, dist, forward)
            flow, dist = self._same_edge(camera, to_ids, flow, dist, forward)
            self._reachable[key] = (to_ids, flow, dist, rows)
        return self._reachable[key]

    def _passable(self, sighting: Sighting, forward: bool) -> Neighbours:
        """The camera's neighbours less those reachable only past more than ``MAX_AVOIDED``
        watched edges. Going forward the model is asked for the passable ones alone
        (``reachable_among``: about a hundred of a reach of thousands)."""
        camera = sighting.camera_id
        if forward and self.directed:
            table = self._directed_trips().passed_table(sighting, forward=True)
            if table is not None:
                passable = np.flatnonzero(table <= MAX_AVOIDED)
                reach = self.transitions.reachable_among(camera, passable)
                rows = reach.rows
                if rows is None:
                    rows = self.registry.rows(reach.to_ids.tolist()).astype(np.intp)
                return reach.to_ids, reach.free_flow_s, reach.distance_m, rows
        to_ids, flow, dist, rows = self._neighbours(camera, forward)
        if self.directed and to_ids.shape[0]:
            least = self._directed_trips().least_passed(sighting, rows, forward=forward)
            near = least <= MAX_AVOIDED
            to_ids, flow, dist, rows = to_ids[near], flow[near], dist[near], rows[near]
        return to_ids, flow, dist, rows

    def _attached(self) -> CameraAttachment:
        if self.attachment is None:
            self.attachment = attach_cameras(self.network, self.registry)
        return self.attachment

    def _same_edge(
        self,
        camera_id: str,
        to_ids: NDArray[np.str_],
        flow: FloatArray,
        dist: FloatArray,
        forward: bool,
    ) -> tuple[FloatArray, FloatArray]:
        """Direct trips to cameras further along an edge this one watches.

        The transition model's trips leave at the head of the watched edge, so
        a camera further along the same edge looks a block away; here the trip
        is the stretch of edge between the two views, its direction the
        edge's and the cameras passed those watching that stretch.
        """
        att = self._attached()
        if to_ids.shape[0] == 0 or camera_id not in self.registry:
            return flow, dist
        mine = att.pairs_of(camera_id)
        if mine.size == 0:
            return flow, dist
        lengths, times = self.network.edges.length, self.network.edges.travel_time
        column = {str(c): i for i, c in enumerate(to_ids.tolist())}
        flow, dist = flow.copy(), dist.copy()
        me = att.camera[mine[0]]
        for row in mine.tolist():
            edge = att.edge[row]
            on_edge = att.rows_watching(att.edge[row : row + 1])
            on_edge = on_edge[att.camera[on_edge] != me]
            name_of = dict(
                zip(on_edge.tolist(), att.camera_ids[att.camera[on_edge]].tolist(), strict=True)
            )
            if forward:
                ahead = on_edge[att.start_m[on_edge] > att.start_m[row]]
                gaps = np.maximum(att.start_m[ahead] - att.end_m[row], 0.0)
            else:
                ahead = on_edge[att.start_m[on_edge] < att.start_m[row]]
                gaps = np.maximum(att.start_m[row] - att.end_m[ahead], 0.0)
            for other, gap in zip(ahead.tolist(), gaps.tolist(), strict=True):
                name = str(name_of[other])
                if name not in column:
                    continue
                i = column[name]
                seconds = gap / (lengths[edge] / np.maximum(times[edge], 1e-6))
                if seconds >= flow[i]:
                    continue
                flow[i], dist[i] = seconds, gap
                low, high = sorted((att.start_m[row], att.start_m[other]))
                between = on_edge[(att.start_m[on_edge] > low) & (att.start_m[on_edge] < high)]
                online = between[att.online[att.camera[between]]].tolist()
                passed = {str(name_of[b]) for b in online} - {name}
                pair = (camera_id, name) if forward else (name, camera_id)
                heading = float(att.heading_deg[row])
                self._direct[pair] = (heading, heading, float(len(passed)))
        return flow, dist

    def _shortcut(
        self,
        camera_id: str,
        to_ids: NDArray[np.str_],
        rows: NDArray[np.intp],
        flow: FloatArray,
        dist: FloatArray,
        forward: bool,
    ) -> tuple[FloatArray, FloatArray]:
        """Bound each path by the cameras' straight-line distance.

        A trip in the transition model leaves A at the head of the edge A
        watches, so a camera further along the same edge is reached only by
        going round a block; a vehicle gets there directly. Where the path is
        far longer than the straight line, take the straight line (at the
        path's mean free-flow speed). Such pairs' paths say nothing of
        direction or cameras passed: the straight line gives the direction
        and no camera counts as passed (see ``_measure``).
        """
        if to_ids.shape[0] == 0:
            return flow, dist
        here = self.registry.xy[self.registry.rows([camera_id])[0]]
        there = self.registry.xy[rows]
        crow = np.hypot(there[:, 0] - here[0], there[:, 1] - here[1])
        detour = dist > DETOUR_FACTOR * crow + DETOUR_SLACK_M
        short = np.where(detour, crow * 1.2, dist)
        for other in to_ids[detour].tolist():
            self._detours.add((camera_id, str(other)) if forward else (str(other), camera_id))
        speed = dist / np.maximum(flow, 1e-6)
        return np.where(detour, short / np.maximum(speed, 1e-6), flow), short

    def _reverse_reach(self) -> dict[str, tuple[NDArray[np.str_], FloatArray, FloatArray]]:
        """For each camera, the cameras that reach it (one pass over the model)."""
        sources, targets, times, lengths = [], [], [], []
        for camera_id in self.registry.ids.tolist():
            reach = self.transitions.reachable(str(camera_id))
            sources.append(np.full(len(reach.to_ids), str(camera_id), dtype=object))
            targets.append(reach.to_ids.astype(object))
            times.append(reach.free_flow_s)
            lengths.append(reach.distance_m)
        if not sources:
            return {}
        src, dst = np.concatenate(sources), np.concatenate(targets)
        flow, dist = np.concatenate(times), np.concatenate(lengths)
        order = np.argsort(dst, kind="stable")
        src, dst, flow, dist = src[order], dst[order], flow[order], dist[order]
        keys, starts = np.unique(dst, return_index=True)
        ends = np.r_[starts[1:], dst.shape[0]]
        return {
            str(k): (src[a:b].astype(str), flow[a:b], dist[a:b])
            for k, a, b in zip(keys.tolist(), starts.tolist(), ends.tolist(), strict=True)
        }

    def _candidates(self, sighting: Sighting, forward: bool) -> Candidates:
        """Scored candidates, widening ring by ring until one holds a likely link."""
        scored = Candidates([], np.empty(0), None)
        for share in RING_SHARES:
            measured = {s.id for s in scored.sightings}  # an inner ring's stay in the outer's
            pairs = self.pairs(
                sighting, forward=forward, within_s=share * self._horizon_s(), keep_ids=measured
            )
            if isinstance(pairs, ChainEnd):
                scored = Candidates([], np.empty(0), pairs)
                continue
            found, early, late, paths, end = pairs
            probability = score_links(early, late, paths, self.model_for(sighting))
            scored = Candidates(found, probability, end)
            if probability.max() >= RING_ENOUGH:
                break
        return scored

    def pairs(
        self,
        sighting: Sighting,
        *,
        forward: bool,
        within_s: float | None = None,
        keep_ids: set[str] | None = None,
    ) -> (
        tuple[list[Sighting], SightingArrays, SightingArrays, PairPaths, ChainEnd | None] | ChainEnd
    ):
        """The candidate pairs of a sighting, unscored (or why there are none).

        Pairs run forward in time: ``early[i] → late[i]``; the sighting is
        ``early`` going forward and ``late`` going back. ``within_s`` keeps
        the cameras within that free-flow time (default: the whole horizon); the
        candidates with ids in ``keep_ids`` are measured whatever their rough score.
        """
        to_ids, flow, dist, _ = self._cameras_for(sighting, forward)
        if within_s is not None:
            near = flow <= within_s
            to_ids, flow, dist = to_ids[near], flow[near], dist[near]
        if to_ids.shape[0] == 0:
            way = "onward" if forward else "incoming"
            detail = f"camera {sighting.camera_id} has no {way} road to another camera"
            if within_s is not None:
                detail += f" within {within_s:g} s"
            return ChainEnd("no_onward_road", detail)
        limit = self._limit_s(float(flow.max()))
        # how late a candidate may come: the longer of the camera-to-camera trip and the
        # directed one (leaving the way the vehicle left: round the block takes longer)
        directed = self._directed(sighting, to_ids, forward, limit)
        slowest = np.fmax(flow, directed)
        if forward:
            low, high = candidate_window(sighting.t_out, sighting.vehicle_class, flow, dist)
            _, high = candidate_window(sighting.t_out, sighting.vehicle_class, slowest, dist)
        else:  # mirror: the earlier sighting's t_out against this one's t_in
            a, _ = candidate_window(-sighting.t_in, sighting.vehicle_class, flow, dist)
            _, b = candidate_window(-sighting.t_in, sighting.vehicle_class, slowest, dist)
            low, high = -b, -a
        start, end = float(low.min()), float(high.max())
        clipped = end > self.until_s if forward else start < self.since_s
        start, end = max(start, self.since_s), min(end, self.until_s)
        horizon = ChainEnd("horizon", "the investigation's time window ends here")
        nothing = ChainEnd("no_sightings", "no sightings in any reachable camera's window")
        by: TimeSide = "t_in" if forward else "t_out"
        cand, rows = self._candidate_window(
            to_ids, np.maximum(low, start), np.minimum(high, end), by
        )
        inside = cand.ids != sighting.id
        inside &= (cand.t_in > sighting.t_in) if forward else (cand.t_in < sighting.t_in)
        keep = np.flatnonzero(inside)
        if keep.size == 0:
            return horizon if clipped else nothing
        one = SightingArrays.from_sightings([sighting])
        if keep.size > SHORTLIST:  # the best by rough score; the order of time is kept
            pair = (one.take(np.zeros(keep.size, dtype=np.intp)), cand.take(keep))
            early, late = pair if forward else pair[::-1]
            quickest = np.where(np.isfinite(directed), directed, flow)[rows[keep]]
            model = self.model_for(sighting)
            rough = rough_scores(early, late, quickest, dist[rows[keep]], model)
            if keep_ids:
                ids = cand.ids[keep].tolist()  # a set look-up: np.isin sorts the strings
                kept = np.fromiter((i in keep_ids for i in ids), dtype=bool, count=len(ids))
                rough[kept] = np.inf
            best = np.argsort(-rough, kind="stable")[: SHORTLIST + len(keep_ids or ())]
            keep = np.sort(keep[best])
        cand, rows = cand.take(keep), rows[keep]
        found = self._windowed().sightings(cand.ids.tolist())
        single = one.take(np.zeros(len(cand), dtype=np.intp))
        early, late = (single, cand) if forward else (cand, single)
        flow_pairs = flow[rows]
        known = np.zeros(len(cand), dtype=bool)
        if self.directed:
            trips = self._directed_trips()
            seconds, on_way = trips.trips(sighting, found, forward=forward, limit_s=limit)
            known = np.isfinite(seconds)
            flow_pairs = np.where(known, seconds, flow_pairs)
        depart, arrive, passed = self._path_facts(early.camera_ids, late.camera_ids, ~known)
        if self.directed:
            passed = np.where(known, on_way, passed)
        paths = PairPaths(flow_pairs, dist[rows], depart, arrive, passed)
        return found, early, late, paths, horizon if clipped else None

    def _candidate_window(
        self, to_ids: NDArray[np.str_], low: FloatArray, high: FloatArray, by: TimeSide
    ) -> tuple[SightingArrays, NDArray[np.intp]]:
        """Each camera's sightings whose ``by`` time lies in its own window, and the row of
        its camera in ``to_ids``. The last answer is kept: once a sighting's rings hold all
        its cameras, the outer rings ask the same windows again (only the shortlist grows).
        """
        key = (by, to_ids.tobytes(), low.tobytes(), high.tobytes())
        if self._last_window is not None and self._last_window[0] == key:
            return self._last_window[1]
        found = self._windows_of(to_ids, low, high, by)
        self._last_window = (key, found)
        return found

    def _windows_of(
        self, to_ids: NDArray[np.str_], low: FloatArray, high: FloatArray, by: TimeSide
    ) -> tuple[SightingArrays, NDArray[np.intp]]:
        cameras = to_ids.tolist()
        if np.isfinite(low).all() and np.isfinite(high).all():
            return self._windowed().bounded(cameras, low, high, by=by)
        cand = self._windowed().window(cameras, float(low.min()), float(high.max()), by=by)
        column = {str(c): i for i, c in enumerate(cameras)}
        rows = np.array([column[c] for c in cand.camera_ids.tolist()], dtype=np.intp)
        times = cand.t_in if by == "t_in" else cand.t_out
        inside = np.flatnonzero((times >= low[rows]) & (times <= high[rows]))
        return cand.take(inside), rows[inside]

    def _windowed(self) -> WindowCache:
        if self._windows is None:
            self._windows = WindowCache(self.source)
        return self._windows

    def _directed_trips(self) -> DirectedTrips:
        if self._trips is None:
            self._trips = DirectedTrips(self.network, self._attached())
        return self._trips

    def _horizon_s(self) -> float:
        return float(self.transitions.horizon_s)

    @staticmethod
    def _limit_s(farthest_s: float) -> float:
        """How far the directed searches look: the slowest trip a candidate window allows."""
        return farthest_s * MAX_SLOWDOWN + WINDOW_PAD_S

    def _directed(
        self, sighting: Sighting, to_ids: NDArray[np.str_], forward: bool, limit_s: float
    ) -> FloatArray:
        """Directed free-flow time to each camera's nearest watched edge (NaN: unknown);
        the last answer kept, as for :meth:`_candidate_window`."""
        if not self.directed:
            return np.full(to_ids.shape[0], np.nan)
        key = (sighting.id, forward, to_ids.tobytes(), limit_s)
        if self._last_directed is not None and self._last_directed[0] == key:
            return self._last_directed[1]
        times = self._directed_trips().camera_times(
            sighting, to_ids, forward=forward, limit_s=limit_s
        )
        self._last_directed = (key, times)
        return times

    def _path_facts(
        self, early: NDArray[np.str_], late: NDArray[np.str_], need_passed: NDArray[np.bool_]
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """How each pair's path leaves and arrives, and the online cameras it passes
        (counted only where ``need_passed``: a directed trip counts its own).

        Cached per camera pair.
        """
        pairs = list(zip(early.tolist(), late.tolist(), strict=True))
        missing = sorted({p for p in pairs if p not in self._bearings and p not in self._direct})
        if missing:
            self._bearings.update(zip(missing, self._measure(missing), strict=True))
        values = np.array(
            [self._direct.get(p) or self._bearings[p] for p in pairs], dtype=np.float64
        ).reshape(-1, 3)
        for i in np.flatnonzero(need_passed & np.isnan(values[:, 2])).tolist():
            values[i, 2] = self._passed_on_path(pairs[i])
        return values[:, 0], values[:, 1], values[:, 2]

    def _measure(self, pairs: list[tuple[str, str]]) -> list[tuple[float, float, float]]:
        """Depart and arrive bearings of each pair's path (cameras passed: NaN, counted
        when asked for); a pair's ends are read from one walk of its first camera's tree."""
        out = np.full((len(pairs), 3), np.nan)
        first = np.full(len(pairs), -1, dtype=np.intp)
        last = np.full(len(pairs), -1, dtype=np.intp)
        by_source: dict[str, list[int]] = {}
        for i, pair in enumerate(pairs):
            if pair in self._detours:
                out[i, 2] = 0.0  # no path: no camera passed
            else:
                by_source.setdefault(pair[0], []).append(i)
        ends = getattr(self.transitions, "path_ends", None)
        for source, members in by_source.items():
            if ends is not None:
                first[members], last[members] = ends(source, [pairs[i][1] for i in members])
                continue
            for i in members:  # a model that answers one pair at a time: count while at it
                path = self.transitions.path_edges(*pairs[i])
                out[i, 2] = self._passed(*pairs[i], path)
                if len(path):
                    first[i], last[i] = int(path[0]), int(path[-1])
        has = first >= 0
        if has.any():
            out[has, 0] = self._bearing_of(first[has], at_start=True)
            out[has, 1] = self._bearing_of(last[has], at_start=None)
        detour = np.array([pair in self._detours for pair in pairs], dtype=bool)
        if detour.any():  # the road runs (about) straight from one camera to the other
            rows = [p for p, d in zip(pairs, detour.tolist(), strict=True) if d]
            here = self.registry.xy[self.registry.rows([a for a, _ in rows])]
            there = self.registry.xy[self.registry.rows([b for _, b in rows])]
            straight = bearing_deg(there[:, 0] - here[:, 0], there[:, 1] - here[:, 1])
            out[detour, 0] = straight
            out[detour, 1] = straight
        return [(float(a), float(b), float(c)) for a, b, c in out.tolist()]

    def _bearing_of(self, rows: NDArray[np.intp], *, at_start: bool | None) -> FloatArray:
        """:func:`_edge_bearing`, kept per edge (a step's pairs leave and arrive on a few)."""
        kept = self._edge_bearings.get(at_start)
        if kept is None:
            kept = self._edge_bearings[at_start] = np.full(len(self.network.edges.u), np.nan)
        lacking = np.unique(rows[np.isnan(kept[rows])])
        if lacking.size:
            kept[lacking] = _edge_bearing(self.network, lacking, at_start=at_start)
        return kept[rows]

    def _passed_on_path(self, pair: tuple[str, str]) -> float:
        """Online cameras on the pair's camera-to-camera path (kept with its bearings)."""
        path = self.transitions.path_edges(*pair)
        count = float(self._passed(pair[0], pair[1], path))
        depart, arrive, _ = self._bearings[pair]
        self._bearings[pair] = (depart, arrive, count)
        return count

    def _passed(self, early: str, late: str, path: NDArray[np.intp]) -> int:
        """Online cameras a vehicle passes in view between ``early`` and ``late``.

        On the last edge (the one ``late`` watches) only those watching a span
        that starts before ``late``'s count.
        """
        att = self._attached()
        if path.shape[0] == 0 or att.camera.shape[0] == 0:
            return 0
        ends = att.camera_rows([early, late])
        on_way = att.rows_watching(path[:-1])
        last = att.rows_watching(path[-1:])
        mine = last[att.camera[last] == ends[1]]
        if mine.size:
            on_way = np.concatenate([on_way, last[att.start_m[last] < att.start_m[mine].min()]])
        cameras = att.camera[on_way]
        cameras = cameras[att.online[cameras] & ~np.isin(cameras, ends)]
        return int(np.unique(cameras).shape[0])


def _edge_bearing(
    network: RoadNetwork, rows: NDArray[np.intp], *, at_start: bool | None
) -> FloatArray:
    """Direction of travel over the first (``at_start``), last (False) ``BEARING_SPAN_M``
    of each edge, or over the whole edge (None: the arrival edge, watched somewhere on it).
    """
    lines = network.geometries[rows]
    total = shapely.length(lines)
    span = np.minimum(total, BEARING_SPAN_M)
    a = np.zeros_like(total) if at_start in (True, None) else total - span
    b = total if at_start is None else (span if at_start else total)
    p = shapely.get_coordinates(shapely.line_interpolate_point(lines, a))
    q = shapely.get_coordinates(shapely.line_interpolate_point(lines, b))
    return bearing_deg(q[:, 0] - p[:, 0], q[:, 1] - p[:, 1])


@dataclass(frozen=True, eq=False)
class _Chain:
    sightings: tuple[Sighting, ...]
    probabilities: tuple[float, ...]
    score: float
    end: ChainEnd | None


def follow(
    linker: Linker,
    seed: Sighting,
    *,
    forward: bool,
    threshold: float = 0.5,
    explore: float = 0.1,
    beam: int = 4,
    max_links: int = MAX_LINKS,
) -> tuple[list[Sighting], list[float], ChainEnd]:
    """Beam search one way in time from the seed; the best chain (seed excluded).

    Links down to ``explore`` are tried, but a chain is kept only as far as
    its summed log-odds keep rising: a weak link (below 0.5) survives only
    when strong links after it confirm it (e.g. a camera that saw the target
    badly, then two that saw it well). ``threshold`` is the least probability
    a link may have to end a chain.
    """
    live = [_Chain((seed,), (), 0.0, None)]
    done: list[_Chain] = []
    for _ in range(max_links):
        grown: list[_Chain] = []
        for chain in live:
            found = linker.candidates(chain.sightings[-1], forward=forward)
            good = np.flatnonzero(found.probability >= explore)
            if good.size == 0:
                done.append(_stopped(chain, found))
                continue
            for i in good.tolist():
                p = float(np.clip(found.probability[i], 1e-9, 1.0 - 1e-9))
                grown.append(
                    _Chain(
                        (*chain.sightings, found.sightings[i]),
                        (*chain.probabilities, p),
                        chain.score + math.log(p / (1.0 - p)),
                        None,
                    )
                )
        if not grown:
            break
        grown.sort(key=lambda c: -c.score)
        live = grown[:beam]
    else:
        end = ChainEnd("max_links", f"stopped after {max_links} links")
        done.extend(_Chain(c.sightings, c.probabilities, c.score, end) for c in live)
    return _best_prefix(done, threshold)


def _best_prefix(
    chains: list[_Chain], threshold: float
) -> tuple[list[Sighting], list[float], ChainEnd]:
    """The chain prefix with the highest summed log-odds whose last link is >= ``threshold``."""
    best: tuple[float, int, int] = (0.0, 0, 0)  # score, chain, links kept
    for index, chain in enumerate(chains):
        links = np.asarray(chain.probabilities, dtype=np.float64)
        cumulative = np.cumsum(np.log(links / (1.0 - links)))
        ok = np.flatnonzero(links >= threshold)
        if ok.size:
            k = int(ok[np.argmax(cumulative[ok])])
            if cumulative[k] > best[0]:
                best = (float(cumulative[k]), index, k + 1)
    _, index, kept = best
    chain = chains[index]
    if kept == len(chain.probabilities):
        end = chain.end or ChainEnd("no_candidate", "")
    else:
        nxt = chain.sightings[kept + 1]
        p = chain.probabilities[kept]
        end = ChainEnd(
            "no_candidate",
            f"the next link (to {nxt.camera_id}, p={p:.2f}) is not confirmed by later ones",
        )
    return list(chain.sightings[1 : kept + 1]), list(chain.probabilities[:kept]), end


def _stopped(chain: _Chain, found: Candidates) -> _Chain:
    """A chain that cannot grow, with the reason."""
    if found.end is not None:
        end = found.end
    else:
        best = int(np.argmax(found.probability))
        end = ChainEnd(
            "no_candidate",
            f"no candidate above threshold ({len(found.sightings)} scored; best "
            f"{found.probability[best]:.2f} at {found.sightings[best].camera_id})",
        )
    return _Chain(chain.sightings, chain.probabilities, chain.score, end)


def build_timeline(
    linker: Linker,
    seed_id: str,
    *,
    threshold: float = 0.5,
    explore: float = 0.1,
    beam: int = 4,
    max_links: int = MAX_LINKS,
) -> Timeline:
    """The seed's timeline: backward and forward chains joined at the seed (see :func:`follow`)."""
    seed = linker.source.get(seed_id)  # NotFoundError for an unknown id
    linker.check_camera(seed.camera_id)
    after, p_after, end = follow(
        linker,
        seed,
        forward=True,
        threshold=threshold,
        explore=explore,
        beam=beam,
        max_links=max_links,
    )
    before, p_before, start = follow(
        linker,
        seed,
        forward=False,
        threshold=threshold,
        explore=explore,
        beam=beam,
        max_links=max_links,
    )
    earlier = before[::-1]
    # p_before[i] links before[i] to the one after it in time (the seed for i = 0)
    probs_into: list[float | None] = [None, *p_before[::-1][:-1]] if earlier else []
    entries = [TimelineEntry(s, p) for s, p in zip(earlier, probs_into, strict=True)]
    entries.append(TimelineEntry(seed, p_before[0] if p_before else None))
    entries.extend(TimelineEntry(s, p) for s, p in zip(after, p_after, strict=True))
    return Timeline(seed_id, entries, start, end)


def labelled_pairs(
    linker: Linker, sightings: list[Sighting], truth: dict[str, int]
) -> LabelledPairs:
    """Every sighting's forward candidates, labelled from the simulator's truth map."""
    by_vehicle: dict[int, list[Sighting]] = {}
    for s in sorted(sightings, key=lambda s: (s.t_in, s.id)):
        by_vehicle.setdefault(truth[s.id], []).append(s)
    following = {a.id: b.id for run in by_vehicle.values() for a, b in pairwise(run)}
    parts = []
    for sighting in sightings:
        found = linker.pairs(sighting, forward=True)
        if isinstance(found, ChainEnd):
            continue
        candidates, early, late, paths, _ = found
        vehicle = truth[sighting.id]
        parts.append(
            LabelledPairs(
                early,
                late,
                paths,
                np.zeros(len(candidates), dtype=np.intp),
                np.array([c.id == following.get(sighting.id) for c in candidates], dtype=bool),
                np.array([truth[c.id] == vehicle for c in candidates], dtype=bool),
            )
        )
    return LabelledPairs.concat(parts)
