"""The size knob: from a name or an edge count to the dimensions of the city.

The countryside (area, villages) is fixed by the size class; the town grid
is then sized so that the whole graph has at least the requested number of
directed edges (the other parts are estimated low, so the total lands a few
per cent above the target).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Final

from skynet.errors import BadInputError
from skynet.synthetic._town import grid_edge_count

#: Named sizes and the directed-edge count each aims at.
SIZES: Final = {"small": 400, "county": 6_000, "large": 100_000, "huge": 400_000}
MIN_EDGES: Final = 300
MAX_EDGES: Final = 2_000_000
#: Below this many edges the city is "small": a 12 × 8 km area, compact villages.
_SMALL_LIMIT: Final = 2_000
#: Edge count at which the area is the county's 30 × 20 km; larger ones grow.
_COUNTY_EDGES: Final = 8_000
#: Directed edges per village (lanes) and per village's share of rural lanes.
_VILLAGE_EDGES: Final = {True: 14.0, False: 45.0}
_RURAL_EDGES_PER_VILLAGE: Final = 3.0


@dataclass(frozen=True)
class SizePlan:
    """Dimensions of one city size."""

    label: str
    target_edges: int
    extent_m: tuple[float, float]
    town_shape: tuple[int, int]
    block_m: float
    village_range: tuple[int, int]
    compact_villages: bool
    park_shape: tuple[int, int]
    park_block_m: float
    lane_max_m: float


def size_plan(size: str | float) -> SizePlan:
    """The plan for a named size (``small``, ``county``, ``large``, ``huge``) or edge count."""
    label, target = _parse(size)
    if target < _SMALL_LIMIT:
        plan = SizePlan(
            label=label,
            target_edges=target,
            extent_m=(12_000.0, 8_000.0),
            town_shape=(5, 5),
            block_m=150.0,
            village_range=(10, 13),
            compact_villages=True,
            park_shape=(3, 3),
            park_block_m=200.0,
            lane_max_m=4_000.0,
        )
    else:
        scale = max(1.0, math.sqrt(target / _COUNTY_EDGES))
        plan = SizePlan(
            label=label,
            target_edges=target,
            extent_m=(30_000.0 * scale, 20_000.0 * scale),
            town_shape=(5, 5),
            block_m=120.0,
            village_range=(round(12 * scale**2), round(18 * scale**2) + 1),
            compact_villages=False,
            park_shape=(5, 4),
            park_block_m=250.0,
            lane_max_m=7_000.0,
        )
    return _with_town(plan)


def _parse(size: str | float) -> tuple[str, int]:
    if isinstance(size, str):
        text = size.strip().lower()
        if text in SIZES:
            return text, SIZES[text]
        try:
            size = float(text.replace("_", ""))
        except ValueError:
            names = ", ".join(SIZES)
            msg = f"unknown size {text!r}: use one of {names} or a number of edges"
            raise BadInputError(msg, field="size") from None
    if not math.isfinite(size) or not MIN_EDGES <= size <= MAX_EDGES:
        msg = f"an edge count must be between {MIN_EDGES} and {MAX_EDGES}, got {size!r}"
        raise BadInputError(msg, field="size")
    count = round(size)
    return f"{count} edges", count


def _with_town(plan: SizePlan) -> SizePlan:
    """Size the town grid (aspect 7:5) to fill what the countryside leaves."""
    villages = sum(plan.village_range) / 2.0
    px, py = plan.park_shape
    others = villages * (_VILLAGE_EDGES[plan.compact_villages] + _RURAL_EDGES_PER_VILLAGE)
    others += 4 * px * py + 60
    needed = plan.target_edges - 0.7 * others
    ny = 5
    while grid_edge_count(max(5, round(1.4 * ny)), ny) < needed:
        ny += 1
    return replace(plan, town_shape=(max(5, round(1.4 * ny)), ny))
