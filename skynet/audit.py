"""The audit log: every query about a target, with its case, its reason and who asked.

Skynet follows vehicles, and following one is only allowed for a case: each
target query (a timeline, a route, a frontier, a watch, an export) names the
case it serves and why, and is written here *before* it runs, so that a
query that fails or is interrupted is on the record too. A request that is
refused (no token, the wrong role, no case) is written as well, with outcome
``refused``.

Rows are never updated or deleted by Skynet, and the log proves it: each row
carries the SHA-256 of its own canonical serialisation chained to the hash
of the row before (``prev_hash``), and the newest row's id and hash are kept
in ``skynet_meta`` as the head. :meth:`AuditLog.verify` recomputes the chain
and names the first row that was edited, inserted out of turn or whose
predecessor was deleted; a deleted newest row no longer matches the head.
Someone who can rewrite the whole database can rewrite the whole chain:
keep the head printed by ``skynet audit verify`` somewhere else to rule that
out.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from camera_registry.database import (
    ensure_schema,
    meta_table,
    meta_table_metadata,
    open_engine,
    store_error,
    transaction,
    write_meta,
)
from skynet.errors import BadInputError, StoreError

SCHEMA_VERSION: Final = 2
#: Shortest reason accepted: a word or two says nothing a reviewer can check.
MIN_REASON_CHARS: Final = 8
#: ``prev_hash`` of the first row.
GENESIS: Final = "0" * 64
#: ``skynet_meta`` key of the newest row's ``id:hash``.
HEAD_KEY: Final = "audit_head"
Outcome = Literal["allowed", "refused"]
#: Concurrent writers that lost the race for the chain's head try again this often.
_APPEND_TRIES: Final = 40
_VERSION_KEY: Final = "audit_schema_version"

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
    sa.Column("outcome", sa.String(16), nullable=False, server_default="allowed"),
    # unique: two writers can never both extend the same head (the chain cannot fork)
    sa.Column("prev_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("hash", sa.String(64), nullable=False),
)
#: The columns a row's hash covers, in order (everything but the hash itself).
HASHED: Final = (
    "id",
    "at_s",
    "actor",
    "case_id",
    "reason",
    "action",
    "subject",
    "detail",
    "outcome",
    "prev_hash",
)
_lock = threading.Lock()  # one process's writers queue here rather than retry
#: Who is asking, when not the login: the API sets it to the token holder.
_acting: ContextVar[str | None] = ContextVar("skynet_audit_actor", default=None)


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Rows recorded inside (by any engine call) name ``actor``, not the server's login."""
    token = _acting.set(actor)
    try:
        yield
    finally:
        _acting.reset(token)


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
    """One recorded query (or refusal) and its place in the chain."""

    id: int
    at_s: float
    actor: str
    case_id: str
    reason: str
    action: str
    subject: str
    detail: dict[str, Any]
    outcome: str = "allowed"
    prev_hash: str = GENESIS
    hash: str = ""


@dataclass(frozen=True)
class ChainCheck:
    """What :meth:`AuditLog.verify` found: the rows checked and the first bad one."""

    rows: int
    head: str
    bad_id: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.bad_id is None and self.problem is None


def row_hash(row: dict[str, Any]) -> str:
    """SHA-256 of the row's hashed columns as canonical JSON (sorted keys, no spaces)."""
    canonical = {name: row[name] for name in HASHED}
    canonical["at_s"] = float(canonical["at_s"])
    canonical["id"] = int(canonical["id"])
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class AuditLog:
    """Append-only, hash-chained audit rows in the database named by URL or path (or an engine)."""

    def __init__(self, db: str | Engine | None = None) -> None:
        self.engine = db if isinstance(db, Engine) else open_engine(db)
        _upgrade_from_v1(self.engine)
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
        return self._append(
            actor or _acting.get() or _login(),
            purpose.case_id.strip(),
            purpose.reason.strip(),
            action,
            subject,
            detail or {},
            "allowed",
        )

    def record_refusal(
        self,
        action: str,
        subject: str,
        why: str,
        *,
        actor: str | None = None,
        case_id: str = "",
        reason: str = "",
        detail: dict[str, Any] | None = None,
    ) -> int:
        """Write a refused request: whatever case and reason it gave (maybe none), and why."""
        return self._append(
            actor or _acting.get() or _login(),
            case_id.strip()[:128],
            reason.strip(),
            action,
            subject,
            {**(detail or {}), "refused": why},
            "refused",
        )

    def record_action(
        self,
        action: str,
        subject: str,
        *,
        actor: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> int:
        """Write an administrative act that serves no case (a camera edited, a token made)."""
        return self._append(
            actor or _acting.get() or _login(), "", "", action, subject, detail or {}, "allowed"
        )

    def entries(self, case_id: str | None = None) -> list[AuditEntry]:
        """Recorded rows, oldest first (only one case's, when given)."""
        query = sa.select(audit_table).order_by(audit_table.c.id)
        if case_id is not None:
            query = query.where(audit_table.c.case_id == case_id)
        with transaction(self.engine) as connection:
            rows = connection.execute(query).all()
        return [_entry(row._mapping) for row in rows]

    def verify(self) -> ChainCheck:
        """Recompute the chain: the first row edited, or whose neighbour went, is named."""
        with transaction(self.engine) as connection:
            rows = connection.execute(sa.select(audit_table).order_by(audit_table.c.id)).all()
            head = _read_head(connection)
        previous = GENESIS
        last_id = 0
        for row in rows:
            mapping = dict(row._mapping)
            if mapping["prev_hash"] != previous:
                why = "its predecessor was deleted or edited (prev_hash does not match)"
                return ChainCheck(len(rows), head, mapping["id"], why)
            if row_hash(mapping) != mapping["hash"]:
                return ChainCheck(
                    len(rows), head, mapping["id"], "edited (its hash does not match)"
                )
            previous, last_id = mapping["hash"], mapping["id"]
        expected = f"{last_id}:{previous}" if rows else ""
        if head != expected:
            why = f"the head says {head or 'nothing'} but the newest row is {expected or 'none'}"
            return ChainCheck(len(rows), head, None, f"newest rows deleted ({why})")
        return ChainCheck(len(rows), head)

    def _append(
        self,
        actor: str,
        case_id: str,
        reason: str,
        action: str,
        subject: str,
        detail: dict[str, Any],
        outcome: Outcome,
    ) -> int:
        row: dict[str, Any] = {
            "actor": actor[:128],
            "case_id": case_id,
            "reason": reason,
            "action": action[:32],
            "subject": subject,
            "detail": json.dumps(detail, sort_keys=True, default=str),
            "outcome": outcome,
        }
        with _lock:
            for attempt in range(_APPEND_TRIES):
                try:
                    return self._append_once(row)
                except (IntegrityError, OperationalError):
                    # another process extended the head first (or holds SQLite's write lock)
                    time.sleep(0.005 * (1 + attempt))
                except SQLAlchemyError as exc:
                    raise store_error(self.engine, exc) from None
        msg = "the audit log is too busy to append to (another writer kept winning)"
        raise StoreError(msg)

    def _append_once(self, fields: dict[str, Any]) -> int:
        with self.engine.begin() as connection:
            last = connection.execute(
                sa.select(audit_table.c.id, audit_table.c.hash)
                .order_by(audit_table.c.id.desc())
                .limit(1)
            ).first()
            row = {
                **fields,
                "id": (last.id + 1) if last else 1,
                "at_s": time.time(),
                "prev_hash": last.hash if last else GENESIS,
            }
            row["hash"] = row_hash(row)
            connection.execute(sa.insert(audit_table).values(**row))
            _write_head(connection, f"{row['id']}:{row['hash']}")
            return int(row["id"])


def _entry(mapping: Any) -> AuditEntry:
    return AuditEntry(
        id=mapping["id"],
        at_s=mapping["at_s"],
        actor=mapping["actor"],
        case_id=mapping["case_id"],
        reason=mapping["reason"],
        action=mapping["action"],
        subject=mapping["subject"],
        detail=json.loads(mapping["detail"]),
        outcome=mapping["outcome"],
        prev_hash=mapping["prev_hash"],
        hash=mapping["hash"],
    )


def _read_head(connection: Connection) -> str:
    value = connection.execute(
        sa.select(meta_table.c.value).where(meta_table.c.key == HEAD_KEY)
    ).scalar_one_or_none()
    return value or ""


def _write_head(connection: Connection, value: str) -> None:
    write_meta(connection, HEAD_KEY, value)


def _upgrade_from_v1(engine: Engine) -> None:
    """A version-1 log (no chain) gains its columns and is chained in id order, once.

    ``ensure_schema`` refuses a stored version other than the current one, so
    the upgrade runs first and leaves the database at version 2.
    """
    try:
        with engine.begin() as connection:
            meta_table_metadata.create_all(connection, checkfirst=True)
            stored = connection.execute(
                sa.select(meta_table.c.value).where(meta_table.c.key == _VERSION_KEY)
            ).scalar_one_or_none()
            if stored != "1":
                return
            for ddl in (
                "ALTER TABLE audit_log ADD COLUMN outcome VARCHAR(16) NOT NULL DEFAULT 'allowed'",
                "ALTER TABLE audit_log ADD COLUMN prev_hash VARCHAR(64)",
                "ALTER TABLE audit_log ADD COLUMN hash VARCHAR(64)",
            ):
                connection.execute(sa.text(ddl))
            rows = connection.execute(
                sa.select(*(audit_table.c[n] for n in HASHED if n != "prev_hash")).order_by(
                    audit_table.c.id
                )
            ).all()
            previous, last_id = GENESIS, 0
            for row in rows:
                mapping = {**row._mapping, "prev_hash": previous}
                digest = row_hash(mapping)
                connection.execute(
                    sa.update(audit_table)
                    .where(audit_table.c.id == mapping["id"])
                    .values(prev_hash=previous, hash=digest)
                )
                previous, last_id = digest, mapping["id"]
            connection.execute(
                sa.text("CREATE UNIQUE INDEX IF NOT EXISTS ix_audit_prev ON audit_log (prev_hash)")
            )
            if rows:
                _write_head(connection, f"{last_id}:{previous}")
            connection.execute(
                sa.update(meta_table)
                .where(meta_table.c.key == _VERSION_KEY)
                .values(value=str(SCHEMA_VERSION))
            )
    except SQLAlchemyError as exc:
        raise store_error(engine, exc) from None


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        return "unknown"
