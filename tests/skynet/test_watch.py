"""Watches against new sightings: appearance, class, span, area and reachability, at once."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from camera_registry.registry import CameraRegistry
from skynet.errors import BadInputError, NotFoundError
from skynet.synthetic.scenario import Scenario, ScenarioSpec, build_scenario
from skynet.synthetic.sightings import SimulatedSightings, simulate_sightings
from skynet.watch import (
    DEFAULT_SPAN_S,
    Watch,
    WatchStore,
    check_area,
    match_watches,
    target_appearance,
    watch_for_target,
    watch_id,
)

SPEC = "sample_data/hit_and_run/spec.json"


@pytest.fixture(scope="module")
def world() -> tuple[Scenario, SimulatedSightings, CameraRegistry]:
    scenario = build_scenario(ScenarioSpec.from_file(SPEC))
    return (
        scenario,
        simulate_sightings(scenario),
        CameraRegistry(scenario.cameras, scenario.city.crs),
    )


def target_watch(scenario: Scenario, simulated: SimulatedSightings, **changes: object) -> Watch:
    mine = sorted(simulated.of_vehicle(scenario.target_id), key=lambda s: s.t_in)
    look = target_appearance(mine[:3])  # what the first cameras saw of it
    fields: dict[str, object] = {
        "id": watch_id("HR-0314", look, mine[0].t_in),
        "case_id": "HR-0314",
        "reason": "hit-and-run, two injured",
        "appearance": look,
        "vehicle_class": "three_wheeler",
        "start_s": mine[0].t_in,
        "end_s": mine[-1].t_out + 1.0,
        "threshold": 0.75,
    }
    fields.update(changes)
    return Watch(**fields)  # type: ignore[arg-type]


def test_a_watch_fires_on_the_target_and_rarely_on_others(
    world: tuple[Scenario, SimulatedSightings, CameraRegistry],
) -> None:
    scenario, simulated, registry = world
    watch = target_watch(scenario, simulated)
    later = [s for s in simulated.sightings if watch.start_s <= s.t_in <= watch.end_s]
    alerts = match_watches([watch], later, registry)
    hits = {a.sighting_id for a in alerts}
    truth = simulated.truth
    right = [i for i in hits if truth[i] == scenario.target_id]
    target_sightings = [s for s in later if truth[s.id] == scenario.target_id]
    assert len(right) >= 0.75 * len(target_sightings)  # recall
    assert all(a.similarity >= 0.75 and "alike" in a.reason for a in alerts)
    assert [a.t_in for a in alerts] == sorted(a.t_in for a in alerts)
    # the class holds most of the rest back: far fewer alerts than on look alone
    any_class = match_watches(
        [target_watch(scenario, simulated, vehicle_class="vehicle")], later, registry
    )
    assert len(alerts) < 0.5 * len(any_class)
    assert len(right) / len(hits) > 2 * sum(
        truth[a.sighting_id] == scenario.target_id for a in any_class
    ) / len(any_class)

    # a stricter threshold fires on fewer; another class fires on none of the classified
    strict = match_watches([target_watch(scenario, simulated, threshold=0.9)], later, registry)
    assert len(strict) <= len(alerts)
    cars = match_watches([target_watch(scenario, simulated, vehicle_class="car")], later, registry)
    assert all(
        s.vehicle_class in ("car", "vehicle")
        for s in later
        if s.id in {a.sighting_id for a in cars}
    )


def test_span_area_and_reach_each_hold_an_alert_back(
    world: tuple[Scenario, SimulatedSightings, CameraRegistry],
) -> None:
    scenario, simulated, registry = world
    watch = target_watch(scenario, simulated)
    mine = sorted(simulated.of_vehicle(scenario.target_id), key=lambda s: s.t_in)
    assert match_watches([watch], mine, registry)
    # outside the span
    late = target_watch(
        scenario, simulated, start_s=mine[-1].t_out + 10.0, end_s=mine[-1].t_out + 20.0
    )
    assert not match_watches([late], mine, registry)
    # an area around one camera only
    camera = registry.get(mine[5].camera_id)
    box = (camera.lon - 1e-4, camera.lat - 1e-4, camera.lon + 1e-4, camera.lat + 1e-4)
    boxed = match_watches([target_watch(scenario, simulated, area=box)], mine, registry)
    assert boxed and {a.camera_id for a in boxed} <= {c.id for c in registry.in_bbox(*box)}
    # a camera it could not have reached in time since it was last known
    origin = target_watch(scenario, simulated, origin_camera="P01-CRASH", origin_s=mine[0].t_out)
    far = mine[5].camera_id
    reached = match_watches([origin], mine, registry, lambda _: {far: 1e9})
    assert far not in {a.camera_id for a in reached}
    assert len(reached) > 0


def test_bad_watches_are_refused(
    world: tuple[Scenario, SimulatedSightings, CameraRegistry], tmp_path: Path
) -> None:
    scenario, simulated, registry = world
    with pytest.raises(BadInputError, match="appearance"):
        target_watch(scenario, simulated, appearance=np.zeros(64, dtype=np.float32))
    with pytest.raises(BadInputError, match="threshold"):
        target_watch(scenario, simulated, threshold=1.5)
    with pytest.raises(BadInputError, match="span"):
        target_watch(scenario, simulated, end_s=0.0)
    with pytest.raises(BadInputError, match="no camera"):
        check_area((10.0, 10.0, 10.1, 10.1), registry)
    with pytest.raises(BadInputError, match="W < E"):
        check_area((119.1, 25.0, 119.0, 25.5), registry)
    with pytest.raises(BadInputError, match="no sightings"):
        target_appearance([])

    store = WatchStore(str(tmp_path / "w.db"))
    watch = target_watch(scenario, simulated, area=(118.9, 25.3, 119.1, 25.6))
    store.add(watch)
    store.add(watch)  # the same watch again is still one watch
    (kept,) = store.all()
    assert kept.id == watch.id and kept.area == watch.area
    assert np.allclose(kept.appearance, watch.appearance)
    assert store.active(watch.start_s) and not store.active(watch.end_s + 1.0)
    store.remove(watch.id)
    with pytest.raises(NotFoundError):
        store.remove(watch.id)


def test_a_watch_for_a_target_starts_where_it_was_last_seen(
    world: tuple[Scenario, SimulatedSightings, CameraRegistry],
) -> None:
    scenario, simulated, _ = world
    mine = sorted(simulated.of_vehicle(scenario.target_id), key=lambda s: s.t_in)[:4]
    unknown = dataclasses.replace(mine[0], vehicle_class="vehicle")  # the detector could not tell
    watch = watch_for_target(" HR-0314 ", "hit-and-run, two injured", [unknown, *mine[1:]])
    assert watch.case_id == "HR-0314" and watch.vehicle_class == "three_wheeler"
    assert (watch.origin_camera, watch.start_s) == (mine[-1].camera_id, mine[-1].t_out)
    assert watch.end_s == pytest.approx(mine[-1].t_out + DEFAULT_SPAN_S)
    np.testing.assert_allclose(watch.appearance, target_appearance([unknown, *mine[1:]]))
    assert watch.id == watch_for_target("HR-0314", "again", mine).id  # same look, same start
    until = watch_for_target("HR-0314", "r" * 8, mine, end_s=mine[-1].t_out + 60.0, area=None)
    assert until.end_s == mine[-1].t_out + 60.0
    with pytest.raises(BadInputError, match="no sightings"):
        watch_for_target("HR-0314", "r" * 8, [])
