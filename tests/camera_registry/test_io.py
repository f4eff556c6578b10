"""GeoJSON and CSV import/export: lossless round trips and all-or-nothing errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from camera_registry import Camera, read_cameras, write_cameras
from skynet.errors import BadInputError


def test_sample_registry_round_trips_through_both_formats(
    sample_cameras_path: Path, tmp_path: Path
) -> None:
    original = read_cameras(sample_cameras_path)
    assert len(original.cameras) >= 24 and original.working_crs == "EPSG:32650"
    assert any(c.homography is not None for c in original.cameras)
    assert any(c.tags for c in original.cameras) and all(c.area for c in original.cameras)
    for suffix in ("geojson", "csv"):
        path = tmp_path / f"out.{suffix}"
        write_cameras(original.cameras, path, working_crs=original.working_crs)
        again = read_cameras(path)
        assert again.cameras == original.cameras  # exact, field by field, floats included
    assert read_cameras(tmp_path / "out.geojson").working_crs == "EPSG:32650"


def test_awkward_values_survive_csv(tmp_path: Path) -> None:
    camera = Camera(
        id="odd,id",
        name='Name with "quotes", commas\nand a newline',
        kind="community",
        lon=-0.1 + 1e-13,
        lat=51.5,
        heading_deg=359.999999,
        homography=(1e-9, 2.5, -3.0, 0.0, 1.0, 7.123456789012345, 1e-7, 0.0, 1.0),
        tags=("a b", "ünïcode"),
        area=None,
    )
    path = tmp_path / "c.csv"
    write_cameras([camera], path)
    assert read_cameras(path).cameras == [camera]


def test_geojson_is_rfc7946_shaped(sample_cameras_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "c.geojson"
    write_cameras(read_cameras(sample_cameras_path).cameras[:2], path)
    document = json.loads(path.read_text())
    assert document["type"] == "FeatureCollection"
    feature = document["features"][0]
    assert feature["geometry"]["type"] == "Point"
    lon, lat = feature["geometry"]["coordinates"]
    assert 118 < lon < 120 and 25 < lat < 26  # lon first
    assert "lon" not in feature["properties"] and feature["id"]


def feature(**properties: object) -> dict[str, object]:
    props = {"name": "n", "kind": "road", **properties}
    return {
        "type": "Feature",
        "id": properties.pop("id", "A"),
        "properties": props,
        "geometry": {"type": "Point", "coordinates": [119.0, 25.4]},
    }


def write_collection(tmp_path: Path, features: list[object]) -> Path:
    path = tmp_path / "in.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_bad_record_names_position_id_and_field(tmp_path: Path) -> None:
    good = feature()
    bad = {**feature(fov_deg=400), "id": "B7"}
    path = write_collection(tmp_path, [good, bad])
    with pytest.raises(BadInputError) as caught:
        read_cameras(path)
    message = str(caught.value)
    assert str(path) in message and "#1" in message and "'B7'" in message
    assert caught.value.field == "fov_deg"


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("{not json", "not valid JSON"),
        ('{"type": "Feature"}', "not a GeoJSON FeatureCollection"),
        ('{"type": "FeatureCollection", "features": 3}', "must be a list"),
        (
            '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
            '{"type": "LineString", "coordinates": []}}]}',
            "must be a Point",
        ),
        (
            '{"type": "FeatureCollection", "features": [{"type": "Feature", "id": "A", "geometry": '
            '{"type": "Point", "coordinates": [1, 2]}, "properties": {"name": "n", "kind": "road", '
            '"colour": "red"}}]}',
            "unknown field",
        ),
    ],
)
def test_malformed_geojson(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text(content)
    with pytest.raises(BadInputError, match=match):
        read_cameras(path)


def test_duplicate_ids_in_file(tmp_path: Path) -> None:
    path = write_collection(tmp_path, [feature(), feature()])
    with pytest.raises(BadInputError, match="duplicate camera id 'A'"):
        read_cameras(path)


def test_csv_errors(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,name,kind,lon,lat,speed\nA,n,road,1,2,3\n")
    with pytest.raises(BadInputError, match=r"unknown field.*'speed'"):
        read_cameras(path)
    path.write_text("id,name,kind,lon,lat\nA,n,road,1,2,extra\n")
    with pytest.raises(BadInputError, match="more cells"):
        read_cameras(path)
    path.write_text("")
    with pytest.raises(BadInputError, match="empty CSV"):
        read_cameras(path)
    path.write_text("id,name,kind,lon,lat\nA,n,road,1,\n")
    with pytest.raises(BadInputError, match="is required") as caught:
        read_cameras(path)
    assert caught.value.field == "lat" and str(path) in str(caught.value)


def test_missing_file_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="file not found"):
        read_cameras(tmp_path / "absent.geojson")
    with pytest.raises(BadInputError, match="unknown camera file format 'xlsx'"):
        read_cameras(tmp_path / "cams.xlsx")


def test_unwritable_path_is_bad_input(sample_cameras_path: Path, tmp_path: Path) -> None:
    cameras = read_cameras(sample_cameras_path).cameras
    target = tmp_path / "missing" / "out.geojson"
    with pytest.raises(BadInputError, match="cannot write camera file") as caught:
        write_cameras(cameras, target)
    assert caught.value.source == str(target)
