"""Schemathesis against the app's own OpenAPI schema: no generated request gets a 5xx.

Each request carries a token whose role may call the operation (so that the
generated input reaches the handler, not only the door) and, unless the
generated case sets its own, a case and a reason.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from api import Settings, create_app
from api.problems import MEDIA_TYPE
from skynet.tokens import Role
from tests.api.conftest import PURPOSE, Served

#: Examples per operation: enough to reach every handler's checks, under a minute in all.
EXAMPLES = 12
#: Statuses answered per operation, to show the fuzzing got past the door.
ANSWERED: dict[str, set[int]] = {}


#: The schema as the app publishes it (an app over an empty in-memory database serves the
#: same schema); the requests go to the served test app, in-process over ASGI.
schema = schemathesis.openapi.from_dict(create_app(Settings(db="sqlite://", poll_s=0)).openapi())


def role_for(method: str, path: str) -> Role:
    """A role allowed to make the call."""
    if path.startswith(("/targets", "/watches")) or (path == "/wall/target" and method == "PUT"):
        return Role.investigator
    if path.startswith(("/audit", "/tokens")) or (path.startswith("/cameras") and method != "GET"):
        return Role.admin
    return Role.analyst


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_generated_request_fails_the_server(case: Any, served: Served) -> None:
    role = role_for(case.method.upper(), case.path)
    generated = {k.lower() for k in (case.headers or {})}
    purpose = {k: v for k, v in PURPOSE.items() if k.lower() not in generated}
    headers = {**purpose, "Authorization": f"Bearer {served.tokens[role]}"}
    response = case.call(app=served.client.app, headers=headers)
    ANSWERED.setdefault(f"{case.method.upper()} {case.path}", set()).add(response.status_code)
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
    if response.status_code >= 400:
        assert response.headers["content-type"] == [MEDIA_TYPE]  # header values come as lists
        assert "Traceback" not in response.text


def test_the_generated_requests_reached_the_handlers() -> None:
    """A fuzz run refused at the door would prove nothing about the handlers behind it."""
    if not ANSWERED:
        pytest.skip("run with the fuzz test above (it fills ANSWERED)")
    refused_only = [op for op, codes in ANSWERED.items() if codes <= {401, 403}]
    assert not refused_only
    assert any(codes & {200, 201, 204} for codes in ANSWERED.values())
