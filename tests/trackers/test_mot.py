"""MOTChallenge files: round trips and the errors a malformed file raises."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skynet.errors import BadInputError
from trackers.boxes import Detections
from trackers.mot import MotRecords, read_mot, records_from_tracks, write_mot
from trackers.track import MultiObjectTracker

DET_LINES = """\
1,-1,281.931,187.466,79.93,209.537,0.997784,-1,-1,-1
1,-1,56.6878,144.225,93.5572,295.907,0.997601,-1,-1,-1

3,-1,378.618,188.922,166.431,234.127,0.995973,-1,-1,-1
"""


def test_read_detections_into_per_frame_arrays(tmp_path: Path) -> None:
    path = tmp_path / "det.txt"
    path.write_text(DET_LINES)
    records = read_mot(path)
    assert len(records) == 3
    assert records.frames.tolist() == [1, 1, 3]
    np.testing.assert_allclose(records.boxes[0], [281.931, 187.466, 361.861, 397.003])
    np.testing.assert_allclose(records.scores, [0.997784, 0.997601, 0.995973])
    frames = records.per_frame()
    assert [len(f) for f in frames] == [2, 0, 1]  # frame 2 has no detection but is there
    np.testing.assert_allclose(frames[2].boxes, records.boxes[2:])
    assert [len(f) for f in records.per_frame(first=2, last=4)] == [0, 1, 0]


def test_write_then_read_gives_the_records_back(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    corner = rng.uniform(0, 600, (50, 2)).round(3)
    records = MotRecords(
        frames=rng.integers(1, 20, 50),
        ids=rng.integers(1, 9, 50),
        boxes=np.column_stack([corner, corner + rng.uniform(5, 90, (50, 2)).round(3)]),
        scores=rng.uniform(0, 1, 50).round(4),
        extra=np.zeros((50, 0)),
    )
    path = tmp_path / "tracks.txt"
    write_mot(path, records)
    back = read_mot(path)
    np.testing.assert_array_equal(back.frames, records.frames)
    np.testing.assert_array_equal(back.ids, records.ids)
    np.testing.assert_allclose(back.boxes, records.boxes, atol=2e-3)
    np.testing.assert_allclose(back.scores, records.scores, atol=1e-6)
    assert back.extra.shape == (50, 3)  # the three world columns, written as -1


def test_tracker_output_round_trips_through_a_file(tmp_path: Path) -> None:
    tracker = MultiObjectTracker()
    frames = [
        Detections.from_arrays([[10.0 + 5 * f, 20.0, 50.0 + 5 * f, 100.0]], [0.9]) for f in range(6)
    ]
    output = tracker.run_detections(frames)
    path = tmp_path / "out.txt"
    write_mot(path, records_from_tracks(output))
    back = read_mot(path)
    assert back.frames.tolist() == list(range(1, 7))
    assert set(back.ids.tolist()) == {1}
    np.testing.assert_allclose(back.boxes, np.concatenate([o.boxes for o in output]), atol=1e-3)


def test_an_empty_file_has_no_records(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("\n")
    records = read_mot(path)
    assert len(records) == 0
    assert records.per_frame() == []
    assert len(records_from_tracks([])) == 0


@pytest.mark.parametrize(
    ("third_line", "record", "field", "reason"),
    [
        ("2,-1,10,10,oops,20,0.5", "line 4", "w", "not a number"),
        ("2,-1,10,10,20,20", "line 4", None, "6 fields where line 1 has 7"),
        ("0,-1,10,10,20,20,0.5", "line 4", "frame", ">= 1"),
        ("2.5,-1,10,10,20,20,0.5", "line 4", "frame", "integer"),
        ("2,-1,10,10,-3,20,0.5", "line 4", "w", ">= 0"),
        ("2,-1,10,nan,3,20,0.5", "line 4", "x", "finite"),
    ],
)
def test_malformed_lines_are_named(
    tmp_path: Path, third_line: str, record: str, field: str | None, reason: str
) -> None:
    path = tmp_path / "det.txt"
    path.write_text(f"1,-1,1,2,3,4,0.9\n1,-1,5,6,7,8,0.8\n\n{third_line}\n")
    with pytest.raises(BadInputError, match=reason) as caught:
        read_mot(path)
    assert caught.value.source == str(path)
    assert caught.value.record == record
    assert caught.value.field == field
    assert str(path) in str(caught.value)


def test_too_few_columns_and_missing_files_are_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "short.txt"
    path.write_text("1,2,3,4,5\n")
    with pytest.raises(BadInputError, match="at least 6"):
        read_mot(path)
    with pytest.raises(BadInputError, match="not found") as caught:
        read_mot(tmp_path / "absent.txt")
    assert "absent.txt" in str(caught.value)
