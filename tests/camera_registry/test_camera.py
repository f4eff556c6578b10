"""Camera record validation: every rule rejects with the record and field named."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from camera_registry.camera import Camera, check_unique_ids
from camera_registry.geometry import homography_from_pose
from skynet.errors import BadInputError


def make(**overrides: Any) -> Camera:
    values: dict[str, Any] = {"id": "C1", "name": "Gate", "kind": "road", "lon": 119.0, "lat": 25.4}
    values.update(overrides)
    return Camera(**values)


def test_valid_camera_keeps_values_and_normalises_types() -> None:
    camera = make(fov_deg=70, heading_deg=-90, tags=["a", "b"], area="  ")
    assert camera.fov_deg == 70.0 and isinstance(camera.fov_deg, float)
    assert camera.heading_deg == 270.0
    assert camera.tags == ("a", "b")
    assert camera.area is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lon", 180.5),
        ("lon", float("nan")),
        ("lat", -91.0),
        ("fov_deg", 0.0),
        ("fov_deg", 360.1),
        ("range_m", 0.0),
        ("range_m", -5.0),
        ("fps", 0.0),
        ("height_m", -1.0),
        ("heading_deg", float("inf")),
        ("clock_offset_s", float("nan")),
        ("image_width", 0),
        ("image_height", -720),
        ("kind", "drone"),
        ("status", "broken"),
        ("name", "  "),
        ("id", " C1"),
        ("tags", ["ok", "bad;tag"]),
        ("lon", "east"),
    ],
)
def test_invalid_field_is_named(field: str, value: Any) -> None:
    with pytest.raises(BadInputError) as caught:
        make(**{field: value})
    assert caught.value.field == field
    assert caught.value.record == "C1" or field == "id"
    assert field in str(caught.value)


def test_fov_of_full_circle_is_valid() -> None:
    assert make(fov_deg=360).fov_deg == 360.0


def test_homography_must_be_finite_and_invertible() -> None:
    good = homography_from_pose(
        500_000.0,
        2_800_000.0,
        height_m=6,
        heading_deg=30,
        tilt_deg=30,
        fov_deg=60,
        image_width=1280,
        image_height=720,
    )
    camera = make(homography=good.ravel())
    assert camera.homography_matrix is not None
    np.testing.assert_allclose(camera.homography_matrix, good)
    singular = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 0.0, 1.0]])
    with pytest.raises(BadInputError, match="singular") as caught:
        make(homography=singular.ravel())
    assert caught.value.field == "homography"
    with pytest.raises(BadInputError, match="non-finite"):
        make(homography=[1, 0, 0, 0, 1, 0, 0, 0, float("inf")])
    with pytest.raises(BadInputError, match="9 numbers"):
        make(homography=[1, 0, 0, 0, 1, 0])


def test_from_mapping_coerces_text_and_names_position_and_id() -> None:
    camera = Camera.from_mapping(
        {
            "id": "X",
            "name": "n",
            "kind": "road",
            "lon": "119",
            "lat": "25.5",
            "image_width": "640",
            "homography": "1 0 0 0 1 0 0 0 1",
            "tags": "a;b",
            "area": "",
        }
    )
    assert camera.lon == 119.0 and camera.image_width == 640
    assert camera.homography == (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
    assert camera.tags == ("a", "b") and camera.area is None
    with pytest.raises(BadInputError) as caught:
        Camera.from_mapping(
            {"id": "X", "name": "n", "kind": "road", "lon": 1, "lat": 2, "image_width": "12.5"},
            record=7,
        )
    assert caught.value.field == "image_width"
    assert "#7" in str(caught.value) and "'X'" in str(caught.value)
    with pytest.raises(BadInputError, match="is required") as missing:
        Camera.from_mapping({"id": "X", "name": "n", "kind": "road", "lon": 1}, record=3)
    assert missing.value.field == "lat"
    with pytest.raises(BadInputError, match="missing camera id"):
        Camera.from_mapping({"name": "n"}, record=0)


def test_duplicate_ids_are_rejected_with_position() -> None:
    cameras = [make(id="A"), make(id="B"), make(id="A")]
    with pytest.raises(BadInputError, match="duplicate camera id 'A'") as caught:
        check_unique_ids(cameras)
    assert caught.value.record == 2


def test_as_dict_round_trips() -> None:
    camera = make(tags=("x",), homography=np.eye(3).ravel(), area="park")
    assert Camera.from_mapping(camera.as_dict()) == camera
