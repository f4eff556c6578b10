"""``skynet demo`` in reduced form (the first cameras of the escape), and what it builds on."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import cv2
import geojson
import numpy as np
import pytest

from skynet.demo import DemoRun, run_demo
from skynet.demo_outputs import route_document
from skynet.errors import BadInputError
from skynet.frontier import FrontierModel
from skynet.report.map_image import OBSERVED, draw_route_map
from skynet.sample_data import sample_scenario_spec

CliRunner = Callable[..., subprocess.CompletedProcess[str]]
CAMERAS = "5"


@pytest.fixture(scope="module")
def reduced(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """The demo on the first five cameras that saw the escape, run in this process."""
    return run_demo(sample_scenario_spec(), tmp_path_factory.mktemp("cache"), cameras=5, workers=2)


def demo_json(run_cli: CliRunner, cache: Path, out: Path) -> dict[str, object]:
    result = run_cli(
        "demo", "--cameras", CAMERAS, "--cache", str(cache), "--out", str(out), "--workers", "2",
        "--format", "json", check=True,
    )  # fmt: skip
    document = json.loads(result.stdout)  # nothing but the JSON on stdout
    assert isinstance(document, dict)
    return document


def test_demo_writes_valid_outputs_and_reuses_its_cache(run_cli: CliRunner, tmp_path: Path) -> None:
    cache, out = tmp_path / "cache", tmp_path / "out"
    first = demo_json(run_cli, cache, out)
    sightings = first["sightings"]
    assert isinstance(sightings, list) and len(sightings) >= 4
    assert sightings[0]["camera_id"] == "P01-CRASH" and sightings[0]["link_probability"] is None
    accuracy = first["accuracy"]
    assert isinstance(accuracy, dict)
    assert accuracy["lookalikes_linked"] == 0 and accuracy["cameras_linked"] >= 4
    assert accuracy["edge_f1"] > 0.5

    text = (out / "route.geojson").read_text()
    parsed = geojson.loads(text)
    assert parsed.is_valid, parsed.errors()
    document = json.loads(text)
    assert document["type"] == "FeatureCollection" and "crs" not in document  # RFC 7946
    roles = {f["properties"]["role"] for f in document["features"]}
    assert {"route", "sighting", "camera"} <= roles
    for feature in document["features"]:
        coords = np.asarray(feature["geometry"]["coordinates"], dtype=float).reshape(-1, 2)
        assert (np.abs(coords[:, 0]) <= 180).all() and (np.abs(coords[:, 1]) <= 90).all()
        assert 118 < coords[0, 0] < 120 and 25 < coords[0, 1] < 26  # lon first

    image = cv2.imread(str(out / "route.png"))
    assert image is not None and image.shape == (1100, 1600, 3)
    drawn = np.all(image == np.array(OBSERVED, dtype=np.uint8), axis=2).sum()
    assert drawn > 200  # the seen stretches of the route are on the map
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 50

    html = (out / "report.html").read_text()
    assert "id='timeline'" in html and "data:image/png;base64," in html
    assert all(s["id"] in html for s in sightings)
    assert "data:image/jpeg;base64," in html  # evidence thumbnails cut from the footage
    assert "http://" not in html and "https://" not in html  # opens offline

    again = demo_json(run_cli, cache, out)
    timings = again["timings_s"]
    assert isinstance(timings, dict)
    assert again["route_length_m"] == first["route_length_m"]
    assert again["sightings"] == sightings
    assert again["audit_id"] == int(str(first["audit_id"])) + 1  # every run is audited


def test_demo_table_output_names_what_a_detective_needs(run_cli: CliRunner, tmp_path: Path) -> None:
    result = run_cli(
        "demo", "--cameras", "2", "--cache", str(tmp_path / "c"), "--out", str(tmp_path / "o"),
        "--workers", "1", check=True,
    )  # fmt: skip
    for needle in ("route length", "time span", "P01-CRASH", "Accuracy against the ground truth"):
        assert needle in result.stdout
    assert "demo finished in" in result.stderr


def test_demo_bad_input_is_one_line(run_cli: CliRunner, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run_cli(
        "demo", "--cameras", "2", "--cache", str(tmp_path / "c"), "--out", str(blocker / "x"),
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "--out" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "c").exists()  # refused before anything was rendered
    assert run_cli("demo", "--cameras", "1").returncode == 2


def test_frontier_ranks_next_cameras_and_weighs_silent_ones_down(reduced: DemoRun) -> None:
    investigation = reduced.investigation
    model = FrontierModel(
        investigation.network, investigation.registry, investigation.attachment, 1800.0
    )
    last = reduced.result.timeline.entries[-1].sighting
    blind = model.rank(last.camera_id, last.t_out, limit=1000)
    assert blind and abs(sum(c.share for c in blind) - 1.0) < 1e-9
    assert all(c.window_start_s >= last.t_out for c in blind)
    assert all(c.window_end_s >= c.window_start_s for c in blind)
    # the nearest cameras on each way out come before those only reached past them
    first = blind[0]
    assert first.passed_unseen == 0
    assert max(c.share for c in blind if c.passed_unseen >= 2) < first.share
    online = [c for c in blind if c.status == "online"]
    top = online[0]
    searched = {top.camera_id: last.t_out + 3600.0}
    informed = {
        c.camera_id: c
        for c in model.rank(last.camera_id, last.t_out, reviewed=searched, limit=1000)
    }
    assert informed[top.camera_id].reviewed
    ratio = informed[top.camera_id].share / top.share
    assert ratio < 0.3  # its silence counts against it
    to_open = model.rank(
        last.camera_id, last.t_out, reviewed=searched, unreviewed_only=True, limit=1000
    )
    assert top.camera_id not in {c.camera_id for c in to_open}
    # heading known: the way it was going first, the way back (past the camera before) last
    before = reduced.result.timeline.entries[-2].sighting
    directed = model.rank(
        last.camera_id, last.t_out, came_from=before.camera_id, exit_edge=last.exit_edge,
        limit=1000,
    )  # fmt: skip
    ahead = model.rank(last.camera_id, last.t_out, exit_edge=last.exit_edge, limit=1000)
    back = {c.camera_id: c.share for c in directed}.get(before.camera_id, 0.0)
    assert back < 0.2 * {c.camera_id: c.share for c in ahead}.get(before.camera_id, 1.0)
    with pytest.raises(BadInputError, match="unknown camera"):
        model.rank("NOPE", last.t_out)
    with pytest.raises(BadInputError, match="before the last sighting"):
        model.rank(last.camera_id, last.t_out, now_s=last.t_out - 1.0)


def test_map_draws_the_route_and_geojson_lists_every_camera(reduced: DemoRun) -> None:
    route = reduced.result.route
    assert route is not None
    image = draw_route_map(
        reduced.investigation.network,
        reduced.investigation.registry,
        reduced.investigation.attachment,
        route,
        size=(800, 600),
    )
    assert image.shape == (600, 800, 3)
    assert np.all(image == np.array(OBSERVED, dtype=np.uint8), axis=2).sum() > 50
    document = route_document(reduced)
    cameras = [f for f in document["features"] if f["properties"]["role"] == "camera"]
    assert len(cameras) == len(reduced.investigation.registry) == 170
    observed = {f["properties"]["id"] for f in cameras if f["properties"]["evidence"] == "observed"}
    assert observed == {e.sighting.camera_id for e in reduced.result.timeline.entries}
