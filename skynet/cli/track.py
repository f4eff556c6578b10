"""``skynet track`` and ``skynet route``: a target's timeline and escape route from one sighting."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from skynet._route_shape import Route, Stretch
from skynet.audit import Purpose
from skynet.cli._common import (
    DbOption,
    OutputFormat,
    SiteOption,
    print_json,
    site_database,
    stderr,
    stdout,
)
from skynet.errors import BadInputError
from skynet.investigate import (
    DEFAULT_HORIZON_S,
    Investigation,
    TargetResult,
    check_window,
    follow_target,
)
from skynet.times import format_time, parse_time

SeedOption = Annotated[
    str, typer.Option("--seed", help="Id of the sighting to start from (see 'skynet sightings').")
]
CaseOption = Annotated[
    str, typer.Option("--case", help="The case this query serves (required, audited).")
]
ReasonOption = Annotated[
    str, typer.Option("--reason", help="Why the target is followed (required, audited).")
]
SinceOption = Annotated[
    str | None, typer.Option("--since", help="Ignore sightings before this ISO 8601 time.")
]
UntilOption = Annotated[
    str | None, typer.Option("--until", help="Ignore sightings after this ISO 8601 time.")
]
OutOption = Annotated[
    Path | None, typer.Option("--out", help="Write the result as GeoJSON to this file.")
]
OffsetOption = Annotated[
    float, typer.Option("--utc-offset", help="Print times at this UTC offset (hours).")
]
BeamOption = Annotated[int, typer.Option("--beam", min=1, help="Chains kept by the search.")]
HorizonOption = Annotated[
    float,
    typer.Option(
        "--horizon",
        min=1.0,
        help="Longest free-flow trip (s) between two sightings linked directly; "
        "shorter in a dense city, where cameras are a block apart.",
    ),
]


def track(
    seed: SeedOption,
    case: CaseOption,
    reason: ReasonOption,
    since: SinceOption = None,
    until: UntilOption = None,
    out: OutOption = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table, json or geojson on stdout.")
    ] = OutputFormat.table,
    utc_offset: OffsetOption = 0.0,
    beam: BeamOption = 4,
    horizon: HorizonOption = DEFAULT_HORIZON_S,
    db: DbOption = None,
    site: SiteOption = None,
) -> None:
    """Follow a vehicle forward and back in time from one sighting: its timeline.

    Each linked sighting comes with the probability of the link that reached
    it; each end of the timeline says why it stops there. The query is
    audited under its case and reason, and the target is kept with the case.

    Example: skynet track --seed 3f2a9c0e1b7d4a55 --case HR-0314 --reason "hit-and-run, 2 injured"
    """
    db = site_database(db, site)
    world, result = _run(seed, case, reason, (since, until), beam, horizon, db, with_route=False)
    document = world.timeline_geojson(result.timeline)
    if output is OutputFormat.table:
        _print_timeline(result, utc_offset)
    elif output is OutputFormat.geojson:
        print_json(document)
    else:
        print_json(timeline_json(result))
    _write(out, document)


def route(
    seed: SeedOption,
    case: CaseOption,
    reason: ReasonOption,
    since: SinceOption = None,
    until: UntilOption = None,
    out: OutOption = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table, json or geojson on stdout.")
    ] = OutputFormat.table,
    utc_offset: OffsetOption = 0.0,
    beam: BeamOption = 4,
    horizon: HorizonOption = DEFAULT_HORIZON_S,
    db: DbOption = None,
    site: SiteOption = None,
) -> None:
    """Reconstruct the road route of a vehicle from one sighting, with ranked alternatives.

    The timeline is followed first (as 'skynet track' does); between its
    sightings the road path is chosen among those the time gap allows,
    weighing what the cameras on each saw (a silent online camera makes a
    path less likely). Stretches are 'observed' (a camera saw the target),
    'inferred' (unwatched, or watched by cameras that saw nothing) or 'gap'
    (no road path fits the time).

    Example: skynet route --seed 3f2a9c0e1b7d4a55 --case HR-0314 --reason "hit-and-run, fled"
    --out escape.geojson
    """
    db = site_database(db, site)
    _, result = _run(seed, case, reason, (since, until), beam, horizon, db, with_route=True)
    assert result.route is not None
    document = result.route.as_geojson()
    if output is OutputFormat.table:
        _print_route(result, result.route, utc_offset)
    elif output is OutputFormat.geojson:
        print_json(document)
    else:
        print_json(route_json(result, result.route))
    _write(out, document)


def _run(
    seed: str,
    case: str,
    reason: str,
    window: tuple[str | None, str | None],
    beam: int,
    horizon_s: float,
    db: str | None,
    *,
    with_route: bool,
) -> tuple[Investigation, TargetResult]:
    purpose = Purpose(case, reason)  # checked before anything is loaded
    since, until = window
    since_s = parse_time(since, "--since") if since else -math.inf
    until_s = parse_time(until, "--until") if until else math.inf
    check_window(since_s, until_s)
    with stderr.status("loading cameras, roads and sightings") as status:
        investigation = Investigation.open(
            db,
            horizon_s=horizon_s,
            on_step=lambda step: status.update(step) if stderr.is_terminal else None,
        )
        status.update("following the target")
        return investigation, follow_target(
            investigation,
            purpose,
            seed,
            with_route=with_route,
            since_s=since_s,
            until_s=until_s,
            beam=beam,
        )


def _write(out: Path | None, document: dict[str, Any]) -> None:
    if out is None:
        return
    try:
        out.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    except OSError as exc:
        raise BadInputError(f"cannot write {out}: {exc.strerror}", field="--out") from None
    stderr.print(f"GeoJSON → {out}")


# ------------------------------------------------------------------ documents
def timeline_json(result: TargetResult) -> dict[str, Any]:
    """The timeline as plain JSON (times in UTC seconds)."""
    timeline = result.timeline
    return {
        "target_id": result.target_id,
        "audit_id": result.audit_id,
        "seed_id": timeline.seed_id,
        "sightings": [
            {
                "id": e.sighting.id,
                "camera_id": e.sighting.camera_id,
                "t_in": e.sighting.t_in,
                "t_out": e.sighting.t_out,
                "class": e.sighting.vehicle_class,
                "link_probability": e.link_probability,
            }
            for e in timeline.entries
        ],
        "start": {"reason": timeline.start.reason, "detail": timeline.start.detail},
        "end": {"reason": timeline.end.reason, "detail": timeline.end.detail},
    }


def route_json(result: TargetResult, route: Route) -> dict[str, Any]:
    """The route as plain JSON: totals, stretches and alternatives."""
    return {
        "target_id": result.target_id,
        "audit_id": result.audit_id,
        "length_m": route.length_m,
        "probability": route.probability,
        "stretches": [
            {
                "kind": s.kind,
                "start_s": s.start_s,
                "end_s": s.end_s,
                "camera_id": s.camera_id,
                "sighting_id": s.sighting_id,
                "edges": list(s.edges),
                "silent_cameras": list(s.silent_cameras),
                "offline_cameras": list(s.offline_cameras),
                "probability": s.probability,
                "length_m": s.length_m,
                "note": s.note,
            }
            for s in route.stretches
        ],
        "alternatives": [
            {"length_m": alt.length_m, "probability": alt.probability} for alt in route.alternatives
        ],
        "skipped": [list(item) for item in route.skipped],
    }


# ------------------------------------------------------------------ printing
def _print_timeline(result: TargetResult, utc_offset: float) -> None:
    timeline = result.timeline
    entries = timeline.entries
    first, last = entries[0].sighting, entries[-1].sighting
    cameras = len({e.sighting.camera_id for e in entries})
    minutes = (last.t_out - first.t_in) / 60.0
    stdout.print(
        f"[bold]Target {result.target_id}[/bold]: {len(entries)} sightings at {cameras} cameras "
        f"over {minutes:.0f} min (audit #{result.audit_id})"
    )
    table = Table()
    for column in ("#", "time", "camera", "class", "link p", "after", "sighting"):
        table.add_column(column, justify="right" if column in ("#", "link p", "after") else "left")
    previous = None
    for number, entry in enumerate(entries, 1):
        s = entry.sighting
        p = entry.link_probability
        mark = " (seed)" if s.id == timeline.seed_id else ""
        table.add_row(
            str(number),
            format_time(s.t_in, utc_offset)[:19] + mark,
            s.camera_id,
            s.vehicle_class,
            "" if p is None else f"{p:.2f}",
            "" if previous is None else _duration(s.t_in - previous.t_out),
            s.id,
        )
        previous = s
    stdout.print(table)
    stdout.print(f"before the first: {timeline.start.reason} — {timeline.start.detail}")
    stdout.print(f"after the last: {timeline.end.reason} — {timeline.end.detail}")


def _print_route(result: TargetResult, route: Route, utc_offset: float) -> None:
    kinds = [s.kind for s in route.stretches]
    between = sum(s.length_m or 0.0 for s in route.stretches)
    stdout.print(
        f"[bold]Route of target {result.target_id}[/bold]: {route.length_m / 1000:.2f} km, "
        f"probability {route.probability:.2f}; {kinds.count('observed')} sightings, "
        f"{kinds.count('inferred')} stretches between them inferred ({between / 1000:.2f} km), "
        f"{kinds.count('gap')} gaps (audit #{result.audit_id})"
    )
    table = Table()
    for column in ("#", "kind", "from", "to", "camera / evidence", "km", "p"):
        table.add_column(column, justify="right" if column in ("#", "km", "p") else "left")
    for number, stretch in enumerate(route.stretches, 1):
        length = stretch.length_m
        table.add_row(
            str(number),
            stretch.kind,
            format_time(stretch.start_s, utc_offset)[11:19],
            format_time(stretch.end_s, utc_offset)[11:19],
            _evidence(stretch),
            "" if length is None else f"{length / 1000:.2f}",
            "" if stretch.kind == "observed" else f"{stretch.probability:.2f}",
        )
    stdout.print(table)
    print_alternatives(route)
    for sighting_id, why in route.skipped:
        stdout.print(f"left out: sighting {sighting_id} — {why}")


def print_alternatives(route: Route) -> None:
    """The ranked alternatives of a route, or why there are none."""
    if not route.alternatives:
        stdout.print("alternatives: none (no other road path fits the observed times)")
    for rank, alternative in enumerate(route.alternatives, 1):
        stdout.print(
            f"alternative {rank}: {alternative.length_m / 1000:.2f} km, "
            f"probability {alternative.probability:.2f}"
        )


def _evidence(stretch: Stretch) -> str:
    """Who saw this stretch, or who was watching it and saw nothing."""
    if stretch.kind == "observed":
        return stretch.camera_id or ""
    parts = []
    if stretch.matched:
        parts.append("seen by " + ", ".join(c for c, _, _ in stretch.matched))
    if stretch.silent_cameras:
        parts.append("silent: " + ", ".join(stretch.silent_cameras))
    if stretch.offline_cameras:
        parts.append("offline: " + ", ".join(stretch.offline_cameras))
    if stretch.note:
        parts.append(stretch.note)
    return "; ".join(parts) or "unwatched"


def _duration(seconds: float) -> str:
    """1m22s, 17m05s, 1h02m: a gap at a glance."""
    seconds = max(seconds, 0.0)
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
