"""What the server holds between requests: the stores of one database, loaded lazily.

Camera, road and coverage views are cached and rebuilt when a camera is
edited through the API (or, for cameras, after ``REGISTRY_TTL_S``, so that a
``skynet cameras import`` in another process shows up). The investigation
(transition model and all) is loaded on the first target query and kept.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from api.roads_layer import RoadLayer
from api.settings import Settings
from camera_registry.database import meta_table, open_engine, read_meta, transaction
from camera_registry.registry import CameraRegistry
from camera_registry.store import RegistryStore
from skynet.audit import AuditLog
from skynet.cases import CaseStore
from skynet.events import EventBus
from skynet.investigate import Investigation
from skynet.roads import RoadStore
from skynet.roads.coverage import coverage_report
from skynet.store import SightingStore
from skynet.tokens import TokenStore
from skynet.watch import WatchStore

#: Seconds a loaded camera registry is trusted before it is read again.
REGISTRY_TTL_S: Final = 10.0
#: ``skynet_meta`` key of the target on the wall.
WALL_KEY: Final = "wall_target"


class World:
    """The database's stores, the event bus and the cached views built from them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine: Engine = open_engine(settings.db)
        self.events: EventBus = settings.events
        self.tokens = TokenStore(self.engine)
        self.audit = AuditLog(self.engine)
        self.cameras = RegistryStore(self.engine)
        self.sightings = SightingStore(self.engine)
        self.cases = CaseStore(self.engine)
        self.watches = WatchStore(self.engine)
        # one lock per view: loading the investigation (seconds, for a city) blocks no map read
        self._lock = threading.RLock()
        self._investigation_lock = threading.Lock()
        self._registry: tuple[float, CameraRegistry] | None = None
        self._roads: RoadLayer | None = None
        self._coverage: dict[str, Any] | None = None
        self._investigation: Investigation | None = None

    def registry(self) -> CameraRegistry:
        """The cameras (NotFoundError while none is registered)."""
        with self._lock:
            cached = self._registry
            if cached is None or time.monotonic() - cached[0] > REGISTRY_TTL_S:
                cached = (time.monotonic(), self.cameras.load())
                self._registry = cached
            return cached[1]

    def roads(self) -> RoadLayer:
        """The road network as map lines (NotFoundError without one)."""
        with self._lock:
            if self._roads is None:
                self._roads = RoadLayer(RoadStore(self.engine).load())
            return self._roads

    def coverage(self) -> dict[str, Any]:
        """The coverage report of the roads by the cameras, as JSON."""
        with self._lock:
            if self._coverage is None:
                self._coverage = coverage_report(self.roads().network, self.registry()).as_dict()
            return self._coverage

    def investigation(self) -> Investigation:
        """The loaded world for target queries (built on first use, then kept)."""
        with self._investigation_lock:
            if self._investigation is None:
                self._investigation = Investigation.open(self.engine_url, cache=self.settings.cache)
            return self._investigation

    @property
    def wall_target(self) -> str | None:
        """The target an investigator put on the wall (kept in the database: a restart keeps it)."""
        return read_meta(self.engine, WALL_KEY)

    def put_on_wall(self, key: str) -> None:
        with transaction(self.engine) as connection:
            done = connection.execute(
                sa.update(meta_table).where(meta_table.c.key == WALL_KEY).values(value=key)
            )
            if done.rowcount == 0:
                connection.execute(sa.insert(meta_table).values(key=WALL_KEY, value=key))

    @property
    def engine_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=False)

    def cameras_changed(self) -> None:
        """Drop every view built on the cameras (an admin edited one)."""
        with self._lock:
            self._registry = None
            self._coverage = None
        with self._investigation_lock:
            self._investigation = None
