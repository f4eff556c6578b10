"""API under load: camera bbox queries from 50 clients while 20 wall displays listen.

The bundled hit-and-run case is built into a fresh SQLite database
(``make_case_db``: 170 cameras, the road network, 466 simulated sightings)
and a ``wall`` token is made with the project's token store. Then, on
loopback only, each on a free 127.0.0.1 port in its own process:

- ``skynet serve`` over the case database;
- the peer (``_api_peer.py``): the same uvicorn + FastAPI stack answering
  the same requests with the bytes Skynet answered for each box, no token,
  no query -- the ceiling of the stack. It is measured before and after
  Skynet (load on a shared machine drifts); the ratio is to their mean.

Against each, ``wrk`` (a C load generator: it costs far less CPU than a
Python client on a 2-core machine) holds ``--clients`` connections, each
issuing ``GET /cameras?bbox=...`` back to back, cycling through ``--boxes``
random boxes over the site (5-50 % of its extent per side) with the bearer
token, for ``--warmup`` seconds unmeasured and then ``--seconds`` measured.
Reported: requests/s, latency p50/p90/p99/max, errors (non-2xx answers,
connect/read/write errors and timeouts), Skynet's requests/s as a ratio of
the peer's, the server's CPU use, the machine's, and the load average.

During Skynet's measured run, ``--subscribers`` WebSocket clients listen on
``/ws/events`` (token in the query; every second one with a ``bbox`` on the
west half of the site) while another thread of this process commits
``--sightings-per-s`` sightings a second into the database as an ingest in
another process would (one clip each); the server's store poller
(``--poll`` seconds) picks them up. Reported: the events the subscribers
received against those due in their areas, disconnects, and delivery
latency (commit -> received, which includes the poll interval).

Everything stops by itself: wrk runs for a fixed time, every wait has a
timeout, the servers are killed in a ``finally``.

Example: python benchmarks/bench_api.py --seconds 30 --clients 50 --subscribers 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import websockets

from camera_registry.store import RegistryStore
from skynet.store import ClipRecord, SightingStore
from skynet.synthetic.case_db import make_case_db
from skynet.tokens import Role, TokenStore
from trackers.sighting import Evidence, Sighting

HERE = Path(__file__).resolve().parent
Box = tuple[float, float, float, float]
Where = dict[str, tuple[float, float]]

#: wrk's Lua script: cycle through the paths; write the figures as JSON when done.
WRK_SCRIPT = """\
local paths = {%(paths)s}
local i = 0
wrk.headers["Authorization"] = "Bearer %(token)s"
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  local f = io.open("%(out)s", "w")
  f:write(string.format(
    '{"requests": %%d, "duration_us": %%d, "bytes": %%d, "connect": %%d, "read": %%d, ' ..
    '"write": %%d, "status": %%d, "timeout": %%d, "p50_us": %%d, "p90_us": %%d, ' ..
    '"p99_us": %%d, "max_us": %%d, "mean_us": %%.1f}',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
  f:close()
end
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def site_boxes(lon: Sequence[float], lat: Sequence[float], count: int, seed: int) -> list[str]:
    """``count`` random W,S,E,N boxes inside the cameras' extent, 5-50 % of it per side."""
    rng = random.Random(seed)
    west, east, south, north = min(lon), max(lon), min(lat), max(lat)
    boxes = []
    for _ in range(count):
        width = (east - west) * rng.uniform(0.05, 0.5)
        height = (north - south) * rng.uniform(0.05, 0.5)
        x = rng.uniform(west, east - width)
        y = rng.uniform(south, north - height)
        boxes.append(f"{x:.5f},{y:.5f},{x + width:.5f},{y + height:.5f}")
    return boxes


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def server(command: list[str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A server process, up when its /health answers (60 s at most); killed at the end."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 60.0
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"server exited ({process.returncode}); see {log}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2.0).is_success:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server not up after 60 s; see {log}")
                time.sleep(0.2)
            yield process
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


async def wrk(
    port: int, paths: list[str], token: str, seconds: float, args: argparse.Namespace, out: Path
) -> dict[str, Any]:
    """One wrk run against the server on ``port``; its figures."""
    script = out.with_suffix(".lua")
    quoted = ", ".join(json.dumps(p) for p in paths)
    script.write_text(WRK_SCRIPT % {"paths": quoted, "token": token, "out": out})
    out.unlink(missing_ok=True)
    command = [
        "wrk",
        f"-t{args.wrk_threads}",
        f"-c{args.clients}",
        f"-d{seconds:g}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}",
    ]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        text, _ = await asyncio.wait_for(process.communicate(), seconds + 30.0)
    except TimeoutError:
        process.kill()
        raise
    if process.returncode != 0 or not out.exists():
        raise RuntimeError(f"wrk failed ({process.returncode}): {text.decode()}")
    figures: dict[str, Any] = json.loads(out.read_text())
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    figures["errors"] = sum(figures[k] for k in ("connect", "read", "write", "status", "timeout"))
    return figures


@dataclasses.dataclass
class Heard:
    """What one WebSocket subscriber heard."""

    box: Box | None
    hello: bool = False
    sightings: int = 0
    other: int = 0
    unknown: int = 0
    disconnected: str = ""
    latencies: list[float] = dataclasses.field(default_factory=list)


class Trickle:
    """Commits a sighting every ``1 / rate`` seconds, as another process's ingest would."""

    def __init__(self, db: str, templates: list[Sighting], rate: float) -> None:
        self.store = SightingStore(db)
        self.templates = templates
        self.rate = rate
        self.committed: dict[str, tuple[float, str]] = {}  # id -> (time.time(), camera)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trickle", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10.0)

    def _run(self) -> None:
        n = 0
        began = time.monotonic()
        while not self._stop.is_set():
            template = self.templates[n % len(self.templates)]
            clip = f"bench-{os.getpid()}-{n:06d}.avi"
            sid = f"bench{os.getpid():08x}{n:011x}"
            now = time.time()
            record = ClipRecord(
                f"{template.camera_id}/{clip}", template.camera_id, clip, "bench", now, 1, 10.0
            )
            fresh = dataclasses.replace(
                template,
                id=sid,
                t_in=now,
                t_out=now + 3.0,
                evidence=Evidence(record.id, 0, template.evidence.bbox),
            )
            self.store.add_clip(record, [fresh])
            self.committed[sid] = (time.time(), template.camera_id)
            n += 1
            self._stop.wait(max(0.0, began + n / self.rate - time.monotonic()))


async def subscribe(
    url: str, heard: Heard, trickle: Trickle, stop: asyncio.Event, ready: asyncio.Event
) -> None:
    try:
        async with websockets.connect(url, open_timeout=20, max_size=None) as socket_:
            first = json.loads(await asyncio.wait_for(socket_.recv(), 20))
            heard.hello = first.get("type") == "hello"
            ready.set()
            while not stop.is_set():
                try:
                    text = await asyncio.wait_for(socket_.recv(), 0.5)
                except TimeoutError:
                    continue
                received = time.time()
                message = json.loads(text)
                if message.get("type") != "sighting":
                    heard.other += 1
                    continue
                committed = trickle.committed.get(message["sighting"]["id"])
                if committed is None:
                    heard.unknown += 1
                    continue
                heard.sightings += 1
                heard.latencies.append(received - committed[0])
    except (OSError, TimeoutError, websockets.ConnectionClosed) as exc:
        heard.disconnected = f"{type(exc).__name__}: {exc}"
        ready.set()


def expected(heard: Heard, trickle: Trickle, where: Where) -> int:
    if heard.box is None:
        return len(trickle.committed)
    west, south, east, north = heard.box
    return sum(
        west <= where[c][0] <= east and south <= where[c][1] <= north
        for _, c in trickle.committed.values()
    )


async def skynet_run(
    port: int,
    paths: list[str],
    token: str,
    args: argparse.Namespace,
    trickle: Trickle,
    west_half: Box,
    measure: Callable[[Coroutine[Any, Any, dict[str, Any]]], Awaitable[dict[str, Any]]],
) -> tuple[dict[str, Any], list[Heard]]:
    """Warm up, then wrk's measured run (through ``measure``) with the subscribers listening
    and the trickle on."""
    await wrk(port, paths, token, args.warmup, args, args.out / "skynet-warmup.json")
    stop = asyncio.Event()
    heard = [Heard(west_half if i % 2 else None) for i in range(args.subscribers)]
    tasks, readies = [], []
    for one in heard:
        query = f"token={token}" + (
            "&bbox=" + ",".join(f"{v:.5f}" for v in one.box) if one.box else ""
        )
        ready = asyncio.Event()
        readies.append(ready)
        url = f"ws://127.0.0.1:{port}/ws/events?{query}"
        tasks.append(asyncio.create_task(subscribe(url, one, trickle, stop, ready)))
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 30)
    trickle.start()
    try:
        figures = await measure(
            wrk(port, paths, token, args.seconds, args, args.out / "skynet.json")
        )
    finally:
        trickle.stop()
        await asyncio.sleep(args.poll + 2.0)  # the last commits' poll, and their delivery
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
    return figures, heard


def build(args: argparse.Namespace) -> tuple[str, str, list[Sighting], Where]:
    db = args.out / "case.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    began = time.perf_counter()
    case = make_case_db(str(db))
    _, token = TokenStore(str(db)).create("bench wall", Role.wall)
    cameras = list(RegistryStore(str(db)).load())
    print(
        f"case database: {len(cameras)} cameras, {len(case.simulated.sightings)} sightings "
        f"({time.perf_counter() - began:.1f} s)"
    )
    where = {c.id: (c.lon, c.lat) for c in cameras}
    return str(db), token, list(case.simulated.sightings), where


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU jiffies of the whole machine so far (Linux /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


async def measured(
    name: str,
    pid: int,
    run: Coroutine[Any, Any, dict[str, Any]],
    results: dict[str, Any],
    lines: list[str],
) -> dict[str, Any]:
    """Run ``run`` (a coroutine giving wrk's figures); add the server's and the machine's CPU
    use and the load average after it; a row of the table."""
    cpu0, t0, (busy0, total0) = cpu_seconds(pid), time.monotonic(), machine_jiffies()
    figures: dict[str, Any] = await run
    busy1, total1 = machine_jiffies()
    figures["server_cpu"] = (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0)
    figures["machine_busy"] = (busy1 - busy0) / max(1, total1 - total0)
    figures["load_after"] = os.getloadavg()
    results.setdefault("runs", []).append({"name": name, **figures})
    ms = {k: figures[f"{k}_us"] / 1000 for k in ("p50", "p90", "p99", "max")}
    lines.append(
        f"| {name} | {figures['rps']:.0f} | {ms['p50']:.1f} | {ms['p90']:.1f} | "
        f"{ms['p99']:.1f} | {ms['max']:.0f} | {figures['errors']} | "
        f"{figures['server_cpu']:.0%} | {figures['machine_busy']:.0%} | "
        f"{figures['load_after'][0]:.2f} |"
    )
    return figures


async def bench(args: argparse.Namespace, results: dict[str, Any], lines: list[str]) -> None:
    db, token, templates, where = build(args)
    lon = [p[0] for p in where.values()]
    lat = [p[1] for p in where.values()]
    boxes = site_boxes(lon, lat, args.boxes, args.seed)
    paths = [f"/cameras?bbox={b}" for b in boxes]
    west_half = (min(lon), min(lat), (min(lon) + max(lon)) / 2, max(lat))
    skynet_bin = Path(sys.executable).with_name("skynet")
    port = free_port()
    command = [str(skynet_bin), "serve", "--db", db, "--port", str(port), "--poll", str(args.poll)]
    with contextlib.ExitStack() as servers:
        skynet_server = servers.enter_context(server(command, port, args.out / "skynet.log"))
        headers = {"Authorization": f"Bearer {token}"}
        bodies = {}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers) as c:
            for box in boxes:
                answer = await c.get("/cameras", params={"bbox": box})
                answer.raise_for_status()
                bodies[box] = answer.text
        counts = [len(json.loads(b)["features"]) for b in bodies.values()]
        print(
            f"{len(boxes)} boxes: {min(counts)}-{max(counts)} cameras each "
            f"(median {int(np.median(counts))}), "
            f"{int(np.median([len(b.encode()) for b in bodies.values()]))} bytes median"
        )
        peer_port = free_port()
        peer_server = None
        if not args.skip_peer:
            (args.out / "bodies.json").write_text(json.dumps(bodies))
            peer_command = [sys.executable, str(HERE / "_api_peer.py"), "--port", str(peer_port)]
            peer_command += ["--bodies", str(args.out / "bodies.json")]
            peer_server = servers.enter_context(
                server(peer_command, peer_port, args.out / "peer.log")
            )

        async def peer_run(n: int) -> None:
            if peer_server is None:
                return
            await wrk(peer_port, paths, token, args.warmup, args, args.out / f"peer{n}-warm.json")
            run = wrk(peer_port, paths, token, args.seconds, args, args.out / f"peer{n}.json")
            name = f"peer ({'before' if n == 1 else 'after'} Skynet)"
            results[f"peer{n}"] = await measured(name, peer_server.pid, run, results, lines)

        await peer_run(1)
        trickle = Trickle(db, templates, args.sightings_per_s)
        name = "Skynet (`skynet serve`, wall token)"

        def measure(run: Coroutine[Any, Any, dict[str, Any]]) -> Awaitable[dict[str, Any]]:
            return measured(name, skynet_server.pid, run, results, lines)

        skynet, ws = await skynet_run(port, paths, token, args, trickle, west_half, measure)
        await peer_run(2)

    print(
        f"\n{args.clients} clients, {args.seconds:g} s each, {args.boxes} boxes, "
        f"wrk -t{args.wrk_threads}"
    )
    print(
        "| server | requests/s | p50 ms | p90 ms | p99 ms | max ms | errors | server CPU "
        "| machine busy | load after |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(lines))
    peers = [results[k]["rps"] for k in ("peer1", "peer2") if k in results]
    if peers:
        print(
            f"\nSkynet / peer requests/s: {skynet['rps'] / np.mean(peers):.2f} (peer: mean of both)"
        )

    got = sum(h.sightings for h in ws)
    want = sum(expected(h, trickle, where) for h in ws)
    drops = [h.disconnected for h in ws if h.disconnected]
    latencies = [x for h in ws for x in h.latencies]
    print(
        f"\nWebSocket: {len(ws)} subscribers, {len(trickle.committed)} sightings committed "
        f"({args.sightings_per_s:g}/s), {sum(h.hello for h in ws)} said hello, "
        f"{len(drops)} disconnected"
    )
    print(
        f"events received {got} of {want} due "
        f"({sum(h.unknown for h in ws)} unknown, {sum(h.other for h in ws)} other)"
    )
    if latencies:
        p50, p99 = np.percentile(latencies, [50, 99])
        print(
            f"delivery commit -> received: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms (poll every {args.poll:g} s)"
        )
    for d in drops:
        print(f"  disconnected: {d}")
    results["websocket"] = {
        "subscribers": len(ws),
        "committed": len(trickle.committed),
        "received": got,
        "due": want,
        "disconnected": drops,
        "latency_s": sorted(latencies),
    }
    errors = skynet["errors"] + len(drops) + (want - got) + sum(not h.hello for h in ws)
    goal = skynet["p99_us"] < 100_000 and skynet["rps"] >= 500 and errors == 0
    print(
        f"\ngoal p99 < 100 ms at >= 500 requests/s, no HTTP or WebSocket error, every event: "
        f"{'met' if goal else 'NOT met'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="measured run per server")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured run before it")
    parser.add_argument("--clients", type=int, default=50, help="concurrent HTTP connections")
    parser.add_argument("--subscribers", type=int, default=20, help="WebSocket clients")
    parser.add_argument("--sightings-per-s", type=float, default=4.0)
    parser.add_argument("--poll", type=float, default=2.0, help="skynet serve --poll")
    parser.add_argument("--boxes", type=int, default=200, help="distinct bbox queries")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--skip-peer", action="store_true", help="Skynet only (profiling)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE / "_out" / "api")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"args": vars(args) | {"out": str(args.out)}}
    results["load_before"] = os.getloadavg()
    print(f"load average before: {' '.join(f'{v:.2f}' for v in results['load_before'])}")
    lines: list[str] = []
    asyncio.run(bench(args, results, lines))
    (args.out / "bench_api.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
