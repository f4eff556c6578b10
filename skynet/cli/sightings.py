"""``skynet sightings``: what the cameras saw, to pick the seed of a target query."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from skynet.cli._common import DbOption, OutputFormat, SiteOption, print_json, site_database, stdout
from skynet.errors import BadInputError
from skynet.store import SightingStore
from skynet.times import format_time, parse_time


def sightings(
    camera: Annotated[
        list[str] | None, typer.Option("--camera", help="Only these cameras (repeatable).")
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="From this ISO 8601 time.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Up to this ISO 8601 time.")] = None,
    vehicle_class: Annotated[
        str | None, typer.Option("--class", help="Only this class (e.g. three_wheeler).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Print at most this many.")] = 50,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table or json on stdout.")
    ] = OutputFormat.table,
    utc_offset: Annotated[
        float, typer.Option("--utc-offset", help="Print times at this UTC offset (hours).")
    ] = 0.0,
    db: DbOption = None,
    site: SiteOption = None,
) -> None:
    """List stored sightings in time order: the ids to start 'skynet track' from.

    Example: skynet sightings --camera P01-CRASH --since 2026-03-14T20:40:00+08:00 --db case.db
    """
    db = site_database(db, site)
    if output is OutputFormat.geojson:
        raise BadInputError("sightings print as a table or json", field="--format")
    start = parse_time(since, "--since") if since else None
    end = parse_time(until, "--until") if until else None
    if start is not None and end is not None and start >= end:
        raise BadInputError("the window is empty (--since is not before --until)", field="--since")
    found = SightingStore(db).find(camera_ids=camera or None, start_s=start, end_s=end)
    if vehicle_class:
        found = [s for s in found if s.vehicle_class == vehicle_class]
    shown = found[:limit]
    if output is OutputFormat.json:
        print_json(
            [
                {
                    "id": s.id,
                    "camera_id": s.camera_id,
                    "t_in": s.t_in,
                    "t_out": s.t_out,
                    "class": s.vehicle_class,
                    "heading_deg": s.heading_deg,
                    "speed_mps": s.speed_mps,
                    "quality": s.quality,
                }
                for s in shown
            ]
        )
        return
    table = Table()
    for column in ("time in", "camera", "class", "heading", "km/h", "sighting"):
        table.add_column(column, justify="right" if column in ("heading", "km/h") else "left")
    for s in shown:
        table.add_row(
            format_time(s.t_in, utc_offset)[:19],
            s.camera_id,
            s.vehicle_class,
            "" if s.heading_deg is None else f"{s.heading_deg:.0f}°",
            "" if s.speed_mps is None else f"{s.speed_mps * 3.6:.0f}",
            s.id,
        )
    stdout.print(table)
    more = len(found) - len(shown)
    stdout.print(f"{len(found)} sightings" + (f" ({more} more: raise --limit)" if more else ""))
