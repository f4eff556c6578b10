"""Frame sources: timestamps, clock offsets and every kind of bad input."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from skynet.errors import BadInputError
from trackers.sources import Frame, ImageFolderSource, VideoSource, open_source

FPS = 25.0
SIZE = (96, 64)


def frame_image(index: int) -> np.ndarray:
    """A frame whose brightness encodes its index (survives compression)."""
    return np.full((SIZE[1], SIZE[0], 3), 10 + 4 * index, dtype=np.uint8)


def write_video(path: Path, count: int, codec: str = "MJPG") -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*codec), FPS, SIZE)
    assert writer.isOpened()
    for index in range(count):
        writer.write(frame_image(index))
    writer.release()
    return path


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_video(tmp_path_factory.mktemp("video") / "clip.avi", 40)


def test_video_frames_in_order_with_container_times(video: Path) -> None:
    with open_source(video, start_s=1000.0, clock_offset_s=-2.5) as source:
        assert isinstance(source, VideoSource)
        assert source.fps == FPS
        assert source.frame_count == 40
        assert source.size == SIZE
        frames = list(source)
    assert [f.index for f in frames] == list(range(40))
    times = np.array([f.time_s for f in frames])
    np.testing.assert_allclose(times, 1000.0 - 2.5 + np.arange(40) / FPS, atol=1e-6)
    brightness = np.array([f.image.mean() for f in frames])
    np.testing.assert_allclose(brightness, 10 + 4 * np.arange(40), atol=3)
    assert all(isinstance(f, Frame) and f.image.dtype == np.uint8 for f in frames)


def test_fps_override_changes_only_the_fallback_rate(video: Path) -> None:
    with open_source(video, fps=10.0) as source:
        assert source.fps == 10.0
        first, second = list(source)[:2]
    # container stamps win over the rate: 40 ms apart, as written
    assert second.time_s - first.time_s == pytest.approx(0.04, abs=1e-6)
    assert first.time_s == pytest.approx(0.0)


def test_mp4_reads_too(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.mp4", 12, codec="mp4v")
    with open_source(path) as source:
        assert len(list(source)) == 12


def test_image_folder_sorted_and_stamped_by_rate(tmp_path: Path) -> None:
    for index in (2, 0, 1, 10):
        cv2.imwrite(str(tmp_path / f"f{index:03d}.png"), frame_image(index))
    (tmp_path / "notes.txt").write_text("not an image")
    with open_source(tmp_path, start_s=50.0, fps=5.0, clock_offset_s=1.0) as source:
        assert isinstance(source, ImageFolderSource)
        assert source.frame_count == 4
        frames = list(source)
    assert [int(f.image[0, 0, 0]) for f in frames] == [10, 14, 18, 50]
    assert [f.time_s for f in frames] == pytest.approx([51.0, 51.2, 51.4, 51.6])


def test_a_source_iterates_once(video: Path) -> None:
    with open_source(video) as source:
        list(source)
        with pytest.raises(BadInputError, match="once"):
            list(source)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="not found") as error:
        open_source(tmp_path / "nope.mp4")
    assert "nope.mp4" in str(error.value)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.touch()
    with pytest.raises(BadInputError, match="empty") as error:
        open_source(path)
    assert "empty.mp4" in str(error.value)


def test_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "junk.avi"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    with pytest.raises(BadInputError) as error:
        open_source(path)
    assert "junk.avi" in str(error.value)


def test_unknown_codec(tmp_path: Path) -> None:
    """A real AVI whose video chunks claim a codec no decoder knows."""
    good = write_video(tmp_path / "good.avi", 10).read_bytes()
    path = tmp_path / "alien.avi"
    path.write_bytes(good.replace(b"MJPG", b"QQQQ"))
    with pytest.raises(BadInputError) as error:
        open_source(path)
    assert "alien.avi" in str(error.value)


def test_truncated_video_raises_where_it_breaks(tmp_path: Path) -> None:
    good = write_video(tmp_path / "good.avi", 60).read_bytes()
    path = tmp_path / "cut.avi"
    path.write_bytes(good[: len(good) // 2])
    delivered: list[int] = []
    with (
        open_source(path) as source,
        pytest.raises(BadInputError, match="breaks at frame") as error,
    ):
        for frame in source:
            delivered.append(frame.index)
    assert 0 < len(delivered) < 60
    assert error.value.record == len(delivered)
    assert "cut.avi" in str(error.value)


def test_unreachable_stream_fails_fast() -> None:
    began = time.monotonic()
    with pytest.raises(BadInputError, match="cannot be reached") as error:
        open_source("rtsp://127.0.0.1:9/x", open_timeout_s=2.0)
    assert time.monotonic() - began < 10.0
    assert "rtsp://127.0.0.1:9/x" in str(error.value)


def test_empty_image_folder(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("no images here")
    with pytest.raises(BadInputError, match="no image"):
        open_source(tmp_path, fps=FPS)


def test_image_folder_needs_a_rate(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "a.png"), frame_image(0))
    with pytest.raises(BadInputError, match="fps"):
        open_source(tmp_path)


def test_unreadable_image_names_file_and_index(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "a.png"), frame_image(0))
    (tmp_path / "b.png").write_bytes(b"this is no png")
    with open_source(tmp_path, fps=FPS) as source, pytest.raises(BadInputError) as error:
        list(source)
    assert error.value.record == 1
    assert "b.png" in str(error.value)


def test_image_of_another_size_is_bad_input(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "a.png"), frame_image(0))
    cv2.imwrite(str(tmp_path / "b.png"), np.zeros((10, 10, 3), np.uint8))
    with open_source(tmp_path, fps=FPS) as source, pytest.raises(BadInputError, match="10x10"):
        list(source)


def test_bad_clock_offset(video: Path) -> None:
    with pytest.raises(BadInputError, match="clock"):
        open_source(video, clock_offset_s=float("nan"))
