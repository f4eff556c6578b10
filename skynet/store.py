"""The sighting store: clips and their sightings in SQL (SQLite or PostgreSQL).

One transaction per clip: a clip's sightings land together with its clip row
or not at all, and sighting ids are deterministic, so re-ingesting a clip is a
no-op and a rerun after a crash completes what was missing. Appearance
vectors are stored as little-endian float32 bytes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from operator import itemgetter
from typing import Any, Final, Literal

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from camera_registry.database import (
    ensure_schema,
    key_string,
    open_engine,
    read_meta,
    reading,
    store_error,
    write_meta,
)
from skynet.errors import NotFoundError, StoreError
from skynet.linking import SightingArrays
from trackers.sighting import APPEARANCE_DIM, VEHICLE_CLASSES, Evidence, Sighting

FloatArray = NDArray[np.float64]
#: Which of a sighting's times a window query bounds: when it entered or left the view.
TimeSide = Literal["t_in", "t_out"]

SCHEMA_VERSION: Final = 1
_CHUNK: Final = 2_000
#: Ids per query when sightings are asked for by id (and most cameras an overlap query
#: names twice: SQLite takes 32,766 parameters).
_IDS_PER_QUERY: Final = 5_000
#: From this many rows a PostgreSQL insert goes through COPY (a fifth of the time).
_COPY_FROM: Final = 64
#: ``skynet_meta`` key: how many sightings :meth:`SightingStore.cluster` last laid out.
CLUSTERED_KEY: Final = "sightings_clustered_rows"

metadata = sa.MetaData()
clips_table = sa.Table(
    "clips",
    metadata,
    sa.Column("id", key_string(64), primary_key=True),
    sa.Column("camera_id", key_string(128), nullable=False, index=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("start_s", sa.Float(precision=53), nullable=False),
    sa.Column("frames", sa.Integer, nullable=False),
    sa.Column("fps", sa.Float(precision=53), nullable=False),
    sa.Column("sightings", sa.Integer, nullable=False),
    sa.Column("ingested_at", sa.Float(precision=53), nullable=False),
)
sightings_table = sa.Table(
    "sightings",
    metadata,
    sa.Column("id", key_string(64), primary_key=True),
    sa.Column("clip_id", key_string(64), sa.ForeignKey("clips.id"), nullable=False),
    sa.Column("camera_id", key_string(128), nullable=False),
    sa.Column("t_in", sa.Float(precision=53), nullable=False),
    sa.Column("t_out", sa.Float(precision=53), nullable=False),
    sa.Column("vehicle_class", sa.String(32), nullable=False),
    sa.Column("appearance", sa.LargeBinary, nullable=False),
    sa.Column("quality", sa.Float(precision=53), nullable=False),
    sa.Column("evidence_clip", sa.Text, nullable=False),
    sa.Column("evidence_frame", sa.Integer, nullable=False),
    sa.Column("bbox_x1", sa.Float(precision=53), nullable=False),
    sa.Column("bbox_y1", sa.Float(precision=53), nullable=False),
    sa.Column("bbox_x2", sa.Float(precision=53), nullable=False),
    sa.Column("bbox_y2", sa.Float(precision=53), nullable=False),
    sa.Column("entry_x", sa.Float(precision=53)),
    sa.Column("entry_y", sa.Float(precision=53)),
    sa.Column("exit_x", sa.Float(precision=53)),
    sa.Column("exit_y", sa.Float(precision=53)),
    sa.Column("heading_deg", sa.Float(precision=53)),
    sa.Column("speed_mps", sa.Float(precision=53)),
    sa.Column("entry_edge", sa.Text),
    sa.Column("exit_edge", sa.Text),
    sa.Index("ix_sightings_camera_time", "camera_id", "t_in"),
    # linking backwards asks for sightings that left a camera's view within a window
    sa.Index("ix_sightings_camera_t_out", "camera_id", "t_out"),
    sa.Index("ix_sightings_time", "t_in"),
)
#: Columns linking scores candidates on (the rest is read for the few it keeps).
_WINDOW_COLUMNS: Final = (
    "id",
    "camera_id",
    "t_in",
    "t_out",
    "vehicle_class",
    "appearance",
    "heading_deg",
    "entry_x",
    "entry_y",
    "exit_x",
    "exit_y",
)

#: Every column a whole sighting is built from, the window's first.
_WHOLE_COLUMNS: Final = _WINDOW_COLUMNS + tuple(
    c.name for c in sightings_table.c if c.name not in _WINDOW_COLUMNS and c.name != "clip_id"
)


#: Where each column sits in a ``_WHOLE_COLUMNS`` row.
_WHOLE_AT: Final = {name: i for i, name in enumerate(_WHOLE_COLUMNS)}
#: How far inside ``Sighting``'s unit-length tolerance (1e-3) a row checked in bulk must
#: be: a norm summed in another order may differ in its last bits; rows nearer the
#: edge are checked one by one, as built.
_NORM_MARGIN: Final = 1e-4


@dataclass(frozen=True, eq=False)
class WholeWindow:
    """A window's columns with every row's other fields: the few sightings linking keeps
    are built from these, with no second query by id (a tenth of a ms each otherwise)."""

    columns: SightingArrays
    rows: Sequence[Sequence[Any]]  # ``_WHOLE_COLUMNS`` order
    #: Rows that pass every check a :class:`Sighting` makes (None: check each as built).
    checked: NDArray[np.bool_] | None = None

    def sighting(self, row: int) -> Sighting:
        """The whole sighting of one row."""
        values = self.rows[row]
        if self.checked is not None and self.checked[row]:
            return _sighting(values, _WHOLE_AT, checked=True)
        return _sighting(values, _WHOLE_AT)


@dataclass(frozen=True)
class ClipRecord:
    """A processed clip: which camera, what file, when it starts, what it yielded."""

    id: str
    camera_id: str
    name: str
    source: str
    start_s: float
    frames: int
    fps: float


class SightingStore:
    """Clips and sightings in the database named by URL or path (or an engine)."""

    def __init__(self, db: str | Engine | None = None) -> None:
        self.engine = db if isinstance(db, Engine) else open_engine(db)
        ensure_schema(self.engine, metadata, "sightings", SCHEMA_VERSION)  # and new indices

    @property
    def _sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def has_clip(self, clip_id: str) -> bool:
        """Whether a clip was committed already (its rerun can be skipped)."""
        with reading(self.engine) as connection:
            found = connection.execute(
                sa.select(clips_table.c.id).where(clips_table.c.id == clip_id)
            ).first()
        return found is not None

    def add_clip(self, clip: ClipRecord, sightings: Sequence[Sighting]) -> int:
        """Commit a clip and its sightings in one transaction; returns how many were new."""
        values = sighting_values(sightings, clip.id)
        try:
            with self.engine.begin() as connection:
                clip_row = {**asdict(clip), "sightings": len(values), "ingested_at": time.time()}
                _insert_new(connection, clips_table, [clip_row])
                if connection.dialect.name == "sqlite":  # the tuples straight to the driver
                    return _insert_values(connection, sightings_table, SIGHTING_COLUMNS, values)
                rows = [dict(zip(SIGHTING_COLUMNS, v, strict=True)) for v in values]
                return _insert_new(connection, sightings_table, rows)
        except SQLAlchemyError as exc:
            raise store_error(self.engine, exc) from None

    def is_empty(self) -> bool:
        """Whether no sighting is stored (one row read, where counting reads them all)."""
        with reading(self.engine) as connection:
            query = sa.select(sightings_table.c.id).limit(1)
            return connection.execute(query).first() is None

    def count(self) -> int:
        with reading(self.engine) as connection:
            query = sa.select(sa.func.count()).select_from(sightings_table)
            return int(connection.execute(query).scalar_one())

    def get(self, sighting_id: str) -> Sighting:
        """One sighting by id."""
        found = self.find(ids=[sighting_id])
        if not found:
            msg = f"no sighting with id {sighting_id!r}"
            raise NotFoundError(msg)
        return found[0]

    def find(
        self,
        *,
        camera_ids: Iterable[str] | None = None,
        start_s: float | None = None,
        end_s: float | None = None,
        ids: Iterable[str] | None = None,
    ) -> list[Sighting]:
        """Sightings of the cameras overlapping ``[start_s, end_s]``, in time order.

        Many ``ids`` are asked for a slice at a time (a statement carries at
        most 65,535 parameters on PostgreSQL, 32,766 on SQLite).
        """
        if ids is not None:
            wanted = list(dict.fromkeys(ids))
            if len(wanted) > _IDS_PER_QUERY:
                found = [
                    s
                    for start in range(0, len(wanted), _IDS_PER_QUERY)
                    for s in self.find(
                        camera_ids=camera_ids,
                        start_s=start_s,
                        end_s=end_s,
                        ids=wanted[start : start + _IDS_PER_QUERY],
                    )
                ]
                return sorted(found, key=lambda s: (s.t_in, s.id))  # as the query orders
            ids = wanted
        table = sightings_table
        cameras = None if camera_ids is None else list(camera_ids)
        overlap = start_s is not None and end_s is not None and self._sqlite
        if overlap and ids is None and cameras and len(cameras) <= _IDS_PER_QUERY:
            return self._driver_overlap(cameras, start_s or 0.0, end_s or 0.0)
        query = sa.select(table)
        if ids is not None:
            query = query.where(table.c.id.in_(list(ids)))
        if overlap and cameras is not None and len(cameras) <= _IDS_PER_QUERY:
            query = query.where(_overlapping_rows(cameras, start_s or 0.0, end_s or 0.0))
            cameras = start_s = end_s = None  # all three asked for by the rowids
        if cameras is not None:
            query = query.where(table.c.camera_id.in_(cameras))
        if start_s is not None:
            query = query.where(table.c.t_out >= start_s)
        if end_s is not None:
            query = query.where(table.c.t_in <= end_s)
        query = query.order_by(table.c.t_in, table.c.id)
        with reading(self.engine) as connection:
            rows = connection.execute(query).all()
        return _built(rows, [c.name for c in sightings_table.c])

    def _driver_overlap(self, cameras: list[str], start_s: float, end_s: float) -> list[Sighting]:
        """:meth:`find` of the cameras' stays overlapping ``[start_s, end_s]`` on SQLite, by
        the DB-API driver: the rowids both time indices give (see :func:`_overlapping_rows`),
        in SQL written once per number of cameras rather than compiled per query (a route
        asks hundreds; compiling was a third of their time)."""
        marks = ", ".join("?" * len(cameras))
        names = ", ".join(c.name for c in sightings_table.c)
        sql = (
            f"SELECT {names} FROM sightings WHERE rowid IN ("
            f"SELECT rowid FROM sightings WHERE camera_id IN ({marks}) AND t_out >= ? "
            f"INTERSECT SELECT rowid FROM sightings WHERE camera_id IN ({marks}) AND t_in <= ?"
            ") ORDER BY t_in, id"
        )
        with reading(self.engine) as connection:
            result = connection.exec_driver_sql(sql, (*cameras, start_s, *cameras, end_s))
            rows: Sequence[Sequence[Any]] = result.cursor.fetchall()
        return _built(rows, [c.name for c in sightings_table.c])

    def window(
        self, camera_ids: Sequence[str], start_s: float, end_s: float, *, by: TimeSide
    ) -> SightingArrays:
        """Columns of the cameras' sightings whose ``by`` time lies in ``[start_s, end_s]``.

        Linking scores thousands of candidates a step on these columns and
        builds whole sightings only for the few it keeps (:meth:`find` by id).
        """
        return _columns(self._window_rows(_WINDOW_COLUMNS, camera_ids, start_s, end_s, by))

    def whole_window(
        self, camera_ids: Sequence[str], start_s: float, end_s: float, *, by: TimeSide
    ) -> WholeWindow:
        """As :meth:`window`, with the rest of each row kept to build whole sightings."""
        rows = self._window_rows(_WHOLE_COLUMNS, camera_ids, start_s, end_s, by)
        columns = _columns(rows)
        quality = np.array(_column(rows, _WHOLE_AT["quality"]), dtype=np.float64)
        checked = _passes_checks(
            columns.t_in, columns.t_out, columns.classes, columns.appearance, quality
        )
        return WholeWindow(columns, rows, checked)

    def _window_rows(
        self,
        columns: Sequence[str],
        camera_ids: Sequence[str],
        start_s: float,
        end_s: float,
        by: TimeSide,
    ) -> Sequence[Sequence[Any]]:
        """``columns`` of the cameras' sightings with ``by`` in ``[start_s, end_s]``, by time.

        On SQLite the statement goes straight to the driver: a timeline asks
        hundreds of these, and SQLAlchemy's compiling of each list of cameras and
        building of row objects cost a third as much again as SQLite itself.
        """
        if self._sqlite and len(camera_ids) <= _IDS_PER_QUERY:
            return self._driver_window(columns, camera_ids, start_s, end_s, by)
        table = sightings_table
        at = table.c[by]
        query = (
            sa.select(*(table.c[name] for name in columns))
            .where(table.c.camera_id.in_(list(camera_ids)), at >= start_s, at <= end_s)
            .order_by(table.c.t_in, table.c.id)
        )
        with reading(self.engine) as connection:
            return connection.execute(query).all()

    def _driver_window(
        self,
        columns: Sequence[str],
        camera_ids: Sequence[str],
        start_s: float,
        end_s: float,
        by: TimeSide,
    ) -> Sequence[Sequence[Any]]:
        """:meth:`_window_rows` by the DB-API driver (SQLite's ``?`` parameters)."""
        at = sightings_table.c[by].name  # a known column, never text from outside
        names = ", ".join(sightings_table.c[name].name for name in columns)
        marks = ", ".join("?" * len(camera_ids))
        sql = (
            f"SELECT {names} FROM sightings WHERE camera_id IN ({marks}) "
            f"AND {at} >= ? AND {at} <= ? ORDER BY t_in, id"
        )
        with reading(self.engine) as connection:
            result = connection.exec_driver_sql(sql, (*camera_ids, start_s, end_s))
            rows: Sequence[Sequence[Any]] = result.cursor.fetchall()  # plain tuples, no rows
            return rows

    def clustered_rows(self) -> int | None:
        """How many sightings the last :meth:`cluster` laid out (None: never clustered)."""
        value = read_meta(self.engine, CLUSTERED_KEY)
        return None if value is None else int(value)

    def cluster(self, *, vacuum: bool = False) -> int:
        """Lay the sightings out by camera and time; returns how many rows were laid out.

        A camera-window query reads a contiguous run of rows afterwards, a few
        pages, where rows inserted in arrival order (many cameras' clips at
        once) sit one per page over the whole file. Rows added later are
        appended as before, so run it again after much ingest (a maintenance
        step like PostgreSQL's ``CLUSTER``, which it is there). On SQLite the
        table is copied in order and its indices rebuilt in one transaction;
        ``vacuum`` then rewrites the file without the old table's free pages.
        The schema is unchanged: every store file opens before and after.
        """
        try:
            if self._sqlite:
                rows = self._cluster_sqlite(vacuum=vacuum)
            else:
                with self.engine.begin() as connection:
                    connection.exec_driver_sql("CLUSTER sightings USING ix_sightings_camera_time")
                    connection.exec_driver_sql("ANALYZE sightings")
                    rows = _count(connection)
                    write_meta(connection, CLUSTERED_KEY, str(rows))
        except SQLAlchemyError as exc:
            raise store_error(self.engine, exc) from None
        return rows

    def _cluster_sqlite(self, *, vacuum: bool) -> int:
        """:meth:`cluster` on SQLite: rename, copy in ``(camera_id, t_in, id)`` order, drop,
        index. Foreign keys are off for the copy (the rows were checked when inserted) and
        the journal a rollback one, where it can be (the WAL would hold a second copy)."""
        self.engine.dispose()  # idle pooled connections would keep the journal mode
        old = "sightings_unclustered"
        with self.engine.connect() as connection:
            try:
                run = connection.exec_driver_sql
                run("PRAGMA foreign_keys=OFF")
                run("PRAGMA legacy_alter_table=ON")
                rollback_journal = _leave_wal(connection)
                run("BEGIN IMMEDIATE")
                for index in sightings_table.indexes:
                    run(f"DROP INDEX IF EXISTS {index.name}")
                run(f"ALTER TABLE sightings RENAME TO {old}")
                connection.execute(sa.schema.CreateTable(sightings_table))
                names = ", ".join(c.name for c in sightings_table.c)
                run(
                    f"INSERT INTO sightings ({names}) SELECT {names} FROM {old} "
                    "ORDER BY camera_id, t_in, id"
                )
                run(f"DROP TABLE {old}")
                for index in sightings_table.indexes:
                    index.create(connection)
                run("ANALYZE sightings")
                rows = _count(connection)
                write_meta(connection, CLUSTERED_KEY, str(rows))
                run("COMMIT")
                if not rollback_journal:  # the copy went through the WAL: fold it back
                    run("PRAGMA wal_checkpoint(TRUNCATE)")
                if vacuum:
                    run("VACUUM")
            except BaseException:
                if connection.connection.dbapi_connection is not None:
                    connection.connection.dbapi_connection.rollback()
                raise
            finally:
                connection.invalidate()  # its pragmas go with it, not back to the pool
        return rows

    def clips(self) -> list[ClipRecord]:
        """Every committed clip, by camera and start time."""
        query = sa.select(clips_table).order_by(clips_table.c.camera_id, clips_table.c.start_s)
        fields = ClipRecord.__dataclass_fields__
        with reading(self.engine) as connection:
            return [
                ClipRecord(**{k: v for k, v in row._mapping.items() if k in fields})
                for row in connection.execute(query)
            ]


def _leave_wal(connection: Connection) -> bool:
    """Switch ``connection`` to a rollback journal for a bulk rewrite, so the WAL does not
    hold a second copy of the table; returns False where another connection (this
    process's or another's) has the file open and SQLite refuses: the rewrite then goes
    through the WAL, which is checkpointed afterwards."""
    try:
        connection.exec_driver_sql("PRAGMA journal_mode=DELETE")
    except OperationalError:
        connection.rollback()
        return False
    return True


def _overlapping_rows(cameras: list[str], start_s: float, end_s: float) -> sa.ColumnElement[bool]:
    """SQLite: the cameras' rows whose stay overlaps ``[start_s, end_s]``, as the rowids both
    time indices give (each read alone from its covering index).

    One index bounds only one side of an overlap: by ``t_in`` it reads every
    earlier row of the camera, by ``t_out`` every later one, each fetched from
    the table to test the other side (most of a route's evidence query, nearly
    all of it from disk when the file is not in memory). The intersection of
    the two index ranges leaves only the rows that overlap to be fetched.
    """
    table = sightings_table
    rowid: sa.ColumnClause[Any] = sa.literal_column("rowid")
    later = sa.select(rowid).select_from(table)
    later = later.where(table.c.camera_id.in_(cameras), table.c.t_out >= start_s)
    earlier = sa.select(rowid).select_from(table)
    earlier = earlier.where(table.c.camera_id.in_(cameras), table.c.t_in <= end_s)
    return rowid.in_(sa.intersect(later, earlier))


def _count(connection: Connection) -> int:
    query = sa.select(sa.func.count()).select_from(sightings_table)
    return int(connection.execute(query).scalar_one())


def _insert_new(connection: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> int:
    """Insert rows whose primary key is not there yet; returns how many were new.

    The same effect on each backend, by the fastest way each offers: SQLite's
    ``INSERT OR IGNORE``, PostgreSQL's ``ON CONFLICT DO NOTHING`` (fed by COPY
    for many rows), else a filter on the keys already stored.
    """
    if not rows:
        return 0
    dialect = connection.dialect.name
    key = next(iter(table.primary_key.columns))
    if dialect == "postgresql":
        if len(rows) >= _COPY_FROM:
            return _copy_new(connection, table, rows)
        # the driver's executemany reports no row count: the rows inserted are
        # counted from RETURNING (SQLAlchemy batches them into multi-row VALUES)
        statement = postgresql.insert(table).on_conflict_do_nothing().returning(key)
        return len(connection.execute(statement, rows).all())
    if dialect == "sqlite":
        # straight to the driver's executemany: SQLAlchemy's per-row parameter
        # processing halves the rate (37,000 against 72,000 sightings/s)
        columns = list(rows[0])
        return _insert_values(
            connection, table, columns, [tuple(row[c] for c in columns) for row in rows]
        )
    existing = set(
        connection.execute(sa.select(key).where(key.in_([r[key.name] for r in rows]))).scalars()
    )
    fresh = [r for r in rows if r[key.name] not in existing]
    if fresh:
        connection.execute(sa.insert(table), fresh)
    return len(fresh)


def _insert_values(
    connection: Connection,
    table: sa.Table,
    columns: Sequence[str],
    values: Sequence[tuple[Any, ...]],
) -> int:
    """SQLite: ``INSERT OR IGNORE`` of rows given as tuples in ``columns`` order; how many
    were new."""
    sql = (
        f"INSERT OR IGNORE INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' * len(columns))})"
    )
    added = 0
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK]
        added += max(int(connection.exec_driver_sql(sql, chunk).rowcount), 0)
    return added


def _copy_new(connection: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> int:
    """PostgreSQL: COPY the rows into a temporary table, then move over those not there.

    Row by row parameters manage 6,000 sightings/s, COPY 52,000-57,000 (20,000 at once). The
    temporary table goes with the transaction, whether it commits or not.
    """
    columns = list(rows[0])
    names = ", ".join(columns)
    staging = f"incoming_{table.name}"
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {staging} (LIKE {table.name}) ON COMMIT DROP"
    )
    driver: Any = connection.connection.driver_connection  # psycopg's, for COPY
    cursor = driver.cursor()
    with cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(tuple(row[c] for c in columns))
    moved = connection.exec_driver_sql(
        f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {staging} ON CONFLICT DO NOTHING"
    )
    connection.exec_driver_sql(f"DROP TABLE {staging}")
    return max(int(moved.rowcount), 0)


def _column(rows: Sequence[Sequence[Any]], at: int) -> list[Any]:
    """One column of the rows (a third of the time of transposing them all with ``zip``)."""
    return list(map(itemgetter(at), rows))


def _columns(rows: Sequence[Any]) -> SightingArrays:
    """Window rows (``_WINDOW_COLUMNS`` first) as columns; NaN for missing values."""
    if not rows:
        return SightingArrays.from_sightings([])
    columns = [_column(rows, i) for i in range(len(_WINDOW_COLUMNS))]  # a whole row: the first
    ids, cameras, t_in, t_out, classes, blobs, heading, ex, ey, xx, xy = columns
    appearance = np.frombuffer(b"".join(blobs), dtype="<f4")
    if appearance.size != len(rows) * APPEARANCE_DIM:
        msg = f"stored appearances of {len(rows)} sightings do not all have {APPEARANCE_DIM} values"
        raise StoreError(msg)

    def floats(values: Sequence[Any]) -> FloatArray:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

    return SightingArrays(
        ids=np.array(ids, dtype=str),
        camera_ids=np.array(cameras, dtype=str),
        t_in=np.array(t_in, dtype=np.float64),
        t_out=np.array(t_out, dtype=np.float64),
        classes=np.array(classes, dtype=str),
        appearance=appearance.astype(np.float32).reshape(len(rows), APPEARANCE_DIM),
        heading_deg=floats(heading),
        entry_xy=np.column_stack([floats(ex), floats(ey)]),
        exit_xy=np.column_stack([floats(xx), floats(xy)]),
    )


#: The sightings table's columns in the order :func:`sighting_values` gives them.
SIGHTING_COLUMNS: Final = (
    "id", "clip_id", "camera_id", "t_in", "t_out", "vehicle_class", "appearance", "quality",
    "evidence_clip", "evidence_frame", "bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2",
    "entry_x", "entry_y", "exit_x", "exit_y", "heading_deg", "speed_mps",
    "entry_edge", "exit_edge",
)  # fmt: skip


def sighting_values(sightings: Sequence[Sighting], clip_id: str) -> list[tuple[Any, ...]]:
    """Each sighting's row as a tuple in :data:`SIGHTING_COLUMNS` order.

    Tuples, not dicts: the driver takes them as they are (a dict per row, read back
    into a tuple, was a tenth of a bulk insert). The appearances are packed to
    little-endian float32 in one array and cut into each row's bytes.
    """
    if not sightings:
        return []
    try:
        packed = np.asarray([s.appearance for s in sightings], dtype="<f4")
    except ValueError:  # ragged: each on its own (the schema checks nothing more)
        packed = None
    if packed is not None and packed.ndim == 2:
        width = packed.shape[1] * 4
        buffer = packed.tobytes()
        blobs = [buffer[i : i + width] for i in range(0, len(buffer), width)]
    else:
        blobs = [np.asarray(s.appearance, dtype="<f4").tobytes() for s in sightings]
    return [_values(s, clip_id, blob) for s, blob in zip(sightings, blobs, strict=True)]


def _values(sighting: Sighting, clip_id: str, appearance: bytes) -> tuple[Any, ...]:
    entry = sighting.entry_xy or (None, None)
    exit_ = sighting.exit_xy or (None, None)
    x1, y1, x2, y2 = sighting.evidence.bbox
    evidence = sighting.evidence
    return (
        sighting.id, clip_id, sighting.camera_id, sighting.t_in, sighting.t_out,
        sighting.vehicle_class, appearance, sighting.quality,
        evidence.clip, evidence.frame_index, x1, y1, x2, y2,
        entry[0], entry[1], exit_[0], exit_[1],
        sighting.heading_deg, sighting.speed_mps, sighting.entry_edge, sighting.exit_edge,
    )  # fmt: skip


def _row(sighting: Sighting, clip_id: str) -> dict[str, Any]:
    """One sighting's row by column name (see :func:`sighting_values`)."""
    blob = np.asarray(sighting.appearance, dtype="<f4").tobytes()
    return dict(zip(SIGHTING_COLUMNS, _values(sighting, clip_id, blob), strict=True))


def _built(rows: Sequence[Sequence[Any]], names: Sequence[str]) -> list[Sighting]:
    """Whole sightings of rows with these column ``names``, checked in bulk first."""
    if not rows:
        return []
    at = {name: i for i, name in enumerate(names)}
    blobs = _column(rows, at["appearance"])
    if any(len(b) != APPEARANCE_DIM * 4 for b in blobs):
        return [_sighting(r, at) for r in rows]
    checked = _passes_checks(
        np.array(_column(rows, at["t_in"]), dtype=np.float64),
        np.array(_column(rows, at["t_out"]), dtype=np.float64),
        np.array(_column(rows, at["vehicle_class"]), dtype=str),
        np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(rows), -1),
        np.array(_column(rows, at["quality"]), dtype=np.float64),
    )
    return [_sighting(r, at, checked=ok) for r, ok in zip(rows, checked.tolist(), strict=True)]


def _passes_checks(
    t_in: FloatArray,
    t_out: FloatArray,
    classes: NDArray[np.str_],
    appearance: NDArray[np.float32],
    quality: FloatArray,
) -> NDArray[np.bool_]:
    """Rows that pass every check :class:`Sighting` makes when built, checked for a whole
    window at once (finite, ordered times; a known class; a finite unit appearance; a
    quality in [0, 1]): building a timeline's 25,000 sightings one check at a time
    costs a tenth of its time. Conservative: a row not passed here is checked as built."""
    with np.errstate(invalid="ignore"):
        norm = np.linalg.norm(appearance.astype(np.float64), axis=1)
        return np.asarray(
            np.isfinite(t_in)
            & np.isfinite(t_out)
            & (t_out >= t_in)
            & np.isin(classes, np.array(VEHICLE_CLASSES, dtype=str))
            & np.isfinite(appearance).all(axis=1)
            & (np.abs(norm - 1.0) <= 1e-3 - _NORM_MARGIN)
            & (quality >= 0.0)
            & (quality <= 1.0),
            dtype=bool,
        )


def _sighting(values: Sequence[Any], at: Mapping[str, int], *, checked: bool = False) -> Sighting:
    """The sighting of one stored row (``at``: each column's place in ``values``).

    ``checked``: the row passed :func:`_passes_checks`, so it is built without
    ``Sighting``'s checks run again (the same fields, the same appearance array).
    """
    appearance = np.frombuffer(values[at["appearance"]], dtype="<f4").astype(np.float32)
    if not checked and appearance.size != APPEARANCE_DIM:
        msg = f"stored appearance of sighting {values[at['id']]} has {appearance.size} values"
        raise StoreError(msg)
    entry_x, exit_x = values[at["entry_x"]], values[at["exit_x"]]
    fields = {
        "id": values[at["id"]],
        "camera_id": values[at["camera_id"]],
        "t_in": values[at["t_in"]],
        "t_out": values[at["t_out"]],
        "vehicle_class": values[at["vehicle_class"]],
        "appearance": appearance,
        "quality": values[at["quality"]],
        "evidence": Evidence(
            values[at["evidence_clip"]],
            values[at["evidence_frame"]],
            (
                values[at["bbox_x1"]],
                values[at["bbox_y1"]],
                values[at["bbox_x2"]],
                values[at["bbox_y2"]],
            ),
        ),
        "entry_xy": None if entry_x is None else (entry_x, values[at["entry_y"]]),
        "exit_xy": None if exit_x is None else (exit_x, values[at["exit_y"]]),
        "heading_deg": values[at["heading_deg"]],
        "speed_mps": values[at["speed_mps"]],
        "entry_edge": values[at["entry_edge"]],
        "exit_edge": values[at["exit_edge"]],
    }
    if not checked:
        return Sighting(**fields)
    built: Sighting = object.__new__(Sighting)
    for name in Sighting.__slots__:
        object.__setattr__(built, name, fields[name])
    return built
