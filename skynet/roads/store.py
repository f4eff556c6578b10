"""The road network in the same database as the camera registry.

One row holds the whole network, gzip-compressed in the columnar JSON form of
:mod:`skynet.roads.columns` (lossless like our GraphML, but about ten times
faster to load at 100,000 edges), with its CRS and a few figures for
listing; an import replaces it in one transaction. The site's working CRS
(``skynet_meta.working_crs``, shared with the registry) is set by the first
import of either kind, and a road import on another CRS is a conflict.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from camera_registry.crs import SiteCRS
from camera_registry.database import ensure_schema, open_engine, read_meta, store_error, write_meta
from skynet.errors import ConflictError, NotFoundError
from skynet.roads.columns import FORMAT, from_columns, to_columns
from skynet.roads.network import RoadNetwork

SCHEMA_VERSION: Final = 1
CRS_KEY: Final = "working_crs"
_ROW_ID: Final = 1

metadata = sa.MetaData()
roads_table = sa.Table(
    "road_network",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("crs", sa.Text, nullable=False),
    sa.Column("format", sa.String(64), nullable=False),
    sa.Column("network_gz", sa.LargeBinary, nullable=False),
    sa.Column("nodes", sa.Integer, nullable=False),
    sa.Column("edges", sa.Integer, nullable=False),
    sa.Column("source", sa.Text, nullable=True),
    sa.Column("imported_at", sa.Text, nullable=False),
)


@dataclass(frozen=True)
class StoredNetwork:
    """What the store holds, without loading the graph."""

    crs: str
    nodes: int
    edges: int
    source: str | None
    imported_at: str


class RoadStore:
    """The site's road network in a database named by URL or path."""

    def __init__(self, db: str | Engine | None = None) -> None:
        self.engine = db if isinstance(db, Engine) else open_engine(db)
        ensure_schema(self.engine, metadata, "roads", SCHEMA_VERSION)

    @property
    def working_crs(self) -> SiteCRS | None:
        """The site's CRS (set by the first camera or road import), or None."""
        code = read_meta(self.engine, CRS_KEY)
        return None if code is None else SiteCRS.from_user_input(code)

    def save(self, network: RoadNetwork) -> StoredNetwork:
        """Replace the stored network with this one, in one transaction."""
        site = self.working_crs
        if site is not None and site.crs != network.crs.crs:
            msg = (
                f"the site's working CRS is {site.code}; the road network is on {network.crs.code}"
            )
            raise ConflictError(msg)
        row = StoredNetwork(
            network.crs.code,
            len(network.nodes),
            len(network.edges),
            network.source,
            datetime.now(UTC).isoformat(timespec="seconds"),
        )
        payload = gzip.compress(to_columns(network), compresslevel=6)
        try:
            with self.engine.begin() as connection:
                connection.execute(sa.delete(roads_table))
                connection.execute(
                    sa.insert(roads_table).values(
                        id=_ROW_ID, format=FORMAT, network_gz=payload, **row.__dict__
                    )
                )
                if site is None:
                    write_meta(connection, CRS_KEY, network.crs.code)
        except SQLAlchemyError as exc:
            raise store_error(self.engine, exc) from None
        return row

    def info(self) -> StoredNetwork:
        """The stored network's figures (:class:`NotFoundError` when there is none)."""
        columns = [c for c in roads_table.c if c.name not in ("id", "format", "network_gz")]
        row = self._row(*columns)
        return StoredNetwork(**{c.name: row._mapping[c.name] for c in columns})

    def load(self) -> RoadNetwork:
        """The stored network."""
        row = self._row(roads_table.c.network_gz, roads_table.c.source)
        source = f"stored road network ({row.source or 'unknown source'})"
        return from_columns(gzip.decompress(row.network_gz), source=source)

    def _row(self, *columns: sa.ColumnElement[Any]) -> Any:
        try:
            with self.engine.connect() as connection:
                row = connection.execute(sa.select(*columns)).first()
        except SQLAlchemyError as exc:
            raise store_error(self.engine, exc) from None
        if row is None:
            msg = "no road network in the database: import one first (skynet roads import FILE)"
            raise NotFoundError(msg)
        return row
