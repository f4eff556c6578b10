"""The audit log: every query about a target, with its case, its reason and who asked.

Skynet follows vehicles, and following one is only allowed for a case: each
target query (a timeline, a route, later a watch) names the case it serves
and why, and is written here *before* it runs, so that a query that fails or
is interrupted is on the record too. Rows are never updated or deleted by
Skynet.
"""

from __future__ import annotations

import getpass
import json
import time
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from camera_registry.database import ensure_schema, open_engine, transaction
from skynet.errors import BadInputError

SCHEMA_VERSION: Final = 1
#: Shortest reason accepted: a word or two says nothing a reviewer can check.
MIN_REASON_CHARS: Final = 8

metadata = sa.MetaData()
audit_table = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at_s", sa.Float(precision=53), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("case_id", sa.String(128), nullable=False, index=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
)


@dataclass(frozen=True)
class Purpose:
    """The case a target query serves and why: required for every one."""

    case_id: str
    reason: str

    def __post_init__(self) -> None:
        if not self.case_id.strip():
            raise BadInputError("a target query needs a case id", field="case")
        if len(self.reason.strip()) < MIN_REASON_CHARS:
            msg = f"a target query needs a reason of at least {MIN_REASON_CHARS} characters"
            raise BadInputError(msg, field="reason")


@dataclass(frozen=True)
class AuditEntry:
    """One recorded query."""

    id: int
    at_s: float
    actor: str
    case_id: str
    reason: str
    action: str
    subject: str
    detail: dict[str, Any]


class AuditLog:
    """Append-only audit rows in the database named by URL or path (or an engine)."""

    def __init__(self, db: str | Engine | None = None) -> None:
        self.engine = db if isinstance(db, Engine) else open_engine(db)
        ensure_schema(self.engine, metadata, "audit", SCHEMA_VERSION)

    def record(
        self,
        purpose: Purpose,
        action: str,
        subject: str,
        *,
        actor: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> int:
        """Write one row now (before the query runs); returns its id."""
        row = {
            "at_s": time.time(),
            "actor": actor or _login(),
            "case_id": purpose.case_id.strip(),
            "reason": purpose.reason.strip(),
            "action": action,
            "subject": subject,
            "detail": json.dumps(detail or {}, sort_keys=True),
        }
        with transaction(self.engine) as connection:
            result = connection.execute(sa.insert(audit_table).values(**row))
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def entries(self, case_id: str | None = None) -> list[AuditEntry]:
        """Recorded queries, oldest first (only one case's, when given)."""
        query = sa.select(audit_table).order_by(audit_table.c.id)
        if case_id is not None:
            query = query.where(audit_table.c.case_id == case_id)
        with transaction(self.engine) as connection:
            rows = connection.execute(query).all()
        return [
            AuditEntry(
                id=row.id,
                at_s=row.at_s,
                actor=row.actor,
                case_id=row.case_id,
                reason=row.reason,
                action=row.action,
                subject=row.subject,
                detail=json.loads(row.detail),
            )
            for row in rows
        ]


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        return "unknown"
