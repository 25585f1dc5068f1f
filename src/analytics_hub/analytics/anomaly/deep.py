"""Deep detectors of the optional ``deep`` extra: an LSTM forecaster whose residuals are
scored, and an autoencoder whose reconstruction error is scored.

Both read one metric and share the same online schedule, the forest's:

- no row is scored until the first fit, after ``min_train_rows`` rows (NAB's
  probationary period is up to 750 rows, so the default 400 fits inside it);
- every ``refit_every`` rows the network is refitted on the trailing ``train_rows``
  rows, by fine-tuning the previous weights for ``refit_epochs`` (cheaper than starting
  over, and consecutive models stay alike, so raw scores stay comparable);
- a row is scored only by a model fitted on earlier rows: no peeking ahead.

The networks see windows centred on their own mean and divided by one spread per fit,
so they learn the *shape* of the recent past and are not thrown by a new level after a
shift. Values pass through the same signed square root as the other detectors first.

- :class:`LstmResidualDetector`: an LSTM reads the ``window`` rows before a row and
  predicts it; the raw score is the absolute residual over the fit's median in-sample
  residual.
- :class:`AutoencoderDetector`: a dense autoencoder (``window`` -> 16 -> 4 -> 16 ->
  ``window``) reconstructs the window ending at the row; the raw score is the
  reconstruction error of the row itself (``error="last"``) or the RMS error of the
  whole window (``error="window"``), over the fit's median in-sample error. On the
  tuning half of NAB's quick subset the row's own error scored far higher (70.8 against
  38.1, standard profile): a spike is one value in 24 of the window's error, and the
  window's error stays high for 24 rows after it.

Raw scores are calibrated per series by :class:`.TailCalibrator`, like every detector's.
Training runs in torch (:mod:`analytics_hub.analytics.neural.training`, imported at the
first fit); scoring runs the weights in numpy with the same result for any batch size,
so ``score_many`` equals row-by-row updates exactly and the state (numbers and numpy
arrays) pickles. A series flat over its training rows gets no network: any departure
from that level scores as a departure from a flat series does for the seasonal baseline.
"""

from __future__ import annotations

from abc import abstractmethod
from collections import deque
from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike

from analytics_hub.analytics.anomaly.base import FloatArray, UnivariateDetector, as_batch
from analytics_hub.analytics.anomaly.calibrate import TailCalibrator
from analytics_hub.analytics.anomaly.seasonal import Transform
from analytics_hub.analytics.neural.inference import (
    DenseWeights,
    LstmWeights,
    dense_forward,
    lstm_forward,
)
from analytics_hub.errors import ValidationError

#: centred, scaled inputs are clipped to this many spreads: a huge spike in a training
#: window must not saturate every gate of the network for the windows it appears in
CLIP = 10.0


def _signed_sqrt(x: FloatArray) -> FloatArray:
    out: FloatArray = np.sign(x) * np.sqrt(np.abs(x))
    return out


class WindowModelDetector(UnivariateDetector):
    """The online schedule shared by the deep detectors (see the module doc)."""

    #: values a scored window holds, the row itself included
    span: int = 2

    def __init__(
        self,
        *,
        train_rows: int,
        min_train_rows: int,
        refit_every: int,
        epochs: int,
        refit_epochs: int,
        seed: int,
        transform: Transform,
        calibrator: TailCalibrator | None,
    ) -> None:
        super().__init__()
        if min_train_rows < self.span + 10 or train_rows < min_train_rows or refit_every < 1:
            raise ValueError(
                f"need window + 10 <= min_train_rows <= train_rows ({self.span + 10},"
                f" {min_train_rows}, {train_rows}) and refit_every >= 1"
            )
        if epochs < 1 or refit_epochs < 1:
            raise ValueError("epochs and refit_epochs must be at least 1")
        self.train_rows = train_rows
        self.min_train_rows = min_train_rows
        self.refit_every = refit_every
        self.epochs = epochs
        self.refit_epochs = refit_epochs
        self.seed = seed
        self.transform: Transform = transform
        self.calibrator = calibrator or TailCalibrator()
        self._recent: deque[float] = deque(maxlen=self.span - 1)  # rows before the current
        self._history: deque[float] = deque(maxlen=train_rows)  # what the next fit reads
        self._fits = 0
        self._since_fit = 0
        self._first_fit = min_train_rows
        self._flat: float | None = None  # the level of a series flat over its training rows
        self._trained = False  # whether a network exists to fine-tune
        self._spread = 1.0  # one spread per fit: windows are divided by it
        self._error_scale = 1.0  # the fit's median in-sample error: raw scores divide by it

    @property
    def fitted(self) -> bool:
        """Whether a model (or a flat level) has been fitted and rows are being scored."""
        return self._fits > 0

    def stagger(self, phase: int) -> None:
        """Fit first ``phase % refit_every`` rows later (see :class:`.base.Refitting`)."""
        if self._fits or self._history:
            raise ValueError("stagger a detector before its first row")
        self._first_fit = min(self.train_rows, self.min_train_rows + phase % self.refit_every)
        self.calibrator.stagger(phase)

    def _score_value(self, timestamp: float, value: float) -> float:
        return float(self._score_block(np.array([value]))[0])

    def score_many(self, timestamps: ArrayLike, values: ArrayLike) -> FloatArray:
        """Score rows in time order, a refit block at a time (same as :meth:`update`)."""
        ts, vals = as_batch(timestamps, values)
        if vals.shape[1] != 1 and ts.size:
            raise ValidationError(f"{self.name} scores one metric; got {vals.shape[1]} values")
        out = np.zeros(ts.size)
        i = 0
        while i < ts.size:
            take = min(max(1, self._next_fit_in()), ts.size - i)
            for t, v in zip(ts[i : i + take], vals[i : i + take], strict=True):
                self._check(float(t), v)
            out[i : i + take] = self._score_block(vals[i : i + take, 0])
            i += take
        return out

    def _next_fit_in(self) -> int:
        if not self.fitted:
            # getattr: state pickled before staggering existed
            return getattr(self, "_first_fit", self.min_train_rows) - len(self._history)
        return self.refit_every - self._since_fit

    def _score_block(self, values: FloatArray) -> FloatArray:
        """Score rows that all come before the next refit, then learn from them."""
        z = _signed_sqrt(values) if self.transform == "sqrt" else np.asarray(values)
        out = np.zeros(z.size)
        if self.fitted:
            windows = sliding_window_view(np.concatenate((np.array(self._recent), z)), self.span)
            out = self.calibrator.update_many(self._raw(windows))
        self._recent.extend(z.tolist())
        self._history.extend(z.tolist())
        self._since_fit += z.size
        if self._next_fit_in() <= 0:
            self._fit()
        return out

    def _raw(self, windows: FloatArray) -> FloatArray:
        if self._flat is not None:
            # a flat series has no spread: measure departures against its level
            floor = max(1e-3 * abs(self._flat), 1e-9)
            out: FloatArray = np.abs(windows[:, -1] - self._flat) / floor
            return out
        scored: FloatArray = self._errors(windows) / self._error_scale
        return scored

    def _fit(self) -> None:
        z = np.array(self._history)
        seed = self.seed + self._fits
        self._fits += 1
        self._since_fit = 0
        if np.ptp(z) == 0.0:
            self._flat = float(z[-1])
            return
        self._flat = None
        windows = sliding_window_view(z, self.span)
        centred = windows - windows.mean(axis=1, keepdims=True)
        self._spread = max(float(np.std(centred)), 1e-3 * abs(float(np.median(z))), 1e-9)
        # a first network trains fully (also after flat fits); later ones fine-tune
        self._train(windows, seed, self.refit_epochs if self._trained else self.epochs)
        self._trained = True
        self._error_scale = max(float(np.median(self._errors(windows))), 1e-6)

    @abstractmethod
    def _train(self, windows: FloatArray, seed: int, epochs: int) -> None:
        """Fit (or fine-tune) the network on training windows ``(n, span)``."""

    @abstractmethod
    def _errors(self, windows: FloatArray) -> FloatArray:
        """The network's error on each window ``(n, span)``, in spreads."""


class LstmResidualDetector(WindowModelDetector):
    """Flags rows far from what a small LSTM predicted from the rows before them."""

    name = "lstm_residual"

    def __init__(
        self,
        *,
        window: int = 24,
        hidden: int = 16,
        train_rows: int = 2000,
        min_train_rows: int = 400,
        refit_every: int = 1000,
        epochs: int = 12,
        refit_epochs: int = 3,
        seed: int = 0,
        transform: Transform = "sqrt",
        calibrator: TailCalibrator | None = None,
    ) -> None:
        if window < 2 or hidden < 1:
            raise ValueError("window >= 2 and hidden >= 1")
        self.span = window + 1
        self.window = window
        self.hidden = hidden
        super().__init__(
            train_rows=train_rows,
            min_train_rows=min_train_rows,
            refit_every=refit_every,
            epochs=epochs,
            refit_epochs=refit_epochs,
            seed=seed,
            transform=transform,
            calibrator=calibrator,
        )
        self._weights: LstmWeights | None = None

    def _context(self, windows: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Each window's centre ``(n, 1)`` and its rows before the last, centred, scaled
        and clipped: the network's input ``(n, window, 1)``."""
        context = windows[:, :-1]
        centre = context.mean(axis=1, keepdims=True)
        return centre, np.clip((context - centre) / self._spread, -CLIP, CLIP)[:, :, None]

    def _inputs(self, windows: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Centred, scaled inputs ``(n, window, 1)`` and targets ``(n, 1)``."""
        centre, x = self._context(windows)
        y = np.clip((windows[:, -1:] - centre) / self._spread, -CLIP, CLIP)
        return x, y

    def _train(self, windows: FloatArray, seed: int, epochs: int) -> None:
        from analytics_hub.analytics.neural.training import train_lstm  # torch: lazily

        x, y = self._inputs(windows)
        self._weights = train_lstm(
            x, y, hidden=self.hidden, epochs=epochs, seed=seed, init=self._weights
        )

    def _errors(self, windows: FloatArray) -> FloatArray:
        assert self._weights is not None
        centre, x = self._context(windows)
        predicted = lstm_forward(self._weights, x)[:, 0] * self._spread + centre[:, 0]
        # unclipped: the residual of a huge spike must stay huge
        out: FloatArray = np.abs(windows[:, -1] - predicted) / self._spread
        return out


class AutoencoderDetector(WindowModelDetector):
    """Flags rows whose window a small dense autoencoder cannot reconstruct."""

    name = "autoencoder"

    def __init__(
        self,
        *,
        window: int = 24,
        bottleneck: int = 4,
        error: Literal["last", "window"] = "last",
        train_rows: int = 2000,
        min_train_rows: int = 400,
        refit_every: int = 1000,
        epochs: int = 30,
        refit_epochs: int = 5,
        seed: int = 0,
        transform: Transform = "sqrt",
        calibrator: TailCalibrator | None = None,
    ) -> None:
        if window < 2 or bottleneck < 1 or error not in ("last", "window"):
            raise ValueError("window >= 2, bottleneck >= 1 and error 'last' or 'window'")
        self.span = window
        self.window = window
        self.bottleneck = bottleneck
        self.error: Literal["last", "window"] = error
        super().__init__(
            train_rows=train_rows,
            min_train_rows=min_train_rows,
            refit_every=refit_every,
            epochs=epochs,
            refit_epochs=refit_epochs,
            seed=seed,
            transform=transform,
            calibrator=calibrator,
        )
        self._weights: DenseWeights | None = None

    def _scaled(self, windows: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Windows centred and scaled (unclipped), and the same clipped for the network."""
        scaled = (windows - windows.mean(axis=1, keepdims=True)) / self._spread
        return scaled, np.clip(scaled, -CLIP, CLIP)

    def _train(self, windows: FloatArray, seed: int, epochs: int) -> None:
        from analytics_hub.analytics.neural.training import train_dense  # torch: lazily

        _, x = self._scaled(windows)
        width = max(self.bottleneck, min(16, self.window))
        sizes = (self.window, width, self.bottleneck, width, self.window)
        self._weights = train_dense(x, x, sizes=sizes, epochs=epochs, seed=seed, init=self._weights)

    def _errors(self, windows: FloatArray) -> FloatArray:
        assert self._weights is not None
        scaled, x = self._scaled(windows)
        reconstructed = dense_forward(self._weights, x)
        if self.error == "last":
            last: FloatArray = np.abs(scaled[:, -1] - reconstructed[:, -1])
            return last
        out: FloatArray = np.sqrt(np.mean((scaled - reconstructed) ** 2, axis=1))
        return out


__all__ = ["AutoencoderDetector", "LstmResidualDetector", "WindowModelDetector"]
