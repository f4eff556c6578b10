"""The exception tree: one family, messages that name where input was wrong."""

from __future__ import annotations

import subprocess
import sys

from skynet.errors import BadInputError, ConflictError, NotFoundError, SkynetError, StoreError


def test_bad_input_names_source_record_and_field() -> None:
    error = BadInputError("is outside (0, 360]", source="cams.csv", record=4, field="fov_deg")
    assert str(error) == "cams.csv, record #4, field 'fov_deg': is outside (0, 360]"
    assert str(BadInputError("plain")) == "plain"
    assert str(BadInputError("x", record="CAM-1")) == "record CAM-1: x"


def test_hierarchy_and_user_error_flags() -> None:
    for cls in (BadInputError, NotFoundError, ConflictError, StoreError):
        assert issubclass(cls, SkynetError)
    assert issubclass(BadInputError, ValueError) and issubclass(NotFoundError, LookupError)
    assert (
        BadInputError("x").user_error and NotFoundError().user_error and ConflictError().user_error
    )
    assert not StoreError().user_error


def test_importing_skynet_stays_light() -> None:
    heavy = "('numpy', 'sqlalchemy', 'shapely', 'cv2')"
    code = f"import sys, skynet.errors; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
