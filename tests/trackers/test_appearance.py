"""Appearance vectors: shape, determinism, robustness to light, separability on renders."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from camera_registry import Camera
from camera_registry.geometry import homography_from_pose
from skynet.synthetic._fleet import (
    CLASS_CODE,
    CLASS_SIZE_M,
    VEHICLE_CLASSES,
    random_classes,
    random_colours,
)
from skynet.synthetic.render import CameraRenderer
from skynet.synthetic.traffic import VehicleStates
from trackers.appearance import (
    box_histograms,
    describe_boxes,
    inner_boxes,
    similarity,
    unit_descriptor,
)
from trackers.describe import TrackDescriber
from trackers.sighting import APPEARANCE_DIM
from trackers.track import TrackFrame

ImageU8 = np.ndarray
BOX = np.array([[200.0, 120.0, 440.0, 280.0]])
#: BGR paints of differently coloured vehicles.
PAINTS = {
    "red": (40, 50, 190),
    "blue": (170, 100, 40),
    "green": (50, 130, 50),
    "yellow": (30, 190, 220),
    "white": (235, 235, 235),
    "black": (35, 35, 38),
}
#: Pairs whose difference a change of light may legitimately erase.
_ACHROMATIC = {"white", "black"}


def textured_background(seed: int = 0) -> ImageU8:
    """Grey asphalt-like noise with a few darker stripes."""
    rng = np.random.default_rng(seed)
    image = rng.normal(110.0, 18.0, size=(400, 640, 1)).repeat(3, axis=2)
    image[::37] *= 0.6
    return np.clip(image, 0, 255).astype(np.uint8)


def vehicle(paint: tuple[int, int, int], seed: int = 0) -> ImageU8:
    """A painted body with a dark window band and a little texture, on the road."""
    rng = np.random.default_rng(seed + 1)
    image = textured_background(seed).astype(np.float64)
    body = np.asarray(paint, dtype=np.float64) * rng.normal(1.0, 0.05, size=(140, 220, 1))
    image[130:270, 210:430] = body
    image[150:185, 230:410] = (62, 52, 46)  # windows
    return np.clip(image, 0, 255).astype(np.uint8)


def relit(image: ImageU8, gain: float = 1.0, gamma: float = 1.0) -> ImageU8:
    """The same scene under other light: a gain and/or a gamma curve."""
    scaled = 255.0 * (image / 255.0) ** gamma * gain
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def test_vectors_are_unit_float32_of_the_fixed_dimension() -> None:
    vectors = describe_boxes(vehicle(PAINTS["red"]), np.vstack([BOX, BOX + 20.0]))
    assert vectors.shape == (2, APPEARANCE_DIM)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.all(vectors >= 0.0)


def test_deterministic() -> None:
    image = vehicle(PAINTS["blue"])
    assert np.array_equal(describe_boxes(image, BOX), describe_boxes(image.copy(), BOX))


@pytest.mark.parametrize(
    ("gain", "gamma"), [(0.6, 1.0), (1.4, 1.0), (1.0, 0.7), (1.0, 1.5)], ids=str
)
def test_same_vehicle_under_other_light_stays_closest(gain: float, gamma: float) -> None:
    originals = {name: describe_boxes(vehicle(paint), BOX)[0] for name, paint in PAINTS.items()}
    relit_vectors = {
        name: describe_boxes(relit(vehicle(paint), gain, gamma), BOX)[0]
        for name, paint in PAINTS.items()
    }
    for name, vector in originals.items():
        itself = float(similarity(vector, relit_vectors[name]))
        for other, other_vector in relit_vectors.items():
            if other == name or {name, other} <= _ACHROMATIC:
                continue
            assert itself > float(similarity(vector, other_vector)) + 0.1, (name, other)


def test_lamps_are_not_paint() -> None:
    blue, green, red = PAINTS["green"]
    dark = vehicle((blue // 4, green // 4, red // 4))
    lit = dark.copy()
    lit[215:245, 240:280] = (250, 250, 255)  # a headlight and its glare
    lit[215:245, 360:400] = (250, 250, 255)
    plain, with_lamps = describe_boxes(dark, BOX)[0], describe_boxes(lit, BOX)[0]
    assert float(similarity(plain, with_lamps)) > 0.97


def test_inner_region_ignores_the_road_around_the_vehicle() -> None:
    image = vehicle(PAINTS["yellow"])
    loose = BOX + np.array([[-60.0, -40.0, 60.0, 40.0]])  # box with a wide road margin
    assert float(similarity(describe_boxes(image, BOX)[0], describe_boxes(image, loose)[0])) > 0.9
    bounds = inner_boxes(BOX, 640, 400)[0]
    assert np.allclose(bounds, [248, 152, 392, 248])


def test_boxes_outside_the_image_count_nothing() -> None:
    histograms, pixels = box_histograms(vehicle(PAINTS["red"]), [[700.0, 10.0, 800.0, 60.0]])
    assert pixels.tolist() == [0.0] and not histograms.any()
    uniform = unit_descriptor(histograms)[0]
    assert np.allclose(uniform, uniform[0]) and np.isclose(np.linalg.norm(uniform), 1.0)


def test_large_boxes_are_strided_to_bounded_work() -> None:
    image = vehicle(PAINTS["red"])
    _, pixels = box_histograms(image, [[0.0, 0.0, 640.0, 400.0]])
    assert 0 < pixels[0] <= 1100


# ---------------------------------------------------------------- synthetic renders
WIDTH, HEIGHT = 320, 180


def grid(n: int = 4, spacing: float = 100.0) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    for i in range(n):
        for j in range(n):
            graph.add_node(i * n + j, x=i * spacing, y=j * spacing, lon=0.0, lat=0.0)
            for a, b in ((i - 1, j), (i, j - 1)):
                if a >= 0 and b >= 0:
                    for u, v in ((i * n + j, a * n + b), (a * n + b, i * n + j)):
                        graph.add_edge(u, v, length=spacing, highway="residential",
                                       maxspeed=40, oneway=False)  # fmt: skip
    return graph


def camera(camera_id: str, x: float, y: float, heading: float, tilt: float) -> Camera:
    homography = homography_from_pose(
        x, y, height_m=7.0, heading_deg=heading, tilt_deg=tilt, fov_deg=70.0,
        image_width=WIDTH, image_height=HEIGHT,
    )  # fmt: skip
    return Camera(
        id=camera_id, name=camera_id, kind="road", lon=0.0, lat=0.0, heading_deg=heading,
        image_width=WIDTH, image_height=HEIGHT,
        homography=tuple(float(v) for v in homography.ravel()),  # type: ignore[arg-type]
    )  # fmt: skip


def one_vehicle(
    paint: tuple[int, int, int], x: float, y: float, heading: float, vehicle_class: str = "car"
) -> VehicleStates:
    code = np.array([CLASS_CODE[vehicle_class]], dtype=np.int8)
    size = CLASS_SIZE_M[code]
    return VehicleStates(
        ids=np.array([1]), class_code=code, x=np.array([x]), y=np.array([y]),
        heading_deg=np.array([heading]), length=size[:, 0], width=size[:, 1],
        height=size[:, 2], colour=np.array([paint], dtype=np.uint8), edge=np.zeros(1, np.int64),
    )  # fmt: skip


def rendered_vector(
    renderer: CameraRenderer, paint: tuple[int, int, int], place: tuple[float, float, float]
) -> np.ndarray:
    frame = renderer.render(one_vehicle(paint, *place), 0)
    assert len(frame.ids) == 1
    return np.asarray(describe_boxes(frame.image, frame.boxes)[0])


def test_rendered_vehicle_matches_itself_across_two_cameras() -> None:
    graph = grid()
    # Camera A sees the car from behind on a north-bound road, B from the
    # front on a west-bound one; each camera has its own exposure and noise.
    one = CameraRenderer(camera("A", 101.5, 130.0, 0.0, 18.0), graph, seed=1)
    two = CameraRenderer(camera("B", 230.0, 98.5, 270.0, 24.0), graph, seed=2)
    paints = [PAINTS[name] for name in ("red", "blue", "green", "yellow", "white")]
    seen_a = np.stack([rendered_vector(one, p, (101.5, 160.0, 0.0)) for p in paints])
    seen_b = np.stack([rendered_vector(two, p, (200.0, 98.5, 270.0)) for p in paints])
    scores = seen_a @ seen_b.T
    same = np.diag(scores)
    different = scores[~np.eye(len(paints), dtype=bool)]
    assert np.all(np.argmax(scores, axis=1) == np.arange(len(paints)))
    assert same.min() > 0.8
    assert same.mean() - different.mean() > 0.3


def pass_vectors(
    renderer: CameraRenderer,
    fleet: list[tuple[tuple[int, int, int], str]],
    path: list[tuple[float, float, float]],
) -> np.ndarray:
    """Each vehicle's track appearance (a :class:`TrackDescriber` over its passage)."""
    vectors = []
    for paint, vehicle_class in fleet:
        describer = TrackDescriber(renderer.camera, "clip", min_frames=3)
        for index, place in enumerate(path):
            states = one_vehicle(paint, *place, vehicle_class=vehicle_class)
            frame = renderer.render(states, index)
            tracks = TrackFrame(
                frame=index, ids=np.array([1]), boxes=frame.boxes.copy(), scores=np.array([0.9]),
                classes=np.array([-1]), detections=np.array([0]),
            )  # fmt: skip
            describer.observe(index, index / 10.0, frame.image, tracks)
        (sighting,) = describer.finish()
        vectors.append(sighting.appearance)
    return np.stack(vectors)


@pytest.mark.slow
@pytest.mark.parametrize("night", [False, True], ids=["day", "night"])
@pytest.mark.parametrize("facing", ["opposite", "same"])
def test_separability_across_cameras(night: bool, facing: str) -> None:
    """Same vehicle on two cameras vs different vehicles: the figures the engine calibrates on.

    Run with ``pytest -m slow -s`` to print them. 40 vehicles drawn from the
    synthetic fleet's classes and palettes (so many pairs share a colour);
    camera A sees them from behind, camera B from the front (``opposite``) or
    also from behind (``same``).
    """
    graph = grid()
    rng = np.random.default_rng(5)
    codes = random_classes(rng, 40)
    paints = random_colours(rng, codes)
    fleet = [
        ((int(p[0]), int(p[1]), int(p[2])), VEHICLE_CLASSES[k])
        for p, k in zip(paints.tolist(), codes.tolist(), strict=True)
    ]
    one = CameraRenderer(camera("A", 101.5, 130.0, 0.0, 18.0), graph, seed=1, night=night)
    two = CameraRenderer(camera("B", 130.0, 200.0, 90.0, 24.0), graph, seed=2, night=night)
    path_a = [(101.5, y, 0.0) for y in np.linspace(150.0, 200.0, 10)]
    if facing == "opposite":
        path_b = [(x, 201.5, 270.0) for x in np.linspace(200.0, 150.0, 10)]
    else:
        path_b = [(x, 198.5, 90.0) for x in np.linspace(150.0, 200.0, 10)]
    scores = pass_vectors(one, fleet, path_a) @ pass_vectors(two, fleet, path_b).T
    same = np.diag(scores)
    different = scores[~np.eye(len(fleet), dtype=bool)]
    auc = float(np.mean(same[:, None] > different[None, :]))
    print(
        f"\n{'night' if night else 'day'}/{facing}: same {same.mean():.3f} ± {same.std():.3f}"
        f" (p5 {np.percentile(same, 5):.3f}), different {different.mean():.3f}"
        f" ± {different.std():.3f} (p95 {np.percentile(different, 95):.3f}), AUC {auc:.3f}"
    )
    assert auc > (0.55 if night and facing == "opposite" else 0.85)
