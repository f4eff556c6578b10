"""Detectors: the motion detector on scripted scenes, and an ONNX model built here."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from skynet.errors import BadInputError
from trackers.association import iou_matrix
from trackers.detect import Detector, MotionConfig, MotionDetector, OnnxDetector
from trackers.motion import pixel_median

WIDTH, HEIGHT = 1280, 720
CAR = (160, 90)  # width, height in pixels
#: A 1.2 s warm-up instead of the default 2 s, to keep the scripted clips short.
QUICK = MotionConfig(warmup_frames=15, warmup_stride=2)


def scene(seed: int = 0) -> np.ndarray:
    """A textured static background (road-grey with blotches)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(100, 160, size=(HEIGHT // 40, WIDTH // 40, 3), dtype=np.uint8)
    return cv2.resize(small, (WIDTH, HEIGHT), interpolation=cv2.INTER_LINEAR)


def frames(
    count: int, *, start_x: float = 40.0, speed: float = 16.0, seed: int = 0
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Noisy frames of a dark car driving right; yields (image, its true box)."""
    background = scene(seed)
    rng = np.random.default_rng(seed + 1)
    noise_bank = [rng.normal(0.0, 3.0, size=background.shape).astype(np.int16) for _ in range(4)]
    for index in range(count):
        image = background.copy()
        x = int(start_x + speed * index) % (WIDTH - CAR[0])
        box = np.array([x, 400, x + CAR[0], 400 + CAR[1]], dtype=np.float64)
        cv2.rectangle(image, (x, 400), (x + CAR[0] - 1, 400 + CAR[1] - 1), (20, 25, 40), -1)
        noisy = cv2.add(image, noise_bank[index % 4], dtype=cv2.CV_8U)
        yield noisy, box


def best_iou(boxes: np.ndarray, truth: np.ndarray) -> float:
    return float(iou_matrix(truth[None, :], boxes).max()) if len(boxes) else 0.0


def test_motion_detector_is_a_detector() -> None:
    assert isinstance(MotionDetector(), Detector)


@pytest.mark.parametrize("green_only", [False, True])
def test_moving_car_is_boxed_at_full_resolution(green_only: bool) -> None:
    detector = MotionDetector(dataclasses.replace(QUICK, green_only=green_only))
    hits = []
    for index, (image, truth) in enumerate(frames(60)):
        found = detector.detect(image)
        if index >= detector.config.warmup_length + 2:
            assert len(found) == 1, f"frame {index}: {found.boxes}"
            hits.append(best_iou(found.boxes, truth))
            assert found.scores[0] >= 0.7  # a big solid blob is confident
    assert min(hits) > 0.75


def test_warm_up_reports_nothing_and_leaves_no_ghost() -> None:
    """The car drives (slowly) through the default 2 s of learning; then only the car is seen."""
    detector = MotionDetector()
    assert detector.config.warmup_length == 49
    for index, (image, truth) in enumerate(frames(70, start_x=0.0, speed=8.0)):
        found = detector.detect(image)
        if index < detector.config.warmup_length:
            assert len(found) == 0
        elif index > detector.config.warmup_length:
            assert len(found) == 1 and best_iou(found.boxes, truth) > 0.7


def test_static_noisy_scene_gives_no_boxes() -> None:
    detector = MotionDetector(QUICK)
    rng = np.random.default_rng(5)
    background = scene(3)
    for _ in range(50):
        noise = rng.normal(0.0, 6.0, background.shape)
        noisy = np.clip(background + noise, 0, 255).astype(np.uint8)
        assert len(detector.detect(noisy)) == 0


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda im: cv2.add(im, np.full_like(im, 70)), id="brightness-jump"),
        pytest.param(lambda im: cv2.convertScaleAbs(im, alpha=0.45), id="exposure-drop"),
        pytest.param(
            lambda im: np.where(
                np.arange(WIDTH)[None, :, None] < WIDTH * 0.7, cv2.add(im, np.full_like(im, 90)), im
            ).astype(np.uint8),
            id="headlights-sweep",
        ),
    ],
)
def test_sudden_lighting_change_never_yields_a_frame_sized_box(
    change: object,
) -> None:
    """The change frame reports nothing; from the next, the car alone is boxed again."""
    detector = MotionDetector(QUICK)
    jump_at = 35
    recovered_by = jump_at + 1
    for index, (image, truth) in enumerate(frames(75)):
        lit = change(image) if index >= jump_at else image  # type: ignore[operator]
        found = detector.detect(lit)
        areas = (found.boxes[:, 2] - found.boxes[:, 0]) * (found.boxes[:, 3] - found.boxes[:, 1])
        assert (areas < 0.25 * WIDTH * HEIGHT).all(), f"frame {index}: {found.boxes}"
        if index == jump_at:
            assert len(found) == 0  # the change itself: nothing reported
        if index >= recovered_by:
            assert len(found) == 1 and best_iou(found.boxes, truth) > 0.6, f"frame {index}"
    assert detector.relearned == 1


def test_ghost_of_a_car_parked_during_warm_up_clears() -> None:
    """A car stands still while the background is learned, then drives off."""
    detector = MotionDetector(QUICK)
    config = detector.config
    leave_at = config.warmup_length + 5
    total = leave_at + config.ghost_check_frames + 70
    moves = list(frames(total, start_x=200.0, speed=8.0))
    parked_image, parked_box = moves[0]
    ghost_boxes = []
    for index in range(total):
        image, truth = (parked_image, parked_box) if index < leave_at else moves[index - leave_at]
        found = detector.detect(image)
        far_from_car = iou_matrix(found.boxes, truth[None, :])[:, 0] < 0.1
        ghost = iou_matrix(found.boxes[far_from_car], parked_box[None, :])[:, 0] > 0.5
        ghost_boxes.append(bool(ghost.any()))
    assert all(ghost_boxes[leave_at + 22 : leave_at + 27])  # the ghost is seen at first …
    # … then cleared once it has been foreground for ghost_check_frames: it is
    # uncovered over 20 frames (car length / speed), so allow that and a margin
    cleared = ghost_boxes[leave_at + config.ghost_check_frames + 30 :]
    assert len(cleared) >= 30 and not any(cleared)


def beam_print_frames(count: int, lit_until: int) -> Iterator[np.ndarray]:
    """A static scene, lit by a soft-edged patch of light (no outline) until ``lit_until``."""
    background = scene(3).astype(np.float32)
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    glow = 60.0 * np.exp(-(((xx - 640.0) / 90.0) ** 2 + ((yy - 360.0) / 60.0) ** 2))
    lit = np.clip(background + glow[..., None], 0, 255).astype(np.uint8)
    dark = background.astype(np.uint8)
    rng = np.random.default_rng(4)
    noise = [rng.normal(0.0, 3.0, size=dark.shape).astype(np.int16) for _ in range(4)]
    for index in range(count):
        image = lit if index < lit_until else dark
        yield cv2.add(image, noise[index % 4], dtype=cv2.CV_8U)


@pytest.mark.parametrize("still_rule", [True, False])
def test_soft_ghost_without_an_outline_clears_once_still(still_rule: bool) -> None:
    """Light learned into the background leaves a print with no outline: stillness clears it."""
    config = QUICK if still_rule else dataclasses.replace(QUICK, still_frames=60_000)
    detector = MotionDetector(config)
    lit_until = config.warmup_length + 3
    still = QUICK.still_frames
    total = lit_until + 4 * still
    seen = [len(detector.detect(image)) > 0 for image in beam_print_frames(total, lit_until)]
    assert any(seen[lit_until : lit_until + 5])  # the print shows at first …
    tail = seen[lit_until + 2 * still :]
    if still_rule:
        assert not any(tail)  # … and is taken into the background once still
    else:
        assert all(tail)  # without the rule it stays (the outline test cannot see it)


def test_slow_uniform_vehicle_is_not_taken_for_a_still_ghost() -> None:
    """A dark car crawling (0.75 px a frame at the working scale) stays boxed for 6 s."""
    detector = MotionDetector(QUICK)
    detector.prime([scene(0)] * 5)
    hits = [
        best_iou(detector.detect(image).boxes, truth)
        for image, truth in frames(150, start_x=100.0, speed=3.0)
    ]
    assert min(hits) > 0.5


def test_grey_and_small_frames_work() -> None:
    detector = MotionDetector(QUICK)
    clip = list(frames(30))
    for image, _ in clip:
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        small = cv2.resize(grey, (WIDTH // 8, HEIGHT // 8), interpolation=cv2.INTER_AREA)
        found = detector.detect(np.asarray(small, dtype=np.uint8))
    assert len(found) == 1
    assert best_iou(found.boxes * 8, clip[-1][1]) > 0.6


def coloured_car_frames(count: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """A car of the road's grey level (both the channel mean and BT.601 luma), but red."""
    road = np.full((HEIGHT, WIDTH, 3), 130, dtype=np.uint8)
    rng = np.random.default_rng(2)
    for index in range(count):
        image = road.copy()
        x = 40 + 16 * index
        cv2.rectangle(image, (x, 400), (x + CAR[0] - 1, 400 + CAR[1] - 1), (83, 100, 207), -1)
        noise = rng.normal(0.0, 3.0, image.shape)
        yield (
            np.clip(image + noise, 0, 255).astype(np.uint8),
            np.array([x, 400, x + CAR[0], 400 + CAR[1]], dtype=np.float64),
        )


def test_a_car_of_the_road_s_grey_level_is_found_by_its_colour() -> None:
    colour, grey = MotionDetector(QUICK), MotionDetector(dataclasses.replace(QUICK, colour=False))
    clip = list(coloured_car_frames(40))
    for image, _ in clip:
        in_colour, in_grey = colour.detect(image), grey.detect(image)
    truth = clip[-1][1]
    assert len(in_colour) == 1 and best_iou(in_colour.boxes, truth) > 0.7
    assert best_iou(in_grey.boxes, truth) < 0.5  # grey alone barely sees it


def night_frames(count: int) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """An empty dark road, then (after the warm-up) a dark car with two headlights coming
    down the picture, its beam on the road below it."""
    rng = np.random.default_rng(4)
    road = rng.integers(10, 22, size=(HEIGHT, WIDTH, 3)).astype(np.uint8)
    for index in range(count):
        image = road.copy()
        x, y = 500 + 4 * index, 200 + 4 * index
        if index < QUICK.warmup_length:
            yield np.clip(image + rng.normal(0.0, 3.0, image.shape), 0, 255).astype(np.uint8), None
            continue
        beam = image[y + CAR[1] : y + 3 * CAR[1], x - 20 : x + CAR[0] + 20]
        cv2.add(beam, np.full_like(beam, 40), dst=beam)
        cv2.rectangle(image, (x, y), (x + CAR[0] - 1, y + CAR[1] - 1), (50, 60, 75), -1)
        for lamp_x in (x + 25, x + CAR[0] - 25):
            cv2.circle(image, (lamp_x, y + CAR[1] - 18), 12, (255, 255, 255), -1)
        box = np.array([x, y, x + CAR[0], y + CAR[1]], dtype=np.float64)
        yield np.clip(image + rng.normal(0.0, 3.0, image.shape), 0, 255).astype(np.uint8), box


def test_night_mode_cuts_the_headlight_beam_out_of_the_box() -> None:
    cut = MotionDetector(QUICK)
    uncut = MotionDetector(dataclasses.replace(QUICK, night_lamps=False))
    clip = list(night_frames(40))
    for image, _ in clip:
        with_cut, without = cut.detect(image), uncut.detect(image)
    truth = clip[-1][1]
    assert cut.night and uncut.night  # chosen from the dark background
    assert truth is not None
    assert len(with_cut) == 1 and best_iou(with_cut.boxes, truth) > 0.7
    assert best_iou(without.boxes, truth) < 0.5  # car and beam in one long box
    day = MotionDetector(QUICK)
    for image, _ in frames(35):
        day.detect(image)
    assert not day.night


def test_bad_image_and_config() -> None:
    with pytest.raises(BadInputError, match="image"):
        MotionDetector().detect(np.zeros((10, 10, 2), np.uint8))
    with pytest.raises(BadInputError, match="learn_rate"):
        MotionConfig(learn_rate=0.0)
    with pytest.raises(BadInputError, match="work_width"):
        MotionConfig(work_width=4)
    with pytest.raises(BadInputError, match="night_level"):
        MotionConfig(night_level=-1.0)


def test_detection_cost_per_frame_at_720p() -> None:
    """Well under the decode time of a 720p frame (a few ms) on one thread."""
    previous = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        detector = MotionDetector(QUICK)
        clip = [image for image, _ in frames(80)]
        for image in clip[:20]:
            detector.detect(image)
        began = time.perf_counter()
        for image in clip[20:]:
            detector.detect(image)
        per_frame_ms = (time.perf_counter() - began) / 60 * 1000
    finally:
        cv2.setNumThreads(previous)
    print(f"motion detection at 1280x720: {per_frame_ms:.2f} ms/frame")
    assert per_frame_ms < 6.0  # measured ~1 ms; generous for a shared machine


# ------------------------------------------------------------------ ONNX
onnx = pytest.importorskip("onnx")

FIXED_ROWS = np.array(
    [[10, 20, 50, 60, 0.9, 1], [30, 30, 40, 40, 0.05, 2], [60, 60, 80, 90, 0.6, 0]],
    dtype=np.float32,
)


def build_model(path: Path, rows: np.ndarray, side: int = 64) -> Path:
    """A graph returning ``rows`` whatever the image (plus 0 × its mean, so it reads the input)."""
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node("Constant", [], ["fixed"], value=numpy_helper.from_array(rows, "fixed")),
        helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
        helper.make_node(
            "Constant",
            [],
            ["zero"],
            value=numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
        ),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["fixed", "nothing"], ["detections"]),
    ]
    graph = helper.make_graph(
        nodes,
        "fixed-boxes",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, side, side])],
        [helper.make_tensor_value_info("detections", TensorProto.FLOAT, list(rows.shape))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def test_onnx_boxes_scaled_to_the_frame_and_filtered(tmp_path: Path) -> None:
    model = build_model(tmp_path / "fixed.onnx", FIXED_ROWS)
    detector = OnnxDetector(model, input_size=(64, 64), min_score=0.1)
    assert isinstance(detector, Detector)
    found = detector.detect(np.zeros((128, 256, 3), np.uint8))  # x × 4, y × 2
    np.testing.assert_allclose(found.boxes, [[40, 40, 200, 120], [240, 120, 256, 128]])
    np.testing.assert_allclose(found.scores, [0.9, 0.6], atol=1e-6)
    assert found.classes is not None and found.classes.tolist() == [1, 0]


def test_onnx_missing_or_invalid_model(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="not found"):
        OnnxDetector(tmp_path / "absent.onnx")
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x08\x01this is not a protobuf model" * 10)
    with pytest.raises(BadInputError) as error:
        OnnxDetector(garbage)
    assert "garbage.onnx" in str(error.value)


def test_onnx_output_of_the_wrong_shape(tmp_path: Path) -> None:
    model = build_model(tmp_path / "wide.onnx", np.zeros((3, 5), np.float32))
    detector = OnnxDetector(model, input_size=(64, 64))
    with pytest.raises(BadInputError, match="N x 6"):
        detector.detect(np.zeros((64, 64, 3), np.uint8))


@pytest.mark.parametrize("count", [1, 2, 7, 20, 40])
def test_pixel_median_is_numpys_median(count: int) -> None:
    stack = np.random.default_rng(count).integers(0, 256, (9, 13, 3, count), dtype=np.uint8)
    expected = np.median(np.moveaxis(stack, -1, 0).astype(np.float32), axis=0)
    assert np.array_equal(pixel_median(stack), expected.astype(np.float32))
    planes = [np.ascontiguousarray(stack[..., i]) for i in range(count)]
    kept = [plane.copy() for plane in planes]
    assert np.array_equal(pixel_median(planes), expected.astype(np.float32))
    assert all(np.array_equal(a, b) for a, b in zip(planes, kept, strict=True))  # left as given


def test_extents_are_each_labels_bounds() -> None:
    """Per-label pixel bounds equal a plain per-pixel min/max, labels without pixels inf."""
    from trackers._lamps import extents

    rng = np.random.default_rng(4)
    owner = rng.integers(0, 9, 5_000)
    owner[owner == 5] = 6  # label 5 has no pixel
    rows, cols = rng.integers(0, 360, 5_000), rng.integers(0, 640, 5_000)
    top, bottom, left, right = extents(owner, rows, cols, 10)
    for label in range(1, 10):
        mine = owner == label
        if not mine.any():
            assert np.isinf([top[label - 1], left[label - 1]]).all()
            continue
        assert top[label - 1] == rows[mine].min() and bottom[label - 1] == rows[mine].max() + 1
        assert left[label - 1] == cols[mine].min() and right[label - 1] == cols[mine].max() + 1
    empty = extents(owner[:0], rows[:0], cols[:0], 3)
    assert all(np.isinf(side).all() for side in empty)
