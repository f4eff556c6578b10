"""Each resource does what it says: boxes filter, zoom thins, targets follow, errors are RFC 9457"""

from __future__ import annotations

import dataclasses
from typing import Any

import shapely

from api.problems import MEDIA_TYPE
from camera_registry.store import RegistryStore
from skynet.audit import AuditLog
from skynet.tokens import Role
from skynet.watch import Alert
from tests.api.conftest import CASE, Served

BOX = (118.95, 25.38, 119.05, 25.46)


def inside(feature: dict[str, Any], box: tuple[float, float, float, float]) -> bool:
    lon, lat = feature["geometry"]["coordinates"]
    return box[0] <= lon <= box[2] and box[1] <= lat <= box[3]


def test_cameras_in_a_box_are_those_of_the_registry_there(served: Served) -> None:
    everything = served.client.get("/cameras", headers=served.auth(Role.wall)).json()
    boxed = served.client.get(
        "/cameras", params={"bbox": ",".join(map(str, BOX))}, headers=served.auth(Role.wall)
    ).json()
    expected = {f["id"] for f in everything["features"] if inside(f, BOX)}
    assert 0 < len(expected) < len(everything["features"])
    assert {f["id"] for f in boxed["features"]} == expected
    assert {"status", "kind", "heading_deg"} <= set(boxed["features"][0]["properties"])


def test_roads_are_cut_by_the_box_and_thinned_by_zoom(served: Served) -> None:
    def get(**params: Any) -> dict[str, Any]:
        response = served.client.get("/roads", params=params, headers=served.auth(Role.wall))
        assert response.status_code == 200
        return response.json()  # type: ignore[no-any-return]

    whole, boxed = get(zoom=18), get(zoom=18, bbox=",".join(map(str, BOX)))
    area = shapely.box(*BOX)
    assert 0 < len(boxed["features"]) < len(whole["features"])
    assert all(shapely.geometry.shape(f["geometry"]).intersects(area) for f in boxed["features"])

    def vertices(document: dict[str, Any]) -> int:
        return sum(len(f["geometry"]["coordinates"]) for f in document["features"])

    assert vertices(get(zoom=10)) < vertices(whole)
    assert len(get(zoom=10)["features"]) == len(whole["features"])  # thinner, not fewer


def test_coverage_reports_the_cameras(served: Served) -> None:
    report = served.client.get("/coverage", headers=served.auth(Role.analyst)).json()
    cameras = RegistryStore(served.db).count()
    assert report["cameras"] == cameras and 0 < report["total"]["share"] <= 1


def test_sightings_by_camera_and_window(served: Served) -> None:
    seed = served.case.seed()
    response = served.client.get(
        "/sightings",
        params={
            "cameras": seed.camera_id,
            "since": "2026-03-14T00:00:00+08:00",
            "until": "2026-03-15T23:00:00+08:00",
        },
        headers=served.auth(Role.analyst),
    )
    assert response.status_code == 200
    found = response.json()
    assert seed.id in {s["id"] for s in found}
    assert {s["camera_id"] for s in found} == {seed.camera_id}
    assert found[0]["t_in"].endswith("Z")  # ISO 8601 with its offset
    naive = served.client.get(
        "/sightings",
        params={"since": "2026-03-14T00:00:00", "until": "2026-03-15T00:00:00+08:00"},
        headers=served.auth(Role.analyst),
    )
    assert naive.status_code == 422 and naive.headers["content-type"] == MEDIA_TYPE


def test_target_timeline_route_and_frontier(served: Served, target_id: str) -> None:
    headers = served.auth(Role.investigator, purpose=True)
    truth = served.case.simulated.of_vehicle(served.case.scenario.target_id)
    timeline = served.client.get(f"/targets/{target_id}/timeline", headers=headers).json()
    found = {e["sighting"]["id"] for e in timeline["entries"]}
    assert served.case.seed().id in found
    assert len(found & {s.id for s in truth}) >= 0.8 * len(found)  # mostly the target's
    route = served.client.get(f"/targets/{target_id}/route", headers=headers).json()
    assert route["length_m"] > 10_000  # the escape runs 21.9 km
    assert route["geojson"]["features"][0]["properties"]["role"] == "route"
    assert [a["rank"] for a in route["alternatives"]] == list(
        range(1, len(route["alternatives"]) + 1)
    )
    frontier = served.client.get(
        f"/targets/{target_id}/frontier", params={"now": "2026-03-14T23:00:00+08:00"},
        headers=headers,
    ).json()  # fmt: skip
    assert frontier["last_sighting"]["id"] in found
    assert len(frontier["cameras"]) >= 1 and frontier["cameras"][0]["reason"]
    listed = served.client.get("/cameras", headers=served.auth(Role.wall)).json()
    cameras = {f["id"] for f in listed["features"]}
    implied = frontier["implied_cameras"]  # passed between two of its sightings, never opened
    assert all(i["after_sighting_id"] in found and i["camera_id"] in cameras for i in implied)
    first = frontier["open_first"]
    assert first is None or first["camera_id"] not in {frontier["last_sighting"]["camera_id"]}
    actions = [e.action for e in AuditLog(served.db).entries(CASE) if e.subject == target_id]
    assert {"timeline", "route", "frontier"} <= set(actions)


def test_a_target_of_another_case_is_refused(served: Served, target_id: str) -> None:
    headers = {**served.auth(Role.investigator), "X-Case-Id": "X-9", "X-Reason": "another one"}
    response = served.client.get(f"/targets/{target_id}/timeline", headers=headers)
    assert response.status_code == 400 and "belongs to case" in response.json()["detail"]


def test_watch_made_listed_alerted_and_removed(served: Served, target_id: str) -> None:
    headers = served.auth(Role.investigator, purpose=True)
    made = served.client.post("/watches", json={"target_id": target_id}, headers=headers)
    assert made.status_code == 201, made.text
    watch = made.json()
    assert [w["id"] for w in served.client.get("/watches", headers=headers).json()] == [watch["id"]]
    heard: list[Alert] = []

    def on_alert(_: str, alert: Alert) -> None:
        heard.append(alert)

    stop = served.events.subscribe("alert", on_alert)
    last = served.client.get(f"/targets/{target_id}/timeline", headers=headers).json()
    last_id = last["entries"][-1]["sighting"]["id"]
    known = served.case.simulated.sightings
    seen_last = next(s for s in known if s.id == last_id)
    again = dataclasses.replace(
        seen_last, id="again-" + last_id[:10], t_in=seen_last.t_out + 60, t_out=seen_last.t_out + 64
    )
    stranger = next(s for s in known if s.vehicle_class != seen_last.vehicle_class)
    stranger = dataclasses.replace(stranger, t_in=again.t_in, t_out=again.t_out)
    served.events.publish("sightings", [stranger, again])
    stop()
    assert [(a.watch_id, a.sighting_id) for a in heard] == [(watch["id"], again.id)]
    gone = served.client.delete(f"/watches/{watch['id']}", headers=headers)
    assert gone.status_code == 204
    assert served.client.get("/watches", headers=headers).json() == []
    actions = [e.action for e in AuditLog(served.db).entries(CASE)]
    assert {"watch", "watch-list", "unwatch"} <= set(actions)


def test_an_admin_adds_edits_and_removes_a_camera(served: Served) -> None:
    admin = served.auth(Role.admin)
    camera = {"id": "T-NEW-1", "name": "test gate", "kind": "community", "lon": 119.0, "lat": 25.42}
    heard: list[dict[str, Any]] = []
    stop = served.events.subscribe("camera", lambda _, payload: heard.append(payload))
    assert served.client.post("/cameras", json=camera, headers=admin).status_code == 201
    assert served.client.post("/cameras", json=camera, headers=admin).status_code == 409
    edited = served.client.patch("/cameras/T-NEW-1", json={"status": "offline"}, headers=admin)
    assert edited.json()["properties"]["status"] == "offline"
    assert RegistryStore(served.db).get("T-NEW-1").status == "offline"
    listed = served.client.get("/cameras", headers=served.auth(Role.wall)).json()
    assert "T-NEW-1" in {f["id"] for f in listed["features"]}
    assert served.client.delete("/cameras/T-NEW-1", headers=admin).status_code == 204
    assert served.client.get("/cameras/T-NEW-1", headers=admin).status_code == 404
    stop()
    assert [p.get("properties", {}).get("status") for p in heard[:2]] == ["online", "offline"]
    assert heard[-1] == {"id": "T-NEW-1", "removed": True}
    bad = served.client.patch("/cameras/P01-CRASH", json={"fov_deg": 0}, headers=admin)
    assert bad.status_code == 422


def test_errors_are_problems_without_tracebacks(served: Served) -> None:
    wall = served.auth(Role.wall)
    for path, status in (
        ("/cameras?bbox=1,2,3", 400),
        ("/cameras?bbox=10,0,5,1", 400),
        ("/cameras/NOPE", 404),
        ("/roads?zoom=99", 422),
        ("/nowhere", 404),
    ):
        response = served.client.get(path, headers=wall)
        assert response.status_code == status, (path, response.text)
        assert response.headers["content-type"] == MEDIA_TYPE
        document = response.json()
        assert document["status"] == status and document["title"] and document["detail"]
        assert "Traceback" not in response.text
    bad_time = served.client.get(
        "/targets/x/frontier", params={"now": "tomorrow"},
        headers=served.auth(Role.investigator, purpose=True),
    )  # fmt: skip
    assert bad_time.status_code in (400, 404) and "Traceback" not in bad_time.text


def test_an_oversized_body_is_refused_with_413(served: Served) -> None:
    big = b'{"name": "' + b"x" * 2_000_000 + b'"}'
    response = served.client.post(
        "/cameras", content=big,
        headers={**served.auth(Role.admin), "content-type": "application/json"},
    )  # fmt: skip
    assert response.status_code == 413 and response.headers["content-type"] == MEDIA_TYPE

    def chunks() -> Any:
        for _ in range(40):
            yield b"x" * 50_000

    streamed = served.client.post(
        "/cameras", content=chunks(),
        headers={**served.auth(Role.admin), "content-type": "application/json"},
    )  # fmt: skip
    assert streamed.status_code == 413


def test_the_openapi_schema_has_examples_and_security(served: Served) -> None:
    schema = served.client.get("/openapi.json").json()
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
    assert "example" in schema["components"]["schemas"]["CameraIn"]
    parameters = schema["paths"]["/targets/{target_id}/route"]["get"]["parameters"]
    assert {"X-Case-Id", "X-Reason"} <= {p["name"] for p in parameters}


def test_reviewed_cameras_leave_the_frontier_and_a_found_sighting_routes_again(
    served: Served, target_id: str
) -> None:
    headers = served.auth(Role.investigator, purpose=True)
    now = {"now": "2026-03-14T23:00:00+08:00", "limit": 5}
    first = served.client.get(f"/targets/{target_id}/frontier", params=now, headers=headers)
    top = first.json()["cameras"][0]["camera_id"]
    review = {"cameras": [top], "until": "2026-03-14T23:00:00+08:00"}
    done = served.client.post(f"/targets/{target_id}/reviews", json=review, headers=headers)
    assert done.status_code == 204, done.text
    second = served.client.get(f"/targets/{target_id}/frontier", params=now, headers=headers)
    assert top not in {c["camera_id"] for c in second.json()["cameras"]}
    assert second.json()["reviewed_cameras"] == first.json()["reviewed_cameras"] + 1
    unknown = {"cameras": ["NO-SUCH-CAM"], "until": "2026-03-14T23:00:00+08:00"}
    refused = served.client.post(f"/targets/{target_id}/reviews", json=unknown, headers=headers)
    assert refused.status_code == 400 and "NO-SUCH-CAM" in refused.json()["detail"]
    seen = first.json()["last_sighting"]["id"]
    routed = served.client.post(
        f"/targets/{target_id}/found", json={"sighting_id": seen}, headers=headers
    )
    assert routed.status_code == 200 and routed.json()["length_m"] > 10_000
    missing = served.client.post(
        f"/targets/{target_id}/found", json={"sighting_id": "nope"}, headers=headers
    )
    assert missing.status_code == 404
    actions = [e.action for e in AuditLog(served.db).entries(CASE) if e.subject == target_id]
    assert {"review", "found"} <= set(actions)
