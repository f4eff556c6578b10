"""The link probabilities recalibrated for whole-city association: by time gap and competition.

The linker's probabilities are calibrated on average (a timeline follows one
target), not per time gap: at city density a pair ten minutes apart has a
vehicle's every look-alike in between as a rival that the link model's flat
detour floor does not see, and a sighting with several likely links on
either end is less sure of any. On the county by day (220 cameras, 4,000
vehicles, one hour, ``benchmarks/bench_associate.py``) links of gap 600 s or
more scored above 0.1 had a mean two-sided probability of 0.27 and were right
9 % of the time, against 0.87 and 92 % under a minute. A logistic regression
of "right" on the link's log-odds, its gap and the count of likely links at
each end, fitted on a world the benchmark does not score (another seed's
simulated truth, as the link model itself is fitted), corrects that;
:data:`CALIBRATION` holds its weights.

One sighting's appearance is a noisy read of one frame; a track's is many.
After a first assignment, every link is scored again with the appearance of
the tracks it would join (:func:`track_features`): the mean appearance of the
early end's track up to it against the late end's from it on (so a kept link
is judged by the two halves it joins, not by itself), centred and whitened
by the span's own sightings (no labels), with how many sightings each half
holds, how alike the two halves' classes and their paces are
(:mod:`skynet._association_pace`) and how often tracks end and start at the
two cameras (in the tracks themselves); then assigned again
(:data:`TRACK_CALIBRATION`: one set of weights per round, four rounds, each
fitted on the tracks of the round before, on the same other seed; the last
round's links kept above :data:`RESTITCHED_THRESHOLD`).
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from skynet._association_pace import pace_evidence

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

#: Seconds that scale the time gap in the features (``log1p(gap / GAP_SCALE_S)``).
GAP_SCALE_S: Final = 30.0
#: A link counts as a rival at its ends above this probability.
RIVAL_FROM: Final = 0.1
#: Weights of :func:`features`' columns, fitted by ``python benchmarks/bench_associate.py
#: --seed 7 --fit-calibration`` (day, county: 220 cameras, 4,000 vehicles, one hour).
CALIBRATION: Final = (1.4193, 1.1073, -0.435, -0.8555, -1.0832, 2.2099)
#: Weights of :func:`track_features`' columns, one tuple per round of restitching, fitted
#: by the same command (each on the tracks of the round before).
TRACK_CALIBRATION: Final = (
    (1.3441, 0.3815, -0.2673, -0.9131, -1.1482, 0.4595, 0.2505, 2.1473, 0.8563, -0.6416, 1.1823,
     0.0865, -0.139, 0.1253),
    (1.3375, 0.2778, -0.2082, -0.8641, -1.093, -1.5099, -0.5864, 2.4699, 2.4033, -2.0615, 2.9971,
     0.0113, -0.2133, 0.3048),
    (1.3181, 0.261, -0.2049, -0.8356, -1.0775, -0.9385, -0.722, 2.6683, 2.0974, -1.7823, 2.3078,
     0.0166, -0.1944, 0.396),
    (1.3343, 0.2576, -0.1983, -0.8624, -1.0801, -1.0382, -0.6744, 2.4479, 2.5151, -2.1397, 2.4793,
     -0.0052, -0.2211, 0.3952),
)  # fmt: skip
#: Restitched links (probabilities of being right) are kept above this: on the same
#: seed's tracks, the middle of the 0.1-wide span of thresholds with the best mean IDF1,
#: printed by the same command (flat from 0.15 to 0.29 there, within 0.002).
RESTITCHED_THRESHOLD: Final = 0.2375
#: Links whose track appearance is taken at once (bounds the memory of a million).
BLOCK: Final = 65_536


def features(
    probability: FloatArray, early: IntArray, late: IntArray, gap_s: FloatArray, n: int
) -> FloatArray:
    """Columns: log-odds, log gap, its square, log rivals at the early and the late end, 1."""
    clipped = np.clip(probability, 1e-9, 1.0 - 1e-9)
    log_odds = np.log(clipped / (1.0 - clipped))
    gap = np.log1p(np.maximum(gap_s, 0.0) / GAP_SCALE_S)
    likely = (probability > RIVAL_FROM).astype(np.float64)
    rivals_early = np.bincount(early, likely, minlength=n)[early]
    rivals_late = np.bincount(late, likely, minlength=n)[late]
    return np.column_stack(
        [log_odds, gap, gap * gap, np.log1p(rivals_early), np.log1p(rivals_late),
         np.ones_like(gap)]
    )  # fmt: skip


def recalibrated(
    probability: FloatArray,
    early: IntArray,
    late: IntArray,
    gap_s: FloatArray,
    n: int,
    weights: tuple[float, ...] = CALIBRATION,
) -> FloatArray:
    """Each link's probability of being right, from :func:`features` (0 stays 0)."""
    if probability.size == 0:
        return probability.copy()
    z = features(probability, early, late, gap_s, n) @ np.asarray(weights, dtype=np.float64)
    out = 1.0 / (1.0 + np.exp(-z))
    return np.asarray(np.where(probability > 0.0, out, 0.0), dtype=np.float64)


def fit(
    probability: FloatArray,
    early: IntArray,
    late: IntArray,
    gap_s: FloatArray,
    n: int,
    right: NDArray[np.bool_],
) -> tuple[float, ...]:
    """Maximum-likelihood weights of :func:`recalibrated` from labelled links (a benchmark's
    simulated truth: never the world being scored)."""
    return fit_columns(features(probability, early, late, gap_s, n), right)


def whitened(appearance: NDArray[np.floating]) -> NDArray[np.float32]:
    """Appearance centred and whitened by these sightings' own mean and covariance, then of
    unit length: what all vehicles share (the camera's colour cast, the mean car) no longer
    counts as a match."""
    x = np.asarray(appearance, dtype=np.float64)
    if x.shape[0] < 2:
        return np.asarray(x, dtype=np.float32)
    centred = x - x.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(centred.T) + 1e-4 * np.eye(x.shape[1]))
    white = centred @ (vectors * values**-0.5) @ vectors.T
    white /= np.maximum(np.linalg.norm(white, axis=1, keepdims=True), 1e-9)
    return np.asarray(white, dtype=np.float32)


def class_codes(classes: NDArray[np.str_]) -> IntArray:
    """A code per row's class for :func:`track_features` (-1: ``vehicle``, none known)."""
    names, code = np.unique(classes, return_inverse=True)
    code = code.reshape(-1).astype(np.intp)
    unknown = np.flatnonzero(names == "vehicle")
    if unknown.size:
        code = np.where(code == unknown[0], -1, code - (code > unknown[0]))
    return np.asarray(code, dtype=np.intp)


def track_features(
    probability: FloatArray,
    early: IntArray,
    late: IntArray,
    gap_s: FloatArray,
    white: NDArray[np.float32],
    t_in: FloatArray,
    track: IntArray,
    kind: IntArray,
    camera: IntArray,
    pace: FloatArray,
) -> FloatArray:
    """:func:`features`, then: the two ends' whitened appearance product, the product of
    the early end's track up to it and the late end's from it on (``c``), ``c × m``,
    ``m`` (``m``: log of the fewer sightings of the two halves), how alike the two
    halves' class counts are (cosine; ``kind``: each row's class code, -1 for none
    known; 1 where a half knows none), and the log share of the early end's camera's
    sightings that end a track and of the late end's that start one (``camera``: each
    row's camera code): where vehicles leave or enter the network a track's end is
    no sign of a missed link; last, how alike the two halves' paces are
    (:func:`~skynet._association_pace.pace_evidence`; ``pace``: each row's log pace,
    NaN where unknown)."""
    n = int(t_in.shape[0])
    base = features(probability, early, late, gap_s, n)
    order = np.lexsort((t_in, track))
    position = np.empty(n, dtype=np.intp)
    position[order] = np.arange(n)
    sums = np.zeros((n + 1, white.shape[1]))
    np.cumsum(white[order], axis=0, out=sums[1:])
    kinds = int(kind.max()) + 1 if kind.size else 0
    votes = np.zeros((n + 1, max(kinds, 1)))
    known = np.flatnonzero(kind[order] >= 0)
    votes[known + 1, kind[order][known]] = 1.0
    np.cumsum(votes, axis=0, out=votes)
    _, start, size = np.unique(track[order], return_index=True, return_counts=True)
    first = start[track]  # tracks are numbered 0..k-1: their first and past-last positions
    end = (start + size)[track]
    single = np.empty(early.size)
    joined = np.empty(early.size)
    classes = np.empty(early.size)
    for a in range(0, early.size, BLOCK):
        e, lt = early[a : a + BLOCK], late[a : a + BLOCK]
        joined[a : a + BLOCK] = _halves(sums, position, first, end, e, lt, 0.0)
        single[a : a + BLOCK] = np.einsum("ij,ij->i", white[e], white[lt])
        classes[a : a + BLOCK] = _halves(votes, position, first, end, e, lt, 1.0)
    fewer = np.log(np.minimum(position[early] + 1 - first[early], end[late] - position[late]))
    ends, starts = _end_shares(track[order], camera[order])
    paces = pace_evidence(pace, order, position, first, end, early, late)
    return np.column_stack(
        [base, single, joined, joined * fewer, fewer, classes,
         np.log(ends[camera[early]]), np.log(starts[camera[late]]), paces]
    )  # fmt: skip


def _end_shares(track: IntArray, camera: IntArray) -> tuple[FloatArray, FloatArray]:
    """Per camera code, the share of its sightings (rows in track order) that end a track
    and that start one (with one of each added: a camera seen once says little)."""
    last = np.r_[track[1:] != track[:-1], True] if track.size else np.zeros(0, dtype=bool)
    first = np.r_[True, track[1:] != track[:-1]] if track.size else np.zeros(0, dtype=bool)
    seen = np.bincount(camera).astype(np.float64) + 2.0
    ends = (np.bincount(camera, last, minlength=seen.size) + 1.0) / seen
    starts = (np.bincount(camera, first, minlength=seen.size) + 1.0) / seen
    return ends, starts


def _halves(
    sums: FloatArray,
    position: IntArray,
    first: IntArray,
    end: IntArray,
    early: IntArray,
    late: IntArray,
    empty: float,
) -> FloatArray:
    """Cosine between the sums (cumulative ``sums`` in track order) over the early end's
    track up to it and the late end's from it on; ``empty`` where either is all zero."""
    before = sums[position[early] + 1] - sums[first[early]]
    after = sums[end[late]] - sums[position[late]]
    norms = np.linalg.norm(before, axis=1) * np.linalg.norm(after, axis=1)
    cosine = np.einsum("ij,ij->i", before, after) / np.maximum(norms, 1e-12)
    return np.asarray(np.where(norms > 1e-12, cosine, empty), dtype=np.float64)


def restitched(
    probability: FloatArray,
    early: IntArray,
    late: IntArray,
    gap_s: FloatArray,
    white: NDArray[np.float32],
    t_in: FloatArray,
    track: IntArray,
    kind: IntArray,
    camera: IntArray,
    pace: FloatArray,
    weights: tuple[float, ...],
) -> FloatArray:
    """Each link's probability of being right given the tracks of a first assignment
    (:func:`track_features`; 0 stays 0)."""
    if probability.size == 0:
        return probability.copy()
    x = track_features(probability, early, late, gap_s, white, t_in, track, kind, camera, pace)
    out = 1.0 / (1.0 + np.exp(-(x @ np.asarray(weights, dtype=np.float64))))
    return np.asarray(np.where(probability > 0.0, out, 0.0), dtype=np.float64)


def fit_columns(x: FloatArray, right: NDArray[np.bool_], *, l2: float = 0.0) -> tuple[float, ...]:
    """Maximum-likelihood logistic weights of feature columns ``x`` (first: the log-odds)."""
    y = right.astype(np.float64)

    def loss(w: FloatArray) -> tuple[float, FloatArray]:
        t = x @ w
        p = 1.0 / (1.0 + np.exp(-t))
        value = float(np.sum(np.logaddexp(0.0, t) - y * t)) + l2 * float(w @ w)
        return value, x.T @ (p - y) + 2.0 * l2 * w

    start = np.zeros(x.shape[1])
    start[0] = 1.0
    result = minimize(loss, start, jac=True, method="L-BFGS-B")
    return tuple(round(float(w), 4) for w in result.x)
