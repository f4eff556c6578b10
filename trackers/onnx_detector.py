"""A user's ONNX detection model, run through OpenCV's DNN module (no extra runtime).

The model's contract (what :class:`OnnxDetector` expects of the file):

* **input**: one tensor ``1 × 3 × H × W``, float32, RGB, values in ``[0, 1]``
  (the frame resized to ``input_size`` without keeping the aspect ratio);
* **output**: one tensor ``N × 6`` (or ``1 × N × 6``), rows
  ``x1, y1, x2, y2, score, class`` with corners in *input* pixels, after the
  model's own non-maximum suppression. Rows scoring below ``min_score`` are
  dropped; boxes are scaled back to the frame and clipped to it.

Models with another head (YOLO's raw ``1 × 84 × 8400``, say) need exporting
with their post-processing included, or a small wrapper graph.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from skynet.errors import BadInputError
from trackers.boxes import Detections

#: Columns of the model's output rows.
OUTPUT_COLUMNS = 6


class OnnxDetector:
    """Runs ``model_path`` on each frame; stateless, so one may serve several feeds."""

    def __init__(
        self,
        model_path: str | Path,
        *,
        input_size: tuple[int, int] = (640, 640),
        min_score: float = 0.1,
    ) -> None:
        path = Path(model_path)
        if not path.is_file():
            msg = "model file not found"
            raise BadInputError(msg, source=str(path))
        if input_size[0] < 1 or input_size[1] < 1:
            msg = f"input size must be positive, got {input_size}"
            raise BadInputError(msg, source=str(path), field="input_size")
        try:
            self._net = cv2.dnn.readNetFromONNX(str(path))
        except cv2.error as error:
            msg = f"not a model OpenCV can load: {str(error).strip().splitlines()[-1]}"
            raise BadInputError(msg, source=str(path)) from error
        if self._net.empty():
            msg = "not a model OpenCV can load"
            raise BadInputError(msg, source=str(path))
        self.source = str(path)
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.min_score = float(min_score)

    def detect(self, image: NDArray[np.uint8]) -> Detections:
        """The model's boxes for one BGR frame, in frame pixels."""
        height, width = image.shape[:2]
        blob = cv2.dnn.blobFromImage(
            image, scalefactor=1.0 / 255.0, size=self.input_size, swapRB=True, crop=False
        )
        self._net.setInput(blob)
        try:
            output = np.asarray(self._net.forward(), dtype=np.float64)
        except cv2.error as error:
            msg = f"the model failed to run: {str(error).strip().splitlines()[-1]}"
            raise BadInputError(msg, source=self.source) from error
        rows = self._rows(output)
        rows = rows[rows[:, 4] >= self.min_score]
        scale = np.array([width / self.input_size[0], height / self.input_size[1]] * 2)
        boxes = rows[:, :4] * scale
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0.0, width)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0.0, height)
        boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2])
        return Detections.from_arrays(
            boxes, rows[:, 4].clip(0.0, 1.0), rows[:, 5].astype(np.int64), source=self.source
        )

    def _rows(self, output: NDArray[np.float64]) -> NDArray[np.float64]:
        """The output as ``N × 6`` rows, or a :class:`BadInputError` naming its shape."""
        if output.ndim == 3 and output.shape[0] == 1:
            output = output[0]
        if output.ndim != 2 or output.shape[1] != OUTPUT_COLUMNS:
            msg = f"the model's output must be N x {OUTPUT_COLUMNS}, got {output.shape}"
            raise BadInputError(msg, source=self.source, field="output")
        return output
