"""An investigation over one database: from a seed sighting to a timeline and a route.

Everything the engine needs lives in one database (cameras, roads,
sightings); :class:`Investigation` loads it once, builds or loads the
camera transition model from its cache (keyed by the roads and cameras, so
a change to either rebuilds it), and answers timeline and route queries.
:func:`follow_target` is the audited entry point the CLI and the API use:
it records the query with its case and reason before running it and keeps
the result with the case.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from camera_registry.database import data_home, open_engine
from camera_registry.registry import CameraRegistry
from camera_registry.store import RegistryStore
from skynet._route_shape import Route
from skynet.audit import AuditLog, Purpose
from skynet.cases import CaseStore
from skynet.errors import BadInputError, NotFoundError
from skynet.frontier import FrontierModel
from skynet.roads import RoadStore, attach_cameras
from skynet.roads.cameras import CameraAttachment
from skynet.roads.network import RoadNetwork
from skynet.routes import RouteParams, route_timeline
from skynet.store import SightingStore
from skynet.timeline import Linker, SightingSource, Timeline, build_timeline
from skynet.transitions import TransitionModel

#: Longest camera-to-camera trip the transition model considers (s).
DEFAULT_HORIZON_S = 1800.0
#: Above this many cameras the transition model is searched on demand, not built
#: whole (a city's every camera pair within the horizon does not fit in memory).
ON_DEMAND_CAMERAS = 10_000


@dataclass(eq=False)
class Investigation:
    """The loaded world of one database, ready for target queries."""

    network: RoadNetwork
    registry: CameraRegistry
    attachment: CameraAttachment
    transitions: TransitionModel
    store: SightingStore

    @classmethod
    def open(
        cls,
        db: str | None = None,
        *,
        cache: str | os.PathLike[str] | None = None,
        horizon_s: float = DEFAULT_HORIZON_S,
        on_demand: bool | None = None,
        on_step: Callable[[str], None] | None = None,
    ) -> Investigation:
        """Load cameras, roads and sightings from ``db``; clear errors for what is missing.

        ``on_demand`` searches each camera's reach when first asked instead of
        building (and caching) the whole transition model; by default it is on
        for registries of more than ``ON_DEMAND_CAMERAS`` cameras.
        """
        step = on_step or (lambda _: None)
        engine = open_engine(db)  # one connection pool for every store of the database
        step("loading cameras")
        registry = RegistryStore(engine).load()
        step("loading roads")
        try:
            network = RoadStore(engine).load()
        except NotFoundError:
            msg = "no road network in the database: import one first (skynet roads import FILE)"
            raise NotFoundError(msg) from None
        store = SightingStore(engine)
        if store.is_empty():
            msg = "the sighting store is empty: ingest footage first (skynet ingest PATH)"
            raise NotFoundError(msg)
        step("attaching cameras to roads")
        attachment = attach_cameras(network, registry)
        step("camera transitions")
        if on_demand is None:
            on_demand = len(registry) > ON_DEMAND_CAMERAS
        if on_demand:
            transitions = TransitionModel.on_demand(
                network, registry, attachment, horizon_s=horizon_s
            )
        else:
            folder = Path(cache) if cache is not None else data_home() / "cache" / "transitions"
            transitions = TransitionModel.cached(
                network, registry, folder, horizon_s=horizon_s, attachment=attachment
            )
        return cls(network, registry, attachment, transitions, store)

    @cached_property
    def frontier(self) -> FrontierModel:
        """Where-to-look-next searches over this world (their road graphs built once)."""
        return FrontierModel(
            self.network, self.registry, self.attachment, self.transitions.horizon_s
        )

    def linker(
        self,
        *,
        since_s: float = -math.inf,
        until_s: float = math.inf,
        source: SightingSource | None = None,
    ) -> Linker:
        """A linker over this world, limited to the investigation's time window; its
        sightings come from the store unless ``source`` holds them (e.g. in memory)."""
        check_window(since_s, until_s)
        return Linker(
            self.transitions,
            self.network,
            self.registry,
            source if source is not None else self.store,
            attachment=self.attachment,
            since_s=since_s,
            until_s=until_s,
        )

    def timeline(
        self,
        seed_id: str,
        *,
        since_s: float = -math.inf,
        until_s: float = math.inf,
        beam: int = 4,
        threshold: float = 0.5,
    ) -> Timeline:
        """The seed sighting's timeline (see :func:`skynet.timeline.build_timeline`)."""
        if beam < 1:
            raise BadInputError(f"the beam must hold at least one chain, got {beam}", field="beam")
        if not 0.0 < threshold < 1.0:
            raise BadInputError(f"threshold {threshold} is not in (0, 1)", field="threshold")
        linker = self.linker(since_s=since_s, until_s=until_s)
        return build_timeline(linker, seed_id, beam=beam, threshold=threshold)

    def timeline_geojson(self, timeline: Timeline) -> dict[str, Any]:
        """RFC 7946: each sighting a point at its camera, and the line through them in order."""
        features: list[dict[str, Any]] = []
        line: list[tuple[float, float]] = []
        for number, entry in enumerate(timeline.entries, 1):
            s = entry.sighting
            if s.camera_id not in self.registry:
                continue
            camera = self.registry.get(s.camera_id)
            line.append((camera.lon, camera.lat))
            properties = {
                "role": "sighting",
                "order": number,
                "id": s.id,
                "camera_id": s.camera_id,
                "t_in": s.t_in,
                "t_out": s.t_out,
                "class": s.vehicle_class,
                "link_probability": entry.link_probability,
                "seed": s.id == timeline.seed_id,
            }
            point = {"type": "Point", "coordinates": [camera.lon, camera.lat]}
            features.append({"type": "Feature", "geometry": point, "properties": properties})
        if len(line) >= 2:
            geometry = {"type": "LineString", "coordinates": [list(p) for p in line]}
            properties = {
                "role": "timeline",
                "seed_id": timeline.seed_id,
                "start": timeline.start.reason,
                "end": timeline.end.reason,
            }
            features.insert(0, {"type": "Feature", "geometry": geometry, "properties": properties})
        return {"type": "FeatureCollection", "features": features}

    def route(self, timeline: Timeline, params: RouteParams | None = None) -> Route:
        """The road route of a timeline, alternatives ranked."""
        sightings = [entry.sighting for entry in timeline.entries]
        if len(sightings) < 2:
            msg = (
                "the timeline holds only the seed sighting, so there is no route to reconstruct "
                f"(forward: {timeline.end.reason}; backward: {timeline.start.reason})"
            )
            raise NotFoundError(msg)
        return route_timeline(
            self.network, self.attachment, self.registry, self.store, sightings, params=params
        )


@dataclass(frozen=True, eq=False)
class TargetResult:
    """What an audited target query found, and where it is kept."""

    target_id: str
    audit_id: int
    timeline: Timeline
    route: Route | None


def check_window(since_s: float, until_s: float) -> None:
    """An empty investigation window is bad input (it is checked before anything runs)."""
    if since_s >= until_s:
        msg = "the investigation window is empty (--since is not before --until)"
        raise BadInputError(msg, field="since")


def follow_target(
    investigation: Investigation,
    purpose: Purpose,
    seed_id: str,
    *,
    with_route: bool,
    since_s: float = -math.inf,
    until_s: float = math.inf,
    beam: int = 4,
    threshold: float = 0.5,
) -> TargetResult:
    """Audit, then follow the seed (and reconstruct its route); the result is kept with the case."""
    check_window(since_s, until_s)
    action = "route" if with_route else "track"
    window = {"since_s": since_s, "until_s": until_s, "beam": beam, "threshold": threshold}
    engine = investigation.store.engine
    audit_id = AuditLog(engine).record(
        purpose, action, seed_id, detail={k: v for k, v in window.items() if math.isfinite(v)}
    )
    timeline = investigation.timeline(
        seed_id, since_s=since_s, until_s=until_s, beam=beam, threshold=threshold
    )
    cases = CaseStore(engine)
    key = cases.save_target(purpose.case_id.strip(), timeline)
    route = None
    if with_route:
        route = investigation.route(timeline)
        cases.save_route(key, route)
    return TargetResult(key, audit_id, timeline, route)
