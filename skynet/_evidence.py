"""Negative (and positive) evidence: what the cameras on a candidate path saw.

For each candidate path, every camera watching one of its directed edges
(other than the two cameras of the leg) has a window: when the target would
pass its watched span, interpolated along the path so that the whole path
fills the observed gap, widened by a tolerance. An online camera whose
window holds a similar sighting of a compatible class is evidence for the
path; one whose window holds none is evidence against it (it would have seen
the target with probability ``1 - miss_probability``). An offline camera
says nothing. Evidence enters as a likelihood ratio against a path that
does not pass the camera, where a match would be a look-alike
(``false_match_probability``); so paths without cameras are neutral, not
favoured.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from skynet._paths import CandidatePath
from skynet.errors import BadInputError
from skynet.roads.cameras import CameraAttachment
from skynet.roads.network import RoadNetwork
from trackers.sighting import Sighting

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


class SightingSource(Protocol):
    """What route inference needs of a store (``SightingStore`` fits)."""

    def find(
        self,
        *,
        camera_ids: Iterable[str] | None = None,
        start_s: float | None = None,
        end_s: float | None = None,
        ids: Iterable[str] | None = None,
    ) -> list[Sighting]: ...


@dataclass(frozen=True)
class EvidenceParams:
    """How much a camera's silence or sighting weighs, and what counts as a match."""

    miss_probability: float = 0.15
    false_match_probability: float = 0.05
    similarity_threshold: float = 0.8
    tolerance_s: float = 30.0
    tolerance_share: float = 0.2
    rate_window_s: float = 1800.0

    def __post_init__(self) -> None:
        for name in ("miss_probability", "false_match_probability"):
            value = getattr(self, name)
            if not 0.0 < value < 1.0:
                msg = f"{name} must lie strictly between 0 and 1, got {value}"
                raise BadInputError(msg, field=name)
        if self.tolerance_s < 0.0 or self.tolerance_share < 0.0:
            raise BadInputError("tolerances must be >= 0", field="tolerance_s")

    @property
    def silent_log(self) -> float:
        return math.log(self.miss_probability / (1.0 - self.false_match_probability))

    @property
    def match_log(self) -> float:
        return math.log((1.0 - self.miss_probability) / self.false_match_probability)

    def logs(self, false_match: float) -> tuple[float, float]:
        """(match, silent) log likelihood ratios at a camera with this false-match chance."""
        p = min(max(false_match, self.false_match_probability), 0.95)
        miss = self.miss_probability
        return math.log((1.0 - miss) / p), math.log(miss / (1.0 - p))


@dataclass(frozen=True)
class PathEvidence:
    """What the cameras along one path said, and its log likelihood ratio."""

    silent: tuple[str, ...]
    matched: tuple[tuple[str, str, float], ...]  # camera id, sighting id, t_in
    offline: tuple[str, ...]
    log_ratio: float


@dataclass(frozen=True, eq=False)
class _Passes:
    """One row per (path, pair): which path, which camera row, when the target would pass."""

    path: IntArray
    camera: IntArray
    time_s: FloatArray


def path_evidence(
    network: RoadNetwork,
    attachment: CameraAttachment,
    store: SightingSource,
    paths: Sequence[CandidatePath],
    cost: FloatArray,
    start: Sighting,
    end: Sighting,
    params: EvidenceParams,
    known: Collection[str] = (),
) -> list[PathEvidence]:
    """The evidence of every candidate path of one leg (one store query for all).

    ``known``: ids of sightings already placed elsewhere on the target's
    timeline; they say where the target was at other times, not on this leg.
    """
    gap = max(end.t_in - start.t_out, 0.0)
    passes = _passes(network, attachment, paths, cost, start, end, gap)
    tolerance = params.tolerance_s + params.tolerance_share * gap
    online = attachment.online[passes.camera]
    matched = np.zeros(passes.path.size, dtype=bool)
    witness = np.full(passes.path.size, -1, dtype=np.intp)
    candidates: list[Sighting] = []
    chance: dict[str, float] = {}
    if online.any():
        cameras = np.unique(passes.camera[online])
        first = float(passes.time_s[online].min() - tolerance)
        last = float(passes.time_s[online].max() + tolerance)
        found = store.find(
            camera_ids=attachment.camera_ids[cameras].tolist(),
            start_s=first - params.rate_window_s,
            end_s=last + params.rate_window_s,
        )
        excluded = {start.id, end.id, *known}
        candidates = _similar([s for s in found if s.id not in excluded], start, end, params)
        matched, witness = _match(attachment, passes, candidates, tolerance)
        matched &= online
        chance = _false_match_chance(candidates, last - first + 2 * params.rate_window_s, tolerance)
    return [
        _summarise(attachment, passes, online, matched, witness, candidates, index, params, chance)
        for index in range(len(paths))
    ]


def _false_match_chance(
    similar: Sequence[Sighting], span_s: float, tolerance_s: float
) -> dict[str, float]:
    """Per camera, the chance that a look-alike falls in a pass window by itself.

    Estimated from how often sightings like the target pass that camera over
    the queried span (Poisson): a town camera where similar vehicles pass
    every few minutes says little by showing one in a ten-minute window; a
    lane camera that sees one an hour says a lot.
    """
    counts: dict[str, int] = {}
    for s in similar:
        counts[s.camera_id] = counts.get(s.camera_id, 0) + 1
    window = 2.0 * tolerance_s
    return {c: 1.0 - math.exp(-n / max(span_s, 1.0) * window) for c, n in counts.items()}


def silent_edges(
    attachment: CameraAttachment,
    store: SightingSource,
    start: Sighting,
    end: Sighting,
    params: EvidenceParams,
    known: Collection[str],
    corridor: IntArray,
) -> IntArray:
    """Edge rows of the corridor watched by online cameras that saw nothing like the target.

    One store query for all the corridor's cameras over the whole gap; a path
    search that shuns these edges finds the unwatched ways a fleeing vehicle takes.
    """
    legs = attachment.camera_rows([start.camera_id, end.camera_id])
    pairs = np.unique(attachment.rows_watching(np.unique(corridor)))  # a pair watches one edge
    pairs = pairs[attachment.online[attachment.camera[pairs]]]
    pairs = pairs[~np.isin(attachment.camera[pairs], legs)]
    if pairs.size == 0:
        return np.empty(0, dtype=np.intp)
    cameras = attachment.camera_ids[np.unique(attachment.camera[pairs])].tolist()
    found = store.find(
        camera_ids=cameras,
        start_s=start.t_out - params.tolerance_s,
        end_s=end.t_in + params.tolerance_s,
    )
    excluded = {start.id, end.id, *known}
    witnesses = {
        s.camera_id
        for s in _similar([s for s in found if s.id not in excluded], start, end, params)
    }
    silent = ~np.isin(attachment.camera[pairs], attachment.camera_rows(sorted(witnesses)))
    return np.unique(attachment.edge[pairs[silent]]).astype(np.intp)


def _passes(
    network: RoadNetwork,
    attachment: CameraAttachment,
    paths: Sequence[CandidatePath],
    cost: FloatArray,
    start: Sighting,
    end: Sighting,
    gap: float,
) -> _Passes:
    """Expected passing time at every watched span of every path."""
    legs = attachment.camera_rows([start.camera_id, end.camera_id])
    lengths = network.edges.length
    path_rows, camera_rows, times = [], [], []
    for index, path in enumerate(paths):
        pairs = np.unique(attachment.rows_watching(np.unique(path.edges)))  # in pair order
        pairs = pairs[~np.isin(attachment.camera[pairs], legs)]
        if pairs.size == 0:
            continue
        order = np.argsort(path.edges)
        position = order[np.searchsorted(path.edges[order], attachment.edge[pairs])]
        edge_time = cost[path.edges]
        before = np.concatenate([[0.0], np.cumsum(edge_time)[:-1]])
        middle = 0.5 * (attachment.start_m[pairs] + attachment.end_m[pairs])
        along = before[position] + middle / lengths[attachment.edge[pairs]] * edge_time[position]
        along -= path.start_offset_m / lengths[path.edges[0]] * edge_time[0]
        # spans behind the start or beyond the end belong to the legs before or after
        inside = (along >= 0.0) & (along <= path.time_s)
        pairs, along = pairs[inside], along[inside]
        share = along / path.time_s if path.time_s > 0 else np.zeros(pairs.size)
        path_rows.append(np.full(pairs.size, index, dtype=np.intp))
        camera_rows.append(attachment.camera[pairs])
        times.append(start.t_out + share * gap)
    if not path_rows:
        empty = np.empty(0, dtype=np.intp)
        return _Passes(empty, empty, np.empty(0, dtype=np.float64))
    return _Passes(np.concatenate(path_rows), np.concatenate(camera_rows), np.concatenate(times))


def _similar(
    found: Sequence[Sighting], start: Sighting, end: Sighting, params: EvidenceParams
) -> list[Sighting]:
    """Sightings that could be the target: compatible class and similar appearance."""
    others = list(found)
    if not others:
        return []
    vectors = np.stack([s.appearance for s in others]).astype(np.float64)
    reference = np.stack([start.appearance, end.appearance]).astype(np.float64)
    similarity = (vectors @ reference.T).max(axis=1)
    target_classes = {start.vehicle_class, end.vehicle_class}
    return [
        s
        for s, value in zip(others, similarity.tolist(), strict=True)
        if value >= params.similarity_threshold and _compatible(s.vehicle_class, target_classes)
    ]


def _compatible(vehicle_class: str, target_classes: set[str]) -> bool:
    return (
        vehicle_class == "vehicle" or "vehicle" in target_classes or vehicle_class in target_classes
    )


def _match(
    attachment: CameraAttachment,
    passes: _Passes,
    candidates: Sequence[Sighting],
    tolerance: float,
) -> tuple[NDArray[np.bool_], IntArray]:
    """For every pass, whether a candidate sighting of that camera overlaps its window."""
    none = np.full(passes.path.size, -1, dtype=np.intp)
    if not candidates:
        return np.zeros(passes.path.size, dtype=bool), none
    camera = attachment.camera_rows([s.camera_id for s in candidates])
    t_in = np.array([s.t_in for s in candidates])
    t_out = np.array([s.t_out for s in candidates])
    low, high = passes.time_s - tolerance, passes.time_s + tolerance
    hits = (
        (passes.camera[:, None] == camera[None, :])
        & (t_in[None, :] <= high[:, None])
        & (t_out[None, :] >= low[:, None])
    )
    distance = np.abs(0.5 * (t_in + t_out)[None, :] - passes.time_s[:, None])
    nearest = np.argmin(np.where(hits, distance, np.inf), axis=1)
    matched = hits.any(axis=1)
    return matched, np.where(matched, nearest, none).astype(np.intp)


def _summarise(
    attachment: CameraAttachment,
    passes: _Passes,
    online: NDArray[np.bool_],
    matched: NDArray[np.bool_],
    witness: IntArray,
    candidates: Sequence[Sighting],
    index: int,
    params: EvidenceParams,
    chance: dict[str, float],
) -> PathEvidence:
    """One path's cameras: each counted once, matched if any of its spans matched; each
    weighed by its own chance of a false match (:func:`_false_match_chance`)."""
    mine = passes.path == index
    ids = attachment.camera_ids
    seen: dict[str, tuple[str, str, float]] = {}
    for camera, hit in zip(
        passes.camera[mine & matched].tolist(), witness[mine & matched].tolist(), strict=True
    ):
        sighting = candidates[hit]
        seen.setdefault(str(ids[camera]), (str(ids[camera]), sighting.id, sighting.t_in))
    watching = {str(ids[c]) for c in passes.camera[mine & online].tolist()}
    silent = tuple(sorted(watching - set(seen)))
    offline = tuple(sorted({str(ids[c]) for c in passes.camera[mine & ~online].tolist()}))
    log_ratio = sum(params.logs(chance.get(c, 0.0))[0] for c in seen)
    log_ratio += sum(params.logs(chance.get(c, 0.0))[1] for c in silent)
    return PathEvidence(silent, tuple(seen.values()), offline, log_ratio)
