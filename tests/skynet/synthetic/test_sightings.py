"""The sighting simulator: deterministic, true to the traffic, noisy like the describe stage."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from camera_registry.camera import Camera
from skynet.errors import BadInputError
from skynet.synthetic.render import in_view
from skynet.synthetic.scenario import Scenario, ScenarioSpec, build_scenario
from skynet.synthetic.sightings import (
    SIM_CLIP,
    SightingNoise,
    SimulatedSightings,
    simulate_sightings,
)
from trackers.sighting import sighting_id

SPEC = "sample_data/hit_and_run/spec.json"


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return build_scenario(ScenarioSpec.from_file(SPEC))


@pytest.fixture(scope="module")
def window(scenario: Scenario) -> tuple[float, float]:
    depart, _ = scenario.escape_window
    return depart - 30.0, depart + 600.0


@pytest.fixture(scope="module")
def cameras(scenario: Scenario, window: tuple[float, float]) -> list[str]:
    """Cameras the target passes early in its escape (online ones), plus two others."""
    seen = [s.camera_id for s in scenario.sightings if s.t_in < window[1] and s.camera_online]
    others = [c.id for c in scenario.cameras if c.id not in seen][:2]
    return sorted({*seen, *others})


@pytest.fixture(scope="module")
def chosen(scenario: Scenario, cameras: list[str]) -> list[Camera]:
    return [c for c in scenario.cameras if c.id in cameras]


@pytest.fixture(scope="module")
def simulated(
    scenario: Scenario, window: tuple[float, float], chosen: list[Camera]
) -> SimulatedSightings:
    return simulate_sightings(scenario, window=window, cameras=chosen)


def test_same_inputs_give_the_same_sightings(
    scenario: Scenario,
    window: tuple[float, float],
    chosen: list[Camera],
    simulated: SimulatedSightings,
) -> None:
    again = simulate_sightings(scenario, window=window, cameras=chosen)
    assert [s.id for s in again.sightings] == [s.id for s in simulated.sightings]
    assert all(a == b for a, b in zip(again.sightings, simulated.sightings, strict=True))
    assert again.truth == simulated.truth
    other_noise = simulate_sightings(scenario, window=window, cameras=chosen, seed=1)
    assert [s.id for s in other_noise.sightings] == [s.id for s in simulated.sightings]
    assert any(
        a.entry_xy != b.entry_xy
        for a, b in zip(other_noise.sightings, simulated.sightings, strict=True)
    )


def test_truth_map_names_the_vehicle_in_view(
    scenario: Scenario, simulated: SimulatedSightings
) -> None:
    """Each sighting's id encodes its vehicle, which the camera really shows then."""
    by_id = {c.id: c for c in scenario.cameras}
    assert simulated.sightings
    assert set(simulated.truth) == {s.id for s in simulated.sightings}
    for s in simulated.sightings:
        vehicle = simulated.truth[s.id]
        assert s.id in {sighting_id(s.camera_id, SIM_CLIP, vehicle * 1000 + k) for k in range(9)}
        mid = np.array([(s.t_in + s.t_out) / 2.0])
        _, states = scenario.traffic.trajectory(vehicle, mid)
        assert in_view(by_id[s.camera_id], states).all()
        true_class = scenario.traffic.route(vehicle).vehicle_class
        assert s.vehicle_class in {true_class, "vehicle"}


def test_target_seen_where_the_ground_truth_says(
    scenario: Scenario, window: tuple[float, float], simulated: SimulatedSightings
) -> None:
    """Every online camera that had the target in view has a sighting of it at that time."""
    mine = simulated.of_vehicle(scenario.target_id)
    expected = [
        s for s in scenario.sightings if s.camera_online and window[0] <= s.t_in <= window[1]
    ]
    assert len(expected) >= 5
    for truth in expected:
        match = [m for m in mine if m.camera_id == truth.camera_id]
        assert match, truth.camera_id
        assert min(abs(m.t_in - truth.t_in) for m in match) < 1.5


def test_measurements_are_noisy_but_close(
    scenario: Scenario, simulated: SimulatedSightings
) -> None:
    traffic = scenario.traffic
    errors, heading_errors = [], []
    for s in simulated.sightings:
        vehicle = simulated.truth[s.id]
        _, states = traffic.trajectory(vehicle, np.array([s.t_in]))
        assert s.entry_xy is not None and s.heading_deg is not None
        errors.append(np.hypot(s.entry_xy[0] - states.x[0], s.entry_xy[1] - states.y[0]))
        heading_errors.append(abs((s.heading_deg - states.heading_deg[0] + 180.0) % 360.0 - 180.0))
    assert 0.5 < float(np.median(errors)) < 8.0  # noise is there, and of the stated size
    assert float(np.median(heading_errors)) < 15.0


def test_night_and_day_look_different(
    scenario: Scenario, window: tuple[float, float], cameras: list[str]
) -> None:
    chosen = [c for c in scenario.cameras if c.id == cameras[0]]
    night = simulate_sightings(scenario, window=window, cameras=chosen, night=True)
    day = simulate_sightings(scenario, window=window, cameras=chosen, night=False)
    common = {s.id for s in night.sightings} & {s.id for s in day.sightings}
    assert common
    n = {s.id: s.appearance for s in night.sightings}
    d = {s.id: s.appearance for s in day.sightings}
    assert all(float(n[i] @ d[i]) < 0.999 for i in common)


def test_bad_window_and_no_online_camera(scenario: Scenario) -> None:
    with pytest.raises(BadInputError, match="window"):
        simulate_sightings(scenario, window=(10.0, 5.0))
    offline = [dataclasses.replace(scenario.cameras[0], status="offline")]
    assert simulate_sightings(scenario, cameras=offline).sightings == []


def test_missed_passages_are_left_out(
    scenario: Scenario,
    window: tuple[float, float],
    chosen: list[Camera],
    simulated: SimulatedSightings,
) -> None:
    noise = SightingNoise(missed=0.3)
    thinned = simulate_sightings(scenario, window=window, cameras=chosen, noise=noise)
    every = {s.id for s in simulated.sightings}
    kept = {s.id for s in thinned.sightings}
    assert kept < every
    assert 0.15 < 1 - len(kept) / len(every) < 0.45
    assert all(thinned.truth[i] == simulated.truth[i] for i in kept)
