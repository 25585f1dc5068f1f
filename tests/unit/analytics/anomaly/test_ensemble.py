"""Voting, gating, alarm policy and the detector registry."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray

from analytics_hub.analytics.anomaly import (
    DEFAULT_LEVEL,
    DEFAULT_MEMBERS,
    AlarmGate,
    AlarmPolicy,
    DetectorRegistry,
    Ensemble,
    EwmaDetector,
    MemberSpec,
    SeasonalDetector,
    builtin_registry,
    combine,
    default_ensemble,
)
from analytics_hub.analytics.anomaly.calibrate import from_surprise, surprise
from analytics_hub.analytics.anomaly.ensemble import DAMPING_RAMP, combine_one
from analytics_hub.analytics.neural import torch_available
from analytics_hub.errors import ConflictError, NotFoundError, ValidationError

Series = tuple[NDArray[np.float64], NDArray[np.float64]]


def test_soft_vote_is_the_weighted_mean_of_rarities() -> None:
    p = np.array([[0.999, 0.9], [0.9, 0.9]])  # 2 members, 2 rows; rarities 3, 1 and 1, 1
    np.testing.assert_allclose(combine(p, "mean"), [0.99, 0.9])
    np.testing.assert_allclose(combine(p, "mean", [2.0, 1.0]), [1 - 10 ** (-7 / 3), 0.9])
    np.testing.assert_allclose(combine(p, "max"), [0.999, 0.9])
    three = np.array([[0.999], [0.9], [0.5]])
    np.testing.assert_allclose(combine(three, "median"), [0.9])


def test_a_damping_member_scales_the_vote_by_how_ordinary_it_finds_the_row() -> None:
    # member 0 is sure (rarity 3); member 1 damps with floor 0.5 and finds the row ordinary
    # (rarity 0), a little unusual (half the ramp) or unusual (past the ramp)
    rarities = np.array([[3.0, 3.0, 3.0], [0.0, DAMPING_RAMP / 2, 2.0]])
    got = surprise(combine(from_surprise(rarities), "mean", [1.0, 1.0], [1.0, 0.5]))
    mean = rarities.mean(axis=0)
    np.testing.assert_allclose(got, [mean[0] * 0.5, mean[1] * 0.75, mean[2]], rtol=1e-9)
    # no damping member: the plain vote
    plain = combine(from_surprise(rarities), "mean", [1.0, 1.0])
    np.testing.assert_array_equal(combine(from_surprise(rarities), "mean", [1, 1], [1, 1]), plain)


def test_the_one_row_combination_equals_the_array_one_with_damping() -> None:
    rng = np.random.default_rng(4)
    p = 1.0 - 10.0 ** -rng.uniform(0, 4, size=(3, 200))
    p[2, ::3] = 0.0  # the damping member finds every third row ordinary
    weights, damping = [2.0, 1.0, 2.0], [1.0, 1.0, 0.5]
    rows = [combine_one(list(p[:, i]), weights, damping) for i in range(p.shape[1])]
    np.testing.assert_allclose(rows, combine(p, "mean", weights, damping), rtol=0, atol=1e-12)


def test_damping_floors_must_be_in_zero_one_one_per_member() -> None:
    p = np.array([[0.5], [0.5]])
    with pytest.raises(ValidationError, match="damping"):
        combine(p, "mean", None, [1.0])
    with pytest.raises(ValidationError, match="damping"):
        combine(p, "mean", None, [1.0, 1.5])
    with pytest.raises(ValidationError, match="damping"):
        Ensemble([EwmaDetector(), EwmaDetector()], damping=[-0.1, 1.0])


def test_combine_refuses_bad_votes_and_weights() -> None:
    p = np.array([[0.5], [0.5]])
    with pytest.raises(ValidationError, match="weights"):
        combine(p, "mean", [1.0])
    with pytest.raises(ValidationError, match="weights"):
        combine(p, "mean", [1.0, 0.0])
    with pytest.raises(ValidationError, match="vote"):
        combine(p, "most")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="member"):
        Ensemble([])


def test_gate_passes_a_plateau_once_and_an_escalation_again() -> None:
    gate = AlarmGate(quiet_rows=3)
    got = [gate.update(p) for p in (0.1, 0.9, 0.9, 0.9, 0.95, 0.2, 0.2, 0.2, 0.2, 0.9)]
    assert got == [0.1, 0.9, 0.0, 0.0, 0.95, 0.0, 0.0, 0.0, 0.0, 0.9]


def test_gate_batches_equal_single_updates() -> None:
    ps = np.random.default_rng(0).random(500)
    single = AlarmGate(20)
    expected = np.array([single.update(float(p)) for p in ps])
    block = AlarmGate(20)
    got = np.concatenate([block.update_many(ps[:7]), block.update_many(ps[7:])])
    np.testing.assert_array_equal(got, expected)
    assert block.update_many(np.zeros(0)).shape == (0,)


@pytest.mark.parametrize("quiet", [1, 3, 20])
def test_gate_matches_the_window_maximum_in_any_mix_of_single_and_block_updates(
    quiet: int,
) -> None:
    # single updates keep the window's maxima incrementally; they must agree with the
    # plain definition (beat every one of the last ``quiet`` rows), ties included
    ps = np.random.default_rng(quiet).integers(0, 6, 400) / 5.0
    gate = AlarmGate(quiet)
    got: list[float] = []
    i = 0
    for size in [1, 1, 5, 1, 30, 1, 1, 2, 100] * 10:
        part = ps[i : i + size]
        if not part.size:
            break
        got += [gate.update(float(p)) for p in part] if size == 1 else list(gate.update_many(part))
        i += part.size
    expected = [
        p if k == 0 or p > ps[max(0, k - quiet) : k].max() else 0.0 for k, p in enumerate(ps[:i])
    ]
    assert got == expected


def test_policy_offset_moves_the_threshold_by_decades_and_is_reversible() -> None:
    policy = AlarmPolicy(level=0.999)
    assert policy.threshold == pytest.approx(0.999)
    stricter = policy.adjusted(1)
    assert stricter.threshold == pytest.approx(0.9999)
    assert not stricter.is_alarm(0.9995)
    assert policy.is_alarm(0.9995)
    assert stricter.adjusted(-1) == policy
    assert policy.adjusted(-1).threshold == pytest.approx(0.99)
    assert not policy.is_alarm(0.0)
    assert AlarmPolicy().level == DEFAULT_LEVEL


def test_ensemble_updates_equal_its_batch_and_record_each_members_vote(
    seasonal_data: Callable[..., Series],
) -> None:
    t, v = seasonal_data(days=2.5)
    v[600] += 50

    def build() -> Ensemble:
        return Ensemble([SeasonalDetector(), EwmaDetector()], weights=[2.0, 1.0])

    batch = build().score_many(t, v)
    one = build()
    singles = []
    for a, b in zip(t, v, strict=True):
        singles.append(one.update(float(a), float(b)))
        if len(singles) == 601:
            assert set(one.votes) == {"seasonal", "ewma"}
            assert one.votes["seasonal"] > 1 - 1e-6
    np.testing.assert_array_equal(np.array(singles), batch)
    assert int(np.argmax(batch)) == 600
    assert one.is_alarm(batch[600])


def test_members_read_their_own_metric_of_a_row() -> None:
    rng = np.random.default_rng(4)
    t = 1e9 + 60.0 * np.arange(600)
    rows = np.stack((10 + rng.normal(0, 1, 600), 500 + rng.normal(0, 5, 600)), axis=1)
    rows[550, 1] += 80

    def build() -> Ensemble:
        return Ensemble([EwmaDetector(), EwmaDetector()], inputs=[0, 1], vote="max")

    scores = build().score_many(t, rows)
    assert int(np.argmax(scores)) == 550
    members = build().member_scores(t, rows)
    assert members.shape == (2, 600)
    assert int(np.argmax(members[1])) == 550
    assert members[0, 550] < 0.999  # the first metric saw nothing
    with pytest.raises(ValidationError, match="reads value 2"):
        Ensemble([EwmaDetector()], inputs=[2]).update(1.0, [1.0, 2.0])
    with pytest.raises(ValidationError, match="one entry per member"):
        Ensemble([EwmaDetector()], inputs=[0, 1])


def test_registry_builtins_plugins_and_errors() -> None:
    registry = builtin_registry()
    # the deep extra's detectors are built-ins too, where PyTorch is installed
    deep = ["autoencoder", "lstm_residual"] if torch_available() else []
    assert registry.names() == sorted(["context", "cusum", "ewma", "forest", "seasonal", *deep])
    assert "seasonal" in registry
    assert registry.create("ewma", alpha=0.1).name == "ewma"
    with pytest.raises(ConflictError):
        registry.register("ewma", EwmaDetector)
    with pytest.raises(NotFoundError, match=re.escape(f"known: {', '.join(registry.names())}")):
        registry.create("lstm")

    class Flat(EwmaDetector):
        name = "flat"

    registry.register("flat", Flat)
    ens = default_ensemble(registry, members=(MemberSpec("flat"), MemberSpec("seasonal", 2.0)))
    assert [m.name for m in ens.members] == ["flat", "seasonal"]
    assert ens.weights == [1.0, 2.0]
    # a fresh registry does not see another's plugins: nothing registers on import
    assert "flat" not in builtin_registry()
    assert isinstance(DetectorRegistry().names(), list)


def test_the_default_ensemble_is_built_from_the_measured_members() -> None:
    ens = default_ensemble()
    assert [m.name for m in ens.members] == [m.name for m in DEFAULT_MEMBERS]
    assert ens.weights == [m.weight for m in DEFAULT_MEMBERS]
    assert ens.damping == [m.damping for m in DEFAULT_MEMBERS]
    assert MemberSpec("forest", 1.0, {"extrapolate": False}).label == "forest[extrapolate=False]"
    assert MemberSpec("seasonal").label == "seasonal"
