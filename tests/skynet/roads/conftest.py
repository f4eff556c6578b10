"""Road-test fixtures; puts ``roads_helpers`` on the import path (importlib mode)."""

from __future__ import annotations

import sys
from pathlib import Path

import networkx as nx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from roads_helpers import road_graph


@pytest.fixture
def line_graph() -> nx.MultiDiGraph:
    """A(0,0) — B(100,0) — C(200,0), residential, two-way."""
    return road_graph(
        {"A": (0.0, 0.0), "B": (100.0, 0.0), "C": (200.0, 0.0)},
        [("A", "B", "residential"), ("B", "C", "residential")],
    )
