"""Skynet: reconstruct where a vehicle went from many georeferenced cameras.

Kept light on purpose: importing :mod:`skynet` pulls in nothing else.
"""

__version__ = "0.1.0"
