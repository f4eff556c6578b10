"""The API's request and response documents (pydantic), with the examples OpenAPI shows.

Times are ISO 8601 with an offset both ways: an input without one is
refused (422), outputs are UTC (``Z``). GeoJSON documents are passed as
RFC 7946 objects (lon/lat order).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from trackers.sighting import VEHICLE_CLASSES, Sighting

CASE_EXAMPLE = "HR-0314"
SIGHTING_EXAMPLE = "5f0c2a9e4b7d1c3a8e6f2b40"
TARGET_EXAMPLE = "54be745e5cfc2db3"


def utc(seconds: float) -> datetime:
    """UTC seconds as an aware datetime (serialised ISO 8601 with its offset)."""
    return datetime.fromtimestamp(seconds, UTC)


class ProblemDoc(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "type": "about:blank",
                "title": "Case and reason required",
                "status": 400,
                "detail": "field 'case': a target query needs a case id",
                "instance": "/targets",
            }
        },
    )
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None


class FeatureCollection(BaseModel):
    """An RFC 7946 FeatureCollection (lon/lat)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "id": "P01-CRASH",
                        "geometry": {"type": "Point", "coordinates": [118.99, 25.44]},
                        "properties": {
                            "name": "Park gate",
                            "kind": "community",
                            "status": "online",
                        },
                    }
                ],
            }
        },
    )
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[dict[str, Any]]


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
    time: datetime


class CameraFields(BaseModel):
    """A camera's fields other than its id (all optional when patching)."""

    name: str | None = Field(None, max_length=256)
    kind: str | None = Field(None, max_length=32, examples=["road"])
    lon: float | None = Field(None, ge=-180, le=180, examples=[118.99])
    lat: float | None = Field(None, ge=-90, le=90, examples=[25.44])
    heading_deg: float | None = Field(None, ge=0, lt=360)
    fov_deg: float | None = Field(None, gt=0, le=360)
    range_m: float | None = Field(None, gt=0, le=10_000)
    height_m: float | None = Field(None, ge=0, le=500)
    image_width: int | None = Field(None, ge=1, le=32_768)
    image_height: int | None = Field(None, ge=1, le=32_768)
    fps: float | None = Field(None, gt=0, le=1000)
    homography: list[float] | None = Field(None, min_length=9, max_length=9)
    clock_offset_s: float | None = Field(None, ge=-86_400, le=86_400)
    status: str | None = Field(None, max_length=32, examples=["online", "offline"])
    area: str | None = Field(None, max_length=128)
    tags: list[str] | None = Field(None, max_length=64)


class CameraIn(CameraFields):
    """A new camera: id, name, kind and position are required."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": "V12-GATE",
                "name": "Village 12 gate",
                "kind": "community",
                "lon": 119.01,
                "lat": 25.45,
                "heading_deg": 90.0,
                "status": "online",
            }
        }
    )
    id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    name: str = Field(min_length=1, max_length=256)
    kind: str = Field(min_length=1, max_length=32)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)


class CameraPatch(CameraFields):
    """The fields to change (others stay)."""

    model_config = ConfigDict(json_schema_extra={"example": {"status": "offline"}})


class EvidenceDoc(BaseModel):
    clip: str
    frame_index: int
    bbox: tuple[float, float, float, float]


class SightingDoc(BaseModel):
    """One vehicle's passage through one camera's picture."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": SIGHTING_EXAMPLE,
                "camera_id": "P01-CRASH",
                "t_in": "2026-03-14T13:02:11.400Z",
                "t_out": "2026-03-14T13:02:14.900Z",
                "vehicle_class": "three_wheeler",
                "quality": 0.82,
                "heading_deg": 93.0,
                "speed_mps": 8.1,
                "evidence": {"clip": "P01-CRASH/0001.avi", "frame_index": 52, "bbox": [1, 2, 3, 4]},
            }
        }
    )
    id: str
    camera_id: str
    t_in: datetime
    t_out: datetime
    vehicle_class: str = Field(json_schema_extra={"enum": list(VEHICLE_CLASSES)})
    quality: float
    heading_deg: float | None = None
    speed_mps: float | None = None
    evidence: EvidenceDoc

    @classmethod
    def of(cls, s: Sighting) -> SightingDoc:
        return cls(
            id=s.id,
            camera_id=s.camera_id,
            t_in=utc(s.t_in),
            t_out=utc(s.t_out),
            vehicle_class=s.vehicle_class,
            quality=s.quality,
            heading_deg=s.heading_deg,
            speed_mps=s.speed_mps,
            evidence=EvidenceDoc(
                clip=s.evidence.clip, frame_index=s.evidence.frame_index, bbox=s.evidence.bbox
            ),
        )


class TargetIn(BaseModel):
    """Follow a vehicle from one sighting (the case and reason go in headers)."""

    model_config = ConfigDict(
        json_schema_extra={"example": {"seed_sighting_id": SIGHTING_EXAMPLE, "beam": 4}}
    )
    seed_sighting_id: str = Field(min_length=1, max_length=64)
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    beam: int = Field(4, ge=1, le=16)


class ChainEndDoc(BaseModel):
    reason: str
    detail: str


class TimelineEntryDoc(BaseModel):
    sighting: SightingDoc
    link_probability: float | None


class TimelineDoc(BaseModel):
    """A target's sightings in time order, and why the chain stops at each end."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "target_id": TARGET_EXAMPLE,
                "case_id": CASE_EXAMPLE,
                "seed_sighting_id": SIGHTING_EXAMPLE,
                "entries": [],
                "start": {"reason": "no_candidate", "detail": "nothing earlier fits"},
                "end": {"reason": "no_candidate", "detail": "nothing later fits"},
                "geojson": {"type": "FeatureCollection", "features": []},
            }
        }
    )
    target_id: str
    case_id: str
    seed_sighting_id: str
    audit_id: int
    entries: list[TimelineEntryDoc]
    start: ChainEndDoc
    end: ChainEndDoc
    geojson: FeatureCollection


class StretchDoc(BaseModel):
    kind: Literal["observed", "inferred", "gap"]
    start: datetime
    end: datetime
    camera_id: str | None
    sighting_id: str | None
    silent_cameras: list[str]
    offline_cameras: list[str]
    probability: float
    length_m: float | None
    note: str | None


class AlternativeDoc(BaseModel):
    rank: int
    length_m: float
    probability: float


class RouteDoc(BaseModel):
    """The road route of a target: stretches, ranked alternatives, and the map."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "target_id": TARGET_EXAMPLE,
                "audit_id": 12,
                "length_m": 21900.0,
                "probability": 0.64,
                "stretches": [],
                "alternatives": [{"rank": 1, "length_m": 23400.0, "probability": 0.21}],
                "geojson": {"type": "FeatureCollection", "features": []},
            }
        }
    )
    target_id: str
    audit_id: int
    length_m: float
    probability: float
    stretches: list[StretchDoc]
    alternatives: list[AlternativeDoc]
    geojson: FeatureCollection


class FrontierCameraDoc(BaseModel):
    camera_id: str
    status: str
    open_from: datetime
    open_until: datetime
    free_flow_s: float
    share: float
    reviewed: bool
    reason: str


class ImpliedCameraDoc(BaseModel):
    """A camera the target must have passed between two of its sightings (no need to open)."""

    camera_id: str
    after_sighting_id: str
    before_sighting_id: str


class OpenFirstDoc(BaseModel):
    """The camera that settles the most of the trail per opening, and what a find settles."""

    camera_id: str
    open_from: datetime
    open_until: datetime
    chance: float
    settles: list[str]


class FrontierDoc(BaseModel):
    """The cameras to open next for a target, best first, and those already implied."""

    target_id: str
    audit_id: int
    last_sighting: SightingDoc
    reviewed_cameras: int
    cameras: list[FrontierCameraDoc]
    implied_cameras: list[ImpliedCameraDoc] = []
    open_first: OpenFirstDoc | None = None


class WatchIn(BaseModel):
    """Watch for a stored target from its last sighting on."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {"target_id": TARGET_EXAMPLE, "area": [118.95, 25.38, 119.10, 25.50]}
        }
    )
    target_id: str = Field(min_length=1, max_length=32)
    area: tuple[float, float, float, float] | None = Field(
        None, description="W,S,E,N in degrees: only cameras inside fire."
    )
    until: AwareDatetime | None = None
    threshold: float = Field(0.75, gt=0, lt=1)


class WatchDoc(BaseModel):
    id: str
    case_id: str
    vehicle_class: str
    start: datetime
    end: datetime
    threshold: float
    area: list[float] | None
    origin_camera: str | None


class AuditEntryDoc(BaseModel):
    """One audit row: who asked what, when, for which case and why, and the outcome."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": 7,
                "at": "2026-03-14T14:10:02.113Z",
                "actor": "det. Lin#3f9a1c2b4d5e6f70",
                "case_id": CASE_EXAMPLE,
                "reason": "hit-and-run, two injured",
                "action": "route",
                "subject": TARGET_EXAMPLE,
                "outcome": "allowed",
                "detail": {},
                "hash": "9c…",
            }
        }
    )
    id: int
    at: datetime
    actor: str
    case_id: str
    reason: str
    action: str
    subject: str
    outcome: str
    detail: dict[str, Any]
    hash: str


class ChainCheckDoc(BaseModel):
    ok: bool
    rows: int
    head: str
    bad_id: int | None
    problem: str | None


class TokenIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"example": {"name": "control room wall 1", "role": "wall"}}
    )
    name: str = Field(min_length=1, max_length=128)
    role: Literal["wall", "analyst", "investigator", "admin"]


class TokenDoc(BaseModel):
    id: str
    name: str
    role: str
    created: datetime
    revoked: datetime | None


class TokenCreatedDoc(TokenDoc):
    token: str = Field(description="The bearer token: shown only in this answer.")


class WallPinIn(BaseModel):
    """Put a target's latest route and timeline on the wall displays."""

    model_config = ConfigDict(json_schema_extra={"example": {"target_id": TARGET_EXAMPLE}})
    target_id: str = Field(min_length=1, max_length=32)


class WallTargetDoc(BaseModel):
    """What the wall shows of the active target: its route map and timeline."""

    target_id: str
    case_id: str
    route: FeatureCollection | None
    timeline: list[TimelineEntryDoc]


class ReviewIn(BaseModel):
    """Cameras an investigator opened whose footage up to ``until`` held no target."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {"cameras": ["V10-L6", "V10-L3"], "until": "2026-03-14T21:50:00+08:00"}
        }
    )
    cameras: list[str] = Field(min_length=1, max_length=500)
    until: AwareDatetime


class FoundIn(BaseModel):
    """A sighting of the target the investigator found in footage."""

    model_config = ConfigDict(json_schema_extra={"example": {"sighting_id": SIGHTING_EXAMPLE}})
    sighting_id: str = Field(min_length=1, max_length=64)
