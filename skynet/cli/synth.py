"""``skynet synth``: generate synthetic cities (and, later, scenarios) with ground truth."""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer

from camera_registry import SiteCRS, write_cameras
from skynet.cli._common import progress, stderr
from skynet.cli.cameras import parse_lonlat
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
    lon, lat = parse_lonlat(origin, "--origin") if origin else DEFAULT_ORIGIN
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


@app.command("scenario")
def scenario(
    name: Annotated[
        str,
        typer.Argument(help="A bundled scenario (sample_data/NAME/spec.json), e.g. hit_and_run."),
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder to write into (created if needed).")],
    spec_file: Annotated[
        Path | None, typer.Option("--spec", help="Use this spec file instead of the bundled one.")
    ] = None,
    footage: Annotated[
        bool, typer.Option("--footage/--no-footage", help="Also render every camera's clips.")
    ] = False,
    cameras: Annotated[
        str | None,
        typer.Option("--cameras", help="Render only these camera ids (comma-separated)."),
    ] = None,
) -> None:
    """Generate a scenario: road network, cameras, ground truth and, on request, footage.

    Writes spec.json, roads.graphml, cameras.geojson and ground_truth.json; with
    --footage also footage/ (one folder per camera: clip-NNN.avi with its
    MOTChallenge ground truth clip-NNN.gt.txt, and manifest.json). Clips already
    rendered from the same spec are kept, so a rerun resumes; after a change to
    the spec (or the renderer) they are rendered again.

    Example: skynet synth scenario hit_and_run --out hit-and-run --footage --cameras P01-CRASH
    """
    from skynet.sample_data import sample_data_dir
    from skynet.synthetic.footage import plan_clips, render_footage
    from skynet.synthetic.scenario import ScenarioSpec, build_scenario, write_scenario

    path = spec_file or sample_data_dir() / name / "spec.json"
    if spec_file is None and not path.exists():
        bundled = sorted(p.parent.name for p in sample_data_dir().glob("*/spec.json"))
        msg = f"no bundled scenario {name!r} (bundled: {', '.join(bundled)})"
        raise BadInputError(msg, field="name")
    spec = ScenarioSpec.from_file(path)
    with stderr.status("generating the scenario") if stderr.is_terminal else nullcontext():
        built = build_scenario(spec)
        write_scenario(built, out)
    truth = built.ground_truth()
    stderr.print(
        f"{spec.name}: escape {truth['route']['length_m'] / 1000:.2f} km "
        f"({truth['route']['rural_share']:.0%} rural), seen by "
        f"{len({s['camera_id'] for s in truth['sightings']})} cameras; "
        f"{truth['cameras']['road']} road + {truth['cameras']['village']} village cameras → {out}"
    )
    if not footage:
        return
    chosen = None
    if cameras:
        wanted = [c.strip() for c in cameras.split(",") if c.strip()]
        known = {c.id: c for c in built.cameras}
        missing = [c for c in wanted if c not in known]
        if missing:
            raise BadInputError(f"unknown camera id(s) {missing}", field="--cameras")
        chosen = [known[c] for c in wanted]
    total = sum(clip.n_frames for clip in plan_clips(built, chosen))
    with progress() as bar:
        task = bar.add_task("rendering footage (frames)", total=total)
        clips = render_footage(
            built,
            out / "footage",
            cameras=chosen,
            on_clip=lambda clip: bar.update(task, advance=clip.n_frames),
        )
    stderr.print(f"{len(clips)} clips, {total} frames → {out / 'footage'}")
