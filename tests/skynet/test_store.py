"""The sighting store: one transaction per clip, idempotent re-ingest, window queries.

Each test runs on SQLite and on a PostgreSQL server (``db_url``, tests/support/_databases.py).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from _databases import allow_inserts, locale_sorted_database, refuse_inserts

from skynet.errors import BadInputError, NotFoundError, StoreError
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


def test_round_trip_and_idempotent_reingest(db_url: str) -> None:
    store = SightingStore(db_url)
    sightings = make_sightings("C1", "a.avi", 7)
    assert store.is_empty()
    assert store.add_clip(clip("C1", "a.avi"), sightings) == 7
    assert store.has_clip("C1:a.avi") and not store.has_clip("C1:b.avi")
    again = SightingStore(db_url)
    assert again.add_clip(clip("C1", "a.avi"), sightings) == 0
    assert again.count() == 7 and not again.is_empty()
    back = {s.id: s for s in again.find()}
    assert all(back[s.id] == s for s in sightings)
    assert again.get(sightings[3].id) == sightings[3]
    assert [c.name for c in again.clips()] == ["a.avi"]


def three_cameras(db: str, per_camera: int) -> tuple[SightingStore, list[Sighting]]:
    """A store holding one clip of ``per_camera`` sightings at each of C1, C2, C3."""
    store = SightingStore(db)
    everything: list[Sighting] = []
    for camera in ("C1", "C2", "C3"):
        batch = make_sightings(camera, "x.avi", per_camera, seed=len(everything))
        store.add_clip(clip(camera, "x.avi"), batch)
        everything += batch
    return store, everything


def test_clustering_keeps_every_row_and_lays_them_out_by_camera(db_url: str) -> None:
    """``cluster`` changes where rows sit, never what a query answers; the store takes
    new clips after it, and a store file opens the same before and after."""
    store = SightingStore(db_url)
    everything: list[Sighting] = []
    for round_ in range(3):  # clips of three cameras interleaved, as ingest writes them
        for camera in ("C3", "C1", "C2"):
            name = f"{round_}.avi"
            batch = make_sightings(camera, name, 8, seed=len(everything))
            store.add_clip(clip(camera, name), batch)
            everything += batch
    cameras = ["C1", "C3"]
    start, end = 1_773_000_100.0, 1_773_000_400.0
    before = (store.find(), store.find(camera_ids=cameras, start_s=start, end_s=end))
    window = store.whole_window(cameras, start, end, by="t_out").rows
    assert store.clustered_rows() is None
    assert store.cluster(vacuum=True) == len(everything)
    again = SightingStore(db_url)
    assert again.clustered_rows() == len(everything)
    assert (again.find(), again.find(camera_ids=cameras, start_s=start, end_s=end)) == before
    assert list(again.whole_window(cameras, start, end, by="t_out").rows) == list(window)
    if again.engine.dialect.name == "sqlite":
        with again.engine.connect() as connection:
            laid = connection.exec_driver_sql(
                "SELECT camera_id, t_in FROM sightings ORDER BY rowid"
            )
            rows = [tuple(r) for r in laid]
        assert rows == sorted(rows)
        with again.engine.connect() as connection:  # the pragmas the engine sets are back
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    late = make_sightings("C2", "late.avi", 4, seed=99)
    assert again.add_clip(clip("C2", "late.avi"), late) == 4
    assert again.add_clip(clip("C1", "0.avi"), everything[8:16]) == 0  # still idempotent
    assert again.count() == len(everything) + 4


def test_clustering_beside_an_open_reader_goes_through_the_wal(tmp_path: Path) -> None:
    """Another connection on the file (a server, or this process's other stores) keeps
    SQLite from leaving WAL mode: the copy then goes through the WAL instead of failing."""
    db = f"sqlite:///{tmp_path / 'open.db'}"
    store, everything = three_cameras(db, 12)
    reader = SightingStore(db)
    with reader.engine.connect() as held:
        assert held.exec_driver_sql("SELECT count(*) FROM sightings").scalar() == 36
        assert store.cluster() == len(everything)
        assert held.exec_driver_sql("SELECT count(*) FROM sightings").scalar() == 36
    assert SightingStore(db).find() == store.find()
    assert SightingStore(db).clustered_rows() == len(everything)


def test_window_and_camera_queries_match_brute_force(db_url: str) -> None:
    store, everything = three_cameras(db_url, 30)
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


def test_overlap_query_keeps_its_bounds_and_ids(db_url: str) -> None:
    """An overlap query (on SQLite by the rowids of both time indices) keeps a stay that
    only touches a bound, and an id filter asked for with it."""
    store, everything = three_cameras(db_url, 30)
    touching = everything[5]  # a C1 sighting: one query ends at its t_in, one starts at its t_out
    for start, end in ((touching.t_in - 50.0, touching.t_in), (touching.t_out, touching.t_out)):
        got = store.find(camera_ids=["C1", "C2"], start_s=start, end_s=end)
        expected = sorted(
            (
                s
                for s in everything
                if s.camera_id in ("C1", "C2") and s.t_out >= start and s.t_in <= end
            ),
            key=lambda s: (s.t_in, s.id),
        )
        assert touching.id in {s.id for s in got}
        assert [s.id for s in got] == [s.id for s in expected]
    ids = [touching.id, everything[40].id]  # the second is a C2 sighting
    got = store.find(camera_ids=["C1"], start_s=touching.t_in, end_s=touching.t_out, ids=ids)
    assert [s.id for s in got] == [touching.id]


@pytest.mark.parametrize("by", ["t_in", "t_out"])
def test_window_columns_match_the_sightings_and_the_in_memory_pool(
    db_url: str, by: TimeSide
) -> None:
    store, everything = three_cameras(db_url, 40)
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


def test_an_older_database_gets_the_new_index(db_url: str) -> None:
    store = SightingStore(db_url)
    store.add_clip(clip("C1", "a.avi"), make_sightings("C1", "a.avi", 3))
    with store.engine.begin() as connection:
        connection.exec_driver_sql("DROP INDEX ix_sightings_camera_t_out")
    assert "ix_sightings_camera_t_out" not in indices(store)
    again = SightingStore(db_url)
    assert again.count() == 3
    assert "ix_sightings_camera_t_out" in indices(again)


def indices(store: SightingStore) -> set[str]:
    return {str(i["name"]) for i in sa.inspect(store.engine).get_indexes("sightings")}


def test_a_failed_clip_writes_nothing(db_url: str) -> None:
    store = SightingStore(db_url)
    sightings = make_sightings("C1", "a.avi", 5)
    refuse_inserts(db_url, "sightings", sightings[3].id, "disk full (test)")
    with pytest.raises(StoreError, match="disk full"):
        store.add_clip(clip("C1", "a.avi"), sightings)
    assert store.count() == 0 and not store.has_clip("C1:a.avi")
    allow_inserts(db_url, "sightings")
    assert store.add_clip(clip("C1", "a.avi"), sightings) == 5  # the rerun completes it


def test_values_come_back_bit_for_bit(db_url: str) -> None:
    """Float64 times and positions, float32 appearance bytes and NULLs survive the round trip."""
    store = SightingStore(db_url)
    sightings = make_sightings("C1", "a.avi", 4, seed=7)
    t_in = 1_773_000_000.123456789
    awkward = dataclasses.replace(sightings[1], t_in=t_in, t_out=float(np.nextafter(t_in, np.inf)))
    sightings[1] = awkward
    store.add_clip(clip("C1", "a.avi"), sightings)
    back = store.get(awkward.id)
    assert back.t_in == awkward.t_in and back.t_out == awkward.t_out
    assert back.t_out > back.t_in
    assert back.appearance.dtype == np.float32
    assert back.appearance.tobytes() == np.asarray(awkward.appearance, "<f4").tobytes()
    assert back.entry_xy == awkward.entry_xy and back.speed_mps == awkward.speed_mps
    plain = store.get(sightings[0].id)
    assert plain.entry_xy is None and plain.heading_deg is None


def test_sightings_checked_in_bulk_match_those_built_one_by_one(db_url: str) -> None:
    """Rows read back are checked a window at once and built without ``Sighting``'s checks
    run again: the same sightings as its constructor makes (every field, the appearance's
    type), and a stored row that fails a check still fails when built."""
    store = SightingStore(db_url)
    sightings = make_sightings("C1", "a.avi", 12, seed=5)
    store.add_clip(clip("C1", "a.avi"), sightings)
    window = store.whole_window(["C1"], 0.0, 2e9, by="t_in")
    assert window.checked is not None and window.checked.all()
    by_window = {s.id: s for s in (window.sighting(i) for i in range(len(window.rows)))}
    by_find = {s.id: s for s in store.find(camera_ids=["C1"])}
    for original in sightings:
        rebuilt = dataclasses.replace(by_find[original.id])  # through Sighting's checks
        for built in (by_window[original.id], by_find[original.id]):
            assert built == original == rebuilt
            assert type(built.appearance) is type(rebuilt.appearance)
            assert built.appearance.dtype == rebuilt.appearance.dtype
            assert built.appearance.flags.writeable == rebuilt.appearance.flags.writeable
    bad = sightings[3]
    with store.engine.begin() as connection:
        table = sa.table("sightings", sa.column("id"), sa.column("quality"))
        connection.execute(sa.update(table).where(table.c.id == bad.id).values(quality=1.5))
    window = store.whole_window(["C1"], 0.0, 2e9, by="t_in")
    row = [r[0] for r in window.rows].index(bad.id)
    assert window.checked is not None and not window.checked[row]
    with pytest.raises(BadInputError, match="quality"):
        window.sighting(row)
    with pytest.raises(BadInputError, match="quality"):
        store.get(bad.id)
    assert window.sighting(row - 1 if row else row + 1).quality == 0.8


def test_a_large_clip_lands_whole_and_once(db_url: str) -> None:
    """More sightings than one insert chunk: all counted as new once, none the second time."""
    store = SightingStore(db_url)
    many = make_sightings("C1", "long.avi", 4_500, seed=3)
    assert store.add_clip(clip("C1", "long.avi"), many) == 4_500
    assert store.add_clip(clip("C1", "long.avi"), many) == 0
    assert store.count() == 4_500


def test_many_ids_are_asked_for_in_slices(db_url: str) -> None:
    """More ids than one statement may carry (65,535 parameters on PostgreSQL)."""
    store = SightingStore(db_url)
    many = make_sightings("C1", "long.avi", 12_000, seed=4)
    store.add_clip(clip("C1", "long.avi"), many)
    wanted = [s.id for s in many] + [f"absent-{i}" for i in range(60_000)]
    found = store.find(ids=wanted)
    assert [s.id for s in found] == [s.id for s in sorted(many, key=lambda s: (s.t_in, s.id))]
    assert found == store.find()


def test_unknown_sighting(db_url: str) -> None:
    with pytest.raises(NotFoundError, match="'nope'"):
        SightingStore(db_url).get("nope")


def test_clips_sort_by_bytes_where_the_server_sorts_by_locale(postgres_server: str) -> None:
    with locale_sorted_database(postgres_server) as db:
        store = SightingStore(db)
        for camera in ("c1", "B2", "a3"):
            store.add_clip(clip(camera, "x.avi"), make_sightings(camera, "x.avi", 2))
        assert [c.camera_id for c in store.clips()] == ["B2", "a3", "c1"]
