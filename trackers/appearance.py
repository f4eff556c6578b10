"""Appearance vectors: a light-robust colour histogram of a vehicle's inner region.

A vehicle's colour is read from the central part of its box (``INNER_SHARE``
of the width and height; the corners of a box around a vehicle seen at an
angle are road). Each pixel falls into one of 64 bins:

* 48 *chromatic* bins, 24 hues × 2 saturation rings, for pixels with enough
  chroma. Hue and saturation (HSV) do not change when the light gets brighter
  or dimmer (all channels scale together), and a monotone change such as a
  gamma curve keeps each pixel's hue sector;
* 8 *achromatic* bins by brightness on a log scale, for grey, white and black pixels whose
  hue is noise (low saturation or low absolute chroma, e.g. in the dark).
  Votes are shared linearly across the grey/colour and ring boundaries, so
  no threshold makes a small change of light flip a pixel's bin;
* 8 *lightness* bins (log scale) over all pixels, counted with the small weight
  ``LIGHTNESS_WEIGHT``: brightness is what a change of light alters most,
  so it may only break ties.

Pixels far brighter than their box's median (lamps, glare) are left out:
they show which end of the vehicle faces the camera, not its paint.

The colour space lives in one lookup table from 5-bit-quantised BGR to bins,
built once, so that a frame's histograms are a table look-up and one
``np.bincount`` over all boxes' pixels (large boxes are strided down to
about ``MAX_PIXELS``). A track's histograms are summed with
per-frame weights; :func:`unit_descriptor` turns the sum into the published
vector: normalised, smoothed between neighbouring bins (hue is circular),
square-rooted (Hellinger: the dot product of two vectors is the Bhattacharyya
coefficient of their histograms) and scaled to unit length. Comparing two
vectors is their dot product.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Final

import numpy as np
import numpy.typing as npt

from trackers.sighting import APPEARANCE_DIM

FloatArray = npt.NDArray[np.float64]
ImageU8 = npt.NDArray[np.uint8]

#: Share of the box's width and height (centred) whose pixels are counted.
INNER_SHARE: Final = 0.6
#: At most about this many pixels are read per box (larger boxes are strided).
MAX_PIXELS: Final = 1024
HUE_BINS: Final = 24
SATURATION_RINGS: Final = 2
ACHROMATIC_BINS: Final = 8
LIGHTNESS_BINS: Final = 8
CHROMATIC_BINS: Final = HUE_BINS * SATURATION_RINGS
#: Weight of each pixel's lightness vote relative to its colour vote.
LIGHTNESS_WEIGHT: Final = 0.25
#: A pixel's colour vote goes to the grey bins below the first saturation
#: (chroma, max - min channel on 0–1) and to the hue bins above the second,
#: shared linearly in between, so that no threshold flips a pixel's bin.
GREY_SATURATION: Final = (0.1, 0.3)
GREY_CHROMA: Final = (0.04, 0.12)
#: Saturations of the two hue rings' centres; a pixel's hue vote is shared between them.
RING_SATURATION: Final = (0.3, 0.8)
#: Pixels brighter than ``LIGHT_RATIO`` × their box's median luma (and than
#: ``LIGHT_FLOOR``, on 0–255) are light sources, not paint: they are not counted.
LIGHT_RATIO: Final = 2.5
LIGHT_FLOOR: Final = 96.0
#: Brightness (0–255) at the bottom of the logarithmic grey and lightness scales.
DARKEST: Final = 24.0
_QUANT_BITS: Final = 5
_SHIFT: Final = 8 - _QUANT_BITS


if CHROMATIC_BINS + ACHROMATIC_BINS + LIGHTNESS_BINS != APPEARANCE_DIM:  # pragma: no cover
    msg = "the appearance bins do not add up to APPEARANCE_DIM"
    raise RuntimeError(msg)


def _ramp(values: FloatArray, bounds: tuple[float, float]) -> FloatArray:
    """0 below ``bounds[0]``, 1 above ``bounds[1]``, linear in between."""
    return np.asarray(np.clip((values - bounds[0]) / (bounds[1] - bounds[0]), 0.0, 1.0))


def _log_level(values: FloatArray, bins: int) -> tuple[npt.NDArray[np.int64], FloatArray]:
    """Lower bin and share of the upper one for brightness on a log scale.

    A change of exposure multiplies brightness, i.e. shifts its logarithm:
    on this scale it moves every pixel by the same fraction of a bin.
    """
    octaves = np.log2(np.maximum(values * 255.0, DARKEST) / DARKEST)
    position = np.clip(octaves / np.log2(255.0 / DARKEST) * bins - 0.5, 0.0, bins - 1.0)
    low = np.minimum(np.floor(position).astype(np.int64), bins - 2)
    return low, np.asarray(position - low, dtype=np.float64)


@cache
def _lookup_tables() -> tuple[
    npt.NDArray[np.uint8], npt.NDArray[np.float32], npt.NDArray[np.uint8]
]:
    """For every quantised BGR colour: its 6 bins and votes (two grey, two ring, two
    lightness: soft assignment), and its luma."""
    levels = 1 << _QUANT_BITS
    centres = (np.arange(levels, dtype=np.float64) + 0.5) * (256.0 / levels) / 255.0
    b, g, r = (axis.ravel() for axis in np.meshgrid(centres, centres, centres, indexing="ij"))
    high = np.maximum(np.maximum(b, g), r)
    chroma = high - np.minimum(np.minimum(b, g), r)
    saturation = chroma / np.maximum(high, 1e-9)
    safe = np.maximum(chroma, 1e-9)
    hue = np.where(
        high == r,
        ((g - b) / safe) % 6.0,
        np.where(high == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0),
    )  # sextants 0–6, red at 0
    hue_bin = np.floor(hue / 6.0 * HUE_BINS + 0.5).astype(np.int64) % HUE_BINS
    colourful = _ramp(saturation, GREY_SATURATION) * _ramp(chroma, GREY_CHROMA)
    outer = _ramp(saturation, RING_SATURATION)
    grey_low, grey_share = _log_level(high, ACHROMATIC_BINS)
    luma = 0.114 * b + 0.587 * g + 0.299 * r
    light_low, light_share = _log_level(luma, LIGHTNESS_BINS)
    grey_low += CHROMATIC_BINS
    light_low += CHROMATIC_BINS + ACHROMATIC_BINS
    bins = np.stack(
        [
            grey_low,
            grey_low + (grey_share > 0.0),
            hue_bin,
            HUE_BINS + hue_bin,
            light_low,
            light_low + (light_share > 0.0),
        ],
        axis=1,
    )
    grey = 1.0 - colourful
    votes = np.stack(
        [
            grey * (1.0 - grey_share),
            grey * grey_share,
            colourful * (1.0 - outer),
            colourful * outer,
            LIGHTNESS_WEIGHT * (1.0 - light_share),
            LIGHTNESS_WEIGHT * light_share,
        ],
        axis=1,
    )
    return (
        bins.astype(np.uint8),
        votes.astype(np.float32),
        np.rint(luma * 255.0).astype(np.uint8),
    )


def inner_boxes(boxes: npt.ArrayLike, width: int, height: int) -> npt.NDArray[np.int64]:
    """Integer pixel bounds ``x0, y0, x1, y1`` of each box's central region, in the image."""
    xyxy = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    centre = (xyxy[:, :2] + xyxy[:, 2:]) * 0.5
    half = (xyxy[:, 2:] - xyxy[:, :2]) * (0.5 * INNER_SHARE)
    lo = np.floor(centre - half)
    hi = np.ceil(centre + half)
    limit = np.array([width, height], dtype=np.float64)
    lo = np.clip(lo, 0.0, limit)
    hi = np.clip(hi, 0.0, limit)
    return np.concatenate([lo, hi], axis=1).astype(np.int64)


def box_histograms(image: ImageU8, boxes: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Per-box colour histograms ``(n, 64)`` (each sums to 1 + LIGHTNESS_WEIGHT) and pixel counts.

    A box with no pixels inside the image gets an all-zero row and count 0.
    Crops are views; all per-pixel work is one look-up and one ``bincount``
    over every box's pixels together.
    """
    height, width = image.shape[:2]
    bounds = inner_boxes(boxes, width, height)
    count = bounds.shape[0]
    pieces: list[ImageU8] = []
    sizes = np.zeros(count, dtype=np.int64)
    for index, (x0, y0, x1, y1) in enumerate(bounds.tolist()):
        area = (x1 - x0) * (y1 - y0)
        if area <= 0:
            continue
        step = max(1, math.ceil(math.sqrt(area / MAX_PIXELS)))
        crop = image[y0:y1:step, x0:x1:step].reshape(-1, 3)
        pieces.append(crop)
        sizes[index] = crop.shape[0]
    if not pieces:
        return np.zeros((count, APPEARANCE_DIM), dtype=np.float64), sizes.astype(np.float64)
    pixels = np.concatenate(pieces) >> _SHIFT
    key = (
        (pixels[:, 0].astype(np.int32) << (2 * _QUANT_BITS))
        | (pixels[:, 1].astype(np.int32) << _QUANT_BITS)
        | pixels[:, 2].astype(np.int32)
    )
    bin_table, vote_table, luma_table = _lookup_tables()
    owner = np.repeat(np.arange(count, dtype=np.int64), sizes)
    key, owner = _without_lights(key, owner, luma_table[key], count)
    sizes = np.bincount(owner, minlength=count)
    flat = np.bincount(
        (owner[:, None] * APPEARANCE_DIM + bin_table[key]).ravel(),
        weights=vote_table[key].ravel(),
        minlength=count * APPEARANCE_DIM,
    )
    histograms = flat.reshape(count, APPEARANCE_DIM) / np.maximum(sizes, 1)[:, None]
    return np.asarray(histograms, dtype=np.float64), sizes.astype(np.float64)


def _without_lights(
    key: npt.NDArray[np.int32],
    owner: npt.NDArray[np.int64],
    luma: npt.NDArray[np.uint8],
    count: int,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64]]:
    """Drop pixels much brighter than their box's median: lamps, glare, reflections.

    At night a vehicle's box is mostly its lamps, which show its front or
    back, not its colour; by day the rule removes nothing from a bright
    vehicle and the bright road from a dark one's corners. The median comes
    from a per-box histogram of 64 luma levels (one ``bincount``).
    """
    levels = 64
    level = luma.astype(np.int64) >> 2
    counts = np.bincount(owner * levels + level, minlength=count * levels).reshape(count, levels)
    half = counts.sum(axis=1, keepdims=True) / 2.0
    median = (np.argmax(np.cumsum(counts, axis=1) >= half, axis=1) + 0.5) * 4.0
    threshold = np.maximum(LIGHT_RATIO * median, LIGHT_FLOOR)
    keep = luma <= threshold[owner]
    return key[keep], owner[keep]


def _smooth(values: FloatArray) -> FloatArray:
    """Spread each bin a quarter into each neighbour (hue circularly), so bin edges matter less."""
    out = np.empty_like(values)
    rings = values[..., :CHROMATIC_BINS].reshape(*values.shape[:-1], -1, HUE_BINS)
    out[..., :CHROMATIC_BINS] = (
        0.5 * rings + 0.25 * np.roll(rings, 1, axis=-1) + 0.25 * np.roll(rings, -1, axis=-1)
    ).reshape(*values.shape[:-1], CHROMATIC_BINS)
    parts = ((CHROMATIC_BINS, ACHROMATIC_BINS), (APPEARANCE_DIM - LIGHTNESS_BINS, LIGHTNESS_BINS))
    for start, size in parts:
        part = values[..., start : start + size]
        padded = np.concatenate([part[..., :1], part, part[..., -1:]], axis=-1)
        out[..., start : start + size] = (
            0.5 * part + 0.25 * padded[..., :-2] + 0.25 * padded[..., 2:]
        )
    return out


def unit_descriptor(histogram_sum: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """Appearance vector(s), unit length float32, from (summed) histograms ``(..., 64)``.

    An empty histogram (nothing seen) gives the uniform vector, which is
    equally (and weakly) similar to everything.
    """
    values = np.asarray(histogram_sum, dtype=np.float64)
    total = values.sum(axis=-1, keepdims=True)
    shares = np.where(total > 0.0, values / np.where(total > 0.0, total, 1.0), 1.0)
    root = np.sqrt(np.maximum(_smooth(shares), 0.0))
    norm = np.linalg.norm(root, axis=-1, keepdims=True)
    return np.asarray(root / norm, dtype=np.float32)


def describe_boxes(image: ImageU8, boxes: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """Unit appearance vectors ``(n, 64)`` of boxes in one BGR frame."""
    histograms, _ = box_histograms(image, boxes)
    return unit_descriptor(histograms)


def similarity(first: npt.ArrayLike, second: npt.ArrayLike) -> FloatArray:
    """Cosine similarity of appearance vectors (their dot product; broadcasts)."""
    a = np.asarray(first, dtype=np.float64)
    b = np.asarray(second, dtype=np.float64)
    return np.asarray(np.sum(a * b, axis=-1), dtype=np.float64)
