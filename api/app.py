"""``create_app(settings)``: the FastAPI app over one Skynet database.

The API only translates HTTP into calls of :mod:`skynet`; what it adds is
the door: bearer tokens and roles (:mod:`api.auth`), problem+json errors
(:mod:`api.problems`), a body size limit (:mod:`api.limits`) and the live
relay of the event bus (:mod:`api.live`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import problems
from api.limits import BodyLimit
from api.live import Hub
from api.live import router as live_router
from api.models import ProblemDoc
from api.poller import StorePoller
from api.routers import map as map_routes
from api.routers import records, targets, wall
from api.settings import Settings
from api.world import World
from skynet.errors import NotFoundError
from skynet.watch import match_watches
from trackers.sighting import Sighting

DESCRIPTION = """\
Where a vehicle went, from many georeferenced cameras: the map (cameras, roads,
coverage), sightings, target queries (timeline, route with alternatives, the
cameras to open next), watches, the audit log, and live events over
`/ws/events`.

Every route but `/health` and the `/wall` page needs `Authorization: Bearer
<token>` (`skynet tokens create --role ROLE --name NAME`). Target queries also
need `X-Case-Id` and `X-Reason`; each is written to the hash-chained audit log,
and so is every refusal. Errors are RFC 9457 `application/problem+json`.
"""

_PROBLEM = {"model": ProblemDoc, "content": {problems.MEDIA_TYPE: {}}}
RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {**_PROBLEM, "description": "Bad input (or no case and reason)"},
    401: {**_PROBLEM, "description": "No live bearer token"},
    403: {**_PROBLEM, "description": "The token's role may not do this"},
    404: {**_PROBLEM, "description": "Not found"},
    409: {**_PROBLEM, "description": "Conflict with what is stored"},
    413: {**_PROBLEM, "description": "Request body too large"},
    422: {**_PROBLEM, "description": "The request does not fit the schema"},
}


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API over ``settings.db`` (see :class:`~api.settings.Settings`)."""
    settings = settings or Settings()
    world = World(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hub = app.state.hub = Hub(world)
        stop_alerts = _alert_on_sightings(world)
        poller = StorePoller(world, settings.poll_s) if settings.poll_s > 0 else None
        if poller is not None:
            poller.start()
        try:
            yield
        finally:
            if poller is not None:
                poller.stop()
            stop_alerts()
            hub.close()

    app = FastAPI(
        title="Skynet",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        responses=RESPONSES,
    )
    app.state.world = world
    problems.install(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    for router in (map_routes.router, records.router, targets.router, wall.router):
        app.include_router(router)
    app.include_router(live_router)
    app.mount("/wall/assets", StaticFiles(packages=[("api", "static")]), name="wall-assets")
    return app


def _alert_on_sightings(world: World) -> Any:
    """Every new sighting on the bus is held against the stored watches; fits are alerts."""

    def on_sightings(_: str, sightings: Sequence[Sighting]) -> None:
        try:
            registry = world.registry()
        except NotFoundError:
            return
        for alert in match_watches(world.watches.all(), list(sightings), registry):
            world.events.publish("alert", alert)

    return world.events.subscribe("sightings", on_sightings)
