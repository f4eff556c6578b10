"""Evidence thumbnails: each sighting's box cut from the frame it was described in."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

import cv2
import numpy as np

from trackers.sighting import Sighting

#: Thumbnail height (px) and the margin kept around the box (share of its size).
THUMB_HEIGHT: Final = 96
MARGIN: Final = 0.35


def evidence_thumbnails(footage: Path, sightings: Sequence[Sighting]) -> dict[str, bytes]:
    """JPEG bytes of each sighting's evidence crop; sightings whose clip is gone are left out.

    Frames are read in order, once per clip (seeking a video is slower than
    reading through a short clip).
    """
    by_clip: dict[str, list[Sighting]] = {}
    for sighting in sightings:
        by_clip.setdefault(sighting.evidence.clip, []).append(sighting)
    out: dict[str, bytes] = {}
    for clip, wanted in by_clip.items():
        path = footage / clip
        if not path.exists():
            continue
        frames = {s.evidence.frame_index for s in wanted}
        images = _frames(path, frames)
        for sighting in wanted:
            image = images.get(sighting.evidence.frame_index)
            if image is not None:
                out[sighting.id] = _crop(image, sighting.evidence.bbox)
    return out


def _frames(path: Path, wanted: set[int]) -> dict[int, np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    found: dict[int, np.ndarray] = {}
    try:
        index, last = 0, max(wanted)
        while index <= last:
            ok, image = capture.read()
            if not ok:
                break
            if index in wanted:
                found[index] = image
            index += 1
    finally:
        capture.release()
    return found


def _crop(image: np.ndarray, bbox: tuple[float, float, float, float]) -> bytes:
    height, width = image.shape[:2]
    left, top, right, bottom = bbox  # corner box, as the Sighting contract has it
    pad_x, pad_y = MARGIN * (right - left), MARGIN * (bottom - top)
    x0, y0 = max(int(left - pad_x), 0), max(int(top - pad_y), 0)
    x1, y1 = min(int(right + pad_x) + 1, width), min(int(bottom + pad_y) + 1, height)
    crop = image[y0:y1, x0:x1]
    if crop.size == 0:
        crop = image
    scale = THUMB_HEIGHT / crop.shape[0]
    size = (max(1, round(crop.shape[1] * scale)), THUMB_HEIGHT)
    resized = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", resized, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return bytes(encoded) if ok else b""
