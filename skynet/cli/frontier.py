"""``skynet frontier``: which cameras to open next for a target, and which minutes on each."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.table import Table

from skynet.audit import Purpose
from skynet.cli._common import (
    DbOption,
    OutputFormat,
    SiteOption,
    TableJsonOption,
    print_json,
    site_database,
    stderr,
    stdout,
)
from skynet.cli.track import CaseOption, OffsetOption, ReasonOption
from skynet.errors import BadInputError
from skynet.investigate import Investigation
from skynet.review import FrontierResult, extend_target, next_cameras, record_reviews
from skynet.times import format_time, parse_time


def frontier_command(
    target: Annotated[
        str, typer.Option("--target", help="Target id (printed by 'skynet track' / 'route').")
    ],
    case: CaseOption,
    reason: ReasonOption,
    reviewed: Annotated[
        str | None,
        typer.Option(
            "--reviewed",
            help="CAM,CAM,...: cameras opened whose footage up to --now showed no target.",
        ),
    ] = None,
    found: Annotated[
        str | None,
        typer.Option("--found", help="A sighting id where an opened camera showed the target."),
    ] = None,
    now: Annotated[
        str | None,
        typer.Option("--now", help="ISO 8601 time the footage is searched up to (default: now)."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Cameras listed.")] = 10,
    output: TableJsonOption = OutputFormat.table,
    utc_offset: OffsetOption = 0.0,
    db: DbOption = None,
    site: SiteOption = None,
) -> None:
    """Rank the cameras most likely to show the target next, with the minutes to open.

    Ranked from the target's latest sighting: every camera it could reach in
    time, nearer first, weighed down by each reviewed camera on the way that
    saw nothing. Cameras the target's sightings already imply (every route
    that fits between two of them passes the camera) are listed as passed
    for certain: no need to open them. "Open first" names the camera that
    settles the most of the trail per opening: often the next one, sometimes
    the far end of a stretch the target must pass (a find there settles the
    cameras before it). Mark what you opened with --reviewed (nothing there) or
    --found (the sighting you found: it is followed and merged into the
    target, and its route reconstructed again); the list updates. Audited
    under --case and --reason.

    Example: skynet frontier --target 54be745e5cfc2db3 --case HR-0314 --reason "hit-and-run"
    --reviewed V10-L6,V10-L3 --now 2026-03-14T21:50:00+08:00
    """
    db = site_database(db, site)
    purpose = Purpose(case, reason)
    now_s = parse_time(now, "--now") if now else time.time()
    cameras = [c.strip() for c in reviewed.split(",") if c.strip()] if reviewed else []
    if reviewed is not None and not cameras:
        raise BadInputError("--reviewed names no camera", field="--reviewed")
    with stderr.status("loading cameras, roads and sightings"):
        investigation = Investigation.open(db)
    if found:
        extended = extend_target(investigation, purpose, target, found)
        entries = extended.timeline.entries
        stderr.print(f"target {target}: {len(entries)} sightings after adding {found}")
    if cameras:
        record_reviews(investigation, purpose, target, cameras, now_s)
    result = next_cameras(investigation, purpose, target, now_s=now_s, limit=limit)
    if output is OutputFormat.table:
        _print(result, utc_offset)
    else:
        print_json(frontier_json(result))


def frontier_json(result: FrontierResult) -> dict[str, Any]:
    """The frontier as plain JSON (times in UTC seconds)."""
    return {
        "target_id": result.target_id,
        "audit_id": result.audit_id,
        "last_sighting": {
            "id": result.last.id,
            "camera_id": result.last.camera_id,
            "t_out": result.last.t_out,
        },
        "reviewed_cameras": result.reviewed,
        "implied_cameras": [
            {"camera_id": i.camera_id, "between": [i.after_id, i.before_id]} for i in result.implied
        ],
        "open_first": None
        if result.open_first is None
        else {
            "camera_id": result.open_first.camera_id,
            "window_start_s": result.open_first.window_start_s,
            "window_end_s": result.open_first.window_end_s,
            "chance": result.open_first.chance,
            "settles": list(result.open_first.settles),
        },
        "cameras": [
            {
                "camera_id": c.camera_id,
                "status": c.status,
                "window_start_s": c.window_start_s,
                "window_end_s": c.window_end_s,
                "free_flow_s": c.free_flow_s,
                "share": c.share,
                "reason": c.reason,
            }
            for c in result.cameras
        ],
    }


def _print(result: FrontierResult, utc_offset: float) -> None:
    last = result.last
    stdout.print(
        f"[bold]Target {result.target_id}[/bold]: last seen at {last.camera_id} "
        f"{format_time(last.t_out, utc_offset, timespec='seconds')}; "
        f"{result.reviewed} cameras reviewed (audit #{result.audit_id})"
    )
    if result.implied:
        names = ", ".join(dict.fromkeys(i.camera_id for i in result.implied))
        stdout.print(f"passed for certain between its sightings (no need to open): {names}")
    first = result.open_first
    if first is not None:
        also = f"; a find there also settles {', '.join(first.settles)}" if first.settles else ""
        stdout.print(
            f"open first: {first.camera_id} from "
            f"{format_time(first.window_start_s, utc_offset, timespec='seconds')} "
            f"({first.chance:.0%} likely to hold the target{also})"
        )
    if not result.cameras:
        stdout.print("no camera left to open within reach by --now")
        return
    table = Table()
    for column in ("#", "camera", "status", "open from", "to", "share", "why"):
        table.add_column(column, justify="right" if column in ("#", "share") else "left")
    for rank, camera in enumerate(result.cameras, 1):
        table.add_row(
            str(rank),
            camera.camera_id,
            camera.status,
            format_time(camera.window_start_s, utc_offset, timespec="seconds"),
            format_time(camera.window_end_s, utc_offset, timespec="seconds")[11:19],
            f"{camera.share:.0%}",
            camera.reason,
        )
    stdout.print(table)
