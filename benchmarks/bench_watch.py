"""Watch alerts: precision and recall on escapes with look-alike traffic, and the cost of matching.

Each escape is the hit-and-run scenario generated from another seed (as the
coverage sweep does). A watch is made from the target's first three
sightings (their mean look, their class, the third one's camera and time as
the last known place); every later sighting of every vehicle is then held
against it, as ingest would hand them over clip by clip. Reported: alert
precision (alerts on the target / all alerts) and recall (the target's later
sightings alerted / all of them), with and without the reach check, and
the time to match one clip's sightings against many watches at once.

Example: python benchmarks/bench_watch.py --escapes 20 --workers 2
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import numpy as np
from _escapes import SPEC, escape_scenario, over_escapes

from camera_registry.registry import CameraRegistry
from skynet.frontier import FrontierModel
from skynet.roads.cameras import attach_cameras
from skynet.synthetic.scenario import ScenarioSpec, build_scenario
from skynet.synthetic.sightings import simulate_sightings
from skynet.watch import Watch, match_watches, watch_for_target
from trackers.sighting import Sighting


def one_escape(seed: int) -> dict[str, float] | None:
    scenario = escape_scenario(seed)
    if scenario is None:
        return None
    network = scenario.city.road_network()
    registry = CameraRegistry(scenario.cameras, scenario.city.crs)
    model = FrontierModel(network, registry, attach_cameras(network, registry), horizon_s=1800.0)
    simulated = simulate_sightings(scenario)
    mine = sorted(simulated.of_vehicle(scenario.target_id), key=lambda s: s.t_in)
    known, last = mine[:3], mine[2]
    watch = watch_for_target("bench", "benchmark", known, end_s=mine[-1].t_out + 600.0)
    later = [s for s in simulated.sightings if s.t_in > last.t_out]
    truth = simulated.truth
    wanted = {s.id for s in later if truth[s.id] == scenario.target_id}

    row: dict[str, float] = {"seed": float(seed), "target_sightings": float(len(wanted))}
    for name, reach in (("no reach", None), ("with reach", model.free_flow_from)):
        alerts = match_watches([watch], later, registry, reach, model.horizon_s)
        right = sum(a.sighting_id in wanted for a in alerts)
        row[f"{name} alerts"] = float(len(alerts))
        row[f"{name} precision"] = right / len(alerts) if alerts else 1.0
        row[f"{name} recall"] = right / len(wanted) if wanted else 1.0
    return row


def matching_cost(watches: int, batch: Sequence[Sighting], registry: CameraRegistry) -> float:
    """Median seconds to match one clip's sightings against many watches (no reach check)."""
    looks = np.random.default_rng(0).normal(size=(watches, 64)).astype(np.float32)
    held = [Watch(f"w{i}", "c", "r", look, "car", 0.0, 1e12) for i, look in enumerate(looks)]
    runs = []
    for _ in range(5):
        began = time.perf_counter()
        match_watches(held, batch, registry)
        runs.append(time.perf_counter() - began)
    return float(np.median(runs))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--escapes", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    rows, _ = over_escapes(one_escape, args.escapes, args.first_seed, args.workers)
    print(f"{len(rows)} escapes in {time.perf_counter() - began:.0f} s")
    print("| check | alerts | precision | recall |")
    print("|---|---|---|---|")
    for name in ("no reach", "with reach"):
        alerts = sum(r[f"{name} alerts"] for r in rows)
        right = sum(r[f"{name} precision"] * r[f"{name} alerts"] for r in rows)
        found = sum(r[f"{name} recall"] * r["target_sightings"] for r in rows)
        total = sum(r["target_sightings"] for r in rows)
        print(f"| {name} | {alerts:.0f} | {right / max(alerts, 1):.3f} | {found / total:.3f} |")
    scenario = build_scenario(ScenarioSpec.from_file(SPEC))
    registry = CameraRegistry(scenario.cameras, scenario.city.crs)
    sightings_pool = simulate_sightings(scenario).sightings
    for watches, sightings in ((10, 10), (1000, 10), (10_000, 50)):
        cost = matching_cost(watches, sightings_pool[:sightings], registry)
        print(f"matching {sightings} sightings against {watches:,} watches: {cost * 1000:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
