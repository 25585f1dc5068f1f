"""The deep detectors (optional ``deep`` extra): known answers on small synthetic series.

The streaming contract (no peeking, batch equals row by row, pickling, cold start, bad
rows, a constant series) is checked for every registered detector, these included, in
``anomaly/test_contract.py``. Settings here are small so the file stays fast.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.typing import NDArray

from analytics_hub.analytics.anomaly import registry as registry_module
from analytics_hub.analytics.anomaly.deep import (
    AutoencoderDetector,
    LstmResidualDetector,
    WindowModelDetector,
)
from analytics_hub.analytics.anomaly.registry import builtin_registry
from analytics_hub.analytics.neural import inference
from analytics_hub.errors import ValidationError

torch = pytest.importorskip("torch", reason="the optional 'deep' extra is not installed")
training = pytest.importorskip("analytics_hub.analytics.neural.training")

STEP = 300.0
START = 1_699_920_000.0
SMALL = {"min_train_rows": 300, "train_rows": 600, "refit_every": 400, "epochs": 8}


def daily(n: int, seed: int = 0, noise: float = 2.0) -> tuple[NDArray[np.float64], ...]:
    """Five-minute rows of a daily sine (100 +/- 30) with Gaussian noise."""
    rng = np.random.default_rng(seed)
    t = START + STEP * np.arange(n)
    v = 100.0 + 30.0 * np.sin(2 * np.pi * np.arange(n) / 288) + rng.normal(0, noise, n)
    return t, v


def make(kind: type[WindowModelDetector], **params: object) -> WindowModelDetector:
    return kind(**{**SMALL, **params})


def test_the_registry_lists_the_deep_detectors_when_torch_is_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = builtin_registry()
    assert {"lstm_residual", "autoencoder"} <= set(registry.names())
    assert isinstance(registry.create("lstm_residual"), LstmResidualDetector)
    assert isinstance(registry.create("autoencoder", window=12), AutoencoderDetector)
    # and leaves them out where torch is not installed
    monkeypatch.setattr(registry_module, "torch_available", lambda: False)
    assert not {"lstm_residual", "autoencoder"} & set(builtin_registry().names())


@pytest.mark.parametrize("kind", [LstmResidualDetector, AutoencoderDetector])
def test_a_spike_scores_higher_than_every_normal_row(kind: type[WindowModelDetector]) -> None:
    t, v = daily(900)
    v[800] += 40.0  # 20 standard deviations of the noise
    scores = make(kind).score_many(t, v)
    assert np.all(scores[:300] == 0.0)  # nothing is scored before the first fit
    assert scores[800] > 0.999
    assert scores[800] >= scores[400:800].max()
    assert np.median(scores[400:800]) < 0.9  # ordinary rows look ordinary


def test_the_lstm_flags_a_step_where_it_starts() -> None:
    t, v = daily(900, seed=1)
    v[750:] += 25.0
    scores = make(LstmResidualDetector).score_many(t, v)
    assert int(np.argmax(scores[700:])) + 700 in range(750, 753)
    assert scores[750:753].max() > 0.999


def test_the_autoencoder_flags_a_window_of_unusual_shape() -> None:
    t, v = daily(900, seed=2)
    v[780:784] = v[780:784] + np.array([15.0, -15.0, 15.0, -15.0])  # a burst of oscillation
    scores = make(AutoencoderDetector).score_many(t, v)
    assert scores[780:790].max() > 0.999
    assert scores[780:790].max() >= scores[400:780].max()


def test_a_constant_series_scores_zero_and_a_departure_from_it_alarms() -> None:
    t = START + STEP * np.arange(700)
    v = np.full(700, 45.0)
    v[650] = 46.0
    for kind in (LstmResidualDetector, AutoencoderDetector):
        scores = make(kind).score_many(t, v)
        assert scores[:650].max() == 0.0
        assert scores[650] > 0.999


def test_bad_input_is_refused_with_clear_errors() -> None:
    d = make(LstmResidualDetector)
    with pytest.raises(ValidationError, match="finite"):
        d.update(START, math.nan)
    with pytest.raises(ValidationError, match="finite"):
        d.score_many([START, START + 1], [1.0, math.inf])
    with pytest.raises(ValidationError, match="one metric"):
        d.score_many([START, START + 1], [[1.0, 2.0], [1.0, 2.0]])
    with pytest.raises(ValidationError, match="one metric"):
        make(LstmResidualDetector).update(START, [1.0, 2.0])
    d.update(START + 600, 1.0)
    with pytest.raises(ValidationError, match="time order"):
        d.update(START, 1.0)
    assert d.score_many([], []).shape == (0,)
    # gaps in time are accepted, like every detector's (rows are read in order)
    assert d.update(START + 10 * 86_400, 2.0) == 0.0
    with pytest.raises(ValueError, match="min_train_rows"):
        LstmResidualDetector(window=48, min_train_rows=50)
    with pytest.raises(ValueError, match="epochs"):
        AutoencoderDetector(epochs=0)


def test_numpy_inference_matches_the_torch_networks() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(64, 10, 1))
    lstm = training.train_lstm(x, x[:, -1, :], hidden=6, epochs=1, seed=0)
    net = torch.nn.LSTM(1, 6, batch_first=True)
    head = torch.nn.Linear(6, 1)
    with torch.no_grad():
        net.weight_ih_l0.copy_(torch.tensor(lstm.w_ih))
        net.weight_hh_l0.copy_(torch.tensor(lstm.w_hh))
        net.bias_ih_l0.copy_(torch.tensor(lstm.bias))
        net.bias_hh_l0.zero_()
        head.weight.copy_(torch.tensor(lstm.head_w))
        head.bias.copy_(torch.tensor(lstm.head_b))
        out, _ = net(torch.tensor(x, dtype=torch.float32))
        expected = head(out[:, -1, :]).numpy()
    np.testing.assert_allclose(inference.lstm_forward(lstm, x), expected, atol=1e-5)
    np.testing.assert_allclose(
        inference.lstm_forward(lstm, x, exact=False), inference.lstm_forward(lstm, x), atol=1e-12
    )
    dense = training.train_dense(x[:, :, 0], x[:, :, 0], sizes=(10, 4, 10), epochs=1, seed=0)
    layers = [torch.nn.Linear(10, 4), torch.nn.Tanh(), torch.nn.Linear(4, 10)]
    with torch.no_grad():
        for layer, (w, b) in zip(layers[::2], dense.layers, strict=True):
            layer.weight.copy_(torch.tensor(w))
            layer.bias.copy_(torch.tensor(b))
        expected = torch.nn.Sequential(*layers)(torch.tensor(x[:, :, 0], dtype=torch.float32))
    np.testing.assert_allclose(inference.dense_forward(dense, x[:, :, 0]), expected, atol=1e-5)


def test_training_is_deterministic_and_leaves_torch_as_it_found_it() -> None:
    x = np.random.default_rng(4).normal(size=(50, 8, 1))
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    first = training.train_lstm(x, x[:, -1, :], hidden=4, epochs=2, seed=7)
    after = torch.rand(1)  # the global generator did not move
    second = training.train_lstm(x, x[:, -1, :], hidden=4, epochs=2, seed=7)
    assert torch.equal(before, after)
    assert torch.get_num_threads() == threads
    np.testing.assert_array_equal(first.w_hh, second.w_hh)
    np.testing.assert_array_equal(first.head_b, second.head_b)


@pytest.mark.parametrize("kind", [LstmResidualDetector, AutoencoderDetector])
def test_a_staggered_detector_fits_first_later(kind: type[WindowModelDetector]) -> None:
    t = START + STEP * np.arange(360)
    v = np.full(360, 45.0)  # flat: its fits are instant
    plain, later = make(kind), make(kind)
    later.stagger(400 + 50)  # modulo refit_every (400): 50 rows later
    plain.score_many(t[:340], v[:340])
    later.score_many(t[:340], v[:340])
    assert plain.fitted
    assert not later.fitted
    later.score_many(t[340:], v[340:])
    assert later.fitted
    with pytest.raises(ValueError, match="before its first row"):
        later.stagger(1)
