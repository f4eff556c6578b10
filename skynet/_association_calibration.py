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
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

#: Seconds that scale the time gap in the features (``log1p(gap / GAP_SCALE_S)``).
GAP_SCALE_S: Final = 30.0
#: A link counts as a rival at its ends above this probability.
RIVAL_FROM: Final = 0.1
#: Weights of :func:`features`' columns, fitted by ``python benchmarks/bench_associate.py
#: --seed 7 --fit-calibration`` (day, county: 220 cameras, 4,000 vehicles, one hour).
CALIBRATION: Final = (1.3901, 1.0894, -0.4424, -0.8777, -1.2385, 2.2854)


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
    x = features(probability, early, late, gap_s, n)
    y = right.astype(np.float64)

    def loss(w: FloatArray) -> tuple[float, FloatArray]:
        t = x @ w
        p = 1.0 / (1.0 + np.exp(-t))
        return float(np.sum(np.logaddexp(0.0, t) - y * t)), x.T @ (p - y)

    start = np.zeros(x.shape[1])
    start[0] = 1.0
    result = minimize(loss, start, jac=True, method="L-BFGS-B")
    return tuple(round(float(w), 4) for w in result.x)
