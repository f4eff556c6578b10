"""The association's bulk scorer against the linker's, and the restitching by track appearance."""

from __future__ import annotations

import numpy as np
import pytest

from skynet import _association_calibration as calibration
from skynet._association_batch import BatchSightings, _Context, _rough, dots
from skynet._association_views import KeyedTable
from skynet.associate import (
    CandidateLinks,
    associate_links,
    candidate_links,
    in_time_order,
    overlap_links,
    score_candidates,
)
from skynet.identity import id_scores
from skynet.linking import LINK_MODELS, SightingArrays, rough_scores
from skynet.timeline import SHORTLIST, Linker, SightingPool
from tests.skynet.test_associate import City, city  # noqa: F401  (the module's fixture)


def test_bulk_scores_are_the_linkers(city: City) -> None:  # noqa: F811
    """Twenty minutes of the county: the same pairs, the same probabilities and tracks."""
    part = in_time_order(city.simulated.sightings)
    linker = Linker(city.transitions, city.network, city.registry, SightingPool(part),
                    model=LINK_MODELS["day"])  # fmt: skip
    bulk = candidate_links(linker, part, workers=2, shortlist=SHORTLIST)  # the linker's
    one_by_one = CandidateLinks.concat(
        [score_candidates(linker, part, workers=1), overlap_links(linker, part)]
    )
    ours = dict(zip(zip(bulk.early.tolist(), bulk.late.tolist(), strict=True),
                    bulk.probability.tolist(), strict=True))  # fmt: skip
    theirs = dict(zip(zip(one_by_one.early.tolist(), one_by_one.late.tolist(), strict=True),
                      one_by_one.probability.tolist(), strict=True))  # fmt: skip
    common = ours.keys() & theirs.keys()
    assert len(common) >= 0.995 * max(len(ours), len(theirs)) and len(common) > 40
    gaps = np.array([abs(ours[k] - theirs[k]) for k in common])
    assert np.percentile(gaps, 99) < 0.02
    truth = np.array([city.simulated.truth[s.id] for s in part])
    a = id_scores(truth, associate_links(part, bulk).track).idf1
    b = id_scores(truth, associate_links(part, one_by_one).track).idf1
    assert a == pytest.approx(b, abs=0.005)


def test_rough_scores_match_the_linkers() -> None:
    """The bulk rough score is :func:`skynet.linking.rough_scores`, pair by pair."""
    rng = np.random.default_rng(4)
    n, m = 50, 400
    vectors = rng.normal(size=(n, 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    classes = rng.choice(["car", "van", "vehicle", "e_bike", "truck"], n)
    t_in = np.sort(rng.uniform(0.0, 600.0, n))
    arrays = SightingArrays(
        np.array([f"s{i}" for i in range(n)]), np.array(["c"] * n), t_in, t_in + 3.0,
        classes.astype(str), vectors, np.zeros(n), np.zeros((n, 2)), np.zeros((n, 2)),
    )  # fmt: skip
    early, late = rng.integers(0, n, m), rng.integers(0, n, m)
    quickest, dist = rng.uniform(5.0, 300.0, m), rng.uniform(10.0, 4000.0, m)
    model = LINK_MODELS["day"]
    expected = rough_scores(arrays.take(early), arrays.take(late), quickest, dist, model)
    batch = BatchSightings(arrays, np.zeros(n, dtype=np.intp), arrays.ids, arrays.ids,
                           np.zeros(n, dtype=np.intp), (model,))  # fmt: skip
    share = np.ones(n)
    top = np.array([{"e_bike": 15.0, "truck": 33.0, "van": 40.0}.get(c, 45.0) for c in classes])
    ctx = _Context(
        batch, None, None, None, -np.inf, np.inf, top, share,  # type: ignore[arg-type]
        classes != "vehicle", np.unique(classes, return_inverse=True)[1].astype(np.intp),
        np.array([model.weights]), np.array([[model.gap_mu, model.gap_sigma]]), ((), ()),
    )  # fmt: skip
    got = _rough(ctx, early, early, late, quickest, dist)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        dots(vectors, early, late), np.einsum("ij,ij->i", vectors[early], vectors[late]),
        rtol=1e-5,
    )  # fmt: skip


def test_keyed_tables_dense_and_sorted_agree() -> None:
    keys = np.array([3, 8, 20, 41], dtype=np.int64)
    columns = np.arange(8.0).reshape(4, 2)
    asked = np.array([8, 9, 41, 0, 3], dtype=np.int64)
    dense = KeyedTable.of(keys, columns, 64).lookup(asked)
    sparse = KeyedTable(keys, columns).lookup(asked)
    np.testing.assert_array_equal(np.isnan(dense), np.isnan(sparse))
    np.testing.assert_array_equal(np.nan_to_num(dense, nan=-1), np.nan_to_num(sparse, nan=-1))
    assert dense[0].tolist() == [2.0, 3.0] and np.isnan(dense[1]).all()


def test_repeated_rows_keep_time_order() -> None:
    n = 6
    arrays = SightingArrays(
        np.array([f"s{i}" for i in range(n)]), np.array(["c"] * n), np.arange(n) * 10.0,
        np.arange(n) * 10.0 + 2.0, np.array(["car"] * n), np.ones((n, 64), dtype=np.float32),
        np.zeros(n), np.zeros((n, 2)), np.zeros((n, 2)),
    )  # fmt: skip
    batch = BatchSightings(arrays, np.zeros(n, dtype=np.intp), arrays.ids, arrays.ids,
                           np.zeros(n, dtype=np.intp), (LINK_MODELS["day"],))  # fmt: skip
    tiled, source = batch.repeated(3, 3600.0)
    assert len(tiled) == 3 * n and np.all(np.diff(tiled.arrays.t_in) >= 0)
    np.testing.assert_array_equal(tiled.arrays.t_in, np.tile(arrays.t_in, 3)[source]
                                  + np.repeat([0.0, 3600.0, 7200.0], n)[source])  # fmt: skip
    assert tiled.arrays.ids[-1] == "s5-2"


def test_whitened_appearance_is_centred_and_unit() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2000, 8)) @ rng.normal(size=(8, 8)) + 3.0
    white = calibration.whitened(x)
    assert np.allclose(np.linalg.norm(white, axis=1), 1.0, atol=1e-5)
    assert np.abs(white.mean(axis=0)).max() < 0.05


def test_track_features_judge_a_link_by_the_halves_it_joins() -> None:
    """A link is scored by the early end's track up to it against the late end's from it on:
    within one vehicle's track alike, from one vehicle's track to another's unlike."""
    rng = np.random.default_rng(2)
    a = rng.normal(size=8)
    b = rng.normal(size=8)
    b -= (b @ a) / (a @ a) * a  # another vehicle: unlike the first
    noise = rng.normal(scale=0.2, size=(8, 8))
    white = np.vstack([a + noise[:4], b + noise[4:]]).astype(np.float32)
    white /= np.linalg.norm(white, axis=1, keepdims=True)
    t_in = np.arange(8.0)
    track = np.array([0, 0, 0, 0, 1, 1, 1, 1], dtype=np.intp)
    early = np.array([2, 3], dtype=np.intp)  # kept, inside track 0; track 0 to track 1
    late = np.array([3, 4], dtype=np.intp)
    kind = np.array([0, 0, -1, 0, 1, 1, 1, -1], dtype=np.intp)
    one = np.zeros(8, dtype=np.intp)  # all at one camera
    pace = np.array([0.1, 0.1, 0.12, 0.08, -0.2, -0.2, np.nan, -0.18])  # two drivers' paces
    x = calibration.track_features(np.array([0.8, 0.8]), early, late, np.array([5.0, 5.0]),
                                   white, t_in, track, kind, one, pace)  # fmt: skip
    joined = x[:, 7]
    assert joined[0] > 0.8 and abs(joined[1]) < 0.3
    assert x[:, 9].tolist() == pytest.approx(np.log([1.0, 4.0]).tolist())  # the fewer half
    assert x[:, 10].tolist() == pytest.approx([1.0, 0.0])  # classes: alike, unlike
    # one camera: of its 8 sightings 2 end a track and 2 start one, (2 + 1) / (8 + 2)
    assert x[:, 11].tolist() == pytest.approx([np.log(0.3)] * 2)
    assert x[0, 13] > 0.0 > x[1, 13]  # paces: alike, unlike
    codes = calibration.class_codes(np.array(["van", "vehicle", "car", "van"]))
    assert codes.tolist() == [1, -1, 0, 1]
