"""The default detector: moving blobs against a learned background.

Each frame is reduced to a small colour image (``work_width`` pixels wide,
averaging pixels, which also averages sensor noise away), compared with a
running-average background, thresholded, cleaned with morphology, and its
connected components become boxes scaled back to full resolution. Every
step is one OpenCV call or one array expression; there is no loop over
pixels, and over blobs only the split's, over the few that fill their box poorly.

A pixel moves when its grey level (the channel mean) darkens or brightens
past a threshold, or its colour changes (``chroma_threshold`` on two
colour-opponent axes of the change, which a change of brightness alone
leaves at zero): a blue truck on grey road and green verge has much the
grey level of both and was missed (day MOTA on the synthetic footage, 3
seeds × 4 cameras: 0.70 grey only, 0.80 with colour). ``colour=False``
keeps the grey-only detector.

By day a blob shaped like an L or a T (an e-bike beside a car, a car in
front of a truck) is cut into its two vehicles (:mod:`trackers._split`).
A frame where nothing moves after cleaning (about half the frames of a
motion-triggered clip) stops there: it is learned whole, with no components.

Three situations need care:

* **Start of a clip.** No box is reported for the first ``warmup_length``
  frames (2 s at 25 fps by default: the empty padding that motion-triggered
  recorders, and :mod:`skynet.synthetic.footage`, keep before a vehicle
  enters); the background is then the per-pixel median of
  ``warmup_frames`` of them, ``warmup_stride`` apart, so vehicles that move
  through, or stand for less than half of that time, leave no ghost behind.
  (1, 2 and 4 s gave day MOTA 0.47, 0.45 and 0.50 on the synthetic sweep,
  which starts in busy traffic: within the noise of which vehicles happen
  to stand still at the start.)
* **Sudden lighting changes** (auto-exposure, headlights sweeping the
  scene, lights switched on): when more than ``global_change_share`` of the
  picture changes at once, or its median brightness shifts by more than
  ``brightness_jump``, that frame reports nothing and becomes the
  background at once, except under the previous frame's blobs, where the
  old background is carried through the change as measured around them:
  the next frame is detected normally, and the vehicles in view leave no
  ghost.
* **Night** (chosen when the learned background's median grey is below
  ``night_level``). Headlight beams brighten the road ahead of a vehicle;
  lamps and glare saturate; bodies, lit only by lamps and the sky, are
  dark. Brightening is held to a higher threshold (``brighten_threshold``)
  than darkening, so that faint light on the road stays background; a
  wider closing (``night_close_px``) joins lamps to the dark body between
  them; a blob that holds the lamps of several vehicles is cut into one part
  per vehicle (:mod:`trackers._lamps`: lamps, glare and beams join vehicles
  into one blob, and the lamps are what is sure); and blobs are cut to their
  lamps (:meth:`MotionDetector._trim_to_lamps`):
  the beam lies below the headlights of a vehicle coming towards the
  camera and above the tail lights of one going away. Given the camera's
  homography, a blob whose lamps make one vehicle's group then gets that
  vehicle's box outright (:mod:`trackers._footprint`: the lamps' ground
  position and width, a class's nominal size, projected back), free of the
  beam and glare that swell the blob and whole where a dark body showed
  only its lamps. Measured and
  dropped for doing worse: higher brightening thresholds at night, removing
  "lit" pixels (a moderate, locally flat or colourless rise: the idea of
  shadow/highlight removal; here it split bodies into fragments, and the
  night road has too little texture for a correlation test), keeping only
  blobs with a lamp or darkening, and earlier a low-quantile background.
  A ghost's outline (a beam that lit the road while the background was
  learned) is fainter at night, so it is judged with a lower gradient
  (``night_ghost_gradient``). Beam light also creeps into the background
  at the edges of a beam (faint light stays under the brightening
  threshold and is learned), and the road it leaves is then darker than the
  background: a trail behind each vehicle. So darkening, too, is held to a
  higher threshold at night (``night_darken_threshold``).

Learning is selective: background pixels follow the scene at
``learn_rate``, pixels under a blob at ``foreground_learn_rate`` (none by
default: a passing vehicle leaves no trail, and a slow long vehicle is not
eaten from the inside). Ghosts, the print of a vehicle that stood during the
warm-up and has since left, are recognised by their outline (in the
background, not in the frame) and taken into the background at once; a
blob that stays for ``absorb_frames`` (a parked vehicle) is taken in too.
A slow uniform vehicle covering a strong static edge (a kerb) can look
like a ghost; so only regions foreground for 2 s in a row are judged
(``ghost_check_frames``; at 0.5 s day MOTA on the synthetic footage was
0.08 lower) and 65 % of their outline must agree. A faint ghost (a beam's
print at night) has no outline to judge; it is still: a blob whose pixels,
outline included, have all kept their level for ``still_frames`` is taken
in (a moving vehicle's outline moves, however uniform its inside).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from camera_registry.camera import Camera
from skynet.errors import BadInputError
from trackers._footprint import LampGeometry, body_boxes, camera_projection, single_lamp_boxes
from trackers._lamps import (
    BlobWindow,
    LampCores,
    LampGrouping,
    extents,
    find_cores,
    group_cores,
    split_by_lamps,
)
from trackers._split import SplitLimits, split_joined
from trackers.boxes import Detections

ImageU8 = NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class MotionConfig:
    """Parameters of :class:`MotionDetector` (thresholds in grey levels of the small image).

    The defaults were chosen on the synthetic footage of
    ``benchmarks/eval_tracking.py`` (day MOTA over 3 cameras × 300 frames;
    the alternatives' figures in brackets, against 0.59 for the defaults)
    and checked on the real highway clip of
    ``tests/trackers/test_real_footage.py``:

    * thresholds 14 / 24 (10 / 18: 0.54; 20 / 30: 0.37 at the time);
    * ``close_px`` 3 (5: 0.49, 7: 0.46; 0: 0.52): wider closing merges
      vehicles that follow each other;
    * ``min_height_share`` 0.065 of the frame height (0.05: 0.56; a fixed
      10 px: 0.54): smaller blobs are mostly far vehicles bunched together;
    * ``work_width`` 320 (240: 0.47, 400: 0.53 at the time).

    Later, on 3 seeds × 4 cameras × 400 frames (``benchmarks/eval_tracking.py
    --vehicles 800 --seed 1|2|3``), mean MOTA: ``chroma_threshold`` 8 to 40
    all gave day 0.80 (grey only: 0.70), but on the denser clip of
    ``tests/trackers/test_synthetic_tracking.py`` camera V04-E3 fell from
    0.65 to 0.33 at 12 or 16 (0.55 at 24, 0.66 at 30 and 40), so 30; at
    night the body's colour is faint and 12 does better (night mean 0.32,
    against 0.00 at 30: ``night_chroma_threshold``); ``night_close_px``
    5 and 11 were within 0.02; cutting at the headlights (``night_below``
    0 and ``night_side`` 0: -0.01) beat 0.5 / 0.5 (-0.34) and 2 / 1 (-0.50),
    and cutting above tail lights (``night_above`` 6, ``night_tail_side``
    0.5) added 0.1 (3 / 1: 0.02; 8 / 0: 0.09); ``night_ghost_gradient`` 30
    (outlines are fainter at night; 60 as by day: 0.11, 40: 0.21, 25: 0.32,
    20: 0.10, where noise starts to pass for outline) gave 0.32.

    Then (same 3 seeds × 4 cameras, night, object-weighted MOTA): the
    stillness rule (``still_frames`` 50: 0.37, 30: 0.39; without it 0.33)
    against ghosts the outline test misses, then ``night_darken_threshold``
    24 (0.56; 14 as by day: 0.39, 19: 0.50, 30 and 40: 0.55) against beam
    trails. ``still_threshold`` 6 grey levels on a 5 × 5 mean of the
    change (single pixels: sensor noise alone resets the count every few
    frames).

    Then, with the tracker sharing merged blobs among their tracks
    (:data:`trackers.track.MOTION_TRACKER`; day 0.808 / night 0.566):
    ``min_height_share`` 0.05, the evaluation's own don't-care height (day
    0.813, night 0.577; 0.057: 0.815 / 0.568; 0.045: as 0.05), and the night
    box drawn around the blob's body pixels (:meth:`MotionDetector._trim_to_body`,
    ``night_body_share`` 0.5: night 0.587; 0.4: 0.585, 0.65: 0.588; 0.1:
    0.566, where lamp-lit blobs lose their box to a few dark pixels). Tried
    and not kept: the cut below headlights moved up into the lamps' glare
    (``night_below`` -0.15 core heights: night 0.610, better on each seed,
    but the demo linked 30 of its 32 cameras instead of all: a box's bottom
    is the vehicle's ground contact; -0.08: 0.600, -0.2: 0.614, -0.3: 0.585);
    narrower than the lamps (``night_side`` -0.15: 0.563, -0.3: 0.441);
    ``night_above`` 9 with ``night_tail_side`` 0.25 (0.620, but seed 3 fell
    by 0.03); ``night_lamp_rise`` 90 (0.616; 50: 0.473), ``night_close_px`` 7
    (0.583).

    Then, checked on held-out seeds 4 and 5 too (day / night MOTA on seeds
    1-3, then 4-5; before: 0.813 / 0.587, 0.735 / 0.336): ``min_width_share``
    0.03 by day (was 0.045: an e-bike or motorbike seen from ahead, 15 px wide
    and 37 tall at 640 × 360, was dropped for narrow; day 0.818, 0.753; 0.02:
    0.818, 0.741; 0.035: 0.818, 0.751), kept at 0.045 by night
    (``night_min_width_share``: at 0.03 night 0.588, 0.319, narrow boxes there
    being lamp fragments); then blobs of two touching vehicles cut in two by
    day (``split``, :mod:`trackers._split`: 0.818, 0.786; at night too: night
    0.577, 0.304).

    Then, with the tracker joining the pieces of one tracked object
    (``join_fragments`` in :data:`trackers.track.MOTION_TRACKER`): a night blob
    holding the lamps of several vehicles cut into one part per vehicle
    (``night_split_lamps``, :mod:`trackers._lamps`; lamp cores of a pair at
    most ``night_lamp_gap`` core heights apart). Night 0.587 → 0.606 with the
    cut alone (held out 0.336 → 0.396), 0.623 with the join too (0.426); by
    day, where the cut does not act, 0.818 → 0.819 (held out 0.786 as before).

    Then, given the camera (``MotionDetector(camera=...)``, as the pipeline
    does), each night blob whose lamps make one group gets the box of the
    vehicle those lamps say stands there (``night_ground_bodies``,
    :mod:`trackers._footprint`): a pair's ground width picks car, van or
    truck. Night 0.623 → 0.691 (held out 0.426 → 0.645); ``night_pair_aspect``
    1.2 (one core holding both lamps' glare; 1.6: 0.673, 0.598, against
    0.675, 0.625 at the time). A single lamp's box too (``night_single_lamps``,
    e-bike or three-wheeler, whichever overlaps the blob more): night 0.710,
    held out 0.658, but off: ``skynet demo``'s target, a three-wheeler, then
    linked at 4 of its 32 cameras (likely taken for an e-bike where the
    narrower box won), and night J0002-W of ``tests/trackers/test_synthetic_tracking.py``
    fell from 0.77 to 0.70.
    """

    work_width: int = 320
    green_only: bool = False
    colour: bool = True
    chroma_threshold: float = 30.0
    darken_threshold: int = 14
    brighten_threshold: int = 24
    learn_rate: float = 0.02
    foreground_learn_rate: float = 0.0
    ghost_check_frames: int = 50
    ghost_outline_share: float = 0.65
    ghost_min_gradient: float = 60.0
    absorb_frames: int = 750
    still_frames: int = 30
    still_threshold: float = 6.0
    still_share: float = 0.97
    warmup_frames: int = 25
    warmup_stride: int = 2
    global_change_share: float = 0.5
    brightness_jump: float = 10.0
    relight_window: int = 31
    close_px: int = 3
    open_px: int = 2
    min_height_share: float = 0.05
    min_width_share: float = 0.03
    night_min_width_share: float = 0.045
    split: bool = True
    split_fill: float = 0.75
    split_area: float = 0.7
    split_part: float = 0.15
    split_part_fill: float = 0.6
    full_score_px: float = 60.0
    night_level: float = 60.0
    night_close_px: int = 11
    night_darken_threshold: float = 24.0
    night_chroma_threshold: float = 12.0
    night_ghost_gradient: float = 30.0
    night_body: bool = True
    night_body_share: float = 0.5
    night_lamps: bool = True
    night_lamp_rise: float = 70.0
    night_split_lamps: bool = True
    night_lamp_gap: float = 5.0
    night_below: float = 0.0
    night_side: float = 0.0
    night_above: float = 6.0
    night_tail_side: float = 0.5
    night_ground_bodies: bool = True
    night_pair_aspect: float = 1.2
    night_single_lamps: bool = False

    @property
    def warmup_length(self) -> int:
        """Frames without boxes at the start: ``warmup_frames`` samples, ``warmup_stride`` apart."""
        return (self.warmup_frames - 1) * self.warmup_stride + 1

    def __post_init__(self) -> None:
        checks = {
            "work_width": self.work_width >= 32,
            "darken_threshold": 0 < self.darken_threshold < 256,
            "brighten_threshold": 0 < self.brighten_threshold < 256,
            "learn_rate": 0.0 < self.learn_rate <= 1.0,
            "foreground_learn_rate": 0.0 <= self.foreground_learn_rate <= 1.0,
            "ghost_check_frames": self.ghost_check_frames >= 1,
            "ghost_outline_share": 0.0 < self.ghost_outline_share <= 1.0,
            "ghost_min_gradient": self.ghost_min_gradient >= 0.0,
            "absorb_frames": self.absorb_frames >= 1,
            "warmup_frames": self.warmup_frames >= 1,
            "warmup_stride": self.warmup_stride >= 1,
            "global_change_share": 0.0 < self.global_change_share <= 1.0,
            "brightness_jump": self.brightness_jump > 0.0,
            "relight_window": self.relight_window >= 3,
            "close_px": self.close_px >= 0,
            "open_px": self.open_px >= 0,
            "min_height_share": 0.0 <= self.min_height_share < 1.0,
            "min_width_share": 0.0 <= self.min_width_share < 1.0,
            "night_min_width_share": 0.0 <= self.night_min_width_share < 1.0,
            "split_fill": 0.0 <= self.split_fill <= 1.0,
            "split_area": 0.0 < self.split_area <= 1.0,
            "split_part": 0.0 <= self.split_part <= 0.5,
            "split_part_fill": 0.0 <= self.split_part_fill <= 1.0,
            "full_score_px": self.full_score_px > 0.0,
            "still_frames": self.still_frames >= 1,
            "still_threshold": self.still_threshold > 0.0,
            "still_share": 0.0 < self.still_share <= 1.0,
            "chroma_threshold": self.chroma_threshold > 0.0,
            "night_chroma_threshold": self.night_chroma_threshold > 0.0,
            "night_level": 0.0 <= self.night_level <= 255.0,
            "night_close_px": self.night_close_px >= 0,
            "night_darken_threshold": self.night_darken_threshold > 0.0,
            "night_ghost_gradient": self.night_ghost_gradient >= 0.0,
            "night_lamp_rise": 0.0 < self.night_lamp_rise < 255.0,
            "night_body_share": 0.0 <= self.night_body_share <= 1.0,
            "night_below": self.night_below >= 0.0,
            "night_side": self.night_side >= 0.0,
            "night_above": self.night_above >= 0.0,
            "night_tail_side": self.night_tail_side >= 0.0,
            "night_pair_aspect": self.night_pair_aspect > 0.0,
        }
        for name, ok in checks.items():
            if not ok:
                msg = f"out of range: {getattr(self, name)}"
                raise BadInputError(msg, source="MotionConfig", field=name)


class MotionDetector:
    """Background-subtraction detector for one feed; call :meth:`detect` on its frames in order.

    Scores grow with a blob's height (full at ``full_score_px`` full-resolution
    pixels) and its extent (share of its box it fills): a large solid blob is
    a confident vehicle; a thin or ragged one only extends an existing track
    (see :class:`trackers.track.TrackerConfig`'s score split). ``night`` says
    whether the night rules are in force (judged from the background each
    time it is learned or re-learned); ``relearned`` counts lighting changes.
    """

    def __init__(self, config: MotionConfig | None = None, *, camera: Camera | None = None) -> None:
        self.config = config if config is not None else MotionConfig()
        self._camera = camera
        self._lamp_geometry: LampGeometry | None = None
        self._work_box = np.zeros(4)  # (width, height, width, height) of the work image
        self._background: NDArray[np.float32] | None = None
        self._warmup: list[NDArray[np.float32]] = []
        self._streak = np.zeros((0, 0), dtype=np.uint16)
        self._last_mask = np.zeros((0, 0), dtype=np.uint8)
        # the snapshots the stillness test compares with, and the latest
        self._snapshots: deque[NDArray[np.float32]] = deque(maxlen=_SNAPSHOTS + 1)
        self._snapshot_age = 0
        self._learned = 0
        self._scale = 1.0
        self._step = 1
        self._frame_size = (0, 0)
        self._work_size = (0, 0)
        self._close = _kernel(self.config.close_px)
        self._open = _kernel(self.config.open_px)
        self._night_close = _kernel(self.config.night_close_px)
        self.relearned = 0
        self.night = False

    @property
    def ready(self) -> bool:
        """Whether the background is learned (boxes are reported)."""
        return self._background is not None and self._learned >= self.config.warmup_length

    def reset(self) -> None:
        """Forget the background (a new clip, or a camera that moved)."""
        self._background = None
        self._warmup = []
        self._streak = np.zeros((0, 0), dtype=np.uint16)
        self._last_mask = np.zeros((0, 0), dtype=np.uint8)
        self._snapshots.clear()
        self._snapshot_age = 0
        self._learned = 0
        self.night = False

    def prime(self, images: Sequence[ImageU8]) -> None:
        """Learn the background at once from frames spread over a recorded clip.

        The per-pixel median of the samples drops vehicles that cover a pixel
        in fewer than half of them, so a clip whose first seconds already
        show traffic is detected from its first frame, with no warm-up.
        """
        if not images:
            return
        height, width = images[0].shape[:2]
        self._set_size(width, height)
        greys = [self._small_image(image) for image in images]  # whole values, as uint8
        # the samples as planes (no stack to copy back out), sorted in place unless
        # one is the caller's frame itself (a frame at the working size)
        mine = not any(np.may_share_memory(g, i) for g, i in zip(greys, images, strict=True))
        self._start(pixel_median(greys, overwrite=mine))
        self._warmup = []
        self._learned = self.config.warmup_length
        self._judge_night()

    def detect(self, image: ImageU8) -> Detections:
        """Moving blobs of ``image`` (BGR, BGRA or grey uint8) as full-resolution boxes."""
        grey = self._small_grey(image)
        self._keep_snapshot(grey)
        if self._background is None:
            self._start(grey)
            return Detections.empty()
        if not self.ready:
            self._learn_warmup(grey)
            return Detections.empty()
        background = self._background
        difference = grey - background
        chroma = None
        if difference.ndim == 3:  # cv2: numpy reductions over the channel axis are slow
            # one single-row transform per plane: less than half the cost of one and a split
            planes = [np.asarray(cv2.transform(difference, row)) for row in _OPPONENT_ROWS]
            difference = np.asarray(planes[0], dtype=np.float32)
            chroma = np.abs(planes[1], out=planes[1])  # in place: the planes are ours
            chroma += np.abs(planes[2], out=planes[2])
        darken = self.config.night_darken_threshold if self.night else self.config.darken_threshold
        moving = difference > self.config.brighten_threshold
        moving |= difference < -darken
        if chroma is not None:
            night = self.night
            moving |= chroma > (
                self.config.night_chroma_threshold if night else self.config.chroma_threshold
            )
        mask = moving.view(np.uint8)
        if self._is_global_change(mask, difference):
            self.relearned += 1
            self._relight(grey)
            return Detections.empty()
        mask = self._clean(mask)
        self._last_mask = mask
        if not cv2.countNonZero(mask):
            self._learn_empty(grey)
            return Detections.empty()
        self._update_streak(mask)
        # judged on snapshot frames only (every ``still_frames // 3``): a ghost
        # goes a few frames later, and the common frame pays nothing
        ghost = self._ghost_pixels(grey, mask) if self._snapshot_age == 0 else None
        if ghost is not None:
            self._absorb(grey, mask, ghost)
        self._learn_selective(grey, mask)
        # BBDT: the same components, 2.5x faster than the default algorithm here
        found = cv2.connectedComponentsWithStatsWithAlgorithm(mask, 8, cv2.CV_32S, cv2.CCL_BBDT)
        stats = np.asarray(found[2])[1:].astype(np.float64)
        if self.config.split and not self.night and stats.shape[0]:
            stats = self._split(stats, np.asarray(found[1], dtype=np.int32))
        if self.night and stats.shape[0] and chroma is not None:
            # the night steps read pixels of the blobs only: all lie in this window
            window = BlobWindow.around(stats)
            labels = np.asarray(window.crop(np.asarray(found[1], dtype=np.int32)))
            difference, chroma = window.crop(difference), window.crop(chroma)
            cores = find_cores(labels, difference, chroma, self.config.night_lamp_rise)
            grouping = LampGrouping(
                rise=self.config.night_lamp_rise, max_gap=self.config.night_lamp_gap
            )
            groups = group_cores(cores, grouping)  # a core's group stays its own through the cut
            if self.config.night_split_lamps:
                stats, labels, cores = split_by_lamps(
                    stats, labels, cores, window, grouping, groups=groups
                )
            if self.config.night_body:
                stats = self._trim_to_body(stats, labels, difference, chroma, window)
            if self.config.night_lamps:
                stats = self._trim_to_lamps(stats, cores, window)
            if self._lamp_geometry is not None and self.config.night_ground_bodies:
                stats = self._fit_bodies(stats, cores, groups, window)
        return self._boxes(stats)

    # ------------------------------------------------------------ background
    def _small_grey(self, image: ImageU8) -> NDArray[np.float32]:
        """:meth:`_small_image` as float32, what the per-frame arithmetic works on."""
        return np.asarray(self._small_image(image), dtype=np.float32)

    def _small_image(self, image: ImageU8) -> NDArray[np.uint8]:
        """The frame as a small float image: BGR (``colour``, the default) or grey.

        The only full-resolution work of the detector, so: a subsample of
        every ``step``-th pixel to twice the working size or so, then an
        area average down to the working size (which averages sensor noise).
        At 1280×720 the subsample costs about 0.2 ms, the rest 0.05 ms;
        ``green_only`` (the green channel's subsample, grey) costs 0.09 ms
        in all, for 0.03 less day MOTA on the synthetic footage (grey only).
        """
        if image.ndim != 2 and not (image.ndim == 3 and image.shape[2] in (3, 4)):
            msg = f"expected an H x W x 3 image, got shape {image.shape}"
            raise BadInputError(msg, source="MotionDetector", field="image")
        height, width = image.shape[:2]
        if (width, height) != self._frame_size:
            self._set_size(width, height)
        if self.config.green_only and image.ndim == 3:
            image = np.ascontiguousarray(image[:: self._step, :: self._step, 1])
        elif self._step > 1:  # nearest-neighbour: a subsample, no arithmetic
            size = (width // self._step, height // self._step)
            image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_NEAREST))
        small: NDArray[np.uint8] = image
        if image.ndim == 3:
            if not self.config.colour:
                code = cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
                small = np.asarray(cv2.cvtColor(image, code), dtype=np.uint8)
            elif image.shape[2] == 4:
                small = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGRA2BGR), dtype=np.uint8)
        if (small.shape[1], small.shape[0]) != self._work_size:
            resized = cv2.resize(small, self._work_size, interpolation=cv2.INTER_AREA)
            small = np.asarray(resized, dtype=np.uint8)
        return small

    def _set_size(self, width: int, height: int) -> None:
        """Working size for frames of ``width × height``; a new size starts over."""
        work_width = min(self.config.work_width, width)
        self._scale = width / work_width
        self._step = max(int(self._scale // 2), 1)
        self._frame_size = (width, height)
        self._work_size = (work_width, max(round(height / self._scale), 1))
        self._work_box = np.array([*self._work_size, *self._work_size], dtype=np.float64)
        self._lamp_geometry = self._work_geometry()
        self.reset()

    def _work_geometry(self) -> LampGeometry | None:
        """The camera's lamp maps in work-image pixels, if it has a homography."""
        camera = self._camera
        if camera is None or camera.homography_matrix is None:
            return None
        full = camera_projection(camera.homography_matrix, camera.image_width, camera.image_height)
        if full is None:
            return None
        to_work = np.diag(
            [self._work_size[0] / camera.image_width, self._work_size[1] / camera.image_height, 1.0]
        )
        return LampGeometry.of(np.asarray(to_work @ full, dtype=np.float64))

    def _start(self, grey: NDArray[np.float32]) -> None:
        """Begin (re-)learning the background from this frame."""
        self._background = grey.copy()
        self._streak = np.zeros(grey.shape[:2], dtype=np.uint16)
        self._warmup = [grey]
        self._learned = 1

    def _learn_warmup(self, grey: NDArray[np.float32]) -> None:
        """Warm-up: the background becomes the per-pixel median of the frames so far.

        A median, unlike a mean, drops a vehicle that covers a pixel in fewer
        than half of the frames, so no ghost is left where it was.
        """
        self._learned += 1
        if (self._learned - 1) % self.config.warmup_stride == 0:
            self._warmup.append(grey)
        if self.ready:
            self._background = np.median(np.stack(self._warmup), axis=0).astype(np.float32)
            self._warmup = []
            self._judge_night()

    def _relight(self, grey: NDArray[np.float32]) -> None:
        """Re-learn the background at once after a lighting change.

        The new frame becomes the background, except under the blobs of the
        previous frame (vehicles, which must not become ghosts): there the old
        background is mapped through the change measured around them. First a
        global affine fit ``new ≈ gain · old + offset`` per colour channel over
        background pixels (an exposure step is a gain, light added to the
        scene an offset: with colour, an additive shift alone leaves a colour
        error after an exposure step), then the local mean of what that fit
        leaves (normalised box filter, ``relight_window`` pixels of the small
        image), so that a beam lighting part of the picture is followed too.
        """
        assert self._background is not None
        old = self._background
        under = cv2.dilate(self._last_mask, self._close) if self._close is not None else None
        if under is None or under.shape != grey.shape[:2] or not cv2.countNonZero(under):
            self._background = grey.copy()
            self._judge_night()
            return
        sample = under[::4, ::4] == 0
        was, now = old[::4, ::4][sample], grey[::4, ::4][sample]
        was_mean, now_mean = was.mean(axis=0), now.mean(axis=0)
        spread = ((was - was_mean) ** 2).sum(axis=0) + _RELIGHT_EPS * max(len(was), 1)
        gain = ((was - was_mean) * (now - now_mean)).sum(axis=0) / spread
        mapped = np.asarray(gain * (old - was_mean) + now_mean, dtype=np.float32)
        free = (under == 0).astype(np.float32)
        window = (self.config.relight_window, self.config.relight_window)
        weight = cv2.blur(free, window)
        if grey.ndim == 3:
            free, weight = free[..., None], weight[..., None]
        change = cv2.blur((grey - mapped) * free, window)
        shift = np.where(weight > 0.05, change / np.maximum(weight, 1e-6), 0.0)
        relit = np.clip(mapped + shift, 0.0, 255.0).astype(np.float32)
        background = grey.copy()
        cv2.copyTo(relit, under, background)
        self._background = background
        self._judge_night()

    def _trim_to_body(
        self,
        stats: NDArray[np.float64],
        labels: NDArray[np.int32],
        difference: NDArray[np.float32],
        chroma: NDArray[np.float32],
        window: BlobWindow,
    ) -> NDArray[np.float64]:
        """Night: each blob's box drawn around its body, not around the light it casts.

        A headlight beam or a lamp's glare brightens the road without
        changing its colour; a body darkens it or changes its colour. Where
        such body pixels (darker than ``night_darken_threshold``, or colour
        change past ``night_chroma_threshold``) make up ``night_body_share``
        of a blob, its box becomes theirs. The mask itself is kept whole
        (removing the lit pixels from it split bodies into fragments).
        """
        config = self.config
        body = (difference < -config.night_darken_threshold) | (
            chroma > config.night_chroma_threshold
        )
        rows, cols = np.nonzero(body & (labels > 0))
        if rows.size == 0:
            return stats
        owner = labels[rows, cols]
        rows, cols = rows + window.top, cols + window.left
        count = stats.shape[0] + 1
        top, bottom, left, right = extents(owner, rows, cols, count)
        pixels = np.bincount(owner, minlength=count)[1:]
        enough = (pixels > 0) & (pixels >= config.night_body_share * stats[:, cv2.CC_STAT_AREA])
        out = stats.copy()
        out[:, 0] = np.where(enough, left, stats[:, 0])
        out[:, 1] = np.where(enough, top, stats[:, 1])
        out[:, 2] = np.where(enough, right - left, stats[:, 2])
        out[:, 3] = np.where(enough, bottom - top, stats[:, 3])
        return out

    def _trim_to_lamps(
        self, stats: NDArray[np.float64], cores: LampCores, window: BlobWindow
    ) -> NDArray[np.float64]:
        """Cut the headlight beam out of blobs that hold lamps.

        A lamp is a much brightened core: white (colourless) at the front of
        a vehicle, red at the back. The beam lies on the road ahead of the
        vehicle, which the camera sees below the headlights of a vehicle
        coming towards it, and above the tail lights (beyond the body) of
        one going away. So a blob with headlights is cut ``night_below``
        core heights below its lowest one; one with only tail lights is cut
        ``night_above`` core heights above its highest one and
        ``night_side`` core heights beside them.
        """
        config = self.config
        if cores.owner.size == 0:
            return stats
        count = stats.shape[0] + 1
        out = stats.copy()
        x, y, w, h = (out[:, k] for k in range(4))
        heads, tails = cores.extents(window, count)
        has_head = np.isfinite(heads[0])
        size = np.where(has_head, heads[1] - heads[0], 0.0)
        bottom = np.where(has_head, np.minimum(y + h, heads[1] + config.night_below * size), y + h)
        left = np.where(has_head, np.maximum(x, heads[2] - config.night_side * size), x)
        right = np.where(has_head, np.minimum(x + w, heads[3] + config.night_side * size), x + w)
        tail_only = np.isfinite(tails[0]) & ~has_head
        size = np.where(tail_only, tails[1] - tails[0], 0.0)
        top = np.where(tail_only, np.maximum(y, tails[0] - config.night_above * size), y)
        side = config.night_tail_side * size
        left = np.where(tail_only, np.maximum(x, tails[2] - side), left)
        right = np.where(tail_only, np.minimum(x + w, tails[3] + side), right)
        out[:, 0], out[:, 1] = left, top
        out[:, 2] = np.maximum(right - left, 1.0)
        out[:, 3] = np.maximum(bottom - top, 1.0)
        return out

    def _fit_bodies(
        self,
        stats: NDArray[np.float64],
        cores: LampCores,
        groups: tuple[NDArray[np.intp], int],
        window: BlobWindow,
    ) -> NDArray[np.float64]:
        """Night: a vehicle's box from its lamps on the ground (:mod:`trackers._footprint`).

        The blob's own box holds beam and glare, or only the lamps of a dark
        body; its lamps say where the vehicle stands. Each blob whose lamps
        make one group gets the box of that group's vehicle: for a pair (two
        or more cores, the outermost two; or one core ``night_pair_aspect``
        times as wide as tall, both lamps' glare run together, their centres
        half its height in from its ends) the box of the class its width
        picks; with ``night_single_lamps``, for a single round lamp (an e-bike
        or a three-wheeler, seen head-on) whichever of the two classes' boxes overlaps the blob's
        most (the glare swells the blob, but less than the classes differ).
        """
        geometry = self._lamp_geometry
        assert geometry is not None
        group, count = groups
        if count == 0:
            return stats
        members = np.bincount(group, minlength=count)
        x = cores.centres[:, 0]
        order = np.argsort(x, kind="stable")
        lo, hi = np.empty(count, dtype=np.intp), np.empty(count, dtype=np.intp)
        lo[group[order[::-1]]] = order[::-1]  # the last write wins: the leftmost core
        hi[group[order]] = order
        box = cores.boxes
        blob = cores.owner[lo]
        alone = np.bincount(blob, minlength=stats.shape[0] + 1)[blob] == 1
        wide = box[lo, 2] >= self.config.night_pair_aspect * box[lo, 3]
        paired = alone & ((members >= 2) | wide)
        single = alone & ~paired & self.config.night_single_lamps
        centres = cores.centres + np.array([window.left, window.top], dtype=np.float64)
        frame = self._work_box
        rows, boxes = [], []
        if paired.any():
            pl, ph = lo[paired], hi[paired]
            first, second = centres[pl], centres[ph]
            # one wide core: its lamps' centres half its height in from its ends
            inset = np.where(members[paired] == 1, 0.5 * box[pl, 3], np.nan)
            merged = ~np.isnan(inset)
            left = window.left + inset
            first[:, 0] = np.where(merged, box[pl, 0] + left, first[:, 0])
            second[:, 0] = np.where(
                merged, box[ph, 0] + box[ph, 2] - inset + window.left, second[:, 0]
            )
            rows.append(blob[paired])
            boxes.append(body_boxes(geometry, first, second, cores.white[pl]))
        if single.any():
            sl = lo[single]
            options = single_lamp_boxes(geometry, centres[sl], cores.white[sl])
            options = np.minimum(np.maximum(options, 0.0), frame)  # as the blob: in the picture
            rows.append(blob[single])
            boxes.append(_best_fit(options, stats[blob[single] - 1]))
        if not rows:
            return stats
        row = (rows[0] if len(rows) == 1 else np.concatenate(rows)) - 1
        fit = np.minimum(
            np.maximum(boxes[0] if len(boxes) == 1 else np.concatenate(boxes), 0.0), frame
        )
        ok = (fit[:, 2] > fit[:, 0] + 1.0) & (fit[:, 3] > fit[:, 1] + 1.0)  # NaN: False
        row, fit = row[ok], fit[ok]
        out = stats.copy()
        out[row, :2] = fit[:, :2]
        out[row, 2:4] = fit[:, 2:] - fit[:, :2]
        return out

    def _split(self, stats: NDArray[np.float64], labels: NDArray[np.int32]) -> NDArray[np.float64]:
        """By day, blobs of two vehicles that touch cut into their parts (:mod:`trackers._split`).

        Not at night, where a blob's lamps, glare and dark body make the
        same L and T shapes (night MOTA 0.587 → 0.577 with it).
        """
        config = self.config
        work_pixels = self._frame_size[1] / self._scale  # the smallest box, in work pixels
        limits = SplitLimits(
            max_fill=config.split_fill,
            max_area_share=config.split_area,
            min_part_share=config.split_part,
            min_part_fill=config.split_part_fill,
            min_width=config.min_width_share * work_pixels,
            min_height=config.min_height_share * work_pixels,
        )
        return split_joined(stats, labels, limits)

    def _judge_night(self) -> None:
        """Night mode when the learned background is dark.

        The synthetic footage's backgrounds have median grey 83-98 by day
        and 6-45 by night.
        """
        assert self._background is not None
        self.night = float(np.median(self._background[::4, ::4])) < self.config.night_level

    def _update_streak(self, mask: ImageU8) -> None:
        """Frames each pixel has been foreground in a row."""
        if self._streak.shape != mask.shape:
            self._streak = np.zeros(mask.shape, dtype=np.uint16)
        cv2.add(self._streak, _ONE, dst=self._streak)  # saturating: the longest streak stays
        self._streak *= mask

    def _keep_snapshot(self, grey: NDArray[np.float32]) -> None:
        """Every ``still_frames // 3`` frames, keep the frame's grey level for the stillness test.

        The ghost tests run only on these frames (a ghost is taken in at most
        that many frames later), the stillness test against the three
        snapshots before, which span ``still_frames``.
        """
        self._snapshot_age += 1
        if self._snapshot_age < max(self.config.still_frames // 3, 1):
            return
        self._snapshot_age = 0
        level = _grey_level(grey)
        if self._snapshots and self._snapshots[-1].shape != level.shape:
            self._snapshots.clear()
        self._snapshots.append(level)

    def _still_blobs(self, mask: ImageU8) -> NDArray[np.bool_] | None:
        """Pixels of the blobs of ``mask`` that have not moved for ``still_frames``.

        A blob whose pixels, outline included, have all (``still_share``) kept
        their level at each snapshot over the last ``still_frames`` frames is
        not a vehicle passing: it is a ghost (a beam or a vehicle learned
        into the background) or a vehicle that stopped. The outline test
        misses ghosts whose print is faint, such as a headlight beam's at
        night; a moving vehicle, however uniform its inside, has a moving
        outline. Snapshots over a second apart, not consecutive frames, so a
        far vehicle creeping towards the horizon (a fraction of a pixel a
        frame) counts as moving. The change is averaged over 5 × 5 pixels:
        sensor noise alone exceeds any useful threshold at single pixels.
        Called on snapshot frames, so the latest snapshot is this frame's level.
        """
        snapshots = self._snapshots
        if len(snapshots) <= _SNAPSHOTS or snapshots[0].shape != mask.shape:
            return None
        level = snapshots[-1]
        still = np.ones(mask.shape, dtype=bool)
        for index in range(_SNAPSHOTS):
            change = np.abs(np.asarray(cv2.blur(level - snapshots[index], (5, 5)), np.float32))
            still &= change < self.config.still_threshold
        count, labels = cv2.connectedComponents(mask, connectivity=8)
        if count <= 1:
            return None
        flat = labels.ravel()
        size = np.maximum(np.bincount(flat, minlength=count), 1)
        share = np.bincount(flat, weights=still.ravel(), minlength=count) / size
        ghosts = share >= self.config.still_share
        ghosts[0] = False
        if not ghosts.any():
            return None
        return np.asarray(ghosts[labels], dtype=bool)

    def _ghost_pixels(self, grey: NDArray[np.float32], mask: ImageU8) -> ImageU8 | None:
        """Pixels to take into the background now (ghosts, parked vehicles), or None.

        Pixels foreground for more than ``ghost_check_frames`` in a row are
        examined as regions of their own (so a vehicle passing over a ghost
        is not judged with it). A ghost, the print of something that left
        the background, has its outline in the background image and not in
        the frame: most of its outline pixels (``ghost_outline_share``) have
        a strong gradient (``ghost_min_gradient``) in the background and a
        weak one in the frame. The long-covered interior of a slow vehicle
        has no outline in either, and a vehicle standing still has it in the
        frame. Shares are computed per region with ``bincount``. Pixels
        foreground for ``absorb_frames`` (a parked vehicle) go in too.
        """
        config = self.config
        old = (self._streak > config.ghost_check_frames).view(np.uint8)
        if not cv2.countNonZero(old):
            return None
        still = self._still_blobs(mask)
        assert self._background is not None
        count, labels = cv2.connectedComponents(old, connectivity=8)
        outline = (old > cv2.erode(old, _CROSS)) & (labels > 0)
        where = labels[outline]
        strong = config.night_ghost_gradient if self.night else config.ghost_min_gradient
        edge_in_background = _gradient(self._background)[outline] > strong
        edge_in_frame = _gradient(grey)[outline] > strong
        length = np.maximum(np.bincount(where, minlength=count), 1)
        background_share = np.bincount(where, weights=edge_in_background, minlength=count) / length
        frame_share = np.bincount(where, weights=edge_in_frame, minlength=count) / length
        ghosts = (background_share > config.ghost_outline_share) & (
            frame_share < config.ghost_outline_share / 2
        )
        ghosts[0] = False
        region = ghosts[labels] | (self._streak > config.absorb_frames)
        if still is not None:
            region |= still
        return region.view(np.uint8) if region.any() else None

    def _absorb(self, grey: NDArray[np.float32], mask: ImageU8, region: ImageU8) -> None:
        """Take ``region`` of the frame into the background (a ghost or a parked vehicle)."""
        assert self._background is not None
        cv2.copyTo(grey, region, self._background)
        self._streak *= 1 - region
        mask *= 1 - region

    def _learn_empty(self, grey: NDArray[np.float32]) -> None:
        """A frame where nothing moves (about half of a motion-triggered clip's): all learned.

        The same state as the general path, without its components, streak
        arithmetic and masked learning: no streak survives an empty mask, so
        no ghost test can fire.
        """
        assert self._background is not None
        if self._streak.shape != grey.shape[:2]:
            self._streak = np.zeros(grey.shape[:2], dtype=np.uint16)
        else:
            self._streak.fill(0)
        cv2.accumulateWeighted(grey, self._background, self.config.learn_rate)

    def _learn_selective(self, grey: NDArray[np.float32], mask: ImageU8) -> None:
        """Follow the scene where nothing moves (and, slowly or not, under blobs)."""
        assert self._background is not None
        config = self.config
        cv2.accumulateWeighted(grey, self._background, config.learn_rate, mask=1 - mask)
        if config.foreground_learn_rate > 0.0:
            cv2.accumulateWeighted(grey, self._background, config.foreground_learn_rate, mask=mask)

    def _is_global_change(self, mask: ImageU8, difference: NDArray[np.float32]) -> bool:
        """A lighting change rather than motion: most of the frame, or its median, moved.

        The median shift (on a sparse grid: cheap) ignores a vehicle, however
        big and bright, until it fills half the picture; a mean would not.
        """
        if cv2.countNonZero(mask) > self.config.global_change_share * mask.size:
            return True
        return abs(_median(difference[::4, ::4])) > self.config.brightness_jump

    # ----------------------------------------------------------------- boxes
    def _clean(self, mask: ImageU8) -> ImageU8:
        """Speckle out, holes and gaps inside a vehicle closed."""
        cleaned = mask
        if self._open is not None:
            cleaned = np.asarray(cv2.morphologyEx(cleaned, cv2.MORPH_OPEN, self._open), np.uint8)
        close = self._night_close if self.night else self._close
        if close is not None:
            cleaned = _closed(cleaned, close)
        return cleaned

    def _boxes(self, blobs: NDArray[np.float64]) -> Detections:
        """Component stats (x, y, w, h, area) → scored full-resolution boxes, small ones dropped."""
        if blobs.shape[0] == 0:
            return Detections.empty()
        scale_x = self._frame_size[0] / self._work_size[0]
        scale_y = self._frame_size[1] / self._work_size[1]
        x, w = blobs[:, 0] * scale_x, blobs[:, 2] * scale_x
        y, h = blobs[:, 1] * scale_y, blobs[:, 3] * scale_y
        config = self.config
        frame_height = self._frame_size[1]
        narrowest = config.night_min_width_share if self.night else config.min_width_share
        keep = (h >= config.min_height_share * frame_height) & (w >= narrowest * frame_height)
        if not keep.any():
            return Detections.empty()
        extent = blobs[:, cv2.CC_STAT_AREA] / np.maximum(blobs[:, 2] * blobs[:, 3], 1.0)
        size = np.minimum(h / config.full_score_px, 1.0)
        scores = np.clip(0.25 + 0.75 * np.sqrt(size * np.minimum(extent / 0.6, 1.0)), 0.0, 1.0)
        boxes = np.column_stack([x, y, x + w, y + h])[keep]
        return Detections(boxes, scores[keep])


#: Regularises the relighting gain of a background with little texture (grey levels²).
_RELIGHT_EPS = 4.0
_MEAN = np.full((1, 3), 1.0 / 3.0, dtype=np.float32)
#: A BGR change as grey (channel mean) and two colour-opponent axes (red-green,
#: blue-yellow), both zero for a change of brightness alone.
_GREY_OPPONENT = np.array(
    [[1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0], [0.0, -1.0, 1.0], [1.0, -0.5, -0.5]], dtype=np.float32
)
_ONE = np.ones((1, 1), dtype=np.float64)  # cv2.add's scalar operand
_OPPONENT_ROWS = tuple(np.ascontiguousarray(_GREY_OPPONENT[i : i + 1]) for i in range(3))
#: Snapshots the stillness test compares a blob with (spanning ``still_frames``).
_SNAPSHOTS = 3


def _best_fit(options: NDArray[np.float64], stats: NDArray[np.float64]) -> NDArray[np.float64]:
    """Of each row's candidate boxes ``(k, c, 4)``, the one overlapping its blob's box most."""
    x0, y0 = stats[:, 0:1], stats[:, 1:2]
    x1, y1 = x0 + stats[:, 2:3], y0 + stats[:, 3:4]
    width = np.minimum(x1, options[..., 2]) - np.maximum(x0, options[..., 0])
    height = np.minimum(y1, options[..., 3]) - np.maximum(y0, options[..., 1])
    inter = np.maximum(width, 0.0) * np.maximum(height, 0.0)
    area = (options[..., 2] - options[..., 0]) * (options[..., 3] - options[..., 1])
    iou = inter / (stats[:, 2:3] * stats[:, 3:4] + area - inter)
    best = np.where(np.isnan(iou), -1.0, iou).argmax(axis=1)
    return np.asarray(options[np.arange(best.size), best], dtype=np.float64)


def _grey_level(image: NDArray[np.float32]) -> NDArray[np.float32]:
    """The channel mean of a small BGR image (a grey image as it is)."""
    if image.ndim == 2:
        return image
    return np.asarray(cv2.transform(image, _MEAN), dtype=np.float32).reshape(image.shape[:2])


_CROSS = np.asarray(cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3)), dtype=np.uint8)


def _median(values: NDArray[np.float32]) -> float:
    """``np.median`` of a small array, the same value without its checks (a third faster)."""
    flat = values.ravel()
    middle = flat.size // 2
    if flat.size % 2:
        return float(np.partition(flat, middle)[middle])
    part = np.partition(flat, [middle - 1, middle])
    return float((part[middle - 1] + part[middle]) / part.dtype.type(2))


def _gradient(image: NDArray[np.float32]) -> NDArray[np.float32]:
    """Gradient magnitude (L1 of the Sobel pair) of the grey level: where outlines are."""
    image = _grey_level(image)
    gx = cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(image, cv2.CV_32F, 0, 1, ksize=3)
    return np.asarray(np.abs(gx) + np.abs(gy), dtype=np.float32)


def _closed(mask: ImageU8, kernel: NDArray[np.uint8]) -> ImageU8:
    """``mask`` closed with ``kernel``; a wide kernel only around the foreground.

    A closing reaches at most a kernel's size beyond the foreground's
    bounding box (dilation one radius out, erosion reading one more), so
    closing that box padded by the kernel's size gives the same pixels. The
    night's 11-pixel ellipse costs about 0.24 ms on the whole 320 × 180
    work image; vehicles at night cover a small part of it.
    """
    size = kernel.shape[0]
    if size <= _WHOLE_CLOSE_PX:  # cheap already: the box would cost as much as it saves
        return np.asarray(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel), np.uint8)
    x, y, w, h = cv2.boundingRect(mask)
    if w == 0:
        return mask
    height, width = mask.shape
    rows = slice(max(y - size, 0), min(y + h + size, height))
    cols = slice(max(x - size, 0), min(x + w + size, width))
    out = np.zeros_like(mask)
    out[rows, cols] = cv2.morphologyEx(
        np.ascontiguousarray(mask[rows, cols]), cv2.MORPH_CLOSE, kernel
    )
    return out


#: Closing kernels up to this size run on the whole image (see :func:`_closed`).
_WHOLE_CLOSE_PX = 5


def _kernel(size: int) -> NDArray[np.uint8] | None:
    """An elliptic structuring element, or none for size 0."""
    if size <= 0:
        return None
    return np.asarray(cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)), dtype=np.uint8)


def pixel_median(
    stack: NDArray[np.uint8] | Sequence[NDArray[np.uint8]], *, overwrite: bool = False
) -> NDArray[np.float32]:
    """Median over the last axis, as ``np.median`` gives it, about ten times faster.

    For the few samples a clip's prime takes, an odd-even transposition
    network of whole-plane ``minimum``/``maximum`` sorts every pixel's
    samples at once; numpy's median partitions each pixel's samples apart.
    ``stack`` may also be the samples themselves, a sequence of same-shaped
    planes (no stacked copy to take apart again: a prime's planes were made
    one by one), sorted in place with ``overwrite`` (else copied first).
    """
    if isinstance(stack, np.ndarray):
        count = stack.shape[-1]
        if count > _NETWORK_LIMIT:
            return np.median(stack.astype(np.float32), axis=-1).astype(np.float32)
        planes = [np.ascontiguousarray(stack[..., i]) for i in range(count)]
    else:
        count = len(stack)
        if count > _NETWORK_LIMIT:
            return pixel_median(np.stack(stack, axis=-1))
        planes = list(stack) if overwrite else [np.array(plane, copy=True) for plane in stack]
    spare = np.empty_like(planes[0])
    for round_ in range(count):
        for i in range(round_ % 2, count - 1, 2):
            low = np.minimum(planes[i], planes[i + 1], out=spare)
            np.maximum(planes[i], planes[i + 1], out=planes[i + 1])
            spare = planes[i]
            planes[i] = low
    middle = count // 2
    if count % 2:
        return np.asarray(planes[middle], dtype=np.float32)
    low = np.asarray(planes[middle - 1], dtype=np.float32)
    return np.asarray((low + planes[middle]) * np.float32(0.5), dtype=np.float32)


#: Most samples sorted by the network (its cost grows with their square).
_NETWORK_LIMIT = 32
