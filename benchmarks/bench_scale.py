"""Ingestion throughput on the local process pool and on Ray, 1 and 2 CPUs, in one run.

Renders (once, cached under ``benchmarks/_out/scale``) the hit-and-run
footage of a few cameras (640×360, 10 fps, night), then ingests the whole
batch into a fresh SQLite store with each executor: the local pool of 1 and
2 worker processes, and a local Ray instance of 1 and 2 CPUs (one task per
clip). Prints clips/s and frames/s for each, and the scaling efficiency of 2
against 1 (rate at 2 / (2 × rate at 1); 1.0 is perfect). Ray's start-up
(``ray.init`` and its workers' first imports) is timed apart from the batch.
The runs are interleaved ``--repeat`` times and the best of each is kept, so
that other work on a shared machine weighs on every executor alike.

With ``--pg URL`` the 2-worker pool also commits into PostgreSQL (a schema
of its own, dropped after), and a bulk ``add_clip`` of 20,000 sightings is
timed on both backends.

Example: python benchmarks/bench_scale.py --cameras 10 --repeat 2
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import quote

import numpy as np
import sqlalchemy as sa

from camera_registry import RegistryStore, SiteCRS, read_cameras
from skynet.executors import Executor, LocalPool, RayCluster
from skynet.ingest import IngestJob, ingest, plan_jobs
from skynet.store import ClipRecord, SightingStore
from skynet.synthetic.footage import plan_clips, render_footage
from skynet.synthetic.scenario import CRASH_CAMERA_ID, Scenario, ScenarioSpec, build_scenario
from trackers.sighting import APPEARANCE_DIM, Evidence, Sighting, sighting_id

REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "sample_data" / "hit_and_run"
OUT = Path(__file__).resolve().parent / "_out" / "scale"


def footage(cameras: int) -> Path:
    """The crash camera and the first village cameras that saw the escape, rendered once."""
    scenario: Scenario = build_scenario(ScenarioSpec.from_file(BUNDLED / "spec.json"))
    seen = [s.camera_id for s in sorted(scenario.sightings, key=lambda s: s.t_in)]
    chosen_ids = list(dict.fromkeys([CRASH_CAMERA_ID, *seen]))[:cameras]
    chosen = [c for c in scenario.cameras if c.id in chosen_ids]
    folder = OUT / f"cameras-{cameras}"
    began = time.perf_counter()
    render_footage(scenario, folder, plan=plan_clips(scenario, chosen), workers=None)
    print(f"footage: {folder} ({time.perf_counter() - began:.1f} s to render or check)")
    return folder


def fresh_store(url: str | None, scratch: Path) -> tuple[str, Callable[[], None]]:
    """A new database with the bundled registry; and how to drop it afterwards."""
    drop: Callable[[], None] = lambda: None  # noqa: E731
    if url is None:
        db = str(scratch / f"{uuid.uuid4().hex}.db")
    else:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with admin.begin() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")

        def drop() -> None:
            with admin.begin() as connection:
                connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")

        joiner = "&" if "?" in url else "?"
        db = f"{url}{joiner}options={quote(f'-csearch_path={schema}')}"
    loaded = read_cameras(BUNDLED / "cameras.geojson")
    RegistryStore(db).import_cameras(loaded.cameras, SiteCRS.from_user_input(loaded.working_crs))
    return db, drop


def timed_batch(
    jobs: Sequence[IngestJob], executor: Executor, url: str | None, scratch: Path
) -> tuple[float, int, int]:
    """Seconds to ingest the batch, its frames and sightings (every clip must succeed)."""
    db, drop = fresh_store(url, scratch)
    try:
        began = time.perf_counter()
        outcomes = ingest(jobs, db, executor=executor)
        seconds = time.perf_counter() - began
    finally:
        drop()
    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise SystemExit(f"{failed[0].job.clip}: {failed[0].error}")
    return seconds, sum(o.frames for o in outcomes), sum(o.added for o in outcomes)


def start_ray(cpus: int) -> float:
    """Seconds to start a local Ray of ``cpus`` CPUs and warm its workers' imports."""
    import ray

    began = time.perf_counter()
    ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)

    @ray.remote(num_cpus=1)
    def warm() -> int:
        import skynet.ingest  # noqa: F401  (what every clip task imports)

        time.sleep(0.5)  # held, so that each worker takes one
        return os.getpid()

    ray.get([warm.remote() for _ in range(cpus)])
    return time.perf_counter() - began


def bulk_insert_rate(db: str) -> float:
    """Sightings/s of one ``add_clip`` of 20,000 sightings into an empty store."""
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(20_000, APPEARANCE_DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    sightings = [
        Sighting(
            sighting_id("B1", "bulk", i),
            "B1",
            1e9 + i,
            1e9 + i + 2.0,
            "car",
            vectors[i],
            0.5,
            Evidence("bulk", i, (0.0, 0.0, 8.0, 8.0)),
        )
        for i in range(len(vectors))
    ]
    store = SightingStore(db)
    clip = ClipRecord("bulk", "B1", "bulk", "/bulk", 1e9, 1, 10.0)
    began = time.perf_counter()
    store.add_clip(clip, sightings)
    return len(sightings) / (time.perf_counter() - began)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cameras", type=int, default=10, help="cameras of footage (default 10)")
    parser.add_argument("--repeat", type=int, default=2, help="interleaved rounds; best kept")
    parser.add_argument("--pg", metavar="URL", help="also commit into this PostgreSQL database")
    args = parser.parse_args(argv)
    if args.cameras < 1 or args.repeat < 1:
        parser.error("--cameras and --repeat must be at least 1")
    try:
        import ray
    except ImportError:
        print("bench_scale needs Ray: pip install -e '.[ray]'", file=sys.stderr)
        return 2
    jobs = plan_jobs(str(footage(args.cameras)), None, None)
    print(f"batch: {len(jobs)} clips; {os.cpu_count()} CPUs on this machine\n")
    best: dict[str, tuple[float, int, int]] = {}
    starts: dict[str, float] = {}

    def keep(name: str, run: tuple[float, int, int]) -> None:
        if name not in best or run[0] < best[name][0]:
            best[name] = run

    with tempfile.TemporaryDirectory(prefix="skynet-bench-scale-") as scratch:
        root = Path(scratch)
        for _ in range(args.repeat):
            for workers in (1, 2):
                keep(
                    f"local pool, {workers} worker(s)",
                    timed_batch(jobs, LocalPool(workers), None, root),
                )
            if args.pg:
                keep(
                    "local pool, 2 workers → PostgreSQL",
                    timed_batch(jobs, LocalPool(2), args.pg, root),
                )
            for cpus in (1, 2):
                starts[f"Ray, {cpus} CPU(s)"] = start_ray(cpus)
                try:
                    keep(f"Ray, {cpus} CPU(s)", timed_batch(jobs, RayCluster(), None, root))
                finally:
                    ray.shutdown()
        rates = {"SQLite": bulk_insert_rate(str(root / "bulk.db"))}
        if args.pg:
            db, drop = fresh_store(args.pg, root)
            try:
                rates["PostgreSQL"] = bulk_insert_rate(db)
            finally:
                drop()

    print(
        f"{'executor':<36} {'wall s':>7} {'clips/s':>8} {'frames/s':>9} {'sightings':>9}  start-up"
    )
    for name, (seconds, frames, sightings) in best.items():
        start = f"{starts[name]:.1f} s" if name in starts else "—"
        print(
            f"{name:<36} {seconds:7.2f} {len(jobs) / seconds:8.2f} {frames / seconds:9.1f} "
            f"{sightings:9d}  {start}"
        )
    print()
    for kind, one, two in (
        ("local pool", "local pool, 1 worker(s)", "local pool, 2 worker(s)"),
        ("Ray", "Ray, 1 CPU(s)", "Ray, 2 CPU(s)"),
    ):
        speedup = best[one][0] / best[two][0]
        print(f"{kind}: 2 against 1 speed-up {speedup:.2f}×, scaling efficiency {speedup / 2:.2f}")
    ray_cost = best["Ray, 2 CPU(s)"][0] / best["local pool, 2 worker(s)"][0]
    print(f"Ray 2 CPUs against the local pool of 2: {ray_cost:.2f}× the wall time")
    for backend, rate in rates.items():
        print(f"bulk add_clip of 20,000 sightings into {backend}: {rate:,.0f} sightings/s")
    frames = {f for _, f, _ in best.values()}
    sightings = {s for _, _, s in best.values()}
    assert len(frames) == 1 and len(sightings) == 1, "every executor must store the same"
    print(f"best of {args.repeat} interleaved rounds; each run stored {sightings.pop()} sightings")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
