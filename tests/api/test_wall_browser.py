"""The wall in a real browser (Debian's chromium through Playwright): it draws the cameras
and the target's route, shows a sighting pushed over the WebSocket, and comes back after
the server restarts."""

from __future__ import annotations

import dataclasses
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from api import Settings, create_app
from camera_registry.store import RegistryStore
from skynet.events import EventBus
from skynet.synthetic.case_db import CaseDb
from skynet.tokens import Role
from tests.api.conftest import PURPOSE, copy_db, free_port, make_tokens

CHROMIUM = Path("/usr/bin/chromium")
#: Without the background-networking switches chromium keeps calling home, and on a closed
#: network it stalls; nothing here needs a sandbox or a GPU.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 20_000


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's chromium, or a skip that says how to get it (nothing is downloaded here)."""
    found = CHROMIUM if CHROMIUM.exists() else None
    if found is None and shutil.which("chromium"):
        found = Path(str(shutil.which("chromium")))
    if found is None:
        pytest.skip(
            "no chromium at /usr/bin/chromium: install Debian's with `apt-get install chromium`"
            " (CI does it in .ci/setup.d/browser.sh)"
        )
    return found


class LiveServer:
    """uvicorn serving one app in a thread, on a fixed loopback port (so it can restart)."""

    def __init__(self, db: str, events: EventBus, port: int, cache: str) -> None:
        app = create_app(Settings(db=db, events=events, poll_s=0, cache=cache))
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="auto")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@dataclasses.dataclass
class Wall:
    db: str
    events: EventBus
    port: int
    cache: str
    tokens: dict[Role, str]
    case: CaseDb

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def wall(base_case: CaseDb, tmp_path: Path) -> Wall:
    db = copy_db(base_case.db, tmp_path / "wall.db")
    return Wall(db, EventBus(), free_port(), str(tmp_path / "cache"), make_tokens(db), base_case)


@pytest.fixture
def browser(chromium: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


def put_target_on_wall(wall: Wall) -> str:
    headers = {"Authorization": f"Bearer {wall.tokens[Role.investigator]}", **PURPOSE}
    with httpx.Client(base_url=wall.url, headers=headers, timeout=60) as client:
        made = client.post("/targets", json={"seed_sighting_id": wall.case.seed().id})
        assert made.status_code == 201, made.text
        key = str(made.json()["target_id"])
        assert client.get(f"/targets/{key}/route").status_code == 200
        assert client.put("/wall/target", json={"target_id": key}).status_code == 200
    return key


def test_the_wall_draws_the_map_and_live_sightings_and_survives_a_restart(
    wall: Wall, browser: Any, tmp_path: Path
) -> None:
    cameras = RegistryStore(wall.db).count()
    seed = wall.case.seed()
    with LiveServer(wall.db, wall.events, wall.port, wall.cache):
        put_target_on_wall(wall)
        page = browser.new_page(viewport={"width": 1600, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{wall.url}/wall#token={wall.tokens[Role.wall]}")
        page.wait_for_selector('body[data-ws="open"]', timeout=WAIT_MS)
        assert "token=" not in page.url  # taken off the address bar
        assert page.locator("#cameras circle").count() == cameras
        assert page.locator('#cameras circle[data-status="online"]').count() > 0
        assert int(page.get_attribute("body", "data-roads") or 0) > 100
        assert page.locator('#route path[data-role="route"]').count() >= 1
        assert page.locator("#timeline li").count() >= 2

        live = dataclasses.replace(seed, id="live-on-the-wall-1")
        wall.events.publish("sightings", [live])
        page.wait_for_selector('#sightings circle[data-sighting-id="live-on-the-wall-1"]',
                               timeout=WAIT_MS)  # fmt: skip
        assert "P01-CRASH" in page.inner_text("#feed")
        admin = {"Authorization": f"Bearer {wall.tokens[Role.admin]}"}
        edited = httpx.patch(
            f"{wall.url}/cameras/P01-CRASH", json={"status": "offline"}, headers=admin
        )
        assert edited.status_code == 200
        page.wait_for_selector(
            '#cameras circle[data-camera-id="P01-CRASH"][data-status="offline"].offline',
            timeout=WAIT_MS,
        )  # recoloured live
        assert page.locator("#cameras circle").count() == cameras
        page.screenshot(path=str(tmp_path / "wall.png"))
    page.wait_for_selector('body[data-ws="reconnecting"]', timeout=WAIT_MS)

    with LiveServer(wall.db, wall.events, wall.port, wall.cache):
        page.wait_for_selector('body[data-ws="open"]', timeout=WAIT_MS * 2)
        assert page.locator('#route path[data-role="route"]').count() >= 1  # kept on the wall
        again = dataclasses.replace(seed, id="live-after-restart")
        wall.events.publish("sightings", [again])
        page.wait_for_selector('#sightings circle[data-sighting-id="live-after-restart"]',
                               timeout=WAIT_MS)  # fmt: skip
        page.screenshot(path=str(tmp_path / "wall-after-restart.png"))
    assert (tmp_path / "wall.png").stat().st_size > 10_000
    assert errors == []


def test_a_wall_without_a_good_token_says_how_to_get_one(wall: Wall, browser: Any) -> None:
    with LiveServer(wall.db, wall.events, wall.port, wall.cache):
        page = browser.new_page()
        page.goto(f"{wall.url}/wall#token=sky_wrong")
        page.wait_for_selector('body[data-ws="refused"]', timeout=WAIT_MS)
        assert "/wall#token=" in page.inner_text("#message")
        assert page.locator("#cameras circle").count() == 0
