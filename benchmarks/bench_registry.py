"""Camera registry at city scale: import, load and spatial queries vs a plain loop.

Builds a synthetic registry (70,000 cameras by default, Putian counts 67,891),
then measures in one run:

* GeoJSON import (parse + validate + one SQLite transaction),
* load from SQLite, and the first build of the spatial index,
* bbox and radius queries through the STRtree index, and the same queries done
  by a plain Python loop over shapely geometries, with the speed-up ratio.

Usage: python benchmarks/bench_registry.py [--cameras 70000] [--queries 300]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import shapely

from camera_registry import Camera, RegistryStore, SiteCRS, read_cameras, write_cameras
from camera_registry.geometry import homography_from_pose

CENTRE = (119.0, 25.45)
EXTENT_DEG = (0.6, 0.4)  # about 60 × 44 km


def synthetic_cameras(count: int, seed: int = 7) -> list[Camera]:
    """Cameras spread over a city, half of them calibrated."""
    rng = np.random.default_rng(seed)
    site = SiteCRS.for_points([CENTRE[0]], [CENTRE[1]])
    lons = rng.uniform(CENTRE[0] - EXTENT_DEG[0] / 2, CENTRE[0] + EXTENT_DEG[0] / 2, count)
    lats = rng.uniform(CENTRE[1] - EXTENT_DEG[1] / 2, CENTRE[1] + EXTENT_DEG[1] / 2, count)
    xs, ys = site.to_metric(lons, lats)
    headings = rng.uniform(0.0, 360.0, count)
    kinds = rng.choice(["road", "checkpoint", "community", "village"], count)
    cameras = []
    for i in range(count):
        homography = None
        if i % 2 == 0:
            homography = homography_from_pose(
                float(xs[i]),
                float(ys[i]),
                height_m=6.0,
                heading_deg=float(headings[i]),
                tilt_deg=30.0,
                fov_deg=60.0,
                image_width=1280,
                image_height=720,
            ).ravel()
        cameras.append(
            Camera(
                id=f"CAM{i:06d}",
                name=f"camera {i}",
                kind=str(kinds[i]),
                lon=float(lons[i]),
                lat=float(lats[i]),
                heading_deg=float(headings[i]),
                fov_deg=60.0,
                range_m=float(rng.uniform(30.0, 120.0)),
                homography=homography,
                area=f"grid-{int(xs[i] // 5000)}-{int(ys[i] // 5000)}",
            )
        )
    return cameras


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median_ms(action: Callable[[int], object], count: int) -> float:
    samples = []
    for i in range(count):
        started = time.perf_counter()
        action(i)
        samples.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=70_000)
    parser.add_argument("--queries", type=int, default=300, help="indexed queries per kind")
    parser.add_argument("--loop-queries", type=int, default=15, help="plain-loop queries per kind")
    args = parser.parse_args()

    print(f"building {args.cameras:,} cameras …")
    cameras = synthetic_cameras(args.cameras)
    with tempfile.TemporaryDirectory() as scratch:
        geojson = Path(scratch) / "cameras.geojson"
        write_cameras(cameras, geojson)
        db = str(Path(scratch) / "registry.db")

        import_s = timed(lambda: RegistryStore(db).import_cameras(read_cameras(geojson).cameras))
        store = RegistryStore(db)
        load_s = timed(store.load)
        registry = store.load()
        index_s = timed(lambda: registry.index.in_bbox(0, 0, 0, 0))

    rng = np.random.default_rng(1)
    box_w, box_h = 0.01, 0.01  # about 1 × 1.1 km
    wests = rng.uniform(CENTRE[0] - 0.3, CENTRE[0] + 0.3 - box_w, args.queries)
    souths = rng.uniform(CENTRE[1] - 0.2, CENTRE[1] + 0.2 - box_h, args.queries)
    radius = 500.0
    cx, cy = registry.crs.to_metric(wests, souths)

    points_lonlat = list(shapely.points(registry.lonlat))
    points_xy = list(shapely.points(registry.xy))

    def loop_bbox(i: int) -> list[int]:
        box = shapely.box(wests[i], souths[i], wests[i] + box_w, souths[i] + box_h)
        return [row for row, point in enumerate(points_lonlat) if box.intersects(point)]

    def loop_radius(i: int) -> list[int]:
        centre = shapely.Point(cx[i], cy[i])
        return [row for row, point in enumerate(points_xy) if centre.distance(point) <= radius]

    def index_bbox(i: int) -> object:
        return registry.index.in_bbox(wests[i], souths[i], wests[i] + box_w, souths[i] + box_h)

    def index_radius(i: int) -> object:
        return registry.index.within_radius(float(cx[i]), float(cy[i]), radius)

    for i in range(5):  # the two ways agree before they are timed
        assert list(index_bbox(i)) == loop_bbox(i)  # type: ignore[call-overload]
        assert list(index_radius(i)) == loop_radius(i)  # type: ignore[call-overload]

    rows = []
    for name, indexed, loop in (
        ("bbox", index_bbox, loop_bbox),
        ("radius 500 m", index_radius, loop_radius),
    ):
        fast = median_ms(indexed, args.queries)
        slow = median_ms(loop, args.loop_queries)
        rows.append((name, fast, slow))

    print(f"\nregistry of {len(registry):,} cameras (working CRS {registry.crs.code})")
    print(f"{'GeoJSON import (parse, validate, write)':44s} {import_s:8.2f} s")
    load_verdict = "ok" if load_s <= 2 else "MISSED"
    print(f"{'load from SQLite':44s} {load_s:8.2f} s   goal <= 2 s: {load_verdict}")
    print(f"{'first spatial index build':44s} {index_s:8.2f} s")
    header = f"{'query':14s} {'STRtree ms':>11s} {'plain loop ms':>14s} {'speed-up':>9s}"
    print(f"\n{header}  goals (<= 2 ms, >= 50×)")
    for name, fast, slow in rows:
        verdict = "ok" if fast <= 2.0 and slow / fast >= 50 else "MISSED"
        print(f"{name:14s} {fast:11.3f} {slow:14.1f} {slow / fast:8.0f}×  {verdict}")


if __name__ == "__main__":
    main()
