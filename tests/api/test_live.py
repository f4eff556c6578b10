"""``/ws/events``: a wall hears new sightings in its area (and only there); refusals are audited."""

from __future__ import annotations

import dataclasses

import pytest
from starlette.websockets import WebSocketDisconnect

from camera_registry.store import RegistryStore
from skynet.audit import AuditLog
from skynet.tokens import Role
from tests.api.conftest import Served


def test_a_wall_hears_sightings_in_its_box_only(served: Served) -> None:
    registry = RegistryStore(served.db).load()
    crash = registry.get("P01-CRASH")
    far = max(registry, key=lambda c: abs(c.lon - crash.lon) + abs(c.lat - crash.lat))
    box = f"{crash.lon - 0.001},{crash.lat - 0.001},{crash.lon + 0.001},{crash.lat + 0.001}"
    seed = served.case.seed()
    elsewhere = dataclasses.replace(seed, id="far-away-1", camera_id=far.id)
    with served.client.websocket_connect(f"/ws/events?bbox={box}") as socket:
        socket.send_json({"token": served.tokens[Role.wall]})
        hello = socket.receive_json()
        assert hello["type"] == "hello" and hello["role"] == "wall"
        served.events.publish("sightings", [elsewhere, seed])
        message = socket.receive_json()
        assert message["type"] == "sighting" and message["sighting"]["id"] == seed.id
        assert message["lon"] == pytest.approx(crash.lon)
        socket.send_json({"bbox": None})  # the whole map from now on
        assert socket.receive_json()["type"] == "area"
        served.events.publish("sightings", [elsewhere])
        assert socket.receive_json()["sighting"]["camera_id"] == far.id


def test_the_token_may_come_in_the_query_and_camera_changes_are_pushed(served: Served) -> None:
    with served.client.websocket_connect(f"/ws/events?token={served.tokens[Role.analyst]}") as ws:
        assert ws.receive_json()["type"] == "hello"
        served.client.patch(
            "/cameras/P01-CRASH", json={"status": "offline"}, headers=served.auth(Role.admin)
        )
        message = ws.receive_json()
        assert message["type"] == "camera"
        assert message["camera"]["properties"]["status"] == "offline"
    served.client.patch(
        "/cameras/P01-CRASH", json={"status": "online"}, headers=served.auth(Role.admin)
    )


@pytest.mark.parametrize("token", ["", "sky_wrong"])
def test_a_socket_without_a_live_token_is_closed_and_audited(served: Served, token: str) -> None:
    before = len(AuditLog(served.db).entries())
    with served.client.websocket_connect("/ws/events") as socket:
        socket.send_json({"token": token})
        assert socket.receive_json()["type"] == "error"
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
    assert closed.value.code == 1008
    last = AuditLog(served.db).entries()[-1]
    assert len(AuditLog(served.db).entries()) == before + 1
    assert (last.action, last.outcome) == ("ws-events", "refused")


def test_the_poller_hears_another_process_ingest_and_camera_edits(served: Served) -> None:
    from api.poller import StorePoller
    from skynet.synthetic.case_db import add_sightings

    world = served.client.app.state.world  # type: ignore[attr-defined]
    poller = StorePoller(world, interval_s=60.0)  # polled by hand below
    heard: list[object] = []
    stops = [
        served.events.subscribe("sightings", lambda _, batch: heard.extend(s.id for s in batch)),
        served.events.subscribe("camera", lambda _, camera: heard.append(camera["id"])),
    ]
    seed = served.case.seed()
    fresh = dataclasses.replace(seed, id="from-another-process")
    add_sightings(served.db, [fresh], clip="another-process")  # as 'skynet ingest' would
    camera = RegistryStore(served.db).get("P01-CRASH")
    RegistryStore(served.db).import_cameras([dataclasses.replace(camera, status="offline")])
    poller.poll_once()
    poller.poll_once()  # nothing new the second time
    RegistryStore(served.db).import_cameras([camera])
    poller.stop()
    for stop in stops:
        stop()
    assert heard == ["from-another-process", "P01-CRASH"]
