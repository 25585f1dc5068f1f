"""A small LSTM forecaster (the optional ``deep`` extra), with simulated intervals.

The series is modelled on the log scale when it is positive, like the other models. An
LSTM reads the last ``lags`` values (one season, at least 8 and at most 48, and at most
a third of the history), each window centred on its own mean and divided by one spread
per fit, and predicts the next value. Forecasts are recursive: each predicted step is
appended to the window that predicts the next one.

Intervals are simulated, as R's ``nnetar`` does: ``paths`` futures are run forward, each
step adding a one-step residual of the fit drawn at random (a bootstrap of the in-sample
errors), and the bounds are the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of
the simulated values per step. The errors compound through the recursion, so the
interval widens with the horizon as the model's own dynamics say it should. In-sample
residuals understate out-of-sample errors somewhat; the M4 benchmark reports the
coverage measured.

Deterministic: the training seed is fixed (see :mod:`analytics_hub.analytics.neural`)
and the bootstrap draws from a generator seeded the same way. Training runs in torch on
one thread; forecasting runs the weights in numpy. Fitting an hourly series of 700 to
960 points takes about 1 to 2 s of CPU.
"""

from __future__ import annotations

import numpy as np

from analytics_hub.analytics.forecast.base import FloatArray, Forecaster, Prediction
from analytics_hub.analytics.forecast.transform import Transform, choose_transform
from analytics_hub.analytics.neural.inference import LstmWeights, lstm_forward

#: Fewer training windows than this cannot teach the network anything.
MIN_WINDOWS = 16

#: Scaled inputs are clipped to this many spreads (see the detectors' CLIP).
CLIP = 10.0


class LSTMForecaster(Forecaster):
    """Recursive one-step LSTM on centred windows of the (log-)series."""

    name = "lstm"

    def __init__(
        self,
        *,
        hidden: int = 16,
        epochs: int = 20,
        max_lags: int = 48,
        paths: int = 200,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if hidden < 1 or epochs < 1 or max_lags < 2 or paths < 20:
            raise ValueError("hidden >= 1, epochs >= 1, max_lags >= 2 and paths >= 20")
        self._hidden = hidden
        self._epochs = epochs
        self._max_lags = max_lags
        self._paths = paths
        self._seed = seed
        self._transform = Transform(log=False)
        self._weights: LstmWeights | None = None
        self._z: FloatArray = np.empty(0)
        self._lags = 0
        self._spread = 1.0
        self._residuals: FloatArray = np.empty(0)

    def _fit(self, y: FloatArray) -> None:
        from analytics_hub.analytics.neural.training import train_lstm  # torch: lazily

        self._transform = choose_transform(y)
        z = self._transform.forward(y)
        lags = min(max(self.season, 8), self._max_lags, z.size // 3)
        if z.size - lags < MIN_WINDOWS or lags < 2:
            raise ValueError(
                f"the lstm model needs at least {MIN_WINDOWS + 6} points, got {z.size}"
            )
        windows = np.lib.stride_tricks.sliding_window_view(z, lags + 1)
        context = windows[:, :-1]
        centred = context - context.mean(axis=1, keepdims=True)
        self._spread = max(float(np.std(centred)), 1e-6 * abs(float(np.median(z))), 1e-12)
        x, target = self._scale(context), windows[:, -1:]
        centre = context.mean(axis=1, keepdims=True)
        scaled_target = np.clip((target - centre) / self._spread, -CLIP, CLIP)
        self._weights = train_lstm(
            x, scaled_target, hidden=self._hidden, epochs=self._epochs, seed=self._seed
        )
        self._z, self._lags = z, lags
        self._residuals = windows[:, -1] - self._step(context)

    def _scale(self, context: FloatArray) -> FloatArray:
        """Centred, scaled, clipped network inputs ``(rows, lags, 1)`` for windows."""
        centre = context.mean(axis=1, keepdims=True)
        out: FloatArray = np.clip((context - centre) / self._spread, -CLIP, CLIP)[:, :, None]
        return out

    def _step(self, context: FloatArray) -> FloatArray:
        """The next value after each window of ``context`` ``(rows, lags)``."""
        assert self._weights is not None
        out: FloatArray = (
            # BLAS: a forecast has no batch-equals-rows contract (see neural.inference)
            lstm_forward(self._weights, self._scale(context), exact=False)[:, 0] * self._spread
            + context.mean(axis=1)
        )
        return out

    def _run(self, start: FloatArray, horizon: int, noise: FloatArray | None) -> FloatArray:
        """Recursive forecasts from windows ``start`` ``(rows, lags)``; ``(rows, horizon)``."""
        window = start.copy()
        out = np.empty((start.shape[0], horizon))
        for h in range(horizon):
            nxt = self._step(window)
            if noise is not None:
                nxt = nxt + noise[:, h]
            out[:, h] = nxt
            window = np.concatenate((window[:, 1:], nxt[:, None]), axis=1)
        return out

    def _predict(self, horizon: int, level: float) -> Prediction:
        last = self._z[-self._lags :][None, :]
        point = self._run(last, horizon, None)[0]
        rng = np.random.default_rng(self._seed)
        noise = rng.choice(self._residuals, size=(self._paths, horizon), replace=True)
        paths = self._run(np.repeat(last, self._paths, axis=0), horizon, noise)
        alpha = 1.0 - level
        lower, upper = np.quantile(paths, [alpha / 2.0, 1.0 - alpha / 2.0], axis=0)
        inv = self._transform.inverse
        return Prediction(inv(point), inv(lower), inv(upper), level)


__all__ = ["LSTMForecaster"]
