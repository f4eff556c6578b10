"""Default deny: who is calling (bearer token), whether their role allows it, and for which case.

Each route declares the permission it needs (:func:`needs`) or, for a
target query, the case and reason it must carry (:func:`purpose_for`): headers
``X-Case-Id`` and ``X-Reason`` (percent-encoded UTF-8) or query parameters
``case`` and ``reason``. Every refusal, from a missing token to a missing
reason, is written to the audit log before it is answered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.problems import ProblemError
from api.world import World
from skynet.audit import Purpose
from skynet.errors import BadInputError
from skynet.tokens import Permission, TokenRecord

bearer = HTTPBearer(
    auto_error=False,
    description="A token from 'skynet tokens create --role ROLE --name NAME'.",
)


@dataclass(frozen=True)
class Caller:
    """The token holder making the request."""

    token: TokenRecord

    @property
    def actor(self) -> str:
        """How the audit log names them: the token's name and id."""
        return f"{self.token.name}#{self.token.id}"


@dataclass(frozen=True)
class Asked:
    """A target query: who asks, for which case and why."""

    caller: Caller
    purpose: Purpose


def world_of(request: Request) -> World:
    world: World = request.app.state.world
    return world


def _action(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "name", None) or request.url.path)[:32]


def _subject(request: Request) -> str:
    return f"{request.method} {request.url.path}"


def refuse(
    request: Request,
    status: int,
    title: str,
    why: str,
    *,
    actor: str | None = None,
    case_id: str = "",
    reason: str = "",
) -> ProblemError:
    """Audit the refusal (with whatever case and reason the request gave), then give the
    problem to raise."""
    host = request.client.host if request.client else "unknown"
    given_case, given_reason = _given_purpose(request)
    case_id, reason = case_id or given_case, reason or given_reason
    world_of(request).audit.record_refusal(
        _action(request),
        _subject(request),
        why,
        actor=actor or f"anonymous@{host}",
        case_id=case_id,
        reason=reason,
        detail={"status": status},
    )
    headers = {"WWW-Authenticate": 'Bearer realm="skynet"'} if status == 401 else None
    return ProblemError(status, title, why, headers=headers)


def _given_purpose(request: Request) -> tuple[str, str]:
    """The case and reason a request carries, in headers or query, as given."""
    headers, query = request.headers, request.query_params
    case = headers.get("X-Case-Id")
    reason = headers.get("X-Reason")
    return (
        unquote(case) if case else query.get("case", ""),
        unquote(reason) if reason else query.get("reason", ""),
    )


def authenticate(request: Request, token: str | None) -> Caller:
    """The caller of a presented token; 401 (audited) without a live one."""
    if not token:
        raise refuse(request, 401, "Unauthorized", "a bearer token is required")
    record = world_of(request).authenticate(token)
    if record is None:
        raise refuse(request, 401, "Unauthorized", "the token is unknown or revoked")
    return Caller(record)


def needs(permission: Permission) -> Callable[..., Awaitable[Caller]]:
    """A dependency: the caller, refused (401/403, audited) unless their role has ``permission``.

    A token checked a moment ago (:meth:`~api.world.World.known_token`) is
    let in on the event loop; the store and the audit log are reached from a
    worker thread.
    """

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Caller:
        token = credentials.credentials if credentials else None
        record = world_of(request).known_token(token) if token else None
        caller = Caller(record) if record else await run_in_threadpool(authenticate, request, token)
        if not caller.token.may(permission):
            why = f"role {caller.token.role.value} may not do this (it needs {permission.value})"
            raise await run_in_threadpool(
                refuse, request, 403, "Forbidden", why, actor=caller.actor
            )
        return caller

    return dependency


CaseHeader = Annotated[
    str | None,
    Header(
        alias="X-Case-Id",
        description="The case this target query serves (or the `case` query parameter).",
        examples=["HR-0314"],
    ),
]
ReasonHeader = Annotated[
    str | None,
    Header(
        alias="X-Reason",
        description="Why (at least 8 characters, percent-encoded UTF-8; or `reason`).",
        examples=["hit-and-run, two injured"],
    ),
]
CaseQuery = Annotated[
    str | None, Query(alias="case", max_length=128, description="The case, if not in X-Case-Id.")
]
ReasonQuery = Annotated[
    str | None, Query(alias="reason", max_length=2000, description="Why, if not in X-Reason.")
]


def purpose_for(permission: Permission) -> Callable[..., Asked]:
    """A dependency for target queries: a token whose role has ``permission``, a case, a reason.

    The header and query parameters are declared for the schema; they are read
    as the request gave them (a refusal records them the same way).
    """

    door = Depends(needs(permission))  # a default, not an annotation: annotations are strings

    def dependency(
        request: Request,
        caller: Caller = door,
        x_case_id: CaseHeader = None,
        x_reason: ReasonHeader = None,
        case: CaseQuery = None,
        reason: ReasonQuery = None,
    ) -> Asked:
        case_id, why = _given_purpose(request)
        try:
            return Asked(caller, Purpose(case_id, why))
        except BadInputError as exc:
            raise refuse(
                request,
                400,
                "Case and reason required",
                f"{exc} (send X-Case-Id and X-Reason)",
                actor=caller.actor,
                case_id=case_id,
                reason=why,
            ) from None

    return dependency


#: Following a target, its timeline and route (analysts and investigators).
purpose = purpose_for(Permission.targets)
#: Working a case: the frontier, reviews, found sightings, watches, the wall (investigators).
casework = purpose_for(Permission.casework)
