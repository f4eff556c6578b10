"""Whole-city association: the assignment, the identity score, and tracks on a simulated city."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from collections.abc import Callable

import numpy as np
import pytest

from camera_registry import CameraRegistry
from skynet import _association_calibration as calibration
from skynet import associate as association
from skynet import identity
from skynet._association_batch import BatchSightings
from skynet.associate import CandidateLinks, assign, associate, overlap_links, track_labels
from skynet.audit import AuditLog
from skynet.cases import CaseStore
from skynet.errors import BadInputError
from skynet.identity import id_scores
from skynet.linking import LINK_MODELS
from skynet.roads.network import RoadNetwork
from skynet.sample_data import sample_scenario_spec
from skynet.synthetic.case_db import CaseDb, make_case_db
from skynet.synthetic.scenario import ScenarioSpec, build_scenario
from skynet.synthetic.sightings import SimulatedSightings, simulate_sightings
from skynet.timeline import Linker, SightingPool
from skynet.times import format_time
from skynet.transitions import TransitionModel
from trackers.sighting import APPEARANCE_DIM, Evidence, Sighting

CliRunner = Callable[..., subprocess.CompletedProcess[str]]
PURPOSE = ("--case", "AN-0001", "--reason", "every vehicle near the industrial park")


def _links(*rows: tuple[int, int, float]) -> CandidateLinks:
    early, late, p = zip(*rows, strict=True)
    return CandidateLinks(
        np.array(early, dtype=np.intp), np.array(late, dtype=np.intp), np.array(p)
    )


def test_assignment_is_global_not_greedy() -> None:
    """0 likes 2 best, but 1 can only go to 2: the best total sends 0 to 3, 1 to 2."""
    links = _links((0, 2, 0.90), (0, 3, 0.85), (1, 2, 0.88))
    assert assign(4, links, threshold=0.5).tolist() == [3, 2, -1, -1]
    # with 0's second choice too weak to pay, the stronger claim on 2 wins
    weak = _links((0, 2, 0.90), (0, 3, 0.40), (1, 2, 0.88))
    assert assign(4, weak, threshold=0.5).tolist() == [2, -1, -1, -1]


def test_links_below_the_threshold_are_not_kept() -> None:
    links = _links((0, 1, 0.30), (1, 2, 0.95))
    assert assign(3, links, threshold=0.5).tolist() == [-1, 2, -1]
    assert assign(3, links, threshold=0.2).tolist() == [1, 2, -1]
    assert assign(3, CandidateLinks.empty()).tolist() == [-1, -1, -1]
    # each link its own threshold: the first's 0.2, the second's above its 0.95
    assert assign(3, links, threshold=np.array([0.2, 0.97])).tolist() == [1, -1, -1]


def test_each_sighting_has_one_successor_and_one_predecessor_at_most() -> None:
    rng = np.random.default_rng(5)
    n = 300
    early = rng.integers(0, n - 1, 2000)
    late = np.minimum(early + rng.integers(1, 20, 2000), n - 1)
    links = CandidateLinks.concat([CandidateLinks(early, late, rng.uniform(0.0, 1.0, 2000))])
    successor = assign(n, links, threshold=0.3)
    kept = successor[successor >= 0]
    assert kept.size > 50
    assert np.unique(kept).size == kept.size  # no sighting reached twice
    # every kept link was a candidate above the threshold
    p = {
        (a, b): q
        for a, b, q in zip(
            links.early.tolist(), links.late.tolist(), links.probability.tolist(), strict=True
        )
    }
    assert all(p[(a, int(successor[a]))] > 0.3 for a in np.flatnonzero(successor >= 0).tolist())


def test_two_sided_links_weigh_both_ends() -> None:
    early = np.array([0, 0, 1, 0], dtype=np.intp)
    late = np.array([1, 2, 2, 1], dtype=np.intp)
    forward = np.array([0.8, 0.5, 0.0, 0.0])
    backward = np.array([0.0, 0.0, 0.9, 0.2])  # 0 → 2 scored from 0's end only
    links = CandidateLinks.two_sided(early, late, forward, backward)
    got = dict(zip(zip(links.early.tolist(), links.late.tolist(), strict=True),
                   links.probability.tolist(), strict=True))  # fmt: skip
    assert got == pytest.approx({(0, 1): np.sqrt(0.8 * 0.2), (0, 2): 0.25, (1, 2): 0.45})


def test_track_labels_follow_the_chains() -> None:
    successor = np.array([2, -1, 4, 5, -1, -1, -1], dtype=np.intp)
    assert track_labels(successor).tolist() == [0, 1, 0, 2, 0, 2, 3]


def test_id_scores_agree_with_motmetrics() -> None:
    mm = _motmetrics()
    rng = np.random.default_rng(11)
    for size, vehicles, tracks in ((40, 5, 7), (400, 30, 45), (1000, 200, 150)):
        truth = rng.integers(0, vehicles, size)
        predicted = np.where(rng.random(size) < 0.7, truth * 3 + 1, rng.integers(0, tracks, size))
        accumulator = mm.MOTAccumulator(auto_id=True)
        for t, h in zip(truth.tolist(), predicted.tolist(), strict=True):
            accumulator.update([t], [h], [[0.0]])
        summary = mm.metrics.create().compute(accumulator, metrics=["idf1", "idp", "idr"])
        ours = id_scores(truth, predicted)
        assert ours.idf1 == pytest.approx(float(summary["idf1"].iloc[0]), abs=1e-9)
        assert ours.idp == pytest.approx(float(summary["idp"].iloc[0]), abs=1e-9)
        assert ours.idr == pytest.approx(float(summary["idr"].iloc[0]), abs=1e-9)


def test_id_scores_sparse_matching_equals_dense(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(2)
    truth = rng.integers(0, 300, 5000)
    predicted = np.where(rng.random(5000) < 0.8, truth, rng.integers(0, 400, 5000))
    dense = id_scores(truth, predicted)
    monkeypatch.setattr(identity, "DENSE_CELLS", 0)
    assert id_scores(truth, predicted) == dense
    assert id_scores(truth, truth).idf1 == 1.0
    with pytest.raises(BadInputError, match="labels"):
        id_scores(truth, predicted[:-1])


def test_recalibration_fit_recovers_known_weights() -> None:
    """Labels drawn from a known recalibration: the fit finds its weights again."""
    rng = np.random.default_rng(3)
    n, m = 4000, 20000
    early = rng.integers(0, n, m).astype(np.intp)
    late = rng.integers(0, n, m).astype(np.intp)
    p = rng.uniform(0.02, 0.98, m)
    gap = rng.exponential(200.0, m)
    truth = (1.2, -0.8, 0.1, -0.3, -0.2, 1.5)
    right = rng.random(m) < calibration.recalibrated(p, early, late, gap, n, truth)
    fitted = calibration.fit(p, early, late, gap, n, right)
    assert fitted[:3] == pytest.approx(truth[:3], abs=0.2)  # log-odds and gap terms
    again = calibration.recalibrated(p, early, late, gap, n, fitted)
    expected = calibration.recalibrated(p, early, late, gap, n, truth)
    assert np.abs(again - expected).mean() < 0.02 and np.abs(again - expected).max() < 0.1


def test_recalibrated_links_keep_impossible_ones_out() -> None:
    early = np.array([0, 0, 1], dtype=np.intp)
    late = np.array([1, 2, 2], dtype=np.intp)
    p = np.array([0.0, 0.6, 0.6])
    out = calibration.recalibrated(p, early, late, np.array([5.0, 5.0, 900.0]), 3)
    assert out[0] == 0.0 and 0.0 < out[1] < 1.0
    assert out[2] < out[1]  # the same score ten minutes later: less sure
    assert calibration.recalibrated(np.empty(0), early[:0], late[:0], np.empty(0), 0).size == 0


def _motmetrics():  # type: ignore[no-untyped-def]
    """motmetrics, with the ``np.asfarray`` it still calls restored on NumPy 2."""
    if not hasattr(np, "asfarray"):
        np.asfarray = lambda a, dtype=np.float64: np.asarray(a, dtype=dtype)  # type: ignore[attr-defined]
    import motmetrics

    return motmetrics


def _sighting(
    sid: str, camera: str, t_in: float, t_out: float, edge: str, vector: np.ndarray
) -> Sighting:
    return Sighting(
        id=sid, camera_id=camera, t_in=t_in, t_out=t_out, vehicle_class="car",
        appearance=vector.astype(np.float32), quality=1.0,
        evidence=Evidence("clip", 0, (0.0, 0.0, 1.0, 1.0)), heading_deg=90.0,
        entry_edge=edge, exit_edge=edge,
    )  # fmt: skip


def test_overlapping_views_of_one_passage_are_paired() -> None:
    vector = np.ones(APPEARANCE_DIM) / np.sqrt(APPEARANCE_DIM)
    sightings = [
        _sighting("a", "CAM-1", 100.0, 104.0, "1-2-0", vector),
        _sighting("b", "CAM-2", 102.0, 106.0, "1-2-0", vector),  # in view while a was
        _sighting("c", "CAM-3", 103.0, 107.0, "2-3-0", vector),  # another edge
        _sighting("d", "CAM-2", 130.0, 134.0, "1-2-0", vector),  # long after
        _sighting("e", "CAM-1", 103.0, 105.0, "1-2-0", vector),  # a's own camera
    ]
    ordered = sorted(sightings, key=lambda s: (s.t_in, s.id))

    class _Day:
        def model_for(self, sighting: Sighting) -> object:
            return LINK_MODELS["day"]

    links = overlap_links(_Day(), ordered)  # type: ignore[arg-type]
    pairs = {(ordered[a].id, ordered[b].id) for a, b in zip(links.early, links.late, strict=True)}
    assert ("a", "b") in pairs
    assert not {p for p in pairs if "c" in p or "d" in p}
    assert ("a", "e") not in pairs
    assert links.probability.max() > 0.5


# ----------------------------------------------------------------- on a simulated city
@dataclasses.dataclass(frozen=True)
class City:
    network: RoadNetwork
    registry: CameraRegistry
    transitions: TransitionModel
    simulated: SimulatedSightings


@pytest.fixture(scope="module")
def city() -> City:
    """Twenty minutes of the hit-and-run county's traffic by day."""
    spec = ScenarioSpec.from_file(sample_scenario_spec())
    scenario = build_scenario(spec)
    network = RoadNetwork.from_graph(scenario.city.graph, scenario.city.crs)
    registry = CameraRegistry(scenario.cameras, scenario.city.crs)
    start = spec.crash_s - 900.0
    simulated = simulate_sightings(scenario, night=False, window=(start, start + 1200.0))
    return City(network, registry, TransitionModel.build(network, registry), simulated)


def test_tracks_recover_the_vehicles(city: City) -> None:
    sightings = city.simulated.sightings
    linker = Linker(city.transitions, city.network, city.registry, SightingPool(sightings),
                    model=LINK_MODELS["day"])  # fmt: skip
    result = associate(linker, list(reversed(sightings)), workers=2)
    assert [s.id for s in result.sightings] == [s.id for s in sightings]  # put in time order
    truth = np.array([city.simulated.truth[s.id] for s in result.sightings])
    scores = id_scores(truth, result.track)
    alone = id_scores(truth, np.arange(truth.size))  # no links at all
    assert scores.idf1 >= 0.85, scores
    assert scores.idf1 > alone.idf1 + 0.3
    assert result.n_tracks < truth.size / 2
    # the same in one process: the pool changes nothing
    again = associate(linker, sightings, workers=1)
    np.testing.assert_array_equal(again.track, result.track)
    # scoring and assignment apart give the same tracks; the links are kept as scored
    assert result.links is not None and len(result.links) == result.candidates
    pace = association.paces_of(linker, BatchSightings.of(linker, result.sightings))
    assert np.isfinite(pace).mean() > 0.8  # most sightings have a speed and a class
    apart = association.associate_links(result.sightings, result.links, pace=pace)
    np.testing.assert_array_equal(apart.track, result.track)
    # each track's links carry their probability; a track's first sighting has none
    for rows in result.tracks():
        assert np.isnan(result.link_probability[rows[0]])
        assert (result.link_probability[rows[1:]] > association.LINK_THRESHOLD).all()


def test_bad_arguments(city: City) -> None:
    linker = Linker(city.transitions, city.network, city.registry, SightingPool([]))
    with pytest.raises(BadInputError, match="probability"):
        associate(linker, [], threshold=1.0)
    one = city.simulated.sightings[0]
    with pytest.raises(BadInputError, match="twice"):
        associate(linker, [one, one])
    with pytest.raises(BadInputError, match="workers"):
        associate(linker, [one], workers=0)
    assert associate(linker, []).n_tracks == 0


# ----------------------------------------------------------------- the command
@pytest.fixture(scope="module")
def case_db(tmp_path_factory: pytest.TempPathFactory) -> CaseDb:
    return make_case_db(str(tmp_path_factory.mktemp("associate") / "case.db"))


def test_associate_command_stores_tracks_as_targets(run_cli: CliRunner, case_db: CaseDb) -> None:
    target = case_db.simulated.of_vehicle(case_db.scenario.target_id)
    since, until = target[0].t_in - 60.0, target[0].t_in + 600.0
    args = ("associate", "--from", format_time(since), "--to", format_time(until), *PURPOSE,
            "--db", case_db.db, "--workers", "1")  # fmt: skip
    result = run_cli(*args, "--format", "json", check=True)
    document = json.loads(result.stdout)
    stored = CaseStore(case_db.db).case_targets("AN-0001")
    assert {t.id for t in stored} == {t["target_id"] for t in document["targets"]}
    assert len(stored) >= 10
    assert all(len(t.sightings) >= 2 for t in stored)
    # the fleeing vehicle's sightings in the span are (mostly) one target
    seen = {s.id for s in target if since <= s.t_in and s.t_out <= until}
    best = max(len(seen & {i for i, _ in t.sightings}) for t in stored)
    assert best >= 0.8 * len(seen) and len(seen) >= 5
    entry = [e for e in AuditLog(case_db.db).entries("AN-0001") if e.action == "associate"]
    assert entry and entry[-1].id == document["audit_id"]
    # people get a table; re-running replaces the targets, adds none
    table = run_cli(*args, check=True)
    assert "longest tracks" in table.stdout and "sightings" in table.stdout
    assert len(CaseStore(case_db.db).case_targets("AN-0001")) == len(stored)


def test_associate_command_errors(run_cli: CliRunner, case_db: CaseDb) -> None:
    t0 = case_db.simulated.sightings[0].t_in
    backwards = run_cli("associate", "--from", format_time(t0 + 60), "--to", format_time(t0),
                        *PURPOSE, "--db", case_db.db)  # fmt: skip
    assert backwards.returncode == 2 and "error:" in backwards.stderr
    empty = run_cli("associate", "--from", format_time(t0 - 7200), "--to",
                    format_time(t0 - 3600), *PURPOSE, "--db", case_db.db)  # fmt: skip
    assert empty.returncode == 2 and "no sightings between" in empty.stderr
    no_reason = run_cli("associate", "--from", format_time(t0), "--to", format_time(t0 + 60),
                        "--case", "AN-1", "--reason", "x", "--db", case_db.db)  # fmt: skip
    assert no_reason.returncode == 2 and "reason" in no_reason.stderr
    bad_time = run_cli("associate", "--from", "yesterday", "--to", format_time(t0),
                       *PURPOSE, "--db", case_db.db)  # fmt: skip
    assert bad_time.returncode == 2 and "--from" in bad_time.stderr
    assert "Traceback" not in backwards.stderr + empty.stderr + bad_time.stderr
