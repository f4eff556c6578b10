"""Default deny, route by route and role by role; every refusal is on the audit record."""

from __future__ import annotations

from typing import Any

import pytest

import api.world
from api.problems import MEDIA_TYPE
from skynet.audit import AuditLog
from skynet.tokens import ROLE_PERMISSIONS, Permission, Role, TokenStore
from tests.api.conftest import CASE, REASON, Served

NEW_CAMERA = {"id": "MATRIX-1", "name": "matrix", "kind": "road", "lon": 119.0, "lat": 25.4}
WINDOW = "since=2026-03-14T00:00:00%2B08:00&until=2026-03-15T00:00:00%2B08:00"


def routes(target: str, seed: str) -> list[tuple[str, str, Permission, dict[str, Any] | None]]:
    """Every data route, what it needs, and a body where it takes one."""
    return [
        ("GET", "/cameras", Permission.map, None),
        ("GET", "/cameras/P01-CRASH", Permission.map, None),
        ("GET", "/roads?zoom=10", Permission.map, None),
        ("GET", "/wall/target", Permission.map, None),
        ("GET", "/coverage", Permission.sightings, None),
        ("GET", f"/sightings?{WINDOW}", Permission.sightings, None),
        ("POST", "/targets", Permission.targets, {"seed_sighting_id": seed}),
        ("GET", f"/targets/{target}/timeline", Permission.targets, None),
        ("GET", f"/targets/{target}/route", Permission.targets, None),
        ("GET", f"/targets/{target}/frontier", Permission.casework, None),
        ("GET", "/watches", Permission.casework, None),
        ("POST", f"/targets/{target}/found", Permission.casework, {"sighting_id": seed}),
        (
            "POST",
            f"/targets/{target}/reviews",
            Permission.casework,
            {"cameras": ["P01-CRASH"], "until": "2026-03-14T23:00:00+08:00"},
        ),
        ("PUT", "/wall/target", Permission.casework, {"target_id": target}),
        ("PATCH", "/cameras/P01-CRASH", Permission.cameras_write, {"status": "online"}),
        ("POST", "/cameras", Permission.cameras_write, NEW_CAMERA),
        ("DELETE", "/cameras/NO-SUCH-CAMERA", Permission.cameras_write, None),
        ("POST", "/watches", Permission.casework, {"target_id": target}),
        ("DELETE", "/watches/no-such-watch", Permission.casework, None),
        ("POST", "/tokens", Permission.tokens, {"name": "made in the matrix", "role": "wall"}),
        ("DELETE", "/tokens/no-such-token", Permission.tokens, None),
        ("GET", "/audit", Permission.audit, None),
        ("GET", "/audit/verify", Permission.audit, None),
        ("GET", "/tokens", Permission.tokens, None),
    ]


def refusals(db: str) -> list[Any]:
    return [e for e in AuditLog(db).entries() if e.outcome == "refused"]


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reaches_exactly_its_routes(served: Served, target_id: str, role: Role) -> None:
    seed = served.case.seed().id
    for method, path, permission, body in routes(target_id, seed):
        before = len(refusals(served.db))
        response = served.client.request(
            method, path, headers=served.auth(role, purpose=True), json=body
        )
        if permission in ROLE_PERMISSIONS[role]:
            assert response.status_code in (200, 201, 204, 404), (role, path, response.text)
            assert len(refusals(served.db)) == before
        else:
            assert response.status_code == 403, (role, path, response.text)
            assert response.headers["content-type"] == MEDIA_TYPE
            assert permission.value in response.json()["detail"]
            refused = refusals(served.db)
            assert len(refused) == before + 1
            assert refused[-1].actor.startswith(f"test {role.value}#")
            assert refused[-1].subject == f"{method} {path.split('?')[0]}"


def test_no_token_or_a_bad_one_is_refused_everywhere_and_audited(
    served: Served, target_id: str
) -> None:
    for method, path, _, body in routes(target_id, served.case.seed().id):
        for headers in ({}, {"Authorization": "Bearer sky_not-a-token"}, {"Authorization": "x"}):
            before = len(refusals(served.db))
            response = served.client.request(method, path, headers=headers, json=body)
            assert response.status_code == 401, (path, headers, response.text)
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert "Traceback" not in response.text
            assert len(refusals(served.db)) == before + 1
    assert served.client.get("/health").status_code == 200  # the one open route


def test_a_wall_token_cannot_read_a_targets_route(served: Served, target_id: str) -> None:
    response = served.client.get(
        f"/targets/{target_id}/route", headers=served.auth(Role.wall, purpose=True)
    )
    assert response.status_code == 403
    last = refusals(served.db)[-1]
    assert (last.action, last.case_id, last.reason) == ("route", CASE, REASON)


@pytest.mark.parametrize(
    ("headers", "needle"),
    [
        ({}, "case"),
        ({"X-Case-Id": CASE}, "reason"),
        ({"X-Case-Id": "  ", "X-Reason": REASON}, "case"),
        ({"X-Case-Id": CASE, "X-Reason": "why"}, "reason"),
    ],
)
def test_a_target_query_without_case_and_reason_is_refused_and_audited(
    served: Served, target_id: str, headers: dict[str, str], needle: str
) -> None:
    before = len(refusals(served.db))
    response = served.client.get(
        f"/targets/{target_id}/timeline",
        headers={**served.auth(Role.investigator), **headers},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == MEDIA_TYPE
    assert needle in response.json()["detail"]
    refused = refusals(served.db)
    assert len(refused) == before + 1
    assert refused[-1].action == "timeline" and "refused" in refused[-1].detail


def test_case_and_reason_may_come_as_query_parameters(served: Served, target_id: str) -> None:
    response = served.client.get(
        f"/targets/{target_id}/timeline",
        params={"case": CASE, "reason": "逃逸 hit-and-run, two injured"},
        headers=served.auth(Role.investigator),
    )
    assert response.status_code == 200, response.text
    assert AuditLog(served.db).entries(CASE)[-1].reason == "逃逸 hit-and-run, two injured"


def test_a_revoked_token_stops_working(served: Served) -> None:
    made = served.client.post(
        "/tokens", headers=served.auth(Role.admin), json={"name": "temp", "role": "wall"}
    )
    assert made.status_code == 201
    token = made.json()["token"]
    assert token.startswith("sky_")
    bearer = {"Authorization": f"Bearer {token}"}
    assert served.client.get("/cameras", headers=bearer).status_code == 200
    gone = served.client.delete(f"/tokens/{made.json()['id']}", headers=served.auth(Role.admin))
    assert gone.status_code == 204
    assert served.client.get("/cameras", headers=bearer).status_code == 401
    listed = served.client.get("/tokens", headers=served.auth(Role.admin)).json()
    assert [t["revoked"] is not None for t in listed if t["id"] == made.json()["id"]] == [True]
    assert all("token" not in t for t in listed)  # the secret is never listed again


def test_a_token_revoked_by_another_process_stops_working_after_the_ttl(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checked token is trusted ``TOKEN_TTL_S`` without the store (``skynet tokens revoke``
    in another process writes only the database); then the store is asked again."""
    record, token = TokenStore(served.db).create("temp elsewhere", Role.wall)
    bearer = {"Authorization": f"Bearer {token}"}
    assert served.client.get("/cameras", headers=bearer).status_code == 200
    TokenStore(served.db).revoke(record.id)
    assert served.client.get("/cameras", headers=bearer).status_code == 200  # within the TTL
    monkeypatch.setattr(api.world, "TOKEN_TTL_S", 0.0)
    assert served.client.get("/cameras", headers=bearer).status_code == 401


def test_reading_the_audit_trail_is_recorded_too(served: Served) -> None:
    trail = served.client.get("/audit", params={"case": CASE}, headers=served.auth(Role.admin))
    assert trail.status_code == 200 and all(e["case_id"] == CASE for e in trail.json())
    last = AuditLog(served.db).entries()[-1]
    assert (last.action, last.subject) == ("audit-read", CASE)
    assert last.actor.startswith("test admin#") and last.detail["rows"] == len(trail.json())
