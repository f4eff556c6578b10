"""Which junctions are *major*: the one definition camera placement and coverage share.

A junction is major when at least three distinct roads meet there and either
three of them are arterials (motorway, trunk, primary, secondary, links
included) or one is a motorway or trunk. Real deployments put one camera on
each approach of such junctions; residential crossings are not expected to be
watched.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from skynet.roads.classes import HIGHWAY_CODE

#: Codes of the arterial classes (links count as their road).
ARTERIAL_MAX_CODE: Final = HIGHWAY_CODE["secondary_link"]
#: Codes of motorways and trunks, of which one alone makes a junction major.
TRUNK_MAX_CODE: Final = HIGHWAY_CODE["trunk_link"]


def major_junction_rows(
    road_u: ArrayLike, road_v: ArrayLike, highway_code: ArrayLike, node_count: int
) -> NDArray[np.intp]:
    """Node rows of the major junctions, ascending.

    Each road is one row ``(road_u[i], road_v[i], highway_code[i])`` with node
    rows as ends; self-loops are ignored and parallel roads between the same
    two nodes count once (at their most important class).
    """
    u = np.asarray(road_u, dtype=np.intp)
    v = np.asarray(road_v, dtype=np.intp)
    code = np.asarray(highway_code, dtype=np.intp)
    proper = u != v
    low, high, code = np.minimum(u, v)[proper], np.maximum(u, v)[proper], code[proper]
    order = np.lexsort((code, high, low))  # best class first within each node pair
    low, high, code = low[order], high[order], code[order]
    first = np.ones(low.size, dtype=bool)
    first[1:] = (low[1:] != low[:-1]) | (high[1:] != high[:-1])
    low, high, code = low[first], high[first], code[first]
    ends = np.concatenate([low, high])
    both = np.concatenate([code, code])
    roads = np.bincount(ends, minlength=node_count)
    arterials = np.bincount(ends, weights=both <= ARTERIAL_MAX_CODE, minlength=node_count)
    trunks = np.bincount(ends, weights=both <= TRUNK_MAX_CODE, minlength=node_count)
    return np.flatnonzero((roads >= 3) & ((arterials >= 3) | (trunks >= 1)))
