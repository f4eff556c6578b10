"""``skynet cameras``: import, list, show, export and summarise the camera registry."""

from __future__ import annotations

import dataclasses
import io
import math
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from camera_registry import Camera, CameraRegistry, RegistryStore, SiteCRS, read_cameras
from camera_registry.io import camera_feature, to_geojson, write_cameras, write_csv
from camera_registry.summary import summarise
from skynet.cli._common import (
    DbOption,
    FormatOption,
    OutputFormat,
    SiteOption,
    print_json,
    site_database,
    stderr,
    stdout,
)
from skynet.errors import BadInputError

app = typer.Typer(help="The georeferenced camera registry.", no_args_is_help=True)


def parse_numbers(text: str, count: int, option: str) -> list[float]:
    """``count`` comma-separated numbers, or a bad-input error naming the option."""
    parts = [p.strip() for p in text.split(",")]
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) != count:
        msg = f"{option} needs {count} comma-separated numbers, got {text!r}"
        raise BadInputError(msg, field=option)
    return numbers


def parse_lonlat(text: str, option: str) -> tuple[float, float]:
    """A ``LON,LAT`` pair in degrees, or a bad-input error naming the option."""
    lon, lat = parse_numbers(text, 2, option)
    check_lonlat(lon, lat, option)
    return lon, lat


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """A ``W,S,E,N`` box in degrees, or a bad-input error naming ``--bbox``."""
    west, south, east, north = parse_numbers(text, 4, "--bbox")
    check_lonlat(west, south, "--bbox")
    check_lonlat(east, north, "--bbox")
    return west, south, east, north


def check_lonlat(lon: float, lat: float, option: str) -> None:
    """Reject a longitude outside [-180, 180] or a latitude outside [-90, 90]."""
    if not -180.0 <= lon <= 180.0:
        msg = f"longitude {lon:g} is outside [-180, 180]"
        raise BadInputError(msg, field=option)
    if not -90.0 <= lat <= 90.0:
        msg = f"latitude {lat:g} is outside [-90, 90]"
        raise BadInputError(msg, field=option)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="GeoJSON FeatureCollection or CSV of cameras.")],
    file_format: Annotated[
        str | None, typer.Option("--input-format", help="geojson or csv (default: by suffix).")
    ] = None,
    crs: Annotated[
        str | None,
        typer.Option("--crs", help="Metric working CRS, e.g. EPSG:4547 (default: UTM zone)."),
    ] = None,
    db: DbOption = None,
    site: SiteOption = None,
) -> None:
    """Import cameras (all or nothing; cameras with a known id are replaced).

    Example: skynet cameras import sample_data/cameras.geojson --db town.db
    """
    db = site_database(db, site)
    spinner = stderr.status(f"importing {file}") if stderr.is_terminal else nullcontext()
    with spinner:
        loaded = read_cameras(file, file_format)
        named_crs = crs or loaded.working_crs
        working = SiteCRS.from_user_input(named_crs) if named_crs else None
        summary = RegistryStore(db).import_cameras(loaded.cameras, working)
    stderr.print(
        f"imported {len(loaded.cameras)} cameras from {file}: {summary.added} added, "
        f"{summary.updated} updated, {summary.unchanged} unchanged "
        f"(working CRS {summary.working_crs})"
    )


@app.command("list")
def list_(
    bbox: Annotated[
        str | None, typer.Option("--bbox", help="W,S,E,N in degrees (lon/lat).")
    ] = None,
    near: Annotated[str | None, typer.Option("--near", help="LON,LAT of a point.")] = None,
    radius: Annotated[
        float | None,
        typer.Option("--radius", help="Radius around --near, in metres (default: 500)."),
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Only this kind.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="Only this status.")] = None,
    output: FormatOption = OutputFormat.table,
    db: DbOption = None,
    site: SiteOption = None,
) -> None:
    """List cameras, optionally in a bbox or within a radius of a point.

    Example: skynet cameras list --near 119.007,25.454 --radius 800 --format json
    """
    db = site_database(db, site)
    if bbox is not None and near is not None:
        raise BadInputError("give either --bbox or --near, not both", field="bbox")
    if radius is not None and near is None:
        msg = "--radius needs --near (the point to measure from)"
        raise BadInputError(msg, field="--radius")
    if radius is not None and not 0.0 < radius < math.inf:
        msg = f"radius {radius:g} must be a positive number of metres"
        raise BadInputError(msg, field="--radius")
    box = parse_bbox(bbox) if bbox is not None else None
    point = parse_lonlat(near, "--near") if near is not None else None
    registry = RegistryStore(db).load()
    if box is not None:
        cameras = registry.in_bbox(*box)
    elif point is not None:
        cameras = registry.near(*point, 500.0 if radius is None else radius)
    else:
        cameras = list(registry)
    cameras = [
        c
        for c in cameras
        if (kind is None or c.kind == kind) and (status is None or c.status == status)
    ]
    _emit(cameras, registry, output)


@app.command("show")
def show(
    camera_id: Annotated[str, typer.Argument(help="The camera's id.")],
    output: FormatOption = OutputFormat.table,
    db: DbOption = None,
    site: SiteOption = None,
) -> None:
    """Show one camera's full record.

    Example: skynet cameras show J1-N
    """
    db = site_database(db, site)
    camera = RegistryStore(db).get(camera_id)
    if output is OutputFormat.table:
        table = Table(title=f"camera {camera.id}", show_header=False)
        for name, value in camera.as_dict().items():
            table.add_row(name, "" if value is None else str(value))
        stdout.print(table)
    else:
        print_json(camera_feature(camera) if output is OutputFormat.geojson else camera.as_dict())


@app.command("export")
def export(
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="File to write (default: stdout).")
    ] = None,
    file_format: Annotated[
        str | None,
        typer.Option("--format", "-f", help="geojson or csv (default: by suffix, else geojson)."),
    ] = None,
    db: DbOption = None,
    site: SiteOption = None,
) -> None:
    """Export the whole registry as GeoJSON or CSV (lossless; re-importable).

    Example: skynet cameras export --out cameras.csv
    """
    db = site_database(db, site)
    store = RegistryStore(db)
    registry = store.load()
    if out is not None:
        write_cameras(registry, out, file_format, working_crs=registry.crs.code)
        stderr.print(f"exported {len(registry)} cameras to {out}")
        return
    if (file_format or "geojson").lower() == "csv":
        buffer = io.StringIO()
        write_csv(registry, buffer)
        sys.stdout.write(buffer.getvalue())
    else:
        print_json(to_geojson(registry, working_crs=registry.crs.code))


def _emit(cameras: list[Camera], registry: CameraRegistry, output: OutputFormat) -> None:
    if output is OutputFormat.json:
        print_json([c.as_dict() for c in cameras])
    elif output is OutputFormat.geojson:
        print_json(to_geojson(cameras, working_crs=registry.crs.code))
    else:
        table = Table(title=f"{len(cameras)} of {len(registry)} cameras")
        for column in (
            "id",
            "name",
            "kind",
            "status",
            "lon",
            "lat",
            "heading",
            "fov",
            "range m",
            "area",
        ):
            table.add_column(column)
        for c in cameras:
            table.add_row(
                c.id,
                c.name,
                c.kind,
                c.status,
                f"{c.lon:.6f}",
                f"{c.lat:.6f}",
                f"{c.heading_deg:.0f}",
                f"{c.fov_deg:.0f}",
                f"{c.range_m:.0f}",
                c.area or "",
            )
        stdout.print(table)


@app.command("summary")
def summary(
    output: FormatOption = OutputFormat.table, db: DbOption = None, site: SiteOption = None
) -> None:
    """Counts by kind and status, extent, and watched ground per area.

    Example: skynet cameras summary --format json
    """
    db = site_database(db, site)
    figures = summarise(RegistryStore(db).load())
    if output is not OutputFormat.table:
        print_json(dataclasses.asdict(figures))
        return
    west, south, east, north = figures.bbox
    stdout.print(
        f"{figures.cameras} cameras, working CRS {figures.working_crs}, "
        f"extent {figures.extent_km[0]:.1f} × {figures.extent_km[1]:.1f} km "
        f"(lon {west:.4f}…{east:.4f}, lat {south:.4f}…{north:.4f}); "
        f"{figures.with_homography} calibrated (homography)"
    )
    kinds = ", ".join(f"{n} {k}" for k, n in figures.by_kind.items())
    states = ", ".join(f"{n} {s}" for s, n in figures.by_status.items())
    stdout.print(f"kinds: {kinds}; status: {states} ({figures.online_share:.0%} online)")
    table = Table(title="Coverage by area")
    for column in ("area", "cameras", "online", "watched ground m²"):
        table.add_column(column, justify="right" if column != "area" else "left")
    for area in figures.areas:
        table.add_row(area.area, str(area.cameras), str(area.online), f"{area.watched_m2:,.0f}")
    stdout.print(table)
    lost = figures.watched_m2 - figures.watched_online_m2
    stdout.print(
        f"watched ground: {figures.watched_m2:,.0f} m² in all, "
        f"{figures.watched_online_m2:,.0f} m² by online cameras "
        f"({lost:,.0f} m² blind while offline/unknown cameras stay down)"
    )
