"""The engine at city scale: one seed sighting to a finished route among 10 million.

The world (built once, then cached under ``--out`` by its parameters):

* roads: ``generate_city(seed, size="large")``, about 103,000 directed edges;
* cameras: the city's own placement plus street cameras up to ``--cameras``
  (70,000 by default, about one every road and a half);
* sightings, ``--sightings`` in all (10 million), in one SQLite file with the
  roads and the cameras, over ``--span-h`` hours:
  - the target: a three-wheeler's trip of at least ``--escape-km`` along
    quickest roads, at its class's share of free-flow speed, seen by each
    online camera on its way with chance ``--detect`` (1 by default, as in
    the simulator the link model is fitted on);
  - ``--vehicles`` background trips seen the same way, ``--lookalikes`` of
    them of the target's class and colour;
  - clutter to make up the total: sightings at random cameras and times, on
    the edges those cameras watch, of random classes and colours;
  - then laid out by camera and time once (``SightingStore.cluster``: a world
    cached before this existed is migrated in place the first time; about ten
    minutes for 10 M rows; ``--keep-layout`` leaves arrival order).

Measured in one run, on the same database and seed (the target's first
sighting, the crash; the investigation window opens a minute before it):

* Skynet: ``Investigation.open`` (on-demand transitions, ``--horizon``),
  then seed to finished route (timeline both ways, route with alternatives)
  from cold caches; then, from cold caches again, candidate retrieval for
  each sighting of the timeline (``Linker.candidates``: reach, store query,
  directed trips, scoring), median and worst;
* the peer, plain networkx on demand: the same linker over transitions
  answered by networkx with nothing kept (``reachable``: a cutoff
  ``single_source_dijkstra`` from each watched edge's head, as the reference
  ``naive_reach``; ``path_edges``: a multi-source Dijkstra per camera pair),
  following the first ``--peer-links`` links forward, against Skynet's
  model doing the same from cold caches; the ratio of the two;
* accuracy: target sightings linked, others linked, the route's edge-F1
  against the true path.

Usage: python benchmarks/bench_engine.py [--cameras 70000] [--sightings 10000000]
       [--escape-km 20] [--horizon 300] [--out benchmarks/_out/engine]
Small run for a check: --cameras 8000 --sightings 200000
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from camera_registry import CameraRegistry
from camera_registry.database import open_engine
from camera_registry.store import RegistryStore
from skynet._paths import CLASS_SPEED
from skynet._transition_graph import RoadMatrix
from skynet.investigate import Investigation
from skynet.roads import RoadStore, attach_cameras
from skynet.roads.cameras import CameraAttachment, edge_label
from skynet.roads.network import RoadNetwork
from skynet.routes import edge_f1
from skynet.store import ClipRecord, SightingStore
from skynet.synthetic.city import generate_city
from skynet.timeline import Linker, follow
from skynet.transitions import Reach, TransitionModel, naive_reach
from trackers.sighting import APPEARANCE_DIM, Evidence, Sighting, sighting_id

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
#: 2026-06-01 02:00 UTC: mid-morning at the synthetic city's longitude (daylight model).
T0 = 1_780_279_200.0
CLASSES = ("car", "van", "truck", "three_wheeler", "e_bike")
CLASS_SHARES = (0.62, 0.14, 0.1, 0.09, 0.05)
TARGET_CLASS = "three_wheeler"
#: Colour prototypes of the fleet; the target's is number 0.
PROTOTYPES = 48
APPEARANCE_NOISE = 0.08
CHUNK = 250_000


@dataclass(frozen=True)
class World:
    db: str
    target_ids: list[str]
    true_edges: list[int]
    meta: dict[str, float]


@dataclass(frozen=True, eq=False)
class Roads:
    network: RoadNetwork
    matrix: RoadMatrix
    graph: csr_matrix
    labels: list[str]


def unit(vectors: FloatArray) -> NDArray[np.float32]:
    vectors = np.abs(vectors)
    return (vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)).astype(np.float32)


def road_view(network: RoadNetwork) -> Roads:
    size = len(network.nodes.ids)
    matrix = RoadMatrix.from_edges(network.edges, size)
    graph = csr_matrix((matrix.time, matrix.indices, matrix.indptr), shape=(size, size))
    return Roads(network, matrix, graph, [edge_label(e) for e in network.edge_ids])


def trip(roads: Roads, rng: np.random.Generator, low_m: float, high_m: float) -> IntArray:
    """Edge rows of a quickest trip whose length falls in [low_m, high_m]."""
    size = roads.matrix.size
    while True:
        source = int(rng.integers(size))
        times, pred = dijkstra(roads.graph, indices=source, return_predecessors=True, limit=4000)
        reached = np.flatnonzero(np.isfinite(times))
        for node in rng.choice(reached, size=min(40, reached.size), replace=False).tolist():
            nodes = [node]
            while nodes[-1] != source:
                nodes.append(int(pred[nodes[-1]]))
            nodes.reverse()
            path = np.asarray(nodes, dtype=np.intp)
            edges = roads.matrix.edge_between(path[:-1], path[1:])
            metres = float(roads.network.edges.length[edges].sum())
            if low_m <= metres <= high_m:
                return edges


def passages(
    roads: Roads,
    attachment: CameraAttachment,
    edges: IntArray,
    start_s: float,
    share: float,
    cap_mps: float,
) -> list[tuple[int, float, float, int, int]]:
    """(camera, t_in, t_out, entry edge, exit edge) of each camera run along a trip."""
    e = roads.network.edges
    speed = np.minimum(e.length[edges] / np.maximum(e.travel_time[edges], 1e-6) * share, cap_mps)
    seconds = e.length[edges] / speed
    enter = start_s + np.concatenate([[0.0], np.cumsum(seconds)[:-1]])
    rows = attachment.rows_watching(edges)
    if rows.size == 0:
        return []
    at = {edge: i for i, edge in enumerate(edges.tolist())}  # a quickest path repeats no edge
    position = np.array([at[edge] for edge in attachment.edge[rows].tolist()], dtype=np.intp)
    pace = 1.0 / speed[position]
    t_in = enter[position] + attachment.start_m[rows] * pace
    t_out = enter[position] + attachment.end_m[rows] * pace
    camera = attachment.camera[rows]
    key = np.lexsort((position, camera))
    camera, position, t_in, t_out = camera[key], position[key], t_in[key], t_out[key]
    # a run: one camera on consecutive edges of the trip
    new = np.concatenate([[True], (camera[1:] != camera[:-1]) | (position[1:] - position[:-1] > 1)])
    first = np.flatnonzero(new)
    last = np.concatenate([first[1:], [camera.size]]) - 1
    runs = zip(
        camera[first].tolist(),
        np.minimum.reduceat(t_in, first).tolist(),
        np.maximum.reduceat(t_out, first).tolist(),
        edges[position[first]].tolist(),
        edges[position[last]].tolist(),
        strict=True,
    )
    return list(runs)


def make_sighting(
    camera_id: str,
    clip: str,
    number: int,
    t_in: float,
    t_out: float,
    vehicle_class: str,
    appearance: NDArray[np.float32],
    entry: str,
    exit_: str,
    heading: float,
) -> Sighting:
    return Sighting(
        id=sighting_id(camera_id, clip, number),
        camera_id=camera_id,
        t_in=t_in,
        t_out=max(t_out, t_in),
        vehicle_class=vehicle_class,
        appearance=appearance,
        quality=0.9,
        evidence=Evidence(clip, 0, (0.0, 0.0, 16.0, 16.0)),
        heading_deg=heading,
        entry_edge=entry,
        exit_edge=exit_,
    )


def fleet_sightings(
    roads: Roads,
    attachment: CameraAttachment,
    rng: np.random.Generator,
    prototypes: FloatArray,
    args: argparse.Namespace,
) -> tuple[list[Sighting], list[str], list[int]]:
    """The target's and the background trips' sightings; the target's ids and edges."""
    span = args.span_h * 3600.0
    out: list[Sighting] = []
    target_ids: list[str] = []
    true_edges: list[int] = []
    for vehicle in range(args.vehicles + 1):
        target = vehicle == 0
        lookalike = 0 < vehicle <= args.lookalikes
        if target:
            edges = trip(roads, rng, args.escape_km * 1000.0, args.escape_km * 1300.0)
            start = T0 + span * 0.4
        else:
            edges = trip(roads, rng, 3000.0, 15000.0)
            start = T0 + float(rng.uniform(0.0, span * 0.9))
        vehicle_class = (
            TARGET_CLASS if target or lookalike else str(rng.choice(CLASSES, p=CLASS_SHARES))
        )
        colour = prototypes[0 if target or lookalike else int(rng.integers(1, PROTOTYPES))]
        share, cap = CLASS_SPEED[vehicle_class]
        share *= float(rng.uniform(0.85, 1.0))
        for number, (cam, t_in, t_out, e_in, e_out) in enumerate(
            sorted(
                passages(roads, attachment, edges, start, share, cap / 3.6),
                key=lambda p: p[1],
            )
        ):
            if not attachment.online[cam] or rng.random() > args.detect:
                continue
            looks = unit(colour + rng.normal(0.0, APPEARANCE_NOISE, APPEARANCE_DIM))
            row = np.flatnonzero((attachment.camera == cam) & (attachment.edge == e_in))
            s = make_sighting(
                str(attachment.camera_ids[cam]),
                f"trip-{vehicle}",
                number,
                t_in,
                t_out,
                vehicle_class,
                looks,
                roads.labels[e_in],
                roads.labels[e_out],
                float(attachment.heading_deg[row[0]]) if row.size else 0.0,
            )
            out.append(s)
            if target:
                target_ids.append(s.id)
        if target:
            true_edges = edges.tolist()
    return out, target_ids, true_edges


def clutter(
    roads: Roads,
    attachment: CameraAttachment,
    rng: np.random.Generator,
    prototypes: FloatArray,
    count: int,
    span_s: float,
    first: int,
) -> Iterator[list[Sighting]]:
    """``count`` sightings at random cameras and times, in chunks."""
    online = np.flatnonzero(attachment.online[attachment.camera])
    e = roads.network.edges
    for start in range(0, count, CHUNK):
        n = min(CHUNK, count - start)
        rows = online[rng.integers(online.size, size=n)]
        t_in = T0 + rng.uniform(0.0, span_s, n)
        speed = e.length[attachment.edge[rows]] / np.maximum(
            e.travel_time[attachment.edge[rows]], 1e-6
        )
        t_out = t_in + (attachment.end_m[rows] - attachment.start_m[rows]) / (
            speed * rng.uniform(0.5, 1.0, n)
        )
        classes = rng.choice(len(CLASSES), size=n, p=CLASS_SHARES)
        colours = unit(
            prototypes[rng.integers(PROTOTYPES, size=n)]
            + rng.normal(0.0, APPEARANCE_NOISE, (n, APPEARANCE_DIM))
        )
        names = attachment.camera_ids[attachment.camera[rows]]
        labels = [roads.labels[i] for i in attachment.edge[rows].tolist()]
        yield [
            make_sighting(
                str(names[i]),
                "clutter",
                first + start + i,
                float(t_in[i]),
                float(t_out[i]),
                CLASSES[int(classes[i])],
                colours[i],
                labels[i],
                labels[i],
                float(attachment.heading_deg[rows[i]]),
            )
            for i in range(n)
        ]


def build_world(args: argparse.Namespace) -> World:
    key = hashlib.sha256(
        json.dumps(
            [
                args.seed,
                args.cameras,
                args.sightings,
                args.span_h,
                args.escape_km,
                args.vehicles,
                args.lookalikes,
                args.detect,
                2,
            ],
        ).encode()
    ).hexdigest()[:12]
    folder = args.out / key
    manifest = folder / "world.json"
    db = f"sqlite:///{folder / 'engine.sqlite'}"
    if manifest.exists():
        saved = json.loads(manifest.read_text())
        if not args.keep_layout:
            laid_out(db)
        return World(db, saved["target_ids"], saved["true_edges"], saved["meta"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "engine.sqlite").unlink(missing_ok=True)
    clock = time.perf_counter()
    base = generate_city(args.seed, size="large")
    extra = max(0, args.cameras - len(base.cameras))
    city = generate_city(args.seed, size="large", street_cameras=extra)
    network = city.road_network()
    registry = CameraRegistry(city.cameras, city.crs)
    attachment = attach_cameras(network, registry)
    roads = road_view(network)
    engine = open_engine(db)
    RegistryStore(engine).import_cameras(registry.cameras)
    RoadStore(engine).save(network)
    print(
        f"world: {len(network.edges):,} edges, {len(registry):,} cameras "
        f"({time.perf_counter() - clock:.1f} s)",
        file=sys.stderr,
    )
    rng = np.random.default_rng(args.seed)
    prototypes = rng.gamma(0.6, 1.0, (PROTOTYPES, APPEARANCE_DIM))
    trips, target_ids, true_edges = fleet_sightings(roads, attachment, rng, prototypes, args)
    store = SightingStore(engine)
    store.add_clip(ClipRecord("trips", "", "trips", "bench", T0, 0, 1.0), trips)
    remaining = max(0, args.sightings - len(trips))
    written = len(trips)
    for number, chunk in enumerate(
        clutter(roads, attachment, rng, prototypes, remaining, args.span_h * 3600.0, 0)
    ):
        store.add_clip(ClipRecord(f"clutter-{number}", "", "clutter", "bench", T0, 0, 1.0), chunk)
        written += len(chunk)
        print(
            f"\rsightings {written:,}/{args.sightings:,} ({time.perf_counter() - clock:.0f} s)",
            end="",
            file=sys.stderr,
        )
    print(file=sys.stderr)
    if not args.keep_layout:
        laid_out(db)
    meta = {
        "edges": float(len(network.edges)),
        "cameras": float(len(registry)),
        "sightings": float(store.count()),
        "target_sightings": float(len(target_ids)),
        "escape_m": float(network.edges.length[true_edges].sum()),
        "build_s": time.perf_counter() - clock,
    }
    manifest.write_text(
        json.dumps({"target_ids": target_ids, "true_edges": true_edges, "meta": meta})
    )
    return World(db, target_ids, true_edges, meta)


def laid_out(db: str) -> None:
    """Cluster the world's sightings by camera and time once (a file cached before
    clustering existed is migrated in place, about ten minutes for 10 M rows)."""
    store = SightingStore(db)
    if store.clustered_rows() is not None:
        return
    clock = time.perf_counter()
    print("laying the sightings out by camera and time (once)...", file=sys.stderr)
    rows = store.cluster(vacuum=True)
    print(f"clustered {rows:,} sightings ({time.perf_counter() - clock:.0f} s)", file=sys.stderr)


def timed_skynet(world: World, args: argparse.Namespace) -> dict[str, object]:
    """Open, seed to route (cold), then each link step's candidate retrieval."""
    clock = time.perf_counter()
    investigation = Investigation.open(world.db, horizon_s=args.horizon, on_demand=True)
    open_s = time.perf_counter() - clock
    seed = investigation.store.get(world.target_ids[0])
    since = seed.t_in - 60.0  # the investigation starts at the crash
    clock = time.perf_counter()
    timeline = investigation.timeline(seed.id, since_s=since)
    route = investigation.route(timeline)
    seed_route_s = time.perf_counter() - clock
    # each step from cold per-sighting caches (a fresh linker and reach cache)
    investigation.transitions = type(investigation.transitions).on_demand(
        investigation.network,
        investigation.registry,
        investigation.attachment,
        horizon_s=args.horizon,
    )
    linker = investigation.linker(since_s=since)
    steps, counts = [], []
    for entry in timeline.entries:
        clock = time.perf_counter()
        found = linker.candidates(entry.sighting, forward=True)
        steps.append(time.perf_counter() - clock)
        counts.append(len(found.sightings))
    linked = set(timeline.sighting_ids) & set(world.target_ids)
    return {
        "open_s": open_s,
        "seed_route_s": seed_route_s,
        "steps_ms": [1000 * s for s in steps],
        "candidates": counts,
        "linked": len(linked),
        "wrong": len(set(timeline.sighting_ids) - set(world.target_ids)),
        "f1": edge_f1(investigation.network, route.edges, world.true_edges)[2],
        "length_m": route.length_m,
        "alternatives": len(route.alternatives),
        "investigation": investigation,
    }


class NetworkxTransitions:
    """The transition model's questions answered by plain networkx, on demand, uncached.

    ``reachable``: one ``single_source_dijkstra`` with a cutoff from each
    head of the camera's watched edges (the reference ``naive_reach``);
    ``path_edges``: a multi-source Dijkstra from those heads to the other
    camera's edges.
    """

    def __init__(self, network: RoadNetwork, attachment: CameraAttachment, horizon_s: float):
        self.network, self.attachment, self.horizon_s = network, attachment, horizon_s
        self.rows = {edge_label(e): i for i, e in enumerate(network.edge_ids)}

    def reachable(self, camera_id: str) -> Reach:
        return naive_reach(self.network, self.attachment, camera_id, self.horizon_s)

    def reachable_among(self, camera_id: str, rows: IntArray) -> Reach:
        """The whole reach, searched as above, kept to the cameras at ``rows``."""
        reach = self.reachable(camera_id)
        keep = np.isin(reach.to_ids, self.attachment.camera_ids[rows])
        return Reach(reach.to_ids[keep], reach.free_flow_s[keep], reach.distance_m[keep])

    def path_edges(self, camera_id: str, to_id: str) -> IntArray:
        graph, edges, ids = self.network.graph, self.network.edges, self.network.nodes.ids
        heads = {ids[v] for v in edges.v[self.attachment.edges_of(camera_id)].tolist()}
        times, paths = nx.multi_source_dijkstra(
            graph, heads, cutoff=self.horizon_s, weight="travel_time"
        )
        arrive = [
            (times[ids[edges.u[e]]] + float(edges.travel_time[e]), e)
            for e in self.attachment.edges_of(to_id).tolist()
            if ids[edges.u[e]] in times
        ]
        if not arrive:
            return np.empty(0, dtype=np.intp)
        last = min(arrive)[1]
        nodes = paths[ids[edges.u[last]]]
        along = [
            self.rows[
                edge_label(
                    (u, v, min(graph[u][v], key=lambda k, u=u, v=v: graph[u][v][k]["travel_time"]))
                )
            ]
            for u, v in itertools.pairwise(nodes)
        ]
        return np.array([*along, last], dtype=np.intp)


def timed_steps(linker: Linker, seed: Sighting, steps: int) -> tuple[float, int]:
    """Seconds to follow the seed forward ``steps`` links (cold caches), and links found."""
    clock = time.perf_counter()
    after, _, _ = follow(linker, seed, forward=True, max_links=steps)
    return time.perf_counter() - clock, len(after)


def timed_peer(
    investigation: Investigation, world: World, args: argparse.Namespace
) -> dict[str, float]:
    """The same linking, forward from the seed, over networkx on demand; and over Skynet's
    model from cold caches for the same number of links."""
    seed = investigation.store.get(world.target_ids[0])
    peer = Linker(
        NetworkxTransitions(investigation.network, investigation.attachment, args.horizon),
        investigation.network,
        investigation.registry,
        investigation.store,
        attachment=investigation.attachment,
        directed=False,
    )
    peer_s, peer_links = timed_steps(peer, seed, args.peer_links)
    investigation.transitions = TransitionModel.on_demand(
        investigation.network, investigation.registry, investigation.attachment,
        horizon_s=args.horizon,
    )  # fmt: skip
    mine_s, mine_links = timed_steps(investigation.linker(), seed, args.peer_links)
    return {"peer_s": peer_s, "peer_links": peer_links, "mine_s": mine_s, "mine_links": mine_links}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cameras", type=int, default=70_000)
    parser.add_argument("--sightings", type=int, default=10_000_000)
    parser.add_argument("--span-h", type=float, default=2.0)
    parser.add_argument("--escape-km", type=float, default=20.0)
    parser.add_argument("--vehicles", type=int, default=300)
    parser.add_argument("--lookalikes", type=int, default=30)
    parser.add_argument("--detect", type=float, default=1.0)
    parser.add_argument("--horizon", type=float, default=300.0)
    parser.add_argument("--peer-links", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/_out/engine"))
    parser.add_argument(
        "--keep-layout",
        action="store_true",
        help="leave the sightings in arrival order (do not cluster a new or old world)",
    )
    args = parser.parse_args(argv)
    world = build_world(args)
    m = world.meta
    print(
        f"world: {m['edges']:,.0f} edges, {m['cameras']:,.0f} cameras, {m['sightings']:,.0f} "
        f"sightings; escape {m['escape_m'] / 1000:.1f} km, {m['target_sightings']:.0f} target "
        f"sightings (built in {m['build_s']:.0f} s, cached)"
    )
    mine = timed_skynet(world, args)
    investigation = mine.pop("investigation")
    assert isinstance(investigation, Investigation)
    steps = mine["steps_ms"]
    assert isinstance(steps, list)
    print(
        f"skynet: seed→route {mine['seed_route_s']:.2f} s; candidate retrieval per link step "
        f"median {statistics.median(steps):.1f} ms, max {max(steps):.1f} ms over {len(steps)} "
        f"steps; linked {mine['linked']}/{len(world.target_ids)}, wrong {mine['wrong']}, "
        f"route edge-F1 {mine['f1']:.3f}, {mine['length_m'] / 1000:.1f} km"
    )
    peer = timed_peer(investigation, world, args)
    print(
        f"first {args.peer_links} links forward, cold: networkx on demand {peer['peer_s']:.2f} s "
        f"({peer['peer_links']:.0f} links), skynet {peer['mine_s']:.3f} s "
        f"({peer['mine_links']:.0f} links): ratio {peer['peer_s'] / peer['mine_s']:.0f}×"
    )
    counts = mine["candidates"]
    assert isinstance(counts, list)
    median = statistics.median(counts)
    print(f"skynet open {mine['open_s']:.1f} s; candidates per step median {median:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
