"""Target queries: follow a seed sighting, a target's timeline, route and frontier; watches.

Each needs an investigator's token and a case and reason (see
:mod:`api.auth`); the engine records the query in the audit log, under the
token's holder, before it runs.
"""

from __future__ import annotations

import math
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from api.auth import Asked, casework, purpose, world_of
from api.models import (
    AlternativeDoc,
    ChainEndDoc,
    FeatureCollection,
    FoundIn,
    FrontierCameraDoc,
    FrontierDoc,
    ImpliedCameraDoc,
    OpenFirstDoc,
    ReviewIn,
    RouteDoc,
    SightingDoc,
    StretchDoc,
    TargetIn,
    TimelineDoc,
    TimelineEntryDoc,
    WatchDoc,
    WatchIn,
    utc,
)
from api.world import World
from skynet._route_shape import Route
from skynet.audit import acting_as
from skynet.cases import StoredTarget
from skynet.errors import BadInputError, NotFoundError
from skynet.investigate import follow_target
from skynet.review import case_target, extend_target, next_cameras, record_reviews
from skynet.timeline import ChainEnd, Timeline, TimelineEntry
from skynet.times import parse_time
from skynet.watch import Watch, check_area, watch_for_target

router = APIRouter(tags=["targets"])
Query_ = Annotated[Asked, Depends(purpose)]
Casework = Annotated[Asked, Depends(casework)]


@router.post("/targets", status_code=201, summary="Follow a vehicle from a seed sighting")
def create_target(request: Request, body: TargetIn, asked: Query_) -> TimelineDoc:
    """Link the seed's sightings forward and back in time: the target and its timeline."""
    world = world_of(request)
    since = body.since.timestamp() if body.since else -math.inf
    until = body.until.timestamp() if body.until else math.inf
    if since >= until:
        raise BadInputError("the window is empty (since is not before until)", field="since")
    world.sightings.get(body.seed_sighting_id)  # 404 before the investigation loads
    with acting_as(asked.caller.actor):
        result = follow_target(
            world.investigation(),
            asked.purpose,
            body.seed_sighting_id,
            with_route=False,
            since_s=since,
            until_s=until,
            beam=body.beam,
        )
    stored = world.cases.target(result.target_id)
    return _timeline_doc(world, stored, result.timeline, result.audit_id)


@router.get("/targets/{target_id}/timeline", summary="A stored target's timeline")
def timeline(request: Request, target_id: str, asked: Query_) -> TimelineDoc:
    world = world_of(request)
    stored = case_target(world.cases, asked.purpose, target_id)
    audit_id = world.audit.record(asked.purpose, "timeline", target_id, actor=asked.caller.actor)
    return _timeline_doc(world, stored, stored_timeline(world, stored), audit_id)


@router.get("/targets/{target_id}/route", summary="A stored target's route, alternatives ranked")
def route(request: Request, target_id: str, asked: Query_) -> RouteDoc:
    """Reconstruct the road route between the target's sightings (kept with the case)."""
    world = world_of(request)
    stored = case_target(world.cases, asked.purpose, target_id)
    audit_id = world.audit.record(asked.purpose, "route", target_id, actor=asked.caller.actor)
    found = world.investigation().route(stored_timeline(world, stored))
    world.cases.save_route(target_id, found)
    return _route_doc(target_id, audit_id, found)


@router.get("/targets/{target_id}/frontier", summary="Cameras to open next for a target")
def frontier(
    request: Request,
    target_id: str,
    asked: Casework,
    now: Annotated[
        str | None, Query(description="ISO 8601 time footage is searched up to (default now).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> FrontierDoc:
    """Ranked from the target's latest sighting, with every recorded review as evidence."""
    world = world_of(request)
    now_s = parse_time(now, "now") if now else time.time()
    case_target(world.cases, asked.purpose, target_id)  # 404/400 before the load
    with acting_as(asked.caller.actor):
        result = next_cameras(
            world.investigation(), asked.purpose, target_id, now_s=now_s, limit=limit
        )
    return FrontierDoc(
        target_id=target_id,
        audit_id=result.audit_id,
        last_sighting=SightingDoc.of(result.last),
        reviewed_cameras=result.reviewed,
        cameras=[
            FrontierCameraDoc(
                camera_id=c.camera_id,
                status=c.status,
                open_from=utc(c.window_start_s),
                open_until=utc(c.window_end_s),
                free_flow_s=c.free_flow_s,
                share=c.share,
                reviewed=c.reviewed,
                reason=c.reason,
            )
            for c in result.cameras
        ],
        implied_cameras=[
            ImpliedCameraDoc(
                camera_id=i.camera_id, after_sighting_id=i.after_id, before_sighting_id=i.before_id
            )
            for i in result.implied
        ],
        open_first=None
        if result.open_first is None
        else OpenFirstDoc(
            camera_id=result.open_first.camera_id,
            open_from=utc(result.open_first.window_start_s),
            open_until=utc(result.open_first.window_end_s),
            chance=result.open_first.chance,
            settles=list(result.open_first.settles),
        ),
    )


@router.post(
    "/targets/{target_id}/reviews", status_code=204, summary="Record cameras searched in vain"
)
def add_reviews(request: Request, target_id: str, body: ReviewIn, asked: Casework) -> Response:
    """The next frontier counts these cameras' silence as evidence (and leaves them out)."""
    world = world_of(request)
    case_target(world.cases, asked.purpose, target_id)
    with acting_as(asked.caller.actor):
        record_reviews(
            world.investigation(), asked.purpose, target_id, body.cameras, body.until.timestamp()
        )
    return Response(status_code=204)


@router.post("/targets/{target_id}/found", summary="A sighting found: follow it, route again")
def found(request: Request, target_id: str, body: FoundIn, asked: Casework) -> RouteDoc:
    """The found sighting is followed, merged into the target, and the route rebuilt."""
    world = world_of(request)
    case_target(world.cases, asked.purpose, target_id)
    world.sightings.get(body.sighting_id)  # 404 before the investigation loads
    with acting_as(asked.caller.actor):
        result = extend_target(world.investigation(), asked.purpose, target_id, body.sighting_id)
    assert result.route is not None
    return _route_doc(result.target_id, result.audit_id, result.route)


@router.get("/watches", tags=["watches"], summary="The case's watches")
def list_watches(request: Request, asked: Casework) -> list[WatchDoc]:
    world = world_of(request)
    world.audit.record(asked.purpose, "watch-list", "watches", actor=asked.caller.actor)
    case_id = asked.purpose.case_id.strip()
    return [_watch_doc(w) for w in world.watches.all() if w.case_id == case_id]


@router.post("/watches", tags=["watches"], status_code=201, summary="Watch for a stored target")
def create_watch(request: Request, body: WatchIn, asked: Casework) -> WatchDoc:
    """Alert (over ``/ws/events``) whenever a new sighting looks like the target and fits."""
    world = world_of(request)
    if body.area is not None:
        check_area(body.area, world.registry())
    stored = case_target(world.cases, asked.purpose, body.target_id)
    sightings = world.sightings.find(ids=[i for i, _ in stored.sightings])
    if not sightings:
        raise NotFoundError(f"target {body.target_id} has no stored sightings left")
    watch = watch_for_target(
        asked.purpose.case_id,
        asked.purpose.reason,
        sightings,
        end_s=body.until.timestamp() if body.until else None,
        threshold=body.threshold,
        area=body.area,
    )
    world.audit.record(
        asked.purpose, "watch", body.target_id, actor=asked.caller.actor,
        detail={"watch_id": watch.id},
    )  # fmt: skip
    world.watches.add(watch)
    return _watch_doc(watch)


@router.delete("/watches/{watch_id}", tags=["watches"], status_code=204, summary="Stop a watch")
def delete_watch(request: Request, watch_id: str, asked: Casework) -> Response:
    world = world_of(request)
    owned = {w.id: w.case_id for w in world.watches.all()}
    if watch_id not in owned:
        raise NotFoundError(f"no watch {watch_id!r}")
    if owned[watch_id] != asked.purpose.case_id.strip():
        raise BadInputError(f"watch {watch_id} belongs to another case", field="case")
    world.audit.record(asked.purpose, "unwatch", watch_id, actor=asked.caller.actor)
    world.watches.remove(watch_id)
    return Response(status_code=204)


# ------------------------------------------------------------------ documents
def stored_timeline(world: World, stored: StoredTarget) -> Timeline:
    """A stored target's timeline, rebuilt from its sightings as the store holds them."""
    probability = dict(stored.sightings)
    sightings = world.sightings.find(ids=list(probability))
    entries = [
        TimelineEntry(s, probability.get(s.id))
        for s in sorted(sightings, key=lambda s: (s.t_in, s.id))
    ]
    return Timeline(
        seed_id=stored.seed_sighting_id,
        entries=entries,
        start=ChainEnd(stored.start_reason, "as stored with the target"),  # type: ignore[arg-type]
        end=ChainEnd(stored.end_reason, "as stored with the target"),  # type: ignore[arg-type]
    )


def timeline_entries(timeline: Timeline) -> list[TimelineEntryDoc]:
    return [
        TimelineEntryDoc(sighting=SightingDoc.of(e.sighting), link_probability=e.link_probability)
        for e in timeline.entries
    ]


def _timeline_doc(
    world: World, stored: StoredTarget, timeline: Timeline, audit_id: int
) -> TimelineDoc:
    return TimelineDoc(
        target_id=stored.id,
        case_id=stored.case_id,
        seed_sighting_id=stored.seed_sighting_id,
        audit_id=audit_id,
        entries=timeline_entries(timeline),
        start=ChainEndDoc(reason=timeline.start.reason, detail=timeline.start.detail),
        end=ChainEndDoc(reason=timeline.end.reason, detail=timeline.end.detail),
        geojson=FeatureCollection(**_timeline_geojson(world, timeline)),
    )


def _timeline_geojson(world: World, timeline: Timeline) -> dict[str, Any]:
    features = []
    registry = world.registry()
    for order, entry in enumerate(timeline.entries, 1):
        s = entry.sighting
        if s.camera_id not in registry:
            continue
        camera = registry.get(s.camera_id)
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [camera.lon, camera.lat]},
                "properties": {"order": order, "sighting_id": s.id, "camera_id": s.camera_id},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _route_doc(target_id: str, audit_id: int, found: Route) -> RouteDoc:
    return RouteDoc(
        target_id=target_id,
        audit_id=audit_id,
        length_m=found.length_m,
        probability=found.probability,
        stretches=[
            StretchDoc(
                kind=s.kind,
                start=utc(s.start_s),
                end=utc(s.end_s),
                camera_id=s.camera_id,
                sighting_id=s.sighting_id,
                silent_cameras=list(s.silent_cameras),
                offline_cameras=list(s.offline_cameras),
                probability=s.probability,
                length_m=s.length_m,
                note=s.note,
            )
            for s in found.stretches
        ],
        alternatives=[
            AlternativeDoc(rank=rank, length_m=alt.length_m, probability=alt.probability)
            for rank, alt in enumerate(found.alternatives, 1)
        ],
        geojson=FeatureCollection(**found.as_geojson()),
    )


def _watch_doc(w: Watch) -> WatchDoc:
    return WatchDoc(
        id=w.id,
        case_id=w.case_id,
        vehicle_class=w.vehicle_class,
        start=utc(w.start_s),
        end=utc(w.end_s),
        threshold=w.threshold,
        area=list(w.area) if w.area else None,
        origin_camera=w.origin_camera,
    )
