"""The gap model at the engine's city scale: memory stays bounded by the routes, not by
roads x cameras.

Builds the engine benchmark's world (``generate_city(seed, size="large")`` with street
cameras up to ``--cameras``, as ``bench_engine.py`` does, without its sightings), then
asks the gap model (``skynet.gap``) for the chance of every camera between two views
``--gaps`` seconds apart at free flow (a second camera picked at about that free-flow time
from the first, the gap 1.3 times it), and reports each call's time and peak traced memory
next to what the dense (graph entries x cameras) and (nodes x cameras) boolean matrices
of the earlier model would have taken.

Example: python benchmarks/bench_gap_scale.py --cameras 70000 --gaps 300 900 1800
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Sequence

import numpy as np

from camera_registry import CameraRegistry
from skynet._paths import bounded_tree
from skynet.frontier import departures
from skynet.gap import GapModel
from skynet.implied import Visit
from skynet.roads import attach_cameras
from skynet.synthetic.city import generate_city

#: The gap over the free-flow time between the two views.
STRETCH = 1.3


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cameras", type=int, default=70_000)
    parser.add_argument("--gaps", type=float, nargs="+", default=[300.0, 900.0, 1800.0])
    parser.add_argument("--pairs", type=int, default=3, help="camera pairs per gap")
    args = parser.parse_args(argv)
    clock = time.perf_counter()
    base = generate_city(args.seed, size="large")
    city = generate_city(
        args.seed, size="large", street_cameras=max(0, args.cameras - len(base.cameras))
    )
    network = city.road_network()
    attachment = attach_cameras(network, CameraRegistry(city.cameras, city.crs))
    cameras, nodes = attachment.camera_ids.shape[0], len(network.nodes)
    model = GapModel(network, attachment)
    graph, _ = model._road_graphs()
    print(
        f"world: {len(network.edges):,} edges, {nodes:,} nodes, {cameras:,} cameras "
        f"({time.perf_counter() - clock:.0f} s)"
    )
    dense = graph.matrix.nnz * cameras + 2 * nodes * cameras
    print(f"dense boolean matrices of the earlier model: {dense / 2**30:.1f} GiB per gap")
    rng = np.random.default_rng(args.seed)
    online = np.flatnonzero(attachment.online)
    edges = network.edges
    print("| gap (s) | from | to | routes' cameras | time (s) | peak traced memory (MiB) |")
    print("|---|---|---|---|---|---|")
    model._watched()  # built once per world (the index of cameras per road)
    for gap in args.gaps:
        for _ in range(args.pairs):
            first = str(attachment.camera_ids[rng.choice(online)])
            mine, to_head = departures(attachment, network, first, None)
            reach, _ = bounded_tree(graph.matrix, edges.v[attachment.edge[mine]], to_head, gap)
            at = reach[edges.u[attachment.edge]]
            near = np.flatnonzero(
                (at > 0.8 * gap) & (at <= gap) & attachment.online[attachment.camera]
            )
            if near.size == 0:
                continue
            second = str(attachment.camera_ids[attachment.camera[rng.choice(near)]])
            left, entered = Visit(first, 0.0), Visit(second, STRETCH * gap)
            tracemalloc.start()
            began = time.perf_counter()
            way = model.between(left, entered)
            spent = time.perf_counter() - began
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            passed = int((way.chance > 0).sum())
            print(
                f"| {gap:.0f} | {first} | {second} | {passed:,} | {spent:.2f} | "
                f"{peak / 2**20:.0f} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
