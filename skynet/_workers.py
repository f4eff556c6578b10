"""Process pools that fill the cores: OpenCV kept to one thread in their workers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def opencv_single_threaded() -> Iterator[None]:
    """OpenCV single-threaded while a pool of workers runs, restored after.

    The pool is the parallelism: OpenCV's own threads in every worker only
    contend (ingest: a quarter more CPU per frame with two workers on two
    cores, the same wall time alone). Set in the parent before the workers
    fork, not in them: a forked child that resizes OpenCV's thread pool waits
    forever for threads that did not come with it.
    """
    import cv2

    before = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(before)
