"""The describe stage against synthetic ground truth: ground motion, edges, class, sightings."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import pytest
import shapely

from camera_registry import Camera
from camera_registry.geometry import homography_from_pose
from skynet.errors import BadInputError
from skynet.synthetic.render import CameraRenderer
from skynet.synthetic.traffic import ScriptedVehicle, Traffic
from trackers import ground
from trackers.describe import TrackDescriber
from trackers.sighting import Sighting, sighting_id
from trackers.track import TrackFrame
from trackers.watched import WatchedEdges

WIDTH, HEIGHT, FPS = 640, 360, 10.0
SPACING = 100.0
N = 5


def node(i: int, j: int) -> int:
    """Grid node at (i·100 m, j·100 m)."""
    return i * N + j


def grid() -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    for i in range(N):
        for j in range(N):
            graph.add_node(node(i, j), x=i * SPACING, y=j * SPACING, lon=0.0, lat=0.0)
    for i in range(N):
        for j in range(N):
            for a, b in ((i + 1, j), (i, j + 1)):
                if a < N and b < N:
                    for u, v in ((node(i, j), node(a, b)), (node(a, b), node(i, j))):
                        graph.add_edge(u, v, length=SPACING, highway="residential",
                                       maxspeed=40, oneway=False)  # fmt: skip
    return graph


GRAPH = grid()


def camera(
    x: float = 200.0, y: float = 130.0, heading: float = 0.0, *, calibrated: bool = True
) -> Camera:
    """A camera 6 m up looking along ``heading``, tilted 18° down (the x = 200 road ahead)."""
    homography = homography_from_pose(
        x, y, height_m=6.0, heading_deg=heading, tilt_deg=18.0, fov_deg=70.0,
        image_width=WIDTH, image_height=HEIGHT,
    )  # fmt: skip
    return Camera(
        id="cam-7", name="test", kind="road", lon=0.0, lat=0.0, heading_deg=heading,
        fov_deg=70.0, image_width=WIDTH, image_height=HEIGHT, fps=FPS,
        homography=tuple(float(v) for v in homography.ravel()) if calibrated else None,  # type: ignore[arg-type]
    )  # fmt: skip


@dataclass
class Pass:
    """One scripted vehicle rendered past a camera: its sighting and its true states."""

    sightings: list[Sighting]
    times: np.ndarray
    x: np.ndarray
    y: np.ndarray
    length: float
    width: float


def drive(
    route: list[int],
    vehicle_class: str = "car",
    *,
    cam: Camera | None = None,
    frames: int = 200,
    size: tuple[int, int] | None = None,
    watched: dict[str, shapely.LineString] | None = None,
    class_names: dict[int, str] | None = None,
    detector_class: int = -1,
) -> Pass:
    """Render the vehicle's passage; its exact boxes are the track (id 1)."""
    cam = cam or camera()
    background = Traffic.simulate(GRAPH, n_vehicles=1, seed=1, window_s=1.0)
    fleet = background.with_vehicles(
        [ScriptedVehicle(route=route, depart_s=1000.0, vehicle_class=vehicle_class)]
    )
    vehicle = np.array([fleet.n_vehicles - 1])
    renderer = CameraRenderer(cam, GRAPH, seed=3, size=size)
    describer = TrackDescriber(
        cam, "clip-1", watched_edges=watched, class_names=class_names, min_frames=3
    )
    seen: list[tuple[float, float, float]] = []
    length = width = 0.0
    for index in range(frames):
        now = 1000.0 + index / FPS
        states = fleet.states_at(now, vehicles=vehicle)
        if len(states) == 0:
            continue
        frame = renderer.render(states, index)
        if len(frame.ids) == 0 or frame.boxes[0, 3] - frame.boxes[0, 1] < 6.0:
            continue  # a detector would not find it
        tracks = TrackFrame(
            frame=index, ids=np.array([1]), boxes=frame.boxes.copy(), scores=np.array([0.9]),
            classes=np.array([detector_class]), detections=np.array([0]),
        )  # fmt: skip
        describer.observe(index, now, frame.image, tracks)
        seen.append((now, float(states.x[0]), float(states.y[0])))
        length, width = float(states.length[0]), float(states.width[0])
    truth = np.array(seen)
    return Pass(describer.finish(), truth[:, 0], truth[:, 1], truth[:, 2], length, width)


NORTH = [node(2, j) for j in range(N)]  # x = 200, going away from the camera
SOUTH = NORTH[::-1]  # towards the camera
EAST = [node(i, 2) for i in range(N)]  # y = 200, across the view


@pytest.mark.parametrize(
    ("route", "vehicle_class", "heading"),
    [(NORTH, "car", 0.0), (SOUTH, "truck", 180.0), (EAST, "car", 90.0), (EAST, "e_bike", 90.0)],
    ids=["car-away", "truck-towards", "car-across", "e_bike-across"],
)
def test_ground_motion_matches_the_synthetic_truth(
    route: list[int], vehicle_class: str, heading: float
) -> None:
    run = drive(route, vehicle_class, frames=400 if vehicle_class == "e_bike" else 200)
    (sighting,) = run.sightings
    truth_speed = float(
        np.hypot(np.diff(run.x), np.diff(run.y)).sum() / (run.times[-1] - run.times[0])
    )
    # Points are the vehicle's centre after the half-extent correction: the
    # raw contact point is up to L/2 (4.25 m for a truck seen end-on) short.
    assert sighting.entry_xy is not None and sighting.exit_xy is not None
    assert np.hypot(*np.subtract(sighting.entry_xy, (run.x[0], run.y[0]))) < 1.0
    assert np.hypot(*np.subtract(sighting.exit_xy, (run.x[-1], run.y[-1]))) < 1.0
    assert sighting.heading_deg is not None and sighting.speed_mps is not None
    assert ground.angle_between(sighting.heading_deg, heading) < 5.0
    assert abs(sighting.speed_mps / truth_speed - 1.0) < 0.05
    assert sighting.t_in == pytest.approx(run.times[0])
    assert sighting.t_out == pytest.approx(run.times[-1])
    assert sighting.vehicle_class == vehicle_class  # from the footprint alone


@pytest.mark.parametrize(("route", "half"), [(NORTH, "length"), (EAST, "width")])
def test_contact_point_is_short_of_the_centre_by_the_half_extent(
    route: list[int], half: str
) -> None:
    """Quantifies the error of the raw bottom-centre point that the correction removes."""
    cam = camera()
    background = Traffic.simulate(GRAPH, n_vehicles=1, seed=1, window_s=1.0)
    fleet = background.with_vehicles([ScriptedVehicle(route=route, depart_s=0.0)])
    renderer = CameraRenderer(cam, GRAPH, seed=3)
    homography = cam.homography_matrix
    assert homography is not None
    sign = ground.ground_sign(homography, WIDTH, HEIGHT)
    offsets = []
    for now in np.arange(0.0, 30.0, 0.5):
        states = fleet.states_at(now, vehicles=np.array([fleet.n_vehicles - 1]))
        frame = renderer.render(states)
        box = frame.boxes
        if len(box) == 0 or box[0, 0] <= 2 or box[0, 2] >= WIDTH - 2 or box[0, 3] >= HEIGHT - 2:
            continue
        contact = ground.contact_geometry(homography, box, sign=sign).contact[0]
        offsets.append(np.hypot(contact[0] - states.x[0], contact[1] - states.y[0]))
        expected = (states.length[0] if half == "length" else states.width[0]) / 2.0
    assert len(offsets) > 5
    assert np.allclose(offsets, expected, atol=0.15)


def test_frames_at_another_size_than_the_calibration_give_the_same_ground() -> None:
    full = drive(NORTH, frames=200).sightings[0]
    half = drive(NORTH, frames=200, size=(WIDTH // 2, HEIGHT // 2)).sightings[0]
    assert full.entry_xy is not None and half.entry_xy is not None
    assert np.hypot(*np.subtract(full.entry_xy, half.entry_xy)) < 0.5
    assert half.speed_mps == pytest.approx(full.speed_mps, rel=0.03)


def watched_around(centre: int) -> dict[str, shapely.LineString]:
    """Both directions of every edge at a node, named ``u-v``."""
    edges = {}
    for u, v, data in GRAPH.edges(data=True):
        if centre in (u, v):
            a, b = GRAPH.nodes[u], GRAPH.nodes[v]
            line = data.get("geometry") or shapely.LineString([(a["x"], a["y"]), (b["x"], b["y"])])
            edges[f"{u}-{v}"] = line
    return edges


def test_a_turning_vehicle_enters_and_leaves_on_different_directed_edges() -> None:
    junction = node(2, 2)
    route = [node(2, 0), node(2, 1), junction, node(3, 2), node(4, 2)]  # north, then east
    run = drive(route, watched=watched_around(junction), frames=300)
    (sighting,) = run.sightings
    assert sighting.entry_edge == f"{node(2, 1)}-{junction}"
    assert sighting.exit_edge == f"{junction}-{node(3, 2)}"


def test_edges_need_the_heading_to_agree() -> None:
    run = drive(SOUTH, watched=watched_around(node(2, 2)), frames=200)
    (sighting,) = run.sightings
    # Two-way road: the southbound edges, never their northbound twins.
    assert sighting.entry_edge == f"{node(2, 3)}-{node(2, 2)}"
    assert sighting.exit_edge == f"{node(2, 2)}-{node(2, 1)}"
    unwatched = drive(SOUTH, frames=200).sightings[0]
    assert unwatched.entry_edge is None and unwatched.exit_edge is None


def test_watched_edges_choose_by_direction_and_distance() -> None:
    line = shapely.LineString([(0.0, 0.0), (0.0, 100.0)])
    edges = WatchedEdges({"up": line, "down": line.reverse()}, max_distance_m=10.0)
    found = edges.nearest_agreeing(
        [[1.5, 50.0], [-1.5, 50.0], [1.5, 50.0], [40.0, 50.0], [1.0, 50.0]],
        [2.0, 181.0, 90.0, 0.0, np.nan],
    )
    assert found == ["up", "down", None, None, None]
    assert WatchedEdges({}).nearest_agreeing([[0.0, 0.0]], [0.0]) == [None]
    with pytest.raises(BadInputError, match="LineString"):
        WatchedEdges({"x": shapely.Point(0.0, 0.0)})


def test_a_camera_without_homography_gives_no_ground_fields() -> None:
    calibrated = camera()
    bare = camera(calibrated=False)
    image = np.full((HEIGHT, WIDTH, 3), 90, dtype=np.uint8)
    describer = TrackDescriber(bare, "clip-1", min_frames=2)
    for index in range(4):
        box = np.array([[100.0 + 10 * index, 150.0, 180.0 + 10 * index, 210.0]])
        describer.observe(index, 5.0 + index, image, track_frame(index, [3], box))
    (sighting,) = describer.finish()
    assert sighting.entry_xy is None and sighting.exit_xy is None
    assert sighting.heading_deg is None and sighting.speed_mps is None
    assert sighting.vehicle_class == "vehicle"
    assert (sighting.t_in, sighting.t_out) == (5.0, 8.0)
    assert calibrated.homography is not None


def test_detector_class_wins_over_the_footprint() -> None:
    run = drive(NORTH, "car", frames=200, class_names={0: "person", 2: "truck"}, detector_class=2)
    assert run.sightings[0].vehicle_class == "truck"
    other = drive(NORTH, "car", frames=200, class_names={0: "person"}, detector_class=0)
    assert other.sightings[0].vehicle_class == "car"  # a non-vehicle label is no vote


def track_frame(
    index: int, ids: list[int], boxes: np.ndarray, detections: list[int] | None = None
) -> TrackFrame:
    count = len(ids)
    return TrackFrame(
        frame=index, ids=np.array(ids, dtype=np.int64), boxes=np.asarray(boxes, dtype=np.float64),
        scores=np.full(count, 0.8), classes=np.full(count, -1, dtype=np.int64),
        detections=np.array(detections if detections is not None else list(range(count))),
    )  # fmt: skip


def striped_image() -> np.ndarray:
    image = np.full((HEIGHT, WIDTH, 3), 100, dtype=np.uint8)
    image[:, ::7] = 60
    image[200:300, 100:400] = (30, 40, 200)
    return image


def test_sightings_lifecycle_ids_min_frames_and_coasting() -> None:
    cam = camera()
    image = striped_image()
    describer = TrackDescriber(cam, "clip-9", min_frames=3)
    for index in range(6):
        boxes = np.array([[100.0 + 5 * index, 200.0, 200.0 + 5 * index, 260.0],
                          [300.0, 200.0, 380.0, 250.0]])  # fmt: skip
        ids = [4, 9] if index < 2 else [4]
        detections = [0, 1] if index < 2 else ([0] if index < 5 else [-1])
        describer.observe(index, 100.0 + index * 0.1, image,
                          track_frame(index, ids, boxes[: len(ids)], detections))  # fmt: skip
    assert describer.active_ids == [4, 9]
    assert describer.finish([9, 77]) == []  # 9 has 2 frames < min_frames; 77 never seen
    assert describer.active_ids == [4]
    (sighting,) = describer.finish(None)
    assert sighting.id == sighting_id("cam-7", "clip-9", 4)
    assert sighting.camera_id == "cam-7"
    assert sighting.t_in == pytest.approx(100.0)
    assert sighting.t_out == pytest.approx(100.4)  # the coasting frame 5 is not evidence
    assert 0.0 < sighting.quality <= 1.0
    assert np.isclose(np.linalg.norm(sighting.appearance), 1.0)
    assert describer.finish() == [] and describer.active_ids == []


def test_best_frame_is_the_largest_unoccluded_box() -> None:
    describer = TrackDescriber(camera(), "clip-3", min_frames=1)
    image = striped_image()
    for index in range(6):
        grow = 10.0 * index
        box = [200.0 - grow, 150.0 - grow, 300.0 + grow, 220.0 + grow]
        if index == 5:  # the largest box, but a nearer vehicle hides most of it
            cover = [150.0, 160.0, 360.0, 300.0]
            describer.observe(index, float(index), image,
                              track_frame(index, [1, 2], np.array([box, cover])))  # fmt: skip
        else:
            describer.observe(index, float(index), image, track_frame(index, [1], np.array([box])))
    first = next(s for s in describer.finish() if s.id == sighting_id("cam-7", "clip-3", 1))
    assert first.evidence.frame_index == 4
    assert first.evidence.bbox == (160.0, 110.0, 340.0, 260.0)
    assert first.evidence.clip == "clip-3"


def test_ground_helpers() -> None:
    cam = camera()
    homography = cam.homography_matrix
    assert homography is not None
    sign = ground.ground_sign(homography, WIDTH, HEIGHT)
    points = ground.map_points(homography, [[320.0, 359.0], [320.0, 0.0]], sign)
    assert np.isfinite(points[0]).all() and np.isnan(points[1]).all()  # sky has no ground
    times = np.arange(20) * 0.1
    rng = np.random.default_rng(0)
    track = np.stack([5.0 + 6.0 * times, 2.0 - 8.0 * times], axis=1) + rng.normal(0, 0.05, (20, 2))
    motion = ground.fit_motion(times, track)
    assert motion is not None and motion.heading_deg is not None
    assert ground.angle_between(motion.heading_deg, np.degrees(np.arctan2(6.0, -8.0))) < 2.0
    assert motion.speed_mps == pytest.approx(10.0, rel=0.03)
    short = ground.fit_motion(times[:2], track[:2])
    assert short is not None and short.heading_deg is None and short.speed_mps is None
    assert ground.fit_motion(times[:2], np.full((2, 2), np.nan)) is None
    with pytest.raises(BadInputError, match="min_frames"):
        TrackDescriber(cam, "x", min_frames=0)
    grey = np.zeros((HEIGHT, WIDTH), dtype=np.uint8)
    with pytest.raises(BadInputError, match="BGR"):
        TrackDescriber(cam, "x").observe(0, 0.0, grey, track_frame(0, [1], np.zeros((1, 4))))


def test_a_standing_vehicle_has_a_speed_but_no_heading() -> None:
    rng = np.random.default_rng(1)
    times = np.arange(30) * 0.1
    jitter = np.array([10.0, 20.0]) + rng.normal(0.0, 0.05, (30, 2))
    motion = ground.fit_motion(times, jitter)
    assert motion is not None and motion.speed_mps is not None
    assert motion.speed_mps < 0.3 and motion.heading_deg is None
    assert np.hypot(*np.subtract(motion.entry_xy, (10.0, 20.0))) < 0.2
