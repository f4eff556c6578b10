"""The describe stage: turns a feed's tracks into :class:`~trackers.sighting.Sighting`\\ s.

:class:`TrackDescriber` is fed every frame's confirmed tracks (the
tracker's :class:`~trackers.track.TrackFrame`) and the frame itself. Per
frame, for all matched tracks at once, it adds each box's colour histogram
(:mod:`trackers.appearance`) to its track's running sum and logs the box's
ground contact geometry (:mod:`trackers.ground`). When the pipeline says a
track has ended, :meth:`TrackDescriber.finish` turns what was gathered into
one sighting: appearance, class, entry/exit points and road edges, heading,
speed, quality and the best frame to show a person.

Frames where a track only coasts (no detection, its box is the tracker's
prediction) are ignored: their box says nothing new. A box's weight in the
appearance sum and its claim to be the best frame grow with its detection
score and size and shrink when a nearer box covers it or it touches the
image border (a truncated vehicle).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import shapely

from camera_registry import Camera
from skynet.errors import BadInputError
from trackers import ground
from trackers.appearance import box_histograms, unit_descriptor
from trackers.sighting import APPEARANCE_DIM, VEHICLE_CLASSES, Evidence, Sighting, sighting_id
from trackers.track import TrackFrame
from trackers.watched import WatchedEdges

FloatArray = npt.NDArray[np.float64]
ImageU8 = npt.NDArray[np.uint8]

#: Columns of the per-frame log (one row per matched track per frame).
_ID, _FRAME, _TIME, _CX, _CY, _EXTENT, _AX, _AY = range(8)
_X0, _Y0, _X1, _Y1, _SCORE, _CLASS, _AREA, _BEST, _BORDER = range(8, 17)
_LOG_WIDTH: Final = 17
#: Box side (px) from which a box counts as fully sized for weights and quality.
FULL_SIZE_PX: Final = 64.0
#: Frames with a detection after which a track's length adds no more quality.
FULL_LENGTH_FRAMES: Final = 15.0
#: Weight of a box touching the image border (the vehicle is cut off).
BORDER_WEIGHT: Final = 0.3
#: Ground samples coarser than this (metres per pixel along the bottom edge)
#: are dropped from the motion fit when enough finer ones remain.
MAX_METRES_PER_PIXEL: Final = 0.5


@dataclass(frozen=True, slots=True)
class _TrackSummary:
    """The logged rows of one finished track, time-ordered."""

    track_id: int
    rows: FloatArray
    histogram: FloatArray


class TrackDescriber:
    """Accumulates one clip's tracks of one camera and emits their sightings.

    ``watched_edges`` (``edge_id -> LineString``, metric CRS) lets sightings
    name their entry and exit edges; ``class_names`` maps the detector's class
    numbers to names (those not in ``VEHICLE_CLASSES`` are ignored); tracks
    with fewer than ``min_frames`` detected frames give no sighting.
    """

    def __init__(
        self,
        camera: Camera,
        clip: str,
        *,
        watched_edges: Mapping[str, shapely.LineString] | None = None,
        class_names: Mapping[int, str] | Sequence[str] | None = None,
        min_frames: int = 5,
        appearance_every: int = 2,
    ) -> None:
        if min_frames < 1:
            msg = f"min_frames must be >= 1, got {min_frames}"
            raise BadInputError(msg, field="min_frames")
        self.camera = camera
        self.clip = clip
        self.min_frames = min_frames
        #: Colour histograms are taken on every n-th frame only: consecutive frames
        #: add little, and the histogram is the costliest per-frame step.
        self.appearance_every = max(1, appearance_every)
        self._homography = camera.homography_matrix
        self._sign = (
            ground.ground_sign(self._homography, camera.image_width, camera.image_height)
            if self._homography is not None
            else 1.0
        )
        self._edges = WatchedEdges(watched_edges) if watched_edges else None
        self._class_of_code = _class_lookup(class_names)
        self._log: list[FloatArray] = []
        self._histograms = np.zeros((0, APPEARANCE_DIM), dtype=np.float64)
        self._row_of: dict[int, int] = {}
        self._free_rows: list[int] = []

    @property
    def active_ids(self) -> list[int]:
        """Ids of the tracks observed and not yet finished."""
        return sorted(self._row_of)

    # ------------------------------------------------------------------ per frame
    def observe(self, frame_index: int, time_s: float, image: ImageU8, tracks: TrackFrame) -> None:
        """Add one frame's matched tracks (boxes in ``image``'s pixels, BGR)."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            msg = f"frame {frame_index} must be an H×W×3 uint8 BGR image, got {image.shape}"
            raise BadInputError(msg, source=self.clip, field="image")
        matched = np.flatnonzero(tracks.detections >= 0)
        if matched.size == 0:
            return
        ids = tracks.ids[matched]
        boxes = np.asarray(tracks.boxes[matched], dtype=np.float64)
        scores = np.asarray(tracks.scores[matched], dtype=np.float64)
        height, width = image.shape[:2]
        sizes = np.clip(boxes[:, 2:] - boxes[:, :2], 0.0, None)
        area = sizes[:, 0] * sizes[:, 1]
        border = _touches_border(boxes, width, height)
        visible = (1.0 - _covered_share(boxes)) * np.where(border, BORDER_WEIGHT, 1.0)
        best = area * scores * visible
        size_factor = np.minimum(np.sqrt(area) / FULL_SIZE_PX, 1.0)
        if frame_index % self.appearance_every == 0:
            histograms, pixels = box_histograms(image, boxes)
            weight = scores * visible * size_factor * (pixels > 0)
            self._add_histograms(ids, histograms * weight[:, None])
        else:
            self._add_histograms(ids, np.zeros((ids.shape[0], APPEARANCE_DIM)))

        rows = np.full((ids.shape[0], _LOG_WIDTH), np.nan)
        rows[:, _ID] = ids
        rows[:, _FRAME] = frame_index
        rows[:, _TIME] = time_s
        rows[:, _X0 : _Y1 + 1] = boxes
        rows[:, _SCORE] = scores
        rows[:, _CLASS] = self._class_of_code(tracks.classes[matched])
        rows[:, _AREA] = area
        rows[:, _BEST] = best
        rows[:, _BORDER] = border
        if self._homography is not None:
            scale = (self.camera.image_width / width, self.camera.image_height / height)
            geometry = ground.contact_geometry(
                self._homography, boxes, sign=self._sign, scale=scale
            )
            rows[:, _CX : _CY + 1] = geometry.contact
            rows[:, _EXTENT] = geometry.extent
            rows[:, _AX : _AY + 1] = geometry.away
        self._log.append(rows)

    def _add_histograms(self, ids: npt.NDArray[np.int64], weighted: FloatArray) -> None:
        """Add weighted histograms to their tracks' rows, giving new tracks a row."""
        for track_id in ids.tolist():
            if track_id not in self._row_of:
                self._row_of[track_id] = self._new_row()
        rows = np.fromiter((self._row_of[i] for i in ids.tolist()), np.int64, ids.shape[0])
        self._histograms[rows] += weighted

    def _new_row(self) -> int:
        """A free row of the histogram table (the table doubles when full)."""
        if not self._free_rows:
            start = self._histograms.shape[0]
            grown = max(8, 2 * start)
            self._histograms = np.concatenate(
                [self._histograms, np.zeros((grown - start, APPEARANCE_DIM))]
            )
            self._free_rows = list(range(grown - 1, start - 1, -1))
        return self._free_rows.pop()

    # ------------------------------------------------------------------- finishing
    def finish(self, track_ids: Iterable[int] | None = None) -> list[Sighting]:
        """Sightings of the given ended tracks (all observed tracks when None), by track id.

        Their state is dropped; ids never observed are ignored. Tracks with
        fewer than ``min_frames`` detected frames give nothing.
        """
        wanted = (
            sorted(self._row_of)
            if track_ids is None
            else sorted({int(i) for i in track_ids} & self._row_of.keys())
        )
        if not wanted:
            return []
        summaries = self._take(np.asarray(wanted, dtype=np.int64))
        kept = [s for s in summaries if s.rows.shape[0] >= self.min_frames]
        return self._sightings(kept)

    def _take(self, wanted: npt.NDArray[np.int64]) -> list[_TrackSummary]:
        """Remove the wanted tracks' log rows and histograms; group the rows by track."""
        log = np.concatenate(self._log) if self._log else np.zeros((0, _LOG_WIDTH))
        mine = np.isin(log[:, _ID], wanted)
        self._log = [log[~mine]] if (~mine).any() else []
        taken = log[mine]
        order = np.lexsort((taken[:, _FRAME], taken[:, _ID]))
        taken = taken[order]
        bounds = np.searchsorted(taken[:, _ID], wanted, side="left").tolist()
        ends = np.searchsorted(taken[:, _ID], wanted, side="right").tolist()
        summaries = []
        for track_id, start, end in zip(wanted.tolist(), bounds, ends, strict=True):
            row = self._row_of.pop(track_id)
            histogram = self._histograms[row].copy()
            self._histograms[row] = 0.0
            self._free_rows.append(row)
            summaries.append(_TrackSummary(track_id, taken[start:end], histogram))
        return summaries

    def _sightings(self, summaries: list[_TrackSummary]) -> list[Sighting]:
        """Build the sightings; edge matching is one call for all of them."""
        if not summaries:
            return []
        vectors = unit_descriptor(np.stack([s.histogram for s in summaries]))
        motions = [self._motion(s.rows) for s in summaries]
        classes = [self._vehicle_class(s.rows, m) for s, m in zip(summaries, motions, strict=True)]
        points = [
            self._entry_exit(s.rows, m, c)
            for s, m, c in zip(summaries, motions, classes, strict=True)
        ]
        edges = self._match_edges(motions, points)
        out = []
        for index, summary in enumerate(summaries):
            rows, motion = summary.rows, motions[index]
            best = int(np.argmax(rows[:, _BEST]))
            box = rows[best, _X0 : _Y1 + 1]
            entry, exit_ = points[index]
            out.append(
                Sighting(
                    id=sighting_id(self.camera.id, self.clip, summary.track_id),
                    camera_id=self.camera.id,
                    t_in=float(rows[0, _TIME]),
                    t_out=float(rows[-1, _TIME]),
                    vehicle_class=classes[index],
                    appearance=vectors[index],
                    quality=_quality(rows),
                    evidence=Evidence(
                        clip=self.clip,
                        frame_index=int(rows[best, _FRAME]),
                        bbox=(float(box[0]), float(box[1]), float(box[2]), float(box[3])),
                    ),
                    entry_xy=entry,
                    exit_xy=exit_,
                    heading_deg=None if motion is None else motion.heading_deg,
                    speed_mps=None if motion is None else motion.speed_mps,
                    entry_edge=edges[index][0],
                    exit_edge=edges[index][1],
                )
            )
        return out

    def _motion(self, rows: FloatArray) -> ground.GroundMotion | None:
        """Ground motion of a track's contact points (None without a homography)."""
        if self._homography is None:
            return None
        usable = _fine_samples(rows)
        return ground.fit_motion(
            rows[usable, _TIME],
            rows[usable][:, [_CX, _CY]],
            t_start=float(rows[0, _TIME]),
            t_end=float(rows[-1, _TIME]),
        )

    def _vehicle_class(self, rows: FloatArray, motion: ground.GroundMotion | None) -> str:
        """The detector's majority class when it names one, else the size rule, else ``vehicle``."""
        codes = rows[:, _CLASS]
        known = codes[np.isfinite(codes) & (codes > 0)].astype(np.int64)
        if known.size:
            votes = np.bincount(known, weights=rows[np.isfinite(codes) & (codes > 0), _SCORE])
            return VEHICLE_CLASSES[int(np.argmax(votes))]
        if motion is None or motion.heading_deg is None:
            return "vehicle"
        usable = _fine_samples(rows)
        return ground.class_from_extents(
            rows[usable, _EXTENT], rows[usable][:, [_AX, _AY]], motion.heading_deg
        )

    def _entry_exit(
        self, rows: FloatArray, motion: ground.GroundMotion | None, vehicle_class: str
    ) -> tuple[tuple[float, float] | None, tuple[float, float] | None]:
        """Entry and exit points, moved from the contact line to the vehicle's centre."""
        if motion is None:
            return None, None
        if motion.heading_deg is None:
            return motion.entry_xy, motion.exit_xy
        usable = np.flatnonzero(_fine_samples(rows))
        away = rows[usable[[0, -1]]][:, [_AX, _AY]]
        headings = np.array(
            [
                _first_known(motion.entry_heading_deg, motion.heading_deg),
                _first_known(motion.exit_heading_deg, motion.heading_deg),
            ]
        )
        contact = np.array([motion.entry_xy, motion.exit_xy])
        footprint = ground.CLASS_FOOTPRINT_M[vehicle_class]
        (ex, ey), (xx, xy) = ground.centre_correction(contact, away, headings, footprint).tolist()
        return (ex, ey), (xx, xy)

    def _match_edges(
        self,
        motions: list[ground.GroundMotion | None],
        points: list[tuple[tuple[float, float] | None, tuple[float, float] | None]],
    ) -> list[tuple[str | None, str | None]]:
        """Entry and exit edge of every sighting, in one query."""
        if self._edges is None:
            return [(None, None)] * len(motions)
        nan = (np.nan, np.nan)
        xy = np.array(
            [[nan if p is None else p for p in pair] for pair in points], dtype=np.float64
        )
        heading = np.array(
            [
                [np.nan, np.nan]
                if m is None
                else [_or_nan(m.entry_heading_deg), _or_nan(m.exit_heading_deg)]
                for m in motions
            ]
        )
        names = self._edges.nearest_agreeing(xy.reshape(-1, 2), heading.reshape(-1))
        return [(names[2 * i], names[2 * i + 1]) for i in range(len(motions))]


def _or_nan(value: float | None) -> float:
    return float("nan") if value is None else value


def _first_known(value: float | None, fallback: float) -> float:
    return fallback if value is None else value


def _class_lookup(
    class_names: Mapping[int, str] | Sequence[str] | None,
) -> _ClassLookup:
    """Maps detector class numbers to indices of ``VEHICLE_CLASSES`` (NaN when not a vehicle)."""
    mapping = dict(enumerate(class_names)) if isinstance(class_names, Sequence) else class_names
    return _ClassLookup(dict(mapping or {}))


class _ClassLookup:
    """Vectorised detector-class → ``VEHICLE_CLASSES`` index (NaN for unknown)."""

    def __init__(self, names: dict[int, str]) -> None:
        known = {int(code): VEHICLE_CLASSES.index(name) for code, name in names.items()
                 if name in VEHICLE_CLASSES and int(code) >= 0}  # fmt: skip
        size = max(known, default=-1) + 1
        self._table = np.full(size + 1, np.nan)
        for code, index in known.items():
            self._table[code] = index

    def __call__(self, codes: npt.ArrayLike) -> FloatArray:
        values = np.asarray(codes, dtype=np.int64)
        inside = (values >= 0) & (values < self._table.shape[0] - 1)
        return np.where(inside, self._table[np.where(inside, values, -1)], np.nan)


def _covered_share(boxes: FloatArray) -> FloatArray:
    """Share of each box covered by nearer boxes (lower bottom edge = nearer the camera)."""
    lo = np.maximum(boxes[:, None, :2], boxes[None, :, :2])
    hi = np.minimum(boxes[:, None, 2:], boxes[None, :, 2:])
    overlap = np.prod(np.clip(hi - lo, 0.0, None), axis=2)
    nearer = boxes[None, :, 3] > boxes[:, None, 3]
    area = np.prod(np.clip(boxes[:, 2:] - boxes[:, :2], 0.0, None), axis=1)
    covered = (overlap * nearer).sum(axis=1)
    return np.asarray(np.clip(covered / np.maximum(area, 1e-9), 0.0, 1.0), dtype=np.float64)


def _touches_border(
    boxes: FloatArray, width: int, height: int, margin: float = 2.0
) -> npt.NDArray[np.bool_]:
    """Boxes touching the image border: the vehicle is cut off, its box is not its extent."""
    return np.asarray(
        (boxes[:, 0] <= margin)
        | (boxes[:, 1] <= margin)
        | (boxes[:, 2] >= width - margin)
        | (boxes[:, 3] >= height - margin),
        dtype=bool,
    )


def _fine_samples(rows: FloatArray) -> npt.NDArray[np.bool_]:
    """Ground samples to fit motion and size on.

    Boxes cut off by the image border (their bottom edge is not the vehicle's)
    and coarse far ones (more than :data:`MAX_METRES_PER_PIXEL`) are left out
    while at least :data:`ground.MIN_SAMPLES` others remain.
    """
    valid = np.asarray(np.isfinite(rows[:, [_CX, _CY]]).all(axis=1), dtype=bool)
    whole = valid & (rows[:, _BORDER] == 0.0)
    box_width = np.maximum(rows[:, _X1] - rows[:, _X0], 1.0)
    fine = whole & (rows[:, _EXTENT] / box_width <= MAX_METRES_PER_PIXEL)
    for choice in (fine, whole):
        if int(choice.sum()) >= ground.MIN_SAMPLES:
            return np.asarray(choice, dtype=bool)
    return valid


def _quality(rows: FloatArray) -> float:
    """Observation quality in [0, 1]: track length × box size × mean detection score."""
    length = 1.0 - np.exp(-rows.shape[0] / FULL_LENGTH_FRAMES)
    size = min(float(np.sqrt(np.median(rows[:, _AREA]))) / FULL_SIZE_PX, 1.0)
    score = float(np.clip(np.mean(rows[:, _SCORE]), 0.0, 1.0))
    return float(np.clip(length * size * score, 0.0, 1.0))
