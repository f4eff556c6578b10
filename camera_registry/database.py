"""Database connection shared by the registry and the sighting store.

A user names a database by SQLAlchemy URL or by a plain file path (taken as
SQLite). SQLite files run in WAL mode so that readers never block the writer;
PostgreSQL runs through psycopg 3 (``postgresql+psycopg://``, the driver
chosen for a bare ``postgresql://``), its pooled connections checked before
use so that a restarted server costs no failed query. The schema version of
each component is kept in ``skynet_meta``; creating the schema is serialised
(several processes may open a fresh database at once).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from skynet.errors import BadInputError, StoreError

ENV_DB: Final = "SKYNET_DB"
ENV_HOME: Final = "SKYNET_HOME"
#: How long a SQLite writer waits for another's transaction before failing.
SQLITE_BUSY_TIMEOUT_S: Final = 60.0
#: Any fixed number: the PostgreSQL advisory lock taken while a schema is made.
_SCHEMA_LOCK: Final = 0x536B796E6574  # "Skynet"

meta_table_metadata = sa.MetaData()
meta_table = sa.Table(
    "skynet_meta",
    meta_table_metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


def key_string(length: int) -> sa.types.TypeEngine[str]:
    """A text key that sorts byte by byte on every backend.

    SQLite compares text as bytes; PostgreSQL by the database's locale, where
    ``en_US`` puts ``a0`` before ``B1`` (and glibc's ``J10-S`` before ``J1-N``).
    Keys that queries order by are ``COLLATE "C"`` there, so both give one order.
    """
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def data_home() -> Path:
    """Where Skynet keeps its default database, caches and logs."""
    explicit = os.environ.get(ENV_HOME)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "skynet"


def resolve_url(value: str | None = None) -> URL:
    """The database URL from ``value``, ``$SKYNET_DB`` or the default SQLite file."""
    text = value or os.environ.get(ENV_DB) or str(data_home() / "skynet.db")
    if "://" not in text:
        return URL.create("sqlite", database=str(Path(text).expanduser()))
    try:
        url = make_url(text)
    except ArgumentError as exc:
        msg = f"not a database URL: {text!r} ({exc})"
        raise BadInputError(msg, field="db") from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")  # psycopg 3, not psycopg2
    return url


def _enable_wal(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def open_engine(value: str | None = None) -> Engine:
    """An engine for the named database; creates the SQLite file's folder."""
    url = resolve_url(value)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        folder = Path(url.database or "").parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            msg = f"cannot create the database folder {folder} ({exc})"
            raise BadInputError(msg, field="db") from None
    sqlite = url.get_backend_name() == "sqlite"
    options: dict[str, Any] = (
        {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S}} if sqlite else {"pool_pre_ping": True}
    )
    try:
        engine = sa.create_engine(url, **options)
    except (ArgumentError, ImportError) as exc:
        hint = (
            " (pip install -e '.[postgres]')"
            if isinstance(exc, ImportError) and url.get_backend_name() == "postgresql"
            else ""
        )
        msg = f"cannot use database {url.render_as_string(hide_password=True)} ({exc}){hint}"
        raise BadInputError(msg, field="db") from None
    if sqlite:
        sa.event.listen(engine, "connect", _enable_wal)
    return engine


def _lock_for_schema(connection: Connection) -> None:
    """Hold the database's schema lock until this transaction ends.

    Without it, two processes opening a fresh database both find a table
    missing and both create it; the second fails.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_SCHEMA_LOCK)))
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock, waiting its turn


def ensure_schema(engine: Engine, metadata: sa.MetaData, component: str, version: int) -> None:
    """Create the component's tables (and indices added since) if absent; check its version."""
    key = f"{component}_schema_version"
    try:
        with engine.begin() as connection:
            _lock_for_schema(connection)
            meta_table_metadata.create_all(connection, checkfirst=True)
            metadata.create_all(connection, checkfirst=True)
            for table in metadata.sorted_tables:
                for index in table.indexes:
                    index.create(connection, checkfirst=True)
            stored = connection.execute(
                sa.select(meta_table.c.value).where(meta_table.c.key == key)
            ).scalar_one_or_none()
            if stored is None:
                write_meta(connection, key, str(version))
            elif int(stored) != version:
                msg = (
                    f"database has {component} schema version {stored}; this Skynet needs {version}"
                )
                raise StoreError(msg)
    except SQLAlchemyError as exc:
        raise store_error(engine, exc) from None


def read_meta(engine: Engine, key: str) -> str | None:
    """A value from ``skynet_meta`` (None when unset)."""
    try:
        with engine.connect() as connection:
            return connection.execute(
                sa.select(meta_table.c.value).where(meta_table.c.key == key)
            ).scalar_one_or_none()
    except SQLAlchemyError as exc:
        raise store_error(engine, exc) from None


def write_meta(connection: Connection, key: str, value: str) -> None:
    """Set a ``skynet_meta`` value inside the caller's transaction (update, else insert)."""
    updated = connection.execute(
        sa.update(meta_table).where(meta_table.c.key == key).values(value=value)
    )
    if updated.rowcount == 0:
        connection.execute(sa.insert(meta_table).values(key=key, value=value))


def store_error(engine: Engine, exc: SQLAlchemyError) -> StoreError:
    """Our error for a database failure, naming the database but no password."""
    where = engine.url.render_as_string(hide_password=True)
    detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    return StoreError(f"database {where}: {detail}")


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """``engine.begin()``, with any database error raised as :class:`StoreError`."""
    try:
        with engine.begin() as connection:
            yield connection
    except SQLAlchemyError as exc:
        raise store_error(engine, exc) from None


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """``engine.connect()`` for queries, with any database error raised as :class:`StoreError`."""
    try:
        with engine.connect() as connection:
            yield connection
    except SQLAlchemyError as exc:
        raise store_error(engine, exc) from None
