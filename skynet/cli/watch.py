"""``skynet watch``: alert the moment a target reappears (add, list, remove, run)."""

from __future__ import annotations

import dataclasses
import time
from typing import Annotated, Any

import typer
from rich.table import Table

from camera_registry.registry import CameraRegistry
from camera_registry.store import RegistryStore
from skynet.audit import AuditLog, Purpose
from skynet.cases import CaseStore
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
from skynet.cli.cameras import parse_bbox
from skynet.cli.track import CaseOption, OffsetOption, ReasonOption
from skynet.errors import NotFoundError
from skynet.events import EventBus
from skynet.ingest import ingest, plan_jobs, stored_watched_edges
from skynet.review import case_target
from skynet.store import SightingStore
from skynet.times import format_time, parse_time
from skynet.watch import (
    DEFAULT_THRESHOLD,
    Alert,
    Watch,
    WatchStore,
    alert_on_new_sightings,
    check_area,
    watch_for_target,
)

app = typer.Typer(help="Watches: alert when a target reappears.", no_args_is_help=True)


@app.command("add")
def add(
    target: Annotated[str, typer.Option("--target", help="Target id to watch for.")],
    case: CaseOption,
    reason: ReasonOption,
    area: Annotated[
        str | None, typer.Option("--area", help="W,S,E,N in degrees: only cameras inside.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="ISO 8601 end (default: a day on).")
    ] = None,
    threshold: Annotated[
        float, typer.Option("--threshold", help="Least appearance similarity that fires.")
    ] = DEFAULT_THRESHOLD,
    db: DbOption = None,
    site: SiteOption = None,
) -> None:
    """Watch for a stored target: its look, class and last place, from now on.

    Example: skynet watch add --target 54be745e5cfc2db3 --case HR-0314 --reason "fled"
    --area 118.95,25.38,119.10,25.50
    """
    db = site_database(db, site)
    purpose = Purpose(case, reason)
    box = parse_bbox(area) if area else None
    if box is not None:
        check_area(box, RegistryStore(db).load())
    store = SightingStore(db)
    cases = CaseStore(store.engine)
    stored = case_target(cases, purpose, target)
    sightings = store.find(ids=[i for i, _ in stored.sightings])
    watch = watch_for_target(
        purpose.case_id,
        purpose.reason,
        sightings,
        end_s=parse_time(until, "--until") if until else None,
        threshold=threshold,
        area=box,
    )
    AuditLog(store.engine).record(purpose, "watch", target, detail={"watch_id": watch.id})
    WatchStore(store.engine).add(watch)
    stdout.print(
        f"watch {watch.id}: {watch.vehicle_class} like target {target}, from "
        f"{watch.origin_camera} {format_time(watch.start_s, timespec='seconds')} to "
        f"{format_time(watch.end_s, timespec='seconds')}, fires at {threshold:.2f}"
    )


@app.command("list")
def list_(
    output: TableJsonOption = OutputFormat.table,
    utc_offset: OffsetOption = 0.0,
    db: DbOption = None,
    site: SiteOption = None,
) -> None:
    """The watches kept, oldest first.

    Example: skynet watch list --format json
    """
    db = site_database(db, site)
    watches = WatchStore(db).all()
    if output is not OutputFormat.table:
        print_json([_watch_json(w) for w in watches])
        return
    table = Table()
    for column in ("id", "case", "class", "from", "until", "threshold", "area"):
        table.add_column(column)
    for w in watches:
        table.add_row(
            w.id,
            w.case_id,
            w.vehicle_class,
            format_time(w.start_s, utc_offset, timespec="seconds"),
            format_time(w.end_s, utc_offset, timespec="seconds"),
            f"{w.threshold:.2f}",
            ",".join(f"{v:g}" for v in w.area) if w.area else "anywhere",
        )
    stdout.print(table)


@app.command("remove")
def remove(
    key: Annotated[str, typer.Argument(help="Watch id (see 'skynet watch list').")],
    case: CaseOption,
    reason: ReasonOption,
    db: DbOption = None,
    site: SiteOption = None,
) -> None:
    """Stop a watch (audited).

    Example: skynet watch remove 9c1e2f3a4b5d6e7f --case HR-0314 --reason "vehicle found"
    """
    db = site_database(db, site)
    purpose = Purpose(case, reason)
    store = WatchStore(db)
    if key not in {w.id for w in store.all()}:
        raise NotFoundError(f"no watch {key!r}")
    AuditLog(store.engine).record(purpose, "unwatch", key)
    store.remove(key)
    stdout.print(f"watch {key} removed")


@app.command("run")
def run(
    path: Annotated[str, typer.Argument(help="Footage to ingest: a clip, folder or manifest.")],
    workers: Annotated[int | None, typer.Option("--workers", min=1)] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table: a line per alert; json lines.")
    ] = OutputFormat.table,
    utc_offset: OffsetOption = 0.0,
    db: DbOption = None,
    site: SiteOption = None,
) -> None:
    """Ingest footage and print an alert whenever a new sighting fits a watch.

    Example: skynet watch run hit-and-run/footage --db case.db
    """
    db = site_database(db, site)
    registry = RegistryStore(db).load()
    watches = WatchStore(db)
    bus = EventBus()
    alerts: list[Alert] = []

    def show(_: str, alert: Alert) -> None:
        alerts.append(alert)
        if output is OutputFormat.table:
            stdout.print(
                f"ALERT watch {alert.watch_id} (case {alert.case_id}): sighting "
                f"{alert.sighting_id} at {alert.camera_id} "
                f"{format_time(alert.t_in, utc_offset, timespec='seconds')}: {alert.reason}"
            )
        else:
            print_json(dataclasses.asdict(alert))

    bus.subscribe("alert", show)
    free_flow, horizon = _free_flow(db, registry)
    alert_on_new_sightings(bus, watches, registry, free_flow, horizon)
    began = time.perf_counter()
    jobs = plan_jobs(path, None, None)
    outcomes = ingest(jobs, db, workers=workers, watched_edges=stored_watched_edges(db), events=bus)
    failed = [o for o in outcomes if not o.ok]
    stderr.print(
        f"{len(outcomes)} clips, {sum(o.added for o in outcomes)} new sightings, "
        f"{len(alerts)} alerts, {len(failed)} failed in {time.perf_counter() - began:.1f} s"
    )
    for outcome in failed:
        stderr.print(f"  failed: {outcome.job.source}: {outcome.error}", markup=False)


def _free_flow(db: str | None, registry: CameraRegistry) -> tuple[Any, float]:
    """Free-flow seconds between cameras (and their horizon) when the database has roads."""
    from skynet.frontier import FrontierModel
    from skynet.investigate import DEFAULT_HORIZON_S
    from skynet.roads import RoadStore
    from skynet.roads.cameras import attach_cameras

    try:
        network = RoadStore(db).load()
    except NotFoundError:
        stderr.print("no road network: alerts are not checked for reachability")
        return None, float("inf")
    model = FrontierModel(network, registry, attach_cameras(network, registry), DEFAULT_HORIZON_S)
    return model.free_flow_from, model.horizon_s


def _watch_json(w: Watch) -> dict[str, Any]:
    return {
        "id": w.id,
        "case_id": w.case_id,
        "vehicle_class": w.vehicle_class,
        "start_s": w.start_s,
        "end_s": w.end_s,
        "threshold": w.threshold,
        "area": list(w.area) if w.area else None,
        "origin_camera": w.origin_camera,
        "origin_s": w.origin_s,
    }
