"""Which camera to open next: the one expected to settle the most of the trail per opening.

The frontier ranks the cameras most likely to show the target *next*. A
farther camera can settle more: if the target is found there, every camera
the two sightings force in between (``skynet.implied``) is settled unopened.
So every choice is scored alike, as the chance of finding the target there
times the cameras it would settle (itself and those a find would imply):

* the frontier's most likely next camera (its share among the online
  cameras not opened yet; settles itself);
* onward from the latest sighting: every camera by its chance of being
  passed at all on the way on (``skynet.onward``), with the cameras a find
  there would imply, read at the time the target would reach it at the
  trail's pace (the median ratio of a found leg's gap to its free-flow
  time); where all ways converge far ahead, one opening there settles the
  whole stretch;
* back in a gap between two sightings whose route is not forced: every
  camera by its chance of being passed at all in the gap (``skynet.gap``:
  routes along every road that fits the gap, weighed by their detour in the
  onward model's route choice and by the cameras opened empty on them),
  each with what a find there would imply on either side of it, at the time
  the route through it gives;
* and when no model proposes anything (a view that sees a junction from a
  road it is not attached to), any camera that fits a gap, by its detour.

Cameras opened whole (found or not) whose footage shows no passage in a
stretch of time count as empty there, onward and in the gaps alike.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from skynet.errors import BadInputError
from skynet.frontier import MAX_SLOWDOWN, PRIOR_SCALE_S, FrontierCamera, FrontierModel
from skynet.gap import GapModel
from skynet.implied import ImpliedCameras, Visit
from skynet.onward import OnwardModel
from trackers.sighting import Sighting

#: Onward cameras less likely to be passed than this are not proposed.
MIN_CHANCE: Final = 0.02
#: Onward cameras whose implied cameras are read at most per choice (best bound first).
MAX_EXACT: Final = 30
#: Gap cameras whose implied cameras are read at most per gap (likeliest first).
MAX_EXACT_GAP: Final = 10
#: Pace assumed before any leg is found (gap over free-flow time).
PRIOR_PACE: Final = 1.25
#: Candidates read from each frontier ranking.
RANKED: Final = 40
#: Free-flow seconds a found leg needs to be read for the pace (short ones are noise).
MIN_LEG_S: Final = 30.0
#: Slowest pace (gap over free-flow time) a found leg is read as.
MAX_PACE: Final = 3.0


@dataclass(frozen=True)
class Opening:
    """A camera to open next with the minutes to watch, the chance the target is there,
    and the cameras a find there would settle besides itself."""

    camera_id: str
    window_start_s: float
    window_end_s: float
    chance: float
    settles: tuple[str, ...] = ()
    gap: tuple[str, str] | None = None

    @property
    def value(self) -> float:
        """Cameras expected to be settled by opening it."""
        return self.chance * (1 + len(self.settles))


@dataclass(eq=False)
class Lookahead:
    """The planner over one world's frontier, onward and forced-camera models (with caches)."""

    frontier: FrontierModel
    implied: ImpliedCameras
    onward: OnwardModel
    gap: GapModel
    skip_ahead: bool = True
    gaps_first: bool = False
    pace_of: float = PRIOR_PACE
    _forced: dict[tuple[object, ...], list[str]] = field(default_factory=dict)
    _reach: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def over(
        cls,
        frontier: FrontierModel,
        *,
        skip_ahead: bool = True,
        gaps_first: bool = False,
        review_miss: float | None = None,
    ) -> Lookahead:
        """The planner over the frontier model's world; ``review_miss``: the chance a
        camera opened and watched through missed the target (default: the frontier's
        miss probability)."""
        miss = frontier.params.miss_probability if review_miss is None else review_miss
        if not 0.0 <= miss <= 1.0:
            raise BadInputError(f"review_miss {miss} is not a probability", field="review_miss")
        implied = ImpliedCameras(frontier.network, frontier.attachment)
        onward = OnwardModel(frontier.network, frontier.attachment, frontier.horizon_s, miss)
        gap = GapModel(frontier.network, frontier.attachment, miss, route=onward.route)
        return cls(frontier, implied, onward, gap, skip_ahead=skip_ahead, gaps_first=gaps_first)

    def next_opening(
        self,
        trail: Sequence[Sighting],
        *,
        reviewed: Mapping[str, float],
        opened: Collection[str],
        now_s: float,
    ) -> Opening | None:
        """The opening with the most cameras expected to be settled (None: nothing left).

        ``trail``: the target's sightings found so far; ``reviewed``: cameras whose
        footage held no target, searched up to when; ``opened``: cameras not to
        propose again (opened already, found or not).
        """
        ordered = sorted(trail, key=lambda s: (s.t_in, s.t_out))
        pace = self.pace_of = self.pace(ordered)
        options = self._onward(ordered, reviewed, opened, now_s, pace)
        for earlier, later in itertools.pairwise(ordered):
            options += self._in_gap(earlier, later, ordered, reviewed, opened)
        if not options:
            options = self._fallback(ordered, opened)
        return max(
            options, key=lambda o: (self.gaps_first and o.gap is not None, o.value), default=None
        )

    def _fallback(self, ordered: Sequence[Sighting], opened: Collection[str]) -> list[Opening]:
        """When no route model proposes anything: every online camera not opened that can be
        reached from a sighting and reach the next one in their gap (twice it, for a target
        faster than free flow), by the detour it needs (a view that sees a junction from a
        road it is not attached to shows passages no route model puts there)."""
        online = set(self.frontier.attachment.camera_ids[self.frontier.attachment.online].tolist())
        options = []
        for earlier, later in itertools.pairwise(ordered):
            gap = later.t_in - earlier.t_out
            direct = self._reach_from(earlier.camera_id).get(later.camera_id, 0.0)
            for camera, there in self._reach_from(earlier.camera_id).items():
                if camera in opened or camera not in online:
                    continue
                on = self._reach_from(camera).get(later.camera_id)
                if on is None or there + on > max(gap, direct) * 2.0 + 60.0:
                    continue
                chance = MIN_CHANCE * math.exp(-max(there + on - direct, 0.0) / PRIOR_SCALE_S)
                window = (earlier.t_out, later.t_in)
                options.append(Opening(camera, *window, chance, (), (earlier.id, later.id)))
        return options

    def pace(self, ordered: Sequence[Sighting]) -> float:
        """The trail's pace: the median gap over free-flow time of the found legs that take
        ``MIN_LEG_S`` or more at free flow (``PRIOR_PACE`` with none)."""
        ratios = []
        for earlier, later in itertools.pairwise(ordered):
            quickest = self._reach_from(earlier.camera_id).get(later.camera_id)
            if quickest is not None and quickest >= MIN_LEG_S:
                ratios.append((later.t_in - earlier.t_out) / quickest)
        pace = float(np.median(ratios)) if ratios else PRIOR_PACE
        return min(max(pace, 1.0), MAX_PACE)

    def settled_between(self, earlier: Sighting, later: Sighting) -> list[str]:
        """Cameras the two sightings force (cached)."""
        return self._forced_between(Visit.leaving(earlier), Visit.entering(later))

    def _onward(
        self,
        ordered: Sequence[Sighting],
        reviewed: Mapping[str, float],
        opened: Collection[str],
        now_s: float,
        pace: float,
    ) -> list[Opening]:
        last = ordered[-1]
        came_from = next(
            (s.camera_id for s in reversed(ordered[:-1]) if s.camera_id != last.camera_id), None
        )
        nearest = [
            Opening(c.camera_id, c.window_start_s, c.window_end_s, share)
            for c, share in self._candidates(last, came_from, reviewed, opened, now_s)[:1]
        ]
        if not self.skip_ahead:
            return nearest
        empty = _empty_over(ordered, reviewed, opened, last.t_out, now_s)
        way = self.onward.onward(last.camera_id, last.exit_edge, empty=empty, came_from=came_from)
        ids = self.frontier.attachment.camera_ids.astype(str)
        usable = (
            self.frontier.attachment.online
            & ~np.isin(ids, list(opened))
            & (way.seconds <= min(self.frontier.horizon_s, now_s - last.t_out))
            & (way.chance >= MIN_CHANCE)
        )
        rows = np.flatnonzero(usable)
        if rows.size == 0:
            return nearest
        chance, seconds = way.chance[rows], way.seconds[rows]
        # a camera a find at X implies is on every way to X in the time: reached sooner
        bound = chance * (1 + np.searchsorted(np.sort(seconds), seconds, side="left"))
        start = Visit.leaving(last)
        quickest = self._reach_from(last.camera_id)
        options: list[Opening] = list(nearest)
        best = max((o.value for o in nearest), default=0.0)
        for i in np.argsort(-bound, kind="stable")[:MAX_EXACT].tolist():
            if bound[i] <= best:
                break
            camera = str(ids[rows[i]])
            soonest = quickest.get(camera, float(seconds[i]))
            at = Visit(camera, last.t_out + pace * soonest, way.entry_edge[rows[i]] or None)
            settles = tuple(c for c in self._forced_between(start, at) if c not in opened)
            end = min(last.t_out + MAX_SLOWDOWN * float(seconds[i]) + 60.0, now_s)
            option = Opening(camera, last.t_out + soonest, end, float(chance[i]), settles)
            options.append(option)
            best = max(best, option.value)
        return options

    def _in_gap(
        self,
        earlier: Sighting,
        later: Sighting,
        trail: Sequence[Sighting],
        reviewed: Mapping[str, float],
        opened: Collection[str],
    ) -> list[Opening]:
        if later.t_in <= earlier.t_out:
            return []
        forced = set(self.settled_between(earlier, later))
        start, end = Visit.leaving(earlier), Visit.entering(later)
        empty = _empty_over(trail, reviewed, opened, earlier.t_out, later.t_in)
        way = self.gap.between(start, end, empty=empty)
        ids = self.frontier.attachment.camera_ids.astype(str)
        usable = (
            self.frontier.attachment.online
            & ~np.isin(ids, [*opened, *forced])
            & (way.chance >= MIN_CHANCE)
        )
        rows = np.flatnonzero(usable)
        gap = (earlier.id, later.id)
        options = []
        for row in rows[np.argsort(-way.chance[rows], kind="stable")][:MAX_EXACT_GAP].tolist():
            at = Visit(str(ids[row]), float(way.at_s[row]), way.entry_edge[row] or None)
            either = dict.fromkeys(self._forced_between(start, at) + self._forced_between(at, end))
            settles = tuple(c for c in either if c not in opened and c not in forced)
            window = (earlier.t_out, later.t_in)
            options.append(Opening(at.camera_id, *window, float(way.chance[row]), settles, gap))
        return options

    def _candidates(
        self,
        last: Sighting,
        came_from: str | None,
        reviewed: Mapping[str, float],
        opened: Collection[str],
        now_s: float,
    ) -> list[tuple[FrontierCamera, float]]:
        """Online cameras not opened yet, onward from a sighting, with shares among them."""
        ranked = self.frontier.rank(
            last.camera_id,
            last.t_out,
            reviewed=reviewed,
            came_from=came_from,
            exit_edge=last.exit_edge,
            now_s=max(now_s, last.t_out),
            limit=RANKED,
            unreviewed_only=True,
        )
        kept = [c for c in ranked if c.status == "online" and c.camera_id not in opened]
        total = sum(c.share for c in kept)
        return [(c, c.share / total) for c in kept] if total > 0 else []

    def _forced_between(self, left: Visit, entered: Visit) -> list[str]:
        key = (left.camera_id, round(left.time_s, 1), left.edge,
               entered.camera_id, round(entered.time_s, 1), entered.edge)  # fmt: skip
        if key not in self._forced:
            self._forced[key] = self.implied.forced(left, entered)
        return self._forced[key]

    def _reach_from(self, camera_id: str) -> dict[str, float]:
        if camera_id not in self._reach:
            self._reach[camera_id] = self.frontier.free_flow_from(camera_id)
        return self._reach[camera_id]


def _empty_over(
    trail: Sequence[Sighting],
    reviewed: Mapping[str, float],
    opened: Collection[str],
    after_s: float,
    until_s: float,
) -> list[str]:
    """Cameras whose footage over ``after_s``..``until_s`` was watched and did not show the
    target: reviewed that far, or opened without a time (every passage there is known),
    and no sighting of the trail there in between."""
    seen = {s.camera_id for s in trail if s.t_out > after_s and s.t_in < until_s}
    watched = {c for c, t in reviewed.items() if t >= until_s}
    watched |= {c for c in opened if c not in reviewed}
    return sorted(watched - seen)
