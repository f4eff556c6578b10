"""The sighting store: one transaction per clip, idempotent re-ingest, window queries."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from skynet.errors import NotFoundError, StoreError
from skynet.linking import SightingArrays
from skynet.store import ClipRecord, SightingStore, TimeSide
from skynet.timeline import SightingPool
from trackers.sighting import APPEARANCE_DIM, Evidence, Sighting, sighting_id


def make_sightings(camera: str, clip: str, count: int, seed: int = 0) -> list[Sighting]:
    rng = np.random.default_rng(seed)
    out = []
    for track in range(count):
        vector = rng.normal(size=APPEARANCE_DIM).astype(np.float32)
        t_in = 1_773_000_000.0 + float(rng.uniform(0, 600))
        out.append(
            Sighting(
                id=sighting_id(camera, clip, track),
                camera_id=camera,
                t_in=t_in,
                t_out=t_in + float(rng.uniform(1, 10)),
                vehicle_class="car",
                appearance=vector / np.linalg.norm(vector),
                quality=0.8,
                evidence=Evidence(clip, track, (1.0, 2.0, 30.0, 40.0)),
                entry_xy=(700_000.0 + track, 2_800_000.0) if track % 2 else None,
                exit_xy=(700_010.0, 2_800_005.0) if track % 2 else None,
                heading_deg=90.0 if track % 2 else None,
                speed_mps=8.5 if track % 2 else None,
                entry_edge="1-2-0" if track % 3 == 0 else None,
            )
        )
    return out


def clip(camera: str, name: str) -> ClipRecord:
    return ClipRecord(
        f"{camera}:{name}", camera, name, f"/footage/{name}", 1_773_000_000.0, 100, 10.0
    )


def test_round_trip_and_idempotent_reingest(tmp_path: Path) -> None:
    store = SightingStore(str(tmp_path / "s.db"))
    sightings = make_sightings("C1", "a.avi", 7)
    assert store.is_empty()
    assert store.add_clip(clip("C1", "a.avi"), sightings) == 7
    assert store.has_clip("C1:a.avi") and not store.has_clip("C1:b.avi")
    again = SightingStore(str(tmp_path / "s.db"))
    assert again.add_clip(clip("C1", "a.avi"), sightings) == 0
    assert again.count() == 7 and not again.is_empty()
    back = {s.id: s for s in again.find()}
    assert all(back[s.id] == s for s in sightings)
    assert again.get(sightings[3].id) == sightings[3]
    assert [c.name for c in again.clips()] == ["a.avi"]


def three_cameras(tmp_path: Path, per_camera: int) -> tuple[SightingStore, list[Sighting]]:
    """A store holding one clip of ``per_camera`` sightings at each of C1, C2, C3."""
    store = SightingStore(str(tmp_path / "s.db"))
    everything: list[Sighting] = []
    for camera in ("C1", "C2", "C3"):
        batch = make_sightings(camera, "x.avi", per_camera, seed=len(everything))
        store.add_clip(clip(camera, "x.avi"), batch)
        everything += batch
    return store, everything


def test_window_and_camera_queries_match_brute_force(tmp_path: Path) -> None:
    store, everything = three_cameras(tmp_path, 30)
    start, end = 1_773_000_200.0, 1_773_000_300.0
    got = store.find(camera_ids=["C1", "C3"], start_s=start, end_s=end)
    expected = sorted(
        (
            s
            for s in everything
            if s.camera_id in ("C1", "C3") and s.t_out >= start and s.t_in <= end
        ),
        key=lambda s: (s.t_in, s.id),
    )
    assert [s.id for s in got] == [s.id for s in expected] and got


@pytest.mark.parametrize("by", ["t_in", "t_out"])
def test_window_columns_match_the_sightings_and_the_in_memory_pool(
    tmp_path: Path, by: TimeSide
) -> None:
    store, everything = three_cameras(tmp_path, 40)
    start, end = 1_773_000_150.0, 1_773_000_400.0
    columns = store.window(["C1", "C3"], start, end, by=by)
    expected = SightingArrays.from_sightings(
        sorted(
            (
                s
                for s in everything
                if s.camera_id in ("C1", "C3") and start <= getattr(s, by) <= end
            ),
            key=lambda s: (s.t_in, s.id),
        )
    )
    assert len(columns) > 10
    pooled = SightingPool(everything).window(["C1", "C3"], start, end, by=by)
    for got in (columns, pooled):
        for name in SightingArrays.__dataclass_fields__:
            a, b = getattr(got, name), getattr(expected, name)
            if a.dtype.kind == "f":
                assert np.array_equal(a, b, equal_nan=True), name
            else:
                assert np.array_equal(a, b), name
    assert len(store.window(["C9"], start, end, by=by)) == 0


def test_an_older_database_gets_the_new_index(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    SightingStore(str(path)).add_clip(clip("C1", "a.avi"), make_sightings("C1", "a.avi", 3))
    with sqlite3.connect(path) as db:
        db.execute("DROP INDEX ix_sightings_camera_t_out")
    assert SightingStore(str(path)).count() == 3
    with sqlite3.connect(path) as db:
        names = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "ix_sightings_camera_t_out" in names


def test_a_failed_clip_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store = SightingStore(str(db))
    sightings = make_sightings("C1", "a.avi", 5)
    with sqlite3.connect(db) as connection:
        connection.execute(
            f"create trigger refuse before insert on sightings when new.id = '{sightings[3].id}' "
            "begin select raise(abort, 'disk full (test)'); end"
        )
    with pytest.raises(StoreError, match="disk full"):
        store.add_clip(clip("C1", "a.avi"), sightings)
    assert store.count() == 0 and not store.has_clip("C1:a.avi")
    with sqlite3.connect(db) as connection:
        connection.execute("drop trigger refuse")
    assert store.add_clip(clip("C1", "a.avi"), sightings) == 5  # the rerun completes it


def test_unknown_sighting(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="'nope'"):
        SightingStore(str(tmp_path / "s.db")).get("nope")
