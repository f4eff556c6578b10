"""Sightings straight from a scenario's ground truth, without rendering whole clips.

Calibration and sweeps need many sightings of known vehicles; running the
whole per-feed pipeline on rendered video for each is far too slow. Here every
passage of a vehicle through an online camera's picture (found as
:mod:`skynet.synthetic.footage` plans clips: :func:`~skynet.synthetic.render.in_view`
on trajectory samples) becomes one :class:`~trackers.sighting.Sighting` whose
times, class, entry/exit points, heading and speed are the truth plus noise of
the size the describe stage shows on rendered footage, and whose appearance is
read by :func:`trackers.appearance.describe_boxes` from ONE rendered frame of
the passage, so that night and day and each camera's colour cast are real.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from camera_registry.camera import Camera
from skynet.errors import BadInputError
from skynet.synthetic.footage import recording_window
from skynet.synthetic.render import CameraRenderer, passages_in_view
from skynet.synthetic.scenario import Scenario
from skynet.synthetic.traffic import Traffic, VehicleStates
from trackers.appearance import describe_boxes
from trackers.sighting import Evidence, Sighting, sighting_id

#: Clip name every simulated sighting's id and evidence carry.
SIM_CLIP: Final = "sim"
#: Trajectory sampling step (s) when finding passages.
STEP_S: Final = 0.5
#: Frame size the appearance frame is rendered at.
FRAME_SIZE: Final = (320, 180)


@dataclass(frozen=True)
class SightingNoise:
    """Measurement noise of the describe stage (sizes measured on rendered footage)."""

    position_m: float = 2.5
    heading_deg: float = 2.0
    speed_share: float = 0.08
    time_s: float = 0.2
    #: Share of sightings whose class the detector cannot tell (``vehicle``).
    unknown_class: float = 0.05
    #: Share of passages the detector misses altogether (a vehicle hidden behind a
    #: bus, a dirty lens): drawn from a stream of its own, so 0 changes nothing else.
    missed: float = 0.0


@dataclass(frozen=True, eq=False)
class SimulatedSightings:
    """The sightings, in time order, and the true vehicle id behind each."""

    sightings: list[Sighting]
    truth: dict[str, int]

    def of_vehicle(self, vehicle_id: int) -> list[Sighting]:
        """One vehicle's sightings in time order."""
        return [s for s in self.sightings if self.truth[s.id] == vehicle_id]


@dataclass(frozen=True)
class _Passage:
    """One vehicle's run of in-view samples at one camera."""

    vehicle: int
    index: int
    times: NDArray[np.float64]
    states: VehicleStates


def simulate_sightings(
    scenario: Scenario,
    *,
    night: bool | None = None,
    window: tuple[float, float] | None = None,
    cameras: Iterable[Camera] | None = None,
    noise: SightingNoise | None = None,
    seed: int = 0,
) -> SimulatedSightings:
    """Sightings of every vehicle passage through every online camera in ``window``.

    ``night`` defaults to the scenario's footage setting and ``window`` to its
    recording window. The same arguments give the same sightings.
    """
    noise = noise or SightingNoise()
    start, end = window if window is not None else recording_window(scenario)
    if not end > start:
        msg = f"the window ends ({end}) before it starts ({start})"
        raise BadInputError(msg, field="window")
    dark = scenario.spec.footage.night if night is None else night
    traffic = scenario.traffic
    chosen = list(cameras) if cameras is not None else scenario.cameras
    usable = [c for c in chosen if c.status == "online" and c.homography is not None]
    if not usable:
        return SimulatedSightings([], {})
    x, y = scenario.city.crs.to_metric([c.lon for c in usable], [c.lat for c in usable])
    rng = np.random.default_rng([scenario.spec.seed, seed, 11])
    misses = np.random.default_rng([scenario.spec.seed, seed, 12])
    out: list[Sighting] = []
    truth: dict[str, int] = {}
    for camera, cx, cy in zip(usable, x.tolist(), y.tolist(), strict=True):
        passages = _passages(camera, (cx, cy), traffic, start, end)
        if not passages:
            continue
        renderer = CameraRenderer(
            camera,
            traffic.streets,
            night=dark,
            size=FRAME_SIZE,
            seed=scenario.spec.seed,
            noise_frames=2,  # one frame per passage: a big noise bank is wasted work
        )
        nearby = traffic.vehicles_on_edges(renderer.watched_edges(), start, end)
        for passage in passages:
            if noise.missed and misses.random() < noise.missed:
                continue
            made = _sighting(camera, renderer, traffic, nearby, passage, noise, rng)
            if made is not None:
                out.append(made)
                truth[made.id] = passage.vehicle
    out.sort(key=lambda s: (s.t_in, s.id))
    return SimulatedSightings(out, truth)


def _passages(
    camera: Camera, position: tuple[float, float], traffic: Traffic, start: float, end: float
) -> list[_Passage]:
    """Every run of a vehicle's in-view samples at one camera."""
    found: list[_Passage] = []
    for vehicle, on_road, states, shown_mask in passages_in_view(
        camera, position, traffic, start, end, STEP_S
    ):
        shown = np.flatnonzero(shown_mask)
        runs = np.split(shown, np.flatnonzero(np.diff(shown) > 1) + 1) if shown.size else []
        found.extend(
            _Passage(vehicle, index, on_road[run], states.take(run))
            for index, run in enumerate(runs)
        )
    return found


def _sighting(
    camera: Camera,
    renderer: CameraRenderer,
    traffic: Traffic,
    nearby: NDArray[np.int64],
    passage: _Passage,
    noise: SightingNoise,
    rng: np.random.Generator,
) -> Sighting | None:
    """One noisy sighting of a passage; None when the vehicle is never drawn (occluded)."""
    looked = _appearance(renderer, traffic, nearby, passage)
    if looked is None:
        return None
    vector, box, frame_index, visibility = looked
    states, times = passage.states, passage.times
    route_class = traffic.route(passage.vehicle).vehicle_class
    vehicle_class = "vehicle" if rng.random() < noise.unknown_class else route_class
    step = float(np.hypot(np.diff(states.x), np.diff(states.y)).sum())
    duration = float(times[-1] - times[0])
    speed = step / duration if duration > 0 else None
    heading = _mean_heading(states.heading_deg)
    t_in = float(times[0]) + rng.normal(0.0, noise.time_s)
    t_out = max(t_in, float(times[-1]) + rng.normal(0.0, noise.time_s))
    jitter = rng.normal(0.0, noise.position_m, 4)
    labels = [_edge_label(traffic, int(states.edge[i])) for i in (0, -1)]
    return Sighting(
        id=sighting_id(camera.id, SIM_CLIP, passage.vehicle * 1000 + passage.index),
        camera_id=camera.id,
        t_in=t_in,
        t_out=t_out,
        vehicle_class=vehicle_class,
        appearance=vector,
        quality=float(np.clip(visibility, 0.0, 1.0)),
        evidence=Evidence(SIM_CLIP, frame_index, box),
        entry_xy=(float(states.x[0] + jitter[0]), float(states.y[0] + jitter[1])),
        exit_xy=(float(states.x[-1] + jitter[2]), float(states.y[-1] + jitter[3])),
        heading_deg=(heading + rng.normal(0.0, noise.heading_deg)) % 360.0,
        speed_mps=None
        if speed is None
        else max(0.0, speed * (1 + rng.normal(0, noise.speed_share))),
        entry_edge=labels[0],
        exit_edge=labels[1],
    )


def _appearance(
    renderer: CameraRenderer,
    traffic: Traffic,
    nearby: NDArray[np.int64],
    passage: _Passage,
) -> tuple[NDArray[np.float32], tuple[float, float, float, float], int, float] | None:
    """Appearance from one rendered frame: the middle of the passage, else the next best."""
    count = passage.times.shape[0]
    middle = count // 2
    tries = sorted(range(count), key=lambda i: abs(i - middle))[:4]
    for index in tries:
        states = traffic.states_at(float(passage.times[index]), vehicles=nearby)
        frame = renderer.render(states, index, labels=True)
        rows = np.flatnonzero(frame.ids == passage.vehicle)
        if rows.size == 0:
            continue
        row = int(rows[0])
        visibility = float(frame.visibility[row])
        box = frame.boxes[row]
        if visibility < 0.2 or box[2] - box[0] < 2.0 or box[3] - box[1] < 2.0:
            continue
        vector = describe_boxes(frame.image, box[None, :])[0]
        bbox = (float(box[0]), float(box[1]), float(box[2]), float(box[3]))
        return vector, bbox, index, visibility
    return None


def _mean_heading(headings: NDArray[np.float64]) -> float:
    """Circular mean of headings in degrees (clockwise from north)."""
    radians = np.radians(headings)
    return (
        math.degrees(math.atan2(float(np.sin(radians).sum()), float(np.cos(radians).sum()))) % 360.0
    )


def _edge_label(traffic: Traffic, edge: int) -> str:
    """``u-v-key`` of a street row, as sightings carry it."""
    streets = traffic.streets
    u, v = streets.node_ids[streets.u[edge]], streets.node_ids[streets.v[edge]]
    return f"{u}-{v}-{streets.key[edge]}"
