"""A case database without rendering: a scenario's cameras, roads and simulated sightings.

For trying the engine (and testing it) in seconds: the sightings are what the
per-feed pipeline would report (see :mod:`skynet.synthetic.sightings`),
committed one simulated clip per camera as an ingest would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from camera_registry.store import RegistryStore
from skynet.roads import RoadStore
from skynet.sample_data import sample_scenario_spec
from skynet.store import ClipRecord, SightingStore
from skynet.synthetic.scenario import Scenario, ScenarioSpec, build_scenario
from skynet.synthetic.sightings import SIM_CLIP, SimulatedSightings, simulate_sightings
from trackers.sighting import Sighting


@dataclass(frozen=True)
class CaseDb:
    """The database and what it was made from (the truth stays with the caller)."""

    db: str
    scenario: Scenario
    simulated: SimulatedSightings

    def seed(self) -> Sighting:
        """The target's sighting at the crash-scene camera."""
        target = self.simulated.of_vehicle(self.scenario.target_id)
        return next(s for s in target if s.camera_id == "P01-CRASH")


def add_sightings(db: str, sightings: list[Sighting], clip: str = SIM_CLIP) -> None:
    """Commit sightings as one simulated clip per camera (as an ingest would)."""
    store = SightingStore(db)
    by_camera: dict[str, list[Sighting]] = {}
    for s in sightings:
        by_camera.setdefault(s.camera_id, []).append(s)
    for camera_id, chosen in by_camera.items():
        record = ClipRecord(f"{camera_id}/{clip}", camera_id, clip, "sim", 0.0, 1, 10.0)
        store.add_clip(record, chosen)


def make_case_db(
    db: str, spec: str | Path | None = None, keep: Callable[[Sighting], bool] = lambda s: True
) -> CaseDb:
    """Cameras, roads and the simulated sightings that ``keep`` selects, in ``db``
    (the bundled hit-and-run scenario unless ``spec`` names another)."""
    scenario = build_scenario(ScenarioSpec.from_file(spec or sample_scenario_spec()))
    RegistryStore(db).import_cameras(scenario.cameras, scenario.city.crs)
    RoadStore(db).save(scenario.city.road_network())
    simulated = simulate_sightings(scenario)
    add_sightings(db, [s for s in simulated.sightings if keep(s)])
    return CaseDb(db, scenario, simulated)
