"""Watches: a target's look, class, area and time span, held against every new sighting.

A watch belongs to a case (with a reason, audited when it is made). A new
sighting raises an alert on a watch when all of these hold at once, judged
for all sightings against all active watches as arrays: its appearance is at
least ``threshold`` similar to the watch's (cosine of unit vectors), its
class is compatible (``vehicle`` fits any), it falls in the watch's time
span, its camera is in the watch's area, and the target could have driven
there from where it was last known since then (free-flow time from that
camera, ``SLACK_S`` allowed).
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.engine import Engine

from camera_registry.database import ensure_schema, open_engine, transaction
from camera_registry.registry import CameraRegistry
from skynet.errors import BadInputError, NotFoundError
from skynet.events import EventBus
from trackers.sighting import APPEARANCE_DIM, Sighting

SCHEMA_VERSION: Final = 1
#: Seconds a sighting may come before the free-flow time from the last known place.
SLACK_S: Final = 30.0
#: Similarity above which a watch fires, unless it says otherwise: night looks of one
#: vehicle at different cameras spread from 0.66 to 0.92 against its first three
#: (simulated hit-and-run): 0.75 keeps 84 % of them; class, span, area and reach
#: do the rest (look-alikes are as close in look as the target itself).
DEFAULT_THRESHOLD: Final = 0.75

metadata = sa.MetaData()
watches_table = sa.Table(
    "watches",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("case_id", sa.String(128), nullable=False, index=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("appearance", sa.LargeBinary, nullable=False),  # float32 bytes
    sa.Column("vehicle_class", sa.String(32), nullable=False),
    sa.Column("area", sa.String(128), nullable=True),  # "W,S,E,N" degrees
    sa.Column("start_s", sa.Float(precision=53), nullable=False),
    sa.Column("end_s", sa.Float(precision=53), nullable=False),
    sa.Column("threshold", sa.Float(precision=53), nullable=False),
    sa.Column("origin_camera", sa.String(128), nullable=True),
    sa.Column("origin_s", sa.Float(precision=53), nullable=True),
    sa.Column("created_s", sa.Float(precision=53), nullable=False),
)

Area = tuple[float, float, float, float]


@dataclass(frozen=True, eq=False)
class Watch:
    """What to look for, where, when, and from where the target could come."""

    id: str
    case_id: str
    reason: str
    appearance: NDArray[np.float32]
    vehicle_class: str
    start_s: float
    end_s: float
    threshold: float = DEFAULT_THRESHOLD
    area: Area | None = None
    origin_camera: str | None = None
    origin_s: float | None = None

    def __post_init__(self) -> None:
        vector = np.asarray(self.appearance, dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(vector)) if vector.size else 0.0
        if vector.size != APPEARANCE_DIM or not np.isfinite(vector).all() or norm == 0.0:
            msg = f"a watch needs an appearance of {APPEARANCE_DIM} finite numbers, not all 0"
            raise BadInputError(msg, field="appearance")
        object.__setattr__(self, "appearance", vector / np.float32(norm))
        if not 0.0 < self.threshold < 1.0:
            raise BadInputError(f"threshold {self.threshold} is not in (0, 1)", field="threshold")
        if not self.start_s < self.end_s:
            raise BadInputError(
                "the watch's span is empty (it ends before it starts)", field="until"
            )


@dataclass(frozen=True)
class Alert:
    """A sighting that fits an active watch, how well, and why."""

    watch_id: str
    case_id: str
    sighting_id: str
    camera_id: str
    t_in: float
    similarity: float
    reason: str


#: How long a watch made from a target stays active unless told (s).
DEFAULT_SPAN_S: Final = 24 * 3600.0


def watch_for_target(
    case_id: str,
    reason: str,
    sightings: Sequence[Sighting],
    *,
    end_s: float | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    area: Area | None = None,
) -> Watch:
    """The watch for a target known from these sightings: their mean look and most
    common class, active from the last one (its camera the place the target left
    from) to ``end_s`` (default :data:`DEFAULT_SPAN_S` later)."""
    if not sightings:
        raise BadInputError("the target has no sightings to take its appearance from")
    last = max(sightings, key=lambda s: s.t_out)
    classes = Counter(s.vehicle_class for s in sightings if s.vehicle_class != "vehicle")
    look = target_appearance(sightings)
    case = case_id.strip()
    return Watch(
        id=watch_id(case, look, last.t_out),
        case_id=case,
        reason=reason.strip(),
        appearance=look,
        vehicle_class=classes.most_common(1)[0][0] if classes else "vehicle",
        start_s=last.t_out,
        end_s=end_s if end_s is not None else last.t_out + DEFAULT_SPAN_S,
        threshold=threshold,
        area=area,
        origin_camera=last.camera_id,
        origin_s=last.t_out,
    )


def watch_id(case_id: str, appearance: NDArray[np.float32], start_s: float) -> str:
    """Deterministic id: the same watch made twice is one watch."""
    digest = hashlib.sha1(case_id.encode() + appearance.tobytes() + repr(start_s).encode())
    return digest.hexdigest()[:16]


def target_appearance(sightings: Sequence[Sighting]) -> NDArray[np.float32]:
    """The mean look of a target's sightings, unit length."""
    if not sightings:
        raise BadInputError("the target has no sightings to take its appearance from")
    mean = np.mean([s.appearance for s in sightings], axis=0).astype(np.float32)
    return np.asarray(mean / np.float32(max(float(np.linalg.norm(mean)), 1e-12)), np.float32)


def check_area(area: Area, registry: CameraRegistry) -> None:
    """An area that holds no camera of the registry can never fire: refused."""
    west, south, east, north = area
    if not (west < east and south < north):
        raise BadInputError("the area must be W,S,E,N with W < E and S < N", field="--area")
    if not registry.in_bbox(west, south, east, north):
        msg = f"the area {west},{south},{east},{north} holds no camera of the registry"
        raise BadInputError(msg, field="--area")


def match_watches(
    watches: Sequence[Watch],
    sightings: Sequence[Sighting],
    registry: CameraRegistry,
    free_flow_s: Callable[[str], dict[str, float]] | None = None,
    horizon_s: float = np.inf,
) -> list[Alert]:
    """Alerts of ``sightings`` on ``watches`` (see the module), in time order.

    ``free_flow_s(camera)`` gives the free-flow seconds from that camera to
    each camera it reaches within ``horizon_s`` (the transition model); a
    camera it does not list is at least ``horizon_s`` away. Without it
    reachability is not judged.
    """
    if not watches or not sightings:
        return []
    looks = np.stack([s.appearance for s in sightings])  # S × D
    wanted = np.stack([w.appearance for w in watches])  # W × D
    similarity = looks @ wanted.T
    s_class = np.array([s.vehicle_class for s in sightings])[:, None]
    w_class = np.array([w.vehicle_class for w in watches])[None, :]
    same_class = (s_class == w_class) | (s_class == "vehicle") | (w_class == "vehicle")
    t_in = np.array([s.t_in for s in sightings])[:, None]
    in_span = (t_in >= np.array([w.start_s for w in watches])) & (
        t_in <= np.array([w.end_s for w in watches])
    )
    lonlat = np.array(
        [
            (registry.get(s.camera_id).lon, registry.get(s.camera_id).lat)
            if s.camera_id in registry
            else (np.nan, np.nan)
            for s in sightings
        ]
    )
    boxes = np.array([w.area or (-180.0, -90.0, 180.0, 90.0) for w in watches])
    in_area = (
        (lonlat[:, None, 0] >= boxes[:, 0])
        & (lonlat[:, None, 0] <= boxes[:, 2])
        & (lonlat[:, None, 1] >= boxes[:, 1])
        & (lonlat[:, None, 1] <= boxes[:, 3])
    )
    reachable = np.ones_like(in_area)
    if free_flow_s is not None:
        for column, watch in enumerate(watches):
            if watch.origin_camera is None or watch.origin_s is None:
                continue
            times = free_flow_s(watch.origin_camera)
            for row, s in enumerate(sightings):
                if s.camera_id == watch.origin_camera:
                    continue
                need = times.get(s.camera_id, horizon_s)
                reachable[row, column] = s.t_in - watch.origin_s + SLACK_S >= need
    thresholds = np.array([w.threshold for w in watches])
    fires = (similarity >= thresholds) & same_class & in_span & in_area & reachable
    alerts = []
    for row, column in zip(*np.nonzero(fires), strict=True):
        s, w = sightings[int(row)], watches[int(column)]
        alerts.append(
            Alert(
                watch_id=w.id,
                case_id=w.case_id,
                sighting_id=s.id,
                camera_id=s.camera_id,
                t_in=s.t_in,
                similarity=float(similarity[row, column]),
                reason=(
                    f"looks {float(similarity[row, column]):.2f} alike (watch fires at "
                    f"{w.threshold:.2f}), class {s.vehicle_class}, in the watch's area and "
                    "span" + (", reachable from where it was last seen" if w.origin_camera else "")
                ),
            )
        )
    alerts.sort(key=lambda a: (a.t_in, -a.similarity))
    return alerts


class WatchStore:
    """Watches in the database named by URL or path (or an engine)."""

    def __init__(self, db: str | Engine | None = None) -> None:
        self.engine = db if isinstance(db, Engine) else open_engine(db)
        ensure_schema(self.engine, metadata, "watches", SCHEMA_VERSION)

    def add(self, watch: Watch) -> str:
        row = {
            "id": watch.id,
            "case_id": watch.case_id,
            "reason": watch.reason,
            "appearance": watch.appearance.astype(np.float32).tobytes(),
            "vehicle_class": watch.vehicle_class,
            "area": ",".join(repr(v) for v in watch.area) if watch.area else None,
            "start_s": watch.start_s,
            "end_s": watch.end_s,
            "threshold": watch.threshold,
            "origin_camera": watch.origin_camera,
            "origin_s": watch.origin_s,
            "created_s": time.time(),
        }
        with transaction(self.engine) as connection:
            connection.execute(sa.delete(watches_table).where(watches_table.c.id == watch.id))
            connection.execute(sa.insert(watches_table).values(**row))
        return watch.id

    def all(self) -> list[Watch]:
        with transaction(self.engine) as connection:
            rows = connection.execute(sa.select(watches_table).order_by(watches_table.c.created_s))
            return [_watch(row) for row in rows]

    def active(self, at_s: float) -> list[Watch]:
        """Watches whose span holds ``at_s``."""
        return [w for w in self.all() if w.start_s <= at_s <= w.end_s]

    def remove(self, key: str) -> None:
        with transaction(self.engine) as connection:
            gone = connection.execute(sa.delete(watches_table).where(watches_table.c.id == key))
        if gone.rowcount == 0:
            raise NotFoundError(f"no watch {key!r}")


def _watch(row: sa.Row[tuple[object, ...]]) -> Watch:
    mapping = row._mapping
    area = mapping["area"]
    return Watch(
        id=str(mapping["id"]),
        case_id=str(mapping["case_id"]),
        reason=str(mapping["reason"]),
        appearance=np.frombuffer(mapping["appearance"], dtype=np.float32).copy(),
        vehicle_class=str(mapping["vehicle_class"]),
        start_s=float(mapping["start_s"]),
        end_s=float(mapping["end_s"]),
        threshold=float(mapping["threshold"]),
        area=tuple(float(v) for v in str(area).split(",")) if area else None,  # type: ignore[arg-type]
        origin_camera=mapping["origin_camera"],
        origin_s=mapping["origin_s"],
    )


def alert_on_new_sightings(
    events: EventBus,
    watches: WatchStore,
    registry: CameraRegistry,
    free_flow_s: Callable[[str], dict[str, float]] | None = None,
    horizon_s: float = np.inf,
) -> Callable[[], None]:
    """Score every ``"sightings"`` event against the stored watches and publish each
    ``"alert"``; returns the function that stops it."""

    def on_sightings(_: str, sightings: Sequence[Sighting]) -> None:
        found = match_watches(watches.all(), list(sightings), registry, free_flow_s, horizon_s)
        for alert in found:
            events.publish("alert", alert)

    return events.subscribe("sightings", on_sightings)
