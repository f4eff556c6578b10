"""The site's metric working CRS and vectorised transforms to and from WGS84.

Every distance, sector and homography is computed in one metric CRS per site:
the UTM zone that holds the cameras (chosen automatically) or one the user
names by EPSG code, e.g. CGCS2000 / 3-degree Gauss–Krüger CM 114E (EPSG:4547).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyproj
from numpy.typing import ArrayLike, NDArray

from skynet.errors import BadInputError

WGS84 = "EPSG:4326"
FloatArray = NDArray[np.float64]


def utm_epsg_for(lons: ArrayLike, lats: ArrayLike) -> int:
    """EPSG code of the WGS84 UTM zone holding the centre of the points' extent."""
    lon = np.asarray(lons, dtype=np.float64)
    lat = np.asarray(lats, dtype=np.float64)
    if lon.size == 0:
        msg = "cannot choose a UTM zone for an empty set of points"
        raise BadInputError(msg)
    centre_lon = 0.5 * (float(lon.min()) + float(lon.max()))
    centre_lat = 0.5 * (float(lat.min()) + float(lat.max()))
    zone = min(int((centre_lon + 180.0) // 6.0) + 1, 60)
    return (32600 if centre_lat >= 0.0 else 32700) + zone


def parse_crs(value: str | int) -> pyproj.CRS:
    """A projected metric CRS from ``EPSG:NNNN``, ``NNNN`` or any pyproj string."""
    text = str(value).strip()
    try:
        crs = (
            pyproj.CRS.from_epsg(int(text)) if text.isdigit() else pyproj.CRS.from_user_input(text)
        )
    except pyproj.exceptions.CRSError as exc:
        msg = f"unknown CRS {text!r} ({exc})"
        raise BadInputError(msg, field="crs") from None
    if not crs.is_projected or crs.axis_info[0].unit_name not in ("metre", "meter"):
        msg = f"{text!r} is not a projected CRS in metres"
        raise BadInputError(msg, field="crs")
    return crs


@dataclass(frozen=True)
class SiteCRS:
    """A metric working CRS with cached transformers in both directions."""

    crs: pyproj.CRS
    _forward: pyproj.Transformer = field(init=False, repr=False, compare=False)
    _inverse: pyproj.Transformer = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "_forward", pyproj.Transformer.from_crs(WGS84, self.crs, always_xy=True)
        )
        object.__setattr__(
            self, "_inverse", pyproj.Transformer.from_crs(self.crs, WGS84, always_xy=True)
        )

    @classmethod
    def from_user_input(cls, value: str | int) -> SiteCRS:
        """The CRS the user names by EPSG code or pyproj string."""
        return cls(parse_crs(value))

    @classmethod
    def for_points(cls, lons: ArrayLike, lats: ArrayLike) -> SiteCRS:
        """The UTM zone that holds the points (the automatic choice)."""
        return cls(pyproj.CRS.from_epsg(utm_epsg_for(lons, lats)))

    @property
    def code(self) -> str:
        """``EPSG:NNNN`` when the CRS has an EPSG code, else its WKT."""
        epsg = self.crs.to_epsg()
        return f"EPSG:{epsg}" if epsg is not None else self.crs.to_wkt()

    def to_metric(self, lons: ArrayLike, lats: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Project WGS84 lon/lat arrays to metric x, y."""
        x, y = self._forward.transform(
            np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64)
        )
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def to_lonlat(self, xs: ArrayLike, ys: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Unproject metric x, y arrays to WGS84 lon/lat."""
        lon, lat = self._inverse.transform(
            np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
        )
        return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
