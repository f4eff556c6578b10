"""The association's link scores for all sightings at once, with no Python per sighting.

The timeline's :class:`~skynet.timeline.Linker` scores one sighting at a
time (its window queries, its candidates' columns, a directed trip per
candidate): 10-22 ms of CPU a sighting, hours for a million. The same
scores are computed here in bulk, in the linker's own steps:

* what depends on the roads alone (each view's candidate cameras, each pair
  of views' directed trip, each camera pair's bearings) is measured once,
  through the linker (:mod:`skynet._association_views`);
* the candidates of all sightings are found by one sorted search over the
  sightings sorted by (camera, time): each (sighting, candidate camera)
  slot's window is a range of that order;
* ring by ring (:data:`~skynet.timeline.RING_SHARES` of the horizon, nearer
  cameras first), the candidates are ranked by their rough score
  (appearance, time gap, class), the shortlist's best (the linker's
  :data:`~skynet.timeline.SHORTLIST`, or as many as the association asks
  for) and those an inner ring measured scored by
  :func:`~skynet.linking.link_features` and the link model, each sighting's
  candidates competing; a sighting whose ring holds a link at least
  :data:`~skynet.timeline.RING_ENOUGH` likely stops there, as the linker's
  search does.

Sightings are handled in chunks (and the candidate pairs of a chunk in
batches of at most :data:`PAIR_BUDGET`), so memory stays bounded; chunks are
independent and run in a process pool.
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from itertools import pairwise
from typing import Final

import numpy as np
from numpy.typing import NDArray

from skynet._association_views import ViewLists, ViewTables, build_tables
from skynet._directed import ROUND_SLACK_S
from skynet._paths import CLASS_SPEED
from skynet._ranges import ranges
from skynet.linking import (
    DETOUR_LOG_LIKELIHOOD,
    GAP_FLOOR,
    GAP_SLACK_S,
    MAX_SLOWDOWN,
    SPEED_RANGE_MPS,
    WINDOW_PAD_S,
    LinkModel,
    PairPaths,
    SightingArrays,
    link_features,
)
from skynet.timeline import RING_ENOUGH, RING_SHARES, SHORTLIST, Linker
from trackers.sighting import Sighting

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
#: Candidate pairs ranked at once (bounds the memory of one batch: ~0.5 KB a pair).
PAIR_BUDGET: Final = 300_000
#: Pairs whose appearance product is taken at once (small enough to stay in cache).
DOT_BLOCK: Final = 8192
#: Sightings per pool task (progress is reported per task).
CHUNK: Final = 2_000
#: Below this a candidate's probability is dropped (as the association does).
LEAST_P: Final = 0.01
#: Per-row results of one direction: (early rows, late rows, probabilities).
Scored = tuple[IntArray, IntArray, FloatArray]


@dataclass(frozen=True, eq=False)
class BatchSightings:
    """The association's sightings as columns, in ``(t_in, id)`` order, with what the
    scorer needs beside :class:`SightingArrays`: registry rows, edge labels and the
    link model of each row (an index into ``models``)."""

    arrays: SightingArrays
    camera: IntArray
    exit_edge: NDArray[np.str_]
    entry_edge: NDArray[np.str_]
    model: IntArray
    models: tuple[LinkModel, ...]
    #: Each row's measured speed (NaN: none); the scorer does not read it, the
    #: association's pace does.
    speed_mps: FloatArray | None = None

    def __len__(self) -> int:
        return len(self.arrays)

    @classmethod
    def of(cls, linker: Linker, ordered: Sequence[Sighting]) -> BatchSightings:
        """The columns of ``ordered`` (already in time order), each with its linker's model."""
        chosen = [linker.model_for(s) for s in ordered]
        models = tuple({id(m): m for m in chosen}.values())
        index = {id(m): i for i, m in enumerate(models)}
        arrays = SightingArrays.from_sightings(list(ordered))
        return cls(
            arrays,
            linker.registry.rows(arrays.camera_ids.tolist()).astype(np.intp),
            np.array([s.exit_edge or "" for s in ordered], dtype=str),
            np.array([s.entry_edge or "" for s in ordered], dtype=str),
            np.array([index[id(m)] for m in chosen], dtype=np.intp),
            models,
            np.array([np.nan if s.speed_mps is None else s.speed_mps for s in ordered]),
        )

    def repeated(self, copies: int, stride_s: float) -> tuple[BatchSightings, IntArray]:
        """The rows again ``copies`` times, each copy ``stride_s`` later (ids suffixed by the
        copy): as many sightings at the same density over a longer span. Also where each
        new row comes from (``k * len(self) + row``: copy ``k`` of ``row``)."""
        parts = []
        for k in range(copies):
            a = self.arrays
            parts.append(
                SightingArrays(
                    np.char.add(a.ids, f"-{k}"), a.camera_ids, a.t_in + k * stride_s,
                    a.t_out + k * stride_s, a.classes, a.appearance, a.heading_deg,
                    a.entry_xy, a.exit_xy,
                )
            )  # fmt: skip
        arrays = SightingArrays.concat(parts)
        order = np.lexsort((arrays.ids, arrays.t_in))
        tile = np.tile
        batch = BatchSightings(
            arrays.take(order),
            tile(self.camera, copies)[order],
            tile(self.exit_edge, copies)[order],
            tile(self.entry_edge, copies)[order],
            tile(self.model, copies)[order],
            self.models,
            None if self.speed_mps is None else tile(self.speed_mps, copies)[order],
        )
        return batch, order.astype(np.intp)


@dataclass(frozen=True, eq=False)
class _Search:
    """Row order by (camera, time) and its keys: a slot's window is one range of it."""

    order: IntArray
    keys: FloatArray
    t0: float
    span: float

    @classmethod
    def of(cls, camera: IntArray, times: FloatArray) -> _Search:
        t0 = float(times.min()) if times.size else 0.0
        span = float(times.max()) - t0 + 10.0 if times.size else 10.0
        keys = camera * span + (times - t0)
        order = np.argsort(keys, kind="stable").astype(np.intp)
        return cls(order, keys[order], t0, span)

    def bounds(
        self, camera: IntArray, low: FloatArray, high: FloatArray
    ) -> tuple[IntArray, IntArray]:
        lo_t = np.clip(low - self.t0, 0.0, self.span - 1.0)
        hi_t = np.clip(high - self.t0, -1.0, self.span - 1.0)
        lo = np.searchsorted(self.keys, camera * self.span + lo_t, "left")
        hi = np.searchsorted(self.keys, camera * self.span + hi_t, "right")
        empty = (high < low) | (hi_t < 0.0)
        hi = np.where(empty, lo, np.maximum(hi, lo))
        return lo.astype(np.intp), hi.astype(np.intp)


@dataclass(frozen=True, eq=False)
class _Context:
    """Everything a scoring task reads (built once; inherited by forked workers)."""

    batch: BatchSightings
    tables: ViewTables
    by_t_in: _Search
    by_t_out: _Search
    since_s: float
    until_s: float
    top: FloatArray  # per row: the class's top speed (m/s)
    share: FloatArray  # per row: its class's share of free-flow speed
    known: NDArray[np.bool_]  # per row: a class other than "vehicle"
    kind: IntArray  # per row: a code of its class
    weights: FloatArray  # (models, 7)
    gap: FloatArray  # (models, 2): mu, sigma
    ring_counts: tuple[tuple[IntArray, ...], tuple[IntArray, ...]]  # per direction, ring
    #: Candidates per sighting and ring scored by the link model (the best by rough score).
    shortlist: int = SHORTLIST


def context(linker: Linker, batch: BatchSightings, *, shortlist: int = SHORTLIST) -> _Context:
    """The tables and sorted orders of ``batch`` (the roads measured through ``linker``).

    ``shortlist``: the linker's :data:`~skynet.timeline.SHORTLIST` gives the linker's
    own links; the association asks for more (at city density the rough score, blind to
    direction and cameras passed, ranks a vehicle's true next sighting below a hundred
    look-alikes in the window now and then).
    """
    if shortlist < 1:
        raise ValueError(f"shortlist must be at least 1, not {shortlist}")
    a = batch.arrays
    tables = build_tables(linker, batch.camera, a.camera_ids, batch.exit_edge, batch.entry_edge)
    vehicle = SPEED_RANGE_MPS["vehicle"]
    top = np.array([SPEED_RANGE_MPS.get(str(c), vehicle)[1] for c in a.classes.tolist()])
    share = np.array([CLASS_SPEED.get(str(c), (1.0, 0.0))[0] for c in a.classes.tolist()])
    horizon = tables.horizon_s

    def rings(lists: ViewLists) -> tuple[IntArray, ...]:
        owner = np.repeat(np.arange(lists.ptr.size - 1), lists.sizes())
        views = lists.ptr.size - 1
        return tuple(
            np.bincount(owner, lists.flow_s <= s * horizon, minlength=views).astype(np.intp)
            for s in RING_SHARES
        )

    return _Context(
        batch, tables, _Search.of(batch.camera, a.t_in), _Search.of(batch.camera, a.t_out),
        linker.since_s, linker.until_s, top, share, a.classes != "vehicle",
        np.unique(a.classes, return_inverse=True)[1].reshape(-1).astype(np.intp),
        np.array([m.weights for m in batch.models], dtype=np.float64).reshape(-1, 7),
        np.array([(m.gap_mu, m.gap_sigma) for m in batch.models]).reshape(-1, 2),
        (rings(tables.forward), rings(tables.backward)), shortlist,
    )  # fmt: skip


def _rough(
    ctx: _Context, owner: IntArray, early: IntArray, late: IntArray,
    quickest: FloatArray, dist: FloatArray,
) -> FloatArray:  # fmt: skip
    """:func:`skynet.linking.rough_scores` in bulk (each pair with its owner's model):
    appearance, gap fit and class clash; direction and cameras passed neutral."""
    a = ctx.batch.arrays
    appearance = dots(a.appearance, early, late)
    gap = a.t_in[late] - a.t_out[early]
    model = ctx.batch.model[owner] if ctx.gap.shape[0] > 1 else np.zeros(1, dtype=np.intp)
    mu, sigma = ctx.gap[model, 0], ctx.gap[model, 1]
    log_ratio = np.log(np.maximum(gap + GAP_SLACK_S, 1e-3) / (quickest + GAP_SLACK_S))
    z = (log_ratio - mu) / sigma
    fit = -0.5 * z * z
    fit = np.where(log_ratio > mu, np.maximum(fit, DETOUR_LOG_LIKELIHOOD), fit)
    clash = ctx.known[early] & ctx.known[late] & (ctx.kind[early] != ctx.kind[late])
    top = np.minimum(ctx.top[early], ctx.top[late])
    feasible = (gap + GAP_SLACK_S > 0.0) & (dist <= top * np.maximum(gap + GAP_SLACK_S, 0.0))
    w = ctx.weights[model] if ctx.weights.shape[0] > 1 else ctx.weights[:1]
    score = w[:, 1] * appearance + w[:, 2] * np.maximum(fit, -GAP_FLOOR) + w[:, 5] * clash
    return np.asarray(np.where(feasible, score, -np.inf), dtype=np.float64)


def dots(vectors: NDArray[np.float32], early: IntArray, late: IntArray) -> NDArray[np.float32]:
    """Dot products of rows ``early[i]`` and ``late[i]``, a block of pairs at a time (one
    gather of millions of 64-float rows spends its time allocating, not multiplying)."""
    out = np.empty(early.size, dtype=np.float32)
    for s in range(0, early.size, DOT_BLOCK):
        a, b = early[s : s + DOT_BLOCK], late[s : s + DOT_BLOCK]
        out[s : s + DOT_BLOCK] = np.einsum("ij,ij->i", vectors[a], vectors[b])
    return out


@dataclass(frozen=True, eq=False)
class _Kept:
    """Pairs of a ring: owner row, candidate row, camera-level flow and metres, rough score."""

    owner: IntArray
    other: IntArray
    flow: FloatArray
    dist: FloatArray
    rough: FloatArray

    def take(self, rows: IntArray | NDArray[np.bool_]) -> _Kept:
        return _Kept(*(getattr(self, f)[rows] for f in _FIELDS))

    @classmethod
    def concat(cls, parts: Sequence[_Kept]) -> _Kept:
        if not parts:
            none = np.empty(0, dtype=np.intp)
            return cls(none, none.copy(), np.empty(0), np.empty(0), np.empty(0))
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS))


_FIELDS: Final = ("owner", "other", "flow", "dist", "rough")


def _shell(
    ctx: _Context, owners: IntArray, ring: int, forward: bool, runners: _Kept
) -> tuple[_Kept, _Kept]:
    """The ring's new shortlisted pairs of each owner and the runners-up.

    The linker ranks all the ring's candidates again, an inner ring's measured
    ones first; those are kept here as they are, so of the rest only the
    shortlist's best are new (``ctx.shortlist``, the linker's :data:`SHORTLIST` by
    default), and they are the best of the cameras new to this ring (its shell) and of
    the inner rings' runners-up (``runners``: the next shortlist for each ring still to
    come), so the pairs of the
    inner cameras are never searched again.
    """
    tables, batch = ctx.tables, ctx.batch
    lists = tables.forward if forward else tables.backward
    view = (tables.exit_view if forward else tables.entry_view)[owners]
    rings = ctx.ring_counts[0 if forward else 1]
    inner = rings[ring - 1][view] if ring else np.zeros(owners.size, dtype=np.intp)
    counts = rings[ring][view] - inner
    slots = ranges(lists.ptr[view] + inner, lists.ptr[view] + inner + counts)
    slot_at = np.repeat(np.arange(owners.size), counts)
    slot_owner = owners[slot_at]
    flow, dist = lists.flow_s[slots], lists.dist_m[slots]
    directed = lists.directed_s[slots] / ctx.share[slot_owner]
    slowest = np.fmax(flow, directed) * MAX_SLOWDOWN + WINDOW_PAD_S
    a = batch.arrays
    if forward:
        t = a.t_out[slot_owner]
        low, high = t + dist / ctx.top[slot_owner] - GAP_SLACK_S, t + slowest
        search = ctx.by_t_in
    else:
        t = a.t_in[slot_owner]
        low, high = t - slowest, t - dist / ctx.top[slot_owner] + GAP_SLACK_S
        search = ctx.by_t_out
    low, high = np.maximum(low, ctx.since_s), np.minimum(high, ctx.until_s)
    lo, hi = search.bounds(lists.camera[slots], low, high)
    quick = np.where(np.isfinite(directed), directed, flow)
    slot_start = np.r_[0, np.cumsum(counts)].astype(np.intp)
    total = np.r_[0, np.cumsum(hi - lo)]
    per_owner = total[slot_start[1:]] - total[slot_start[:-1]]
    pieces = [runners]
    shortlist = ctx.shortlist
    keep = shortlist * (len(RING_SHARES) - ring)  # this ring's and each outer ring's
    for first, last in pairwise(_batches(per_owner, PAIR_BUDGET)):
        s_lo, s_hi = int(slot_start[first]), int(slot_start[last])
        pair_slot = np.repeat(np.arange(s_lo, s_hi), hi[s_lo:s_hi] - lo[s_lo:s_hi])
        other = search.order[ranges(lo[s_lo:s_hi], hi[s_lo:s_hi])]
        owner = slot_owner[pair_slot]
        later = a.t_in[other] > a.t_in[owner] if forward else a.t_in[other] < a.t_in[owner]
        pair_slot, other, owner = pair_slot[later], other[later], owner[later]
        early, late = (owner, other) if forward else (other, owner)
        rough = _rough(ctx, owner, early, late, quick[pair_slot], dist[pair_slot])
        # an owner's pairs all lie in one batch: its best few shortlists are enough here
        best = _best(slot_at[pair_slot] - first, rough, last - first, keep)
        pieces.append(
            _Kept(owner[best], other[best], flow[pair_slot[best]], dist[pair_slot[best]],
                  rough[best])
        )  # fmt: skip
    merged = _Kept.concat(pieces)
    rank = _rank(np.searchsorted(owners, merged.owner), merged.rough)
    return merged.take(rank < shortlist), merged.take((rank >= shortlist) & (rank < keep))


def _rank(at: IntArray, rough: FloatArray) -> IntArray:
    """Each pair's rank among its owner's (``at``) by falling rough score; exact ties fall
    either way (they never decide a link)."""
    key = at * 4096.0 - np.clip(rough, -1e3, 1e3)  # owner first: one sort of a finite key
    order = np.argsort(key)
    sorted_at = at[order]
    first = np.searchsorted(sorted_at, sorted_at, "left")
    rank = np.empty(at.size, dtype=np.intp)
    rank[order] = np.arange(at.size) - first
    return rank


def _best(at: IntArray, rough: FloatArray, owners: int, allowed: int) -> IntArray:
    """Rows of each owner's ``allowed`` best pairs by rough score (all of an owner with no
    more); ``at[i]``: the owner (``0 <= at < owners``) of pair ``i``."""
    count = np.bincount(at, minlength=owners)
    over = (count > allowed)[at]
    rows = np.flatnonzero(over)
    if rows.size:
        rows = rows[_rank(at[rows], rough[rows]) < allowed]
    return np.concatenate([np.flatnonzero(~over), rows])


def _batches(sizes: IntArray, budget: int) -> list[int]:
    """Cut points of consecutive owners so that each batch holds at most ``budget`` pairs
    (an owner with more is a batch alone)."""
    total = np.cumsum(sizes)
    cuts = [0]
    while cuts[-1] < sizes.size:
        base = total[cuts[-1] - 1] if cuts[-1] else 0
        nxt = int(np.searchsorted(total, base + budget, "right"))
        cuts.append(max(nxt, cuts[-1] + 1))
    return cuts


def _features(ctx: _Context, kept: _Kept, forward: bool) -> tuple[FloatArray, NDArray[np.bool_]]:
    """:func:`link_features` of the pairs (each with its owner's model): the directed trip
    of its two views where known, else the camera-to-camera path, as the linker takes them."""
    tables, batch = ctx.tables, ctx.batch
    a = batch.arrays
    early, late = (kept.owner, kept.other) if forward else (kept.other, kept.owner)
    trip = tables.trips.lookup(
        tables.exit_view[early].astype(np.int64) * tables.entry_views + tables.entry_view[late]
    )
    owner_class = np.where(ctx.known[kept.owner], kept.owner, kept.other)
    share = ctx.share[owner_class]
    known = np.isfinite(trip[:, 0])
    gap = a.t_in[late] - a.t_out[early]
    around = (trip[:, 1] > 0) & (trip[:, 2] / share <= gap + ROUND_SLACK_S)
    trip_passed = np.where(around, np.minimum(trip[:, 1], trip[:, 3]), trip[:, 1])
    cams = tables.paths.lookup(
        batch.camera[early].astype(np.int64) * tables.cameras + batch.camera[late]
    )
    paths = PairPaths(
        np.where(known, trip[:, 0] / share, kept.flow), kept.dist, cams[:, 0], cams[:, 1],
        np.where(known, trip_passed, cams[:, 2]),
    )  # fmt: skip
    dot = dots(a.appearance, early, late).astype(np.float64)
    features = np.empty((early.size, 6))
    feasible = np.zeros(early.size, dtype=bool)
    model_of = batch.model[kept.owner]
    for m in np.unique(model_of).tolist():
        rows = np.flatnonzero(model_of == m)
        features[rows], feasible[rows] = link_features(
            _lean(a, early[rows], dot[rows]), _lean(a, late[rows], None), paths.take(rows),
            batch.models[m],
        )  # fmt: skip
    return features, feasible


def _probabilities(
    ctx: _Context, kept: _Kept, features: FloatArray, feasible: NDArray[np.bool_]
) -> FloatArray:
    """The link model's probability of each pair, each owner's candidates competing."""
    # owners are one task's consecutive rows: their offsets are the softmax's groups
    group = kept.owner - (int(kept.owner.min()) if kept.owner.size else 0)
    out = np.zeros(kept.owner.size)
    model_of = ctx.batch.model[kept.owner]
    for m in np.unique(model_of).tolist():
        rows = np.flatnonzero(model_of == m)
        model = ctx.batch.models[m]
        out[rows] = model.probability(features[rows], feasible[rows], group[rows])
    return out


def _lean(a: SightingArrays, rows: IntArray, dot: FloatArray | None) -> SightingArrays:
    """The columns :func:`link_features` reads, with the pair's appearance product done:
    a one-element "vector" per row (the product for the early end, 1 for the late), so
    that its dot product is the product and no pair gathers two 64-float vectors again."""
    n = rows.size
    blank = np.broadcast_to(np.array("", dtype=str), (n,))
    vector = (np.ones(n) if dot is None else dot).reshape(n, 1).astype(np.float32)
    points = np.broadcast_to(np.array([np.nan, np.nan]), (n, 2))
    return SightingArrays(
        blank, blank, a.t_in[rows], a.t_out[rows], a.classes[rows], vector,
        a.heading_deg[rows], points, points,
    )  # fmt: skip


def score_direction(ctx: _Context, owners: IntArray, forward: bool) -> Scored:
    """The owners' scored candidates one way in time, ring by ring (see the module)."""
    n = len(ctx.batch)
    active = np.sort(owners).astype(np.intp)
    measured = runners = _Kept.concat([])
    measured_f, measured_ok = np.empty((0, 6)), np.empty(0, dtype=bool)
    results: list[tuple[_Kept, FloatArray]] = []
    for ring in range(len(RING_SHARES)):
        if active.size == 0:
            break
        new, runners = _shell(ctx, active, ring, forward, runners)
        new_f, new_ok = _features(ctx, new, forward)  # a pair's features hold in every ring
        kept = _Kept.concat([measured, new])
        features, feasible = np.vstack([measured_f, new_f]), np.r_[measured_ok, new_ok]
        p = _probabilities(ctx, kept, features, feasible)
        best = np.zeros(n)
        np.maximum.at(best, kept.owner, p)
        # this ring's answer replaces an inner one's (none: no candidates, as the linker's)
        here = np.zeros(n, dtype=bool)
        here[active] = True
        results = [(k.take(r), q[r]) for k, q in results if (r := ~here[k.owner]).any()]
        results.append((kept, p))
        active = active[best[active] < RING_ENOUGH]
        still = np.zeros(n, dtype=bool)
        still[active] = True
        again = still[kept.owner]
        measured, measured_f, measured_ok = kept.take(again), features[again], feasible[again]
        runners = runners.take(still[runners.owner])
    kept = _Kept.concat([k for k, _ in results])
    p = np.concatenate([q for _, q in results]) if results else np.empty(0)
    good = p >= LEAST_P
    owner, other, p = kept.owner[good], kept.other[good], p[good]
    return (owner, other, p) if forward else (other, owner, p)


def score_rows(ctx: _Context, rows: IntArray) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """Both directions for ``rows``: ``(early, late, forward p, backward p)`` as the
    association's two-sided links take them."""
    fe, fl, fp = score_direction(ctx, rows, True)
    be, bl, bp = score_direction(ctx, rows, False)
    return (
        np.concatenate([fe, be]),
        np.concatenate([fl, bl]),
        np.concatenate([fp, np.zeros(bp.size)]),
        np.concatenate([np.zeros(fp.size), bp]),
    )


_SHARED: _Context | None = None


def _score_shared(rows: IntArray) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    assert _SHARED is not None
    return score_rows(_SHARED, rows)


def score_all(
    ctx: _Context,
    *,
    workers: int = 1,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """Every row's links both ways, in chunks of :data:`CHUNK` rows (a fork pool when
    ``workers`` > 1: the workers inherit the tables)."""
    n = len(ctx.batch)
    tasks = np.array_split(np.arange(n, dtype=np.intp), math.ceil(n / CHUNK)) if n else []
    report = on_progress or (lambda _done, _total: None)
    report(0, n)
    parts = []
    done = 0
    if workers <= 1 or len(tasks) <= 1:
        for rows in tasks:
            parts.append(score_rows(ctx, rows))
            done += rows.size
            report(done, n)
    else:
        global _SHARED
        _SHARED = ctx
        try:
            fork = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(min(workers, len(tasks)), mp_context=fork) as pool:
                futures = {pool.submit(_score_shared, rows): rows.size for rows in tasks}
                for future in as_completed(futures):
                    parts.append(future.result())
                    done += futures[future]
                    report(done, n)
        finally:
            _SHARED = None
    if not parts:
        none = np.empty(0, dtype=np.intp)
        return none, none.copy(), np.empty(0), np.empty(0)
    early, late, pf, pb = (np.concatenate(c) for c in zip(*parts, strict=True))
    return early, late, pf, pb
