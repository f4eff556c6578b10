"""``/ws/events``: the event bus relayed to WebSocket clients, each filtered by its area.

The bus is synchronous and publishers run in any thread (an ingest worker's
callback, a request handler); each client has an asyncio queue on the
server's loop, fed with ``call_soon_threadsafe``. A client that falls
behind loses its oldest messages, never stalls a publisher.

Messages (JSON): ``hello`` (after the token is accepted), ``sighting``,
``alert``, ``camera`` (a camera added, changed or removed), ``target`` (an
investigator put a target on the wall), ``error`` (then the socket closes).
Sighting, alert and camera messages carry ``lon``/``lat`` and are sent only
to clients whose ``bbox`` holds them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
from typing import Any, Final

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from api.models import SightingDoc, utc
from api.params import Box, parse_bbox
from api.world import World
from skynet.errors import BadInputError, NotFoundError
from skynet.tokens import Permission
from skynet.watch import Alert
from trackers.sighting import Sighting

router = APIRouter()
#: Seconds a client has to send its token as the first message.
TOKEN_WAIT_S: Final = 10.0
#: WebSocket close code for a refused client (RFC 6455: policy violation).
POLICY_VIOLATION: Final = 1008
Located = tuple[tuple[float, float] | None, dict[str, Any]]


class Client:
    """One connected socket: its loop, its queue and the area it watches."""

    def __init__(self, loop: asyncio.AbstractEventLoop, size: int, box: Box | None) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=size)
        self.box = box
        self.dropped = 0

    def wants(self, where: tuple[float, float] | None) -> bool:
        if self.box is None:
            return True
        if where is None:
            return False
        west, south, east, north = self.box
        return west <= where[0] <= east and south <= where[1] <= north

    def push(self, message: dict[str, Any]) -> None:
        """From any thread."""
        with contextlib.suppress(RuntimeError):  # the loop closed: the client is gone
            self.loop.call_soon_threadsafe(self._put, message)

    def _put(self, message: dict[str, Any]) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(message)


class Hub:
    """Hears every bus event once, turns it into messages, hands them to the clients."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._clients: set[Client] = set()
        self._lock = threading.Lock()
        self._stop = world.events.subscribe("*", self._on_event)

    def add(self, client: Client) -> None:
        with self._lock:
            self._clients.add(client)

    def remove(self, client: Client) -> None:
        with self._lock:
            self._clients.discard(client)

    def close(self) -> None:
        self._stop()

    @property
    def clients(self) -> int:
        with self._lock:
            return len(self._clients)

    def _on_event(self, kind: str, payload: Any) -> None:
        with self._lock:
            clients = list(self._clients)
        if not clients:
            return
        for where, message in self.messages(kind, payload):
            for client in clients:
                if client.wants(where):
                    client.push(message)

    def messages(self, kind: str, payload: Any) -> list[Located]:
        """The client messages of one bus event (none for kinds walls do not show)."""
        if kind == "sightings":
            return [self._sighting(s) for s in payload]
        if kind == "alert" and isinstance(payload, Alert):
            where = self._where(payload.camera_id)
            alert = dataclasses.asdict(payload) | {"t_in": utc(payload.t_in).isoformat()}
            return [(where, {"type": "alert", "alert": alert, **_lonlat(where)})]
        if kind == "camera":
            return [self._camera(payload)]
        if kind == "wall":
            return [(None, {"type": "target", **payload})]
        return []

    def _sighting(self, s: Sighting) -> Located:
        where = self._where(s.camera_id)
        document = SightingDoc.of(s).model_dump(mode="json")
        return where, {"type": "sighting", "sighting": document, **_lonlat(where)}

    def _camera(self, payload: dict[str, Any]) -> Located:
        geometry = payload.get("geometry") or {}
        coordinates = geometry.get("coordinates")
        where = (float(coordinates[0]), float(coordinates[1])) if coordinates else None
        return where, {"type": "camera", "camera": payload, **_lonlat(where)}

    def _where(self, camera_id: str) -> tuple[float, float] | None:
        try:
            registry = self.world.registry()
        except NotFoundError:
            return None
        if camera_id not in registry:
            return None
        camera = registry.get(camera_id)
        return camera.lon, camera.lat


def _lonlat(where: tuple[float, float] | None) -> dict[str, float | None]:
    return {"lon": where[0] if where else None, "lat": where[1] if where else None}


@router.websocket("/ws/events")
async def events(websocket: WebSocket, token: str | None = None, bbox: str | None = None) -> None:
    """Live sightings, alerts and camera changes; token as ``?token=`` or the first message
    ``{"token": "..."}``; ``?bbox=W,S,E,N`` (or a later ``{"bbox": "..."}``) sets the area."""
    world: World = websocket.app.state.world
    hub: Hub = websocket.app.state.hub
    await websocket.accept()
    if not token:
        token = await _first_token(websocket)
    record = await run_in_threadpool(world.tokens.authenticate, token or "")
    why = None
    if record is None:
        why = 'a live token is required (?token= or a first message {"token": ...})'
    elif not record.may(Permission.map):
        why = f"role {record.role.value} may not watch live events"
    if why is not None:
        actor = f"{record.name}#{record.id}" if record else "anonymous"
        await run_in_threadpool(
            world.audit.record_refusal, "ws-events", "WS /ws/events", why, actor=actor
        )
        await _close(websocket, why)
        return
    assert record is not None
    try:
        box = parse_bbox(bbox)
    except BadInputError as exc:
        await _close(websocket, str(exc))
        return
    client = Client(asyncio.get_running_loop(), world.settings.client_queue, box)
    hub.add(client)
    sender = asyncio.create_task(_pump(websocket, client))
    try:
        await websocket.send_json({"type": "hello", "role": record.role.value, "bbox": box})
        await _listen(websocket, client)
    finally:
        hub.remove(client)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender


async def _first_token(websocket: WebSocket) -> str | None:
    try:
        first = await asyncio.wait_for(websocket.receive_json(), TOKEN_WAIT_S)
    except (TimeoutError, WebSocketDisconnect, ValueError, KeyError, RuntimeError):
        return None
    value = first.get("token") if isinstance(first, dict) else None
    return value if isinstance(value, str) else None


async def _listen(websocket: WebSocket, client: Client) -> None:
    """Read what the client says (a new ``bbox``) until it goes."""
    while True:
        try:
            message = await websocket.receive_json()
        except WebSocketDisconnect:
            return
        except ValueError:
            await websocket.send_json({"type": "error", "detail": "messages are JSON objects"})
            continue
        if isinstance(message, dict) and "bbox" in message:
            try:
                client.box = parse_bbox(str(message["bbox"]) if message["bbox"] else None)
            except BadInputError as exc:
                await websocket.send_json({"type": "error", "detail": str(exc)})
                continue
            await websocket.send_json({"type": "area", "bbox": client.box})


async def _pump(websocket: WebSocket, client: Client) -> None:
    while True:
        message = await client.queue.get()
        await websocket.send_json(message)


async def _close(websocket: WebSocket, why: str) -> None:
    with contextlib.suppress(Exception):
        await websocket.send_json({"type": "error", "detail": why})
        await websocket.close(code=POLICY_VIOLATION, reason=why[:120])
