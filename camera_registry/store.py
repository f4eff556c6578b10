"""The registry store: cameras and the site CRS in SQL (SQLite or PostgreSQL).

Writes are one transaction each: an import either lands whole or not at all.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from camera_registry.camera import Camera, check_unique_ids
from camera_registry.crs import SiteCRS
from camera_registry.database import (
    ensure_schema,
    key_string,
    open_engine,
    read_meta,
    reading,
    store_error,
    write_meta,
)
from camera_registry.registry import CameraRegistry
from skynet.errors import BadInputError, ConflictError, NotFoundError

SCHEMA_VERSION: Final = 1
CRS_KEY: Final = "working_crs"
_CHUNK: Final = 5_000

metadata = sa.MetaData()
cameras_table = sa.Table(
    "cameras",
    metadata,
    sa.Column("id", key_string(128), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("lon", sa.Float(precision=53), nullable=False),
    sa.Column("lat", sa.Float(precision=53), nullable=False),
    sa.Column("heading_deg", sa.Float(precision=53), nullable=False),
    sa.Column("fov_deg", sa.Float(precision=53), nullable=False),
    sa.Column("range_m", sa.Float(precision=53), nullable=False),
    sa.Column("height_m", sa.Float(precision=53), nullable=False),
    sa.Column("image_width", sa.Integer, nullable=False),
    sa.Column("image_height", sa.Integer, nullable=False),
    sa.Column("fps", sa.Float(precision=53), nullable=False),
    sa.Column("homography", sa.LargeBinary(72), nullable=True),  # 9 little-endian float64
    sa.Column("clock_offset_s", sa.Float(precision=53), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("area", sa.Text, nullable=True),
    sa.Column("tags", sa.Text, nullable=False),  # ';'-joined (validated free of ';')
)


@dataclass(frozen=True)
class ImportSummary:
    """What an import changed."""

    added: int
    updated: int
    unchanged: int
    working_crs: str


class RegistryStore:
    """Cameras and the site's working CRS in a database named by URL or path."""

    def __init__(self, db: str | Engine | None = None) -> None:
        self.engine = db if isinstance(db, Engine) else open_engine(db)
        ensure_schema(self.engine, metadata, "registry", SCHEMA_VERSION)

    @property
    def working_crs(self) -> SiteCRS | None:
        """The site's stored CRS, or None before the first import."""
        code = read_meta(self.engine, CRS_KEY)
        return None if code is None else SiteCRS.from_user_input(code)

    def count(self) -> int:
        with reading(self.engine) as connection:
            return int(
                connection.execute(
                    sa.select(sa.func.count()).select_from(cameras_table)
                ).scalar_one()
            )

    def load(self) -> CameraRegistry:
        """Every camera, as a registry on the stored CRS."""
        with reading(self.engine) as connection:
            rows = connection.execute(sa.select(cameras_table).order_by(cameras_table.c.id))
            cameras = [_camera_from_row(row) for row in rows.all()]
        crs = self.working_crs
        if crs is None and not cameras:
            msg = "the registry is empty: import cameras first (skynet cameras import FILE)"
            raise NotFoundError(msg)
        return CameraRegistry(cameras, crs)

    def get(self, camera_id: str) -> Camera:
        """One camera by id."""
        with reading(self.engine) as connection:
            row = connection.execute(
                sa.select(cameras_table).where(cameras_table.c.id == camera_id)
            ).first()
        if row is None:
            msg = f"no camera with id {camera_id!r} in the registry"
            raise NotFoundError(msg)
        return _camera_from_row(row)

    def remove(self, camera_id: str) -> None:
        """Delete one camera (:class:`NotFoundError` when there is none by that id)."""
        try:
            with self.engine.begin() as connection:
                gone = connection.execute(
                    sa.delete(cameras_table).where(cameras_table.c.id == camera_id)
                )
        except SQLAlchemyError as exc:
            raise store_error(self.engine, exc) from None
        if gone.rowcount == 0:
            raise NotFoundError(f"no camera with id {camera_id!r} in the registry")

    def import_cameras(
        self, cameras: Sequence[Camera], crs: SiteCRS | None = None
    ) -> ImportSummary:
        """Add or replace cameras by id, all in one transaction.

        The site CRS is fixed by the first import (given, or the UTM zone of
        the cameras); a later import naming another CRS is a conflict, since
        stored homographies are expressed in the first one.
        """
        check_unique_ids(cameras)
        stored = self.working_crs
        if stored is not None and crs is not None and stored.crs != crs.crs:
            msg = f"the registry's working CRS is {stored.code}; the import names {crs.code}"
            raise ConflictError(msg)
        if stored is None and crs is None:
            if not cameras:
                raise BadInputError("nothing to import: the file holds no cameras")
            crs = SiteCRS.for_points([c.lon for c in cameras], [c.lat for c in cameras])
        site = stored or crs
        assert site is not None
        rows = [_row_from_camera(camera) for camera in cameras]
        try:
            with self.engine.begin() as connection:
                existing = self._existing(connection, [c.id for c in cameras])
                changed = [r for r in rows if r["id"] in existing and existing[r["id"]] != r]
                fresh = [r for r in rows if r["id"] not in existing]
                for start in range(0, len(changed), _CHUNK):
                    ids = [r["id"] for r in changed[start : start + _CHUNK]]
                    connection.execute(sa.delete(cameras_table).where(cameras_table.c.id.in_(ids)))
                for start in range(0, len(changed) + len(fresh), _CHUNK):
                    connection.execute(
                        sa.insert(cameras_table), (changed + fresh)[start : start + _CHUNK]
                    )
                if stored is None:
                    write_meta(connection, CRS_KEY, site.code)
        except SQLAlchemyError as exc:
            raise store_error(self.engine, exc) from None
        unchanged = len(rows) - len(changed) - len(fresh)
        return ImportSummary(len(fresh), len(changed), unchanged, site.code)

    def _existing(self, connection: Connection, ids: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            result = connection.execute(
                sa.select(cameras_table).where(cameras_table.c.id.in_(chunk))
            )
            found.update({row.id: dict(row._mapping) for row in result})
        return found


_HOMOGRAPHY: Final = struct.Struct("<9d")
_COLUMNS: Final = tuple(cameras_table.columns.keys())


def _row_from_camera(camera: Camera) -> dict[str, Any]:
    row = camera.as_dict()
    row["homography"] = None if camera.homography is None else _HOMOGRAPHY.pack(*camera.homography)
    row["tags"] = ";".join(camera.tags)
    return row


def _camera_from_row(row: Sequence[Any]) -> Camera:
    values = dict(zip(_COLUMNS, row, strict=True))
    blob = values["homography"]
    values["homography"] = None if blob is None else _HOMOGRAPHY.unpack(blob)
    values["tags"] = tuple(t for t in values["tags"].split(";") if t)
    return Camera(**values)
