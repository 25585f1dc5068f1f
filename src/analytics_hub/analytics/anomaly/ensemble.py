"""The ensemble: members' calibrated scores combined by a vote, then gated into alarms.

Every member answers a calibrated probability ``p_i`` (see :mod:`.calibrate`), so their
scores share one scale: ``-log10(1 - p_i)``, the rarity of the row in orders of
magnitude under that member's view of the series. The vote combines these:

- ``"mean"`` (soft vote, the default): the weighted average rarity, i.e. a weighted
  geometric mean of the members' tail probabilities; one member alone must be very sure
  to carry it;
- ``"median"``: the middle member decides (a majority vote for three);
- ``"max"``: any member may raise it.

A member may also *damp* the vote (``damping``, one floor per member, 1 for none): where
that member finds the row ordinary (rarity 0), the combined rarity is multiplied by its
floor, rising linearly to 1 as the member's own rarity reaches :data:`DAMPING_RAMP`
decades. The context detector damps with 0.5: a value far from the usual that repeats a
move the series has made before counts half (measured on NAB, decision 0008).

The combined probability then goes through the :class:`.AlarmGate` (one alarm per
incident). Which detectors are members by default is measured on NAB: a detector is kept
only if adding it raises the benchmark score (``bench/anomaly_nab.py`` prints the
evidence; docs/decisions/0008-anomaly-ensemble.md records the decision).

For rows of several metrics, ``inputs`` says which value of the row each member reads
(``None``: the whole row, for multivariate members such as the Isolation Forest).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from analytics_hub.analytics.anomaly.alarm import AlarmGate, AlarmPolicy
from analytics_hub.analytics.anomaly.base import Detector, FloatArray, Observation, as_batch
from analytics_hub.analytics.anomaly.calibrate import from_surprise, surprise
from analytics_hub.errors import ValidationError

Vote = Literal["mean", "median", "max"]

#: a damping member's rarity (decades) at which it no longer damps the vote
DAMPING_RAMP = 0.5


def check_damping(damping: Sequence[float] | None, members: int) -> list[float] | None:
    """The damping floors, checked; None where no member damps."""
    if damping is None:
        return None
    floors = [float(f) for f in damping]
    if len(floors) != members or not all(0.0 <= f <= 1.0 for f in floors):
        raise ValidationError("damping needs one floor in [0, 1] per member (1: none)")
    return floors if any(f < 1.0 for f in floors) else None


def combine(
    probabilities: FloatArray,
    vote: Vote = "mean",
    weights: Sequence[float] | None = None,
    damping: Sequence[float] | None = None,
) -> FloatArray:
    """Combine members' probabilities, shaped ``(members, rows)``, into one per row.

    ``weights`` (one per member, default equal) apply to the ``"mean"`` vote; ``damping``
    (one floor per member, 1 for none) scales the result by the damping members' view.
    """
    p = np.atleast_2d(np.asarray(probabilities, dtype=np.float64))
    if p.shape[0] == 0:
        raise ValidationError("an ensemble needs at least one member")
    w = np.ones(p.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (p.shape[0],) or not bool(np.all(w > 0)):
        raise ValidationError("weights must be positive, one per member")
    s = surprise(p)
    if vote == "mean":
        joint = (w[:, None] * s).sum(axis=0) / w.sum()
    elif vote == "median":
        joint = np.median(s, axis=0)
    elif vote == "max":
        joint = s.max(axis=0)
    else:
        raise ValidationError(f"unknown vote {vote!r}; use mean, median or max")
    floors = check_damping(damping, p.shape[0])
    if floors is not None:
        for k, floor in enumerate(floors):
            if floor < 1.0:
                joint = joint * (floor + (1.0 - floor) * np.minimum(1.0, s[k] / DAMPING_RAMP))
    return from_surprise(joint)


def combine_one(
    probabilities: Sequence[float],
    weights: Sequence[float],
    damping: Sequence[float] | None = None,
) -> float:
    """:func:`combine` of one row under the ``"mean"`` vote, on Python floats.

    The streaming case scores one row per series and metric; this is the same arithmetic
    (numpy only for the logarithm and the power, so that the bits are the same) without
    the arrays. ``weights`` must be positive, one per probability; ``damping`` as in
    :func:`combine`, already checked.
    """
    total, joint = 0.0, 0.0
    rarities = [-float(np.log10(max(1.0 - p, 1e-300))) for p in probabilities]
    for r, w in zip(rarities, weights, strict=True):
        joint += w * r
        total += w
    joint = joint / total
    if damping is not None:
        for r, floor in zip(rarities, damping, strict=True):
            if floor < 1.0:
                joint = joint * (floor + (1.0 - floor) * min(1.0, r / DAMPING_RAMP))
    return 1.0 - float(np.power(10.0, -joint))


class Ensemble:
    """Scores rows with several detectors, votes, and gates the result into alarms."""

    name = "ensemble"

    def __init__(
        self,
        members: Sequence[Detector],
        *,
        vote: Vote = "mean",
        weights: Sequence[float] | None = None,
        inputs: Sequence[int | None] | None = None,
        damping: Sequence[float] | None = None,
        gate: AlarmGate | None = None,
        policy: AlarmPolicy | None = None,
    ) -> None:
        if not members:
            raise ValidationError("an ensemble needs at least one member")
        if inputs is not None and len(inputs) != len(members):
            raise ValidationError("inputs needs one entry per member")
        self.members = list(members)
        self.vote: Vote = vote
        self.weights = [1.0] * len(members) if weights is None else [float(w) for w in weights]
        self.damping = check_damping(damping, len(members))
        # reject bad weights now
        combine(np.zeros((len(members), 1)), vote, self.weights, self.damping)
        self.inputs: list[int | None] = (
            list(inputs) if inputs is not None else [None] * len(members)
        )
        self.gate = gate or AlarmGate()
        self.policy = policy or AlarmPolicy()
        #: the members' probabilities for the last row scored, by member name
        self.votes: dict[str, float] = {}

    def _pick(self, k: int, value: Observation) -> Observation:
        index = self.inputs[k]
        if index is None:
            return value
        row = np.atleast_1d(np.asarray(value, dtype=np.float64))
        if not 0 <= index < row.size:
            raise ValidationError(f"member {k} reads value {index}; the row has {row.size}")
        return float(row[index])

    def update(self, timestamp: float, value: Observation) -> float:
        """Score one row: the gated combined probability (0 unless it beats the recent past)."""
        ps = np.array(
            [m.update(timestamp, self._pick(k, value)) for k, m in enumerate(self.members)]
        )
        self.votes = {m.name: float(p) for m, p in zip(self.members, ps, strict=True)}
        joint = combine(ps.reshape(-1, 1), self.vote, self.weights, self.damping)
        return self.gate.update(float(joint[0]))

    def member_scores(self, timestamps: ArrayLike, values: ArrayLike) -> FloatArray:
        """Each member's calibrated probabilities for a batch, shaped ``(members, rows)``."""
        ts, vals = as_batch(timestamps, values)
        rows = []
        for k, m in enumerate(self.members):
            index = self.inputs[k]
            if index is not None and not 0 <= index < vals.shape[1]:
                raise ValidationError(f"member {k} reads value {index}; rows have {vals.shape[1]}")
            rows.append(m.score_many(ts, vals if index is None else vals[:, index]))
        out: FloatArray = np.array(rows).reshape(len(self.members), ts.size)
        return out

    def score_many(self, timestamps: ArrayLike, values: ArrayLike) -> FloatArray:
        """Score rows in time order; the same as :meth:`update` on each in turn."""
        ps = self.member_scores(timestamps, values)
        if ps.shape[1]:
            self.votes = {m.name: float(p) for m, p in zip(self.members, ps[:, -1], strict=True)}
        return self.gate.update_many(combine(ps, self.vote, self.weights, self.damping))

    def is_alarm(self, score: float) -> bool:
        """Whether a score from :meth:`update` is an alarm under this series' policy."""
        return self.policy.is_alarm(score)


__all__ = ["DAMPING_RAMP", "Ensemble", "Vote", "check_damping", "combine", "combine_one"]
