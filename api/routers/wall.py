"""The wall display: its page, and the target an investigator puts on it.

The page itself needs no token (it holds no data); it reads its token from
the URL fragment (``/wall#token=...``, never sent to the server) and asks
every data route with it. A ``wall`` token cannot query targets, so an
investigator *puts* one on the wall (audited, with case and reason); walls
then read what was put there.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from api.auth import Asked, Caller, casework, needs, world_of
from api.models import FeatureCollection, WallPinIn, WallTargetDoc
from api.routers.targets import stored_timeline, timeline_entries
from skynet.errors import NotFoundError
from skynet.review import case_target
from skynet.tokens import Permission

router = APIRouter(tags=["wall"])


@router.get("/wall", response_class=HTMLResponse, summary="The wall display page")
def wall_page() -> HTMLResponse:
    """Self-contained (its script and style are served here too); open ``/wall#token=...``."""
    page = files("api").joinpath("static", "wall.html").read_text(encoding="utf-8")
    return HTMLResponse(page, headers={"Cache-Control": "no-cache"})


@router.put("/wall/target", summary="Put a target on the wall displays (investigators)")
def pin_target(
    request: Request, body: WallPinIn, asked: Annotated[Asked, Depends(casework)]
) -> WallTargetDoc:
    """The target's latest route and timeline are shown on every wall (an export: audited)."""
    world = world_of(request)
    case_target(world.cases, asked.purpose, body.target_id)
    world.audit.record(asked.purpose, "wall-export", body.target_id, actor=asked.caller.actor)
    world.put_on_wall(body.target_id)
    world.events.publish("wall", {"target_id": body.target_id})
    return _wall_doc(request, body.target_id)


@router.get("/wall/target", summary="The target on the wall: route map and timeline")
def wall_target(
    request: Request, _: Annotated[Caller, Depends(needs(Permission.map))]
) -> WallTargetDoc:
    key = world_of(request).wall_target
    if key is None:
        raise NotFoundError("no target is on the wall (an investigator puts one with PUT)")
    return _wall_doc(request, key)


def _wall_doc(request: Request, key: str) -> WallTargetDoc:
    world = world_of(request)
    stored = world.cases.target(key)
    routes = world.cases.routes(key)
    return WallTargetDoc(
        target_id=key,
        case_id=stored.case_id,
        route=FeatureCollection(**routes[-1]) if routes else None,
        timeline=timeline_entries(stored_timeline(world, stored)),
    )
