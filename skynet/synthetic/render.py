"""CCTV footage of the synthetic traffic, rendered through a camera's homography.

A :class:`CameraRenderer` prepares everything static once (the ground picture,
the projection, a bank of sensor-noise frames, glare sprites); each frame then
only copies the background, draws the vehicles in view as shaded boxes far to
near (with beams, lamps and glare at night), and adds a noise frame from the
bank. The same pass writes a label mask, from which the ground truth
(:mod:`skynet.synthetic.groundtruth`) takes exact boxes and visibilities.

Example::

    renderer = CameraRenderer(camera, graph, night=True, size=(640, 360), seed=7)
    for frame in renderer.clip(traffic, start_s=0.0, n_frames=250):
        ...
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import cv2
import networkx as nx
import numpy as np
import shapely
from numpy.typing import NDArray

from camera_registry import Camera
from skynet.errors import BadInputError, SkynetError
from skynet.synthetic._night import GlareSprites, draw_beams, draw_lamps, plan_lamps
from skynet.synthetic._projection import Projector, projection_from_pose
from skynet.synthetic._scene import static_scene
from skynet.synthetic._streets import EdgeTable
from skynet.synthetic._vehicles import (
    Boxes,
    draw_box,
    in_image_bbox,
    project_boxes,
    silhouette,
)
from skynet.synthetic.traffic import Traffic, VehicleStates

__all__ = [
    "MAX_RANGE_M",
    "CameraRenderer",
    "RenderedFrame",
    "in_view",
    "projection_from_pose",
    "read_video_frame_count",
    "write_video",
]

ImageU8 = NDArray[np.uint8]
#: Reach of the picture (m): ground farther than this is haze.
MAX_RANGE_M: Final = 250.0
#: Vehicle body brightness at night (lit only by lamps and the sky).
NIGHT_BODY_LIGHT: Final = 0.22
DAY_HAZE_BGR: Final = (205.0, 198.0, 190.0)
NIGHT_HAZE_BGR: Final = (14.0, 11.0, 10.0)
_CODECS: Final = {".mp4": "mp4v", ".avi": "MJPG", ".mkv": "mp4v"}


@dataclass(frozen=True, eq=False)
class RenderedFrame:
    """One frame and what is in it.

    ``labels`` (when asked for) holds ``i + 1`` where vehicle ``ids[i]`` is the
    nearest surface, 0 elsewhere. ``boxes`` are ``x0, y0, x1, y1`` of each drawn
    vehicle's projected corners clipped to the image; ``visible_px`` and
    ``silhouette_px`` count its unoccluded and whole in-image silhouette pixels.
    """

    image: ImageU8
    ids: NDArray[np.int64]
    class_code: NDArray[np.int8]
    boxes: NDArray[np.float64]
    labels: NDArray[np.uint16] | None
    visible_px: NDArray[np.int64] | None
    silhouette_px: NDArray[np.int64] | None

    @property
    def visibility(self) -> NDArray[np.float64]:
        """Visible share of each drawn vehicle's in-image silhouette (needs labels)."""
        if self.visible_px is None or self.silhouette_px is None:
            msg = "visibility needs a frame rendered with labels=True"
            raise BadInputError(msg, field="labels")
        return np.asarray(self.visible_px / np.maximum(self.silhouette_px, 1), dtype=np.float64)


class CameraRenderer:
    """Renders one camera's view; static work is done once in the constructor.

    Pass the same :class:`~skynet.synthetic.traffic.EdgeTable` to every camera's
    renderer (rather than the graph) to read the graph and build its spatial
    index once. ``osd`` burns the camera's clock and id into the top-left
    corner, as most CCTV recorders do (off by default: it is not a vehicle).
    """

    def __init__(
        self,
        camera: Camera,
        roads: nx.MultiDiGraph | EdgeTable,
        *,
        night: bool = False,
        size: tuple[int, int] | None = None,
        seed: int = 0,
        noise_sigma: float | None = None,
        noise_frames: int = 8,
        max_range_m: float = MAX_RANGE_M,
        osd: bool = False,
    ) -> None:
        homography = camera.homography_matrix
        if homography is None:
            msg = "the camera has no homography to render through"
            raise BadInputError(msg, record=camera.id, field="homography")
        out_size = size or (camera.image_width, camera.image_height)
        if out_size[0] < 8 or out_size[1] < 8:
            msg = f"frame size {out_size} is too small"
            raise BadInputError(msg, field="size")
        self.camera = camera
        self.night = night
        self.osd = osd
        self.streets = roads if isinstance(roads, EdgeTable) else EdgeTable.from_graph(roads)
        self.projector = Projector.from_homography(
            homography, camera.image_width, camera.image_height, out_size=out_size
        )
        camera_seed = seed ^ (_hash_text(camera.id) & 0x7FFFFFFF)
        self._max_range_m = max_range_m
        self.gain = _camera_gain(np.random.default_rng(camera_seed + 2))
        scene = static_scene(
            self.projector, self.streets, night=night, seed=camera_seed, max_range_m=max_range_m
        )
        self.background = np.clip(scene * self.gain, 0, 255).astype(np.uint8)
        sigma = noise_sigma if noise_sigma is not None else (7.0 if night else 3.0)
        self._noise = _noise_bank(
            np.random.default_rng(camera_seed + 1), out_size, sigma, noise_frames
        )
        self._sprites = GlareSprites.build() if night else None
        self._watched: NDArray[np.int64] | None = None

    @property
    def size(self) -> tuple[int, int]:
        """Frame ``(width, height)`` in pixels."""
        return self.projector.width, self.projector.height

    def watched_edges(self) -> NDArray[np.int64]:
        """Edges that can put a vehicle in the picture (within range of the camera)."""
        if self._watched is None:
            centre = self.projector.centre
            reach = shapely.Point(centre[0], centre[1]).buffer(self._max_range_m + 20.0)
            self._watched = self.streets.edges_near(reach)
        return self._watched

    def render(
        self,
        states: VehicleStates,
        frame_index: int = 0,
        *,
        labels: bool = False,
        time_s: float | None = None,
    ) -> RenderedFrame:
        """One frame showing ``states`` (noise frame chosen by ``frame_index``).

        ``time_s`` (UTC seconds) is what the on-screen clock shows when ``osd`` is on.
        """
        image = self.background.copy()
        states = self._within_range(states)
        boxes = project_boxes(
            states,
            self.projector,
            brightness=self.gain * (NIGHT_BODY_LIGHT if self.night else 1.0),
            haze_bgr=NIGHT_HAZE_BGR if self.night else DAY_HAZE_BGR,
        )
        mask = np.zeros(image.shape[:2], dtype=np.uint16) if labels else None
        if self.night and self._sprites is not None and len(boxes):
            draw_beams(image, boxes, self.projector)
            lamps = plan_lamps(boxes, states.class_code[boxes.rows], self.projector, self._sprites)
        for index in range(len(boxes)):
            draw_box(image, boxes, index)
            if mask is not None:
                cv2.fillConvexPoly(mask, silhouette(boxes, index), index + 1, cv2.LINE_8, 4)
            if self.night and self._sprites is not None:
                draw_lamps(image, lamps, index, self._sprites)
        if self.osd and time_s is not None:
            _draw_osd(image, self.camera, time_s)
        positive, negative = self._noise[frame_index % len(self._noise)]
        cv2.add(image, positive, dst=image)
        cv2.subtract(image, negative, dst=image)
        return self._frame(image, states, boxes, mask)

    def _within_range(self, states: VehicleStates) -> VehicleStates:
        """Only the vehicles closer than the picture's reach (farther ones are lost in haze)."""
        centre = self.projector.centre
        near = np.hypot(states.x - centre[0], states.y - centre[1]) <= self._max_range_m
        if near.all():
            return states
        return states.take(near)

    def _frame(
        self, image: ImageU8, states: VehicleStates, boxes: Boxes, mask: NDArray[np.uint16] | None
    ) -> RenderedFrame:
        """Package a frame with its boxes and, with a mask, pixel counts."""
        width, height = self.size
        clipped = in_image_bbox(boxes, width, height)
        visible = whole = None
        if mask is not None and len(boxes) == 0:
            visible = whole = np.zeros(0, dtype=np.int64)
        elif mask is not None:
            labelled = mask[mask != 0]  # most of a frame is road: count only what is drawn
            visible = np.bincount(labelled, minlength=len(boxes) + 1)[1:].astype(np.int64)
            whole = _silhouette_pixels(boxes, width, height)
        return RenderedFrame(
            image=image,
            ids=states.ids[boxes.rows],
            class_code=states.class_code[boxes.rows],
            boxes=clipped,
            labels=mask,
            visible_px=visible,
            silhouette_px=whole,
        )

    def clip(
        self,
        traffic: Traffic,
        *,
        start_s: float,
        n_frames: int,
        fps: float | None = None,
        labels: bool = False,
    ) -> Iterator[RenderedFrame]:
        """Frames ``0 .. n_frames-1`` at ``start_s + i / fps`` (fps defaults to the camera's)."""
        rate = fps or self.camera.fps
        if n_frames < 0 or not rate > 0.0:
            msg = "need n_frames >= 0 and fps > 0"
            raise BadInputError(msg, field="n_frames")
        end_s = start_s + n_frames / rate
        nearby = traffic.vehicles_on_edges(self.watched_edges(), start_s, end_s)
        for index in range(n_frames):
            now = start_s + index / rate
            states = traffic.states_at(now, vehicles=nearby)
            yield self.render(states, index, labels=labels, time_s=now)


def in_view(
    camera: Camera,
    states: VehicleStates,
    *,
    max_range_m: float = MAX_RANGE_M,
    projector: Projector | None = None,
) -> NDArray[np.bool_]:
    """Which vehicles a camera's picture shows (some of their box in the image, in range).

    Occlusion is ignored; nothing is drawn, so this is cheap enough to ask of
    every camera along a route (e.g. which cameras saw the escape). Pass the
    camera's ``projector`` (:func:`camera_projector`) when asking many times.
    """
    projector = projector or camera_projector(camera)
    centre = projector.centre
    near = np.hypot(states.x - centre[0], states.y - centre[1]) <= max_range_m
    rows = np.flatnonzero(near)
    subset = states.take(rows)
    shown = np.zeros(len(states), dtype=bool)
    shown[rows[project_boxes(subset, projector).rows]] = True
    return shown


def camera_projector(camera: Camera) -> Projector:
    """The projection of a camera's own picture (its homography's image size)."""
    homography = camera.homography_matrix
    if homography is None:
        msg = "the camera has no homography"
        raise BadInputError(msg, record=camera.id, field="homography")
    return Projector.from_homography(homography, camera.image_width, camera.image_height)


def passages_in_view(
    camera: Camera,
    position: tuple[float, float],
    traffic: Traffic,
    start: float,
    end: float,
    step_s: float = 0.5,
) -> Iterator[tuple[int, NDArray[np.float64], VehicleStates, NDArray[np.bool_]]]:
    """Each vehicle that drives near ``camera`` in ``[start, end]``, sampled every ``step_s``.

    Yields the vehicle, its sample times (on the road), its states then and
    which of them the picture shows (:func:`in_view`). Both the footage
    planner and the simulated sightings ask this of every camera.
    """
    reach = shapely.Point(position).buffer(MAX_RANGE_M + 20.0)
    edges = traffic.streets.edges_near(reach)
    projector = camera_projector(camera)
    for vehicle in traffic.vehicles_on_edges(edges, start, end).tolist():
        route = traffic.route(vehicle)
        near = np.isin(route.edges, edges)
        t0 = max(start, float(route.enter_s[near].min()))
        t1 = min(end, float(route.leave_s[near].max()))
        if t1 <= t0:
            continue
        on_road, states = traffic.trajectory(vehicle, np.arange(t0, t1 + step_s, step_s))
        yield vehicle, on_road, states, in_view(camera, states, projector=projector)


def _silhouette_pixels(boxes: Boxes, width: int, height: int) -> NDArray[np.int64]:
    """In-image pixel count of each box's silhouette drawn alone (rasterised as in the mask)."""
    counts = np.zeros(len(boxes), dtype=np.int64)
    for index in range(len(boxes)):
        hull = silhouette(boxes, index)
        lo = np.maximum(np.floor(hull.min(axis=(0, 1)) / 16.0).astype(int) - 1, 0)
        hi = np.minimum(np.ceil(hull.max(axis=(0, 1)) / 16.0).astype(int) + 2, [width, height])
        if np.any(hi <= lo):
            continue
        scratch = np.zeros((hi[1] - lo[1], hi[0] - lo[0]), dtype=np.uint8)
        cv2.fillConvexPoly(scratch, hull - (lo * 16).astype(np.int32), 1, cv2.LINE_8, 4)
        counts[index] = int(cv2.countNonZero(scratch))
    return counts


def _draw_osd(image: ImageU8, camera: Camera, time_s: float) -> None:
    """The recorder's caption: the camera's own (offset) clock and its id."""
    local = datetime.fromtimestamp(time_s - camera.clock_offset_s, tz=UTC)
    text = f"{local:%Y-%m-%d %H:%M:%S}  {camera.id}"
    scale = max(image.shape[0] / 720.0, 0.3)
    origin = (int(8 * scale) + 2, int(28 * scale) + 4)
    cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(
        image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (235, 235, 235), 1, cv2.LINE_AA
    )


def _camera_gain(rng: np.random.Generator) -> NDArray[np.float64]:
    """Per-camera exposure and white balance (BGR gains): no two cameras see colour alike."""
    exposure = rng.uniform(0.9, 1.1)
    balance = rng.uniform(0.96, 1.04, size=3)
    return np.asarray(exposure * balance, dtype=np.float64)


def _noise_bank(
    rng: np.random.Generator, size: tuple[int, int], sigma: float, count: int
) -> list[tuple[ImageU8, ImageU8]]:
    """Sensor noise frames as (positive part, negative part), added with saturation.

    The draws are ``normal(0, sigma)`` for luma then ``normal(0, 0.35 sigma)``
    per channel, written in place into reused buffers: the same numbers as
    drawing them one array at a time, a quarter cheaper (a set-up cost per camera).
    """
    width, height = size
    luma = np.empty((height, width, 1))
    noise = np.empty((height, width, 3))
    bank = []
    for _ in range(max(count, 1)):
        rng.standard_normal(out=luma)
        rng.standard_normal(out=noise)
        luma *= sigma
        noise *= sigma * 0.35
        noise += luma
        np.rint(noise, out=noise)
        np.clip(noise, -255.0, 255.0, out=noise)
        whole = noise.astype(np.int16)
        bank.append((np.maximum(whole, 0).astype(np.uint8), np.maximum(-whole, 0).astype(np.uint8)))
    return bank


def _hash_text(text: str) -> int:
    """A stable (not salted) 32-bit hash of a string, for per-camera seeds."""
    value = 2166136261
    for byte in text.encode():
        value = ((value ^ byte) * 16777619) & 0xFFFFFFFF
    return value


def write_video(
    path: str | Path, frames: Iterable[ImageU8], fps: float, *, codec: str | None = None
) -> int:
    """Write frames to a video file (``.mp4``/``.mkv``: mp4v, ``.avi``: MJPG, unless
    ``codec`` names another FourCC); returns the count."""
    target = Path(path)
    codec = codec or _CODECS.get(target.suffix.lower())
    if codec is None:
        msg = f"unsupported video extension {target.suffix!r}; use one of {', '.join(_CODECS)}"
        raise BadInputError(msg, source=str(target))
    writer: cv2.VideoWriter | None = None
    count = 0
    try:
        for frame in frames:
            if writer is None:
                height, width = frame.shape[:2]
                writer = cv2.VideoWriter(
                    str(target), cv2.VideoWriter.fourcc(*codec), fps, (width, height)
                )
                if not writer.isOpened():
                    msg = "OpenCV could not open the video for writing"
                    raise SkynetError(f"{target}: {msg}")
            writer.write(frame)
            count += 1
    finally:
        if writer is not None:
            writer.release()
    return count


def read_video_frame_count(path: str | Path) -> int:
    """Frames actually decodable from a video file (reads them all)."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        msg = "OpenCV could not open the video"
        raise BadInputError(msg, source=str(path))
    count = 0
    try:
        while capture.grab():
            count += 1
    finally:
        capture.release()
    return count
