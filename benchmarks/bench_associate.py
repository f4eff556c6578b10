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
100,000 sightings). Scoring (wall and CPU seconds, the pool's included) and
the assignment are timed apart; ``--assign-tiles N`` times the assignment
alone on the last run's links repeated N times (101: a million sightings).
``--causes`` says where IDF1 is lost (links joining two vehicles against
true links missed); ``--seed`` builds another county, and
``--fit-calibration`` prints the recalibration and restitching weights
fitted on its truth (for :data:`skynet._association_calibration.CALIBRATION`
and ``TRACK_CALIBRATION``: fit on one seed, score others). Claim (issue 6): IDF1 >= 0.90.

Example: python benchmarks/bench_associate.py --light day --workers 2
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import pickle
import resource
import time
from pathlib import Path

import numpy as np

from camera_registry import CameraRegistry
from skynet import _association_calibration as calibration
from skynet._association_batch import BatchSightings
from skynet.associate import (
    SHORTLIST,
    Association,
    CandidateLinks,
    assign,
    assign_tracks,
    batch_links,
    in_time_order,
    overlap_links,
    paces_of,
    score_candidates,
    track_labels,
)
from skynet.identity import id_scores
from skynet.linking import LINK_MODELS
from skynet.roads.network import RoadNetwork
from skynet.synthetic.scenario import Scenario, ScenarioSpec, build_scenario
from skynet.synthetic.sightings import SimulatedSightings, simulate_sightings
from skynet.timeline import SHORTLIST as LINKER_SHORTLIST
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
    parser.add_argument(
        "--scorer",
        choices=("batch", "linker"),
        default="batch",
        help="score in bulk (skynet associate's) or sighting by sighting through the linker",
    )
    parser.add_argument(
        "--shortlist",
        type=int,
        default=SHORTLIST,
        help=f"candidates a ring the bulk scorer measures (default {SHORTLIST}; the "
        f"linker's {LINKER_SHORTLIST} gives the linker's links)",
    )
    parser.add_argument("--growth", action="store_true", help="also time a quarter and a half")
    parser.add_argument(
        "--tile",
        type=int,
        nargs="*",
        default=[],
        help="also run the hour repeated N times one after another (e.g. 10: 100k sightings; "
        "batch scorer, as columns)",
    )
    parser.add_argument("--seed", type=int, default=None, help="the county's seed (default: spec)")
    parser.add_argument(
        "--fit-calibration",
        action="store_true",
        help="print the association's recalibration weights fitted on this world's truth",
    )
    parser.add_argument(
        "--fit-rounds",
        type=int,
        default=len(calibration.TRACK_CALIBRATION),
        help="restitching rounds --fit-calibration fits (default: as many as the module has)",
    )
    parser.add_argument(
        "--no-calibration", action="store_true", help="assign on the links as scored"
    )
    parser.add_argument(
        "--no-restitch",
        action="store_true",
        help="no second pass by the appearance of the tracks (the recalibration alone)",
    )
    parser.add_argument(
        "--keep-links",
        action="store_true",
        help="keep each run's scored links under --out and reuse them (no scoring time then)",
    )
    parser.add_argument(
        "--causes", action="store_true", help="also say where IDF1 is lost (wrong vs missed links)"
    )
    parser.add_argument(
        "--pace-jitter",
        type=float,
        default=0.0,
        help="add this spread to each sighting's log pace (a stress test: real drivers vary "
        "their pace along a trip, the simulation's keep one)",
    )
    parser.add_argument(
        "--assign-tiles",
        type=int,
        nargs="*",
        default=[],
        help="also time the assignment alone on the last run's links repeated N times "
        "(101: about a million sightings)",
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
    runs: list[tuple[list[Sighting] | None, BatchSightings | None, np.ndarray]] = []
    for share in shares:
        part = in_time_order(sightings[: round(share * len(sightings))])
        runs.append((part, None, np.array([truth_of[s.id] for s in part])))
    rows = []
    result: Association | None = None
    result_pace = np.empty(0)
    whole = runs[-1]
    for n in args.tile:
        hour = in_time_order(sightings)
        linker = Linker(transitions, network, registry, SightingPool(hour),
                        model=LINK_MODELS[args.light])  # fmt: skip
        batch, source = BatchSightings.of(linker, hour).repeated(n, 3600.0)
        stride = int(whole[2].max()) + 1
        copies = np.tile(whole[2], n) + np.repeat(np.arange(n) * stride, len(hour))
        runs.append((None, batch, copies[source]))
    for part, batch, truth in runs:
        pool = part if part is not None else whole[0]
        assert pool is not None
        linker = Linker(transitions, network, registry, SightingPool(pool),
                        model=LINK_MODELS[args.light])  # fmt: skip
        start, cpu = time.perf_counter(), _cpu_s()
        key = _digest(part) if part is not None else _digest_batch(batch)
        wide = (
            "" if args.scorer == "linker" or args.shortlist == LINKER_SHORTLIST else args.shortlist
        )
        kept = args.out / f"links-{args.scorer}{wide}-{key}.npz"
        if args.keep_links and kept.exists():
            with np.load(kept) as saved:
                links = CandidateLinks(saved["early"], saved["late"], saved["probability"])
        elif args.scorer == "linker":
            assert part is not None, "--tile runs score in bulk"
            links = CandidateLinks.concat(
                [score_candidates(linker, part, workers=args.workers), overlap_links(linker, part)]
            )
        else:
            batch = batch if batch is not None else BatchSightings.of(linker, part or [])
            links = batch_links(linker, batch, workers=args.workers, shortlist=args.shortlist)
        if args.keep_links:
            args.out.mkdir(parents=True, exist_ok=True)
            np.savez(kept, early=links.early, late=links.late, probability=links.probability)
        scored, scored_cpu = time.perf_counter(), _cpu_s()
        day = args.light == "day" and not args.no_calibration
        if batch is None:
            assert part is not None, "--tile runs score in bulk"
            batch = BatchSightings.of(linker, part)
        columns = batch.arrays
        t_in, t_out, vectors = columns.t_in, columns.t_out, columns.appearance
        classes, cameras = columns.classes, columns.camera_ids
        pace = paces_of(linker, batch)
        if args.pace_jitter > 0.0:
            pace = pace + np.random.default_rng(0).normal(0.0, args.pace_jitter, pace.size)
        restitch = None if args.no_restitch else vectors
        track, into = assign_tracks(
            t_in, t_out, links, recalibrate=day, appearance=restitch, classes=classes,
            cameras=cameras, pace=pace,
        )  # fmt: skip
        assigned = time.perf_counter()
        row = _report(track, t_in, truth, len(links), assigned - start)
        row.update(
            scoring_s=scored - start,
            scoring_cpu_s=scored_cpu - cpu,
            assignment_s=assigned - scored,
            peak_mb=_peak_mb(),
        )
        rows.append(row)
        print(json.dumps(row), flush=True)
        if part is not None:
            result = Association(part, track, into, len(links), links)
            result_pace = pace
            if args.causes:
                _print_causes(result, truth_of)
    _print(rows)
    if args.fit_calibration and result is not None and result.links is not None:
        print("CALIBRATION =", _fit_calibration(result, truth_of))
        print("PACE_SPREAD =", _fit_pace_spread(result_pace, result, truth_of))
        rounds, best = _fit_track_calibration(result, result_pace, truth_of, args.fit_rounds)
        print("TRACK_CALIBRATION =", rounds)
        print("RESTITCHED_THRESHOLD =", best)
    if result is not None and result.links is not None:
        for tiles in args.assign_tiles:
            rows.append(_time_assignment(result.links, len(result.sightings), tiles))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"result-{args.light}.json").write_text(json.dumps(rows, indent=2) + "\n")


def _world(args: argparse.Namespace) -> tuple[Scenario, SimulatedSightings]:
    spec = ScenarioSpec.from_file(SPEC)
    spec = dataclasses.replace(
        spec,
        seed=spec.seed if args.seed is None else args.seed,
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


def _report(
    track: np.ndarray, t_in: np.ndarray, truth: np.ndarray, candidates: int, seconds: float
) -> dict[str, float]:
    scores = id_scores(truth, track)
    following, _, _ = _truth_links(truth)
    # each track's links: its rows one after another in time
    order = np.lexsort((t_in, track))
    same = track[order[1:]] == track[order[:-1]]
    early, late = order[:-1][same], order[1:][same]
    linked_right = int((following[early] == late).sum())
    return {
        "sightings": float(truth.size),
        "vehicles": float(np.unique(truth).size),
        "tracks": float(np.unique(track).size),
        "candidates": float(candidates),
        "seconds": seconds,
        "idf1": scores.idf1,
        "links_right": float(linked_right),
        "links_wrong": float(early.size - linked_right),
        "true_links": float(int((following >= 0).sum())),
    }


def _fit_calibration(result: Association, truth_of: dict[str, int]) -> tuple[float, ...]:
    """Recalibration weights from this world's truth (to be used on other worlds)."""
    assert result.links is not None
    links = result.links
    truth = np.array([truth_of[s.id] for s in result.sightings])
    following, _, _ = _truth_links(truth)
    t_in = np.array([s.t_in for s in result.sightings])
    t_out = np.array([s.t_out for s in result.sightings])
    gap = t_in[links.late] - t_out[links.early]
    right = following[links.early] == links.late
    return calibration.fit(links.probability, links.early, links.late, gap, truth.size, right)


def _fit_pace_spread(
    pace: np.ndarray, result: Association, truth_of: dict[str, int]
) -> tuple[float, float]:
    """The spread of a log pace read within a vehicle (about its vehicle's mean, corrected
    for the mean's own share) and of the vehicles' means, from this world's truth."""
    truth = np.array([truth_of[s.id] for s in result.sightings])
    known = np.isfinite(pace)
    vehicle = np.unique(truth[known], return_inverse=True)[1].reshape(-1)
    count = np.bincount(vehicle).astype(np.float64)
    mean = np.bincount(vehicle, pace[known]) / count
    residual = pace[known] - mean[vehicle]
    several = count[vehicle] > 1
    dof = float(np.sum(1.0 - 1.0 / count[vehicle][several]))
    within = float(np.sqrt(np.sum(residual[several] ** 2) / dof))
    between = float(
        np.sqrt(max(np.var(mean[count > 1]) - within**2 * np.mean(1.0 / count[count > 1]), 0.0))
    )
    return round(within, 3), round(between, 3)


def _fit_track_calibration(
    result: Association, pace: np.ndarray, truth_of: dict[str, int], count: int
) -> tuple[tuple[tuple[float, ...], ...], float]:
    """Restitching weights from this world's truth, ``count`` rounds: each round's fitted
    on the tracks that the module's recalibration and the rounds before it give (at the
    module's link threshold); and the threshold above which the last round's links
    are best kept: the middle of the 0.1-wide span of a sweep with the best mean IDF1 (the
    curve is flat and noisy near its top; its single best point is a coin toss)."""
    assert result.links is not None
    links = result.links
    n = len(result.sightings)
    truth = np.array([truth_of[s.id] for s in result.sightings])
    following, _, _ = _truth_links(truth)
    t_in = np.array([s.t_in for s in result.sightings])
    t_out = np.array([s.t_out for s in result.sightings])
    white = calibration.whitened(np.stack([s.appearance for s in result.sightings]))
    kind = calibration.class_codes(np.array([s.vehicle_class for s in result.sightings]))
    camera = np.unique([s.camera_id for s in result.sightings], return_inverse=True)[1]
    gap = t_in[links.late] - t_out[links.early]
    right = following[links.early] == links.late
    p = calibration.recalibrated(links.probability, links.early, links.late, gap, n)
    rounds: list[tuple[float, ...]] = []
    for _ in range(count):
        track = track_labels(assign(n, CandidateLinks(links.early, links.late, p)))
        x = calibration.track_features(
            links.probability, links.early, links.late, gap, white, t_in, track, kind, camera,
            pace,
        )  # fmt: skip
        weights = calibration.fit_columns(x, right, l2=1e-3)
        rounds.append(weights)
        p = calibration.restitched(
            links.probability, links.early, links.late, gap, white, t_in, track, kind, camera,
            pace, weights,
        )  # fmt: skip
    final = CandidateLinks(links.early, links.late, p)
    steps = np.round(np.arange(0.05, 0.4001, 0.0125), 4)
    idf1 = np.array(
        [id_scores(truth, track_labels(assign(n, final, threshold=float(t)))).idf1 for t in steps]
    )
    swept = dict(zip(steps.tolist(), idf1.round(4).tolist(), strict=True))
    print("restitched threshold sweep:", swept)
    window = 9  # 0.1 wide
    mean = np.convolve(idf1, np.ones(window) / window, mode="valid")
    return tuple(rounds), float(steps[int(np.argmax(mean)) + window // 2])


def _digest(sightings: list[Sighting]) -> str:
    """A short key of the sightings (ids and times) for their kept links."""
    text = "".join(f"{s.id}{s.t_in:.3f}" for s in sightings)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def _digest_batch(batch: BatchSightings | None) -> str:
    """:func:`_digest` of sightings held as columns."""
    assert batch is not None
    text = batch.arrays.ids.tobytes() + batch.arrays.t_in.tobytes()
    return hashlib.sha1(text).hexdigest()[:12]


def _peak_mb() -> float:
    """Peak resident memory (MB) of this process or of its largest finished child."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, child) / 1024.0


def _cpu_s() -> float:
    """CPU seconds of this process and its finished children (the scoring pool)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _time_assignment(links: CandidateLinks, n: int, tiles: int) -> dict[str, float]:
    """The global assignment and its chains alone, on ``links`` repeated ``tiles`` times
    (rows shifted per copy: as many sightings, links and competitors per sighting)."""
    offset = np.repeat(np.arange(tiles, dtype=np.intp) * n, len(links))
    tiled = CandidateLinks(
        np.tile(links.early, tiles) + offset,
        np.tile(links.late, tiles) + offset,
        np.tile(links.probability, tiles),
    )
    start, cpu = time.perf_counter(), time.process_time()
    successor = assign(n * tiles, tiled)
    tracks = int(track_labels(successor).max()) + 1
    seconds, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    print(
        f"assignment alone: {n * tiles} sightings, {len(tiled)} links, {tracks} tracks: "
        f"{seconds:.2f} s ({cpu_s:.2f} s CPU)"
    )
    return {"sightings": float(n * tiles), "links": float(len(tiled)), "assignment_s": seconds}


def _print_causes(result: Association, truth_of: dict[str, int]) -> None:
    """Where IDF1 is lost: links that join two vehicles (merges) against true links not
    kept (fragmentation), each scored by the IDF1 that undoing it alone would give."""
    truth = np.array([truth_of[s.id] for s in result.sightings])
    n = truth.size
    following, first, last = _truth_links(truth)
    successor = np.full(n, -1, dtype=np.intp)
    for rows in result.tracks():
        successor[rows[:-1]] = rows[1:]
    linked = np.flatnonzero(successor >= 0)
    merges = linked[truth[linked] != truth[successor[linked]]]
    skips = linked[(truth[linked] == truth[successor[linked]])]
    skips = skips[following[skips] != successor[skips]]
    unmerged = successor.copy()
    unmerged[merges] = -1
    has_predecessor = np.zeros(n, dtype=bool)
    has_predecessor[unmerged[unmerged >= 0]] = True
    missed = np.flatnonzero((following >= 0) & (unmerged < 0))
    free = missed[~has_predecessor[following[missed]]]
    repaired = unmerged.copy()
    repaired[free] = following[free]
    candidates = result.links
    pairs = set()
    if candidates is not None:
        pairs = set(zip(candidates.early.tolist(), candidates.late.tolist(), strict=True))
    true_rows = np.flatnonzero(following >= 0)
    present = sum((a, int(following[a])) in pairs for a in true_rows.tolist())
    t_in = np.array([s.t_in for s in result.sightings])
    t_out = np.array([s.t_out for s in result.sightings])
    gap_true = t_in[following[true_rows]] - t_out[true_rows]
    gap_merge = t_in[successor[merges]] - t_out[merges]
    gap_free = t_in[following[free]] - t_out[free]

    def idf1(succ: np.ndarray) -> float:
        return id_scores(truth, track_labels(succ)).idf1

    def pct(x: np.ndarray) -> str:
        return "/".join(f"{v:.0f}" for v in np.percentile(x, [10, 50, 90])) if x.size else "-"

    print(
        f"causes ({n} sightings): IDF1 {idf1(successor):.3f}; {merges.size} links join two "
        f"vehicles ({last[merges].mean():.0%} from a vehicle's last sighting, "
        f"{first[successor[merges]].mean():.0%} to one's first), {skips.size} skip one of "
        f"the same vehicle; without the joins {idf1(unmerged):.3f}, and with the {free.size} "
        f"missed true links whose ends are both free {idf1(repaired):.3f}; true links among "
        f"the candidates {present}/{true_rows.size}; gap s (10/50/90 %): true links "
        f"{pct(gap_true)}, joins {pct(gap_merge)}, missed {pct(gap_free)}"
    )


def _truth_links(truth: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's true next row (-1: none), and whether it is its vehicle's first / last."""
    following = np.full(truth.size, -1, dtype=np.intp)
    first = np.zeros(truth.size, dtype=bool)
    last_row: dict[int, int] = {}
    for row, vehicle in enumerate(truth.tolist()):
        if vehicle in last_row:
            following[last_row[vehicle]] = row
        else:
            first[row] = True
        last_row[vehicle] = row
    last = np.zeros(truth.size, dtype=bool)
    last[list(last_row.values())] = True
    return following, first, last


def _print(rows: list[dict[str, float]]) -> None:
    print(
        f"{'sightings':>10} {'vehicles':>9} {'tracks':>7} {'links right/wrong/true':>23} "
        f"{'IDF1':>6} {'time s':>7} {'ms/sighting':>12} {'scoring s':>10} {'CPU s':>8} "
        f"{'assign s':>9} {'peak MB':>8}"
    )
    for r in rows:
        links = f"{r['links_right']:.0f}/{r['links_wrong']:.0f}/{r['true_links']:.0f}"
        print(
            f"{r['sightings']:>10.0f} {r['vehicles']:>9.0f} {r['tracks']:>7.0f} {links:>23} "
            f"{r['idf1']:>6.3f} {r['seconds']:>7.1f} {1000 * r['seconds'] / r['sightings']:>12.2f}"
            f" {r['scoring_s']:>10.1f} {r['scoring_cpu_s']:>8.1f} {r['assignment_s']:>9.2f}"
            f" {r['peak_mb']:>8.0f}"
        )


if __name__ == "__main__":
    main()
