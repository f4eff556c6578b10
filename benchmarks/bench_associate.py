"""Whole-city association: every sighting of an hour linked into vehicle tracks, against truth.

The world: the hit-and-run scenario's county (``sample_data/hit_and_run``)
with more cameras and traffic: ``--road-cameras`` + ``--village-cameras``
(220 by default) and ``--vehicles`` background vehicles (4,000), one hour of
simulated sightings (:mod:`skynet.synthetic.sightings`: every passage
through an online camera's view, appearance read from a rendered frame), by
day or by night, with the link model of that light. Built once, then kept
under ``--out`` by its parameters.

Measured: the association's wall time (scoring in ``--workers`` processes,
then the assignment), the identity scores of its tracks against the true
vehicles (IDF1 by :func:`skynet.identity.id_scores`, which the test suite
checks against motmetrics), links right and wrong, and the growth of the
run time with the number of sightings: the same hour cut to its first
quarter, half and whole (``--growth``), and the hour repeated ``--tile N``
times one after another (the same density over N hours: 10 gives about
100,000 sightings). Claim (issue 6): IDF1 >= 0.90.

Example: python benchmarks/bench_associate.py --light day --workers 2
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import pickle
import time
from pathlib import Path

import numpy as np

from camera_registry import CameraRegistry
from skynet.associate import Association, associate
from skynet.identity import id_scores
from skynet.linking import LINK_MODELS
from skynet.roads.network import RoadNetwork
from skynet.synthetic.scenario import Scenario, ScenarioSpec, build_scenario
from skynet.synthetic.sightings import SimulatedSightings, simulate_sightings
from skynet.timeline import Linker, SightingPool
from skynet.transitions import TransitionModel
from trackers.sighting import Sighting

SPEC = Path(__file__).resolve().parents[1] / "sample_data" / "hit_and_run" / "spec.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--road-cameras", type=int, default=80)
    parser.add_argument("--village-cameras", type=int, default=140)
    parser.add_argument("--vehicles", type=int, default=4000)
    parser.add_argument("--light", choices=("day", "night"), default="day")
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--growth", action="store_true", help="also time a quarter and a half")
    parser.add_argument(
        "--tile",
        type=int,
        nargs="*",
        default=[],
        help="also run the hour repeated N times one after another (e.g. 10: 100k sightings)",
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "_out" / "associate")
    args = parser.parse_args()

    scenario, simulated = _world(args)
    truth_of = simulated.truth
    network = RoadNetwork.from_graph(scenario.city.graph, scenario.city.crs)
    registry = CameraRegistry(scenario.cameras, scenario.city.crs)
    transitions = TransitionModel.build(network, registry)
    sightings = simulated.sightings
    vehicles = len(set(truth_of.values()))
    print(
        f"world: {len(registry)} cameras, {args.vehicles} background vehicles "
        f"({vehicles} seen), {len(sightings)} sightings in {args.hours:g} h, {args.light}"
    )
    shares = (0.25, 0.5, 1.0) if args.growth else (1.0,)
    runs = [(sightings[: round(share * len(sightings))], truth_of) for share in shares]
    runs += [_tiled(simulated, hours=n) for n in args.tile]
    rows = []
    for part, truth_of in runs:
        linker = Linker(
            transitions, network, registry, SightingPool(part), model=LINK_MODELS[args.light]
        )
        start = time.perf_counter()
        result = associate(linker, part, workers=args.workers)
        seconds = time.perf_counter() - start
        rows.append(_report(result, truth_of, seconds))
    _print(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"result-{args.light}.json").write_text(json.dumps(rows, indent=2) + "\n")


def _world(args: argparse.Namespace) -> tuple[Scenario, SimulatedSightings]:
    spec = dataclasses.replace(
        ScenarioSpec.from_file(SPEC),
        road_cameras=args.road_cameras,
        village_cameras=args.village_cameras,
        background_vehicles=args.vehicles,
    )
    scenario = build_scenario(spec)
    key = hashlib.sha1(
        json.dumps([spec.as_dict(), args.light, args.hours], sort_keys=True).encode()
    ).hexdigest()[:12]
    path = args.out / f"world-{key}.pkl"
    if path.exists():
        with path.open("rb") as handle:
            simulated: SimulatedSightings = pickle.load(handle)
        return scenario, simulated
    start = spec.crash_s - 900.0  # the traffic's own window opens here
    window = (start, start + args.hours * 3600.0)
    began = time.perf_counter()
    simulated = simulate_sightings(scenario, night=args.light == "night", window=window)
    print(f"simulated {len(simulated.sightings)} sightings in {time.perf_counter() - began:.0f} s")
    args.out.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        pickle.dump(simulated, handle)
    return scenario, simulated


def _tiled(simulated: SimulatedSightings, *, hours: int) -> tuple[list[Sighting], dict[str, int]]:
    """The hour's sightings again and again, each copy an hour later (its vehicles others)."""
    out: list[Sighting] = []
    truth: dict[str, int] = {}
    stride = max(simulated.truth.values()) + 1
    for k in range(hours):
        shift = 3600.0 * k
        for s in simulated.sightings:
            copy = dataclasses.replace(
                s, id=f"{s.id}-{k}", t_in=s.t_in + shift, t_out=s.t_out + shift
            )
            out.append(copy)
            truth[copy.id] = simulated.truth[s.id] + k * stride
    return out, truth


def _report(result: Association, truth_of: dict[str, int], seconds: float) -> dict[str, float]:
    truth = np.array([truth_of[s.id] for s in result.sightings])
    scores = id_scores(truth, result.track)
    following = np.full(truth.size, -1)
    last: dict[int, int] = {}
    for row, vehicle in enumerate(truth.tolist()):
        if vehicle in last:
            following[last[vehicle]] = row
        last[vehicle] = row
    # each track's links: consecutive rows of one track
    linked_right = linked_wrong = 0
    for rows in result.tracks():
        for a, b in zip(rows[:-1].tolist(), rows[1:].tolist(), strict=True):
            if following[a] == b:
                linked_right += 1
            else:
                linked_wrong += 1
    true_links = int((following >= 0).sum())
    return {
        "sightings": float(truth.size),
        "vehicles": float(np.unique(truth).size),
        "tracks": float(result.n_tracks),
        "candidates": float(result.candidates),
        "seconds": seconds,
        "idf1": scores.idf1,
        "links_right": float(linked_right),
        "links_wrong": float(linked_wrong),
        "true_links": float(true_links),
    }


def _print(rows: list[dict[str, float]]) -> None:
    print(
        f"{'sightings':>10} {'vehicles':>9} {'tracks':>7} {'links right/wrong/true':>23} "
        f"{'IDF1':>6} {'time s':>7} {'ms/sighting':>12}"
    )
    for r in rows:
        links = f"{r['links_right']:.0f}/{r['links_wrong']:.0f}/{r['true_links']:.0f}"
        print(
            f"{r['sightings']:>10.0f} {r['vehicles']:>9.0f} {r['tracks']:>7.0f} {links:>23} "
            f"{r['idf1']:>6.3f} {r['seconds']:>7.1f} {1000 * r['seconds'] / r['sightings']:>12.2f}"
        )


if __name__ == "__main__":
    main()
