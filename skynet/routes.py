"""Route inference: the road path a target took between its linked sightings.

Between two consecutive sightings the candidates are road paths for the
target's class whose free-flow time the observed gap can explain
(:mod:`skynet._paths`: the k quickest on a small corridor, k diverse quick
ones on a large one, plus k diverse ones that shun the edges of online
cameras which saw nothing like the target, so the unwatched ways are always
among them). Each is scored by how well its time fits the gap
(driving at a plausible speed, or with a stop on the way) and by what the
cameras on it saw (:mod:`skynet._evidence`): an online camera that saw
nothing like the target makes a path less likely, a matching sighting more,
an offline one says nothing. Scores are normalised over the candidates into
probabilities. A timeline's route is the best path per leg; its alternatives
swap in the next-best path of one leg. ``shortest_path_route`` is the plain
baseline (quickest path per leg, no evidence).

Errors: sightings out of time order are :class:`BadInputError`; a leg no road
path can explain in time (:class:`ImpossibleLegError` from ``route_between``)
becomes a ``gap`` stretch of the timeline's route, its reason stated; a
sighting that cannot be placed on the roads is left out and listed in
``Route.skipped``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Final

import numpy as np
from numpy.typing import NDArray

from camera_registry.registry import CameraRegistry
from skynet._anchors import sighting_anchor
from skynet._evidence import (
    EvidenceParams,
    PathEvidence,
    SightingSource,
    path_evidence,
    silent_edges,
)
from skynet._paths import EXACT_LIMIT, CandidatePath, candidate_paths, class_travel_time
from skynet._route_shape import Route, Stretch, build_route
from skynet.errors import BadInputError, NotFoundError
from skynet.roads.cameras import CameraAttachment
from skynet.roads.network import RoadNetwork
from trackers.sighting import Sighting

__all__ = [
    "EvidenceParams",
    "ImpossibleLegError",
    "Route",
    "RouteLeg",
    "RouteParams",
    "SightingSource",
    "Stretch",
    "assemble_route",
    "edge_f1",
    "route_between",
    "route_timeline",
    "shortest_path_route",
    "time_fit",
]

IntArray = NDArray[np.intp]
FloatArray = NDArray[np.float64]
_NO_EVIDENCE: Final = PathEvidence((), (), (), 0.0)


@dataclass(frozen=True)
class RouteParams:
    """Search breadth, the speed model and the evidence weights."""

    k_paths: int = 8
    exact_limit: int = EXACT_LIMIT
    max_speed_ratio: float = 1.35
    pad_s: float = 10.0
    speed_sigma: float = 0.2
    stop_share: float = 0.2
    stop_mean_s: float = 300.0
    alternatives: int = 3
    use_evidence: bool = True
    evidence: EvidenceParams = field(default_factory=EvidenceParams)

    def __post_init__(self) -> None:
        if self.k_paths < 1:
            raise BadInputError("k_paths must be >= 1", field="k_paths")
        if not self.max_speed_ratio >= 1.0:
            raise BadInputError("max_speed_ratio must be >= 1", field="max_speed_ratio")
        if not (self.speed_sigma > 0.0 and self.stop_mean_s > 0.0 and 0 <= self.stop_share < 1):
            raise BadInputError("bad speed model parameters", field="speed_sigma")


@dataclass(frozen=True, eq=False)
class RouteLeg:
    """One candidate road path between two consecutive sightings, scored.

    ``edges`` runs from the edge ``start`` left on to the edge ``end`` entered
    on. ``note`` is set on a ``gap`` leg (no path fits the time; the quickest
    one is shown).
    """

    start: Sighting
    end: Sighting
    edges: IntArray
    length_m: float
    free_flow_s: float
    gap_s: float
    time_log: float
    evidence: PathEvidence
    probability: float
    note: str | None = None


class ImpossibleLegError(BadInputError):
    """No road path is quick enough for the time between two sightings."""


def time_fit(gap_s: float, free_flow_s: FloatArray, params: RouteParams) -> FloatArray:
    """Log density of the observed gap for paths of these free-flow times.

    Driving: the gap over free-flow time is log-normal around 1; stopping on
    the way (``stop_share``): free-flow time plus an exponential wait.
    """
    pad = params.pad_s
    ratio = np.log((gap_s + pad) / (np.asarray(free_flow_s) + pad))
    sigma = params.speed_sigma
    drive = np.exp(-0.5 * (ratio / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi) * (gap_s + pad))
    extra = gap_s - np.asarray(free_flow_s)
    wait = np.where(extra > 0, np.exp(-np.maximum(extra, 0) / params.stop_mean_s), 0.0)
    density = (1 - params.stop_share) * drive + params.stop_share * wait / params.stop_mean_s
    return np.asarray(np.log(density + 1e-300), dtype=np.float64)


def route_between(
    network: RoadNetwork,
    attachment: CameraAttachment,
    store: SightingSource,
    start: Sighting,
    end: Sighting,
    *,
    params: RouteParams | None = None,
    known: Collection[str] = (),
) -> list[RouteLeg]:
    """Candidate paths from ``start`` to ``end``, most probable first (probabilities sum to 1).

    ``known`` are ids of the target's other sightings (the rest of its
    timeline): they are not taken as evidence for this leg.

    Raises :class:`BadInputError` when the sightings run backwards in time or
    no road path is quick enough for the gap (the message says how fast it
    would have to be), :class:`NotFoundError` when no road path joins them.
    """
    params = params or RouteParams()
    _check_order(start, end)
    vehicle_class = _target_class(start, end)
    gap = max(end.t_in - start.t_out, 0.0)
    first = sighting_anchor(network, attachment, start, "exit")
    last = sighting_anchor(network, attachment, end, "entry")
    budget = (gap + params.pad_s) * params.max_speed_ratio
    shunned = partial(silent_edges, attachment, store, start, end, params.evidence, known)
    paths = candidate_paths(
        network,
        vehicle_class,
        first,
        last,
        budget_s=budget,
        k=params.k_paths,
        exact_limit=params.exact_limit,
        shunned=shunned if params.use_evidence else None,
    )
    if not paths:
        raise _unexplained(network, attachment, vehicle_class, start, end, gap)
    cost = class_travel_time(network, vehicle_class)
    times = np.array([p.time_s for p in paths])
    fit = time_fit(gap, times, params)
    evidence = path_evidence(
        network, attachment, store, paths, cost, start, end, params.evidence, known
    )
    score = fit + np.array([e.log_ratio for e in evidence]) * float(params.use_evidence)
    probability = np.exp(score - score.max())
    probability /= probability.sum()
    legs = [
        _leg(network, start, end, path, gap, float(f), e, float(p))
        for path, f, e, p in zip(paths, fit, evidence, probability, strict=True)
    ]
    return sorted(legs, key=lambda leg: -leg.probability)


def _leg(
    network: RoadNetwork,
    start: Sighting,
    end: Sighting,
    path: CandidatePath,
    gap: float,
    fit: float,
    evidence: PathEvidence,
    probability: float,
    note: str | None = None,
) -> RouteLeg:
    length = float(network.edges.length[path.edges].sum())
    length -= path.start_offset_m + network.edges.length[path.edges[-1]] - path.end_offset_m
    return RouteLeg(
        start, end, path.edges, max(length, 0.0), path.time_s, gap, fit, evidence, probability, note
    )


def _check_order(start: Sighting, end: Sighting) -> None:
    if end.t_in < start.t_in:
        msg = (
            f"sighting {end.id} at {end.t_in:.1f} s comes before sighting {start.id} "
            f"at {start.t_in:.1f} s: time runs backwards"
        )
        raise BadInputError(msg, record=end.id, field="t_in")


def _target_class(start: Sighting, end: Sighting) -> str:
    return start.vehicle_class if start.vehicle_class != "vehicle" else end.vehicle_class


def _unexplained(
    network: RoadNetwork,
    attachment: CameraAttachment,
    vehicle_class: str,
    start: Sighting,
    end: Sighting,
    gap: float,
) -> ImpossibleLegError | NotFoundError:
    """Why no candidate fits: no road at all, or a speed no vehicle of the class reaches."""
    quickest = _quickest(network, attachment, vehicle_class, start, end)
    if quickest is None:
        msg = f"no road path from camera {start.camera_id} to camera {end.camera_id}"
        return NotFoundError(msg)
    needed = quickest.time_s / max(gap, 1e-3)
    msg = (
        f"impossible speed from {start.camera_id} to {end.camera_id}: the quickest road path "
        f"takes {quickest.time_s:.0f} s at free flow for a {vehicle_class}, the sightings are "
        f"{gap:.0f} s apart ({needed:.1f}x free-flow speed)"
    )
    return ImpossibleLegError(msg, record=end.id, field="t_in")


def _quickest(
    network: RoadNetwork,
    attachment: CameraAttachment,
    vehicle_class: str,
    start: Sighting,
    end: Sighting,
) -> CandidatePath | None:
    """The quickest path between two sightings, whatever the time between them."""
    first = sighting_anchor(network, attachment, start, "exit")
    last = sighting_anchor(network, attachment, end, "entry")
    paths = candidate_paths(network, vehicle_class, first, last, budget_s=math.inf, k=1)
    return paths[0] if paths else None


def assemble_route(
    network: RoadNetwork,
    registry: CameraRegistry | None,
    legs: Sequence[Sequence[RouteLeg]],
    *,
    alternatives: int = 3,
) -> Route:
    """A timeline's route: the best candidate of every leg, alternatives from the runners-up."""
    if not legs or any(not candidates for candidates in legs):
        raise BadInputError("a route needs at least one leg, each with a candidate", field="legs")
    best = [candidates[0] for candidates in legs]
    route = build_route(network, registry, best)
    swaps = [
        (route.probability / max(best[i].probability, 1e-300) * leg.probability, i, j)
        for i, candidates in enumerate(legs)
        for j, leg in enumerate(candidates)
        if j > 0
    ]
    swaps.sort(key=lambda swap: -swap[0])
    others = []
    for _, i, j in swaps[:alternatives]:
        chosen = list(best)
        chosen[i] = legs[i][j]
        others.append(build_route(network, registry, chosen))
    return replace(route, alternatives=tuple(others))


def route_timeline(
    network: RoadNetwork,
    attachment: CameraAttachment,
    registry: CameraRegistry | None,
    store: SightingSource,
    sightings: Sequence[Sighting],
    *,
    params: RouteParams | None = None,
) -> Route:
    """The route of a timeline (sightings in time order), alternatives ranked.

    A leg no path explains in time becomes a ``gap`` stretch over the quickest
    path, its reason in the note. A sighting that cannot be placed on the road
    graph (camera off the roads, unknown camera or edge) is left out and listed
    in ``Route.skipped``; fewer than two placeable sightings is an error.
    """
    params = params or RouteParams()
    _checked_timeline(sightings)
    placed, skipped = _placeable(network, attachment, sightings)
    ordered = _checked_timeline(placed, skipped)
    known = frozenset(s.id for s in sightings)
    legs = []
    for start, end in itertools.pairwise(ordered):
        try:
            legs.append(
                route_between(network, attachment, store, start, end, params=params, known=known)
            )
        except ImpossibleLegError as exc:
            legs.append([_gap_leg(network, attachment, start, end, exc.reason)])
    route = assemble_route(network, registry, legs, alternatives=params.alternatives)
    return replace(route, skipped=tuple(skipped))


def _placeable(
    network: RoadNetwork, attachment: CameraAttachment, sightings: Sequence[Sighting]
) -> tuple[list[Sighting], list[tuple[str, str]]]:
    """Sightings that anchor on the road graph, and (id, reason) for those that do not."""
    placed, skipped = [], []
    for sighting in sightings:
        try:
            sighting_anchor(network, attachment, sighting, "entry")
            sighting_anchor(network, attachment, sighting, "exit")
        except (BadInputError, NotFoundError) as exc:
            skipped.append(
                (sighting.id, exc.reason if isinstance(exc, BadInputError) else str(exc))
            )
            continue
        placed.append(sighting)
    return placed, skipped


def _checked_timeline(
    sightings: Sequence[Sighting], skipped: Sequence[tuple[str, str]] = ()
) -> list[Sighting]:
    ordered = list(sightings)
    if len(ordered) < 2:
        msg = f"a route needs at least two sightings on the road graph, got {len(ordered)}"
        if skipped:
            msg += "; left out: " + "; ".join(f"{i}: {why}" for i, why in skipped)
        raise BadInputError(msg, field="sightings")
    for start, end in itertools.pairwise(ordered):
        _check_order(start, end)
    return ordered


def _gap_leg(
    network: RoadNetwork,
    attachment: CameraAttachment,
    start: Sighting,
    end: Sighting,
    reason: str,
) -> RouteLeg:
    """A leg no path explains: the quickest path, marked, with probability 1 of 1."""
    path = _quickest(network, attachment, _target_class(start, end), start, end)
    if path is None:
        raise NotFoundError(reason)
    gap = max(end.t_in - start.t_out, 0.0)
    return _leg(network, start, end, path, gap, -math.inf, _NO_EVIDENCE, 1.0, note=reason)


def shortest_path_route(
    network: RoadNetwork,
    attachment: CameraAttachment,
    registry: CameraRegistry | None,
    sightings: Sequence[Sighting],
) -> Route:
    """Baseline: the quickest path between consecutive sightings, no evidence, no alternatives."""
    ordered = _checked_timeline(sightings)
    legs = []
    for start, end in itertools.pairwise(ordered):
        path = _quickest(network, attachment, _target_class(start, end), start, end)
        if path is None:
            msg = f"no road path from camera {start.camera_id} to camera {end.camera_id}"
            raise NotFoundError(msg)
        gap = max(end.t_in - start.t_out, 0.0)
        legs.append([_leg(network, start, end, path, gap, 0.0, _NO_EVIDENCE, 1.0)])
    return assemble_route(network, registry, legs, alternatives=0)


def edge_f1(
    network: RoadNetwork, predicted: Sequence[int] | IntArray, truth: Sequence[int] | IntArray
) -> tuple[float, float, float]:
    """Length-weighted precision, recall and F1 of predicted directed edge rows against truth."""
    mine = np.unique(np.asarray(predicted, dtype=np.intp))
    true = np.unique(np.asarray(truth, dtype=np.intp))
    length = network.edges.length
    common = float(length[np.intersect1d(mine, true)].sum())
    precision = common / float(length[mine].sum()) if mine.size else 0.0
    recall = common / float(length[true].sum()) if true.size else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return precision, recall, f1
