"""The hit-and-run scenario: committed files reproduce, its facts hold, footage renders."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from camera_registry import read_cameras
from skynet.errors import BadInputError
from skynet.roads import load_road_network
from skynet.synthetic.footage import (
    MANIFEST,
    RENDER_CACHE,
    footage_fingerprint,
    plan_clips,
    render_footage,
)
from skynet.synthetic.render import CameraRenderer
from skynet.synthetic.scenario import (
    CRASH_CAMERA_ID,
    Scenario,
    ScenarioSpec,
    build_scenario,
    write_scenario,
)
from trackers.mot import read_mot

BUNDLED = Path(__file__).resolve().parents[3] / "sample_data" / "hit_and_run"


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return build_scenario(ScenarioSpec.from_file(BUNDLED / "spec.json"))


@pytest.fixture(scope="module")
def truth() -> dict:  # type: ignore[type-arg]
    return json.loads((BUNDLED / "ground_truth.json").read_text())


def _same_document(made: object, kept: object, where: str = "") -> None:
    """JSON documents equal but for the last bits of their floats: the generator's sums
    may round differently under another NumPy build (seen: 1e-14 in a heading, 4e-11 in a range)."""
    assert type(made) is type(kept), where
    if isinstance(made, dict):
        assert isinstance(kept, dict) and made.keys() == kept.keys(), where
        for key in made:
            _same_document(made[key], kept[key], f"{where}/{key}")
    elif isinstance(made, list):
        assert isinstance(kept, list) and len(made) == len(kept), where
        for i, (a, b) in enumerate(zip(made, kept, strict=True)):
            _same_document(a, b, f"{where}[{i}]")
    elif isinstance(made, float):
        assert made == pytest.approx(kept, rel=1e-9, abs=1e-9), where
    else:
        assert made == kept, where


def test_committed_files_regenerate(scenario: Scenario, tmp_path: Path) -> None:
    paths = write_scenario(scenario, tmp_path)
    for name, path in paths.items():
        kept = BUNDLED / path.name
        if path.suffix in {".json", ".geojson"}:
            _same_document(json.loads(path.read_text()), json.loads(kept.read_text()), name)
        else:
            assert path.read_bytes() == kept.read_bytes(), name


def test_escape_facts(truth: dict) -> None:  # type: ignore[type-arg]
    route = truth["route"]
    assert abs(route["length_m"] - 21_900) <= 300
    assert route["rural_share"] > 0.5
    assert truth["cameras"]["road"] == 39 and truth["cameras"]["village"] == 131
    registry = read_cameras(BUNDLED / "cameras.geojson").cameras
    assert len(registry) == 170
    assert sum(c.kind in ("road", "checkpoint") for c in registry) == 39
    offline = {c.id for c in registry if c.status == "offline"}
    assert offline == set(truth["cameras"]["offline"]) and 0 < len(offline) < 10
    sightings = truth["sightings"]
    witnesses = {s["camera_id"] for s in sightings}
    assert sightings[0]["camera_id"] == CRASH_CAMERA_ID  # the crash scene sees it first
    assert 5 <= len(witnesses) < 170 / 2  # some cameras see the escape, most do not
    assert any(not s["camera_online"] for s in sightings)  # one witness was offline
    assert all(s["t_in"] <= s["t_out"] for s in sightings)
    assert [s["t_in"] for s in sightings] == sorted(s["t_in"] for s in sightings)


def test_route_follows_the_committed_road_network(truth: dict) -> None:  # type: ignore[type-arg]
    network = load_road_network(BUNDLED / "roads.graphml")
    graph = network.graph
    edges = truth["route"]["edges"]
    assert all(a["v"] == b["u"] for a, b in itertools.pairwise(edges))
    length = sum(graph.edges[e["u"], e["v"], e["key"]]["length"] for e in edges)
    assert length == pytest.approx(truth["route"]["length_m"], abs=0.01)
    rural = sum(
        graph.edges[e["u"], e["v"], e["key"]]["length"]
        for e in edges
        if graph.edges[e["u"], e["v"], e["key"]]["highway"] in ("unclassified", "track")
    )
    assert rural / length == pytest.approx(truth["route"]["rural_share"], abs=1e-3)
    assert all(e["enter_s"] < e["leave_s"] for e in edges)


def test_rendered_frames_show_the_target_where_the_truth_says(scenario: Scenario) -> None:
    by_id = {c.id: c for c in scenario.cameras}
    target = scenario.target_id
    witnesses = [s for s in scenario.sightings if s.camera_online][
        :: max(1, len(scenario.sightings) // 4)
    ]
    for sighting in witnesses:
        renderer = CameraRenderer(
            by_id[sighting.camera_id], scenario.traffic.streets, night=True, size=(320, 180)
        )
        middle = 0.5 * (sighting.t_in + sighting.t_out)
        frame = renderer.render(scenario.traffic.states_at(middle), labels=True)
        assert target in frame.ids.tolist(), sighting.camera_id
        assert frame.visible_px is not None
        assert frame.visible_px[frame.ids.tolist().index(target)] > 0


def test_cameras_off_the_escape_never_show_the_target(scenario: Scenario) -> None:
    witnesses = {s.camera_id for s in scenario.sightings}
    quiet = [c for c in scenario.cameras if c.id not in witnesses][:40]
    depart, arrive = scenario.escape_window
    times = np.arange(depart, arrive, 2.0)
    _, states = scenario.traffic.trajectory(scenario.target_id, times)
    from skynet.synthetic.render import in_view

    for camera in quiet:
        assert not in_view(camera, states).any(), camera.id


def test_lookalikes_share_class_colour_and_roads(scenario: Scenario) -> None:
    target = scenario.traffic.route(scenario.target_id)
    route_edges = set(target.edges.tolist())
    sharing = 0
    for vehicle in scenario.lookalike_ids:
        route = scenario.traffic.route(vehicle)
        assert route.vehicle_class == target.vehicle_class
        assert np.abs(np.subtract(route.colour_bgr, target.colour_bgr)).max() <= 40
        sharing += bool(route_edges & set(route.edges.tolist()))
    assert sharing >= len(scenario.lookalike_ids) // 2  # hard negatives on the same roads


def test_footage_of_the_crash_camera(scenario: Scenario, tmp_path: Path) -> None:
    crash = [c for c in scenario.cameras if c.id == CRASH_CAMERA_ID]
    plan = plan_clips(scenario, crash)
    assert plan and any(scenario.target_id in clip.vehicle_ids for clip in plan)
    clips = render_footage(scenario, tmp_path, cameras=crash)
    assert clips == plan
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert [c["video"] for c in manifest["clips"]] == [f"{c.name}.avi" for c in plan]
    first = plan[0]
    video = tmp_path / f"{first.name}.avi"
    capture = cv2.VideoCapture(str(video))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    assert count == first.n_frames
    truth = read_mot(tmp_path / f"{first.name}.gt.txt")
    assert scenario.target_id + 1 in set(truth.ids.tolist())  # MOT ids are vehicle id + 1
    mapping = (tmp_path / "track_map.csv").read_text().splitlines()
    assert (
        f"{first.name},{CRASH_CAMERA_ID},{scenario.target_id + 1},{scenario.target_id}" in mapping
    )
    stamp = video.stat().st_mtime_ns
    render_footage(scenario, tmp_path, cameras=crash)  # a rerun reuses what is there
    assert video.stat().st_mtime_ns == stamp


def _frame_size(video: Path) -> tuple[int, int]:
    capture = cv2.VideoCapture(str(video))
    ok, frame = capture.read()
    capture.release()
    assert ok
    return frame.shape[1], frame.shape[0]


def test_footage_cache_is_keyed_on_the_spec(scenario: Scenario, tmp_path: Path) -> None:
    crash = [c for c in scenario.cameras if c.id == CRASH_CAMERA_ID]
    small = dataclasses.replace(
        scenario,
        spec=dataclasses.replace(
            scenario.spec, footage=dataclasses.replace(scenario.spec.footage, width=320, height=180)
        ),
    )
    assert footage_fingerprint(small) != footage_fingerprint(scenario)
    reseeded = dataclasses.replace(scenario, spec=dataclasses.replace(scenario.spec, seed=1))
    assert footage_fingerprint(reseeded) != footage_fingerprint(scenario)
    plan = render_footage(scenario, tmp_path, cameras=crash)
    video = tmp_path / f"{plan[0].name}.avi"
    truth = tmp_path / f"{plan[0].name}.gt.txt"
    assert _frame_size(video) == (640, 360)
    cache = json.loads((tmp_path / RENDER_CACHE).read_text())
    assert cache == {"fingerprint": footage_fingerprint(scenario), "clips": [c.name for c in plan]}
    # The same folder, a changed spec: every clip is rendered again, none kept.
    render_footage(small, tmp_path, cameras=crash)
    assert _frame_size(video) == (320, 180)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert manifest["size"] == [320, 180]
    assert manifest["fingerprint"] == footage_fingerprint(small)
    # A rerun of the changed spec reuses its clips; going back renders again.
    stamps = (video.stat().st_mtime_ns, truth.stat().st_mtime_ns)
    render_footage(small, tmp_path, cameras=crash)
    assert (video.stat().st_mtime_ns, truth.stat().st_mtime_ns) == stamps
    render_footage(scenario, tmp_path, cameras=crash)
    assert _frame_size(video) == (640, 360)


@pytest.mark.parametrize("record", [None, '{"fingerprint": "another spec", "clips": []}'])
def test_clips_not_recorded_under_the_spec_are_rendered_again(
    scenario: Scenario, tmp_path: Path, record: str | None
) -> None:
    crash = [c for c in scenario.cameras if c.id == CRASH_CAMERA_ID]
    plan = plan_clips(scenario, crash)
    stale = tmp_path / f"{plan[0].name}.avi"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"left by an older run")
    (tmp_path / f"{plan[0].name}.gt.txt").write_text("")
    (tmp_path / MANIFEST).write_text('{"clips": []}')
    if record is not None:  # else a folder from before there was a cache record
        (tmp_path / RENDER_CACHE).write_text(record)
    render_footage(scenario, tmp_path, cameras=crash)
    assert stale.read_bytes() != b"left by an older run"
    assert scenario.target_id + 1 in set(read_mot(tmp_path / f"{plan[0].name}.gt.txt").ids)
    assert json.loads((tmp_path / MANIFEST).read_text())["clips"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"crash_time": "2026-03-14T20:41:00"}, "crash_time"),
        ({"crash_time": "evening"}, "crash_time"),
        ({"road_cameras": 0}, "road_cameras"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_specs_name_the_field(change: dict, field: str) -> None:  # type: ignore[type-arg]
    document = {**json.loads((BUNDLED / "spec.json").read_text()), **change}
    with pytest.raises(BadInputError) as caught:
        ScenarioSpec.from_dict(document)
    assert caught.value.field == field


def test_cli_writes_the_scenario_and_refuses_unknown_names(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("skynet")
    env = {**os.environ, "SKYNET_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    done = subprocess.run(
        [str(script), "synth", "scenario", "hit_and_run", "--out", str(tmp_path / "s")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "s" / "ground_truth.json").read_bytes() == (
        BUNDLED / "ground_truth.json"
    ).read_bytes()
    refused = subprocess.run(
        [str(script), "synth", "scenario", "robbery", "--out", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert refused.returncode == 2 and "hit_and_run" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
