"""Cases, watches and the audit log on SQLite and on PostgreSQL (``db_url``): what is
written comes back the same, replacing is counted once, and the chain verifies."""

from __future__ import annotations

import numpy as np
import pytest

from skynet.audit import AuditLog, Purpose
from skynet.cases import CaseStore, target_id
from skynet.errors import NotFoundError
from skynet.timeline import ChainEnd, Timeline, TimelineEntry
from skynet.watch import Watch, WatchStore
from trackers.sighting import APPEARANCE_DIM, Evidence, Sighting, sighting_id


def sightings(count: int) -> list[Sighting]:
    rng = np.random.default_rng(5)
    out = []
    for track in range(count):
        vector = rng.normal(size=APPEARANCE_DIM).astype(np.float32)
        out.append(
            Sighting(
                id=sighting_id("C1", "a.avi", track),
                camera_id="C1",
                t_in=1_773_000_000.0 + 10 * track,
                t_out=1_773_000_004.5 + 10 * track,
                vehicle_class="three_wheeler",
                appearance=vector / np.linalg.norm(vector),
                quality=0.7,
                evidence=Evidence("a.avi", track, (0.0, 0.0, 9.0, 9.0)),
            )
        )
    return out


def timeline(seen: list[Sighting]) -> Timeline:
    entries = [TimelineEntry(s, None if i == 0 else 0.8125) for i, s in enumerate(seen)]
    return Timeline(
        seen[0].id, entries, ChainEnd("no_candidate", "start"), ChainEnd("horizon", "end")
    )


def test_targets_and_reviews_round_trip(db_url: str) -> None:
    store = CaseStore(db_url)
    seen = sightings(4)
    key = store.save_target("HR-1", timeline(seen[:3]))
    assert key == target_id("HR-1", seen[0].id)
    again = store.save_target("HR-1", timeline(seen))  # the same seed: replaced, not added
    assert again == key and [t.id for t in store.case_targets("HR-1")] == [key]
    kept = store.target(key)
    assert kept.sightings == [(s.id, None if i == 0 else 0.8125) for i, s in enumerate(seen)]
    assert (kept.start_reason, kept.end_reason) == ("no_candidate", "horizon")
    store.add_reviews(key, ["C2", "C3"], 1_773_000_100.25)
    store.add_reviews(key, ["C2"], 1_773_000_200.5, found=seen[3].id)
    assert store.reviewed(key) == {"C2": 1_773_000_200.5, "C3": 1_773_000_100.25}
    with pytest.raises(NotFoundError):
        store.add_reviews("nope", ["C2"], 1.0)


def test_watches_round_trip(db_url: str) -> None:
    store = WatchStore(db_url)
    vector = sightings(1)[0].appearance
    watch = Watch(
        "w1", "HR-1", "the three-wheeler may return", vector, "three_wheeler",
        1_773_000_000.0, 1_773_003_600.0, area=(119.5, 29.1, 119.6, 29.2),
        origin_camera="C1", origin_s=1_773_000_004.5,
    )  # fmt: skip
    store.add(watch)
    store.add(watch)  # added again: replaced
    (back,) = store.all()
    assert back.appearance.tobytes() == watch.appearance.tobytes()
    assert (back.area, back.origin_s, back.end_s) == (watch.area, watch.origin_s, watch.end_s)
    assert [w.id for w in store.active(1_773_000_500.0)] == ["w1"] and not store.active(1.0)
    store.remove("w1")
    with pytest.raises(NotFoundError):
        store.remove("w1")


def test_the_audit_chain_verifies(db_url: str) -> None:
    log = AuditLog(db_url)
    purpose = Purpose("HR-1", "following the three-wheeler from the crash")
    ids = [log.record(purpose, "track", f"sighting {i}", actor="analyst") for i in range(3)]
    assert ids == [1, 2, 3]
    assert [e.subject for e in AuditLog(db_url).entries("HR-1")] == [
        f"sighting {i}" for i in range(3)
    ]
    check = AuditLog(db_url).verify()
    assert check.ok and check.rows == 3
