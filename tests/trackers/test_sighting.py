"""The Sighting contract: deterministic ids and validated fields."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from skynet.errors import BadInputError
from trackers.sighting import APPEARANCE_DIM, Evidence, Sighting, sighting_id


def unit(seed: int = 0) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=APPEARANCE_DIM)
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def make(**overrides: Any) -> Sighting:
    values: dict[str, Any] = {
        "id": sighting_id("C1", "clip.avi", 3),
        "camera_id": "C1",
        "t_in": 10.0,
        "t_out": 12.5,
        "vehicle_class": "car",
        "appearance": unit(),
        "quality": 0.7,
        "evidence": Evidence("clip.avi", 40, (0.0, 0.0, 10.0, 10.0)),
    }
    values.update(overrides)
    return Sighting(**values)


def test_ids_are_deterministic_and_distinct() -> None:
    assert sighting_id("C1", "a.avi", 1) == sighting_id("C1", "a.avi", 1)
    ids = {
        sighting_id(c, k, t) for c in ("C1", "C2") for k in ("a.avi", "b.avi") for t in range(50)
    }
    assert len(ids) == 200


def test_equality_compares_appearance_by_value() -> None:
    assert make() == make(appearance=unit().copy())
    assert make() != make(appearance=unit(1))
    assert make().duration_s == 2.5


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("t_out", 9.0),
        ("t_in", float("nan")),
        ("vehicle_class", "bicycle"),
        ("appearance", np.ones(APPEARANCE_DIM, dtype=np.float32)),
        ("appearance", unit()[:10]),
        ("quality", 1.5),
    ],
)
def test_invalid_fields_are_named(field: str, value: Any) -> None:
    with pytest.raises(BadInputError) as caught:
        make(**{field: value})
    assert caught.value.field == field
