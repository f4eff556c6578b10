"""Coverage sweep: how well escapes are followed and reconstructed as cameras thin out.

Each escape is the hit-and-run scenario generated from another seed (another
county, crash site, escape route, traffic and look-alikes). Its sightings are
simulated from the ground truth (:mod:`skynet.synthetic.sightings`: every
passage through an online camera, with appearance read from a rendered
night frame). At each coverage a random share of the scenario's cameras is
kept (the crash-scene camera always); the investigation is seeded from the
crash camera's sighting of the target, the timeline followed and the route
reconstructed three ways:

* **Skynet**: candidate paths scored by travel-time fit and negative
  evidence (silent online cameras on a path make it less likely);
* **time only**: the same without negative evidence;
* **baseline**: the quickest path between consecutive linked sightings.

Reported per coverage (means over the escapes): link precision and recall
(the timeline's sightings against the target's at the kept cameras), route
edge-F1 (length-weighted) of each method, and the share of the true route
that kept online cameras watch. Claim (issue 5): route F1 >= 0.85 wherever
at least a third of the route is watched. Writes the table as Markdown and a
PNG plot (``--png``; needs matplotlib, ``pip install -e '.[bench]'``).

Example: python benchmarks/bench_coverage.py --escapes 20 --workers 2
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from _escapes import escape_scenario, over_escapes

from camera_registry.registry import CameraRegistry
from skynet.errors import SkynetError
from skynet.roads.cameras import attach_cameras
from skynet.routes import RouteParams, edge_f1, route_timeline, shortest_path_route
from skynet.synthetic.sightings import simulate_sightings
from skynet.timeline import Linker, SightingPool, build_timeline
from skynet.transitions import TransitionModel

DEFAULT_PNG = Path(__file__).resolve().parent / "coverage_sweep.png"
CRASH_CAMERA = "P01-CRASH"
METHODS = ("Skynet", "time only", "baseline")


def sweep_one(seed: int, coverages: Sequence[float]) -> list[dict[str, float]] | None:
    """All coverages of one escape (one scenario seed); None when the seed's county has
    no escape like the spec's (its length and rural share)."""
    scenario = escape_scenario(seed)
    if scenario is None:
        return None
    network = scenario.city.road_network()
    simulated = simulate_sightings(scenario)
    truth_rows = scenario.route_rows(network)
    lengths = network.edges.length
    target = scenario.target_id
    rows = []
    for coverage in coverages:
        rng = np.random.default_rng([seed, round(coverage * 1000)])
        kept = [c for c in scenario.cameras if c.id == CRASH_CAMERA or rng.random() < coverage]
        ids = {c.id for c in kept}
        registry = CameraRegistry(kept, scenario.city.crs)
        attachment = attach_cameras(network, registry)
        watched_edges = np.unique(attachment.edge[attachment.online[attachment.camera]])
        on_route = np.isin(truth_rows, watched_edges)
        watched = float(lengths[np.asarray(truth_rows)[on_route]].sum() / lengths[truth_rows].sum())
        sightings = [s for s in simulated.sightings if s.camera_id in ids]
        pool = SightingPool(sightings)
        of_target = [s for s in sightings if simulated.truth[s.id] == target]
        seed_sighting = next(s for s in of_target if s.camera_id == CRASH_CAMERA)
        transitions = TransitionModel.build(network, registry, attachment)
        linker = Linker(transitions, network, registry, pool, attachment=attachment)
        timeline = build_timeline(linker, seed_sighting.id)
        linked = [e.sighting for e in timeline.entries]
        right = sum(simulated.truth[s.id] == target for s in linked)
        row = {
            "seed": float(seed),
            "coverage": coverage,
            "watched": watched,
            "link_precision": right / len(linked),
            "link_recall": right / len(of_target),
        }
        routes = {}
        try:
            routes["Skynet"] = route_timeline(network, attachment, registry, pool, linked)
            routes["time only"] = route_timeline(
                network, attachment, registry, pool, linked,
                params=RouteParams(use_evidence=False),
            )  # fmt: skip
            routes["baseline"] = shortest_path_route(network, attachment, registry, linked)
        except SkynetError:  # a lone seed: nothing linked, no route
            pass
        for method in METHODS:
            route = routes.get(method)
            row[method] = edge_f1(network, route.edges, truth_rows)[2] if route else 0.0
        rows.append(row)
    return rows


def table(rows: list[dict[str, float]], coverages: Sequence[float]) -> list[dict[str, float]]:
    """Means over escapes, per coverage."""
    out = []
    for coverage in coverages:
        chosen = [r for r in rows if r["coverage"] == coverage]
        keys = ("watched", "link_precision", "link_recall", *METHODS)
        out.append(
            {"coverage": coverage} | {k: float(np.mean([r[k] for r in chosen])) for k in keys}
        )
    return out


def plot(summary: list[dict[str, float]], rows: list[dict[str, float]], path: Path) -> None:
    """Route F1 of the three methods and link precision/recall against coverage."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    coverage = [100 * r["coverage"] for r in summary]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for method, style in zip(METHODS, ("o-", "s--", "^:"), strict=True):
        left.plot(coverage, [r[method] for r in summary], style, label=method)
    left.axhline(0.85, color="grey", linewidth=0.8, linestyle="-.", label="goal 0.85")
    left.set(xlabel="cameras kept (%)", ylabel="route edge-F1 (mean)", ylim=(0, 1.02))
    left.invert_xaxis()
    left.legend(loc="lower left")
    right.scatter(
        [100 * r["watched"] for r in rows], [r["Skynet"] for r in rows], s=12, label="Skynet"
    )
    right.scatter(
        [100 * r["watched"] for r in rows], [r["baseline"] for r in rows], s=12, marker="^",
        label="baseline",
    )  # fmt: skip
    right.axvline(100 / 3, color="grey", linewidth=0.8, linestyle="-.")
    right.set(xlabel="route watched by kept cameras (%)", ylabel="route edge-F1", ylim=(0, 1.02))
    right.legend(loc="lower right")
    fig.suptitle(f"Coverage sweep: {len({r['seed'] for r in rows})} escapes")
    fig.savefig(path, dpi=110)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--escapes", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument(
        "--coverages", type=float, nargs="+", default=[1.0, 0.8, 0.6, 0.4, 0.3, 0.2]
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--png", type=Path, default=DEFAULT_PNG)
    parser.add_argument("--rows", type=Path, help="also write every escape's row here (JSON)")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    sweep = functools.partial(sweep_one, coverages=args.coverages)
    escapes, skipped = over_escapes(sweep, args.escapes, args.first_seed, args.workers)
    rows = [row for escape in escapes for row in escape]
    done = len(escapes)
    summary = table(rows, args.coverages)
    if args.rows:
        args.rows.write_text(json.dumps(sorted(rows, key=lambda r: (r["seed"], -r["coverage"]))))
    print(
        f"{done} escapes ({skipped} seeds had no such escape), {time.perf_counter() - began:.0f} s"
    )
    print("| cameras kept | route watched | link precision | link recall | route F1 Skynet "
          "| time only | baseline |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for r in summary:
        print(
            f"| {r['coverage']:.0%} | {r['watched']:.0%} | {r['link_precision']:.3f} "
            f"| {r['link_recall']:.3f} | **{r['Skynet']:.3f}** | {r['time only']:.3f} "
            f"| {r['baseline']:.3f} |"
        )
    third = [r for r in rows if r["watched"] >= 1 / 3]
    mean = {m: float(np.mean([r[m] for r in third])) for m in METHODS} if third else {}
    if third:
        print(
            f"escapes-at-coverage with >= 1/3 of the route watched: {len(third)}; mean route F1 "
            + ", ".join(f"{m} {v:.3f}" for m, v in mean.items())
            + f"; worst Skynet {min(r['Skynet'] for r in third):.3f}"
        )
    try:
        plot(summary, rows, args.png)
        print(f"plot → {args.png}")
    except ImportError:
        print("matplotlib is not installed: no plot (pip install -e '.[bench]')")
    return 0 if third and mean["Skynet"] >= 0.85 else 1


if __name__ == "__main__":
    sys.exit(main())
