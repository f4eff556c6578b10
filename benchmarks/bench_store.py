"""Sighting store bulk insert: ``SightingStore.add_clip`` against plain sqlite3 executemany.

Both write the same rows into the same schema (a fresh SQLite file each,
WAL, the store's indices), in one transaction per batch of ``--batch``
sightings; the sightings are built before the clock starts. Claim (issue 5):
>= 50,000 sightings/s into SQLite.

Example: python benchmarks/bench_store.py --sightings 500000
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from skynet.store import SIGHTING_COLUMNS, ClipRecord, SightingStore, sighting_values
from trackers.sighting import APPEARANCE_DIM, Evidence, Sighting


def sightings(count: int, seed: int = 0) -> list[Sighting]:
    """Random sightings at 70,000 cameras over a day."""
    rng = np.random.default_rng(seed)
    vectors = rng.random((count, APPEARANCE_DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    t_in = rng.uniform(0.0, 86_400.0, count)
    return [
        Sighting(
            id=f"{i:024x}",
            camera_id=f"C{i % 70_000:05d}",
            t_in=float(t_in[i]),
            t_out=float(t_in[i] + 4.0),
            vehicle_class="car",
            appearance=vectors[i],
            quality=0.9,
            evidence=Evidence("clip.avi", 12, (10.0, 20.0, 110.0, 90.0)),
            heading_deg=90.0,
            speed_mps=12.0,
            entry_xy=(0.0, 0.0),
            exit_xy=(10.0, 0.0),
        )
        for i in range(count)
    ]


def skynet_rate(rows: list[Sighting], batch: int, folder: Path) -> float:
    store = SightingStore(str(folder / "skynet.db"))
    began = time.perf_counter()
    for number, start in enumerate(range(0, len(rows), batch)):
        clip = ClipRecord(f"clip{number}", "C00000", f"clip{number}", "bench", 0.0, 1, 10.0)
        store.add_clip(clip, rows[start : start + batch])
    return len(rows) / (time.perf_counter() - began)


def sqlite_rate(rows: list[Sighting], batch: int, folder: Path) -> float:
    """The floor: the driver alone, same schema (made by the store), same rows."""
    path = folder / "plain.db"
    SightingStore(str(path)).engine.dispose()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    began = time.perf_counter()
    for number, start in enumerate(range(0, len(rows), batch)):
        chunk = sighting_values(rows[start : start + batch], f"clip{number}")
        sql = (
            f"INSERT OR IGNORE INTO sightings ({', '.join(SIGHTING_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(SIGHTING_COLUMNS))})"
        )
        with connection:
            connection.execute(
                "INSERT INTO clips VALUES (?, 'C00000', ?, 'bench', 0, 1, 10, ?, 0)",
                (f"clip{number}", f"clip{number}", len(chunk)),
            )
            connection.executemany(sql, chunk)
    rate = len(rows) / (time.perf_counter() - began)
    connection.close()
    return rate


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sightings", type=int, default=500_000)
    parser.add_argument("--batch", type=int, default=50_000)
    args = parser.parse_args(argv)
    rows = sightings(args.sightings)
    with tempfile.TemporaryDirectory(prefix="skynet-bench-store-") as scratch:
        folder = Path(scratch)
        ours = skynet_rate(rows, args.batch, folder)
        plain = sqlite_rate(rows, args.batch, folder)
    print(f"{args.sightings:,} sightings in batches of {args.batch:,}")
    print(f"SightingStore.add_clip  {ours:>10,.0f} sightings/s")
    print(f"sqlite3 executemany     {plain:>10,.0f} sightings/s")
    print(f"ratio {ours / plain:.2f}; goal >= 50,000/s: {'met' if ours >= 50_000 else 'MISSED'}")
    return 0 if ours >= 50_000 else 1


if __name__ == "__main__":
    sys.exit(main())
