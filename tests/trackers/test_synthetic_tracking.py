"""Motion detection + tracking on rendered synthetic CCTV, scored by motmetrics.

The protocol and the harness live in ``benchmarks/eval_tracking.py`` (loaded
here by path, so that the test and the larger sweep score alike); this file
runs a small slice of it: two busy cameras of a small city, by day and by
night, 200 scored frames each after the protocol's lead-in.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from trackers.track import TrackFrame

REPO = Path(__file__).resolve().parents[2]
N_FRAMES = 200

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def load_harness() -> ModuleType:
    path = REPO / "benchmarks" / "eval_tracking.py"
    spec = importlib.util.spec_from_file_location("eval_tracking", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def harness() -> ModuleType:
    return load_harness()


@pytest.fixture(scope="module")
def results(harness: ModuleType) -> dict[str, dict[str, float]]:
    scene = harness.build_scene()
    cameras = {c.id: c for c in scene.city.cameras}
    cases = [
        harness.Case(cameras[cid], night)
        for night in (False, True)
        for cid in ("J0002-W", "V04-E3")
    ]
    scored = harness.evaluate(scene, cases, n_frames=N_FRAMES)
    table = {case.label: figures for case, figures in scored}
    for label, f in table.items():
        print(f"{label:<16} MOTA {f['mota']:.3f} IDF1 {f['idf1']:.3f} recall {f['recall']:.3f}")
    return table


def tracks_from_truth(truth: np.ndarray, frames: int) -> list[TrackFrame]:
    """The ground truth itself, as tracker output."""
    out = []
    for number in range(1, frames + 1):
        rows = truth[truth[:, 0] == number]
        boxes = np.concatenate([rows[:, 2:4], rows[:, 2:4] + rows[:, 4:6]], axis=1)
        count = rows.shape[0]
        out.append(
            TrackFrame(
                frame=number - 1,
                ids=rows[:, 1].astype(np.int64),
                boxes=boxes,
                scores=np.ones(count),
                classes=np.zeros(count, np.int64),
                detections=np.arange(count),
            )
        )
    return out


def test_protocol_scores_the_truth_perfectly_and_ignores_dont_care(harness: ModuleType) -> None:
    # frame 1: a scored car and a far (tiny) one; frame 2: the car, half hidden
    truth = np.array(
        [
            [1, 1, 10, 10, 50, 40, 1, 1, 1.0],
            [1, 2, 200, 5, 6, 4, 1, 1, 1.0],
            [2, 1, 14, 10, 50, 40, 1, 1, 0.3],
        ]
    )
    perfect = harness.score(truth, tracks_from_truth(truth, 2), frame_height=100)
    assert perfect["mota"] == pytest.approx(1.0)
    assert perfect["num_objects"] == 1  # the tiny and the hidden boxes do not count
    # predicting the don't-care boxes costs nothing; an unmatched box is a false positive
    stray = tracks_from_truth(truth, 2)
    stray[0] = TrackFrame(
        frame=0, ids=np.array([1, 2, 9]),
        boxes=np.array([[10, 10, 60, 50], [200, 5, 206, 9], [400, 300, 450, 340]], float),
        scores=np.ones(3), classes=np.zeros(3, np.int64), detections=np.arange(3),
    )  # fmt: skip
    assert harness.score(truth, stray, frame_height=100)["mota"] == pytest.approx(0.0)


def test_day_tracking_finds_the_vehicles(results: dict[str, dict[str, float]]) -> None:
    """Regression floor, below the issue's target (measured: MOTA 0.88 and 0.72, IDF1 0.86 and
    0.86; IDF1 0.91 on J0002-W before the tracker joined the pieces of one tracked object;
    0.89 and 0.66, IDF1 0.85 and 0.82, before narrow boxes were kept by day and touching
    vehicles' blobs cut in two; 0.77 and 0.65, IDF1 0.79 and 0.81, before merged blobs were
    shared among their tracks and the smallest box went down to the protocol's don't-care
    height)."""
    for cid in ("J0002-W", "V04-E3"):
        day = results[f"day {cid}"]
        assert day["mota"] >= 0.65, cid
        assert day["idf1"] >= 0.8, cid
        assert day["recall"] >= 0.7, cid
    assert results["day J0002-W"]["mota"] >= 0.8


def test_night_tracking_follows_the_vehicles(results: dict[str, dict[str, float]]) -> None:
    """Regression floor (measured: MOTA 0.77 and 0.80, IDF1 0.87 and 0.90, since a blob with one
    vehicle's lamp pair gets that vehicle's box through the camera's ground geometry; MOTA 0.74
    and 0.41, IDF1 0.85 and 0.69, since blobs holding
    several vehicles' lamps are cut per vehicle and the tracker joins the pieces of one tracked
    object; MOTA 0.64 and 0.02, IDF1 0.69 and 0.46 before; 0.57 and -0.04,
    IDF1 0.66 and 0.38 before the night boxes were drawn around body pixels; the dense V04-E3
    clip loses dark bodies to the night darkening threshold, which the 12-clip sweep favours:
    with the day's threshold V04-E3 kept IDF1 0.50 at MOTA -0.01, J0002-W fell to 0.47;
    before the detector's night mode, beams and glare in the boxes: MOTA -1.45 to -1.25)."""
    for cid in ("J0002-W", "V04-E3"):
        night = results[f"night {cid}"]
        assert night["mota"] >= 0.65, cid
        assert night["idf1"] >= 0.8, cid


@pytest.mark.xfail(
    reason="issue 4 targets (day MOTA/IDF1 >= 0.85, night MOTA >= 0.70) not met by the motion "
    "detector: measured here day MOTA/IDF1 0.88/0.86 (J0002-W) and 0.72/0.86 (V04-E3), night "
    "MOTA 0.77 and 0.80 (met on these two clips); on 3 seeds x 4 cameras "
    "(benchmarks/eval_tracking.py --vehicles 800) day MOTA 0.82 / IDF1 0.89, night MOTA 0.69 / "
    "IDF1 0.80 (object-weighted; held-out seeds 4 5: day 0.79 / 0.84, night 0.65 / 0.80)",
    strict=True,
)
def test_issue_targets(results: dict[str, dict[str, float]]) -> None:
    for label, figures in results.items():
        if label.startswith("day"):
            assert figures["mota"] >= 0.85 and figures["idf1"] >= 0.85, label
        else:
            assert figures["mota"] >= 0.70, label
