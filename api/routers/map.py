"""The map: cameras (read; admins edit), roads and coverage; and the health check."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.auth import Caller, needs, world_of
from api.models import CameraIn, CameraPatch, FeatureCollection, Health
from api.params import BboxQuery, parse_bbox
from api.world import CameraLayer, World
from camera_registry.camera import Camera
from camera_registry.io import camera_feature
from skynet.errors import ConflictError, NotFoundError
from skynet.tokens import Permission

router = APIRouter()
MapCaller = Annotated[Caller, Depends(needs(Permission.map))]
AdminCaller = Annotated[Caller, Depends(needs(Permission.cameras_write))]
EMPTY = b'{"type":"FeatureCollection","features":[]}'


def _version() -> str:
    try:
        return version("skynet")
    except PackageNotFoundError:
        return "unknown"


@router.get("/health", tags=["health"], summary="Is the server up (no token needed)")
def health() -> Health:
    """Answers without a token so that a load balancer can ask; says nothing else."""
    return Health(version=_version(), time=datetime.now(UTC))


@router.get(
    "/cameras",
    tags=["cameras"],
    summary="Cameras as GeoJSON, optionally in a box",
    response_model=FeatureCollection,
)
async def list_cameras(request: Request, _: MapCaller, bbox: BboxQuery = None) -> Response:
    """Every registered camera (or those in ``bbox``) as Points; properties hold its fields."""
    box = parse_bbox(bbox)
    world = world_of(request)
    # each camera serialised once: a wall's pans cost a spatial query and a join
    layer = world.fresh_camera_layer() or await run_in_threadpool(_camera_layer, world)
    body = layer.geojson(box) if layer is not None else EMPTY
    return Response(body, media_type="application/json")


def _camera_layer(world: World) -> CameraLayer | None:
    try:
        return world.camera_layer()
    except NotFoundError:
        return None


@router.get("/cameras/{camera_id}", tags=["cameras"], summary="One camera as a GeoJSON Feature")
def get_camera(request: Request, camera_id: str, _: MapCaller) -> dict[str, Any]:
    return camera_feature(world_of(request).cameras.get(camera_id))


@router.post("/cameras", tags=["cameras"], status_code=201, summary="Register a camera (admins)")
def create_camera(request: Request, body: CameraIn, caller: AdminCaller) -> dict[str, Any]:
    """A new camera; 409 when the id is taken (change it with PATCH)."""
    world = world_of(request)
    camera = Camera.from_mapping(body.model_dump(exclude_none=True))
    try:
        world.cameras.get(camera.id)
    except NotFoundError:
        pass
    else:
        raise ConflictError(f"camera {camera.id!r} exists already (PATCH it instead)")
    return _save(request, caller, camera, "camera-add")


@router.patch("/cameras/{camera_id}", tags=["cameras"], summary="Change a camera (admins)")
def update_camera(
    request: Request, camera_id: str, body: CameraPatch, caller: AdminCaller
) -> dict[str, Any]:
    """Change some fields (e.g. ``{"status": "offline"}``); walls hear the change live."""
    world = world_of(request)
    stored = world.cameras.get(camera_id).as_dict()
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    camera = Camera.from_mapping({**stored, **changes})
    return _save(request, caller, camera, "camera-edit")


@router.delete(
    "/cameras/{camera_id}", tags=["cameras"], status_code=204, summary="Remove a camera (admins)"
)
def delete_camera(request: Request, camera_id: str, caller: AdminCaller) -> Response:
    world = world_of(request)
    world.cameras.remove(camera_id)
    world.audit.record_action("camera-remove", camera_id, actor=caller.actor)
    world.cameras_changed()
    world.events.publish("camera", {"id": camera_id, "removed": True})
    return Response(status_code=204)


def _save(request: Request, caller: Caller, camera: Camera, action: str) -> dict[str, Any]:
    world = world_of(request)
    world.cameras.import_cameras([camera])
    world.audit.record_action(action, camera.id, actor=caller.actor)
    world.cameras_changed()
    feature = camera_feature(camera)
    world.events.publish("camera", feature)
    return feature


@router.get("/roads", tags=["map"], summary="Roads as GeoJSON lines, by box, thinned by zoom")
def roads(
    request: Request,
    _: MapCaller,
    bbox: BboxQuery = None,
    zoom: Annotated[int, Query(ge=0, le=22, description="Web-map zoom: detail kept.")] = 16,
) -> FeatureCollection:
    """One line per physical road crossing ``bbox``, simplified to half a pixel at ``zoom``."""
    return FeatureCollection(**world_of(request).roads().geojson(parse_bbox(bbox), zoom))


@router.get("/coverage", tags=["map"], summary="What the cameras watch of the roads")
def coverage(
    request: Request, _: Annotated[Caller, Depends(needs(Permission.sightings))]
) -> dict[str, Any]:
    """Shares watched by road class and area, the longest blind stretches, village rules."""
    return world_of(request).coverage()
