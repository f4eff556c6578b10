"""Fixtures of the API tests: a small case database, a token per role, an app over it.

The case database (the bundled hit-and-run scenario, simulated sightings)
is built once per session and copied for each module that changes it, so
that no module sees another's cameras, tokens or audit rows.
"""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import Settings, create_app
from skynet.events import EventBus
from skynet.synthetic.case_db import CaseDb, make_case_db
from skynet.tokens import Role, TokenStore

CASE = "HR-0314"
REASON = "hit-and-run, two injured"
PURPOSE = {"X-Case-Id": CASE, "X-Reason": REASON}


@dataclass(frozen=True)
class Served:
    """An app over a copy of the case database, its client, bus and a token per role."""

    case: CaseDb
    db: str
    client: TestClient
    events: EventBus
    tokens: dict[Role, str]

    def auth(self, role: Role, *, purpose: bool = False) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        return {**headers, **PURPOSE} if purpose else headers


@pytest.fixture(scope="session")
def base_case(tmp_path_factory: pytest.TempPathFactory) -> CaseDb:
    return make_case_db(str(tmp_path_factory.mktemp("api-case") / "case.db"))


def free_port() -> int:
    """A loopback port nobody listens on (for a server started by a test)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def copy_db(source: str, target: Path) -> str:
    """A consistent copy of a SQLite database (WAL included), through the backup API."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return str(target)


def make_tokens(db: str) -> dict[Role, str]:
    store = TokenStore(db)
    return {role: store.create(f"test {role.value}", role)[1] for role in Role}


@pytest.fixture(scope="module")
def served(base_case: CaseDb, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("api")
    db = copy_db(base_case.db, folder / "case.db")
    tokens = make_tokens(db)
    events = EventBus()
    app = create_app(Settings(db=db, events=events, poll_s=0, cache=str(folder / "cache")))
    with TestClient(app) as client:
        yield Served(base_case, db, client, events, tokens)


@pytest.fixture(scope="module")
def target_id(served: Served) -> str:
    """The target followed from the crash-scene sighting, with a route stored."""
    seed = served.case.seed().id
    created = served.client.post(
        "/targets", headers=served.auth(Role.investigator, purpose=True),
        json={"seed_sighting_id": seed},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    key = str(created.json()["target_id"])
    routed = served.client.get(
        f"/targets/{key}/route", headers=served.auth(Role.investigator, purpose=True)
    )
    assert routed.status_code == 200, routed.text
    return key
