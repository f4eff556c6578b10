"""``skynet synth``: generate synthetic cities (and, later, scenarios) with ground truth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from camera_registry import SiteCRS, write_cameras
from skynet.cli._common import progress, stderr
from skynet.cli.cameras import parse_numbers
from skynet.errors import BadInputError
from skynet.roads import save_road_network
from skynet.synthetic import DEFAULT_ORIGIN, SIZES, generate_city

app = typer.Typer(
    help="Synthetic cities, cameras and scenarios, deterministic from a seed.",
    no_args_is_help=True,
)


@app.command("city")
def city(
    out: Annotated[Path, typer.Option("--out", help="Folder to write into (created if needed).")],
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Random seed: same seed, same city.")
    ] = 0,
    size: Annotated[
        str,
        typer.Option("--size", help=f"{', '.join(SIZES)} or a number of directed edges."),
    ] = "county",
    coverage: Annotated[
        float, typer.Option("--coverage", help="Share of junctions/villages with cameras, (0, 1].")
    ] = 1.0,
    origin: Annotated[
        str | None, typer.Option("--origin", help="LON,LAT of the area's centre (default: Putian).")
    ] = None,
    crs: Annotated[
        str | None, typer.Option("--crs", help="Metric working CRS (default: the UTM zone).")
    ] = None,
) -> None:
    """Generate a county: road network, cameras and a summary.

    Writes roads.graphml (osmnx GraphML, metric CRS), cameras.geojson and
    city.json (villages, industrial park, junctions, counts).

    Example: skynet synth city --seed 7 --size county --coverage 0.8 --out city7
    """
    lon, lat = parse_numbers(origin, 2, "--origin") if origin else DEFAULT_ORIGIN
    site = SiteCRS.from_user_input(crs) if crs else None
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create the output folder ({exc.strerror or exc})"
        raise BadInputError(msg, source=str(out)) from None
    with progress() as bar:
        task = bar.add_task("laying out roads and cameras", total=4)
        synthetic = generate_city(seed, size=size, origin=(lon, lat), crs=site, coverage=coverage)
        bar.update(task, advance=1, description="writing cameras.geojson")
        write_cameras(synthetic.cameras, out / "cameras.geojson", working_crs=synthetic.crs.code)
        bar.update(task, advance=1, description="writing roads.graphml")
        save_road_network(synthetic.road_network(), out / "roads.graphml")
        bar.update(task, advance=1, description="writing city.json")
        summary = synthetic.summary()
        (out / "city.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
        bar.update(task, advance=1, description="done")
    counts = summary["counts"]
    stderr.print(
        f"city seed {seed} ({synthetic.size}): {counts['nodes']} nodes, {counts['edges']} edges, "
        f"{counts['villages']} villages, {counts['cameras']} cameras "
        f"({counts['cameras_offline']} offline) → {out}"
    )


# `skynet synth scenario hit_and_run --out DIR` belongs here: a later step of
# issue 3 adds it as `@app.command("scenario")` (not implemented yet).
