"""Sightings (analysts), the audit log and tokens (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AwareDatetime

from api.auth import Caller, needs, world_of
from api.models import (
    AuditEntryDoc,
    ChainCheckDoc,
    SightingDoc,
    TokenCreatedDoc,
    TokenDoc,
    TokenIn,
    utc,
)
from api.params import parse_ids
from skynet.audit import AuditEntry
from skynet.errors import BadInputError
from skynet.tokens import Permission, Role, TokenRecord

router = APIRouter()
#: Longest window one sightings request may span (s): a day of a city is plenty.
MAX_WINDOW_S = 7 * 24 * 3600.0


@router.get("/sightings", tags=["sightings"], summary="Sightings of cameras in a time window")
def sightings(
    request: Request,
    _: Annotated[Caller, Depends(needs(Permission.sightings))],
    since: Annotated[AwareDatetime, Query(description="ISO 8601 with offset.")],
    until: Annotated[AwareDatetime, Query(description="ISO 8601 with offset.")],
    cameras: Annotated[
        str | None, Query(description="CAM,CAM,...: only these cameras.", max_length=10_000)
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[SightingDoc]:
    """Every vehicle seen (no target: this is what the cameras saw) overlapping the window."""
    start, end = since.timestamp(), until.timestamp()
    if not start < end:
        raise BadInputError("the window is empty (since is not before until)", field="since")
    if end - start > MAX_WINDOW_S:
        raise BadInputError("the window is longer than 7 days; ask for less", field="until")
    found = world_of(request).sightings.find(
        camera_ids=parse_ids(cameras, "cameras"), start_s=start, end_s=end
    )
    return [SightingDoc.of(s) for s in found[:limit]]


AuditCaller = Annotated[Caller, Depends(needs(Permission.audit))]


@router.get("/audit", tags=["audit"], summary="The audit trail (admins)")
def audit_entries(
    request: Request,
    caller: AuditCaller,
    case: Annotated[str | None, Query(max_length=128, description="Only this case.")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
) -> list[AuditEntryDoc]:
    """The newest ``limit`` rows (oldest first), one case's when ``case`` is given.

    Reading the trail is itself recorded (after the rows read): who audits is audited too.
    """
    log = world_of(request).audit
    entries = log.entries(case)[-limit:]
    log.record_action("audit-read", case or "*", actor=caller.actor, detail={"rows": len(entries)})
    return [_entry_doc(e) for e in entries]


@router.get("/audit/verify", tags=["audit"], summary="Check the audit log's hash chain (admins)")
def audit_verify(request: Request, _: AuditCaller) -> ChainCheckDoc:
    check = world_of(request).audit.verify()
    return ChainCheckDoc(
        ok=check.ok, rows=check.rows, head=check.head, bad_id=check.bad_id, problem=check.problem
    )


TokenCaller = Annotated[Caller, Depends(needs(Permission.tokens))]


@router.get("/tokens", tags=["tokens"], summary="The tokens made (admins)")
def list_tokens(request: Request, _: TokenCaller) -> list[TokenDoc]:
    return [_token_doc(r) for r in world_of(request).tokens.all()]


@router.post("/tokens", tags=["tokens"], status_code=201, summary="Make a token (admins)")
def create_token(request: Request, body: TokenIn, caller: TokenCaller) -> TokenCreatedDoc:
    """The token is in this answer only; the server keeps its hash."""
    world = world_of(request)
    record, token = world.tokens.create(body.name, Role(body.role))
    world.audit.record_action(
        "token-create", record.id, actor=caller.actor, detail={"role": record.role.value}
    )
    return TokenCreatedDoc(**_token_doc(record).model_dump(), token=token)


@router.delete("/tokens/{token_id}", tags=["tokens"], status_code=204, summary="Revoke a token")
def revoke_token(request: Request, token_id: str, caller: TokenCaller) -> Response:
    world = world_of(request)
    world.tokens.revoke(token_id)
    world.forget_tokens()
    world.audit.record_action("token-revoke", token_id, actor=caller.actor)
    return Response(status_code=204)


def _entry_doc(e: AuditEntry) -> AuditEntryDoc:
    return AuditEntryDoc(
        id=e.id,
        at=utc(e.at_s),
        actor=e.actor,
        case_id=e.case_id,
        reason=e.reason,
        action=e.action,
        subject=e.subject,
        outcome=e.outcome,
        detail=e.detail,
        hash=e.hash,
    )


def _token_doc(r: TokenRecord) -> TokenDoc:
    return TokenDoc(
        id=r.id,
        name=r.name,
        role=r.role.value,
        created=utc(r.created_s),
        revoked=None if r.revoked_s is None else utc(r.revoked_s),
    )
