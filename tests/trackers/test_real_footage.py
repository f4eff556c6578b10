"""Real CCTV end to end: file source → motion detector → tracker on 30 s of highway.

The clip (``../shared/data/real/highway_cctv_320x240.avi``, 25 fps, 748
decodable frames) shows a two-way highway from a pole, with the recorder's
caption and clock burned in at the top left. Looking at it frame by frame
(every second, extracted to PNG): 10–14 vehicles are in view at any time,
cars, vans, a lorry and a cyclist on the hard shoulder, and about one to two
vehicles enter the picture per second in the two directions together, each
staying 2–6 s. So 30 s show roughly 30–60 distinct road users; the far end,
where vehicles are a few pixels high and bunch up, is not resolvable at
320×240 and some vehicles pass as pairs. We therefore expect 25–80
*moving* tracks lasting at least a second: fewer means vehicles are lost,
more means tracks fragment or noise becomes tracks. The burned-in clock
changes every second; it must not become a moving track.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trackers.motion import MotionDetector
from trackers.sources import open_source
from trackers.track import MultiObjectTracker

REPO = Path(__file__).resolve().parents[2]
CLIP = REPO.parent / "shared" / "data" / "real" / "highway_cctv_320x240.avi"

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not CLIP.exists(), reason=f"real footage not found at {CLIP}"),
]

MIN_FRAMES = 25  # one second
MIN_TRAVEL_PX = 20.0


def test_highway_clip_yields_tracks_of_the_passing_vehicles() -> None:
    detector, tracker = MotionDetector(), MultiObjectTracker()
    centres: dict[int, list[np.ndarray]] = {}
    with open_source(CLIP, start_s=1_700_000_000.0) as source:
        assert source.size == (320, 240)
        times = []
        for frame in source:
            tracks = tracker.step(detector.detect(frame.image))
            times.append(frame.time_s)
            middle = (tracks.boxes[:, :2] + tracks.boxes[:, 2:]) / 2
            for track_id, centre in zip(tracks.ids.tolist(), middle, strict=True):
                centres.setdefault(track_id, []).append(centre)
    assert len(times) >= 740
    assert times[-1] - times[0] == pytest.approx((len(times) - 1) / 25.0, abs=0.05)

    lasting = {k: np.array(v) for k, v in centres.items() if len(v) >= MIN_FRAMES}
    travel = {k: float(np.linalg.norm(v[-1] - v[0])) for k, v in lasting.items()}
    moving = [k for k, d in travel.items() if d >= MIN_TRAVEL_PX]
    print(f"{len(centres)} tracks, {len(lasting)} lasting >= 1 s, {len(moving)} of them moving")
    assert 25 <= len(moving) <= 80
    # the caption's clock (top-left corner) is not a moving vehicle
    clock = [k for k in moving if (lasting[k][:, 0].mean() < 60 and lasting[k][:, 1].mean() < 40)]
    assert not clock
