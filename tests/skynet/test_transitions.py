"""Camera transition model: against the networkx reference, paths, cache, errors."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from camera_registry import Camera, CameraRegistry, SiteCRS
from skynet import _transition_build
from skynet.errors import BadInputError, NotFoundError
from skynet.roads import RoadNetwork, attach_cameras
from skynet.roads.cameras import CameraAttachment
from skynet.synthetic.city import generate_city
from skynet.transitions import Reach, TransitionModel, fingerprint, naive_reach

SITE = SiteCRS.from_user_input("EPSG:32650")
Street = tuple[RoadNetwork, CameraRegistry, CameraAttachment]
ORIGIN = (700_000.0, 2_816_000.0)

#: A one-way street P0 → P4 (residential, 30 km/h) with a fast motorway detour
#: P1 → Q → P3 (longer but quicker than P1 → P2 → P3).
NODES = {
    "P0": (0.0, 0.0),
    "P1": (300.0, 0.0),
    "P2": (600.0, 0.0),
    "P3": (900.0, 0.0),
    "P4": (1200.0, 0.0),
    "Q": (600.0, 300.0),
}
ROADS = [
    ("P0", "P1", "residential"),
    ("P1", "P2", "residential"),
    ("P2", "P3", "residential"),
    ("P3", "P4", "residential"),
    ("P1", "Q", "motorway"),
    ("Q", "P3", "motorway"),
]


def street_graph(speed_kph: float | None = None) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    for node, (dx, dy) in NODES.items():
        graph.add_node(node, x=ORIGIN[0] + dx, y=ORIGIN[1] + dy)
    for u, v, highway in ROADS:
        (ux, uy), (vx, vy) = NODES[u], NODES[v]
        extra = {} if speed_kph is None or highway != "residential" else {"maxspeed": speed_kph}
        graph.add_edge(
            u, v, length=float(np.hypot(vx - ux, vy - uy)), highway=highway, oneway=True, **extra
        )
    return graph


def camera(
    camera_id: str, dx: float, dy: float, heading: float, extra: dict[str, object]
) -> Camera:
    lon, lat = SITE.to_lonlat([ORIGIN[0] + dx], [ORIGIN[1] + dy])
    fields: dict[str, object] = {"heading_deg": heading, "fov_deg": 90.0, "range_m": 40.0}
    return Camera(
        id=camera_id,
        name=camera_id,
        kind="road",
        lon=float(lon[0]),
        lat=float(lat[0]),
        **(fields | extra),  # type: ignore[arg-type]
    )


def street_cameras(**changes: dict[str, object]) -> CameraRegistry:
    """A on P0→P1, C on P1→P2, D on P2→P3, B on P3→P4, E on Q→P3, X off the road."""
    spots = {
        "A": (150.0, 20.0, 180.0),
        "C": (450.0, 20.0, 180.0),
        "D": (750.0, 20.0, 180.0),
        "B": (1050.0, 20.0, 180.0),
        "E": (770.0, 170.0, 225.0),
        "X": (600.0, -600.0, 180.0),
    }
    return CameraRegistry(
        [camera(name, *spot, changes.get(name, {})) for name, spot in spots.items()], SITE
    )


@pytest.fixture(scope="module")
def street() -> Street:
    network = RoadNetwork(street_graph(), SITE)
    registry = street_cameras()
    return network, registry, attach_cameras(network, registry)


def edge_time(network: RoadNetwork, u: str, v: str) -> float:
    return float(network.graph.edges[u, v, 0]["travel_time"])


def as_dict(reach: Reach) -> dict[str, tuple[float, float]]:
    return {
        str(i): (float(t), float(d))
        for i, t, d in zip(reach.to_ids, reach.free_flow_s, reach.distance_m, strict=True)
    }


def assert_same_reach(got: Reach, want: Reach) -> None:
    got_d, want_d = as_dict(got), as_dict(want)
    assert set(got_d) == set(want_d)
    for camera_id, (time, metres) in want_d.items():
        assert got_d[camera_id][0] == pytest.approx(time, abs=1e-6)
        assert got_d[camera_id][1] == pytest.approx(metres, abs=1e-6)


def test_street_times_follow_the_quickest_road(street: Street) -> None:
    network, registry, attachment = street
    model = TransitionModel.build(network, registry, attachment, horizon_s=600.0)
    reach = model.reachable("A")
    found = as_dict(reach)
    assert set(found) == {"B", "C", "D", "E"}
    # A → C: leave A's edge at P1, then drive C's edge P1 → P2.
    assert found["C"][0] == pytest.approx(edge_time(network, "P1", "P2"))
    assert found["C"][1] == pytest.approx(300.0)
    # A → B takes the motorway detour (quicker than the street), then B's edge.
    detour = edge_time(network, "P1", "Q") + edge_time(network, "Q", "P3")
    street_time = edge_time(network, "P1", "P2") + edge_time(network, "P2", "P3")
    assert detour < street_time
    assert found["B"][0] == pytest.approx(detour + edge_time(network, "P3", "P4"))
    assert found["B"][1] == pytest.approx(2 * np.hypot(300.0, 300.0) + 300.0)
    assert np.all(np.diff(reach.free_flow_s) >= 0.0)  # nearest first
    assert_same_reach(reach, naive_reach(network, attachment, "A", 600.0))


def test_street_via_and_path_edges(street: Street) -> None:
    network, registry, attachment = street
    model = TransitionModel.build(network, registry, attachment, horizon_s=600.0)
    assert model.via("A", "B") == ["E"]
    assert model.via("A", "D") == ["C"]
    assert model.via("C", "B") == ["D"]
    labels = [network.edge_ids[row][:2] for row in model.path_edges("A", "B")]
    assert labels == [("P1", "Q"), ("Q", "P3"), ("P3", "P4")]


def test_one_way_street_cannot_be_driven_back(street: Street) -> None:
    network, registry, attachment = street
    model = TransitionModel.build(network, registry, attachment, horizon_s=600.0)
    assert len(model.reachable("B")) == 0
    assert model.reachable("B").reason is None
    with pytest.raises(NotFoundError, match="not reachable"):
        model.via("B", "A")


def test_horizon_cuts_off_farther_cameras(street: Street) -> None:
    network, registry, attachment = street
    to_c = edge_time(network, "P1", "P2")
    to_d = to_c + edge_time(network, "P2", "P3")
    model = TransitionModel.build(network, registry, attachment, horizon_s=(to_c + to_d) / 2)
    assert "C" in as_dict(model.reachable("A"))
    assert "D" not in as_dict(model.reachable("A"))
    with pytest.raises(NotFoundError, match="within"):
        model.path_edges("A", "D")


def test_camera_watching_no_edge_is_reported_not_crashed(street: Street) -> None:
    network, registry, attachment = street
    model = TransitionModel.build(network, registry, attachment, horizon_s=600.0)
    assert model.unanchored() == ["X"]
    reach = model.reachable("X")
    assert len(reach) == 0
    assert reach.reason is not None and "watches no road edge" in reach.reason
    assert "X" not in set(model.reachable("A").to_ids.tolist())
    with pytest.raises(NotFoundError, match="watches no road edge"):
        model.via("A", "X")
    assert naive_reach(network, attachment, "X", 600.0).reason == reach.reason


def test_unknown_camera_and_bad_input(street: Street) -> None:
    network, registry, attachment = street
    model = TransitionModel.build(network, registry, attachment, horizon_s=600.0)
    for call in (
        lambda: model.reachable("nope"),
        lambda: model.via("A", "nope"),
        lambda: model.path_edges("nope", "A"),
        lambda: naive_reach(network, attachment, "nope", 600.0),
    ):
        with pytest.raises(NotFoundError, match="nope"):
            call()
    for horizon in (0.0, -5.0, float("nan"), float("inf")):
        with pytest.raises(BadInputError, match="horizon"):
            TransitionModel.build(network, registry, attachment, horizon_s=horizon)
    other = CameraRegistry(list(registry.cameras)[:3], SITE)
    with pytest.raises(BadInputError, match="different registry"):
        TransitionModel.build(network, other, attachment)


@pytest.fixture(scope="module")
def small_city() -> Street:
    city = generate_city(5, size="small")
    network = city.road_network()
    registry = CameraRegistry(city.cameras, city.crs)
    return network, registry, attach_cameras(network, registry)


@pytest.mark.parametrize("horizon", [90.0, 400.0])
def test_small_city_matches_networkx(small_city: Street, horizon: float) -> None:
    network, registry, attachment = small_city
    model = TransitionModel.build(network, registry, attachment, horizon_s=horizon)
    rng = np.random.default_rng(int(horizon))
    sample = rng.choice(attachment.camera_ids, size=25, replace=False)
    total = 0
    for camera_id in sample.tolist():
        reach = model.reachable(camera_id)
        assert np.all(reach.free_flow_s <= horizon)
        assert_same_reach(reach, naive_reach(network, attachment, camera_id, horizon))
        total += len(reach)
    assert total > 0


def test_small_city_paths_add_up_and_via_is_in_path_order(small_city: Street) -> None:
    network, registry, attachment = small_city
    model = TransitionModel.build(network, registry, attachment, horizon_s=400.0)
    checked_via = 0
    for camera_id in attachment.camera_ids[::7].tolist():
        reach = model.reachable(camera_id)
        for to_id, time, metres in list(
            zip(reach.to_ids, reach.free_flow_s, reach.distance_m, strict=True)
        )[::5]:
            path = model.path_edges(camera_id, str(to_id))
            assert network.edges.travel_time[path].sum() == pytest.approx(time, abs=1e-6)
            assert network.edges.length[path].sum() == pytest.approx(metres, abs=1e-6)
            assert np.all(network.edges.v[path[:-1]] == network.edges.u[path[1:]])
            assert int(path[-1]) in set(attachment.edges_of(str(to_id)).tolist())
            position = {int(e): i for i, e in reversed(list(enumerate(path.tolist())))}
            via = model.via(camera_id, str(to_id))
            assert camera_id not in via and to_id not in via
            first_seen = [
                min(position[e] for e in attachment.edges_of(c).tolist() if e in position)
                for c in via
            ]
            assert first_seen == sorted(first_seen)
            watching = {c for e in path.tolist() for c in attachment.cameras_of(e)}
            assert set(via) == watching - {camera_id, str(to_id)}
            checked_via += len(via)
    assert checked_via > 0


def test_cache_hit_miss_and_invalidation(street: Street, tmp_path: Path) -> None:
    network, registry, _ = street
    folder = tmp_path
    first = TransitionModel.cached(network, registry, folder, horizon_s=600.0)
    assert not first.from_cache
    assert len(list(folder.glob("*.npz"))) == 1
    again = TransitionModel.cached(network, registry, folder, horizon_s=600.0)
    assert again.from_cache
    assert again.fingerprint == first.fingerprint
    assert_same_reach(again.reachable("A"), first.reachable("A"))
    assert again.via("A", "B") == first.via("A", "B")
    assert not TransitionModel.cached(network, registry, folder, horizon_s=300.0).from_cache

    moved = street_cameras(E={"heading_deg": 45.0})  # E now looks away from the detour
    assert fingerprint(network, moved) != first.fingerprint
    rebuilt = TransitionModel.cached(network, moved, folder, horizon_s=600.0)
    assert not rebuilt.from_cache
    assert rebuilt.via("A", "B") == []
    offline = street_cameras(C={"status": "offline"})
    assert fingerprint(network, offline) != first.fingerprint

    slower = RoadNetwork(street_graph(speed_kph=20.0), SITE)
    assert fingerprint(slower, registry) != first.fingerprint
    reloaded = TransitionModel.cached(slower, registry, folder, horizon_s=600.0)
    assert not reloaded.from_cache
    assert as_dict(reloaded.reachable("A"))["C"][0] > as_dict(first.reachable("A"))["C"][0]


def test_corrupt_cache_is_rebuilt(street: Street, tmp_path: Path) -> None:
    network, registry, _ = street
    model = TransitionModel.cached(network, registry, tmp_path, horizon_s=600.0)
    (path,) = tmp_path.glob("*.npz")
    path.write_bytes(b"not a zip file")
    again = TransitionModel.cached(network, registry, tmp_path, horizon_s=600.0)
    assert not again.from_cache
    assert_same_reach(again.reachable("A"), model.reachable("A"))
    assert TransitionModel.cached(network, registry, tmp_path, horizon_s=600.0).from_cache


def test_on_demand_model_answers_like_the_built_one(small_city: Street, tmp_path: Path) -> None:
    network, registry, attachment = small_city
    built = TransitionModel.build(network, registry, attachment, horizon_s=300.0)
    lazy = TransitionModel.on_demand(network, registry, attachment, horizon_s=300.0)
    assert lazy.rows is None
    for camera_id in attachment.camera_ids[::9].tolist():
        reach = lazy.reachable(camera_id)
        assert_same_reach(reach, built.reachable(camera_id))
        for to_id in reach.to_ids[::6].tolist():
            assert lazy.via(camera_id, to_id) == built.via(camera_id, to_id)
            assert np.array_equal(
                lazy.path_edges(camera_id, to_id), built.path_edges(camera_id, to_id)
            )
    lazy.save(tmp_path / "lazy.npz")  # saving computes every row
    assert lazy.rows is not None
    assert np.array_equal(lazy.rows.target, built.rows.target)


def test_empty_registry_gives_an_empty_model(street: Street) -> None:
    network = street[0]
    model = TransitionModel.build(network, CameraRegistry([], SITE), horizon_s=600.0)
    assert model.camera_ids.size == 0
    assert model.rows is not None and model.rows.target.size == 0
    with pytest.raises(NotFoundError):
        model.reachable("A")


def test_chunking_does_not_change_the_answer(
    small_city: Street, monkeypatch: pytest.MonkeyPatch
) -> None:
    network, registry, attachment = small_city
    whole = TransitionModel.build(network, registry, attachment, horizon_s=300.0)
    monkeypatch.setattr(_transition_build, "CHUNK_ELEMENTS", 3 * len(network.nodes))
    chunked = TransitionModel.build(network, registry, attachment, horizon_s=300.0)
    assert whole.rows is not None and chunked.rows is not None
    for name in ("indptr", "target", "time", "distance", "arrive_edge"):
        assert np.array_equal(getattr(whole.rows, name), getattr(chunked.rows, name))


def test_path_ends_are_those_of_the_paths(small_city: Street) -> None:
    """Linking reads only how a path leaves and arrives: one tree walk for many targets."""
    network, registry, attachment = small_city
    built = TransitionModel.build(network, registry, attachment, horizon_s=300.0)
    lazy = TransitionModel.on_demand(network, registry, attachment, horizon_s=300.0)
    checked = 0
    for camera_id in attachment.camera_ids[::11].tolist():
        targets = [str(t) for t in built.reachable(camera_id).to_ids[::3].tolist()]
        for model in (built, lazy):
            first, last = model.path_ends(camera_id, targets)
            for to_id, a, b in zip(targets, first.tolist(), last.tolist(), strict=True):
                path = model.path_edges(camera_id, to_id)
                assert (a, b) == (int(path[0]), int(path[-1]))
                checked += 1
    assert checked > 0
    source = str(attachment.camera_ids[0])
    near = [str(c) for c in built.reachable(source).to_ids[:2].tolist()]
    with pytest.raises(NotFoundError, match="nope"):
        built.path_ends(source, [*near, "nope"])
    reached = {source, *near, *built.reachable(source).to_ids.tolist()}
    watching = np.unique(attachment.camera_ids[attachment.camera]).tolist()
    far = [c for c in watching if c not in reached]
    assert far
    with pytest.raises(NotFoundError, match="not reachable"):
        lazy.path_ends(source, [*near, far[0]])


def test_reach_among_some_cameras_is_the_whole_reach_kept_to_them(small_city: Street) -> None:
    """Linking asks an on-demand model for a sighting's few passable cameras alone: the
    same trips in the same order as the whole reach filtered, and path ends to match."""
    network, registry, attachment = small_city
    built = TransitionModel.build(network, registry, attachment, horizon_s=300.0)
    rng = np.random.default_rng(3)
    checked = 0
    for camera_id in attachment.camera_ids[::7].tolist():
        lazy = TransitionModel.on_demand(network, registry, attachment, horizon_s=300.0)
        whole = built.reachable(camera_id)
        assert whole.rows is not None
        pool = np.concatenate([whole.rows, rng.integers(0, registry.ids.size, 20)])
        asked = rng.choice(pool, size=min(pool.size, 15), replace=False).astype(np.intp)
        keep = np.isin(whole.rows, asked)
        for model in (lazy, built):
            got = model.reachable_among(camera_id, asked)
            assert got.rows is not None
            assert np.array_equal(got.rows, whole.rows[keep])
            assert np.array_equal(got.to_ids, whole.to_ids[keep])
            assert np.array_equal(got.free_flow_s, whole.free_flow_s[keep])
            assert np.array_equal(got.distance_m, whole.distance_m[keep])
        targets = [str(t) for t in whole.to_ids[keep].tolist()]
        if targets:  # ends from the kept search alone, before the whole reach is computed
            assert camera_id not in [str(c) for c in lazy.camera_ids[list(lazy._computed)]]
            first, last = lazy.path_ends(camera_id, targets)
            want_first, want_last = built.path_ends(camera_id, targets)
            assert np.array_equal(first, want_first) and np.array_equal(last, want_last)
            checked += len(targets)
    assert checked > 0
