"""Detectors: what turns one frame into boxes for the tracker.

A detector is anything with ``detect(image) -> Detections`` (:class:`Detector`).
Two ship: :class:`~trackers.motion.MotionDetector`, the default (background
subtraction; no model, no training, fast), and
:class:`~trackers.onnx_detector.OnnxDetector`, which runs a model file the
user gives through OpenCV's DNN module. Both are re-exported here.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from trackers.boxes import Detections
from trackers.motion import MotionConfig, MotionDetector
from trackers.onnx_detector import OnnxDetector

__all__ = ["Detector", "MotionConfig", "MotionDetector", "OnnxDetector"]


@runtime_checkable
class Detector(Protocol):
    """Boxes (full-resolution pixels, corners) with scores in ``[0, 1]`` for one BGR frame.

    A detector may keep state between calls (a background model): feed it
    the frames of one feed in order, and use one detector per feed.
    """

    def detect(self, image: NDArray[np.uint8]) -> Detections:
        """Detections in ``image`` (``H × W × 3`` BGR, uint8)."""
        ...
