"""Expected work: cameras an investigator opens to follow an escape, frontier vs by hand.

No footage is in the store: each camera must be opened (its footage pulled
and watched) to learn whether the target passed. Starting from the crash-
scene camera's sighting, the investigator opens one camera at a time until
the trail reaches the escape's last camera (from there the route between
the found sightings is inferred). Two ways to choose the next camera, from
the latest sighting found so far:

* Skynet: the first online camera of the frontier (``skynet.frontier``),
  ranked from the latest sighting's exit edge (the way it was heading) and
  the camera before it (the way back); its footage is watched from the start
  of its window on, and a camera found empty counts against itself and the
  ways past it.
* by hand: the nearest online camera not opened yet, in straight-line
  distance from the latest sighting, its footage watched from that sighting
  on (a generous window: the target is found if it ever passed later).

The target is found when it passed the camera in the footage watched. The
target's passages are its simulated sightings (no detection missed), which
carry the exit edge a real sighting has.
Each escape is the hit-and-run scenario generated from another seed (as the
coverage sweep does: seeds without a 21.9 km escape, half rural, are
skipped). Claim (issue 6): at least 5x fewer cameras opened with Skynet.

Example: python benchmarks/bench_frontier.py --escapes 20 --workers 2
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from collections.abc import Sequence

import numpy as np
from _escapes import escape_scenario, over_escapes

from camera_registry.registry import CameraRegistry
from skynet.frontier import FrontierModel
from skynet.roads.cameras import attach_cameras
from skynet.synthetic.sightings import SightingNoise, simulate_sightings
from trackers.sighting import Sighting

CRASH_CAMERA = "P01-CRASH"
#: Seconds of footage before the window an investigator also watches.
SCRUB_S = 30.0
#: Openings after which an escape counts as not followed (both ways get the same).
CAP = 400


@dataclasses.dataclass
class Trail:
    """What the investigator knows: the latest sighting found and every camera opened."""

    camera_id: str
    after_s: float
    exit_edge: str | None = None
    opened: int = 0
    found: int = 1


def follow_with_frontier(
    model: FrontierModel,
    passages: dict[str, list[Sighting]],
    start: Sighting,
    goal: Sighting,
    now_s: float,
) -> Trail:
    trail = Trail(start.camera_id, start.t_out, start.exit_edge)
    reviewed: dict[str, float] = {}
    came_from: str | None = None
    while trail.opened < CAP and trail.after_s < goal.t_out:
        ranked = model.rank(
            trail.camera_id, trail.after_s, reviewed=reviewed,
            came_from=came_from, exit_edge=trail.exit_edge,
            now_s=now_s, limit=25, unreviewed_only=True,
        )  # fmt: skip
        choice = next((c for c in ranked if c.status == "online"), None)
        if choice is None:  # nothing reachable left unopened: the trail is lost
            trail.opened = CAP
            break
        trail.opened += 1
        low = choice.window_start_s - SCRUB_S  # watched from then on, as by hand
        seen = [
            p
            for p in passages.get(choice.camera_id, [])
            if p.t_in >= low and p.t_out > trail.after_s
        ]
        if seen:
            came_from = trail.camera_id
            trail.camera_id, trail.after_s = choice.camera_id, seen[0].t_out
            trail.exit_edge = seen[0].exit_edge
            trail.found += 1
        else:
            reviewed[choice.camera_id] = now_s
    return trail


def follow_by_distance(
    registry: CameraRegistry,
    passages: dict[str, list[Sighting]],
    start: Sighting,
    goal: Sighting,
) -> Trail:
    ids = [str(c) for c in registry.ids]
    xy = registry.xy
    online = np.array([registry.get(c).status == "online" for c in ids])
    row = {c: i for i, c in enumerate(ids)}
    trail = Trail(start.camera_id, start.t_out)
    opened = np.zeros(len(ids), dtype=bool)
    opened[row[start.camera_id]] = True
    while trail.opened < CAP and trail.after_s < goal.t_out:
        distance = np.hypot(*(xy - xy[row[trail.camera_id]]).T)
        distance[opened | ~online] = np.inf
        pick = int(np.argmin(distance))
        if not np.isfinite(distance[pick]):
            trail.opened = CAP
            break
        opened[pick] = True
        trail.opened += 1
        later = [p for p in passages.get(ids[pick], []) if p.t_in >= trail.after_s]
        if later:
            trail.camera_id, trail.after_s = ids[pick], later[0].t_out
            trail.found += 1
    return trail


def one_escape(seed: int) -> dict[str, float] | None:
    scenario = escape_scenario(seed)
    if scenario is None:
        return None
    network = scenario.city.road_network()
    registry = CameraRegistry(scenario.cameras, scenario.city.crs)
    attachment = attach_cameras(network, registry)
    model = FrontierModel(network, registry, attachment, horizon_s=1800.0)
    simulated = simulate_sightings(scenario, noise=SightingNoise(missed=0.0))
    seen = sorted(simulated.of_vehicle(scenario.target_id), key=lambda s: s.t_in)
    passages: dict[str, list[Sighting]] = {}
    for passage in seen:
        passages.setdefault(passage.camera_id, []).append(passage)
    start = next(s for s in seen if s.camera_id == CRASH_CAMERA)
    goal = seen[-1]
    now_s = scenario.escape_window[1] + 600.0
    mine = follow_with_frontier(model, passages, start, goal, now_s)
    theirs = follow_by_distance(registry, passages, start, goal)
    return {
        "seed": float(seed),
        "cameras_saw": float(len(passages)),
        "skynet_opened": float(mine.opened),
        "skynet_found": float(mine.found),
        "hand_opened": float(theirs.opened),
        "hand_found": float(theirs.found),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--escapes", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    rows, _ = over_escapes(one_escape, args.escapes, args.first_seed, args.workers)
    rows.sort(key=lambda r: r["seed"])
    print(f"{len(rows)} escapes in {time.perf_counter() - began:.0f} s (cap {CAP} openings)")
    print("| seed | cameras that saw it | Skynet opened (found) | by hand opened (found) | ratio |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['seed']:.0f} | {r['cameras_saw']:.0f} | {r['skynet_opened']:.0f} "
            f"({r['skynet_found']:.0f}) | {r['hand_opened']:.0f} ({r['hand_found']:.0f}) "
            f"| {r['hand_opened'] / max(r['skynet_opened'], 1):.1f}× |"
        )
    mine = sum(r["skynet_opened"] for r in rows)
    theirs = sum(r["hand_opened"] for r in rows)
    capped = (
        sum(r["skynet_opened"] >= CAP for r in rows),
        sum(r["hand_opened"] >= CAP for r in rows),
    )
    ratios = [r["hand_opened"] / max(r["skynet_opened"], 1) for r in rows]
    print(f"per-escape ratio: median {statistics.median(ratios):.1f}×, min {min(ratios):.1f}×")
    print(
        f"total opened: Skynet {mine:.0f}, by hand {theirs:.0f}: "
        f"{theirs / max(mine, 1):.1f}× fewer; "
        f"median per escape {statistics.median(r['skynet_opened'] for r in rows):.0f} vs "
        f"{statistics.median(r['hand_opened'] for r in rows):.0f}; trail lost (cap) "
        f"{capped[0]} vs {capped[1]}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
