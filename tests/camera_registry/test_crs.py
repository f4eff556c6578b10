"""Working CRS choice and transforms, checked against independently known values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from camera_registry.crs import SiteCRS, utm_epsg_for
from skynet.errors import BadInputError

# GRS80 / WGS84 ellipsoids share a and nearly share f; the meridian arc is
# integrated numerically here, independent of PROJ's series expansion.
A_WGS84 = 6_378_137.0
F_WGS84 = 1 / 298.257223563
F_GRS80 = 1 / 298.257222101


def meridian_arc(lat_deg: float, f: float) -> float:
    e2 = f * (2 - f)
    integrand = lambda phi: A_WGS84 * (1 - e2) / (1 - e2 * np.sin(phi) ** 2) ** 1.5  # noqa: E731
    return float(quad(integrand, 0.0, np.radians(lat_deg))[0])


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [
        (119.0, 25.45, 32650),
        (2.35, 48.86, 32631),
        (-74.0, 40.7, 32618),
        (151.2, -33.9, 32756),
        (-180.0, 10.0, 32601),
        (179.99, 10.0, 32660),
    ],
)
def test_utm_zone_for_known_places(lon: float, lat: float, epsg: int) -> None:
    assert utm_epsg_for([lon], [lat]) == epsg
    assert SiteCRS.for_points([lon], [lat]).code == f"EPSG:{epsg}"


@pytest.mark.parametrize("lat", [0.0, 25.0, 45.0, 60.0])
def test_utm_on_central_meridian_matches_scaled_meridian_arc(lat: float) -> None:
    site = SiteCRS.from_user_input("EPSG:32650")  # central meridian 117°E, k0 = 0.9996
    x, y = site.to_metric([117.0], [lat])
    assert x[0] == pytest.approx(500_000.0, abs=1e-6)
    assert y[0] == pytest.approx(0.9996 * meridian_arc(lat, F_WGS84), abs=1e-3)


def test_cgcs2000_gauss_kruger_4547() -> None:
    site = SiteCRS.from_user_input(4547)  # CGCS2000 3-degree GK, CM 114°E, k0 = 1
    assert site.code == "EPSG:4547"
    x, y = site.to_metric([114.0, 114.0], [0.0, 22.5])
    np.testing.assert_allclose(x, [500_000.0, 500_000.0], atol=1e-6)
    assert y[0] == pytest.approx(0.0, abs=1e-6)
    assert y[1] == pytest.approx(meridian_arc(22.5, F_GRS80), abs=1e-3)
    east, _ = site.to_metric([115.0], [22.5])
    assert 500_000.0 + 100_000 < east[0] < 500_000.0 + 105_000  # ~103 km per degree at 22.5°N


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(118.0, 120.0), min_size=1, max_size=20),
    st.floats(-60.0, 60.0),
)
def test_round_trip_is_exact_to_a_millimetre(lons: list[float], lat: float) -> None:
    site = SiteCRS.for_points(lons, [lat] * len(lons))
    lats = np.full(len(lons), lat)
    x, y = site.to_metric(lons, lats)
    lon_back, lat_back = site.to_lonlat(x, y)
    np.testing.assert_allclose(lon_back, lons, atol=1e-8)
    np.testing.assert_allclose(lat_back, lats, atol=1e-8)


def test_distances_in_working_crs_match_geodesic() -> None:
    from pyproj import Geod

    site = SiteCRS.for_points([119.0], [25.45])
    x, y = site.to_metric([119.0, 119.01], [25.45, 25.46])
    planar = float(np.hypot(x[1] - x[0], y[1] - y[0]))
    _, _, geodesic = Geod(ellps="WGS84").inv(119.0, 25.45, 119.01, 25.46)
    assert planar == pytest.approx(geodesic, rel=1e-3)  # UTM scale error < 0.1% near the CM


@pytest.mark.parametrize("bad", ["EPSG:4326", "EPSG:999999", "not a crs"])
def test_unusable_crs_is_bad_input(bad: str) -> None:
    with pytest.raises(BadInputError) as caught:
        SiteCRS.from_user_input(bad)
    assert caught.value.field == "crs"


def test_empty_extent_has_no_zone() -> None:
    with pytest.raises(BadInputError, match="empty"):
        utm_epsg_for([], [])
