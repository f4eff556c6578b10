"""The default detector: moving blobs against a learned background.

Each frame is reduced to a small grey image (``work_width`` pixels wide,
averaging pixels, which also averages sensor noise away), compared with a
running-average background, thresholded, cleaned with morphology, and its
connected components become boxes scaled back to full resolution. Every
step is one OpenCV call or one array expression; there is no loop over
pixels or blobs.

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
* **Night.** Headlight beams brighten the road ahead of a vehicle by a
  moderate amount; lamps and glare saturate. Brightening is held to a
  higher threshold (``brighten_threshold``) than darkening, so that faint
  light on the road stays background. This is not enough: beams still
  merge with the vehicle into one long box, and dark bodies on unlit road
  are missed, so night tracking is poor (see ``benchmarks/eval_tracking.py``).
  Two further rules were measured and dropped for doing no better: a
  low-quantile background with a higher brightening threshold at night,
  and counting only brightening at night.

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
0.08 lower) and 65 % of their outline must agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from skynet.errors import BadInputError
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
    """

    work_width: int = 320
    green_only: bool = False
    darken_threshold: int = 14
    brighten_threshold: int = 24
    learn_rate: float = 0.02
    foreground_learn_rate: float = 0.0
    ghost_check_frames: int = 50
    ghost_outline_share: float = 0.65
    ghost_min_gradient: float = 60.0
    absorb_frames: int = 750
    warmup_frames: int = 25
    warmup_stride: int = 2
    global_change_share: float = 0.5
    brightness_jump: float = 10.0
    relight_window: int = 31
    close_px: int = 3
    open_px: int = 2
    min_height_share: float = 0.065
    min_width_share: float = 0.045
    full_score_px: float = 60.0

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
            "full_score_px": self.full_score_px > 0.0,
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
    (see :class:`trackers.track.TrackerConfig`'s score split).
    """

    def __init__(self, config: MotionConfig | None = None) -> None:
        self.config = config if config is not None else MotionConfig()
        self._background: NDArray[np.float32] | None = None
        self._warmup: list[NDArray[np.float32]] = []
        self._streak = np.zeros((0, 0), dtype=np.uint16)
        self._last_mask = np.zeros((0, 0), dtype=np.uint8)
        self._learned = 0
        self._scale = 1.0
        self._step = 1
        self._frame_size = (0, 0)
        self._work_size = (0, 0)
        self._close = _kernel(self.config.close_px)
        self._open = _kernel(self.config.open_px)
        self.relearned = 0

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
        self._learned = 0

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
        greys = [self._small_grey(image) for image in images]
        self._start(np.median(np.stack(greys), axis=0).astype(np.float32))
        self._warmup = []
        self._learned = self.config.warmup_length

    def detect(self, image: ImageU8) -> Detections:
        """Moving blobs of ``image`` (BGR or grey uint8) as full-resolution boxes."""
        grey = self._small_grey(image)
        if self._background is None:
            self._start(grey)
            return Detections.empty()
        if not self.ready:
            self._learn_warmup(grey)
            return Detections.empty()
        background = self._background
        difference = grey - background
        moving = (difference > self.config.brighten_threshold) | (
            difference < -self.config.darken_threshold
        )
        mask = moving.view(np.uint8)
        if self._is_global_change(mask, grey, background):
            self.relearned += 1
            self._relight(grey)
            return Detections.empty()
        mask = self._clean(mask)
        self._last_mask = mask
        self._update_streak(mask)
        ghost = self._ghost_pixels(grey)
        if ghost is not None:
            self._absorb(grey, mask, ghost)
        self._learn_selective(grey, mask)
        # BBDT: the same components, 2.5x faster than the default algorithm here
        found = cv2.connectedComponentsWithStatsWithAlgorithm(mask, 8, cv2.CV_32S, cv2.CCL_BBDT)
        return self._boxes(np.asarray(found[2])[1:].astype(np.float64))

    # ------------------------------------------------------------ background
    def _small_grey(self, image: ImageU8) -> NDArray[np.float32]:
        """The frame as a small float grey image.

        The only full-resolution work of the detector, so: a subsample of
        every ``step``-th pixel to twice the working size or so, grey
        conversion there, then an area average down to the working size
        (which averages sensor noise). At 1280×720 this costs about 0.3 ms
        against 0.6 ms for converting and area-resizing the full frame;
        ``green_only`` (the green channel's subsample, no conversion) costs
        0.09 ms, for 0.03 less day MOTA on the synthetic footage.
        """
        if image.ndim != 2 and not (image.ndim == 3 and image.shape[2] in (3, 4)):
            msg = f"expected an H x W x 3 image, got shape {image.shape}"
            raise BadInputError(msg, source="MotionDetector", field="image")
        height, width = image.shape[:2]
        if (width, height) != self._frame_size:
            self._set_size(width, height)
        if self.config.green_only and image.ndim == 3:
            image = image[:: self._step, :: self._step, 1]
        elif self._step > 1:  # nearest-neighbour: a subsample, no arithmetic
            size = (width // self._step, height // self._step)
            image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_NEAREST))
        grey: NDArray[np.uint8] = image
        if image.ndim == 3:
            code = cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
            grey = np.asarray(cv2.cvtColor(image, code), dtype=np.uint8)
        if (grey.shape[1], grey.shape[0]) != self._work_size:
            small = cv2.resize(grey, self._work_size, interpolation=cv2.INTER_AREA)
            grey = np.asarray(small, dtype=np.uint8)
        return np.asarray(grey, dtype=np.float32)

    def _set_size(self, width: int, height: int) -> None:
        """Working size for frames of ``width × height``; a new size starts over."""
        work_width = min(self.config.work_width, width)
        self._scale = width / work_width
        self._step = max(int(self._scale // 2), 1)
        self._frame_size = (width, height)
        self._work_size = (work_width, max(round(height / self._scale), 1))
        self.reset()

    def _start(self, grey: NDArray[np.float32]) -> None:
        """Begin (re-)learning the background from this frame."""
        self._background = grey.copy()
        self._streak = np.zeros(grey.shape, dtype=np.uint16)
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

    def _relight(self, grey: NDArray[np.float32]) -> None:
        """Re-learn the background at once after a lighting change.

        The new frame becomes the background, except under the blobs of the
        previous frame (vehicles, which must not become ghosts): there the old
        background is shifted by the change measured around them, a local
        mean of (new − old) over background pixels (normalised box filter,
        ``relight_window`` pixels of the small image), so that a beam lighting
        part of the picture is followed as well as a global exposure step.
        """
        assert self._background is not None
        old = self._background
        under = cv2.dilate(self._last_mask, self._close) if self._close is not None else None
        if under is None or under.shape != grey.shape or not cv2.countNonZero(under):
            self._background = grey.copy()
            return
        free = (under == 0).astype(np.float32)
        window = (self.config.relight_window, self.config.relight_window)
        weight = cv2.blur(free, window)
        change = cv2.blur((grey - old) * free, window)
        overall = float(np.median((grey - old)[under == 0]))
        shift = np.where(weight > 0.05, change / np.maximum(weight, 1e-6), overall)
        relit = np.clip(old + shift, 0.0, 255.0).astype(np.float32)
        background = grey.copy()
        cv2.copyTo(relit, under, background)
        self._background = background

    def _update_streak(self, mask: ImageU8) -> None:
        """Frames each pixel has been foreground in a row."""
        if self._streak.shape != mask.shape:
            self._streak = np.zeros(mask.shape, dtype=np.uint16)
        np.minimum(self._streak, np.iinfo(np.uint16).max - 1, out=self._streak)
        self._streak += 1
        self._streak *= mask

    def _ghost_pixels(self, grey: NDArray[np.float32]) -> ImageU8 | None:
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
        assert self._background is not None
        count, labels = cv2.connectedComponents(old, connectivity=8)
        outline = (old > cv2.erode(old, _CROSS)) & (labels > 0)
        where = labels[outline]
        strong = config.ghost_min_gradient
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
        return region.view(np.uint8) if region.any() else None

    def _absorb(self, grey: NDArray[np.float32], mask: ImageU8, region: ImageU8) -> None:
        """Take ``region`` of the frame into the background (a ghost or a parked vehicle)."""
        assert self._background is not None
        cv2.copyTo(grey, region, self._background)
        self._streak *= 1 - region
        mask *= 1 - region

    def _learn_selective(self, grey: NDArray[np.float32], mask: ImageU8) -> None:
        """Follow the scene where nothing moves (and, slowly or not, under blobs)."""
        assert self._background is not None
        config = self.config
        cv2.accumulateWeighted(grey, self._background, config.learn_rate, mask=1 - mask)
        if config.foreground_learn_rate > 0.0:
            cv2.accumulateWeighted(grey, self._background, config.foreground_learn_rate, mask=mask)

    def _is_global_change(
        self, mask: ImageU8, grey: NDArray[np.float32], background: NDArray[np.float32]
    ) -> bool:
        """A lighting change rather than motion: most of the frame, or its median, moved.

        The median shift (on a sparse grid: cheap) ignores a vehicle, however
        big and bright, until it fills half the picture; a mean would not.
        """
        if cv2.countNonZero(mask) > self.config.global_change_share * mask.size:
            return True
        shift = float(np.median(grey[::4, ::4] - background[::4, ::4]))
        return abs(shift) > self.config.brightness_jump

    # ----------------------------------------------------------------- boxes
    def _clean(self, mask: ImageU8) -> ImageU8:
        """Speckle out, holes and gaps inside a vehicle closed."""
        cleaned = mask
        if self._open is not None:
            cleaned = np.asarray(cv2.morphologyEx(cleaned, cv2.MORPH_OPEN, self._open), np.uint8)
        if self._close is not None:
            cleaned = np.asarray(cv2.morphologyEx(cleaned, cv2.MORPH_CLOSE, self._close), np.uint8)
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
        keep = (h >= config.min_height_share * frame_height) & (
            w >= config.min_width_share * frame_height
        )
        if not keep.any():
            return Detections.empty()
        extent = blobs[:, cv2.CC_STAT_AREA] / np.maximum(blobs[:, 2] * blobs[:, 3], 1.0)
        size = np.minimum(h / config.full_score_px, 1.0)
        scores = np.clip(0.25 + 0.75 * np.sqrt(size * np.minimum(extent / 0.6, 1.0)), 0.0, 1.0)
        boxes = np.column_stack([x, y, x + w, y + h])[keep]
        return Detections(boxes, scores[keep])


_CROSS = np.asarray(cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3)), dtype=np.uint8)


def _gradient(image: NDArray[np.float32]) -> NDArray[np.float32]:
    """Gradient magnitude (L1 of the Sobel pair): where outlines are."""
    gx = cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(image, cv2.CV_32F, 0, 1, ksize=3)
    return np.asarray(np.abs(gx) + np.abs(gy), dtype=np.float32)


def _kernel(size: int) -> NDArray[np.uint8] | None:
    """An elliptic structuring element, or none for size 0."""
    if size <= 0:
        return None
    return np.asarray(cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)), dtype=np.uint8)
