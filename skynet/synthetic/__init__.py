"""Synthetic city, traffic and CCTV footage with exact ground truth, deterministic from a seed."""

from skynet.synthetic._plan import SIZES, size_plan
from skynet.synthetic.city import DEFAULT_ORIGIN, SyntheticCity, generate_city
from skynet.synthetic.placement import major_junctions, place_cameras

__all__ = [
    "DEFAULT_ORIGIN",
    "SIZES",
    "SyntheticCity",
    "generate_city",
    "major_junctions",
    "place_cameras",
    "size_plan",
]
