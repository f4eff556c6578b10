"""What the server holds between requests: the stores of one database, loaded lazily.

Camera, road and coverage views are cached and rebuilt when a camera is
edited through the API (or, for cameras, after ``REGISTRY_TTL_S``, so that a
``skynet cameras import`` in another process shows up); each camera's GeoJSON
is serialised once per load. A token found live is trusted ``TOKEN_TTL_S``
before the store is asked again (revoking through the API forgets them all).
The investigation (transition model and all) is loaded on the first target
query and kept.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy.engine import Engine

from api.params import Box
from api.roads_layer import RoadLayer
from api.settings import Settings
from camera_registry.camera import Camera
from camera_registry.database import open_engine, read_meta, transaction, write_meta
from camera_registry.io import camera_feature
from camera_registry.registry import CameraRegistry
from camera_registry.store import RegistryStore
from skynet.audit import AuditLog
from skynet.cases import CaseStore
from skynet.events import EventBus
from skynet.investigate import Investigation
from skynet.roads import RoadStore
from skynet.roads.coverage import coverage_report
from skynet.store import SightingStore
from skynet.tokens import TokenRecord, TokenStore
from skynet.watch import WatchStore

#: Seconds a loaded camera registry is trusted before it is read again.
REGISTRY_TTL_S: Final = 10.0
#: Seconds a live token, once checked, is trusted before the store is asked again: a
#: revocation through the API takes effect at once, one by ``skynet tokens revoke`` in
#: another process within this.
TOKEN_TTL_S: Final = 5.0
#: Checked tokens remembered at most (all are forgotten when more are presented).
TOKENS_KEPT: Final = 4096
#: ``skynet_meta`` key of the target on the wall.
WALL_KEY: Final = "wall_target"


@dataclass(frozen=True)
class CameraLayer:
    """The cameras with each one's GeoJSON Feature serialised once, for ``GET /cameras``."""

    registry: CameraRegistry
    features: dict[str, tuple[Camera, bytes]]

    @classmethod
    def of(cls, registry: CameraRegistry, previous: CameraLayer | None = None) -> CameraLayer:
        """Serialise each camera (reusing ``previous``'s bytes of an unchanged one)."""
        known = previous.features if previous is not None else {}
        features = {}
        for camera in registry:
            seen = known.get(camera.id)
            if seen is None or seen[0] != camera:
                seen = (camera, _json(camera_feature(camera)))
            features[camera.id] = seen
        registry.index  # noqa: B018 - build the spatial index here, not in the first query
        return cls(registry, features)

    def geojson(self, box: Box | None) -> bytes:
        """The FeatureCollection of the cameras in ``box`` (all without one), as JSON."""
        cameras = self.registry.in_bbox(*box) if box else self.registry
        features = b",".join(self.features[c.id][1] for c in cameras)
        return b'{"type":"FeatureCollection","features":[' + features + b"]}"


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


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
        self._camera_layer: CameraLayer | None = None
        self._tokens_seen: dict[str, tuple[float, TokenRecord]] = {}
        self._tokens_forgotten = 0  # revocations here so far
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

    def camera_layer(self) -> CameraLayer:
        """The cameras, serialised (NotFoundError while none is registered)."""
        registry = self.registry()
        with self._lock:
            layer = self._camera_layer
            if layer is None or layer.registry is not registry:
                layer = self._camera_layer = CameraLayer.of(registry, layer)
            return layer

    def fresh_camera_layer(self) -> CameraLayer | None:
        """The camera layer if it is built and fresh, else None: no lock, no database
        (for the event loop; :meth:`camera_layer` in a thread otherwise)."""
        cached, layer = self._registry, self._camera_layer
        if cached is None or layer is None or layer.registry is not cached[1]:
            return None
        return layer if time.monotonic() - cached[0] <= REGISTRY_TTL_S else None

    def authenticate(self, token: str) -> TokenRecord | None:
        """The live record of a presented token (from the store; remembered a while)."""
        began, forgotten = time.monotonic(), self._tokens_forgotten
        record = self.tokens.authenticate(token)
        # not remembered when a revocation came meanwhile: the store may have answered before it
        if record is not None and forgotten == self._tokens_forgotten:
            if len(self._tokens_seen) >= TOKENS_KEPT:
                self._tokens_seen.clear()
            self._tokens_seen[_digest(token)] = (began, record)
        return record

    def known_token(self, token: str) -> TokenRecord | None:
        """The record of a token found live less than ``TOKEN_TTL_S`` ago, else None (then
        ask :meth:`authenticate`): no database."""
        seen = self._tokens_seen.get(_digest(token))
        if seen is None or time.monotonic() - seen[0] > TOKEN_TTL_S:
            return None
        return seen[1]

    def forget_tokens(self) -> None:
        """A token was revoked here: check every token with the store again."""
        self._tokens_forgotten += 1
        self._tokens_seen.clear()

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
            write_meta(connection, WALL_KEY, key)

    @property
    def engine_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=False)

    def cameras_changed(self) -> None:
        """Drop every view built on the cameras (an admin edited one)."""
        with self._lock:
            self._registry = None
            self._camera_layer = None
            self._coverage = None
        with self._investigation_lock:
            self._investigation = None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
