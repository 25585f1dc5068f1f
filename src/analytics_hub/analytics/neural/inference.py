"""Forward passes of trained networks in numpy, identical for every batch size.

A matrix product sums in an order that depends on the BLAS kernel, and kernels are
chosen by shape: the same window scored alone and inside a batch of a thousand can
differ in the last bit, which would break the detectors' "a batch scores exactly what
row-by-row updates would" contract. Here every dot product is an elementwise product
summed along its last, contiguous axis, which numpy reduces row by row in one fixed
(pairwise) order. It is several times slower than BLAS on these tiny layers, which is
fine for scoring a row per minute and a benchmark's batches; a forecaster, which has no
such contract and runs hundreds of simulated paths, passes ``exact=False`` to use BLAS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def _dot(x: FloatArray, weight: FloatArray, exact: bool) -> FloatArray:
    """``x @ weight.T`` for ``x`` of shape ``(rows, k)`` and ``weight`` ``(out, k)``;
    ``exact``: the same bits for a row whatever the other rows (see the module doc)."""
    if not exact:
        fast: FloatArray = x @ weight.T
        return fast
    out: FloatArray = (x[:, None, :] * weight[None, :, :]).sum(axis=2)
    return out


def _sigmoid(x: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow warning for large |x|
    return out


@dataclass(frozen=True)
class LstmWeights:
    """One LSTM layer and a linear head, as torch lays them out (gates i, f, g, o)."""

    w_ih: FloatArray  # (4 * hidden, inputs)
    w_hh: FloatArray  # (4 * hidden, hidden)
    bias: FloatArray  # (4 * hidden,): bias_ih + bias_hh
    head_w: FloatArray  # (outputs, hidden)
    head_b: FloatArray  # (outputs,)

    @property
    def hidden(self) -> int:
        """The size of the hidden state."""
        return int(self.w_hh.shape[1])


def lstm_forward(weights: LstmWeights, x: FloatArray, *, exact: bool = True) -> FloatArray:
    """The head's output after the last step of ``x``, shaped ``(rows, steps, inputs)``.

    Returns ``(rows, outputs)``.
    """
    rows, steps, _ = x.shape
    hidden = weights.hidden
    h = np.zeros((rows, hidden))
    c = np.zeros((rows, hidden))
    for t in range(steps):
        gates = _dot(x[:, t, :], weights.w_ih, exact) + _dot(h, weights.w_hh, exact) + weights.bias
        i = _sigmoid(gates[:, :hidden])
        f = _sigmoid(gates[:, hidden : 2 * hidden])
        g = np.tanh(gates[:, 2 * hidden : 3 * hidden])
        o = _sigmoid(gates[:, 3 * hidden :])
        c = f * c + i * g
        h = o * np.tanh(c)
    out: FloatArray = _dot(h, weights.head_w, exact) + weights.head_b
    return out


@dataclass(frozen=True)
class DenseWeights:
    """A stack of linear layers with tanh between them (none after the last)."""

    layers: tuple[tuple[FloatArray, FloatArray], ...]  # (weight (out, in), bias (out,))


def dense_forward(weights: DenseWeights, x: FloatArray, *, exact: bool = True) -> FloatArray:
    """The network's output for ``x`` of shape ``(rows, inputs)``."""
    out = x
    last = len(weights.layers) - 1
    for k, (w, b) in enumerate(weights.layers):
        out = _dot(out, w, exact) + b
        if k < last:
            out = np.tanh(out)
    return out


__all__ = ["DenseWeights", "FloatArray", "LstmWeights", "dense_forward", "lstm_forward"]
