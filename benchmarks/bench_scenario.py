"""The hit-and-run case end to end: rendered footage in, escape route out, scored.

Renders the scenario's night footage for every online camera (cached in
``--out``), ingests all of it through the per-feed pipeline into a fresh
SQLite store, seeds the investigation from the crash-scene camera's sighting
of the target, follows the timeline and reconstructs the route, and scores
both against the ground truth. Sightings are mapped to vehicles only for
scoring, by the renderer's MOTChallenge ground truth at each sighting's
evidence frame (IoU >= 0.3); the engine never sees it.

Claims (issue 5): route edge-F1 >= 0.95 (length-weighted), length error <=
2 %, every online camera that truly saw the escape linked, no look-alike
linked. Compared in the same run with the plain baseline (quickest paths
between the same linked sightings, no evidence).

Example: python benchmarks/bench_scenario.py --workers 2
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from camera_registry.store import RegistryStore
from skynet.ingest import ingest, plan_jobs, stored_watched_edges
from skynet.investigate import Investigation
from skynet.roads import RoadStore
from skynet.routes import edge_f1, shortest_path_route
from skynet.synthetic.footage import plan_clips, render_footage
from skynet.synthetic.footage_truth import vehicles_of
from skynet.synthetic.scenario import Scenario, ScenarioSpec, build_scenario

SPEC = Path(__file__).resolve().parent.parent / "sample_data" / "hit_and_run" / "spec.json"
DEFAULT_OUT = Path(__file__).resolve().parent / "_out" / "hit_and_run"


def _progress(what: str, done: int, total: int) -> None:
    """A one-line counter on a terminal; a line per tenth in a log."""
    if sys.stderr.isatty():
        print(f"\r{what}: {done:,}/{total:,}", end="\n" if done == total else "", file=sys.stderr)
    elif done == total or done * 10 // total != (done - 1) * 10 // total:
        print(f"{what}: {done:,}/{total:,}", file=sys.stderr)


def prepare(scenario: Scenario, out: Path, workers: int | None) -> tuple[str, dict[str, float]]:
    """Render (cached) and ingest everything into a fresh store; returns its path and timings."""
    timings: dict[str, float] = {}
    began = time.perf_counter()
    total = sum(c.n_frames for c in plan_clips(scenario))
    done = [0]

    def rendered(clip: object) -> None:
        done[0] += getattr(clip, "n_frames", 0)
        _progress("rendering footage (frames)", done[0], total)

    render_footage(scenario, out / "footage", workers=workers, on_clip=rendered)
    timings["render_s"] = time.perf_counter() - began
    db = out / "case.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    RegistryStore(str(db)).import_cameras(scenario.cameras, scenario.city.crs)
    RoadStore(str(db)).save(scenario.city.road_network())
    jobs = plan_jobs(str(out / "footage"), None, None)
    began = time.perf_counter()
    count = [0]

    def progress(_: object) -> None:
        count[0] += 1
        _progress("ingesting (clips)", count[0], len(jobs))

    outcomes = ingest(
        jobs, str(db), workers=workers, watched_edges=stored_watched_edges(str(db)),
        on_outcome=progress,
    )  # fmt: skip
    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise SystemExit(f"{len(failed)} clips failed to ingest, e.g. {failed[0].error}")
    timings["ingest_s"] = time.perf_counter() - began
    timings["frames"] = float(total)
    timings["sightings"] = float(sum(o.added for o in outcomes))
    return str(db), timings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="footage cache and store")
    parser.add_argument("--workers", type=int, default=None, help="ingest processes")
    args = parser.parse_args(argv)
    scenario = build_scenario(ScenarioSpec.from_file(SPEC))
    db, timings = prepare(scenario, args.out, args.workers)

    began = time.perf_counter()
    world = Investigation.open(db, cache=args.out / "transitions")
    timings["open_s"] = time.perf_counter() - began
    every = world.store.find()
    vehicles = vehicles_of(every, args.out / "footage")
    target = scenario.target_id
    at_crash = [s for s in every if s.camera_id == "P01-CRASH" and vehicles[s.id] == target]
    if not at_crash:
        print("the pipeline produced no sighting of the target at the crash camera")
        return 1
    seed = at_crash[0]

    began = time.perf_counter()
    timeline = world.timeline(seed.id)
    route = world.route(timeline)
    timings["query_s"] = time.perf_counter() - began
    linked = [e.sighting for e in timeline.entries]
    baseline = shortest_path_route(world.network, world.attachment, world.registry, linked)

    truth = scenario.route_rows(world.network)
    true_length = float(world.network.edges.length[truth].sum())
    seen_by = {s.camera_id for s in scenario.sightings if s.camera_online}
    recorded_by = {s.camera_id for s in every if vehicles[s.id] == target}
    linked_cameras = {s.camera_id for s in linked if vehicles[s.id] == target}
    wrong = [s for s in linked if vehicles[s.id] != target]
    lookalikes = [s for s in wrong if vehicles[s.id] in scenario.lookalike_ids]

    print(
        f"footage: {timings['frames']:,.0f} frames rendered/cached in {timings['render_s']:.0f} s;"
        f" ingest {timings['ingest_s']:.0f} s "
        f"({timings['frames'] / timings['ingest_s']:,.0f} frames/s), "
        f"{timings['sightings']:,.0f} sightings"
    )
    print(f"open (cameras, roads, transitions): {timings['open_s']:.2f} s")
    print(f"seed {seed.id} at {seed.camera_id}; timeline + route in {timings['query_s']:.2f} s")
    print(
        f"timeline: {len(linked)} sightings, {len(wrong)} not the target "
        f"({len(lookalikes)} look-alikes); ends: {timeline.start.reason} / {timeline.end.reason}"
    )
    missing_recorded = sorted(recorded_by - linked_cameras)
    missing_seen = sorted(seen_by - linked_cameras)
    print(
        f"cameras that saw the escape (online): {len(seen_by)}; the pipeline sighted the target "
        f"at {len(recorded_by)}; linked {len(linked_cameras)}"
    )
    print(f"  seen but not linked: {missing_seen or 'none'}")
    print(f"  sighted by the pipeline but not linked: {missing_recorded or 'none'}")
    goals = {}
    for name, found in (("Skynet", route), ("baseline", baseline)):
        precision, recall, f1 = edge_f1(world.network, found.edges, truth)
        error = abs(found.length_m - true_length) / true_length
        print(
            f"{name:<9} route: edge-F1 {f1:.4f} (precision {precision:.4f}, recall {recall:.4f}),"
            f" length {found.length_m / 1000:.2f} km vs {true_length / 1000:.2f} km "
            f"(error {error:.2%})"
        )
        if name == "Skynet":
            goals = {
                "edge-F1 >= 0.95": f1 >= 0.95,
                "length error <= 2%": error <= 0.02,
                "every camera that saw it linked": not missing_seen,
                "no look-alike linked": not lookalikes,
            }
    for goal, met in goals.items():
        print(f"  {goal}: {'met' if met else 'MISSED'}")
    return 0 if all(goals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
