"""API tokens: who may call the API, in which role; only their SHA-256 is stored.

A token is shown once, when it is made (``skynet tokens create``); the
database keeps its hash, so a copy of the database lets nobody in. Checking
a presented token hashes it and compares in constant time. Roles grant
*permissions*; a route asks for a permission, never for a role, so what each
role may do is read in one table (:data:`ROLE_PERMISSIONS`):

=============  ==================================================================
role           may
=============  ==================================================================
wall           see the map: cameras, roads, live events, what is put on the wall
analyst        the map, sightings and coverage, plus target queries: follow a
               sighting, a target's timeline and route (each with case and reason)
investigator   the analyst's, plus casework: the frontier, reviews and found
               sightings, watches, putting a target on the wall
admin          the map, sightings and coverage, plus camera edits, tokens and
               the audit log (no target queries: who audits does not investigate)
=============  ==================================================================
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from camera_registry.database import ensure_schema, open_engine, transaction
from skynet.errors import BadInputError, NotFoundError

SCHEMA_VERSION: Final = 1
#: Bytes of randomness in a token (43 URL-safe characters).
TOKEN_BYTES: Final = 32
#: Every token starts so, which lets secret scanners find leaked ones.
PREFIX: Final = "sky_"


class Role(StrEnum):
    """What a token holder is (see the module table)."""

    wall = "wall"
    analyst = "analyst"
    investigator = "investigator"
    admin = "admin"


class Permission(StrEnum):
    """What a route needs."""

    map = "map"
    sightings = "sightings"
    targets = "targets"
    casework = "casework"
    cameras_write = "cameras_write"
    tokens = "tokens"
    audit = "audit"


ROLE_PERMISSIONS: Final[dict[Role, frozenset[Permission]]] = {
    Role.wall: frozenset({Permission.map}),
    Role.analyst: frozenset({Permission.map, Permission.sightings, Permission.targets}),
    Role.investigator: frozenset(
        {Permission.map, Permission.sightings, Permission.targets, Permission.casework}
    ),
    Role.admin: frozenset(
        {
            Permission.map,
            Permission.sightings,
            Permission.cameras_write,
            Permission.tokens,
            Permission.audit,
        }
    ),
}

metadata = sa.MetaData()
tokens_table = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("created_s", sa.Float(precision=53), nullable=False),
    sa.Column("revoked_s", sa.Float(precision=53), nullable=True),
)


@dataclass(frozen=True)
class TokenRecord:
    """A token as stored (never the token itself)."""

    id: str
    name: str
    role: Role
    created_s: float
    revoked_s: float | None = None

    @property
    def permissions(self) -> frozenset[Permission]:
        return ROLE_PERMISSIONS[self.role]

    def may(self, permission: Permission) -> bool:
        return permission in self.permissions


def parse_role(text: str) -> Role:
    """A role by name; a clear error listing the roles otherwise."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise BadInputError(f"unknown role {text!r} (roles: {names})", field="role") from None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenStore:
    """API tokens in the database named by URL or path (or an engine)."""

    def __init__(self, db: str | Engine | None = None) -> None:
        self.engine = db if isinstance(db, Engine) else open_engine(db)
        ensure_schema(self.engine, metadata, "tokens", SCHEMA_VERSION)

    def create(self, name: str, role: Role | str) -> tuple[TokenRecord, str]:
        """A new token for ``name`` in ``role``: its record and the token (shown only now)."""
        name = name.strip()
        if not name:
            raise BadInputError("a token needs a name (who or what holds it)", field="name")
        if len(name) > 128:
            raise BadInputError("a token's name is at most 128 characters", field="name")
        chosen = role if isinstance(role, Role) else parse_role(role)
        token = PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
        record = TokenRecord(secrets.token_hex(8), name, chosen, time.time())
        with transaction(self.engine) as connection:
            connection.execute(
                sa.insert(tokens_table).values(
                    id=record.id,
                    name=record.name,
                    role=record.role.value,
                    token_sha256=_digest(token),
                    created_s=record.created_s,
                )
            )
        return record, token

    def authenticate(self, token: str) -> TokenRecord | None:
        """The live record of a presented token, or None (unknown, revoked or malformed)."""
        if not token.startswith(PREFIX) or len(token) > 256:
            return None
        digest = _digest(token)
        with transaction(self.engine) as connection:
            row = connection.execute(
                sa.select(tokens_table).where(tokens_table.c.token_sha256 == digest)
            ).first()
        # the lookup is by hash; the constant-time compare keeps the check honest anyway
        if row is None or not hmac.compare_digest(row.token_sha256, digest):
            return None
        record = _record(row)
        return None if record.revoked_s is not None else record

    def all(self) -> list[TokenRecord]:
        """Every token made, revoked ones too, oldest first."""
        with transaction(self.engine) as connection:
            rows = connection.execute(
                sa.select(tokens_table).order_by(tokens_table.c.created_s)
            ).all()
        return [_record(row) for row in rows]

    def revoke(self, key: str) -> TokenRecord:
        """Stop a token working from now on (its record stays, for the audit trail)."""
        with transaction(self.engine) as connection:
            done = connection.execute(
                sa.update(tokens_table)
                .where(tokens_table.c.id == key, tokens_table.c.revoked_s.is_(None))
                .values(revoked_s=time.time())
            )
        if done.rowcount == 0:
            raise NotFoundError(f"no live token with id {key!r} (see 'skynet tokens list')")
        return next(r for r in self.all() if r.id == key)


def _record(row: sa.Row[tuple[object, ...]]) -> TokenRecord:
    mapping = row._mapping
    revoked = mapping["revoked_s"]
    return TokenRecord(
        id=str(mapping["id"]),
        name=str(mapping["name"]),
        role=Role(str(mapping["role"])),
        created_s=float(mapping["created_s"]),
        revoked_s=None if revoked is None else float(revoked),
    )
