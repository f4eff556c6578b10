"""Renderer and ground truth: boxes hold the pixels, occlusion, night, determinism, video."""

from __future__ import annotations

from pathlib import Path

import cv2
import networkx as nx
import numpy as np
import pytest

from camera_registry import Camera
from camera_registry.geometry import homography_from_pose
from skynet.errors import BadInputError
from skynet.synthetic import _scene
from skynet.synthetic._fleet import CLASS_CODE, CLASS_SIZE_M
from skynet.synthetic._projection import Projector, projection_from_homography, projection_from_pose
from skynet.synthetic.groundtruth import mot_rows, record_clip, rows_from_records
from skynet.synthetic.render import (
    CameraRenderer,
    RenderedFrame,
    _noise_bank,
    in_view,
    read_video_frame_count,
    write_video,
)
from skynet.synthetic.traffic import ScriptedVehicle, Traffic, VehicleStates
from trackers.mot import read_mot

WIDTH, HEIGHT = 320, 180
POSE = {"height_m": 6.0, "heading_deg": 0.0, "tilt_deg": 18.0, "fov_deg": 70.0}


def grid(n: int = 5, spacing: float = 100.0) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    for i in range(n):
        for j in range(n):
            graph.add_node(i * n + j, x=i * spacing, y=j * spacing, lon=0.0, lat=0.0)
    for i in range(n):
        for j in range(n):
            for a, b in ((i + 1, j), (i, j + 1)):
                if a < n and b < n:
                    for u, v in ((i * n + j, a * n + b), (a * n + b, i * n + j)):
                        graph.add_edge(
                            u, v, length=spacing, highway="residential", maxspeed=40, oneway=False
                        )
    return graph


def camera(x: float = 200.0, y: float = 130.0, **pose: float) -> Camera:
    settings = {**POSE, **pose}
    homography = homography_from_pose(x, y, image_width=WIDTH, image_height=HEIGHT, **settings)
    return Camera(
        id="cam-1", name="test", kind="road", lon=0.0, lat=0.0,
        heading_deg=settings["heading_deg"], fov_deg=settings["fov_deg"],
        height_m=settings["height_m"],
        image_width=WIDTH, image_height=HEIGHT, fps=10.0,
        homography=tuple(float(v) for v in homography.ravel()),  # type: ignore[arg-type]
    )  # fmt: skip


def states(rows: list[tuple[int, str, float, float, float]]) -> VehicleStates:
    """Vehicles ``(id, class, x, y, heading)`` with their class's nominal size."""
    codes = np.array([CLASS_CODE[r[1]] for r in rows], dtype=np.int8)
    size = CLASS_SIZE_M[codes]
    return VehicleStates(
        ids=np.array([r[0] for r in rows], dtype=np.int64),
        class_code=codes,
        x=np.array([r[2] for r in rows], dtype=np.float64),
        y=np.array([r[3] for r in rows], dtype=np.float64),
        heading_deg=np.array([r[4] for r in rows], dtype=np.float64),
        length=size[:, 0].copy(),
        width=size[:, 1].copy(),
        height=size[:, 2].copy(),
        colour=np.tile(np.array([[40, 60, 200]], dtype=np.uint8), (len(rows), 1)),
        edge=np.zeros(len(rows), dtype=np.int64),
    )


@pytest.fixture(scope="module")
def graph() -> nx.MultiDiGraph:
    return grid()


@pytest.fixture(scope="module")
def day(graph: nx.MultiDiGraph) -> CameraRenderer:
    return CameraRenderer(camera(), graph, seed=1, noise_sigma=0.0)


@pytest.fixture(scope="module")
def night(graph: nx.MultiDiGraph) -> CameraRenderer:
    return CameraRenderer(camera(), graph, night=True, seed=1, noise_sigma=0.0)


@pytest.mark.parametrize("heading", [0.0, 33.0, 90.0, 200.0, 301.0])
def test_projection_recovered_from_the_homography(heading: float) -> None:
    pose = {**POSE, "heading_deg": heading}
    homography = homography_from_pose(5e5, 3e6, image_width=640, image_height=360, **pose)
    recovered = projection_from_homography(homography, 640, 360)
    direct = projection_from_pose(5e5, 3e6, image_width=640, image_height=360, **pose)
    points = np.array(
        [[5e5 + 3.0, 3e6 + 20.0, 0.0], [5e5 - 4.0, 3e6 + 30.0, 2.5], [5e5, 3e6 + 9.0, 1.0]]
    )
    ours, _ = Projector(recovered, 640, 360).project(points)
    theirs, _ = Projector(direct, 640, 360).project(points)
    assert np.allclose(ours, theirs, atol=1e-3)
    assert np.allclose(
        Projector(recovered, 640, 360).centre, [5e5, 3e6, POSE["height_m"]], atol=1e-3
    )


def test_each_vehicles_pixels_fall_inside_its_box(day: CameraRenderer) -> None:
    scene = [
        (1, "car", 201.5, 150.0, 0.0),
        (2, "truck", 198.5, 170.0, 180.0),
        (3, "e_bike", 204.0, 145.0, 20.0),
        (4, "van", 195.0, 140.0, 90.0),
    ]
    frame = day.render(states(scene), labels=True)
    assert sorted(frame.ids.tolist()) == [1, 2, 3, 4]
    for vehicle, row in zip(frame.ids.tolist(), frame.boxes, strict=True):
        alone = day.render(states([s for s in scene if s[0] != vehicle]))
        changed = np.any(frame.image != alone.image, axis=2)
        ys, xs = np.nonzero(changed)
        assert xs.size > 20, vehicle
        x0, y0, x1, y1 = row
        assert xs.min() >= np.floor(x0) - 1 and xs.max() <= np.ceil(x1) + 1, vehicle
        assert ys.min() >= np.floor(y0) - 1 and ys.max() <= np.ceil(y1) + 1, vehicle
        assert frame.labels is not None
        _, lx = np.nonzero(frame.labels == int(np.flatnonzero(frame.ids == vehicle)[0]) + 1)
        assert lx.min() >= np.floor(x0) - 1 and lx.max() <= np.ceil(x1) + 1


def test_occluded_vehicles_are_marked(day: CameraRenderer) -> None:
    scene = [
        (7, "car", 201.5, 165.0, 0.0),
        (8, "truck", 201.5, 152.0, 0.0),
        (9, "car", 190.0, 150.0, 0.0),
    ]
    frame = day.render(states(scene), labels=True)
    visibility = dict(zip(frame.ids.tolist(), frame.visibility.tolist(), strict=True))
    assert visibility[8] == pytest.approx(1.0)
    assert visibility[9] == pytest.approx(1.0)
    assert 0.0 <= visibility[7] < 0.9
    rows = mot_rows(5, frame)
    by_id = {int(r[1]) - 1: r for r in rows}
    assert 8 in by_id and by_id[8][8] == pytest.approx(1.0)
    if 7 in by_id:
        assert by_id[7][8] < 1.0
    assert np.all(rows[:, 0] == 5)
    codes = dict(zip(frame.ids.tolist(), frame.class_code.tolist(), strict=True))
    assert all(int(r[7]) == codes[int(r[1]) - 1] + 1 for r in rows)


def test_fully_hidden_vehicles_get_no_row(day: CameraRenderer) -> None:
    frame = day.render(
        states([(1, "car", 201.5, 150.0, 0.0), (2, "car", 198.5, 160.0, 0.0)]), labels=True
    )
    assert frame.visible_px is not None
    hidden = RenderedFrame(
        image=frame.image, ids=frame.ids, class_code=frame.class_code, boxes=frame.boxes,
        labels=frame.labels, visible_px=np.array([frame.visible_px[0], 0]),
        silhouette_px=frame.silhouette_px,
    )  # fmt: skip
    rows = mot_rows(1, hidden)
    assert rows.shape == (1, 9) and int(rows[0, 1]) == int(frame.ids[0]) + 1


def test_night_is_dark_but_headlights_are_bright(
    day: CameraRenderer, night: CameraRenderer
) -> None:
    oncoming = states([(1, "car", 198.5, 160.0, 180.0)])
    lit, dark = day.render(oncoming), night.render(oncoming)
    assert dark.image.mean() < 0.35 * lit.image.mean()
    x0, y0, x1, y1 = dark.boxes[0]
    around = dark.image[int(y0) : int(y1) + 1, int(x0) : int(x1) + 1]
    assert around.max() >= 240
    empty = night.render(states([]))
    assert empty.image.max() < 200  # the glare comes from the vehicle, not the scene


def test_same_seed_same_frames(graph: nx.MultiDiGraph) -> None:
    traffic = Traffic.simulate(graph, n_vehicles=60, seed=4, window_s=60.0)
    one = CameraRenderer(camera(), graph, seed=9)
    two = CameraRenderer(camera(), graph, seed=9)
    other = CameraRenderer(camera(), graph, seed=10)
    first = [f.image for f in one.clip(traffic, start_s=30.0, n_frames=4)]
    second = [f.image for f in two.clip(traffic, start_s=30.0, n_frames=4)]
    third = [f.image for f in other.clip(traffic, start_s=30.0, n_frames=4)]
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    assert not np.array_equal(first[0], third[0])
    assert not np.array_equal(first[0], first[1])  # noise changes from frame to frame


def test_clip_video_and_ground_truth(graph: nx.MultiDiGraph, tmp_path: Path) -> None:
    traffic = Traffic.simulate(graph, n_vehicles=5, seed=2, window_s=10.0)
    north = [(2 * 5 + 0), (2 * 5 + 1), (2 * 5 + 2), (2 * 5 + 3)]
    fleet = traffic.with_vehicles([ScriptedVehicle(route=north, depart_s=0.0, speed_factor=1.0)])
    runner = fleet.n_vehicles - 1
    route = fleet.route(runner)
    start = float(
        route.enter_s[1] + 0.4 * (route.leave_s[1] - route.enter_s[1])
    )  # ahead of the camera
    renderer = CameraRenderer(camera(), graph, seed=3)
    truth = record_clip(
        renderer, fleet, start_s=start, n_frames=12, fps=10.0, video_path=tmp_path / "clip.avi"
    )
    assert read_video_frame_count(tmp_path / "clip.avi") == 12
    assert runner in truth.vehicle_ids.tolist()
    assert truth.track_map()[runner + 1] == runner
    assert truth.rows[:, 0].min() >= 1 and truth.rows[:, 0].max() <= 12
    gt_path, map_path = truth.write(tmp_path / "gt")
    assert np.allclose(rows_from_records(read_mot(gt_path)), truth.rows, atol=0.01)
    assert f"cam-1,{runner + 1},{runner}" in map_path.read_text()
    boxes = truth.rows[:, 2:6]
    assert np.all(boxes[:, :2] >= 0) and np.all(boxes[:, 0] + boxes[:, 2] <= WIDTH + 1e-9)


def test_mp4_reads_back(tmp_path: Path) -> None:
    frames = [np.full((36, 64, 3), 20 * i, dtype=np.uint8) for i in range(7)]
    assert write_video(tmp_path / "x.mp4", frames, 10.0) == 7
    assert read_video_frame_count(tmp_path / "x.mp4") == 7
    capture = cv2.VideoCapture(str(tmp_path / "x.mp4"))
    ok, first = capture.read()
    capture.release()
    assert ok and first.shape == (36, 64, 3)


def test_bad_input(graph: nx.MultiDiGraph, day: CameraRenderer, tmp_path: Path) -> None:
    bare = Camera(id="c", name="c", kind="road", lon=0.0, lat=0.0)
    with pytest.raises(BadInputError, match="homography"):
        CameraRenderer(bare, graph)
    with pytest.raises(BadInputError, match="extension"):
        write_video(tmp_path / "x.gif", [np.zeros((8, 8, 3), np.uint8)], 5.0)
    with pytest.raises(BadInputError, match="labels"):
        mot_rows(1, day.render(states([(1, "car", 201.5, 150.0, 0.0)])))
    (tmp_path / "bad.txt").write_text("a,b,c\n")
    with pytest.raises(BadInputError, match=r"bad\.txt"):
        read_mot(tmp_path / "bad.txt")
    (tmp_path / "mot15.txt").write_text("1,1,0,0,5,5,1\n")
    with pytest.raises(BadInputError, match="class and visibility"):
        rows_from_records(read_mot(tmp_path / "mot15.txt"))


def test_rendering_smaller_than_the_camera_scales_the_boxes(graph: nx.MultiDiGraph) -> None:
    full = CameraRenderer(camera(), graph, seed=1, noise_sigma=0.0)
    half = CameraRenderer(camera(), graph, seed=1, noise_sigma=0.0, size=(WIDTH // 2, HEIGHT // 2))
    scene = states([(1, "van", 201.5, 150.0, 0.0)])
    big, small = full.render(scene), half.render(scene)
    assert small.image.shape == (HEIGHT // 2, WIDTH // 2, 3)
    assert np.allclose(small.boxes, big.boxes / 2.0, atol=1e-6)


def test_small_boxes_can_be_left_out_of_the_truth(day: CameraRenderer) -> None:
    frame = day.render(
        states([(1, "car", 201.5, 150.0, 0.0), (2, "car", 201.5, 240.0, 0.0)]), labels=True
    )
    heights = frame.boxes[:, 3] - frame.boxes[:, 1]
    cut = float(heights.min() + heights.max()) / 2.0
    assert len(mot_rows(1, frame)) == 2
    kept = mot_rows(1, frame, min_height_px=cut)
    assert len(kept) == 1 and kept[0, 5] >= cut


def test_utm_sized_coordinates_render_like_local_ones() -> None:
    east, north = 500_000.0, 3_000_000.0
    local, far = grid(3), grid(3)
    for _, data in far.nodes(data=True):
        data["x"] += east
        data["y"] += north
    near_cam = camera()
    far_cam = camera(200.0 + east, 130.0 + north)
    scene = [(1, "car", 201.5, 150.0, 0.0), (2, "truck", 198.5, 175.0, 180.0)]
    moved = [(i, kind, x + east, y + north, h) for i, kind, x, y, h in scene]
    a = CameraRenderer(near_cam, local, seed=1, noise_sigma=0.0).render(states(scene), labels=True)
    b = CameraRenderer(far_cam, far, seed=1, noise_sigma=0.0).render(states(moved), labels=True)
    assert np.allclose(a.boxes, b.boxes, atol=1e-3)
    assert a.visible_px is not None and b.visible_px is not None
    assert np.array_equal(a.visible_px, b.visible_px)
    assert np.abs(a.image.astype(int) - b.image.astype(int)).mean() < 2.0


def test_in_view_matches_what_is_drawn(day: CameraRenderer) -> None:
    scene = [
        (1, "car", 201.5, 150.0, 0.0),  # ahead
        (2, "car", 201.5, 100.0, 0.0),  # behind the camera
        (3, "car", 201.5, 700.0, 0.0),  # beyond the picture's reach
        (4, "car", 120.0, 140.0, 0.0),  # off to the side, outside the field of view
        (5, "truck", 198.5, 175.0, 180.0),  # ahead
    ]
    shown = in_view(camera(), states(scene))
    assert shown.tolist() == [True, False, False, False, True]
    drawn = day.render(states(scene))
    assert sorted(drawn.ids.tolist()) == [1, 5]


def test_on_screen_clock_changes_with_time(graph: nx.MultiDiGraph) -> None:
    renderer = CameraRenderer(camera(), graph, seed=1, noise_sigma=0.0, osd=True)
    empty = states([])
    plain = renderer.render(empty)
    first = renderer.render(empty, time_s=1_700_000_000.0)
    later = renderer.render(empty, time_s=1_700_000_061.0)
    corner = (slice(0, 30), slice(0, WIDTH))
    assert not np.array_equal(plain.image[corner], first.image[corner])
    assert not np.array_equal(first.image[corner], later.image[corner])
    assert np.array_equal(first.image[60:], later.image[60:])  # only the caption changes


def test_box_cut_by_the_border_is_bounded_by_its_visible_silhouette() -> None:
    """A roof reaching far past the frame: the box covers the hull inside it, not the clamp."""
    from skynet.synthetic._vehicles import Boxes, in_image_bbox

    roof = np.array([[214, 57], [330, 57], [434, 1071], [-942, 1071]], dtype=np.float64)
    inside = np.array([[10, 10], [50, 10], [50, 40], [10, 40]], dtype=np.float64)
    corners = np.stack([np.concatenate([roof, roof]), np.concatenate([inside, inside])])
    nothing = np.zeros((2, 0))
    boxes = Boxes(
        rows=np.arange(2), corners_px=corners, corners_world=nothing, depth=np.ones(2),
        visible_faces=nothing, face_colour=nothing, axes=nothing, corners_fixed=nothing,
        windows_fixed=nothing, glazed=nothing, glass_colour=nothing,
    )  # fmt: skip
    got = in_image_bbox(boxes, 640, 360)
    # the roof's right edge crosses the bottom row at x = 330 + 104 * 303 / 1014
    assert got[0] == pytest.approx([0.0, 57.0, 330.0 + 104.0 * 303.0 / 1014.0, 360.0])
    assert got[1] == pytest.approx([10.0, 10.0, 50.0, 40.0])


def test_lamp_pools_skip_only_terms_that_are_exactly_zero() -> None:
    """The culled sum is bit for bit the sum of every lamp over every point."""
    rng = np.random.default_rng(7)
    x = rng.uniform(-300.0, 300.0, 20_000).astype(np.float32)
    y = rng.uniform(-50.0, 400.0, 20_000).astype(np.float32)
    lamps = rng.uniform(-600.0, 600.0, (37, 2)).astype(np.float32)
    spread = np.float32(2.0 * _scene._LAMP_SIGMA_M**2)
    full = np.zeros(x.shape, dtype=np.float32)
    for start in range(0, lamps.shape[0], _scene._LAMP_CHUNK):
        chunk = lamps[start : start + _scene._LAMP_CHUNK]
        dx, dy = x[:, None] - chunk[:, 0], y[:, None] - chunk[:, 1]
        full += np.exp(-(dx * dx + dy * dy) / spread).sum(axis=-1)
    culled = _scene._lamp_pools(x, y, lamps)
    assert np.count_nonzero(full) > 100  # some points are lit, many are not
    assert np.array_equal(culled.view(np.uint32), full.view(np.uint32))


def test_noise_bank_draws_normal_noise_of_the_given_sigma() -> None:
    """Each bank frame is round(normal(0, σ) luma + normal(0, 0.35σ) chroma), split by sign."""
    sigma, size = 7.0, (64, 36)
    bank = _noise_bank(np.random.default_rng(3), size, sigma, 2)
    rng = np.random.default_rng(3)
    for positive, negative in bank:
        luma = rng.normal(0.0, sigma, size=(36, 64, 1))
        chroma = rng.normal(0.0, sigma * 0.35, size=(36, 64, 3))
        noise = np.clip(np.rint(luma + chroma), -255, 255).astype(np.int16)
        assert np.array_equal(positive.astype(np.int16) - negative, noise)
        assert not np.any((positive > 0) & (negative > 0))
