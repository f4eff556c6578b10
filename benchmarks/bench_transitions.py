"""Camera transition model: build time, cache load, and one camera's reach vs networkx.

For each synthetic city (``county``: ~6,700 edges, ~500 cameras; ``large``:
~100,000 edges, ~6,300 cameras) and each horizon, measures in one run:

* the build of the whole model (bounded Dijkstra from every camera at once),
  its size (transitions, megabytes) and the time to load it back from the cache,
* ``via(camera, farthest target)``: the path rebuilt from one bounded tree,
* ``reachable(camera)`` on the built model, and on an on-demand model (its
  first call for a camera runs that camera's bounded search), against the plain networkx
  reference (``naive_reach``: one ``single_source_dijkstra`` with a cutoff
  from each of the camera's anchors), median over sampled cameras, with the
  ratio; both answers are checked to agree.

Usage: python benchmarks/bench_transitions.py [--sizes county large]
       [--horizons 300 900] [--queries 20]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from camera_registry import CameraRegistry
from skynet.roads import attach_cameras
from skynet.synthetic.city import generate_city
from skynet.transitions import Reach, TransitionModel, cache_path, naive_reach

T = TypeVar("T")


def timed(call: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, float]:
    start = time.perf_counter()
    result = call(*args, **kwargs)
    return result, time.perf_counter() - start


def same(a: Reach, b: Reach) -> bool:
    if set(a.to_ids.tolist()) != set(b.to_ids.tolist()):
        return False
    order_a, order_b = np.argsort(a.to_ids), np.argsort(b.to_ids)
    return bool(
        np.allclose(a.free_flow_s[order_a], b.free_flow_s[order_b], atol=1e-6)
        and np.allclose(a.distance_m[order_a], b.distance_m[order_b], atol=1e-6)
    )


def bench_city(size: str, horizons: list[float], queries: int, seed: int = 1) -> None:
    (city, generate_s) = timed(generate_city, seed, size=size)
    network = city.road_network()
    registry = CameraRegistry(city.cameras, city.crs)
    attachment, attach_s = timed(attach_cameras, network, registry)
    print(
        f"\n== {size}: {len(network.edges):,} edges, {len(network.nodes):,} nodes, "
        f"{len(registry):,} cameras ({len(attachment):,} watched edges); "
        f"generated in {generate_s:.1f} s, cameras attached in {attach_s:.2f} s"
    )
    rng = np.random.default_rng(seed)
    anchored = np.unique(attachment.camera)
    sample = attachment.camera_ids[rng.choice(anchored, size=min(queries, anchored.size))]
    header = (
        f"{'horizon':>8} {'build s':>8} {'pairs':>11} {'MB':>7} {'load s':>7} "
        f"{'reach/cam':>9} {'model ms':>9} {'demand ms':>9} {'networkx ms':>12} "
        f"{'ratio':>8} {'ratio d':>8} {'via ms':>7} agree"
    )
    print(header)
    for horizon in horizons:
        model, build_s = timed(
            TransitionModel.build, network, registry, attachment, horizon_s=horizon
        )
        rows = model.rows
        assert rows is not None
        megabytes = sum(a.nbytes for a in (rows.target, rows.time, rows.distance)) / 1e6
        megabytes += (rows.arrive_edge.nbytes + rows.indptr.nbytes) / 1e6
        with tempfile.TemporaryDirectory() as folder:
            model.save(cache_path(folder, model.fingerprint, horizon))
            loaded, load_s = timed(
                TransitionModel.cached, network, registry, folder, horizon_s=horizon
            )
            assert loaded.from_cache
        lazy = TransitionModel.on_demand(network, registry, attachment, horizon_s=horizon)
        fast, slow, first, paths, agree, sizes = [], [], [], [], True, []
        for camera_id in sample.tolist():
            got, fast_s = timed(model.reachable, camera_id)
            first.append(timed(lazy.reachable, camera_id)[1])
            if len(got):
                paths.append(timed(model.via, camera_id, str(got.to_ids[-1]))[1])
            want, slow_s = timed(naive_reach, network, attachment, camera_id, horizon)
            fast.append(fast_s)
            slow.append(slow_s)
            sizes.append(len(got))
            agree &= same(got, want)
        fast_ms, slow_ms = statistics.median(fast) * 1e3, statistics.median(slow) * 1e3
        demand_ms = statistics.median(first) * 1e3
        print(
            f"{horizon:>8g} {build_s:>8.2f} {rows.target.size:>11,} {megabytes:>7.1f} "
            f"{load_s:>7.2f} {statistics.median(sizes):>9.0f} {fast_ms:>9.3f} {demand_ms:>9.2f} "
            f"{slow_ms:>12.1f} {slow_ms / fast_ms:>7.0f}x {slow_ms / demand_ms:>7.0f}x "
            f"{statistics.median(paths) * 1e3 if paths else float('nan'):>7.1f} "
            f"{'yes' if agree else 'NO'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["county", "large"])
    parser.add_argument("--horizons", nargs="+", type=float, default=[300.0, 900.0])
    parser.add_argument("--queries", type=int, default=20)
    args = parser.parse_args()
    for size in args.sizes:
        bench_city(size, args.horizons, args.queries)


if __name__ == "__main__":
    main()
