"""Database connection shared by the registry and the sighting store.

A user names a database by SQLAlchemy URL or by a plain file path (taken as
SQLite). SQLite files run in WAL mode so that readers never block the writer.
The schema version of each component is kept in ``skynet_meta``.
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

meta_table_metadata = sa.MetaData()
meta_table = sa.Table(
    "skynet_meta",
    meta_table_metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


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
        return make_url(text)
    except ArgumentError as exc:
        msg = f"not a database URL: {text!r} ({exc})"
        raise BadInputError(msg, field="db") from None


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
    try:
        engine = sa.create_engine(url)
    except (ArgumentError, ImportError) as exc:
        msg = f"cannot use database {url.render_as_string(hide_password=True)} ({exc})"
        raise BadInputError(msg, field="db") from None
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _enable_wal)
    return engine


def ensure_schema(engine: Engine, metadata: sa.MetaData, component: str, version: int) -> None:
    """Create the component's tables if absent and check its schema version."""
    key = f"{component}_schema_version"
    try:
        with engine.begin() as connection:
            meta_table_metadata.create_all(connection, checkfirst=True)
            metadata.create_all(connection, checkfirst=True)
            stored = connection.execute(
                sa.select(meta_table.c.value).where(meta_table.c.key == key)
            ).scalar_one_or_none()
            if stored is None:
                connection.execute(sa.insert(meta_table).values(key=key, value=str(version)))
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
