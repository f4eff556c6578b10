"""``skynet demo``: the bundled hit-and-run investigation, end to end, in about a minute."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import TaskID
from rich.table import Table

from skynet.cli._common import OutputFormat, TableJsonOption, print_json, progress, stderr, stdout
from skynet.cli.track import print_alternatives
from skynet.demo import DemoRun, default_cache, run_demo
from skynet.demo_outputs import (
    accuracy_facts,
    prepare_out,
    summary_facts,
    window_text,
    write_outputs,
)
from skynet.sample_data import sample_scenario_spec
from skynet.times import format_time

_STAGES = {"render": "rendering footage (frames)", "ingest": "ingesting clips"}


def demo(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for route.geojson, route.png and report.html.")
    ] = Path("skynet-demo"),
    cache: Annotated[
        Path | None,
        typer.Option(
            "--cache",
            help="Footage and store kept between runs (default: the user data folder's demo/).",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", min=1, help="Processes rendering and ingesting (default: cores)."
        ),
    ] = None,
    cameras: Annotated[
        int | None,
        typer.Option(
            "--cameras",
            min=2,
            help="Only the first N (>= 2) cameras that saw the escape (a quick, partial run).",
        ),
    ] = None,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Ingest again into a new store (footage is kept).")
    ] = False,
    output: TableJsonOption = OutputFormat.table,
) -> None:
    """Investigate the bundled night hit-and-run: 170 cameras, a 21.9 km escape.

    Renders every online camera's footage (cached), ingests it in parallel,
    seeds from the crash-scene camera's first sighting after the crash,
    follows the three-wheeler, reconstructs its route with alternatives,
    ranks the cameras to open next and scores it all against the ground
    truth. Writes route.geojson (opens in QGIS), route.png and report.html.

    Example: skynet demo --out ./skynet-demo
    """
    started = time.perf_counter()
    prepare_out(out)  # a folder that cannot be written fails now, not after the run
    with progress() as bar:
        tasks: dict[str, TaskID] = {}

        def advance(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(_STAGES.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        run = run_demo(
            sample_scenario_spec(),
            cache or default_cache(),
            workers=workers,
            cameras=cameras,
            fresh=fresh,
            on_progress=advance,
        )
    with stderr.status("writing the map and the report"):
        paths = write_outputs(run, out)
    seconds = time.perf_counter() - started
    if output is OutputFormat.table:
        _print(run, paths, seconds)
    else:
        print_json(_as_json(run, paths, seconds))


def _print(run: DemoRun, paths: dict[str, Path], seconds: float) -> None:
    route = run.result.route
    assert route is not None
    offset = run.utc_offset_h
    stdout.print(f"[bold]Skynet demo — {run.scenario.spec.description}[/bold]")
    stdout.print(
        f"footage: {run.clips} clips, {run.frames:,} frames from "
        f"{run.recorded_cameras} cameras; "
        f"{run.sightings_added:,} new sightings stored"
    )
    for name, value in summary_facts(run):
        stdout.print(f"  {name}: {value}")
    table = Table(title="Where the target was seen")
    for column in ("#", "time", "camera", "class", "link p"):
        table.add_column(column, justify="right" if column in ("#", "link p") else "left")
    for number, entry in enumerate(run.result.timeline.entries, 1):
        p = entry.link_probability
        table.add_row(
            str(number),
            format_time(entry.sighting.t_in, offset)[11:19],
            entry.sighting.camera_id,
            entry.sighting.vehicle_class,
            "seed" if p is None else f"{p:.2f}",
        )
    stdout.print(table)
    print_alternatives(route)
    if run.next_cameras:
        stdout.print("[bold]Cameras to open next[/bold] (after the last sighting):")
    for camera in run.next_cameras[:5]:
        stdout.print(
            f"  {camera.camera_id:<10} {window_text(camera, offset)}  {camera.share:>4.0%}  "
            f"{camera.reason}"
        )
    stdout.print("[bold]Accuracy against the ground truth[/bold]")
    for name, value in accuracy_facts(run):
        stdout.print(f"  {name}: {value}")
    for kind, path in paths.items():
        stdout.print(f"{kind}: {path}")
    t = run.timings
    stderr.print(
        f"demo finished in {seconds:.1f} s (render {t['render_s']:.1f} s, ingest "
        f"{t['ingest_s']:.1f} s, seed → route {t['query_s']:.2f} s)"
    )


def _as_json(run: DemoRun, paths: dict[str, Path], seconds: float) -> dict[str, Any]:
    route = run.result.route
    assert route is not None
    a = run.accuracy
    return {
        "seed_id": run.seed.id,
        "target_id": run.result.target_id,
        "audit_id": run.result.audit_id,
        "route_length_m": route.length_m,
        "route_probability": route.probability,
        "sightings": [
            {
                "id": e.sighting.id,
                "camera_id": e.sighting.camera_id,
                "t_in": format_time(e.sighting.t_in, run.utc_offset_h),
                "link_probability": e.link_probability,
            }
            for e in run.result.timeline.entries
        ],
        "alternatives": [
            {"length_m": alt.length_m, "probability": alt.probability} for alt in route.alternatives
        ],
        "searched_share": run.searched_share,
        "next_cameras": [
            {
                "camera_id": c.camera_id,
                "window_start": format_time(c.window_start_s, run.utc_offset_h),
                "window_end": format_time(c.window_end_s, run.utc_offset_h),
                "share": c.share,
                "reason": c.reason,
            }
            for c in run.next_cameras
        ],
        "accuracy": {
            "edge_f1": a.edge_f1,
            "length_error": a.length_error,
            "cameras_saw": a.cameras_saw,
            "cameras_linked": a.cameras_linked,
            "wrong_sightings": a.wrong_sightings,
            "lookalikes_linked": a.lookalikes_linked,
        },
        "outputs": {kind: str(path) for kind, path in paths.items()},
        "timings_s": {**run.timings, "total_s": seconds},
    }
