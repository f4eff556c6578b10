"""Targets and routes found for a case, kept with the sightings they rest on.

A *target* is what one seed sighting's timeline says about a vehicle: the
sightings linked to it, with their link probabilities and why the chain
ends each way. Its *routes* are the road paths reconstructed from it, kept
as GeoJSON with their length and probability. Re-running a query for the
same case and seed replaces its target (the store may have grown since);
every route is kept, newest last. A target's *reviews* record the cameras an
investigator opened for it: up to when their footage was searched and, when
the target was there, the sighting found.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from camera_registry.database import ensure_schema, open_engine, transaction
from skynet._route_shape import Route
from skynet.errors import NotFoundError
from skynet.timeline import Timeline

SCHEMA_VERSION: Final = 1

metadata = sa.MetaData()
targets_table = sa.Table(
    "targets",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("case_id", sa.String(128), nullable=False, index=True),
    sa.Column("seed_sighting_id", sa.String(64), nullable=False),
    sa.Column("updated_s", sa.Float(precision=53), nullable=False),
    sa.Column("sightings", sa.Text, nullable=False),  # JSON [[id, link p or null], ...]
    sa.Column("start_reason", sa.Text, nullable=False),
    sa.Column("end_reason", sa.Text, nullable=False),
)
routes_table = sa.Table(
    "routes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("target_id", sa.String(32), sa.ForeignKey("targets.id"), nullable=False, index=True),
    sa.Column("created_s", sa.Float(precision=53), nullable=False),
    sa.Column("length_m", sa.Float(precision=53), nullable=False),
    sa.Column("probability", sa.Float(precision=53), nullable=False),
    sa.Column("geojson", sa.Text, nullable=False),
)

reviews_table = sa.Table(
    "target_reviews",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("target_id", sa.String(32), sa.ForeignKey("targets.id"), nullable=False, index=True),
    sa.Column("camera_id", sa.String(128), nullable=False),
    sa.Column("until_s", sa.Float(precision=53), nullable=False),
    sa.Column("found_sighting_id", sa.String(64), nullable=True),
    sa.Column("created_s", sa.Float(precision=53), nullable=False),
)


def target_id(case_id: str, seed_sighting_id: str) -> str:
    """Deterministic id of a case's target followed from one seed."""
    return hashlib.sha1(f"{case_id}\x1f{seed_sighting_id}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class StoredTarget:
    """A target as stored: its linked sightings (id, link probability) and chain ends."""

    id: str
    case_id: str
    seed_sighting_id: str
    updated_s: float
    sightings: list[tuple[str, float | None]]
    start_reason: str
    end_reason: str


class CaseStore:
    """Targets and routes in the database named by URL or path (or an engine)."""

    def __init__(self, db: str | Engine | None = None) -> None:
        self.engine = db if isinstance(db, Engine) else open_engine(db)
        ensure_schema(self.engine, metadata, "cases", SCHEMA_VERSION)

    def save_target(self, case_id: str, timeline: Timeline) -> str:
        """Store (or replace) the case's target for this timeline's seed; returns its id."""
        return self.save_targets(case_id, [timeline])[0]

    def save_targets(self, case_id: str, timelines: Sequence[Timeline]) -> list[str]:
        """Store (or replace) one target per timeline, all in one transaction; their ids."""
        now = time.time()
        rows = [
            {
                "id": target_id(case_id, timeline.seed_id),
                "case_id": case_id,
                "seed_sighting_id": timeline.seed_id,
                "updated_s": now,
                "sightings": json.dumps(
                    [[e.sighting.id, e.link_probability] for e in timeline.entries]
                ),
                "start_reason": timeline.start.reason,
                "end_reason": timeline.end.reason,
            }
            for timeline in timelines
        ]
        keys = [row["id"] for row in rows]
        with transaction(self.engine) as connection:
            found: set[str] = set()
            for chunk in range(0, len(keys), 500):  # bound the IN list
                query = sa.select(targets_table.c.id).where(
                    targets_table.c.id.in_(keys[chunk : chunk + 500])
                )
                found.update(str(k) for k in connection.execute(query).scalars())
            new = [row for row in rows if row["id"] not in found]
            if new:
                connection.execute(sa.insert(targets_table), new)
            for row in rows:  # a known target is updated: its routes stay, pointing at it
                if row["id"] in found:
                    connection.execute(
                        sa.update(targets_table)
                        .where(targets_table.c.id == row["id"])
                        .values(**row)
                    )
        return [str(k) for k in keys]

    def save_route(self, target: str, route: Route) -> int:
        """Keep a route of a stored target; returns its id."""
        row = {
            "target_id": target,
            "created_s": time.time(),
            "length_m": route.length_m,
            "probability": route.probability,
            "geojson": json.dumps(route.as_geojson()),
        }
        with transaction(self.engine) as connection:
            result = connection.execute(sa.insert(routes_table).values(**row))
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def target(self, key: str) -> StoredTarget:
        """A stored target by id (:class:`NotFoundError` when absent)."""
        with transaction(self.engine) as connection:
            row = connection.execute(
                sa.select(targets_table).where(targets_table.c.id == key)
            ).first()
        if row is None:
            raise NotFoundError(f"no target {key!r}")
        return _stored(row)

    def case_targets(self, case_id: str) -> list[StoredTarget]:
        """Every target kept for a case, by seed sighting."""
        with transaction(self.engine) as connection:
            rows = connection.execute(
                sa.select(targets_table)
                .where(targets_table.c.case_id == case_id)
                .order_by(targets_table.c.seed_sighting_id)
            ).all()
        return [_stored(row) for row in rows]

    def routes(self, key: str) -> list[dict[str, Any]]:
        """A target's routes as GeoJSON, oldest first."""
        with transaction(self.engine) as connection:
            rows = connection.execute(
                sa.select(routes_table.c.geojson)
                .where(routes_table.c.target_id == key)
                .order_by(routes_table.c.id)
            ).all()
        return [json.loads(row.geojson) for row in rows]

    def add_reviews(
        self, key: str, camera_ids: list[str], until_s: float, found: str | None = None
    ) -> None:
        """Record that these cameras were searched up to ``until_s`` (and what was found)."""
        self.target(key)  # an unknown target is refused before anything is written
        rows = [
            {
                "target_id": key,
                "camera_id": camera_id,
                "until_s": until_s,
                "found_sighting_id": found,
                "created_s": time.time(),
            }
            for camera_id in camera_ids
        ]
        if rows:
            with transaction(self.engine) as connection:
                connection.execute(sa.insert(reviews_table), rows)

    def reviewed(self, key: str) -> dict[str, float]:
        """Each reviewed camera of a target and the latest time its footage was searched to."""
        with transaction(self.engine) as connection:
            rows = connection.execute(
                sa.select(reviews_table.c.camera_id, sa.func.max(reviews_table.c.until_s))
                .where(reviews_table.c.target_id == key)
                .group_by(reviews_table.c.camera_id)
            ).all()
        return {str(camera): float(until) for camera, until in rows}


def _stored(row: Any) -> StoredTarget:
    return StoredTarget(
        id=row.id,
        case_id=row.case_id,
        seed_sighting_id=row.seed_sighting_id,
        updated_s=row.updated_s,
        sightings=[(str(i), p) for i, p in json.loads(row.sightings)],
        start_reason=row.start_reason,
        end_reason=row.end_reason,
    )
