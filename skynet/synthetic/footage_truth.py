"""Which vehicle a sighting is, from the rendered footage's ground truth (for scoring only).

A sighting's evidence box is matched, in its evidence frame, to the renderer's
MOTChallenge ground truth (IoU >= ``MATCH_IOU``); the track id maps to its
vehicle through the footage's track map. The engine never sees any of it.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import numpy as np

from skynet.synthetic.footage import TRACK_MAP
from trackers.association import iou_matrix
from trackers.mot import MotRecords, read_mot
from trackers.sighting import Sighting

#: Least overlap of a sighting's box with a true box to count as that vehicle.
MATCH_IOU: Final = 0.3


def vehicles_of(sightings: Sequence[Sighting], footage: Path) -> dict[str, int]:
    """Ground-truth vehicle id of each sighting (-1: no vehicle there)."""
    track_vehicle: dict[tuple[str, int], int] = {}
    with (footage / TRACK_MAP).open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            track_vehicle[(row["clip"], int(row["track_id"]))] = int(row["vehicle_id"])
    truth_cache: dict[str, MotRecords] = {}
    out: dict[str, int] = {}
    for s in sightings:
        clip = s.evidence.clip.removesuffix(".avi")
        if clip not in truth_cache:
            truth_cache[clip] = read_mot(footage / f"{clip}.gt.txt")
        records = truth_cache[clip]
        rows = records.frames == s.evidence.frame_index + 1
        out[s.id] = -1
        if rows.any():
            boxes = records.boxes[rows]
            overlap = iou_matrix(np.asarray([s.evidence.bbox], dtype=np.float64), boxes)[0]
            best = int(np.argmax(overlap))
            if overlap[best] >= MATCH_IOU:
                track = int(records.ids[rows][best])
                out[s.id] = track_vehicle.get((clip, track), -1)
    return out
