"""``skynet roads`` and ``skynet coverage``: the road network and what cameras see of it."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from camera_registry import RegistryStore, SiteCRS
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
from skynet.errors import BadInputError, ConflictError
from skynet.roads.coverage import CoverageReport, Share, coverage_report
from skynet.roads.geojson import to_geojson
from skynet.roads.io import load_road_network
from skynet.roads.store import RoadStore
from skynet.roads.summary import NetworkSummary, summarise

app = typer.Typer(help="The road network: import it, describe it.", no_args_is_help=True)


@app.command("import")
def import_(
    file: Annotated[
        Path, typer.Argument(help="GraphML (osmnx), OSM XML / .osm.bz2 / .pbf, or GeoJSON.")
    ],
    crs: Annotated[
        str | None,
        typer.Option("--crs", help="Metric working CRS, e.g. EPSG:4547 (default: the site's)."),
    ] = None,
    largest_component: Annotated[
        bool,
        typer.Option("--largest-component", help="Keep only the largest connected part."),
    ] = False,
    db: DbOption = None,
    site: SiteOption = None,
) -> None:
    """Import a road network, replacing the stored one (all or nothing).

    Example: skynet roads import town.osm.pbf --largest-component --db town.db
    """
    db = site_database(db, site)
    store = RoadStore(db)
    working = store.working_crs
    named = SiteCRS.from_user_input(crs) if crs else None
    if named is not None and working is not None and named.crs != working.crs:
        msg = f"the site's working CRS is {working.code}; --crs names {named.code}"
        raise ConflictError(msg)
    spinner = stderr.status(f"importing {file}") if stderr.is_terminal else nullcontext()
    with spinner:
        network = load_road_network(file, named or working, largest_component=largest_component)
        stored = store.save(network)
    stderr.print(
        f"imported {stored.nodes} nodes and {stored.edges} edges from {file} "
        f"({network.edges.length.sum() / 1000.0:.1f} km directed, CRS {stored.crs})"
    )


@app.command("info")
def info(
    output: FormatOption = OutputFormat.table, db: DbOption = None, site: SiteOption = None
) -> None:
    """Describe the stored road network (geojson prints its edges in WGS84).

    Example: skynet roads info --format json
    """
    db = site_database(db, site)
    network = RoadStore(db).load()
    if output is OutputFormat.geojson:
        print_json(to_geojson(network))
        return
    summary = summarise(network)
    if output is OutputFormat.json:
        print_json(summary.as_dict())
    else:
        stdout.print(_summary_table(summary))


def coverage(
    output: FormatOption = OutputFormat.table, db: DbOption = None, site: SiteOption = None
) -> None:
    """How much road the cameras watch, blind stretches, and the deployment rules.

    Example: skynet coverage --format json --db town.db
    """
    db = site_database(db, site)
    if output is OutputFormat.geojson:
        raise BadInputError("coverage prints table or json", field="format")
    network = RoadStore(db).load()
    registry = RegistryStore(db).load()
    report = coverage_report(network, registry)
    if output is OutputFormat.json:
        print_json(report.as_dict())
    else:
        _print_coverage(report)


def _summary_table(summary: NetworkSummary) -> Table:
    table = Table(title="road network", show_header=False)
    west, south, east, north = summary.bbox_lonlat
    rows = [
        ("CRS", summary.crs),
        ("nodes", str(summary.nodes)),
        ("directed edges", f"{summary.edges} ({summary.oneway_edges} one-way)"),
        ("roads", f"{summary.roads} ({summary.km:.2f} km)"),
        ("bbox (W,S,E,N)", f"{west:.6f},{south:.6f},{east:.6f},{north:.6f}"),
        (
            "connectivity",
            f"weakly connected; {summary.strong_components} strongly connected parts, "
            f"largest holds {summary.largest_strong_share:.1%} of nodes",
        ),
    ]
    rows += [(f"km {name}", f"{km:.2f}") for name, km in summary.km_by_class.items()]
    for name, value in rows:
        table.add_row(name, value)
    return table


def _share_table(title: str, shares: tuple[Share, ...]) -> Table:
    table = Table(title=title)
    for column in ("group", "km", "watched (online)", "watched (all)"):
        table.add_column(column, justify="left" if column == "group" else "right")
    for s in shares:
        table.add_row(
            s.name, f"{s.length_m / 1000.0:.2f}", f"{s.share_online:.1%}", f"{s.share:.1%}"
        )
    return table


def _print_coverage(report: CoverageReport) -> None:
    stdout.print(
        f"{report.cameras} cameras ({report.cameras_online} online) watch "
        f"{report.total.share_online:.1%} of {report.total.length_m / 1000.0:.2f} km of road "
        f"({report.total.share:.1%} counting offline cameras)"
    )
    stdout.print(_share_table("by road class", report.by_class))
    stdout.print(_share_table("by area", report.by_area))
    blind = Table(title="longest blind stretches (no online camera)")
    for column in ("km", "roads", "classes", "from (lon,lat)", "to (lon,lat)"):
        blind.add_column(column)
    for b in report.blind:
        blind.add_row(
            f"{b.length_m / 1000.0:.2f}",
            str(b.roads),
            ", ".join(b.classes),
            f"{b.start_lonlat[0]:.6f},{b.start_lonlat[1]:.6f}",
            f"{b.end_lonlat[0]:.6f},{b.end_lonlat[1]:.6f}",
        )
    stdout.print(blind)
    if report.villages is None:
        stdout.print("rule: every village has >= 6 cameras: not applicable (no villages)")
    else:
        failing = [v for v in report.villages if not v.ok]
        stdout.print(
            f"rule: every village has >= {report.min_village_cameras} cameras: "
            f"{'ok' if not failing else 'FAILS'} ({len(report.villages)} villages)"
        )
        for v in failing:
            stdout.print(f"  {v.village}: {v.cameras} cameras ({v.online} online)", markup=False)
    failing_nodes = [i for i in report.intersections if not i.ok]
    stdout.print(
        f"rule: every approach of a major intersection is watched within "
        f"{report.approach_reach_m:.0f} m: {'ok' if not failing_nodes else 'FAILS'} "
        f"({len(report.intersections)} intersections, {len(failing_nodes)} failing)"
    )
    for i in failing_nodes:
        stdout.print(
            f"  node {i.node} ({i.lon:.6f},{i.lat:.6f}): {i.watched}/{i.approaches} approaches "
            f"watched; unwatched from {', '.join(map(str, i.unwatched_from))}",
            markup=False,
        )
