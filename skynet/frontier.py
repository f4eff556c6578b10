"""Where to look next: the cameras most likely to show the target after its last sighting.

From the camera that last saw the target, two searches over the road graph:
the quickest way to every camera (when the target could first be there), and
the way round the watched roads (every edge an online camera watches costs a
penalty far above any trip), which tells for each camera the fewest watched
roads the target must have driven past unseen to reach it, and in what time.
A candidate's weight is the chance that it is the *next* camera to show the
target: it falls with that time (the farther, the likelier the target
stopped or turned before it) and with the miss probability for each watched
road passed unseen, and for its own silence once its footage was reviewed
over the window; going back through the camera the target came from weighs
``TURN_BACK``. So the nearest cameras on every way out come first, and a
fleeing driver's way round the cameras (rural lanes) stays in the list.
Offline cameras say nothing: their weight stands, and they are where footage
must be fetched by hand. Weights are normalised to shares of the candidates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix

from camera_registry.registry import CameraRegistry
from skynet._anchors import edge_rows_by_label
from skynet._directed import AVOID_PENALTY_S
from skynet._evidence import EvidenceParams
from skynet._paths import _bounded, road_matrices
from skynet.errors import BadInputError
from skynet.roads.cameras import CameraAttachment
from skynet.roads.network import RoadNetwork

#: Slowest plausible passage, as a multiple of the free-flow time (way round).
MAX_SLOWDOWN: Final = 3.0
#: Free-flow time (s) over which a candidate's prior weight falls by e.
PRIOR_SCALE_S: Final = 300.0
#: Weight of a candidate reached back through the camera the target came from.
TURN_BACK: Final = 0.05
#: Cost of driving an edge an online camera watches, on the way round (s): the
#: linker's, far above any trip.
PENALTY_S: Final = AVOID_PENALTY_S
#: Watched roads passed unseen beyond which a camera is no candidate.
MAX_PASSED: Final = 6
#: Candidates examined at most, nearest first (a city camera reaches thousands).
MAX_CANDIDATES: Final = 400

FloatArray = NDArray[np.float64]


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
    passed_unseen: int

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
        if self.passed_unseen:
            parts.append(f"only past {self.passed_unseen} watched road(s) unseen")
        return "; ".join(parts)


@dataclass(eq=False)
class FrontierModel:
    """The two road graphs of the searches, built once per network and registry."""

    network: RoadNetwork
    registry: CameraRegistry
    attachment: CameraAttachment
    horizon_s: float
    params: EvidenceParams = field(default_factory=EvidenceParams)
    _graphs: tuple[csr_matrix, csr_matrix] | None = None

    def rank(
        self,
        from_camera: str,
        after_s: float,
        *,
        reviewed: Mapping[str, float] | None = None,
        came_from: str | None = None,
        exit_edge: str | None = None,
        now_s: float | None = None,
        limit: int = 10,
        unreviewed_only: bool = False,
    ) -> list[FrontierCamera]:
        """The ``limit`` cameras most likely to show the target next, best first: it was
        last seen leaving ``from_camera``'s view at ``after_s`` (UTC s).

        ``reviewed``: camera id → the time (UTC s) up to which its footage (or
        recorder) was searched and held no target; a camera counts as reviewed
        when that covers its window. ``came_from``: the camera of the sighting
        before (the way back). ``exit_edge``: the ``u-v-key`` edge the target left
        the view on, when the sighting tells (the searches start at its head, so
        only the way it was heading counts). ``now_s`` (default: the end of the horizon) caps
        the windows; a camera the target could not have reached by then is left
        out. ``unreviewed_only`` lists only the cameras still to open (shares
        stay those among all candidates).
        """
        if limit < 1:
            raise BadInputError(f"limit must be at least 1, got {limit}", field="limit")
        if from_camera not in self.registry:
            raise BadInputError(f"unknown camera {from_camera!r}", field="camera")
        now = after_s + self.horizon_s if now_s is None else now_s
        if now < after_s:
            msg = f"now ({now:.0f}) is before the last sighting ends ({after_s:.0f})"
            raise BadInputError(msg, field="now")
        searched_until = reviewed or {}
        quickest, way_round = self._arrivals(from_camera, exit_edge)
        passed = np.floor(way_round / PENALTY_S)
        round_s = np.full(way_round.shape, np.inf)
        reached = np.isfinite(way_round)
        round_s[reached] = way_round[reached] - passed[reached] * PENALTY_S
        ids = self.attachment.camera_ids.astype(str)
        keep = (
            np.isfinite(quickest)
            & (quickest <= min(self.horizon_s, now - after_s))
            & (passed <= MAX_PASSED)
            & (ids != from_camera)
        )
        rows = np.flatnonzero(keep)
        rows = rows[np.argsort(quickest[rows], kind="stable")][:MAX_CANDIDATES]
        if rows.size == 0:
            return []
        start = after_s + quickest[rows]
        end = np.minimum(
            after_s + MAX_SLOWDOWN * np.maximum(round_s[rows], quickest[rows]) + 60.0, now
        )
        opened = np.array(
            [searched_until.get(ids[r], -math.inf) >= e for r, e in zip(rows, start, strict=True)]
        )
        online = self.attachment.online[rows]
        miss = self.params.miss_probability
        exponent = passed[rows] + (opened & online)
        seconds = np.maximum(round_s[rows], quickest[rows])
        weight = np.exp(-seconds / PRIOR_SCALE_S) * miss**exponent
        if came_from is not None and came_from in self.registry:
            weight *= np.where(self._behind(quickest, came_from, rows), TURN_BACK, 1.0)
        share = weight / weight.sum()
        order = [
            i
            for i in np.argsort(-share, kind="stable").tolist()
            if not (unreviewed_only and opened[i])
        ][:limit]
        return [
            FrontierCamera(
                camera_id=str(ids[rows[i]]),
                status=self.registry.get(str(ids[rows[i]])).status,
                window_start_s=float(start[i]),
                window_end_s=float(max(end[i], start[i])),
                free_flow_s=float(quickest[rows[i]]),
                share=float(share[i]),
                reviewed=bool(opened[i]),
                passed_unseen=int(passed[rows[i]]),
            )
            for i in order
        ]

    def free_flow_from(self, from_camera: str) -> dict[str, float]:
        """Quickest free-flow seconds from ``from_camera``'s view to the start of every
        camera's view it reaches within the horizon (a lower bound of any trip's)."""
        quickest, _ = self._arrivals(from_camera)
        ids = self.attachment.camera_ids.astype(str)
        reached = np.flatnonzero(np.isfinite(quickest) & (quickest <= self.horizon_s))
        return {str(ids[r]): float(quickest[r]) for r in reached.tolist()}

    def _arrivals(
        self, from_camera: str, exit_edge: str | None = None
    ) -> tuple[FloatArray, FloatArray]:
        """Per registry camera: quickest free-flow seconds to the start of its view, and the
        way round's cost (watched roads passed × ``PENALTY_S`` + seconds); inf if unreached.

        Trips start where the last view ends on its edge (on the exit edge when it is
        known, else on every edge the camera watches): a camera farther along the same
        edge is reached directly, every other one through the edge's head.
        """
        plain, costly = self._matrices()
        att, edges = self.attachment, self.network.edges
        mine, to_head = departures(att, self.network, from_camera, exit_edge)
        edge = att.edge[mine]
        quick = _bounded(plain, edges.v[edge], to_head, self.horizon_s)
        bound = MAX_PASSED * PENALTY_S + MAX_SLOWDOWN * self.horizon_s
        round_ = _bounded(costly, edges.v[edge], to_head, bound)
        along = edges.travel_time[att.edge] * np.clip(
            att.start_m / edges.length[att.edge], 0.0, 1.0
        )
        quick_at = quick[edges.u[att.edge]] + along
        round_at = round_[edges.u[att.edge]] + along
        for row, end_m in zip(edge.tolist(), att.end_m[mine].tolist(), strict=True):
            ahead = (att.edge == row) & (att.start_m >= end_m)  # farther along the same edge
            direct = edges.travel_time[row] * (att.start_m[ahead] - end_m) / edges.length[row]
            quick_at[ahead] = np.minimum(quick_at[ahead], direct)
            round_at[ahead] = np.minimum(round_at[ahead], direct)
        return self._per_camera(quick_at), self._per_camera(round_at)

    def _per_camera(self, at_pairs: FloatArray) -> FloatArray:
        """Each camera's least value over its attachment pairs."""
        best = np.full(self.attachment.camera_ids.shape[0], np.inf)
        np.minimum.at(best, self.attachment.camera, at_pairs)
        return best

    def _behind(
        self, direct: FloatArray, came_from: str, rows: NDArray[np.intp]
    ) -> NDArray[np.bool_]:
        """Candidates reached at least as quickly back through ``came_from`` (the way back);
        ``direct``: the quickest times from the last view, as ``rank`` found them."""
        own = self.attachment.camera_rows([came_from])[0]
        via_back = direct[own]
        if not np.isfinite(via_back):
            return np.zeros(rows.size, dtype=bool)
        onward, _ = self._arrivals(came_from)
        through = via_back + onward[rows]
        return np.asarray((through <= direct[rows] + 1.0) | (rows == own))

    def _matrices(self) -> tuple[csr_matrix, csr_matrix]:
        if self._graphs is None:
            self._graphs = road_matrices(self.network, self.attachment, PENALTY_S)
        return self._graphs


def departures(
    attachment: CameraAttachment, network: RoadNetwork, camera: str, exit_edge: str | None
) -> tuple[NDArray[np.intp], FloatArray]:
    """Where a target leaves ``camera``'s view: its attachment rows (on ``exit_edge`` when
    the camera watches it, else every edge it watches) and the free-flow seconds from
    the end of the view to each edge's head."""
    mine = attachment.pairs_of(camera)
    exit_row = edge_rows_by_label(network).get(exit_edge or "")
    if exit_row is not None and np.any(attachment.edge[mine] == exit_row):
        mine = mine[attachment.edge[mine] == exit_row]
    if mine.size == 0:
        msg = f"camera {camera!r} watches no road edge: no way out of its view is known"
        raise BadInputError(msg, field="camera")
    edge = attachment.edge[mine]
    share_left = 1.0 - np.clip(attachment.end_m[mine] / network.edges.length[edge], 0.0, 1.0)
    return mine, np.asarray(network.edges.travel_time[edge] * share_left, dtype=np.float64)
