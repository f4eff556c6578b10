"""Route inference and directed trips on a two-route diamond, then the hit-and-run escape."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from camera_registry.camera import Camera
from camera_registry.crs import SiteCRS
from camera_registry.registry import CameraRegistry
from skynet._directed import DirectedTrips
from skynet.errors import BadInputError, NotFoundError
from skynet.roads import RoadNetwork, attach_cameras
from skynet.roads.cameras import CameraAttachment, edge_label
from skynet.routes import (
    RouteParams,
    SightingSource,
    edge_f1,
    route_between,
    route_timeline,
    shortest_path_route,
    time_fit,
)
from skynet.store import ClipRecord, SightingStore
from skynet.synthetic.scenario import Scenario, ScenarioSpec, build_scenario
from trackers.sighting import APPEARANCE_DIM, Evidence, Sighting

BUNDLED = Path(__file__).resolve().parents[2] / "sample_data" / "hit_and_run"
CRS = SiteCRS.from_user_input("EPSG:32650")
X0, Y0 = 500_000.0, 2_800_000.0
# A diamond: 0 -> 1, then north 1 -> 2 -> 3 or south 1 -> 4 -> 3, then 3 -> 5.
NODES = {0: (0, 0), 1: (200, 0), 2: (500, 300), 3: (800, 0), 4: (500, -300), 5: (1000, 0)}
ROADS = [(0, 1), (1, 2), (2, 3), (1, 4), (4, 3), (3, 5)]


def unit(index: int) -> np.ndarray:
    vector = np.zeros(APPEARANCE_DIM, dtype=np.float32)
    vector[index] = 1.0
    return vector


TARGET = unit(0)


class ListStore:
    """An in-memory sighting source with the store's ``find`` semantics."""

    def __init__(self, sightings: Sequence[Sighting]) -> None:
        self.sightings = list(sightings)

    def find(
        self,
        *,
        camera_ids: Iterable[str] | None = None,
        start_s: float | None = None,
        end_s: float | None = None,
        ids: Iterable[str] | None = None,
    ) -> list[Sighting]:
        cameras = None if camera_ids is None else set(camera_ids)
        wanted = None if ids is None else set(ids)
        return sorted(
            (
                s
                for s in self.sightings
                if (cameras is None or s.camera_id in cameras)
                and (wanted is None or s.id in wanted)
                and (start_s is None or s.t_out >= start_s)
                and (end_s is None or s.t_in <= end_s)
            ),
            key=lambda s: s.t_in,
        )


def sighting(
    sighting_id: str,
    camera_id: str,
    t_in: float,
    t_out: float,
    *,
    appearance: np.ndarray = TARGET,
    vehicle_class: str = "car",
    entry_edge: str | None = None,
    exit_edge: str | None = None,
) -> Sighting:
    return Sighting(
        id=sighting_id,
        camera_id=camera_id,
        t_in=t_in,
        t_out=t_out,
        vehicle_class=vehicle_class,
        appearance=appearance,
        quality=0.9,
        evidence=Evidence("clip", 0, (0.0, 0.0, 10.0, 10.0)),
        entry_edge=entry_edge,
        exit_edge=exit_edge,
    )


def diamond(south_y: float = -300.0) -> RoadNetwork:
    graph = nx.MultiDiGraph(crs=CRS.code)
    nodes = {**NODES, 4: (500.0, south_y)}
    for node, (x, y) in nodes.items():
        graph.add_node(node, x=X0 + x, y=Y0 + y)
    for u, v in ROADS:
        length = math.dist(nodes[u], nodes[v])
        for a, b in ((u, v), (v, u)):
            graph.add_edge(a, b, key=0, length=length, highway="residential", maxspeed=36.0)
    return RoadNetwork(graph, CRS)


def camera(camera_id: str, x: float, y: float, heading: float, status: str = "online") -> Camera:
    lon, lat = CRS.to_lonlat([X0 + x], [Y0 + y])
    return Camera(
        id=camera_id,
        name=camera_id,
        kind="road",
        lon=float(lon[0]),
        lat=float(lat[0]),
        heading_deg=heading,
        fov_deg=90.0,
        range_m=40.0,
        status=status,
    )


def diamond_registry(watcher_status: str = "online") -> CameraRegistry:
    return CameraRegistry(
        [
            camera("A", 100.0, -15.0, 0.0),
            camera("B", 900.0, -15.0, 0.0),
            # beside the middle of the north road 1 -> 2, looking at it
            camera("C", 350.0 + 12.0, 150.0 - 12.0, 315.0, watcher_status),
            camera("FAR", 5_000.0, 5_000.0, 0.0),
        ],
        CRS,
    )


def leg_sightings(gap_s: float = 105.0) -> tuple[Sighting, Sighting]:
    a = sighting("a", "A", 0.0, 2.0, entry_edge="0-1-0", exit_edge="0-1-0")
    b = sighting("b", "B", 2.0 + gap_s, 4.0 + gap_s, entry_edge="3-5-0", exit_edge="3-5-0")
    return a, b


def north_probability(
    network: RoadNetwork,
    attachment: CameraAttachment,
    store: SightingSource,
    params: RouteParams | None = None,
) -> float:
    a, b = leg_sightings()
    legs = route_between(network, attachment, store, a, b, params=params)
    assert math.isclose(sum(leg.probability for leg in legs), 1.0)
    north = network.edge_row[(1, 2, 0)]
    return sum(leg.probability for leg in legs if north in leg.edges.tolist())


def test_camera_watches_the_north_road() -> None:
    network = diamond()
    attachment = attach_cameras(network, diamond_registry())
    assert network.edge_row[(1, 2, 0)] in attachment.edges_of("C").tolist()
    assert attachment.edges_of("FAR").size == 0


@pytest.mark.parametrize("exact_limit", [0, 1_000], ids=["penalised", "yen"])
def test_silent_online_camera_sends_the_route_the_unwatched_way(exact_limit: int) -> None:
    network = diamond()
    attachment = attach_cameras(network, diamond_registry())
    a, b = leg_sightings()
    elsewhere = sighting("other", "C", 30.0, 33.0, appearance=unit(5))  # not the target
    wrong_class = sighting("truck", "C", 31.0, 34.0, vehicle_class="truck")
    store = ListStore([a, b, elsewhere, wrong_class])
    params = RouteParams(exact_limit=exact_limit)
    assert north_probability(network, attachment, store, params) < 0.2
    silent_free = ListStore([a, b, sighting("seen", "C", 30.0, 33.0)])
    assert north_probability(network, attachment, silent_free, params) > 0.9
    route = route_timeline(network, attachment, diamond_registry(), store, [a, b])
    assert "1-4-0" in route.labels and "1-2-0" not in route.labels
    inferred = [s for s in route.stretches if s.kind == "inferred"]
    assert inferred[0].silent_cameras == ()
    assert route.alternatives and "1-2-0" in route.alternatives[0].labels
    assert route.alternatives[0].probability < route.probability
    assert "C" in route.alternatives[0].stretches[1].silent_cameras


def test_offline_camera_says_nothing() -> None:
    network = diamond()
    attachment = attach_cameras(network, diamond_registry("offline"))
    store = ListStore(list(leg_sightings()))
    assert north_probability(network, attachment, store) == pytest.approx(0.5, abs=0.02)
    # with one branch longer, only the travel time decides: the gap fits the north road
    longer = diamond(south_y=-700.0)
    attachment = attach_cameras(longer, diamond_registry("offline"))
    assert north_probability(longer, attachment, store) > 0.8


def test_matching_sighting_in_the_window_wins(tmp_path: Path) -> None:
    network = diamond()
    attachment = attach_cameras(network, diamond_registry())
    a, b = leg_sightings()
    seen = sighting("seen", "C", 30.0, 33.0, appearance=unit(0))
    store = SightingStore(str(tmp_path / "s.db"))
    clip = ClipRecord("clip", "C", "clip", "test", 0.0, 10, 10.0)
    store.add_clip(clip, [a, b, seen])
    assert north_probability(network, attachment, store) > 0.9
    late = ListStore([a, b, sighting("late", "C", 900.0, 903.0)])  # outside the window
    assert north_probability(network, attachment, late) < 0.2
    route = route_timeline(network, attachment, diamond_registry(), store, [a, b])
    assert "1-2-0" in route.labels
    assert route.stretches[1].matched == (("C", "seen", 30.0),)


def test_geojson_is_a_valid_feature_collection() -> None:
    network = diamond()
    registry = diamond_registry()
    attachment = attach_cameras(network, registry)
    a, b = leg_sightings()
    route = route_timeline(network, attachment, registry, ListStore([a, b]), [a, b])
    document = json.loads(json.dumps(route.as_geojson()))
    assert document["type"] == "FeatureCollection"
    roles = [f["properties"]["role"] for f in document["features"]]
    assert roles.count("route") == 1 and "alternative" in roles
    assert roles.count("sighting") == 2 and "camera" in roles
    for feature in document["features"]:
        assert feature["type"] == "Feature"
        coordinates = np.atleast_2d(np.asarray(feature["geometry"]["coordinates"]))
        assert np.all(np.abs(coordinates[:, 0]) <= 180) and np.all(np.abs(coordinates[:, 1]) <= 90)
        if feature["geometry"]["type"] == "LineString":
            assert len(coordinates) >= 2
    line = document["features"][0]["geometry"]["coordinates"]
    start = CRS.to_lonlat([X0], [Y0])
    assert line[0] == pytest.approx([start[0][0], start[1][0]])
    assert route.length_m == pytest.approx(200 + 2 * math.hypot(300, 300) + 200)


def test_bad_input_is_reported() -> None:
    network = diamond()
    registry = diamond_registry()
    attachment = attach_cameras(network, registry)
    a, b = leg_sightings()
    store = ListStore([a, b])
    with pytest.raises(BadInputError, match="backwards"):
        route_between(network, attachment, store, b, a)
    with pytest.raises(BadInputError, match="backwards"):
        route_timeline(network, attachment, registry, store, [b, a])
    quick = sighting("quick", "B", 5.0, 6.0, entry_edge="3-5-0")
    with pytest.raises(BadInputError, match="impossible speed"):
        route_between(network, attachment, store, a, quick)
    route = route_timeline(network, attachment, registry, store, [a, quick])
    gap = [s for s in route.stretches if s.kind == "gap"]
    assert len(gap) == 1 and "impossible speed" in (gap[0].note or "")
    assert route.labels[0] == "0-1-0" and route.labels[-1] == "3-5-0"
    off_road = sighting("off", "FAR", 500.0, 501.0)
    with pytest.raises(BadInputError, match="watches no road edge"):
        route_between(network, attachment, store, a, off_road)
    with pytest.raises(NotFoundError, match="not in the registry"):
        route_between(network, attachment, store, a, sighting("x", "NOPE", 500.0, 501.0))
    with pytest.raises(BadInputError, match="not in the road network"):
        route_between(
            network, attachment, store, a, sighting("y", "B", 500.0, 501.0, entry_edge="9-9-0")
        )
    with pytest.raises(BadInputError, match="at least two"):
        route_timeline(network, attachment, registry, store, [a])
    b = leg_sightings()[1]
    between = sighting("off", "FAR", 50.0, 51.0)
    route = route_timeline(network, attachment, registry, store, [a, between, b])
    assert [i for i, _ in route.skipped] == ["off"] and "1-4-0" in route.labels
    with pytest.raises(BadInputError, match="left out: off"):
        route_timeline(network, attachment, registry, store, [a, off_road])


def test_unlabelled_sightings_anchor_on_watched_edges() -> None:
    network = diamond()
    registry = diamond_registry()
    attachment = attach_cameras(network, registry)
    a = sighting("a", "A", 0.0, 2.0)
    b = sighting("b", "B", 107.0, 109.0)
    legs = route_between(network, attachment, ListStore([a, b]), a, b)
    first, last = legs[0].edges[0], legs[0].edges[-1]
    assert network.edge_ids[first] == (0, 1, 0) and network.edge_ids[last] == (3, 5, 0)


def test_time_fit_prefers_paths_the_gap_explains() -> None:
    params = RouteParams()
    fit = time_fit(100.0, np.array([20.0, 95.0, 100.0, 160.0, 400.0]), params)
    assert min(fit[1], fit[2]) > fit[0] and fit[2] > fit[3] > fit[4]
    assert fit[4] < fit[2] - 20  # needs four times free-flow speed: as good as impossible


def test_baseline_takes_the_quickest_path_whatever_the_cameras_saw() -> None:
    network = diamond(south_y=-250.0)  # the south road is a little quicker
    registry = diamond_registry()
    attachment = attach_cameras(network, registry)
    a, b = leg_sightings()
    store = ListStore([a, b, sighting("seen", "C", 30.0, 33.0)])
    baseline = shortest_path_route(network, attachment, registry, [a, b])
    assert "1-4-0" in baseline.labels and baseline.alternatives == ()
    assert "1-2-0" in route_timeline(network, attachment, registry, store, [a, b]).labels
    assert edge_f1(network, baseline.edges, baseline.edges) == (1.0, 1.0, 1.0)
    precision, recall, _ = edge_f1(network, baseline.edges[:2], baseline.edges)
    assert precision == 1.0 and 0.0 < recall < 1.0


# --- the hit-and-run escape ------------------------------------------------------------


@pytest.fixture(scope="module")
def escape() -> tuple[Scenario, RoadNetwork, CameraRegistry, CameraAttachment]:
    scenario = build_scenario(ScenarioSpec.from_file(BUNDLED / "spec.json"))
    network = scenario.city.road_network()
    registry = CameraRegistry(scenario.cameras, scenario.city.crs)
    return scenario, network, registry, attach_cameras(network, registry)


def truth_rows(scenario: Scenario, network: RoadNetwork) -> list[int]:
    return scenario.route_rows(network)


def target_sightings(scenario: Scenario, network: RoadNetwork) -> list[Sighting]:
    """The target's true sightings at online cameras, with the edges it was on."""
    truth = scenario.traffic.route(scenario.target_id)
    rows = truth_rows(scenario, network)

    def edge_at(t: float) -> str:
        index = min(int(np.searchsorted(truth.leave_s, t)), len(rows) - 1)
        return edge_label(network.edge_ids[rows[index]])

    online = [s for s in scenario.sightings if s.camera_online]
    return [
        sighting(
            f"t{i}",
            s.camera_id,
            s.t_in,
            s.t_out,
            vehicle_class="three_wheeler",
            entry_edge=edge_at(s.t_in),
            exit_edge=edge_at(s.t_out),
        )
        for i, s in enumerate(online)
    ]


def noise(scenario: Scenario, count: int = 40) -> list[Sighting]:
    rng = np.random.default_rng(5)
    start, end = scenario.escape_window
    ids = [c.id for c in scenario.cameras]
    out = []
    for index in range(count):
        vector = rng.normal(size=APPEARANCE_DIM).astype(np.float32)
        t = float(rng.uniform(start, end))
        out.append(
            sighting(
                f"n{index}",
                ids[int(rng.integers(len(ids)))],
                t,
                t + 3.0,
                appearance=vector / np.linalg.norm(vector),
                vehicle_class=str(rng.choice(["car", "three_wheeler", "truck"])),
            )
        )
    return out


def scores(network: RoadNetwork, edges: np.ndarray, truth: list[int]) -> tuple[float, float]:
    _, _, f1 = edge_f1(network, edges, truth)
    true_length = float(network.edges.length[truth].sum())
    return f1, abs(float(network.edges.length[edges].sum()) - true_length) / true_length


def test_hit_and_run_escape_is_reconstructed(
    escape: tuple[Scenario, RoadNetwork, CameraRegistry, CameraAttachment],
) -> None:
    scenario, network, registry, attachment = escape
    truth = truth_rows(scenario, network)
    linked = target_sightings(scenario, network)
    store = ListStore(linked + noise(scenario))
    route = route_timeline(network, attachment, registry, store, linked)
    baseline = shortest_path_route(network, attachment, registry, linked)
    f1, length_error = scores(network, route.edges, truth)
    base_f1, _ = scores(network, baseline.edges, truth)
    print(f"\nall linked: F1 {f1:.4f} length error {length_error:.4f} baseline F1 {base_f1:.4f}")
    assert f1 >= 0.95 and length_error <= 0.02
    assert f1 >= base_f1
    observed = [s.camera_id for s in route.stretches if s.kind == "observed"]
    assert observed == [s.camera_id for s in linked]
    assert not [s for s in route.stretches if s.kind == "gap"]

    # Link only every fourth sighting: the rest stay in the store as evidence.
    sparse = linked[::4] + ([linked[-1]] if (len(linked) - 1) % 4 else [])
    route = route_timeline(network, attachment, registry, store, sparse)
    baseline = shortest_path_route(network, attachment, registry, sparse)
    f1, length_error = scores(network, route.edges, truth)
    base_f1, base_error = scores(network, baseline.edges, truth)
    print(f"every 4th linked: F1 {f1:.4f} length error {length_error:.4f};", end=" ")
    print(f"baseline F1 {base_f1:.4f} length error {base_error:.4f}")
    assert f1 >= 0.95 and length_error <= 0.02
    assert f1 > base_f1
    supported = {c for s in route.stretches for c, _, _ in s.matched}
    assert supported and supported <= {s.camera_id for s in linked}


def test_negative_evidence_helps_when_coverage_is_thin(
    escape: tuple[Scenario, RoadNetwork, CameraRegistry, CameraAttachment],
) -> None:
    """40% of the cameras kept (six draws): evidence beats time fit alone and the baseline."""
    scenario, network, _, _ = escape
    truth = truth_rows(scenario, network)
    linked_all = target_sightings(scenario, network)
    background = noise(scenario, 200)
    scores_by: dict[str, list[float]] = {"evidence": [], "time only": [], "baseline": []}
    for seed in range(6):
        rng = np.random.default_rng(seed)
        kept = [c for c in scenario.cameras if c.id == "P01-CRASH" or rng.random() < 0.4]
        ids = {c.id for c in kept}
        registry = CameraRegistry(kept, scenario.city.crs)
        attachment = attach_cameras(network, registry)
        linked = [s for s in linked_all if s.camera_id in ids]
        store = ListStore(linked + [s for s in background if s.camera_id in ids])
        routes = {
            "evidence": route_timeline(network, attachment, registry, store, linked),
            "time only": route_timeline(
                network, attachment, registry, store, linked, params=RouteParams(use_evidence=False)
            ),
            "baseline": shortest_path_route(network, attachment, registry, linked),
        }
        for name, route in routes.items():
            scores_by[name].append(edge_f1(network, route.edges, truth)[2])
    mean = {name: float(np.mean(values)) for name, values in scores_by.items()}
    print("\n40% coverage mean F1:", {name: round(value, 3) for name, value in mean.items()})
    assert mean["evidence"] >= 0.9
    assert mean["evidence"] > mean["time only"] > mean["baseline"]


# ---------------------------------------------------------------- directed trips
SPEED_MPS = 36.0 / 3.6  # the diamond's roads


def trips(network: RoadNetwork) -> DirectedTrips:
    return DirectedTrips(network, attach_cameras(network, diamond_registry()))


def test_time_runs_from_where_one_view_ends_to_where_the_next_begins() -> None:
    network = diamond()
    a = sighting("a", "A", 0.0, 2.0, entry_edge="0-1-0", exit_edge="0-1-0")
    b = sighting("b", "B", 100.0, 102.0, entry_edge="3-5-0", exit_edge="3-5-0")
    directed = trips(network)
    seconds, _ = directed.trips(a, [b], forward=True, limit_s=1e4)
    # A's view ends short of node 1, B's begins past node 3; between them one branch
    north = math.dist((200, 0), (500, 300)) + math.dist((500, 300), (800, 0))
    assert north / SPEED_MPS < seconds[0] < (north + 400.0) / SPEED_MPS
    back, _ = directed.trips(b, [a], forward=False, limit_s=1e4)
    assert back[0] == pytest.approx(seconds[0])
    # the same vehicle seen leaving A the other way must turn at the dead end first
    away = sighting("away", "A", 0.0, 2.0, entry_edge="1-0-0", exit_edge="1-0-0")
    longer, _ = directed.trips(away, [b], forward=True, limit_s=1e4)
    assert longer[0] > seconds[0] + 150.0 / SPEED_MPS
    unknown = sighting("u", "A", 0.0, 2.0)
    assert np.isnan(directed.trips(unknown, [b], forward=True, limit_s=1e4)[0]).all()


def test_cameras_passed_unless_the_gap_allows_the_way_round() -> None:
    network = diamond(south_y=-700.0)  # the south branch is the long way round C
    a = sighting("a", "A", 0.0, 2.0, entry_edge="0-1-0", exit_edge="0-1-0")
    directed = trips(network)
    quick = directed.trips(a, [sighting("b", "B", 0.0, 1.0, entry_edge="3-5-0")], forward=True,
                           limit_s=1e4)[0][0]  # fmt: skip
    soon = sighting("b1", "B", 2.0 + quick, 4.0 + quick, entry_edge="3-5-0")
    late = sighting("b2", "B", 2.0 + quick * 3, 4.0 + quick * 3, entry_edge="3-5-0")
    _, passed = directed.trips(a, [soon, late], forward=True, limit_s=1e4)
    assert passed.tolist() == [1.0, 0.0]  # C watches the quick way; late, it could go round


def test_searches_on_kept_graphs_match_fresh_ones() -> None:
    """Bounded searches write their virtual source into arrays kept per matrix: the same
    reach and tree as a graph built afresh, call after call, on each of two matrices;
    penalised paths on a corridor's own nodes are quick, simple and within its budget."""
    from scipy.sparse.csgraph import dijkstra

    from skynet._paths import (
        Anchor,
        _bounded,
        _corridor,
        _costs,
        _penalised,
        bounded_tree,
        with_source,
    )
    from skynet.synthetic.city import generate_city

    network = generate_city(5, size="small").road_network()
    costs = _costs(network, "car")
    rng = np.random.default_rng(5)
    size = len(network.nodes)
    for matrix in (costs.forward, costs.backward, costs.forward):
        for _ in range(4):
            nodes = rng.integers(0, size, 3)
            offsets = rng.random(3) * 20.0
            graph = with_source(matrix, nodes, offsets)
            fresh, want = dijkstra(graph, indices=size, limit=90.0 + 1e-9, return_predecessors=True)
            assert np.array_equal(_bounded(matrix, nodes, offsets, 90.0), fresh[:size] - 1e-9)
            _, before = bounded_tree(matrix, nodes, offsets, 90.0)
            assert np.array_equal(before, want)
    edges = network.edges
    reach = _bounded(costs.forward, edges.v[:1], np.zeros(1), 120.0)
    far = np.flatnonzero(np.isfinite(reach[edges.u]) & (reach[edges.u] > 60.0))
    start = Anchor(np.array([0]), np.array([0.0]))
    end = Anchor(far[:1], np.array([float(edges.length[far[0]])]))
    corridor = _corridor(network, costs, start, end, 300.0)
    assert corridor is not None
    paths = _penalised(corridor, 3)
    assert paths and paths[0][1] <= corridor.budget_s
    for rows, _ in paths:
        assert rows[0] == 0 and rows[-1] == far[0]
        assert np.array_equal(edges.v[rows[:-1]], edges.u[rows[1:]])  # a road, edge to edge
