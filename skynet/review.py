"""The investigator's loop on a stored target: where to look next, what was opened, what was found.

Each camera opened is recorded with the target (searched up to when, and the
sighting found if the target was there). The frontier is always ranked from
the target's latest sighting with every recorded review as evidence, and
lists the cameras the target's sightings already imply (``skynet.implied``:
passed for certain, their footage need not be opened) and the one camera to
open first (``skynet.lookahead``: the most of the trail settled per opening,
which may be the far end of a stretch the target must pass); a found
sighting is followed in its turn and its timeline merged into the target's,
whose route is then reconstructed again. Every step is audited under the
case and reason given.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from skynet.audit import AuditLog, Purpose
from skynet.cases import CaseStore, StoredTarget
from skynet.errors import BadInputError, NotFoundError
from skynet.frontier import FrontierCamera
from skynet.implied import ImpliedCameras
from skynet.investigate import Investigation, TargetResult
from skynet.lookahead import Lookahead, Opening
from skynet.timeline import ChainEnd, Timeline, TimelineEntry
from trackers.sighting import Sighting


@dataclass(frozen=True)
class ImpliedCamera:
    """A camera the target must have passed between two of its sightings: its footage
    need not be opened (every route that fits the gap passes it)."""

    camera_id: str
    after_id: str
    before_id: str


@dataclass(frozen=True)
class FrontierResult:
    """The ranked cameras to open, the sighting they are ranked from, and the cameras the
    target's sightings already imply (passed for certain, no need to open)."""

    target_id: str
    audit_id: int
    last: Sighting
    cameras: list[FrontierCamera]
    reviewed: int
    implied: tuple[ImpliedCamera, ...] = ()
    open_first: Opening | None = None


def case_target(cases: CaseStore, purpose: Purpose, key: str) -> StoredTarget:
    """The stored target, refused when it belongs to another case than the one given."""
    try:
        stored = cases.target(key)
    except NotFoundError:
        msg = f"no target {key!r} (targets come from 'skynet track' or 'skynet route')"
        raise NotFoundError(msg) from None
    if stored.case_id != purpose.case_id.strip():
        msg = f"target {key} belongs to case {stored.case_id!r}, not {purpose.case_id!r}"
        raise BadInputError(msg, field="case")
    return stored


def record_reviews(
    investigation: Investigation,
    purpose: Purpose,
    key: str,
    camera_ids: Sequence[str],
    until_s: float,
) -> None:
    """Record cameras opened for ``key`` whose footage up to ``until_s`` held no target."""
    unknown = [c for c in camera_ids if c not in investigation.registry]
    if unknown:
        msg = f"unknown camera(s) in the reviewed list: {', '.join(unknown)}"
        raise BadInputError(msg, field="--reviewed")
    cases = CaseStore(investigation.store.engine)
    case_target(cases, purpose, key)
    AuditLog(investigation.store.engine).record(
        purpose, "review", key, detail={"cameras": list(camera_ids), "until_s": until_s}
    )
    cases.add_reviews(key, list(camera_ids), until_s)


def next_cameras(
    investigation: Investigation,
    purpose: Purpose,
    key: str,
    *,
    now_s: float,
    limit: int = 10,
) -> FrontierResult:
    """The cameras to open next for a stored target, given everything reviewed so far."""
    cases = CaseStore(investigation.store.engine)
    stored = case_target(cases, purpose, key)
    audit_id = AuditLog(investigation.store.engine).record(
        purpose, "frontier", key, detail={"now_s": now_s, "limit": limit}
    )
    sightings = investigation.store.find(ids=[i for i, _ in stored.sightings])
    last = max(sightings, key=lambda s: s.t_out)
    reviewed = cases.reviewed(key)
    timeline_of = sorted(sightings, key=lambda s: s.t_in)
    ranked = investigation.frontier.rank(
        last.camera_id,
        last.t_out,
        reviewed=reviewed,
        came_from=_camera_before(timeline_of, last),
        exit_edge=last.exit_edge,
        now_s=max(now_s, last.t_out),
        limit=limit,
        unreviewed_only=True,
    )
    implied = implied_cameras(investigation, timeline_of)
    opened = set(reviewed) | {s.camera_id for s in sightings}
    first = Lookahead.over(investigation.frontier).next_opening(
        timeline_of, reviewed=reviewed, opened=opened, now_s=max(now_s, last.t_out)
    )
    return FrontierResult(key, audit_id, last, ranked, len(reviewed), implied, first)


def implied_cameras(
    investigation: Investigation, sightings: Sequence[Sighting]
) -> tuple[ImpliedCamera, ...]:
    """Cameras forced between each two consecutive sightings (in time) of one target."""
    forced = ImpliedCameras(investigation.network, investigation.attachment)
    ordered = sorted(sightings, key=lambda s: (s.t_in, s.t_out))
    out: list[ImpliedCamera] = []
    for earlier, later in itertools.pairwise(ordered):
        if later.t_in > earlier.t_out and later.camera_id != earlier.camera_id:
            out += [ImpliedCamera(c, earlier.id, later.id) for c in forced.between(earlier, later)]
    return tuple(out)


def came_from(timeline: Timeline) -> str | None:
    """The camera the target was seen at before its last sighting's camera (the way back)."""
    return _camera_before([e.sighting for e in timeline.entries], timeline.entries[-1].sighting)


def _camera_before(in_order: Sequence[Sighting], last: Sighting) -> str | None:
    earlier = [s for s in in_order if s.t_out < last.t_in and s.camera_id != last.camera_id]
    return earlier[-1].camera_id if earlier else None


def extend_target(
    investigation: Investigation, purpose: Purpose, key: str, found_id: str
) -> TargetResult:
    """A sighting the investigator found: follow it, merge it into the target, route again."""
    cases = CaseStore(investigation.store.engine)
    stored = case_target(cases, purpose, key)
    found = investigation.store.get(found_id)  # NotFoundError names an unknown id
    audit_id = AuditLog(investigation.store.engine).record(
        purpose, "found", key, detail={"sighting_id": found_id}
    )
    followed = investigation.timeline(found_id)
    known = investigation.store.find(ids=[i for i, _ in stored.sightings])
    probability = dict(stored.sightings)
    entries = {s.id: TimelineEntry(s, probability.get(s.id)) for s in known}
    for entry in followed.entries:
        entries.setdefault(entry.sighting.id, entry)
    ordered = sorted(entries.values(), key=lambda e: (e.sighting.t_in, e.sighting.id))
    old_first = min(s.t_in for s in known)
    old_last = max(s.t_out for s in known)
    start = followed.start if followed.entries[0].sighting.t_in < old_first else None
    end = followed.end if followed.entries[-1].sighting.t_out > old_last else None
    timeline = Timeline(
        seed_id=stored.seed_sighting_id,
        entries=ordered,
        start=start or ChainEnd(stored.start_reason, "as followed from the seed"),  # type: ignore[arg-type]
        end=end or ChainEnd(stored.end_reason, "as followed from the seed"),  # type: ignore[arg-type]
    )
    cases.add_reviews(key, [found.camera_id], found.t_out, found=found.id)
    saved = cases.save_target(stored.case_id, timeline)
    route = investigation.route(timeline)
    cases.save_route(saved, route)
    return TargetResult(saved, audit_id, timeline, route)
