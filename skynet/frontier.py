"""Where to look next: the cameras most likely to hold the target after its last sighting.

From the last confirmed sighting, every camera the target could reach within
the transition model's horizon is a candidate, with the window in which it
would have passed (free-flow time from the last sighting, up to
``MAX_SLOWDOWN`` times slower, never later than now). A candidate's weight
falls with its free-flow time (the farther, the likelier the target stopped
or turned before it) and with the evidence: each reviewed camera on the way
that saw nothing multiplies it by the miss probability, and so does the
candidate's own silence. Offline cameras say nothing, so their weight stands:
they are where footage must be fetched by hand. Weights are normalised to
shares of the candidates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np

from camera_registry.registry import CameraRegistry
from skynet._evidence import EvidenceParams
from skynet.errors import BadInputError
from skynet.transitions import TransitionModel

#: Slowest plausible passage, as a multiple of the free-flow time.
MAX_SLOWDOWN: Final = 3.0
#: Free-flow time (s) over which a candidate's prior weight falls by e.
PRIOR_SCALE_S: Final = 300.0
#: Candidates examined at most, nearest first (a city camera reaches thousands).
MAX_CANDIDATES: Final = 400


@dataclass(frozen=True)
class FrontierCamera:
    """One camera to open: when to look, how likely, and why."""

    camera_id: str
    status: str
    window_start_s: float
    window_end_s: float
    free_flow_s: float
    share: float
    reviewed: bool
    silent_on_way: tuple[str, ...]

    @property
    def reason(self) -> str:
        """What a detective is told about this camera."""
        parts = [f"{self.free_flow_s / 60:.1f} min from the last sighting at free flow"]
        if self.status != "online":
            parts.append(f"{self.status}: footage not searched, fetch it from the recorder")
        elif self.reviewed:
            parts.append("reviewed, nothing like the target")
        else:
            parts.append("not reviewed yet")
        if self.silent_on_way:
            parts.append("behind silent " + ", ".join(self.silent_on_way))
        return "; ".join(parts)


def frontier(
    transitions: TransitionModel,
    registry: CameraRegistry,
    from_camera: str,
    after_s: float,
    *,
    reviewed: Mapping[str, float] | None = None,
    now_s: float | None = None,
    limit: int = 10,
    unreviewed_only: bool = False,
    params: EvidenceParams | None = None,
) -> list[FrontierCamera]:
    """The ``limit`` cameras most likely to show the target next, best first: it was
    last seen leaving ``from_camera``'s view at ``after_s`` (UTC s).

    ``reviewed``: camera id → the time (UTC s) up to which its footage was
    searched and held no link to the target; a camera counts as reviewed when
    that covers the earliest time the target could have passed it. ``now_s``
    (default: the end of the horizon) caps the windows; a camera the target
    could not have reached by then is left out. ``unreviewed_only`` lists only
    the cameras still to open (shares stay those among all candidates).
    """
    if limit < 1:
        raise BadInputError(f"limit must be at least 1, got {limit}", field="limit")
    miss = (params or EvidenceParams()).miss_probability
    now = after_s + transitions.horizon_s if now_s is None else now_s
    if now < after_s:
        msg = f"now ({now:.0f}) is before the last sighting ends ({after_s:.0f})"
        raise BadInputError(msg, field="now")
    reach = transitions.reachable(from_camera)
    keep = (reach.to_ids != from_camera) & (after_s + reach.free_flow_s <= now)
    ids = reach.to_ids[keep][:MAX_CANDIDATES].tolist()
    free = reach.free_flow_s[keep][:MAX_CANDIDATES]
    if not ids:
        return []
    status = [registry.get(c).status for c in ids]
    searched_until = reviewed or {}
    searched = {
        c
        for c, s, t in zip(ids, status, free.tolist(), strict=True)
        if s == "online" and searched_until.get(c, -math.inf) >= after_s + t
    }
    silent = [tuple(v for v in transitions.via(from_camera, c) if v in searched) for c in ids]
    exponent = np.array([len(s) + (c in searched) for c, s in zip(ids, silent, strict=True)])
    weight = np.exp(-free / PRIOR_SCALE_S) * miss**exponent
    share = weight / weight.sum()
    order = [
        i
        for i in np.argsort(-share, kind="stable").tolist()
        if not (unreviewed_only and ids[i] in searched)
    ][:limit]
    return [
        FrontierCamera(
            camera_id=ids[i],
            status=status[i],
            window_start_s=after_s + float(free[i]),
            window_end_s=min(after_s + MAX_SLOWDOWN * float(free[i]) + 60.0, now),
            free_flow_s=float(free[i]),
            share=float(share[i]),
            reviewed=ids[i] in searched,
            silent_on_way=silent[i],
        )
        for i in order
    ]
