"""``skynet serve`` as a user runs it: it answers, hears another process's ingest, stops cleanly."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from skynet.synthetic.case_db import CaseDb, add_sightings
from skynet.tokens import Role
from tests.api.conftest import copy_db, free_port, make_tokens

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def serving(base_case: CaseDb, tmp_path: Path) -> Iterator[tuple[str, str, dict[Role, str]]]:
    db = copy_db(base_case.db, tmp_path / "serve.db")
    tokens = make_tokens(db)
    port = free_port()
    script = Path(sys.executable).with_name("skynet")
    env = {**os.environ, "SKYNET_HOME": str(tmp_path / "home")}
    server = subprocess.Popen(
        [str(script), "serve", "--db", db, "--port", str(port), "--poll", "0.2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"skynet serve did not start: {server.communicate()}")
        time.sleep(0.2)
    try:
        yield url, db, tokens
    finally:
        server.send_signal(signal.SIGINT)  # Ctrl-C: a graceful stop, exit 130 as for any command
        _, log = server.communicate(timeout=30)
        assert server.returncode in (0, 130) and "Application shutdown complete" in log


def test_serve_answers_and_relays_another_process_ingest(
    serving: tuple[str, str, dict[Role, str]], base_case: CaseDb
) -> None:
    url, db, tokens = serving
    wall = {"Authorization": f"Bearer {tokens[Role.wall]}"}
    cameras = httpx.get(f"{url}/cameras", headers=wall, timeout=10)
    assert cameras.status_code == 200 and len(cameras.json()["features"]) > 100
    assert httpx.get(f"{url}/cameras", timeout=10).status_code == 401
    page = httpx.get(f"{url}/wall", timeout=10)
    assert page.status_code == 200 and "/wall/assets/wall.js" in page.text
    script = httpx.get(f"{url}/wall/assets/wall.js", timeout=10)
    assert script.status_code == 200 and "WebSocket" in script.text
    ws_url = url.replace("http://", "ws://") + "/ws/events"
    with connect(ws_url, open_timeout=10) as socket:
        socket.send(json.dumps({"token": tokens[Role.wall]}))
        assert json.loads(socket.recv(timeout=10))["type"] == "hello"
        fresh = dataclasses.replace(base_case.seed(), id="ingested-elsewhere")
        add_sightings(db, [fresh], clip="elsewhere")  # another process's ingest
        message = json.loads(socket.recv(timeout=10))
    assert message["type"] == "sighting" and message["sighting"]["id"] == "ingested-elsewhere"


def test_serve_on_a_taken_port_says_so(run_cli: CliRunner, tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--db", str(tmp_path / "x.db"), "--port", str(port))
    assert result.returncode == 2, result.stderr
    assert (
        f"cannot listen on 127.0.0.1:{port}" in result.stderr and "Traceback" not in result.stderr
    )
