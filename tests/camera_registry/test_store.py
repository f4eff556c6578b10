"""The registry store: round trip, schema version, all-or-nothing imports.

Each test taking ``db_url`` runs on SQLite and on a PostgreSQL server.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from _databases import locale_sorted_database, refuse_inserts

from camera_registry import CameraFile, RegistryStore, SiteCRS, read_cameras
from camera_registry.database import resolve_url
from skynet.errors import BadInputError, ConflictError, NotFoundError, StoreError


@pytest.fixture
def sample(sample_cameras_path: Path) -> CameraFile:
    return read_cameras(sample_cameras_path)


def test_round_trip(db_url: str, sample: CameraFile) -> None:
    db = db_url
    summary = RegistryStore(str(db)).import_cameras(
        sample.cameras, SiteCRS.from_user_input(sample.working_crs)
    )
    assert (summary.added, summary.updated, summary.unchanged) == (len(sample.cameras), 0, 0)
    registry = RegistryStore(str(db)).load()  # a fresh connection reads what was written
    assert sorted(registry.cameras, key=lambda c: c.id) == sorted(
        sample.cameras, key=lambda c: c.id
    )
    assert registry.crs.code == "EPSG:32650"
    assert RegistryStore(str(db)).get("J1-N") == next(c for c in sample.cameras if c.id == "J1-N")


def test_schema_version_is_checked(db_url: str) -> None:
    store = RegistryStore(db_url)
    with store.engine.begin() as connection:
        version = connection.execute(
            sa.text("select value from skynet_meta where key='registry_schema_version'")
        ).scalar_one()
        assert version == "1"
        connection.execute(
            sa.text("update skynet_meta set value='99' where key='registry_schema_version'")
        )
    with pytest.raises(StoreError, match="schema version 99"):
        RegistryStore(db_url)


def test_schema_version_and_wal_are_recorded(tmp_path: Path) -> None:
    db = tmp_path / "reg.db"
    RegistryStore(str(db))
    with sqlite3.connect(db) as connection:
        version = connection.execute(
            "select value from skynet_meta where key='registry_schema_version'"
        ).fetchone()
        mode = connection.execute("pragma journal_mode").fetchone()
    assert version == ("1",) and mode == ("wal",)
    with sqlite3.connect(db) as connection:
        connection.execute("update skynet_meta set value='99' where key='registry_schema_version'")
    with pytest.raises(StoreError, match="schema version 99"):
        RegistryStore(str(db))


def test_reimport_is_idempotent_and_updates_are_counted(db_url: str, sample: CameraFile) -> None:
    store = RegistryStore(db_url)
    store.import_cameras(sample.cameras)
    again = store.import_cameras(sample.cameras)
    assert (again.added, again.updated, again.unchanged) == (0, 0, len(sample.cameras))
    moved = dataclasses.replace(sample.cameras[0], status="offline")
    summary = store.import_cameras([moved])
    assert (summary.added, summary.updated) == (0, 1)
    assert store.get(moved.id).status == "offline"
    assert store.count() == len(sample.cameras)


def test_auto_crs_then_conflicting_crs(db_url: str, sample: CameraFile) -> None:
    store = RegistryStore(db_url)
    assert store.working_crs is None
    assert store.import_cameras(sample.cameras[:3]).working_crs == "EPSG:32650"  # UTM chosen
    with pytest.raises(ConflictError, match="EPSG:4547"):
        store.import_cameras(sample.cameras[3:], SiteCRS.from_user_input("EPSG:4547"))
    assert store.count() == 3  # the refused import wrote nothing


def test_failed_write_leaves_store_unchanged(db_url: str, sample: CameraFile) -> None:
    store = RegistryStore(db_url)
    store.import_cameras(sample.cameras[:5])
    # A trigger makes the database refuse one row mid-import: nothing of that import may land.
    refuse_inserts(db_url, "cameras", "V-XIA-DOME", "refused by test")
    changed = [dataclasses.replace(c, name=c.name + " (new)") for c in sample.cameras[:5]]
    with pytest.raises(StoreError, match="refused by test"):
        store.import_cameras(changed + list(sample.cameras[5:]))
    assert store.count() == 5
    assert [store.get(c.id).name for c in sample.cameras[:5]] == [
        c.name for c in sample.cameras[:5]
    ]


def test_empty_and_missing(db_url: str) -> None:
    store = RegistryStore(db_url)
    with pytest.raises(NotFoundError, match="registry is empty"):
        store.load()
    with pytest.raises(NotFoundError, match="'X'"):
        store.get("X")
    with pytest.raises(BadInputError, match="nothing to import"):
        store.import_cameras([])


def test_urls_and_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_url(str(tmp_path / "a.db")).get_backend_name() == "sqlite"
    monkeypatch.setenv("SKYNET_DB", f"sqlite:///{tmp_path / 'env.db'}")
    assert resolve_url(None).database == str(tmp_path / "env.db")
    with pytest.raises(BadInputError, match="not a database URL"):
        resolve_url("::::://")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'engine.db'}")
    assert RegistryStore(engine).count() == 0


def test_ids_sort_by_bytes_where_the_server_sorts_by_locale(
    postgres_server: str, sample: CameraFile
) -> None:
    """The registry's camera order (its row numbers) is SQLite's on any PostgreSQL."""
    with locale_sorted_database(postgres_server) as db:
        engine = sa.create_engine(db, poolclass=sa.pool.NullPool)
        with engine.connect() as connection:
            by_locale = connection.exec_driver_sql(
                "SELECT x FROM (VALUES ('B1'), ('a0')) AS v(x) ORDER BY x"
            ).scalars()
            assert list(by_locale) == ["a0", "B1"]  # the server's own order is not bytes'
        engine.dispose()
        ids = ["a0", "B1", "J10-S", "J1-N", "c-2", "A1"]
        cameras = [dataclasses.replace(sample.cameras[0], id=i) for i in ids]
        store = RegistryStore(db)
        store.import_cameras(cameras, SiteCRS.from_user_input(sample.working_crs))
        assert [c.id for c in store.load().cameras] == sorted(ids)
