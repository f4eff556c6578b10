"""RFC 9457 problem details: every error the API answers, and nothing more.

Our exception tree maps onto statuses here (bad input 400, not found 404,
conflict 409, a database fault 503); request validation is 422, an
oversized body 413. Anything unexpected is a plain 500 problem with no
traceback (the traceback goes to the server log only).
"""

from __future__ import annotations

import logging
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from skynet.errors import BadInputError, ConflictError, NotFoundError, SkynetError

MEDIA_TYPE: Final = "application/problem+json"
log = logging.getLogger(__name__)


class ProblemError(Exception):
    """An error answered as problem+json with the given status."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra or {}


def problem_response(
    status: int,
    title: str,
    detail: str,
    instance: str,
    *,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """The problem document as a response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body["instance"] = instance
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def status_of(exc: SkynetError) -> tuple[int, str]:
    """Our error's HTTP status and title."""
    if isinstance(exc, BadInputError):
        return 400, "Bad input"
    if isinstance(exc, NotFoundError):
        return 404, "Not found"
    if isinstance(exc, ConflictError):
        return 409, "Conflict"
    return 503, "Store unavailable"


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` as problem+json."""

    @app.exception_handler(ProblemError)
    async def on_problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(
            exc.status, exc.title, exc.detail, request.url.path, headers=exc.headers,
            extra=exc.extra,
        )  # fmt: skip

    @app.exception_handler(SkynetError)
    async def on_skynet(request: Request, exc: SkynetError) -> JSONResponse:
        status, title = status_of(exc)
        if status >= 500:
            log.error("store fault on %s: %s", request.url.path, exc)
        extra = {"field": exc.field} if isinstance(exc, BadInputError) and exc.field else None
        return problem_response(status, title, str(exc), request.url.path, extra=extra)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(part) for part in error.get("loc", ())], "msg": str(error.get("msg"))}
            for error in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        detail = f"{'.'.join(first['loc'])}: {first['msg']}"
        return problem_response(
            422, "Invalid request", detail, request.url.path, extra={"errors": errors}
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers) if exc.headers else None
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
        return problem_response(
            exc.status_code, title, str(exc.detail), request.url.path, headers=headers
        )

    @app.exception_handler(Exception)
    async def on_fault(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return problem_response(
            500, "Internal error", "the server failed; the details are in its log",
            request.url.path,
        )  # fmt: skip
