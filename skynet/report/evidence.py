"""Evidence thumbnails: each sighting's box cut from the frame it was described in."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
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
    reading through a short clip), only the wanted ones converted to colour,
    and clips on as many threads as there are cores (OpenCV lets go of the GIL).
    """
    by_clip: dict[str, list[Sighting]] = {}
    for sighting in sightings:
        by_clip.setdefault(sighting.evidence.clip, []).append(sighting)
    jobs = [(footage / clip, wanted) for clip, wanted in by_clip.items()]
    out: dict[str, bytes] = {}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for crops in pool.map(lambda job: _clip_crops(*job), jobs):
            out.update(crops)
    return out


def _clip_crops(path: Path, wanted: list[Sighting]) -> dict[str, bytes]:
    """The crops of one clip's sightings (none when the clip is gone)."""
    if not path.exists():
        return {}
    images = _frames(path, {s.evidence.frame_index for s in wanted})
    return {
        s.id: _crop(images[s.evidence.frame_index], s.evidence.bbox)
        for s in wanted
        if s.evidence.frame_index in images
    }


def _frames(path: Path, wanted: set[int]) -> dict[int, np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    found: dict[int, np.ndarray] = {}
    try:
        for index in range(max(wanted) + 1):
            if not capture.grab():  # decoded, not yet converted to BGR
                break
            if index in wanted:
                ok, image = capture.retrieve()
                if ok:
                    found[index] = image
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
