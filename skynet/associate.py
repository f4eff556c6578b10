"""Whole-city association: every sighting of a time span linked into vehicle tracks at once.

A timeline follows one target from a seed; an analyst wants every vehicle.
Each sighting's candidates, later and earlier, are scored by the timeline's
:class:`~skynet.timeline.Linker` (the same calibrated link probabilities:
the candidates of one sighting compete with each other and with "not seen
again"), and a pair's probability is the geometric mean of what its two
ends say. Sightings of one passage by two cameras with overlapping views,
which the linker skips on purpose, are paired here (:func:`overlap_links`).
The day model's probabilities are then recalibrated for city density by
the pair's time gap and the likely rivals at its two ends
(:mod:`skynet._association_calibration`: a link ten minutes long is far less
often right than its score says), and, after a first assignment, round by
round by the tracks each link would join: their mean appearance (far surer
than one frame's) and their drivers' pace (:mod:`skynet._association_pace`).
Each time one global assignment picks at most
one successor and one predecessor per sighting, maximising the summed
log-odds of the links it keeps (scipy's sparse min-cost bipartite
matching): two sightings that both claim one later sighting are settled by
the whole span, not by who came first. Chains of links are the tracks.

Scoring is most of the work. It runs in bulk (:mod:`skynet._association_batch`:
the linker's steps for all sightings at once, each view's roads measured
once, candidates by one sorted search; the same links as the linker's, about
a millisecond of CPU a sighting instead of 10-22, with twice its shortlist
of candidates measured per ring: :data:`SHORTLIST`), in a process pool over
contiguous shares of the sightings (forked: the workers inherit the tables).
:func:`score_candidates` is the linker's own, sighting by sighting (kept to
check the bulk scorer against).
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Final

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components, min_weight_full_bipartite_matching

from skynet._association_batch import CHUNK, BatchSightings, context, score_all
from skynet._association_calibration import (
    RESTITCHED_THRESHOLD,
    TRACK_CALIBRATION,
    class_codes,
    recalibrated,
    restitched,
    whitened,
)
from skynet._association_pace import sighting_pace
from skynet.audit import AuditLog, Purpose
from skynet.cases import CaseStore
from skynet.errors import BadInputError
from skynet.investigate import Investigation, check_window
from skynet.linking import LINK_MODELS, LinkModel, PairPaths, SightingArrays, score_links
from skynet.timeline import ChainEnd, Linker, SightingPool, Timeline, TimelineEntry
from skynet.times import format_time
from trackers.sighting import Sighting

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
#: A link is kept only when the assignment gains by it: its (two-sided) probability
#: above this, its gain the log-odds above this one's. Low, because a track cut in
#: two costs IDF1 as much as a wrong link. On the county by day (220 cameras, 4,000
#: vehicles, one hour; ``benchmarks/bench_associate.py``) IDF1 was 0.803 at 0.05,
#: 0.819 at 0.1, 0.811 at 0.2, 0.796 at 0.3 and 0.721 at 0.5.
LINK_THRESHOLD: Final = 0.1
#: Candidates scored below this never reach the assignment (they cannot win it).
LEAST_CANDIDATE_P: Final = 0.01
#: Sightings per task handed to a scoring worker (progress is reported per task).
TASK_SIZE: Final = 200
#: Candidates per sighting and ring that the link model scores (the best by rough
#: score): twice the timeline linker's. Following one target, the linker's 96 are
#: plenty; at city density (the county, 9,896 sightings an hour) its rough score,
#: blind to direction and cameras passed, left 147 of 8,523 true next sightings
#: outside them (104 of them inside 192).
SHORTLIST: Final = 192
#: Seconds by which two views of one edge may be apart and still show one passage.
OVERLAP_SLACK_S: Final = 3.0

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True, eq=False)
class CandidateLinks:
    """Scored forward links between sightings, by row in the association's sighting list."""

    early: IntArray
    late: IntArray
    probability: FloatArray

    def __len__(self) -> int:
        return int(self.early.shape[0])

    @classmethod
    def concat(cls, parts: Sequence[CandidateLinks]) -> CandidateLinks:
        """All parts' links, sorted by (early, late); a pair in several keeps its best."""
        early = np.concatenate([p.early for p in parts]).astype(np.intp)
        late = np.concatenate([p.late for p in parts]).astype(np.intp)
        p = np.concatenate([p.probability for p in parts])
        order = np.lexsort((-p, late, early))
        early, late, p = early[order], late[order], p[order]
        first = np.r_[True, (np.diff(early) != 0) | (np.diff(late) != 0)][: early.size]
        return cls(early[first], late[first], p[first])

    @classmethod
    def two_sided(
        cls, early: IntArray, late: IntArray, p_forward: FloatArray, p_backward: FloatArray
    ) -> CandidateLinks:
        """One link per pair: the geometric mean of what its two ends say.

        Going forward, ``late`` competes with the other sightings ``early`` could
        lead to; going back, ``early`` with the others that could lead to
        ``late``. Rows hold one direction each (0 in the other column). A pair
        only one end scored (the other's search stopped at a nearer likely
        candidate, or scored it below :data:`LEAST_CANDIDATE_P`) gets half that
        end's probability: the silence of the other end counts against it, but
        less than a low score would.
        """
        if early.size == 0:
            return cls.empty()
        n = int(max(early.max(), late.max())) + 1
        keys, row = np.unique(early * n + late, return_inverse=True)
        forward = np.zeros(keys.size)
        backward = np.zeros(keys.size)
        np.maximum.at(forward, row, p_forward)
        np.maximum.at(backward, row, p_backward)
        both = np.sqrt(forward * backward)
        one = np.maximum(forward, backward) / 2.0
        probability = np.where((forward > 0.0) & (backward > 0.0), both, one)
        return cls((keys // n).astype(np.intp), (keys % n).astype(np.intp), probability)

    @classmethod
    def empty(cls) -> CandidateLinks:
        return cls(np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp), np.empty(0))


@dataclass(frozen=True, eq=False)
class Association:
    """Every sighting's track and the probability of the link that reached it (NaN: first)."""

    sightings: list[Sighting]
    track: IntArray
    link_probability: FloatArray
    candidates: int
    #: The scored links the assignment chose from (rows as in ``sightings``).
    links: CandidateLinks | None = None

    @property
    def n_tracks(self) -> int:
        return int(self.track.max()) + 1 if self.track.size else 0

    def tracks(self) -> list[IntArray]:
        """Row indices of each track's sightings, in time order (tracks by first sighting)."""
        order = np.lexsort((self._t_in(), self.track))
        bounds = np.flatnonzero(np.diff(self.track[order])) + 1
        return list(np.split(order, bounds)) if order.size else []

    def timelines(self, *, least: int = 2) -> list[Timeline]:
        """Tracks of at least ``least`` sightings as timelines (seeded at their first)."""
        start = ChainEnd("no_candidate", "association: no likely earlier sighting in the span")
        end = ChainEnd("no_candidate", "association: no likely later sighting in the span")
        out = []
        for rows in self.tracks():
            if rows.shape[0] < least:
                continue
            entries = [
                TimelineEntry(
                    self.sightings[int(r)],
                    None if math.isnan(p) else float(p),
                )
                for r, p in zip(rows.tolist(), self.link_probability[rows].tolist(), strict=True)
            ]
            out.append(Timeline(entries[0].sighting.id, entries, start, end))
        return out

    def _t_in(self) -> FloatArray:
        return np.array([s.t_in for s in self.sightings], dtype=np.float64)


def associate(
    linker: Linker,
    sightings: Sequence[Sighting],
    *,
    threshold: float = LINK_THRESHOLD,
    workers: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> Association:
    """Link ``sightings`` (any order) into tracks; see the module docstring."""
    _check_threshold(threshold)
    ordered = in_time_order(sightings)
    if not ordered:
        return associate_links(ordered, CandidateLinks.empty(), threshold=threshold)
    batch = BatchSightings.of(linker, ordered)
    links = batch_links(linker, batch, workers=workers, on_progress=on_progress)
    day = np.array([m is LINK_MODELS["day"] for m in batch.models])[batch.model]
    return associate_links(
        ordered, links, threshold=threshold, recalibrate=day, pace=paces_of(linker, batch),
        arrays=batch.arrays,
    )  # fmt: skip


def paces_of(linker: Linker, batch: BatchSightings) -> FloatArray:
    """Each row's log pace on the linker's roads (:func:`sighting_pace`)."""
    speed = batch.speed_mps if batch.speed_mps is not None else np.full(len(batch), np.nan)
    return sighting_pace(
        linker.network, batch.arrays.classes, speed, batch.exit_edge, batch.entry_edge
    )


def _check_threshold(threshold: float) -> None:
    if not 0.0 < threshold < 1.0:
        msg = f"threshold {threshold} is not a probability in (0, 1)"
        raise BadInputError(msg, field="threshold")


def in_time_order(sightings: Sequence[Sighting]) -> list[Sighting]:
    """The sightings by ``(t_in, id)``: the row order of every association array."""
    ordered = sorted(sightings, key=lambda s: (s.t_in, s.id))
    if len({s.id for s in ordered}) != len(ordered):
        raise BadInputError("the same sighting id appears twice", field="sightings")
    return ordered


def candidate_links(
    linker: Linker,
    ordered: Sequence[Sighting],
    *,
    workers: int | None = None,
    on_progress: ProgressCallback | None = None,
    shortlist: int = SHORTLIST,
) -> CandidateLinks:
    """Every scored link between ``ordered`` (:func:`in_time_order`) rows: the linker's
    candidates both ways (scored in bulk, ``shortlist`` a ring) and the overlapping
    views' pairs. Nearly all of the run time."""
    _worker_count(workers, 1)
    if not ordered:
        return CandidateLinks.empty()
    batch = BatchSightings.of(linker, ordered)
    return batch_links(linker, batch, workers=workers, on_progress=on_progress, shortlist=shortlist)


def batch_links(
    linker: Linker,
    batch: BatchSightings,
    *,
    workers: int | None = None,
    on_progress: ProgressCallback | None = None,
    shortlist: int = SHORTLIST,
) -> CandidateLinks:
    """:func:`candidate_links` of sightings held as columns (a million need no objects)."""
    ctx = context(linker, batch, shortlist=shortlist)
    count = _worker_count(workers, math.ceil(len(batch) / CHUNK))
    early, late, p_forward, p_backward = score_all(ctx, workers=count, on_progress=on_progress)
    scored = CandidateLinks.two_sided(early, late, p_forward, p_backward)
    overlap = overlap_arrays(batch.arrays, batch.exit_edge, batch.entry_edge, batch.model,
                             batch.models)  # fmt: skip
    return CandidateLinks.concat([scored, overlap])


def associate_links(
    ordered: Sequence[Sighting],
    links: CandidateLinks,
    *,
    threshold: float = LINK_THRESHOLD,
    recalibrate: bool | NDArray[np.bool_] = True,
    restitch: bool = True,
    pace: FloatArray | None = None,
    arrays: SightingArrays | None = None,
) -> Association:
    """Tracks from scored links (:func:`candidate_links`): the global assignment, its chains.

    Apart from scoring so that each part can be timed, and the assignment rerun on
    kept links (a million sightings' links are assigned in seconds). ``recalibrate``
    (all rows, none, or per early row: those the day model scored, for which it was
    fitted): the links' probabilities recalibrated by gap and rivals first, then
    (``restitch``) by the appearance of the tracks they join
    (:mod:`skynet._association_calibration`); the association keeps the links as scored.
    ``pace``: each row's log pace (:func:`~skynet._association_pace.sighting_pace`; none
    known when not given); ``arrays``: the rows' columns when already
    built (:class:`~skynet._association_batch.BatchSightings` holds them).
    """
    _check_threshold(threshold)
    ordered = list(ordered)
    columns = arrays if arrays is not None else SightingArrays.from_sightings(ordered)
    keep = bool(ordered) and restitch
    track, into = assign_tracks(
        columns.t_in, columns.t_out, links, threshold=threshold, recalibrate=recalibrate,
        appearance=columns.appearance if keep else None,
        classes=columns.classes if keep else None,
        cameras=columns.camera_ids if keep else None,
        pace=pace,
    )  # fmt: skip
    return Association(ordered, track, into, len(links), links)


def assign_tracks(
    t_in: FloatArray,
    t_out: FloatArray,
    links: CandidateLinks,
    *,
    threshold: float = LINK_THRESHOLD,
    recalibrate: bool | NDArray[np.bool_] = True,
    appearance: NDArray[np.floating] | None = None,
    classes: NDArray[np.str_] | None = None,
    cameras: NDArray[np.str_] | None = None,
    pace: FloatArray | None = None,
    restitched_threshold: float = RESTITCHED_THRESHOLD,
) -> tuple[IntArray, FloatArray]:
    """:func:`associate_links` on the rows' columns alone: each row's track, and the
    probability of the link that reached it (NaN: a track's first). With ``appearance``
    ``classes`` and ``cameras`` (the rows' vectors, class names and camera ids) the
    recalibrated links are then
    restitched by the appearance of the tracks they join, round by round
    (:data:`TRACK_CALIBRATION`), and by their paces (``pace``: each row's log pace, NaN
    where unknown; none known when not given). Each round's tracks are assigned at
    ``threshold``; the last round's links, probabilities of being right, are kept above
    ``restitched_threshold`` (fitted with them), the others above ``threshold``."""
    _check_threshold(threshold)
    _check_threshold(restitched_threshold)
    n = int(t_in.shape[0])
    chosen = links
    bar: float | FloatArray = threshold
    rows = np.broadcast_to(np.asarray(recalibrate, dtype=bool), (n,))
    mine = rows[links.early]
    if len(links) and rows.any():
        gap = t_in[links.late] - t_out[links.early]
        p = recalibrated(links.probability, links.early, links.late, gap, n)
        chosen = CandidateLinks(links.early, links.late, np.where(mine, p, links.probability))
        if appearance is not None and classes is not None and cameras is not None:
            white, kind = whitened(appearance), class_codes(classes)
            camera = np.unique(cameras, return_inverse=True)[1].reshape(-1).astype(np.intp)
            paces = np.full(n, np.nan) if pace is None else np.asarray(pace, dtype=np.float64)
            for weights in TRACK_CALIBRATION:
                track = track_labels(assign(n, chosen, threshold=threshold))
                p = restitched(
                    links.probability, links.early, links.late, gap, white, t_in, track, kind,
                    camera, paces, weights,
                )  # fmt: skip
                p = np.where(mine, p, links.probability)
                chosen = CandidateLinks(links.early, links.late, p)
            bar = np.where(mine, restitched_threshold, threshold)
    successor = assign(n, chosen, threshold=bar)
    into = np.full(n, np.nan)
    linked = np.flatnonzero(successor >= 0)
    at = np.searchsorted(chosen.early * n + chosen.late, linked * n + successor[linked])
    into[successor[linked]] = chosen.probability[at]
    return track_labels(successor), into


def score_candidates(
    linker: Linker,
    sightings: Sequence[Sighting],
    *,
    workers: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> CandidateLinks:
    """Every pair of ``sightings`` that either end's candidates hold, scored from both
    ends (:meth:`CandidateLinks.two_sided`) by the linker, sighting by sighting: what
    the bulk scorer (:func:`candidate_links`) is checked against."""
    n = len(sightings)
    # contiguous shares in time: a worker's window cache and road searches stay warm
    tasks = np.array_split(np.arange(n), math.ceil(n / TASK_SIZE)) if n else []
    row_of = {s.id: i for i, s in enumerate(sightings)}
    count = _worker_count(workers, len(tasks))
    parts: list[tuple[IntArray, IntArray, FloatArray, FloatArray]] = []
    done = 0
    report = on_progress or (lambda _done, _total: None)
    report(0, n)
    if count <= 1:
        for rows in tasks:
            parts.append(_score_rows(linker, sightings, row_of, rows))
            done += rows.size
            report(done, n)
    else:
        global _SHARED
        _SHARED = (linker, sightings, row_of)
        try:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(count, mp_context=context) as pool:
                futures = {pool.submit(_score_shared, rows): rows.size for rows in tasks}
                for future in as_completed(futures):
                    parts.append(future.result())
                    done += futures[future]
                    report(done, n)
        finally:
            _SHARED = None
    if not parts:
        return CandidateLinks.empty()
    early, late, p_forward, p_backward = (
        np.concatenate(column) for column in zip(*parts, strict=True)
    )
    return CandidateLinks.two_sided(early, late, p_forward, p_backward)


_SHARED: tuple[Linker, Sequence[Sighting], dict[str, int]] | None = None


def _score_shared(rows: IntArray) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """A pool worker's task: the linker and sightings are the parent's, inherited by fork."""
    assert _SHARED is not None
    return _score_rows(*_SHARED, rows)


def _score_rows(
    linker: Linker, sightings: Sequence[Sighting], row_of: dict[str, int], rows: IntArray
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """The rows' links to later (forward) and earlier (backward) sightings in the span:
    ``(early, late, forward p, backward p)``, one row per pair and direction asked."""
    early: list[int] = []
    late: list[int] = []
    p_forward: list[float] = []
    p_backward: list[float] = []
    for row in rows.tolist():
        for forward in (True, False):
            found = linker.candidates(sightings[row], forward=forward)
            for i in np.flatnonzero(found.probability >= LEAST_CANDIDATE_P).tolist():
                other = row_of.get(found.sightings[i].id)
                if other is None:  # outside the association's span
                    continue
                p = float(found.probability[i])
                early.append(row if forward else other)
                late.append(other if forward else row)
                p_forward.append(p if forward else 0.0)
                p_backward.append(0.0 if forward else p)
    return (
        np.asarray(early, dtype=np.intp),
        np.asarray(late, dtype=np.intp),
        np.asarray(p_forward, dtype=np.float64),
        np.asarray(p_backward, dtype=np.float64),
    )


def overlap_links(linker: Linker, sightings: Sequence[Sighting]) -> CandidateLinks:
    """Links between sightings (in time order) of one passage seen by two cameras whose
    views overlap.

    The linker looks for the *next* stretch a vehicle drives and skips cameras
    watching the same one; here a later sighting that entered on the edge this
    one left on, while this one was still in view (give or take
    :data:`OVERLAP_SLACK_S`), is scored with the same model as a trip of no
    length, such candidates competing per sighting.
    """
    if not sightings:
        return CandidateLinks.empty()
    chosen = [linker.model_for(s) for s in sightings]
    models = tuple({id(m): m for m in chosen}.values())
    index = {id(m): i for i, m in enumerate(models)}
    return overlap_arrays(
        SightingArrays.from_sightings(list(sightings)),
        np.array([s.exit_edge or "" for s in sightings], dtype=str),
        np.array([s.entry_edge or "" for s in sightings], dtype=str),
        np.array([index[id(m)] for m in chosen], dtype=np.intp),
        models,
    )


def overlap_arrays(
    arrays: SightingArrays,
    exit_edge: NDArray[np.str_],
    entry_edge: NDArray[np.str_],
    model: IntArray,
    models: Sequence[LinkModel],
) -> CandidateLinks:
    """:func:`overlap_links` of sightings held as columns (``model``: each row's, an index
    into ``models``)."""
    if len(arrays) == 0:
        return CandidateLinks.empty()
    early, late = _overlapping(arrays, exit_edge, entry_edge)
    if early.size == 0:
        return CandidateLinks.empty()
    zero = np.zeros(early.size)
    # no road between the two views: the directions are the sightings' own headings
    paths = PairPaths(
        zero, zero.copy(), arrays.heading_deg[late], arrays.heading_deg[early], zero.copy()
    )
    probability = np.zeros(early.size)
    for m in np.unique(model[early]).tolist():
        rows = np.flatnonzero(model[early] == m)
        _, group = np.unique(early[rows], return_inverse=True)
        probability[rows] = score_links(
            arrays.take(early[rows]), arrays.take(late[rows]), paths.take(rows), models[m], group
        )
    return CandidateLinks(early, late, probability)


def _overlapping(
    arrays: SightingArrays, exit_edge: NDArray[np.str_], entry_edge: NDArray[np.str_]
) -> tuple[IntArray, IntArray]:
    """Pairs ``(a, b)``: ``b`` entered, at another camera, on the edge ``a`` left on, while
    ``a`` was in view; one sorted search over (entry edge, entry time)."""
    n = len(arrays)
    codes, inverse = np.unique(np.concatenate([exit_edge, entry_edge]), return_inverse=True)
    exit_code, entry_code = inverse[:n], inverse[n:]
    t0 = float(arrays.t_in.min())
    span = float(arrays.t_out.max()) - t0 + OVERLAP_SLACK_S + 1.0
    key = entry_code * span + (arrays.t_in - t0)
    order = np.argsort(key, kind="stable")
    lo = np.searchsorted(key[order], exit_code * span + (arrays.t_in - t0), "left")
    hi = np.searchsorted(
        key[order], exit_code * span + (arrays.t_out + OVERLAP_SLACK_S - t0), "right"
    )
    counts = np.where(codes[exit_code] != "", hi - lo, 0)
    early = np.repeat(np.arange(n, dtype=np.intp), counts)
    starts = np.repeat(lo - np.cumsum(counts) + counts, counts)
    late = order[np.arange(early.size) + starts].astype(np.intp)
    # rows are in time order: a link runs to a later row (no cycles)
    keep = (arrays.camera_ids[early] != arrays.camera_ids[late]) & (late > early)
    return early[keep], late[keep]


def _worker_count(workers: int | None, tasks: int) -> int:
    if workers is not None and workers < 1:
        raise BadInputError(f"workers must be at least 1, not {workers}", field="workers")
    wanted = workers if workers is not None else (os.cpu_count() or 1)
    return max(1, min(wanted, tasks))


def assign(
    n: int, links: CandidateLinks, *, threshold: float | FloatArray = LINK_THRESHOLD
) -> IntArray:
    """Each sighting's successor row (-1: none) from the min-cost assignment of the links.

    Sighting ``i`` as an *early* end is row ``i`` of a ``2n × 2n`` matching,
    as a *late* end column ``i``; row ``n + j`` and column ``n + i`` are "no
    successor for ``i``" / "no predecessor for ``j``". A link ``i → j`` costs
    ``C - w`` (``w`` its log-odds above the threshold's), leaving ``i`` and
    ``j`` unlinked costs ``C/2`` each, and the dummies of a kept link pair off at
    ``ε``: so a link is kept exactly when it gains, and never two on one end.
    ``threshold``: one for all links, or each link's.
    """
    bar = np.broadcast_to(np.asarray(threshold, dtype=np.float64), links.probability.shape)
    keep = links.probability > bar
    early, late = links.early[keep], links.late[keep]
    if early.size == 0:
        return np.full(n, -1, dtype=np.intp)
    gain = _log_odds(links.probability[keep]) - _log_odds(bar[keep])
    scale = float(gain.max()) + 1.0
    eps = 1e-9 * scale
    diag = np.arange(n)
    rows = np.concatenate([early, diag, n + diag, n + late])
    cols = np.concatenate([late, n + diag, diag, n + early])
    cost = np.concatenate(
        [scale - gain, np.full(n, scale / 2), np.full(n, scale / 2), np.full(early.size, eps)]
    )
    matrix = sp.csr_matrix((cost, (rows, cols)), shape=(2 * n, 2 * n))
    matched_rows, matched_cols = min_weight_full_bipartite_matching(matrix)
    successor = np.full(n, -1, dtype=np.intp)
    real = (matched_rows < n) & (matched_cols < n)
    successor[matched_rows[real]] = matched_cols[real]
    return successor


def _log_odds(p: FloatArray) -> FloatArray:
    clipped = np.clip(p, 1e-12, 1.0 - 1e-12)
    return np.asarray(np.log(clipped / (1.0 - clipped)), dtype=np.float64)


def track_labels(successor: IntArray) -> IntArray:
    """Track number per sighting: the chains of ``successor`` links, numbered by first row."""
    n = successor.shape[0]
    linked = np.flatnonzero(successor >= 0)
    graph = sp.csr_matrix((np.ones(linked.size), (linked, successor[linked])), shape=(n, n))
    _, labels = connected_components(graph, directed=True, connection="weak")
    # renumber so that track numbers follow the first sighting of each track
    _, first = np.unique(labels, return_index=True)
    rank = np.empty(first.size, dtype=np.intp)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    return np.asarray(rank[labels], dtype=np.intp)


@dataclass(frozen=True, eq=False)
class AssociationRun:
    """An association kept with its case: the audit record and the targets stored."""

    audit_id: int
    association: Association
    #: The tracks kept as targets, and their ids (in the same order).
    timelines: list[Timeline]
    target_ids: list[str]


def associate_window(
    investigation: Investigation,
    purpose: Purpose,
    since_s: float,
    until_s: float,
    *,
    threshold: float = LINK_THRESHOLD,
    workers: int | None = None,
    least: int = 2,
    on_progress: ProgressCallback | None = None,
) -> AssociationRun:
    """Audit, then associate every stored sighting in ``[since_s, until_s]`` and keep each
    track of at least ``least`` sightings as a target of the case (one transaction)."""
    check_window(since_s, until_s)
    if not (math.isfinite(since_s) and math.isfinite(until_s)):
        raise BadInputError("an association needs both ends of its time span", field="from")
    engine = investigation.store.engine
    detail = {"since_s": since_s, "until_s": until_s, "threshold": threshold}
    audit_id = AuditLog(engine).record(purpose, "associate", "all sightings", detail=detail)
    sightings = investigation.store.find(start_s=since_s, end_s=until_s)
    if not sightings:
        msg = f"no sightings between {format_time(since_s)} and {format_time(until_s)}"
        raise BadInputError(msg, field="from")
    linker = investigation.linker(since_s=since_s, until_s=until_s, source=SightingPool(sightings))
    result = associate(
        linker, sightings, threshold=threshold, workers=workers, on_progress=on_progress
    )
    kept = result.timelines(least=least)
    keys = CaseStore(engine).save_targets(purpose.case_id.strip(), kept)
    return AssociationRun(audit_id, result, kept, keys)
