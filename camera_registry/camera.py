"""The ``Camera`` record: one georeferenced camera, validated on construction."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from skynet.errors import BadInputError

#: Kinds of camera a deployment uses; ``road`` includes intersection cameras.
KINDS: Final = ("road", "checkpoint", "community", "village", "other")
#: Operational states; an offline camera gives no evidence either way.
STATUSES: Final = ("online", "offline", "unknown")
#: Smallest |det H| / (product of its column norms) before H counts as singular.
#: Scale-free (a UTM-sized translation column does not make it look singular).
_MIN_HADAMARD_RATIO: Final = 1e-12

Homography = tuple[float, float, float, float, float, float, float, float, float]


@dataclass(frozen=True, slots=True)
class Camera:
    """A camera's identity, pose and state.

    ``homography`` maps image pixels ``(u, v, 1)`` to ground coordinates in
    the site's metric working CRS, stored row-major as nine floats.
    ``clock_offset_s`` is added to the camera's clock to get true UTC.
    """

    id: str
    name: str
    kind: str
    lon: float
    lat: float
    heading_deg: float = 0.0
    fov_deg: float = 60.0
    range_m: float = 50.0
    height_m: float = 6.0
    image_width: int = 1280
    image_height: int = 720
    fps: float = 25.0
    homography: Homography | None = None
    clock_offset_s: float = 0.0
    status: str = "online"
    area: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def homography_matrix(self) -> NDArray[np.float64] | None:
        """The homography as a 3×3 array, or None when the camera has none."""
        if self.homography is None:
            return None
        return np.asarray(self.homography, dtype=np.float64).reshape(3, 3)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, record: int | None = None) -> Camera:
        """Build a camera from loosely typed values (JSON, CSV, SQL rows).

        Types are coerced; anything that cannot be is a :class:`BadInputError`
        naming the record (its position ``record`` in the file and its id) and
        the field.
        """
        camera_id = data.get("id")
        if camera_id is None or str(camera_id).strip() == "":
            raise BadInputError("missing camera id", record=record, field="id")
        where = str(camera_id) if record is None else f"#{record} (id {str(camera_id)!r})"
        values: dict[str, Any] = {"id": str(camera_id)}
        for name, coerce in _COERCIONS.items():
            if name not in data or data[name] is None or data[name] == "":
                if name in _REQUIRED:
                    raise BadInputError("is required", record=where, field=name)
                continue
            try:
                values[name] = coerce(data[name])
            except (TypeError, ValueError) as exc:
                msg = f"cannot read {data[name]!r}: {exc}"
                raise BadInputError(msg, record=where, field=name) from None
        try:
            return cls(**values)
        except BadInputError as exc:
            raise BadInputError(exc.reason, record=where, field=exc.field) from None

    def as_dict(self) -> dict[str, Any]:
        """Plain-Python view (lists for tuples) for JSON and SQL."""
        out = asdict(self)
        out["homography"] = None if self.homography is None else list(self.homography)
        out["tags"] = list(self.tags)
        return out


def _as_homography(value: Any) -> Homography:
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    flat = np.asarray(value, dtype=np.float64).reshape(-1)
    if flat.size != 9:
        msg = f"needs 9 numbers (3×3), got {flat.size}"
        raise ValueError(msg)
    return tuple(float(v) for v in flat)  # type: ignore[return-value]


def _as_tags(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [t for t in value.split(";") if t]
    return tuple(str(t) for t in value)


def _as_int(value: Any) -> int:
    number = float(value)
    if not number.is_integer():
        msg = f"{value!r} is not a whole number"
        raise ValueError(msg)
    return int(number)


_COERCIONS: Final[dict[str, Any]] = {
    "name": str,
    "kind": str,
    "lon": float,
    "lat": float,
    "heading_deg": float,
    "fov_deg": float,
    "range_m": float,
    "height_m": float,
    "image_width": _as_int,
    "image_height": _as_int,
    "fps": float,
    "homography": _as_homography,
    "clock_offset_s": float,
    "status": str,
    "area": str,
    "tags": _as_tags,
}
_REQUIRED: Final = frozenset({"name", "kind", "lon", "lat"})


def _fail(camera: Camera, field_name: str, reason: str) -> None:
    raise BadInputError(reason, record=camera.id, field=field_name)


def _finite_in(camera: Camera, name: str, low: float, high: float, *, open_low: bool) -> None:
    value = getattr(camera, name)
    below = value <= low if open_low else value < low
    if not math.isfinite(value) or below or value > high:
        bracket = "(" if open_low else "["
        _fail(camera, name, f"{value!r} is outside {bracket}{low:g}, {high:g}]")


_FLOAT_FIELDS: Final = (
    "lon",
    "lat",
    "heading_deg",
    "fov_deg",
    "range_m",
    "height_m",
    "fps",
    "clock_offset_s",
)


def _normalise_types(camera: Camera) -> None:
    """Store numbers as float (an int 70 given for fov_deg becomes 70.0)."""
    for name in _FLOAT_FIELDS:
        value = getattr(camera, name)
        if type(value) is not float:
            try:
                object.__setattr__(camera, name, float(value))
            except (TypeError, ValueError):
                _fail(camera, name, f"{value!r} is not a number")
    if camera.homography is not None and not _is_float_9tuple(camera.homography):
        try:
            object.__setattr__(camera, "homography", _as_homography(camera.homography))
        except (TypeError, ValueError) as exc:
            _fail(camera, "homography", str(exc))
    if not isinstance(camera.tags, tuple):
        object.__setattr__(camera, "tags", _as_tags(camera.tags))


def _is_float_9tuple(value: object) -> bool:
    return type(value) is tuple and len(value) == 9 and all(type(v) is float for v in value)


def _validate(camera: Camera) -> None:
    """Check one record; the error names the camera id and the field."""
    _normalise_types(camera)
    if not camera.id or camera.id != camera.id.strip():
        _fail(camera, "id", "must be non-empty without surrounding spaces")
    if not camera.name.strip():
        _fail(camera, "name", "must not be empty")
    if camera.kind not in KINDS:
        _fail(camera, "kind", f"{camera.kind!r} is not one of {', '.join(KINDS)}")
    if camera.status not in STATUSES:
        _fail(camera, "status", f"{camera.status!r} is not one of {', '.join(STATUSES)}")
    _finite_in(camera, "lon", -180.0, 180.0, open_low=False)
    _finite_in(camera, "lat", -90.0, 90.0, open_low=False)
    _finite_in(camera, "fov_deg", 0.0, 360.0, open_low=True)
    _finite_in(camera, "range_m", 0.0, math.inf, open_low=True)
    _finite_in(camera, "fps", 0.0, math.inf, open_low=True)
    _finite_in(camera, "height_m", 0.0, math.inf, open_low=False)
    if not math.isfinite(camera.heading_deg):
        _fail(camera, "heading_deg", f"{camera.heading_deg!r} is not finite")
    if not 0.0 <= camera.heading_deg < 360.0:
        object.__setattr__(camera, "heading_deg", camera.heading_deg % 360.0)
    if not math.isfinite(camera.clock_offset_s):
        _fail(camera, "clock_offset_s", f"{camera.clock_offset_s!r} is not finite")
    for name in ("image_width", "image_height"):
        if getattr(camera, name) <= 0:
            _fail(camera, name, f"{getattr(camera, name)!r} must be a positive pixel count")
    if camera.homography is not None:
        _validate_homography(camera)
    if camera.area is not None and not camera.area.strip():
        object.__setattr__(camera, "area", None)
    for tag in camera.tags:
        if not tag or ";" in tag or tag != tag.strip():
            _fail(camera, "tags", f"tag {tag!r} must be non-empty, trimmed, without ';'")


def _validate_homography(camera: Camera) -> None:
    """Finite and invertible; plain floats, as NumPy costs more than it saves on 3×3."""
    h = camera.homography
    assert h is not None
    if not all(math.isfinite(v) for v in h):
        _fail(camera, "homography", "contains a non-finite value")
    a, b, c, d, e, f, g, i, j = h
    determinant = a * (e * j - f * i) - b * (d * j - f * g) + c * (d * i - e * g)
    column_norms = math.hypot(a, d, g) * math.hypot(b, e, i) * math.hypot(c, f, j)
    if column_norms == 0.0 or abs(determinant) / column_norms < _MIN_HADAMARD_RATIO:
        _fail(camera, "homography", "is singular (not invertible)")


def check_unique_ids(cameras: Sequence[Camera], *, source: str | None = None) -> None:
    """Reject a batch in which two records share an id, naming the second one."""
    seen: dict[str, int] = {}
    for index, camera in enumerate(cameras):
        if camera.id in seen:
            msg = f"duplicate camera id {camera.id!r} (first at #{seen[camera.id]})"
            raise BadInputError(msg, source=source, record=index, field="id")
        seen[camera.id] = index
