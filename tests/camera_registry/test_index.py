"""Spatial queries checked against brute force on random registries."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from camera_registry import Camera, CameraRegistry

SITE = "EPSG:32650"


def random_registry(seed: int, count: int) -> CameraRegistry:
    from camera_registry.crs import SiteCRS

    rng = np.random.default_rng(seed)
    lons = rng.uniform(118.95, 119.05, count)
    lats = rng.uniform(25.40, 25.50, count)
    cameras = [
        Camera(
            id=f"C{i}",
            name=f"cam {i}",
            kind="road",
            lon=float(lons[i]),
            lat=float(lats[i]),
            heading_deg=float(rng.uniform(0, 360)),
            fov_deg=float(rng.choice([45, 90, 360])),
            range_m=float(rng.uniform(20, 400)),
        )
        for i in range(count)
    ]
    return CameraRegistry(cameras, SiteCRS.from_user_input(SITE))


seeds = st.integers(0, 10_000)
sizes = st.integers(1, 150)


@settings(max_examples=40, deadline=None)
@given(
    seeds,
    sizes,
    st.floats(118.95, 119.05),
    st.floats(25.40, 25.50),
    st.floats(0, 0.05),
    st.floats(0, 0.05),
)
def test_bbox_matches_brute_force(
    seed: int, count: int, west: float, south: float, width: float, height: float
) -> None:
    registry = random_registry(seed, count)
    east, north = west + width, south + height
    got = registry.index.in_bbox(west, south, east, north)
    lon, lat = registry.lonlat.T
    expected = np.flatnonzero((lon >= west) & (lon <= east) & (lat >= south) & (lat <= north))
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=40, deadline=None)
@given(seeds, sizes, st.floats(118.95, 119.05), st.floats(25.40, 25.50), st.floats(0, 5000))
def test_radius_and_nearest_match_brute_force(
    seed: int, count: int, lon: float, lat: float, radius: float
) -> None:
    registry = random_registry(seed, count)
    x, y = (float(v[0]) for v in registry.crs.to_metric([lon], [lat]))
    distance = np.hypot(registry.xy[:, 0] - x, registry.xy[:, 1] - y)
    got = registry.index.within_radius(x, y, radius)
    # Points within a nanometre of the circle may fall either way in floating point.
    sure_in = set(np.flatnonzero(distance < radius - 1e-6))
    sure_out = set(np.flatnonzero(distance > radius + 1e-6))
    assert sure_in <= set(got) and not (sure_out & set(got))
    near = registry.near(lon, lat, radius)
    assert [c.id for c in near] == [
        registry.cameras[i].id for i in got[np.argsort(distance[got], kind="stable")]
    ]
    k = min(5, count)
    rows, dists = registry.index.nearest(x, y, k)
    np.testing.assert_allclose(dists, np.sort(distance)[:k])
    np.testing.assert_allclose(distance[rows], dists)


@settings(max_examples=30, deadline=None)
@given(seeds, sizes, st.floats(118.95, 119.05), st.floats(25.40, 25.50))
def test_covering_matches_per_camera_sector_test(
    seed: int, count: int, lon: float, lat: float
) -> None:
    registry = random_registry(seed, count)
    x, y = (float(v[0]) for v in registry.crs.to_metric([lon], [lat]))
    point = shapely.Point(x, y)
    expected = [i for i, sector in enumerate(registry.sectors) if sector.intersects(point)]
    assert list(registry.index.covering(x, y)) == expected
    assert [c.id for c in registry.covering(lon, lat)] == [f"C{i}" for i in expected]


@settings(max_examples=30, deadline=None)
@given(seeds, sizes, st.floats(118.96, 119.04), st.floats(25.41, 25.49), st.floats(0.001, 0.04))
def test_polygon_matches_brute_force(
    seed: int, count: int, lon: float, lat: float, size: float
) -> None:
    registry = random_registry(seed, count)
    triangle = shapely.Polygon([(lon, lat), (lon + size, lat), (lon, lat + size)])
    expected = [
        i for i, (a, b) in enumerate(registry.lonlat) if triangle.intersects(shapely.Point(a, b))
    ]
    assert list(registry.index.in_polygon(triangle)) == expected


def test_query_arguments_are_checked() -> None:
    import pytest

    from skynet.errors import BadInputError, NotFoundError

    registry = random_registry(3, 10)
    with pytest.raises(BadInputError, match="west <= east"):
        registry.in_bbox(119.1, 25.4, 119.0, 25.5)
    with pytest.raises(BadInputError, match="radius"):
        registry.near(119.0, 25.45, -1.0)
    with pytest.raises(BadInputError, match="k=0"):
        registry.nearest(119.0, 25.45, 0)
    bowtie = shapely.Polygon([(119.0, 25.4), (119.01, 25.41), (119.01, 25.4), (119.0, 25.41)])
    with pytest.raises(BadInputError, match="not valid"):
        registry.in_polygon(bowtie)
    with pytest.raises(NotFoundError, match="'nope'"):
        registry.get("nope")
    with pytest.raises(NotFoundError, match="'nope'"):
        registry.rows(["C1", "nope"])
    assert [c.id for c in registry.nearest(119.0, 25.45, k=50)] and len(
        registry.nearest(119.0, 25.45, 50)
    ) == 10
