"""Expected work: cameras an investigator opens to recover an escape's route, Skynet vs by hand.

No footage is in the store: each camera must be opened (its footage pulled
and watched) to learn whether the target passed. Opening a camera shows
every passage of the target there from the crash on (both ways watch the
same footage, so the only difference is the order). Starting from the
crash-scene camera's sighting, the investigator opens one camera at a time
until the route is recovered:

    every camera passage of the target after the crash-scene sighting is
    either found (its camera was opened) or implied: it lies between two
    consecutive found sightings that force it — every road route between
    them that can be driven in their gap at free flow passes that camera's
    view (``skynet.implied``; the roads and the two sightings decide, not
    the cameras found empty).

Both ways get the same credit for implied cameras. The ways to choose:

* Skynet: the lookahead planner (``skynet.lookahead``): the camera expected
  to settle the most passages per opening, its chance of holding the target
  times the passages a find there settles (itself and those it would
  imply) — the frontier's most likely next camera, every camera onward by
  its chance of being passed at all (``skynet.onward``), and every camera
  in a gap between two found sightings by its chance of being passed there
  (``skynet.gap``).
* Skynet, next camera only (``--plain``): the frontier's most likely next
  camera, gaps filled the same way: what skipping ahead adds.
* by hand: the nearest online camera not opened yet, in straight-line
  distance from the latest sighting (in time) found so far.

The target's passages are its simulated sightings (no detection missed),
which carry the entry and exit edges a real sighting has. Each escape is
the hit-and-run scenario generated from another seed (as the coverage sweep
does: seeds without a 21.9 km escape, half rural, are skipped). Claim
(issue 6): at least 5x fewer cameras opened with Skynet.

Example: python benchmarks/bench_frontier.py --escapes 20 --workers 2 --cache /tmp/fcache
(``--cache``: each seed's simulated passages are kept there and read back by
later runs, and by ``fit_route_choice.py``; simulating them is most of a run).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from _escapes import escape, over_escapes

from camera_registry.registry import CameraRegistry
from skynet.frontier import FrontierModel
from skynet.implied import ImpliedCameras
from skynet.lookahead import Lookahead
from trackers.sighting import Sighting

#: Openings after which an escape counts as not recovered (both ways get the same).
CAP = 400


@dataclasses.dataclass
class Recovery:
    """The target's passages, which are found, and whether the route is recovered."""

    truth: list[Sighting]
    implied: ImpliedCameras
    found: set[str] = dataclasses.field(default_factory=set)
    opened: int = 0
    _forced: dict[tuple[str, str], set[str]] = dataclasses.field(default_factory=dict)

    def open(self, camera_id: str) -> list[Sighting]:
        """Open a camera: every passage of the target there is found."""
        self.opened += 1
        seen = [p for p in self.truth if p.camera_id == camera_id]
        self.found.update(p.id for p in seen)
        return seen

    def trail(self) -> list[Sighting]:
        return [p for p in self.truth if p.id in self.found]

    def recovered(self) -> bool:
        """Every passage found, or forced between the two found sightings around it."""
        trail = self.trail()
        at = 0
        for passage in self.truth:
            if passage.id in self.found:
                at += 1
                continue
            if at == 0 or at == len(trail):  # before the first or after the last found
                return False
            earlier, later = trail[at - 1], trail[at]
            key = (earlier.id, later.id)
            if key not in self._forced:
                self._forced[key] = set(self.implied.between(earlier, later))
            if passage.camera_id not in self._forced[key]:
                return False
        return True


def fewest_openings(truth: Sequence[Sighting], implied: ImpliedCameras) -> int:
    """With hindsight: cameras to open if every one held the target, each the farthest
    passage whose find still implies every passage since the last one found (greedy)."""
    at, picks = 0, set()
    while at < len(truth) - 1:
        reach = at + 1
        for far in range(len(truth) - 1, at + 1, -1):
            forced = set(implied.between(truth[at], truth[far]))
            if all(p.camera_id in forced for p in truth[at + 1 : far]):
                reach = far
                break
        picks.add(truth[reach].camera_id)
        at = reach
    return len(picks - {truth[0].camera_id})


Chooser = Callable[[Recovery, set[str]], str | None]


def follow(recovery: Recovery, choose: Chooser, start: Sighting) -> Recovery:
    """Open the chosen camera until the route is recovered (or CAP openings)."""
    recovery.found.add(start.id)
    opened = {start.camera_id}
    while not recovery.recovered():
        camera = choose(recovery, opened) if recovery.opened < CAP else None
        if camera is None:  # nothing left to open: the route is not recovered
            recovery.opened = CAP
            break
        opened.add(camera)
        recovery.open(camera)
    return recovery


def by_lookahead(planner: Lookahead, now_s: float) -> Chooser:
    def choose(recovery: Recovery, opened: set[str]) -> str | None:
        found = {p.camera_id for p in recovery.trail()}
        reviewed = dict.fromkeys(opened - found, now_s)
        pick = planner.next_opening(recovery.trail(), reviewed=reviewed, opened=opened, now_s=now_s)
        return None if pick is None else pick.camera_id

    return choose


def by_distance(registry: CameraRegistry) -> Chooser:
    ids = [str(c) for c in registry.ids]
    xy = registry.xy
    online = np.array([registry.get(c).status == "online" for c in ids])
    row = {c: i for i, c in enumerate(ids)}

    def choose(recovery: Recovery, opened: set[str]) -> str | None:
        head = max(recovery.trail(), key=lambda p: p.t_out)
        distance = np.hypot(*(xy - xy[row[head.camera_id]]).T)
        distance[~online | np.isin(ids, list(opened))] = np.inf
        pick = int(np.argmin(distance))
        return ids[pick] if np.isfinite(distance[pick]) else None

    return choose


def one_escape(
    seed: int, plain: bool = False, cache: Path | None = None, review_miss: float | None = None
) -> dict[str, float] | None:
    case = escape(seed, cache)
    if case is None:
        return None
    model = FrontierModel(case.network, case.registry, case.attachment, horizon_s=1800.0)
    implied = ImpliedCameras(case.network, case.attachment)
    start, truth = case.start, case.passages
    now_s = case.scenario.escape_window[1] + 600.0
    row: dict[str, float] = {"seed": float(seed), "passages": float(len(truth))}
    row["fewest"] = float(fewest_openings(truth, implied))
    ways: dict[str, Chooser] = {
        "skynet": by_lookahead(Lookahead.over(model, review_miss=review_miss), now_s),
        "hand": by_distance(case.registry),
    }
    if plain:
        plain_way = Lookahead.over(model, skip_ahead=False, review_miss=review_miss)
        ways["plain"] = by_lookahead(plain_way, now_s)
    for name, choose in ways.items():
        done = follow(Recovery(truth, implied), choose, start)
        row[f"{name}_opened"] = float(done.opened)
        row[f"{name}_found"] = float(len(done.found))
    return row


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--escapes", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--plain", action="store_true", help="also the next camera only")
    parser.add_argument(
        "--review-miss",
        type=float,
        help="chance a camera opened and watched through missed the target "
        "(default: the frontier's miss probability, 0.15)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        help="folder to keep each seed's simulated passages in and reuse them from",
    )
    args = parser.parse_args(argv)
    began = time.perf_counter()
    work = functools.partial(
        one_escape, plain=args.plain, cache=args.cache, review_miss=args.review_miss
    )
    rows, _ = over_escapes(work, args.escapes, args.first_seed, args.workers)
    rows.sort(key=lambda r: r["seed"])
    ways = ["skynet", *(["plain"] if args.plain else []), "hand"]
    print(f"{len(rows)} escapes in {time.perf_counter() - began:.0f} s (cap {CAP} openings)")
    names = {"skynet": "Skynet", "plain": "next camera only", "hand": "by distance"}
    head = " | ".join(f"{names[w]} opened (found)" for w in ways)
    print(f"| seed | passages | with hindsight | {head} | ratio |")
    print("|---" * (len(ways) + 4) + "|")
    for r in rows:
        cells = " | ".join(f"{r[w + '_opened']:.0f} ({r[w + '_found']:.0f})" for w in ways)
        ratio = r["hand_opened"] / max(r["skynet_opened"], 1)
        seed, passages, fewest = (f"{r[k]:.0f}" for k in ("seed", "passages", "fewest"))
        print(f"| {seed} | {passages} | {fewest} | {cells} | {ratio:.1f}× |")
    ratios = [r["hand_opened"] / max(r["skynet_opened"], 1) for r in rows]
    print(f"per-escape ratio: median {statistics.median(ratios):.1f}×, min {min(ratios):.1f}×")
    totals = {w: sum(r[w + "_opened"] for r in rows) for w in ways}
    hindsight = sum(r["fewest"] for r in rows)
    print(f"with hindsight (every camera opened holds the target): {hindsight:.0f}")
    print(
        "total opened: "
        + ", ".join(f"{names[w]} {totals[w]:.0f}" for w in ways)
        + f": {totals['hand'] / max(totals['skynet'], 1):.1f}× fewer; median per escape "
        + " vs ".join(f"{statistics.median(r[w + '_opened'] for r in rows):.0f}" for w in ways)
        + "; not recovered (cap) "
        + " vs ".join(f"{sum(r[w + '_opened'] >= CAP for r in rows)}" for w in ways)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
