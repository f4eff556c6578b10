"""``skynet demo``: the first thing a new user runs, on the bundled sample data."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from camera_registry import RegistryStore, SiteCRS, read_cameras
from camera_registry.summary import RegistrySummary, summarise
from skynet.cli._common import DbOption, progress, stderr, stdout
from skynet.sample_data import sample_registry_path


def demo(
    db: DbOption = None,
    registry_file: Annotated[
        Path | None,
        typer.Option("--registry", help="Camera file to use instead of the bundled sample."),
    ] = None,
) -> None:
    """Load the bundled sample camera registry and print its summary and coverage.

    Runs on a throw-away SQLite database unless --db names one.

    Example: skynet demo
    """
    source = registry_file or sample_registry_path()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="skynet-demo-") as scratch:
        url = db or str(Path(scratch) / "demo.db")
        with progress() as bar:
            task = bar.add_task("sample registry", total=4)
            loaded = read_cameras(source)
            bar.update(task, advance=1, description="importing")
            site = SiteCRS.from_user_input(loaded.working_crs) if loaded.working_crs else None
            store = RegistryStore(url)
            store.import_cameras(loaded.cameras, site)
            bar.update(task, advance=1, description="loading")
            registry = store.load()
            bar.update(task, advance=1, description="coverage")
            summary = summarise(registry)
            bar.update(task, advance=1, description="done")
            store.engine.dispose()
    _print_summary(summary, source, time.perf_counter() - started)


def _print_summary(summary: RegistrySummary, source: Path, seconds: float) -> None:
    stdout.print(f"[bold]Skynet demo[/bold] — camera registry from {source}")
    west, south, east, north = summary.bbox
    stdout.print(
        f"{summary.cameras} cameras, working CRS {summary.working_crs}, "
        f"extent {summary.extent_km[0]:.1f} × {summary.extent_km[1]:.1f} km "
        f"(lon {west:.4f}…{east:.4f}, lat {south:.4f}…{north:.4f}); "
        f"{summary.with_homography} calibrated (homography)"
    )
    kinds = ", ".join(f"{n} {k}" for k, n in summary.by_kind.items())
    states = ", ".join(f"{n} {s}" for s, n in summary.by_status.items())
    stdout.print(f"kinds: {kinds}; status: {states} ({summary.online_share:.0%} online)")
    table = Table(title="Coverage by area")
    for column in ("area", "cameras", "online", "watched ground m²"):
        table.add_column(column, justify="right" if column != "area" else "left")
    for area in summary.areas:
        table.add_row(area.area, str(area.cameras), str(area.online), f"{area.watched_m2:,.0f}")
    table.add_row(
        "[bold]all[/bold]",
        str(summary.cameras),
        str(summary.by_status.get("online", 0)),
        f"{summary.watched_m2:,.0f}",
    )
    stdout.print(table)
    lost = summary.watched_m2 - summary.watched_online_m2
    stdout.print(
        f"watched ground: {summary.watched_m2:,.0f} m² in all, {summary.watched_online_m2:,.0f} m² "
        f"by online cameras ({lost:,.0f} m² blind while offline/unknown cameras stay down)"
    )
    stderr.print(f"demo finished in {seconds:.1f} s")
