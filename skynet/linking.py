"""Scoring a link A → B between two sightings: is B the same vehicle, seen later?

All candidates of one sighting are scored at once. Each candidate pair gets
six features:

* ``appearance``: dot product of the two unit appearance vectors;
* ``gap_fit``: log-normal log-likelihood (up to a constant) of the time gap
  relative to the free-flow time of the road path between the two views,
  ``r = (gap + GAP_SLACK_S) / (free_flow + GAP_SLACK_S)``, with a flat floor
  on the slow side (a detour); a gap shorter than the class's top speed
  allows makes the link impossible (probability 0). The timeline's linker
  measures that path from where A's vehicle left A's view, on the edge it
  left on and in that direction, to where B's entered B's view, at the
  pair's class speed (:mod:`skynet._directed`): a vehicle that left one
  camera the other way round needs that much longer. Camera to camera (the
  transition model), a junction camera's two approaches look seconds apart
  when the roads between them take minutes; with the directed trip the
  true next sighting's gap ratio has a median of 1.05 (10-90 %: 0.96-1.29)
  on the simulated sightings, and the hit-and-run timeline went from 27
  sightings (precision 0.74, recall 0.63, with the camera-to-camera model
  fitted the same way) to exactly the target's 32;
* ``depart_cos``: cosine between A's heading and the direction the path to B
  leaves in (a vehicle driving away from B's side scores -1);
* ``arrive_cos``: cosine between B's heading and the direction the path
  arrives in;
* ``class_clash``: 1 when both classes are known and differ (``vehicle``
  agrees with every class);
* ``passed_cameras``: online cameras on the path between A and B (at most
  :data:`MAX_PASSED`; on the directed trip where there is one, counting
  those further along A's edge and before B's view on B's): had the vehicle
  driven it, they would most likely have seen it in between, so B is then
  rarely the *next* sighting.

A conditional logit turns them into probabilities: one sighting's candidates
compete with each other and with "not seen" (:class:`LinkModel`), and a
Platt scaling of the result corrects what the competition leaves
under-confident. The weights were fitted on simulated sightings
(:mod:`skynet.synthetic.sightings`) of the hit-and-run scenario (seed 2024):
the true next sighting of each sighting's vehicle is the choice, the other
candidates in its window the alternatives; day and night have their own
weights because appearance is far weaker in the dark (the night model all
but ignores it). Refit with
``.venv/bin/pytest tests/skynet/test_linking.py -m slow -k refit -s``, which
prints the constants below; ``-k held_out`` prints the reliability table on
a city the model never saw (seed 7).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from skynet.errors import BadInputError
from trackers.sighting import APPEARANCE_DIM, Sighting

FloatArray = NDArray[np.float64]
Light = Literal["day", "night"]

FEATURES: Final = (
    "appearance",
    "gap_fit",
    "depart_cos",
    "arrive_cos",
    "class_clash",
    "passed_cameras",
)
#: Seconds added to gap and free-flow time: views overlap junctions, and a
#: vehicle leaves a view before the end of the edge the camera watches.
GAP_SLACK_S: Final = 15.0
#: Plausible top and bottom speeds (m/s) per class; ``vehicle`` is any class.
SPEED_RANGE_MPS: Final = {
    "vehicle": (0.5, 45.0),
    "car": (1.0, 45.0),
    "van": (1.0, 40.0),
    "truck": (1.0, 33.0),
    "three_wheeler": (0.8, 22.0),
    "e_bike": (0.5, 15.0),
    "excavator": (0.3, 10.0),
}
#: Gap log-likelihood of any pace slower than usual, up to the window's
#: :data:`MAX_SLOWDOWN`: vehicles (fleeing ones above all) take detours.
DETOUR_LOG_LIKELIHOOD: Final = -3.0
#: Least spread of the log gap ratio: the simulator's vehicles hold their speed
#: along an edge, real ones slow for junctions, queues and each other.
GAP_SIGMA_FLOOR: Final = 0.2
#: Lowest gap log-likelihood used: beyond it a gap is simply wrong, by any amount.
GAP_FLOOR: Final = 10.0
#: Passed cameras counted at most (beyond, the link is implausible anyway).
MAX_PASSED: Final = 3.0
#: Links scored below this are left out of the Platt fit (see :func:`fit_platt`).
PLATT_FROM: Final = 0.05
#: Slowest pace the candidate window allows, as a multiple of free-flow time
#: (the longer of the camera-to-camera and the directed trip): a fleeing driver
#: on rural lanes takes detours of several times the quickest way (at 3, the
#: first coverage-sweep escape, seed 100, broke at a gap of 3.1x: 722 s against
#: 233 s of camera-to-camera free flow).
MAX_SLOWDOWN: Final = 6.0
#: Extra seconds on the late end of a candidate window (a stop at a light, a queue).
WINDOW_PAD_S: Final = 240.0


@dataclass(frozen=True)
class LinkModel:
    """Conditional-logit weights (the "none of them" score first, then :data:`FEATURES`).

    The candidates of one sighting compete: candidate ``j`` gets
    ``exp(s_j) / (exp(w_0) + sum_k exp(s_k))`` with ``s = features @ w[1:]``,
    so a perfect-looking candidate among several look-alikes is not sure,
    and a poor one alone is still unlikely (``w_0`` stands for "not seen").
    """

    weights: tuple[float, ...]
    gap_mu: float
    gap_sigma: float
    #: Platt scaling ``(a, b)`` of the softmax's log-odds: look-alike
    #: candidates of the same vehicle (later, non-consecutive sightings) share
    #: the softmax's mass, which leaves it under-confident.
    platt: tuple[float, float] = (1.0, 0.0)

    def probability(
        self,
        features: FloatArray,
        feasible: NDArray[np.bool_],
        group: NDArray[np.intp] | None = None,
    ) -> FloatArray:
        """Probability per row that it is the next sighting of its group's vehicle.

        Rows with the same ``group`` are one sighting's candidates (all rows,
        when ``group`` is None); physically impossible rows get 0.
        """
        w = np.asarray(self.weights, dtype=np.float64)
        groups = np.zeros(features.shape[0], dtype=np.intp) if group is None else group
        score = np.where(feasible, features @ w[1:], -np.inf)
        return _platt(_softmax_with_none(score, groups, float(w[0])), self.platt)


def _log_odds(p: FloatArray) -> FloatArray:
    clipped = np.clip(p, 1e-12, 1.0 - 1e-12)
    return np.asarray(np.log(clipped / (1.0 - clipped)), dtype=np.float64)


def _platt(p: FloatArray, platt: tuple[float, float]) -> FloatArray:
    """Rescaled log-odds; impossible links stay at 0."""
    a, b = platt
    out = 1.0 / (1.0 + np.exp(-(a * _log_odds(p) + b)))
    return np.asarray(np.where(p > 0.0, out, 0.0), dtype=np.float64)


def _softmax_with_none(score: FloatArray, group: NDArray[np.intp], none: float) -> FloatArray:
    """Per-group softmax over the rows' scores and one extra "none" score."""
    if score.shape[0] == 0:
        return np.zeros(0)
    size = int(group.max()) + 1
    top = np.full(size, none)
    np.maximum.at(top, group, score)
    shifted = np.exp(score - top[group])
    total = np.exp(none - top)
    np.add.at(total, group, shifted)
    return np.asarray(shifted / total[group], dtype=np.float64)


# Fitted by the refit test (see the module docstring) on the hit-and-run scenario, seed 2024,
# with 5 % of passages missed by the detector: fitted on sightings that never miss, a link
# past one silent camera scored e^-7 (a chain broke at the first miss); now e^-4.
LINK_MODELS: Final[dict[Light, LinkModel]] = {
    "day": LinkModel(
        weights=(6.9886, 8.8251, 1.881, 0.7632, 2.7119, -4.1431, -4.0566),
        gap_mu=0.0176,
        gap_sigma=0.2,
        platt=(1.4453, -0.0437),
    ),
    "night": LinkModel(
        weights=(0.685, 0.9329, 1.9584, 1.4987, 3.0598, -5.2479, -3.9103),
        gap_mu=0.0176,
        gap_sigma=0.2,
        platt=(1.3168, 0.0023),
    ),
}


@dataclass(frozen=True, eq=False)
class SightingArrays:
    """Columns of many sightings (NaN where a sighting lacks a value)."""

    ids: NDArray[np.str_]
    camera_ids: NDArray[np.str_]
    t_in: FloatArray
    t_out: FloatArray
    classes: NDArray[np.str_]
    appearance: NDArray[np.float32]
    heading_deg: FloatArray
    entry_xy: FloatArray
    exit_xy: FloatArray

    @classmethod
    def from_sightings(cls, sightings: Sequence[Sighting]) -> SightingArrays:
        def xy(points: list[tuple[float, float] | None]) -> FloatArray:
            out = np.full((len(points), 2), np.nan)
            for row, point in enumerate(points):
                if point is not None:
                    out[row] = point
            return out

        return cls(
            ids=np.array([s.id for s in sightings], dtype=str),
            camera_ids=np.array([s.camera_id for s in sightings], dtype=str),
            t_in=np.array([s.t_in for s in sightings], dtype=np.float64),
            t_out=np.array([s.t_out for s in sightings], dtype=np.float64),
            classes=np.array([s.vehicle_class for s in sightings], dtype=str),
            appearance=(
                np.stack([s.appearance for s in sightings]).astype(np.float32)
                if sightings
                else np.zeros((0, APPEARANCE_DIM), dtype=np.float32)
            ),
            heading_deg=np.array(
                [np.nan if s.heading_deg is None else s.heading_deg for s in sightings],
                dtype=np.float64,
            ),
            entry_xy=xy([s.entry_xy for s in sightings]),
            exit_xy=xy([s.exit_xy for s in sightings]),
        )

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @classmethod
    def concat(cls, parts: Sequence[SightingArrays]) -> SightingArrays:
        """The parts' rows one after another (no parts: no rows)."""
        if not parts:
            return cls.from_sightings([])
        if len(parts) == 1:
            return parts[0]
        return cls(
            **{
                name: np.concatenate([getattr(p, name) for p in parts])
                for name in cls.__dataclass_fields__
            }
        )

    def take(self, rows: NDArray[np.intp]) -> SightingArrays:
        """The selected rows (repeats allowed, e.g. one sighting against many); the fields
        named one by one (a timeline takes rows tens of thousands of times)."""
        return SightingArrays(
            self.ids[rows],
            self.camera_ids[rows],
            self.t_in[rows],
            self.t_out[rows],
            self.classes[rows],
            self.appearance[rows],
            self.heading_deg[rows],
            self.entry_xy[rows],
            self.exit_xy[rows],
        )


@dataclass(frozen=True, eq=False)
class PairPaths:
    """The road path of each candidate pair: free-flow time, length, and how it leaves/arrives.

    Bearings are clockwise from north; NaN where the path is too short to say.
    ``passed`` counts the online cameras watching the path between the two.
    """

    free_flow_s: FloatArray
    distance_m: FloatArray
    depart_deg: FloatArray
    arrive_deg: FloatArray
    passed: FloatArray

    def take(self, rows: NDArray[np.intp]) -> PairPaths:
        """The selected pairs."""
        return PairPaths(**{name: getattr(self, name)[rows] for name in self.__dataclass_fields__})


def speed_range(classes: NDArray[np.str_]) -> tuple[FloatArray, FloatArray]:
    """Bottom and top plausible speed per class (unknown names count as ``vehicle``).

    One comparison per known class over the whole array: a step scores thousands of
    pairs, and sorting their class names (``np.unique``) cost more than the rest.
    """
    flat = np.asarray(classes).reshape(-1)
    vehicle = SPEED_RANGE_MPS["vehicle"]
    low, high = np.full(flat.shape, vehicle[0]), np.full(flat.shape, vehicle[1])
    for name, (bottom, top) in SPEED_RANGE_MPS.items():
        if name != "vehicle":
            hit = flat == name
            low[hit], high[hit] = bottom, top
    return low, high


def candidate_window(
    t_out: float, vehicle_class: str, free_flow_s: FloatArray, distance_m: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Earliest and latest ``t_in`` of a later sighting at each reachable camera."""
    top = SPEED_RANGE_MPS.get(vehicle_class, SPEED_RANGE_MPS["vehicle"])[1]
    earliest = t_out + distance_m / top - GAP_SLACK_S
    latest = t_out + free_flow_s * MAX_SLOWDOWN + WINDOW_PAD_S
    return earliest, latest


def link_features(
    early: SightingArrays, late: SightingArrays, paths: PairPaths, model: LinkModel
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Feature rows (columns :data:`FEATURES`) and feasibility of pairs ``early[i] → late[i]``."""
    n = len(early)
    if len(late) != n or paths.free_flow_s.shape[0] != n:
        msg = f"pair arrays differ in length ({n}, {len(late)}, {paths.free_flow_s.shape[0]})"
        raise BadInputError(msg, field="pairs")
    appearance = np.einsum(
        "ij,ij->i", early.appearance.astype(np.float64), late.appearance.astype(np.float64)
    )
    gap = late.t_in - early.t_out
    ratio = np.maximum(gap + GAP_SLACK_S, 1e-3) / (paths.free_flow_s + GAP_SLACK_S)
    z = (np.log(ratio) - model.gap_mu) / model.gap_sigma
    slower = np.log(ratio) > model.gap_mu
    # a detour (an escape on back lanes) is slower than free flow by any amount
    gap_fit = np.where(slower, np.maximum(-0.5 * z * z, DETOUR_LOG_LIKELIHOOD), -0.5 * z * z)
    _, top_early = speed_range(early.classes)
    _, top_late = speed_range(late.classes)
    top = np.minimum(top_early, top_late)
    feasible = (gap + GAP_SLACK_S > 0.0) & (
        paths.distance_m <= top * np.maximum(gap + GAP_SLACK_S, 0.0)
    )
    depart = np.nan_to_num(np.cos(np.radians(early.heading_deg - paths.depart_deg)), nan=0.0)
    arrive = np.nan_to_num(np.cos(np.radians(late.heading_deg - paths.arrive_deg)), nan=0.0)
    known = (early.classes != "vehicle") & (late.classes != "vehicle")
    clash = (known & (early.classes != late.classes)).astype(np.float64)
    passed = np.minimum(paths.passed, MAX_PASSED)
    features = np.column_stack(
        [appearance, np.maximum(gap_fit, -GAP_FLOOR), depart, arrive, clash, passed]
    )
    return features, feasible


def score_links(
    early: SightingArrays,
    late: SightingArrays,
    paths: PairPaths,
    model: LinkModel,
    group: NDArray[np.intp] | None = None,
) -> FloatArray:
    """Probability that ``late[i]`` is the next sighting of ``early[i]``'s vehicle.

    Rows with one ``group`` value are one sighting's competing candidates
    (default: all rows are).
    """
    features, feasible = link_features(early, late, paths, model)
    return model.probability(features, feasible, group)


def rough_scores(
    early: SightingArrays,
    late: SightingArrays,
    free_flow_s: FloatArray,
    distance_m: FloatArray,
    model: LinkModel,
) -> FloatArray:
    """Each pair's score from what needs no road path: appearance, time gap, class.

    Direction and cameras passed count as neutral; infeasible pairs get
    ``-inf``. Cheap over thousands of candidates, it picks the few that are
    worth measuring on the road (see ``skynet.timeline.SHORTLIST``).
    """
    unknown = np.full(free_flow_s.shape[0], np.nan)
    paths = PairPaths(free_flow_s, distance_m, unknown, unknown, np.zeros_like(unknown))
    features, feasible = link_features(early, late, paths, model)
    w = np.asarray(model.weights, dtype=np.float64)
    return np.asarray(np.where(feasible, features @ w[1:], -np.inf), dtype=np.float64)


def light_at(t_s: float, lon: float) -> Light:
    """``night`` between 18:30 and 06:00 local solar time at longitude ``lon``, else ``day``."""
    hour = ((t_s / 3600.0) + lon / 15.0) % 24.0
    return "night" if hour >= 18.5 or hour < 6.0 else "day"


def fit_link_model(
    features: FloatArray,
    feasible: NDArray[np.bool_],
    group: NDArray[np.intp],
    label: NDArray[np.bool_],
    gap_mu: float,
    gap_sigma: float,
    *,
    l2: float = 0.1,
) -> LinkModel:
    """Maximum-likelihood conditional logit (L2 on the feature weights).

    Each group is one sighting's candidates; its ``label`` rows (at most one)
    are the true next sighting, and a group without one chose "none".
    """
    rows = np.flatnonzero(feasible)
    x, g, y = features[rows], group[rows], label[rows].astype(np.float64)
    size = int(group.max()) + 1 if group.size else 0
    chosen_none = np.ones(size)
    np.subtract.at(chosen_none, g, y)
    penalty = np.r_[0.0, np.full(features.shape[1], l2)]

    def loss(w: FloatArray) -> tuple[float, FloatArray]:
        p = _softmax_with_none(x @ w[1:], g, float(w[0]))
        p_none = np.ones(size)
        np.subtract.at(p_none, g, p)
        picked = np.sum(y * np.log(np.maximum(p, 1e-300)))
        none_term = np.sum(chosen_none * np.log(np.maximum(p_none, 1e-300)))
        value = -(picked + none_term) + 0.5 * float(np.sum(penalty * w * w))
        grad_feat = -(x.T @ (y - p))
        grad_none = -float(np.sum(chosen_none - p_none))
        return value, np.r_[grad_none, grad_feat] + penalty * w

    result = minimize(loss, np.zeros(features.shape[1] + 1), jac=True, method="L-BFGS-B")
    weights = tuple(round(float(w), 4) for w in result.x)
    return LinkModel(weights=weights, gap_mu=gap_mu, gap_sigma=gap_sigma)


def gap_model(
    early: SightingArrays, late: SightingArrays, free_flow_s: FloatArray
) -> tuple[float, float]:
    """Centre and spread (robust) of the log gap ratio over true consecutive pairs."""
    ratio = np.maximum(late.t_in - early.t_out + GAP_SLACK_S, 1e-3) / (free_flow_s + GAP_SLACK_S)
    logs = np.log(ratio)
    centre = float(np.median(logs))
    spread = 1.4826 * float(np.median(np.abs(logs - centre)))
    return round(centre, 4), round(max(spread, GAP_SIGMA_FLOOR), 4)


def bearing_deg(dx: FloatArray, dy: FloatArray) -> FloatArray:
    """Clockwise-from-north bearing of displacement vectors."""
    return np.asarray(np.degrees(np.arctan2(dx, dy)) % 360.0, dtype=np.float64)


def reliability(
    probability: FloatArray, right: NDArray[np.bool_], bins: int = 5
) -> list[tuple[float, float, float, int]]:
    """Reliability table: per probability bin, ``(low, mean score, share right, count)``."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probability, edges) - 1, 0, bins - 1)
    table = []
    for b in range(bins):
        rows = which == b
        count = int(rows.sum())
        if count:
            table.append(
                (float(edges[b]), float(probability[rows].mean()), float(right[rows].mean()), count)
            )
        else:
            table.append((float(edges[b]), math.nan, math.nan, 0))
    return table


@dataclass(frozen=True, eq=False)
class LabelledPairs:
    """Candidate pairs with the truth: for fitting and checking the model.

    ``group`` numbers the sighting whose candidates a row is; ``is_next``
    marks the true next sighting of that sighting's vehicle, ``same`` any
    later sighting of it.
    """

    early: SightingArrays
    late: SightingArrays
    paths: PairPaths
    group: NDArray[np.intp]
    is_next: NDArray[np.bool_]
    same: NDArray[np.bool_]

    @classmethod
    def concat(cls, parts: Sequence[LabelledPairs]) -> LabelledPairs:
        def join(objects: Sequence[object], kind: type) -> object:
            names = kind.__dataclass_fields__  # type: ignore[attr-defined]
            return kind(**{n: np.concatenate([getattr(o, n) for o in objects]) for n in names})

        offsets = np.cumsum([0] + [int(p.group.max()) + 1 if p.group.size else 0 for p in parts])
        return cls(
            early=join([p.early for p in parts], SightingArrays),  # type: ignore[arg-type]
            late=join([p.late for p in parts], SightingArrays),  # type: ignore[arg-type]
            paths=join([p.paths for p in parts], PairPaths),  # type: ignore[arg-type]
            group=np.concatenate([p.group + o for p, o in zip(parts, offsets, strict=False)]),
            is_next=np.concatenate([p.is_next for p in parts]),
            same=np.concatenate([p.same for p in parts]),
        )

    def probability(self, model: LinkModel) -> FloatArray:
        """The model's probability for every row, candidates competing within groups."""
        features, feasible = link_features(self.early, self.late, self.paths, model)
        return model.probability(features, feasible, self.group)


def fit_pairs(pairs: LabelledPairs, *, l2: float = 0.1) -> LinkModel:
    """Fit the gap model on the true next pairs, then the conditional logit on all."""
    rows = np.flatnonzero(pairs.is_next)
    mu, sigma = gap_model(
        pairs.early.take(rows), pairs.late.take(rows), pairs.paths.free_flow_s[rows]
    )
    base = LinkModel(weights=(0.0,) * (len(FEATURES) + 1), gap_mu=mu, gap_sigma=sigma)
    features, feasible = link_features(pairs.early, pairs.late, pairs.paths, base)
    model = fit_link_model(features, feasible, pairs.group, pairs.is_next, mu, sigma, l2=l2)
    raw = model.probability(features, feasible, pairs.group)
    return dataclasses.replace(model, platt=fit_platt(raw, pairs.is_next))


def fit_platt(
    probability: FloatArray, right: NDArray[np.bool_], *, least: float = PLATT_FROM
) -> tuple[float, float]:
    """Logistic regression of ``right`` on the log-odds of links scored ``least`` or more.

    Only those: the tens of thousands of hopeless candidates would otherwise
    decide the fit, and no timeline ever takes them.
    """
    rows = probability >= least
    z, y = _log_odds(probability[rows]), right[rows].astype(np.float64)

    def loss(w: FloatArray) -> tuple[float, FloatArray]:
        t = w[0] * z + w[1]
        p = 1.0 / (1.0 + np.exp(-t))
        value = float(np.sum(np.logaddexp(0.0, t) - y * t))
        return value, np.array([np.sum((p - y) * z), np.sum(p - y)])

    result = minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
    return round(float(result.x[0]), 4), round(float(result.x[1]), 4)
