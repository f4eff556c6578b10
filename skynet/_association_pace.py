"""A vehicle's pace, for whole-city association: its speed against its road's free flow.

A driver keeps to a pace: faster or slower than the road's free-flow speed
for the class by about the same share all along the trip (on the county's
seed 7, the log of measured speed over free-flow speed varies by 0.08 within
a vehicle and its vehicles' own paces by 0.10). Each sighting's speed over its
view's edges gives one noisy read of it; a track's many reads give its pace
well, so a link between two halves of tracks whose paces differ by more
than their reads allow is less likely one vehicle
(:func:`pace_evidence`, a column of the restitching's track features).
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

from skynet._anchors import edge_rows_by_label
from skynet._paths import CLASS_SPEED
from skynet.roads.network import RoadNetwork

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
#: Spread (standard deviation) of a log pace read within one vehicle and of the vehicles'
#: own paces, measured on seed 7's truth (``benchmarks/bench_associate.py --seed 7
#: --fit-calibration`` prints them).
PACE_SPREAD: Final = (0.08, 0.098)


def sighting_pace(
    network: RoadNetwork,
    classes: NDArray[np.str_],
    speed_mps: FloatArray,
    exit_edge: NDArray[np.str_],
    entry_edge: NDArray[np.str_],
) -> FloatArray:
    """Log of each sighting's speed over its class's free-flow speed on its view's edges
    (the mean of the entry and exit edge's); NaN where the speed, the edge or the class
    (``vehicle``: none known) is missing."""
    labels = edge_rows_by_label(network)
    speed_kph = network.edges.speed_kph

    def limit(edges: NDArray[np.str_]) -> FloatArray:
        rows = np.array([labels.get(str(e), -1) for e in edges.tolist()], dtype=np.intp)
        return np.where(rows >= 0, speed_kph[np.maximum(rows, 0)], np.nan)

    share = np.array([CLASS_SPEED.get(str(c), (np.nan, np.nan))[0] for c in classes.tolist()])
    top = np.array([CLASS_SPEED.get(str(c), (np.nan, np.nan))[1] for c in classes.tolist()])
    out_kph = limit(exit_edge)
    in_kph = np.where(entry_edge != "", limit(entry_edge), out_kph)
    free_mps = (np.minimum(out_kph * share, top) + np.minimum(in_kph * share, top)) / 7.2
    speed = np.asarray(speed_mps, dtype=np.float64)
    known = (classes != "vehicle") & (speed > 0.0) & (free_mps > 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        pace = np.log(speed / free_mps)
    return np.asarray(np.where(known, pace, np.nan), dtype=np.float64)


def pace_evidence(
    pace: FloatArray,
    order: IntArray,
    position: IntArray,
    first: IntArray,
    end: IntArray,
    early: IntArray,
    late: IntArray,
    spread: tuple[float, float] = PACE_SPREAD,
) -> FloatArray:
    """Log-likelihood ratio, one vehicle against two, of the mean paces of the early end's
    track up to it and the late end's from it on (0 where either half has no read).

    ``order`` is the rows in track order, ``position`` each row's place in it, ``first``
    and ``end`` each row's track's first and past-last place. One vehicle: the two
    means differ by read noise alone, variance ``w² (1/k₁ + 1/k₂)``; two: by
    ``2 b²`` more (``spread = (w, b)``).
    """
    within, between = spread
    value = pace[order]
    known = np.isfinite(value)
    sums = np.zeros(order.size + 1)
    np.cumsum(np.where(known, value, 0.0), out=sums[1:])
    counts = np.zeros(order.size + 1)
    np.cumsum(known, out=counts[1:])
    upto, start = position[early] + 1, first[early]
    k1 = counts[upto] - counts[start]
    s1 = sums[upto] - sums[start]
    k2 = counts[end[late]] - counts[position[late]]
    s2 = sums[end[late]] - sums[position[late]]
    both = (k1 > 0) & (k2 > 0)
    k1, k2 = np.maximum(k1, 1.0), np.maximum(k2, 1.0)
    d2 = (s1 / k1 - s2 / k2) ** 2
    same = within**2 * (1.0 / k1 + 1.0 / k2)
    apart = same + 2.0 * between**2
    llr = 0.5 * (d2 / apart - d2 / same + np.log(apart / same))
    return np.asarray(np.where(both, llr, 0.0), dtype=np.float64)
