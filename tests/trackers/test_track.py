"""The multi-object tracker's life-cycle rules on small hand-made scenes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from skynet.errors import BadInputError
from trackers.association import iou_matrix
from trackers.boxes import Detections
from trackers.track import MultiObjectTracker, TrackerConfig, TrackFrame

SIZE = np.array([40.0, 80.0])


def box_at(centre: tuple[float, float] | np.ndarray, size: np.ndarray = SIZE) -> np.ndarray:
    centre = np.asarray(centre, dtype=np.float64)
    return np.concatenate([centre - size / 2, centre + size / 2])


def frame_of(*boxes: np.ndarray, score: float = 0.9) -> Detections:
    if not boxes:
        return Detections.empty()
    return Detections.from_arrays(np.stack(boxes), np.full(len(boxes), score))


def walker(start: tuple[float, float], velocity: tuple[float, float], frame: int) -> np.ndarray:
    return box_at(np.asarray(start) + frame * np.asarray(velocity))


def test_a_track_is_confirmed_after_min_hits() -> None:
    tracker = MultiObjectTracker(TrackerConfig(min_hits=3))
    tracker.step(frame_of())  # objects present in the first frame are confirmed at once
    outputs = [tracker.step(frame_of(walker((100, 100), (3, 0), f))) for f in range(5)]
    assert [len(out) for out in outputs] == [0, 0, 1, 1, 1]
    assert {int(out.ids[0]) for out in outputs[2:]} == {1}
    assert tracker.track_count == 1


def test_objects_already_in_the_first_frame_are_reported_at_once() -> None:
    tracker = MultiObjectTracker()
    first = tracker.step(frame_of(box_at((100, 100)), box_at((300, 100))))
    assert first.ids.tolist() == [1, 2]
    assert first.detections.tolist() == [0, 1]


def test_a_one_frame_false_positive_never_gets_an_id() -> None:
    tracker = MultiObjectTracker()
    tracker.step(frame_of())
    outputs = [tracker.step(frame_of(box_at((50, 50)))), tracker.step(frame_of())]
    outputs += [tracker.step(frame_of()) for _ in range(3)]
    assert all(len(out) == 0 for out in outputs)
    assert tracker.track_count == 0


def test_coasting_through_missed_frames_keeps_the_id() -> None:
    config = TrackerConfig(max_age=5, report_coasting=1)
    tracker = MultiObjectTracker(config)
    outputs: list[TrackFrame] = []
    for frame in range(20):
        missed = 8 <= frame < 12  # four frames without a detection
        detections = frame_of() if missed else frame_of(walker((100, 200), (6, 1), frame))
        outputs.append(tracker.step(detections))
    seen_ids = {int(i) for out in outputs for i in out.ids}
    assert seen_ids == {1}
    assert outputs[8].detections.tolist() == [-1]  # one coasting frame is reported
    assert all(len(outputs[frame]) == 0 for frame in (9, 10, 11))
    assert outputs[12].detections.tolist() == [0]
    # the reported coasting box is the constant-velocity prediction
    np.testing.assert_allclose(outputs[8].boxes[0], walker((100, 200), (6, 1), 8), atol=2.0)


@pytest.mark.parametrize("max_age", [1, 4])
def test_a_track_dies_after_max_age_missed_frames(max_age: int) -> None:
    def run(gap: int) -> set[int]:
        tracker = MultiObjectTracker(TrackerConfig(max_age=max_age))
        sequence = [box_at((200, 200))] * 6 + [None] * gap + [box_at((200, 200))] * 6
        ids: set[int] = set()
        for entry in sequence:
            out = tracker.step(frame_of() if entry is None else frame_of(entry))
            ids |= {int(i) for i in out.ids}
        return ids

    assert run(max_age) == {1}  # coasted max_age frames: still alive, same id
    assert run(max_age + 1) == {1, 2}  # one more miss: dead, the object comes back as new


def test_crossing_targets_keep_their_identities() -> None:
    """Two walkers cross head-on; the front one hides the other for three frames."""
    tracker = MultiObjectTracker()
    owner: dict[int, set[int]] = {}
    for frame in range(60):
        left = walker((100, 200), (8, 0.5), frame)
        right = walker((580, 215), (-8, -0.5), frame)
        hidden = 29 <= frame < 32
        boxes = [left] if hidden else [left, right]
        out = tracker.step(frame_of(*boxes))
        for track_id, detection in zip(out.ids, out.detections, strict=True):
            if detection >= 0:
                owner.setdefault(int(track_id), set()).add(int(detection))
    assert len(owner) == 2
    assert sorted(owner.values(), key=min) == [{0}, {1}]


def _union(*boxes: np.ndarray) -> np.ndarray:
    stacked = np.stack(boxes)
    return np.concatenate([stacked[:, :2].min(axis=0), stacked[:, 2:].max(axis=0)])


def test_a_merged_blob_is_shared_by_the_tracks_inside_it() -> None:
    """Two vehicles in one lane close up, run as one motion blob, then part again.

    With ``split_merged`` both keep their ids and follow their vehicles; without
    it the blob goes to one track (stretched over both) and the other dies.
    """
    size_near, size_far = np.array([60.0, 50.0]), np.array([36.0, 30.0])

    def far(frame: int) -> np.ndarray:
        return box_at((300.0, 160.0 - 0.5 * frame), size_far)

    def near(frame: int) -> np.ndarray:
        # the gap to the far one's bottom closes, stays at -6 px (touching), then opens
        gap = max(60.0 - 1.5 * frame, -6.0) if frame < 50 else -6.0 + 1.5 * (frame - 50)
        top = far(frame)[3] + gap
        return box_at((300.0, top + size_near[1] / 2), size_near)

    def run(config: TrackerConfig) -> tuple[list[TrackFrame], list[int]]:
        tracker = MultiObjectTracker(config)
        tracker.step(frame_of())
        outputs: list[TrackFrame] = []
        merged_frames = []
        for frame in range(70):
            a, b = near(frame), far(frame)
            if a[1] - b[3] < 4.0:  # touching: one blob
                merged_frames.append(frame)
                outputs.append(tracker.step(frame_of(_union(a, b))))
            else:
                outputs.append(tracker.step(frame_of(a, b)))
        return outputs, merged_frames

    outputs, merged = run(TrackerConfig(split_merged=True, report_coasting=0))
    assert len(merged) >= 15
    for frame in merged:
        out = outputs[frame]
        assert sorted(out.ids.tolist()) == [1, 2]
        assert out.detections.tolist() == [0, 0]  # both share the one blob
        order = np.argsort(out.boxes[:, 1])  # far (higher in the picture) first
        truth = iou_matrix(out.boxes[order], np.stack([far(frame), near(frame)]))
        assert np.diag(truth).min() >= 0.5, frame
    after = outputs[merged[-1] + 5]
    assert sorted(after.ids.tolist()) == [1, 2]  # apart again, same ids

    plain, _ = run(TrackerConfig(report_coasting=0))
    assert max(len(plain[frame]) for frame in merged[5:]) == 1


def test_pieces_of_one_object_are_not_kept_apart_in_its_blob() -> None:
    """Two halves of one box (stacked, same width) that join are not a merge of two objects."""
    tracker = MultiObjectTracker(TrackerConfig(split_merged=True, report_coasting=0))
    tracker.step(frame_of())
    whole = box_at((300.0, 200.0), np.array([50.0, 80.0]))
    top, bottom = whole.copy(), whole.copy()
    top[3] = bottom[1] = 200.0
    for _ in range(6):
        tracker.step(frame_of(top, bottom))
    outs = [tracker.step(frame_of(whole)) for _ in range(5)]
    assert [len(out) for out in outs] == [1] * 5


def test_low_score_boxes_extend_tracks_but_never_start_one() -> None:
    config = TrackerConfig(high_score=0.5, low_score=0.1, max_age=2)
    tracker = MultiObjectTracker(config)
    tracker.step(frame_of())
    for frame in range(10):  # weak boxes alone: nothing is ever born
        out = tracker.step(frame_of(walker((300, 300), (2, 0), frame), score=0.3))
        assert len(out) == 0
    assert tracker.track_count == 0

    ids: list[int] = []
    for frame in range(20):  # strong for 5 frames, then weak for 15 (> max_age)
        score = 0.9 if frame < 5 else 0.3
        out = tracker.step(frame_of(walker((100, 100), (4, 0), frame), score=score))
        ids += out.ids.tolist()
        if frame >= 5:
            assert out.detections.tolist() == [0]
            assert out.scores.tolist() == [0.3]
    assert set(ids) == {1}


def test_boxes_below_low_score_are_ignored() -> None:
    tracker = MultiObjectTracker(TrackerConfig(low_score=0.2, max_age=1, report_coasting=0))
    for frame in range(5):
        tracker.step(frame_of(walker((100, 100), (4, 0), frame)))
    out = tracker.step(frame_of(walker((100, 100), (4, 0), 5), score=0.1))
    assert len(out) == 0


def test_tracks_only_take_boxes_of_their_own_class() -> None:
    tracker = MultiObjectTracker(TrackerConfig(report_coasting=0))
    box = box_at((200, 200))
    for _ in range(4):
        out = tracker.update(box[None], [0.9], [0])
    assert out.classes.tolist() == [0]
    out = tracker.update(box[None], [0.9], [7])
    assert len(out) == 0  # the class-0 track coasts; a class-7 track is only tentative
    assert tracker.track_count == 2


def test_same_input_gives_the_same_output() -> None:
    rng = np.random.default_rng(3)
    frames = []
    for _ in range(40):
        count = int(rng.integers(0, 12))
        corner = rng.uniform(0, 500, (count, 2))
        boxes = np.concatenate([corner, corner + rng.uniform(20, 90, (count, 2))], axis=1)
        frames.append(Detections.from_arrays(boxes, rng.uniform(0, 1, count)))
    first = MultiObjectTracker().run_detections(frames)
    second = MultiObjectTracker().run_detections(frames)
    for a, b in zip(first, second, strict=True):
        for field in dataclasses.fields(TrackFrame):
            np.testing.assert_array_equal(getattr(a, field.name), getattr(b, field.name))


def test_update_rejects_malformed_detections() -> None:
    tracker = MultiObjectTracker()
    with pytest.raises(BadInputError, match="shape"):
        tracker.update(np.zeros((3, 5)), np.zeros(3))
    with pytest.raises(BadInputError, match="2 scores for 3 boxes"):
        tracker.update(np.zeros((3, 4)), np.zeros(2))
    with pytest.raises(BadInputError, match="x2 >= x1"):
        tracker.update([[10.0, 10.0, 5.0, 20.0]], [0.9])
    assert tracker.frame == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"high_score": 1.5}, "high_score"),
        ({"low_score": 0.8}, "low_score"),
        ({"max_age": -1}, "max_age"),
        ({"min_hits": 0}, "min_hits"),
        ({"report_coasting": -1}, "report_coasting"),
        ({"merge_cover": 1.5}, "merge_cover"),
    ],
)
def test_config_rejects_impossible_values(change: dict[str, float], field: str) -> None:
    with pytest.raises(BadInputError) as caught:
        TrackerConfig(**change)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_pieces_of_a_tracked_object_are_joined_into_one_box() -> None:
    """A dark body at night shows as its lit parts: two boxes inside one track's box."""
    tracker = MultiObjectTracker(TrackerConfig(join_fragments=True, report_coasting=0))
    tracker.step(frame_of())
    whole = box_at((300.0, 200.0), np.array([60.0, 80.0]))
    for _ in range(5):
        tracker.step(frame_of(whole))
    lamps = whole.copy()
    lamps[1] = 215.0  # the lit lower part
    roof = whole.copy()
    roof[3] = 180.0  # the pale roof
    outs = [tracker.step(frame_of(lamps, roof)) for _ in range(5)]
    assert [out.ids.tolist() for out in outs] == [[1]] * 5  # no second track from a piece
    assert iou_matrix(outs[-1].boxes, whole[None, :])[0, 0] > 0.9

    plain = MultiObjectTracker(TrackerConfig(report_coasting=0))
    plain.step(frame_of())
    for _ in range(5):
        plain.step(frame_of(whole))
    out = [plain.step(frame_of(lamps, roof)) for _ in range(5)][-1]
    assert iou_matrix(out.boxes, whole[None, :]).max() < 0.7  # held by one piece


def test_two_objects_parting_are_not_joined() -> None:
    """A track born over two touching objects lets them go once they drift out of its box."""
    tracker = MultiObjectTracker(TrackerConfig(join_fragments=True, report_coasting=0))
    tracker.step(frame_of())
    for frame in range(30):
        gap = 2.0 * frame
        a = box_at((300.0 - 20.0 - gap, 200.0))
        b = box_at((300.0 + 20.0 + gap, 200.0))
        out = tracker.step(frame_of(a, b) if frame else frame_of(_union(a, b)))
    assert len(out) == 2
