"""The vectorised multi-object tracker: SORT's core with ByteTrack's second pass.

Every frame, for all tracks at once:

1. predict each track's box one frame ahead (batched Kalman filter,
   :mod:`trackers.kalman`);
2. match the predicted boxes to the *high-score* detections by IoU with an
   optimal assignment (:mod:`trackers.association`);
3. match the confirmed tracks still unmatched to the *low-score* detections
   (ByteTrack: a partly occluded object's weak box keeps its track alive, but
   a weak box never starts a track);
4. correct the matched tracks with their detections; unmatched tracks coast
   on their prediction and die after ``max_age`` missed frames (a tentative
   track dies at its first miss);
5. start tentative tracks from unmatched detections scoring at least
   ``birth_score``; a track is confirmed, and gets its id, after ``min_hits``
   consecutive matches. Tracks born in the stream's first frame are confirmed
   at once: those objects were already there, not new arrivals.

Each frame reports the confirmed tracks it matched, plus those missed for at
most ``report_coasting`` frames (at their predicted box). Track state lives in
two NumPy tables, one row per track; the only Python-level iteration is over
the frames. Ids are 1, 2, 3… in order of
confirmation; the result is deterministic for the same input.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from skynet.errors import BadInputError
from trackers import kalman
from trackers.association import iou_matrix, match
from trackers.boxes import (
    Detections,
    FloatArray,
    IntArray,
    cxcywh_to_xyxy,
    xyxy_to_cxcywh,
)
from trackers.kalman import KalmanNoise

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    """Tracker parameters; the defaults suit pedestrians and vehicles at 10–30 fps.

    They were chosen on two workloads together, MOT15 TUD-Campus (real
    detections, crowded pedestrians) and the synthetic scene of
    ``benchmarks/bench_tracker.py`` (40 crossing targets, 5 % missed and 5 %
    weak detections, false positives), so that neither alone decides. With
    them: TUD-Campus MOTA 0.649 / IDF1 0.738, synthetic (1000 frames) MOTA
    0.971 / IDF1 0.968. The figures after each choice are the alternatives'.

    * ``high_score`` 0.5 / ``low_score`` 0.1: ByteTrack's split; boxes
      between them only extend confirmed tracks, boxes below are noise.
    * ``birth_score`` 0.7: only a confident box starts a track (ByteTrack's
      0.6 + 0.1); at 0.6 TUD-Campus loses 0.014 MOTA to false tracks and id
      switches, for 0.003 on synthetic.
    * ``match_iou`` 0.3: SORT's gate. 0.4 loses people whose box changes
      fast (TUD MOTA −0.028, IDF1 −0.11); 0.2 lets neighbours swap ids
      (synthetic IDF1 −0.014).
    * ``low_match_iou`` 0.5: a weak box must overlap more, as in ByteTrack.
    * ``max_age`` 30 frames: coast through about a second of occlusion;
      at 10, TUD-Campus loses 0.017 MOTA and 0.065 IDF1; 60 changes nothing.
    * ``min_hits`` 3: three consecutive matches confirm a track, so a one-
      or two-frame false positive never gets an id (at 2: TUD −0.019 MOTA
      from 9 more false positives, synthetic +0.008).
    * ``report_coasting`` 1: a confirmed track missed for one frame is still
      reported, at its prediction; it bridges single-frame detector drop-outs
      (synthetic MOTA 0.93 → 0.97) at the cost of a few false positives where
      the object really left (TUD-Campus −0.006). 0 reports matched tracks only.
    * ``split_merged`` (off; on in :data:`MOTION_TRACKER`): share a detection
      holding two or more tracks (``merge_cover`` of each predicted box) among
      them (see :meth:`MultiObjectTracker._merged`). For motion blobs, which
      run together when vehicles close up: on the synthetic footage of
      ``benchmarks/eval_tracking.py`` (3 seeds × 4 cameras) day MOTA 0.805 →
      0.808, IDF1 0.881 → 0.883, night MOTA 0.556 → 0.566. A detector that
      boxes each object does not merge them: TUD-Campus MOTA 0.649 → 0.635.
    * ``join_fragments`` (off; on in :data:`MOTION_TRACKER`): two or more
      detections each inside one fresh track's predicted box alone
      (``fragment_cover``) become their union when it fits that box better
      and they line up across or down (see :meth:`MultiObjectTracker._joined`):
      a motion detector sees a dark body at night as its lit pieces. Night
      MOTA on the synthetic footage 0.606 → 0.623 (held out 0.396 → 0.426),
      day 0.818 → 0.819 (held out 0.786). Without the lining up, two
      vehicles a track was born over were joined again as they parted (day
      V04-E3 of ``tests/trackers/test_synthetic_tracking.py``: 0.72 → 0.23).
    * ``noise``: Kalman noise as fractions of the box size (DeepSORT's
      weights); doubling the velocity or position noise costs TUD 0.02–0.03.
    """

    high_score: float = 0.5
    low_score: float = 0.1
    birth_score: float = 0.7
    match_iou: float = 0.3
    low_match_iou: float = 0.5
    max_age: int = 30
    min_hits: int = 3
    report_coasting: int = 1
    split_merged: bool = False
    merge_cover: float = 0.7
    join_fragments: bool = False
    fragment_cover: float = 0.8
    noise: KalmanNoise = field(default_factory=KalmanNoise)

    def __post_init__(self) -> None:
        names = ("high_score", "low_score", "birth_score", "match_iou", "low_match_iou")
        for name in (*names, "merge_cover", "fragment_cover"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                msg = f"must lie in [0, 1], got {value}"
                raise BadInputError(msg, source="TrackerConfig", field=name)
        if self.low_score > self.high_score:
            msg = f"low_score {self.low_score} exceeds high_score {self.high_score}"
            raise BadInputError(msg, source="TrackerConfig", field="low_score")
        if self.max_age < 0:
            msg = f"must be >= 0, got {self.max_age}"
            raise BadInputError(msg, source="TrackerConfig", field="max_age")
        if self.min_hits < 1:
            msg = f"must be >= 1, got {self.min_hits}"
            raise BadInputError(msg, source="TrackerConfig", field="min_hits")
        if self.report_coasting < 0:
            msg = f"must be >= 0, got {self.report_coasting}"
            raise BadInputError(msg, source="TrackerConfig", field="report_coasting")


#: The tracker for a motion detector's blobs (which merge when objects close up, and
#: break into pieces where a body is dark).
MOTION_TRACKER = TrackerConfig(split_merged=True, join_fragments=True)


@dataclass(frozen=True, slots=True)
class TrackFrame:
    """The confirmed tracks reported for one frame.

    ``frame`` counts updates from 0. Row ``i`` is track ``ids[i]`` with its
    filtered corner box, the score and class of the detection that updated it,
    and ``detections[i]``, that detection's index in the frame's input. A
    coasting track (see ``TrackerConfig.report_coasting``) has detection -1,
    its predicted box and the score it last matched with.
    """

    frame: int
    ids: IntArray
    boxes: FloatArray
    scores: FloatArray
    classes: IntArray
    detections: IntArray

    def __len__(self) -> int:
        return int(self.ids.shape[0])


# Columns of the tracker's integer table; its float table is the Kalman state
# (trackers.kalman) followed by the score of the detection last matched.
_ID, _HITS, _MISSES, _CLASS = 0, 1, 2, 3
_INT_WIDTH = 4
_SCORE = kalman.STATE_WIDTH
_SIZE_VELOCITY = slice(6, 8)
#: Empty arrays shared by results with nothing in them (no element to change).
_NO_ROWS = np.zeros(0, dtype=np.int64)
_NO_BOXES = np.zeros((0, 4))
_NO_SCORES = np.zeros(0)
_FLOAT_WIDTH = kalman.STATE_WIDTH + 1


class MultiObjectTracker:
    """Tracks boxes across the frames of one feed; feed it frames in order.

    All tracks live in two tables, one row per track: ``_floats`` (Kalman
    state and last score) and ``_ints`` (id — 0 while tentative —,
    consecutive hits, frames since the last match, class), so that dropping
    dead tracks or appending new ones is one array operation per table.
    """

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config if config is not None else TrackerConfig()
        self._floats = np.zeros((0, _FLOAT_WIDTH))
        self._ints = np.zeros((0, _INT_WIDTH), dtype=np.int64)
        self._frame = 0
        self._last_id = 0

    @property
    def frame(self) -> int:
        """How many frames have been processed."""
        return self._frame

    @property
    def track_count(self) -> int:
        """Tracks alive now, tentative and coasting ones included."""
        return int(self._ints.shape[0])

    def update(
        self,
        boxes_xyxy: npt.ArrayLike,
        scores: npt.ArrayLike,
        classes: npt.ArrayLike | None = None,
    ) -> TrackFrame:
        """Process the next frame's detections; returns its confirmed tracks."""
        detections = Detections.from_arrays(
            boxes_xyxy, scores, classes, source=f"frame {self._frame}"
        )
        return self.step(detections)

    def run_detections(self, frames: Iterable[Detections]) -> list[TrackFrame]:
        """Process a whole sequence of per-frame detections (one entry per frame)."""
        return [self.step(detections) for detections in frames]

    def step(self, detections: Detections) -> TrackFrame:
        """:meth:`update` for an already validated :class:`Detections`."""
        config = self.config
        floats, ints = self._floats, self._ints
        if ints.shape[0] == 0 and len(detections) == 0:  # an empty road: nothing to do
            self._frame += 1
            return _empty_frame(self._frame - 1)
        kalman.predict(floats, config.noise)
        members, measured = _NO_ROWS, _NO_BOXES
        if ints.shape[0] and len(detections):
            predicted = cxcywh_to_xyxy(floats[:, kalman.POSITION])
            if config.join_fragments and len(detections) > 1:
                detections = self._joined(predicted, ints, detections)
            if config.split_merged and ints.shape[0] > 1:
                members, shared, measured = self._merged(predicted, ints, detections)
            else:
                shared = _NO_ROWS
            detection_of_track = self._associate(predicted, ints, detections, members, shared)
        else:
            detection_of_track = np.full(ints.shape[0], -1, dtype=np.int64)

        matched = detection_of_track >= 0
        matched_rows = np.nonzero(matched)[0]
        used = detection_of_track[matched_rows]
        boxes = detections.boxes[used]
        if members.size:  # tracks inside a merged blob: their share of it
            boxes = boxes.copy()
            boxes[np.searchsorted(matched_rows, members)] = measured
        kalman.update(floats, matched_rows, xyxy_to_cxcywh(boxes), config.noise)
        if members.size:  # a member's size is not seen: held, not extrapolated, while merged
            floats[members, _SIZE_VELOCITY] = 0.0
        floats[matched_rows, _SCORE] = detections.scores[used]
        ints[:, _HITS] += 1
        ints[:, _HITS] *= matched
        ints[:, _MISSES] += 1
        ints[matched_rows, _MISSES] = 0

        alive = (ints[:, _MISSES] <= config.max_age) & ((ints[:, _ID] > 0) | matched)
        if not alive.all():
            floats, ints = floats[alive], ints[alive]
            detection_of_track = detection_of_track[alive]
        born = self._births(detections, used)
        if born.size:
            floats, ints = self._append(floats, ints, detections, born)
            detection_of_track = np.concatenate((detection_of_track, born))

        tentative = ints[:, _ID] == 0
        confirm = tentative if self._frame == 0 else tentative & (ints[:, _HITS] >= config.min_hits)
        if confirm.any():
            self._give_ids(ints, confirm)
        self._floats, self._ints = floats, ints
        result = self._report(floats, ints, detection_of_track)
        self._frame += 1
        return result

    def _associate(
        self,
        predicted: FloatArray,
        ints: IntArray,
        detections: Detections,
        members: IntArray,
        shared: IntArray,
    ) -> IntArray:
        """For each track, the index of the detection it matched, or -1.

        ``members`` (tracks inside a merged blob, see :meth:`_merged`) are
        given their blob ``shared`` and take no part in the matching, nor
        does the blob.
        """
        config = self.config
        detection_of_track = np.full(ints.shape[0], -1, dtype=np.int64)
        scores = detections.scores
        strong = scores >= config.high_score
        if members.size:
            detection_of_track[members] = shared
            strong[shared] = False
            open_rows = np.nonzero(detection_of_track < 0)[0]
            predicted_open, classes_open = predicted[open_rows], ints[open_rows, _CLASS]
        else:
            predicted_open, classes_open = predicted, ints[:, _CLASS]
        high = np.nonzero(strong)[0]
        similarity = self._similarity(predicted_open, classes_open, detections, high)
        rows, cols = match(similarity, config.match_iou)
        detection_of_track[open_rows[rows] if members.size else rows] = high[cols]

        low = np.nonzero((scores < config.high_score) & (scores >= config.low_score))[0]
        if low.size:
            free = np.nonzero((detection_of_track < 0) & (ints[:, _ID] > 0))[0]
            similarity = self._similarity(predicted[free], ints[free, _CLASS], detections, low)
            rows, cols = match(similarity, config.low_match_iou)
            detection_of_track[free[rows]] = low[cols]
        return detection_of_track

    def _merged(
        self, predicted: FloatArray, ints: IntArray, detections: Detections
    ) -> tuple[IntArray, IntArray, FloatArray]:
        """Tracks whose objects have run together into one detection, and their boxes in it.

        Two vehicles that close up (one overtaking, or both receding into
        the distance) become one blob to a motion detector: matched by IoU,
        it would go to one track, stretched over both, and the other would
        coast and die. A confident detection holding most
        (``merge_cover``) of the predicted boxes of two or more confirmed
        tracks matched in the previous frame, none of them inside
        another and no two of them spanning nearly the same extent across
        or down (pieces of one object, such as a dark body's lit parts at
        night: two objects at different depths differ in size), is shared
        by them instead: each is measured at its
        predicted box, moved onto the ends of the blob it holds
        (:func:`_share_of_blob`), and its size is held (not extrapolated)
        while it is merged. Returns the member rows (sorted), their blob
        and their measured boxes.
        """
        config = self.config
        none = _NO_ROWS, _NO_ROWS, _NO_BOXES
        fresh = (ints[:, _ID] > 0) & (ints[:, _MISSES] == 0)
        strong = detections.scores >= config.high_score
        if np.count_nonzero(fresh) < 2 or not strong.any():
            return none
        inside = _inside_share(predicted, detections.boxes)
        inside *= fresh[:, None] & strong[None, :]
        if detections.classes is not None:
            inside *= ints[:, _CLASS, None] == detections.classes[None, :]
        blob = np.argmax(inside, axis=1)
        held = inside[np.arange(blob.size), blob] >= config.merge_cover
        rows = np.nonzero(held)[0]
        if rows.size < 2:
            return none
        blob = blob[rows]
        # a box inside another member's (a fragment of the same object) is no member
        own = predicted[rows]
        nested = _inside_share(own, own) >= 0.5
        np.fill_diagonal(nested, False)
        nested &= blob[:, None] == blob[None, :]
        keep = ~nested.any(axis=1)
        rows, blob, own = rows[keep], blob[keep], own[keep]
        count = np.bincount(blob, minlength=len(detections))
        # pieces of one object side by side or stacked share its extent across;
        # two objects at different depths differ in size
        same = blob[:, None] == blob[None, :]
        np.fill_diagonal(same, False)
        aligned = same & (_axis_overlap(own, 0) | _axis_overlap(own, 1))
        count[blob[aligned.any(axis=1)]] = 0
        group = count[blob] >= 2
        rows, blob, own = rows[group], blob[group], own[group]
        if rows.size == 0:
            return none
        return rows, blob, _share_of_blob(own, detections.boxes, blob)

    def _joined(self, predicted: FloatArray, ints: IntArray, detections: Detections) -> Detections:
        """Pieces of one tracked object, each inside its predicted box alone, joined into one box.

        A dark body at night shows as its lit parts (lamps, a pale roof),
        a low-contrast one as ragged pieces: two or more detections that
        each lie mostly (``fragment_cover``) inside the predicted box of one
        confirmed track matched in the previous frame, and inside no other
        track's, become their union when it fits that box better (IoU) than
        any piece alone and is at most ``_PIECE_SPREAD`` times as wide, or
        as tall, as its widest (tallest) piece: pieces of one object line
        up (lamps under a roof), while two vehicles that a track was born
        over, parting, stand side by side or one behind the other at
        different sizes.
        """
        fresh = (ints[:, _ID] > 0) & (ints[:, _MISSES] == 0)
        if not fresh.any():
            return detections
        boxes = detections.boxes
        inside = _inside_share(boxes, predicted)  # (detections, tracks)
        held = inside >= self.config.fragment_cover
        alone = held.sum(axis=1) == 1
        held &= alone[:, None] & fresh[None, :]
        if detections.classes is not None:
            held &= detections.classes[:, None] == ints[None, :, _CLASS]
        pieces = held.sum(axis=0)
        tracks = np.nonzero(pieces >= 2)[0]
        if tracks.size == 0:
            return detections
        piece, track = np.nonzero(held[:, tracks])
        low = np.full((tracks.size, 2), np.inf)
        high = np.full((tracks.size, 2), -np.inf)
        np.minimum.at(low, track, boxes[piece, :2])
        np.maximum.at(high, track, boxes[piece, 2:])
        union = np.concatenate((low, high), axis=1)
        target = predicted[tracks]
        fit_union = np.diag(iou_matrix(union, target))
        fit_piece = iou_matrix(boxes[piece], target)[np.arange(piece.size), track]
        best_piece = np.full(tracks.size, 0.0)
        np.maximum.at(best_piece, track, fit_piece)
        # pieces of one object line up across or down (lamps under a roof); two
        # objects a track was born over, parting, need not
        size = boxes[piece, 2:] - boxes[piece, :2]
        widest = np.zeros((tracks.size, 2))
        np.maximum.at(widest, track, size)
        lined_up = (union[:, 2:] - union[:, :2] <= _PIECE_SPREAD * widest).any(axis=1)
        better = (fit_union > best_piece) & lined_up
        if not better.any():
            return detections
        joined = better[track]
        dropped = np.zeros(len(detections), dtype=bool)
        dropped[piece[joined]] = True
        score = np.zeros(tracks.size)
        np.maximum.at(score, track, detections.scores[piece])
        keep = ~dropped
        new_boxes = np.concatenate((boxes[keep], union[better]))
        new_scores = np.concatenate((detections.scores[keep], score[better]))
        classes = None
        if detections.classes is not None:
            classes = np.concatenate((detections.classes[keep], ints[tracks[better], _CLASS]))
        return Detections(new_boxes, new_scores, classes)

    @staticmethod
    def _similarity(
        predicted: FloatArray, track_classes: IntArray, detections: Detections, columns: IntArray
    ) -> FloatArray:
        """IoU of predicted boxes with the chosen detections, zero across classes."""
        similarity = iou_matrix(predicted, detections.boxes[columns])
        if detections.classes is not None:
            same_class = track_classes[:, None] == detections.classes[columns][None, :]
            similarity *= same_class
        return similarity

    def _births(self, detections: Detections, used: IntArray) -> IntArray:
        """Indices of the confident detections no track took: each starts a track."""
        candidates = detections.scores >= self.config.birth_score
        candidates[used] = False
        return np.nonzero(candidates)[0]

    def _append(
        self, floats: FloatArray, ints: IntArray, detections: Detections, born: IntArray
    ) -> tuple[FloatArray, IntArray]:
        """The tables with one tentative track per detection in ``born``."""
        new_floats = np.zeros((born.size, _FLOAT_WIDTH))
        boxes = xyxy_to_cxcywh(detections.boxes[born])
        new_floats[:, : kalman.STATE_WIDTH] = kalman.initiate(boxes, self.config.noise)
        new_floats[:, _SCORE] = detections.scores[born]
        new_ints = np.zeros((born.size, _INT_WIDTH), dtype=np.int64)
        new_ints[:, _HITS] = 1
        new_ints[:, _CLASS] = -1 if detections.classes is None else detections.classes[born]
        return np.concatenate((floats, new_floats)), np.concatenate((ints, new_ints))

    def _give_ids(self, ints: IntArray, confirm: BoolArray) -> None:
        """Number the newly confirmed tracks in row order."""
        rows = np.nonzero(confirm)[0]
        ints[rows, _ID] = self._last_id + 1 + np.arange(rows.size)
        self._last_id += int(rows.size)

    def _report(
        self, floats: FloatArray, ints: IntArray, detection_of_track: IntArray
    ) -> TrackFrame:
        """Confirmed tracks matched now, or missed for at most ``report_coasting`` frames."""
        shown = (ints[:, _ID] > 0) & (ints[:, _MISSES] <= self.config.report_coasting)
        rows = np.nonzero(shown)[0]
        return TrackFrame(
            frame=self._frame,
            ids=ints[rows, _ID],
            boxes=cxcywh_to_xyxy(floats[rows, kalman.POSITION]),
            scores=floats[rows, _SCORE],
            classes=ints[rows, _CLASS],
            detections=detection_of_track[rows],
        )


#: How much wider (or taller) than its widest (tallest) piece the union of one object's
#: pieces may be.
_PIECE_SPREAD = 1.25


def _empty_frame(frame: int) -> TrackFrame:
    """A frame without tracks."""
    return TrackFrame(frame, _NO_ROWS, _NO_BOXES, _NO_SCORES, _NO_ROWS, _NO_ROWS)


def _inside_share(boxes: FloatArray, containers: FloatArray) -> FloatArray:
    """``(A, B)``: the share of each box of ``boxes`` that lies inside each of ``containers``."""
    a_x1, a_y1, a_x2, a_y2 = (boxes[:, i, None] for i in range(4))
    b_x1, b_y1, b_x2, b_y2 = containers.T
    width = np.minimum(a_x2, b_x2) - np.maximum(a_x1, b_x1)
    height = np.minimum(a_y2, b_y2) - np.maximum(a_y1, b_y1)
    intersection = np.maximum(width, 0.0) * np.maximum(height, 0.0)
    area = np.maximum((a_x2 - a_x1) * (a_y2 - a_y1), 1e-9)
    share: FloatArray = intersection / area
    return share


def _axis_overlap(boxes: FloatArray, axis: int, share: float = 0.8) -> BoolArray:
    """``(A, A)``: pairs of boxes whose extents along ``axis`` (0: x, 1: y) nearly coincide."""
    low, high = boxes[:, axis], boxes[:, axis + 2]
    inner = np.minimum(high[:, None], high[None, :]) - np.maximum(low[:, None], low[None, :])
    outer = np.maximum(high[:, None], high[None, :]) - np.minimum(low[:, None], low[None, :])
    aligned: BoolArray = inner >= share * np.maximum(outer, 1e-9)
    return aligned


def _share_of_blob(own: FloatArray, blobs: FloatArray, blob: IntArray) -> FloatArray:
    """Each member's box in its blob (see :meth:`MultiObjectTracker._merged`), vectorised.

    Per group and axis: a member whose predicted box holds both ends of the
    group's outline takes the blob's extent; one holding one end is moved
    (not resized) onto the blob's end; the others keep their prediction.
    """
    count = blobs.shape[0]
    low = np.full((count, 2), np.inf)
    high = np.full((count, 2), -np.inf)
    np.minimum.at(low, blob, own[:, :2])
    np.maximum.at(high, blob, own[:, 2:])
    outer = blobs[blob]
    holds_low = own[:, :2] <= low[blob]
    holds_high = own[:, 2:] >= high[blob]
    shift = np.where(
        holds_low, outer[:, :2] - own[:, :2], np.where(holds_high, outer[:, 2:] - own[:, 2:], 0.0)
    )
    both = holds_low & holds_high
    start = np.where(both, outer[:, :2], own[:, :2] + shift)
    end = np.where(both, outer[:, 2:], own[:, 2:] + shift)
    return np.concatenate((start, np.maximum(end, start + 1.0)), axis=1)
