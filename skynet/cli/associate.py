"""``skynet associate``: every sighting of a time span linked into vehicle tracks at once."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from skynet.associate import LINK_THRESHOLD, AssociationRun, associate_window
from skynet.audit import Purpose
from skynet.cli._common import (
    DbOption,
    OutputFormat,
    SiteOption,
    TableJsonOption,
    print_json,
    progress,
    site_database,
    stderr,
    stdout,
)
from skynet.cli.track import CaseOption, HorizonOption, OffsetOption, ReasonOption
from skynet.investigate import DEFAULT_HORIZON_S, Investigation, check_window
from skynet.times import format_time, parse_time

#: Tracks listed in the table (the longest); ``--format json`` gives them all.
SHOWN = 15


def associate_command(
    since: Annotated[str, typer.Option("--from", help="Start of the span (ISO 8601).")],
    until: Annotated[str, typer.Option("--to", help="End of the span (ISO 8601).")],
    case: CaseOption,
    reason: ReasonOption,
    threshold: Annotated[
        float,
        typer.Option(
            "--threshold",
            min=0.001,
            max=0.999,
            help="Least two-sided link probability a track is joined at.",
        ),
    ] = LINK_THRESHOLD,
    least: Annotated[
        int, typer.Option("--least", min=1, help="Fewest sightings of a track kept as a target.")
    ] = 2,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Scoring processes (default: one per CPU)."),
    ] = None,
    output: TableJsonOption = OutputFormat.table,
    utc_offset: OffsetOption = 0.0,
    horizon: HorizonOption = DEFAULT_HORIZON_S,
    db: DbOption = None,
    site: SiteOption = None,
) -> None:
    """Link every sighting between --from and --to into vehicle tracks, all at once.

    Each sighting's candidates are scored from both ends with the calibrated
    link model, then one global assignment keeps the links that pay (at most
    one before and one after each sighting). Tracks of at least --least
    sightings are kept as the case's targets (re-running replaces them);
    the query is audited under its case and reason.

    Example: skynet associate --from 2026-03-14T21:00+08:00 --to 2026-03-14T22:00+08:00
    --case HR-0314 --reason "all vehicles near the crash, 21-22h"
    """
    db = site_database(db, site)
    if output is OutputFormat.geojson:
        raise typer.BadParameter("associate prints table or json", param_hint="--format")
    purpose = Purpose(case, reason)  # checked before anything is loaded
    since_s, until_s = parse_time(since, "--from"), parse_time(until, "--to")
    check_window(since_s, until_s)
    with stderr.status("loading cameras, roads and sightings"):
        investigation = Investigation.open(db, horizon_s=horizon)
    with progress() as bar:
        task = bar.add_task("scoring links", total=None)
        run = associate_window(
            investigation,
            purpose,
            since_s,
            until_s,
            threshold=threshold,
            workers=workers,
            least=least,
            on_progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if output is OutputFormat.json:
        print_json(association_json(run))
    else:
        _print(run, utc_offset)


def association_json(run: AssociationRun) -> dict[str, Any]:
    """The association as plain JSON: its targets, each with its sightings (UTC seconds)."""
    result = run.association
    targets: list[dict[str, Any]] = []
    for key, timeline in zip(run.target_ids, run.timelines, strict=True):
        targets.append(
            {
                "target_id": key,
                "sightings": [
                    {
                        "id": e.sighting.id,
                        "camera_id": e.sighting.camera_id,
                        "t_in": e.sighting.t_in,
                        "class": e.sighting.vehicle_class,
                        "link_probability": e.link_probability,
                    }
                    for e in timeline.entries
                ],
            }
        )
    return {
        "audit_id": run.audit_id,
        "sightings": len(result.sightings),
        "tracks": result.n_tracks,
        "candidate_links": result.candidates,
        "targets": targets,
    }


def _print(run: AssociationRun, offset: float) -> None:
    result = run.association
    timelines = run.timelines
    single = result.n_tracks - len(timelines)
    stdout.print(
        f"{len(result.sightings)} sightings → {result.n_tracks} tracks "
        f"({len(timelines)} kept as targets, {single} shorter); "
        f"audit #{run.audit_id}"
    )
    table = Table(title=f"longest tracks (of {len(timelines)})")
    for column in ("target", "sightings", "class", "first seen", "last seen", "cameras", "least p"):
        table.add_column(column)
    ranked = sorted(zip(run.target_ids, timelines, strict=True), key=lambda t: -len(t[1].entries))
    for key, timeline in ranked[:SHOWN]:
        entries = timeline.entries
        probabilities = [e.link_probability for e in entries if e.link_probability is not None]
        classes = {e.sighting.vehicle_class for e in entries} - {"vehicle"}
        cameras = [e.sighting.camera_id for e in entries]
        route = " → ".join(cameras if len(cameras) <= 4 else [*cameras[:2], "…", cameras[-1]])
        table.add_row(
            key,
            str(len(entries)),
            ", ".join(sorted(classes)) or "vehicle",
            format_time(entries[0].sighting.t_in, offset, timespec="seconds"),
            format_time(entries[-1].sighting.t_out, offset, timespec="seconds"),
            route,
            f"{min(probabilities):.2f}" if probabilities else "—",
        )
    stdout.print(table)
