"""Rendering speed of synthetic CCTV footage: frames/s at 640×360 on one core, day and night.

Claim (issue 3): >= 300 frames/s at 640×360 on one core. The scene is a small
town grid with one intersection camera and enough traffic for about ten
vehicles in view. Rendering alone includes computing the vehicles' positions
for every frame; "+ video" also encodes every frame with OpenCV's VideoWriter.
frames/s is wall clock (the claim); frames/CPU-s divides by this process's CPU
time, which is steadier on a shared machine.

Example: python benchmarks/bench_render.py --frames 600
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import networkx as nx
import numpy as np
from numpy.typing import NDArray

from camera_registry import Camera
from camera_registry.geometry import homography_from_pose
from skynet.synthetic.render import CameraRenderer, read_video_frame_count, write_video
from skynet.synthetic.traffic import Traffic

GOAL_FPS = 300.0


def town_grid(blocks: int, spacing_m: float) -> nx.MultiDiGraph:
    """A square grid of two-way residential streets with a tertiary cross."""
    graph = nx.MultiDiGraph()
    for i in range(blocks):
        for j in range(blocks):
            graph.add_node(i * blocks + j, x=i * spacing_m, y=j * spacing_m, lon=0.0, lat=0.0)
    middle = blocks // 2
    for i in range(blocks):
        for j in range(blocks):
            for di, dj in ((1, 0), (0, 1)):
                a, b = i + di, j + dj
                if a >= blocks or b >= blocks:
                    continue
                major = (dj == 0 and j == middle) or (di == 0 and i == middle)
                attrs = {
                    "length": spacing_m,
                    "highway": "tertiary" if major else "residential",
                    "maxspeed": 50.0 if major else 30.0,
                    "oneway": False,
                }
                graph.add_edge(i * blocks + j, a * blocks + b, **attrs)
                graph.add_edge(a * blocks + b, i * blocks + j, **attrs)
    return graph


def intersection_camera(x: float, y: float, width: int, height: int) -> Camera:
    """A pole camera 8 m up looking along the main road into the intersection."""
    homography = homography_from_pose(
        x, y, height_m=8.0, heading_deg=12.0, tilt_deg=18.0, fov_deg=70.0,
        image_width=width, image_height=height,
    )  # fmt: skip
    return Camera(
        id="bench-cam", name="bench", kind="road", lon=0.0, lat=0.0, heading_deg=12.0,
        fov_deg=70.0, range_m=150.0, height_m=8.0, image_width=width, image_height=height,
        fps=25.0, homography=tuple(float(v) for v in homography.ravel()),  # type: ignore[arg-type]
    )  # fmt: skip


def measure(
    renderer: CameraRenderer, traffic: Traffic, frames: int, start_s: float, video: Path | None
) -> tuple[float, float, float]:
    """Frames/s (wall clock, and CPU time of this process) and mean vehicles drawn per frame."""
    drawn = 0

    def images() -> Iterator[NDArray[np.uint8]]:
        nonlocal drawn
        for frame in renderer.clip(traffic, start_s=start_s, n_frames=frames, fps=25.0):
            drawn += len(frame.ids)
            yield frame.image

    began, began_cpu = time.perf_counter(), time.process_time()
    if video is None:
        for _ in images():
            pass
    else:
        written = write_video(video, images(), 25.0)
        if read_video_frame_count(video) != written:
            raise SystemExit(f"{video}: read back a different number of frames")
    elapsed, cpu = time.perf_counter() - began, time.process_time() - began_cpu
    return frames / elapsed, frames / cpu, drawn / frames


def main() -> None:
    """Parse options, build the scene, time day and night with and without video."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=600, help="frames per run")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--vehicles", type=int, default=1100, help="fleet size in the town")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--codec", choices=("mp4", "avi"), default="mp4", help="mp4v or MJPG")
    args = parser.parse_args()

    cv2.setNumThreads(1)
    graph = town_grid(12, 120.0)
    camera = intersection_camera(708.0, 600.0, args.width, args.height)
    traffic = Traffic.simulate(graph, n_vehicles=args.vehicles, seed=args.seed, window_s=900.0)
    start_s = 450.0
    print(f"OpenCV {cv2.__version__}, {args.width}x{args.height}, {args.frames} frames, 1 thread")
    print(
        f"{'mode':<6} {'output':<12} {'vehicles/frame':>14} {'frames/s':>10} {'vs 300 fps':>11}"
        f" {'frames/CPU-s':>13}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for night in (False, True):
            renderer = CameraRenderer(camera, graph, night=night, seed=args.seed)
            mode = "night" if night else "day"
            for label, video in (
                ("render", None),
                ("render+video", Path(folder) / f"{mode}.{args.codec}"),
            ):
                fps, cpu_fps, per_frame = measure(renderer, traffic, args.frames, start_s, video)
                print(
                    f"{mode:<6} {label:<12} {per_frame:>14.1f} {fps:>10.0f} "
                    f"{fps / GOAL_FPS:>10.2f}x {cpu_fps:>13.0f}"
                )


if __name__ == "__main__":
    main()
