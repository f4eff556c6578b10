"""``skynet demo`` wall-clock: empty footage cache, then with the cache, as a user runs it.

Runs the installed console script three times on one temporary cache
folder: cold (nothing rendered), again (footage and store reused: every
clip is already committed, so ingest skips it), and with ``--fresh`` (footage
reused, everything ingested into a new store). Each time counts from the
process start (imports included) to its exit. Claims (issue 7): <= 90 s cold
and <= 20 s with the cache, on two cores.

The demo is CPU-bound and the same code has taken 87 s and 158 s cold on
this machine on different days, so the run also prints a host reference
before and after: the CPU time a frame of writing and reading back fixed
noisy 640x360 frames as MPEG-4, one thread (what a third of the cold run
does), to compare sittings by.

Example: python benchmarks/bench_demo.py
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np


def timed_run(cache: Path, out: Path, *extra: str) -> tuple[float, dict[str, object]]:
    script = Path(sys.executable).with_name("skynet")
    command = [str(script), "demo", "--cache", str(cache), "--out", str(out), "--format", "json"]
    began = time.perf_counter()
    done = subprocess.run([*command, *extra], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"skynet demo failed ({done.returncode}):\n{done.stderr}")
    return seconds, json.loads(done.stdout)


def host_reference(folder: Path, frames: int = 100) -> float:
    """CPU ms a frame (best of three) to write and read back ``frames`` fixed noisy
    640x360 frames as MPEG-4."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (360, 640, 3), dtype=np.uint8)
    noise = rng.integers(-12, 13, (frames, 360, 640, 3), dtype=np.int16)
    images = np.clip(base.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    path = folder / "reference.avi"
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        best = float("inf")
        for _ in range(3):  # the best of three: the first pays for loading the codec
            began = time.process_time()
            fourcc = cv2.VideoWriter.fourcc(*"XVID")
            writer = cv2.VideoWriter(str(path), fourcc, 10.0, (640, 360))
            for image in images:
                writer.write(image)
            writer.release()
            capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
            while capture.read()[0]:
                pass
            capture.release()
            best = min(best, time.process_time() - began)
        return 1000.0 * best / frames
    finally:
        cv2.setNumThreads(threads)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=None, help="a reduced demo (quick check)")
    args = parser.parse_args(argv)
    extra = ("--cameras", str(args.cameras)) if args.cameras else ()
    with tempfile.TemporaryDirectory(prefix="skynet-bench-demo-") as scratch:
        root = Path(scratch)
        before = host_reference(root)
        runs = {
            "cold (empty cache)": timed_run(root / "cache", root / "out", *extra),
            "cached (footage and store)": timed_run(root / "cache", root / "out", *extra),
            "footage cached, --fresh store": timed_run(
                root / "cache", root / "out", *extra, "--fresh"
            ),
        }
        after = host_reference(root)
    print(
        f"host reference (MPEG-4 write + read, one thread): {before:.2f} ms a frame before, "
        f"{after:.2f} after"
    )
    print(f"{'run':<32} {'wall s':>7} {'render':>7} {'ingest':>7} {'query':>6}  accuracy")
    for name, (seconds, document) in runs.items():
        timings = document["timings_s"]
        accuracy = document["accuracy"]
        assert isinstance(timings, dict) and isinstance(accuracy, dict)
        print(
            f"{name:<32} {seconds:7.1f} {timings['render_s']:7.1f} {timings['ingest_s']:7.1f} "
            f"{timings['query_s']:6.2f}  edge-F1 {accuracy['edge_f1']:.3f}, "
            f"{accuracy['cameras_linked']}/{accuracy['cameras_saw']} cameras linked, "
            f"{accuracy['lookalikes_linked']} look-alikes"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
