"""Training the small networks with PyTorch: the only module here that imports torch.

Every fit is deterministic and runs on one CPU thread:

- the random state (weight initialisation, minibatch order) comes from the caller's seed
  inside ``torch.random.fork_rng``, so it neither depends on nor disturbs anyone else's
  use of torch's global generator;
- ``torch.set_num_threads(1)`` for the duration of the fit, then the previous value:
  these networks have a few thousand weights, threads only add contention on a shared
  2-core machine, and one thread makes the floating-point sums reproducible.

A fit may start from earlier weights (``init``): the detectors refit on their trailing
history by fine-tuning the previous model for a few epochs, which costs a fraction of a
fit from scratch and keeps consecutive models (and so their raw scores) alike.

The loss is Huber's (quadratic within one unit of the target, linear beyond): training
windows may contain anomalies, and they should not pull the model towards themselves.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from analytics_hub.analytics.neural.inference import DenseWeights, FloatArray, LstmWeights


@contextmanager
def _session(seed: int) -> Iterator[None]:
    """One thread and a private random stream seeded with ``seed``, restored after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield
    finally:
        torch.set_num_threads(threads)


def _tensor(a: FloatArray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


def _numpy(t: torch.Tensor) -> FloatArray:
    out: FloatArray = t.detach().numpy().astype(np.float64)
    return out


class _Adam:
    """Adam (Kingma & Ba), the textbook update.

    ``torch.optim``'s optimisers import TorchDynamo when the first one is created, which
    takes 7 to 9 s on the 2-core development machine: more than all the fitting a
    detector does in a test. These few lines do the same arithmetic without it.
    """

    def __init__(self, params: list[nn.Parameter], lr: float) -> None:
        self.params = params
        self.lr = lr
        self.beta1, self.beta2, self.eps = 0.9, 0.999, 1e-8
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.steps = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        self.steps += 1
        fix1 = 1.0 - self.beta1**self.steps
        fix2 = 1.0 - self.beta2**self.steps
        with torch.no_grad():
            for p, m, v in zip(self.params, self.m, self.v, strict=True):
                if p.grad is None:
                    continue
                g = p.grad
                m.mul_(self.beta1).add_(g, alpha=1.0 - self.beta1)
                v.mul_(self.beta2).addcmul_(g, g, value=1.0 - self.beta2)
                denom = (v / fix2).sqrt_().add_(self.eps)
                p.addcdiv_(m, denom, value=-self.lr / fix1)


def _optimise(
    params: list[nn.Parameter],
    forward: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int,
    batch: int,
    lr: float,
) -> None:
    """Adam over shuffled minibatches of ``(x, y)`` for ``epochs`` passes."""
    optimiser = _Adam(params, lr)
    loss_fn = nn.HuberLoss()
    n = int(x.shape[0])
    for _ in range(epochs):
        order = torch.randperm(n)
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            loss = loss_fn(forward(x[idx]), y[idx])
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 5.0)  # one wild window cannot blow it up
            optimiser.step()


def train_lstm(
    x: FloatArray,
    y: FloatArray,
    *,
    hidden: int,
    epochs: int,
    seed: int,
    init: LstmWeights | None = None,
    batch: int = 128,
    lr: float = 0.01,
) -> LstmWeights:
    """Fit an LSTM and a linear head on its last state: ``x (n, steps, inputs) -> y (n, k)``."""
    with _session(seed):
        lstm = nn.LSTM(int(x.shape[2]), hidden, batch_first=True)
        head = nn.Linear(hidden, int(y.shape[1]))
        p = dict(lstm.named_parameters())  # typed access to torch's per-layer names
        if init is not None:
            with torch.no_grad():
                p["weight_ih_l0"].copy_(_tensor(init.w_ih))
                p["weight_hh_l0"].copy_(_tensor(init.w_hh))
                p["bias_ih_l0"].copy_(_tensor(init.bias))
                p["bias_hh_l0"].zero_()  # the two biases only ever act as their sum
                head.weight.copy_(_tensor(init.head_w))
                head.bias.copy_(_tensor(init.head_b))

        def forward(batch_x: torch.Tensor) -> torch.Tensor:
            out, _ = lstm(batch_x)
            result: torch.Tensor = head(out[:, -1, :])
            return result

        params = [*lstm.parameters(), *head.parameters()]
        _optimise(params, forward, _tensor(x), _tensor(y), epochs=epochs, batch=batch, lr=lr)
        return LstmWeights(
            w_ih=_numpy(p["weight_ih_l0"]),
            w_hh=_numpy(p["weight_hh_l0"]),
            bias=_numpy(p["bias_ih_l0"]) + _numpy(p["bias_hh_l0"]),
            head_w=_numpy(head.weight),
            head_b=_numpy(head.bias),
        )


def train_dense(
    x: FloatArray,
    y: FloatArray,
    *,
    sizes: tuple[int, ...],
    epochs: int,
    seed: int,
    init: DenseWeights | None = None,
    batch: int = 128,
    lr: float = 0.01,
) -> DenseWeights:
    """Fit linear layers with tanh between them: ``x (n, sizes[0]) -> y (n, sizes[-1])``."""
    with _session(seed):
        linears = [nn.Linear(a, b) for a, b in itertools.pairwise(sizes)]
        if init is not None:
            with torch.no_grad():
                for layer, (w, b) in zip(linears, init.layers, strict=True):
                    layer.weight.copy_(_tensor(w))
                    layer.bias.copy_(_tensor(b))
        modules: list[nn.Module] = []
        for k, layer in enumerate(linears):
            modules.append(layer)
            if k < len(linears) - 1:
                modules.append(nn.Tanh())
        net = nn.Sequential(*modules)
        params = list(net.parameters())

        def forward(batch_x: torch.Tensor) -> torch.Tensor:
            result: torch.Tensor = net(batch_x)
            return result

        _optimise(params, forward, _tensor(x), _tensor(y), epochs=epochs, batch=batch, lr=lr)
        return DenseWeights(tuple((_numpy(layer.weight), _numpy(layer.bias)) for layer in linears))


__all__ = ["train_dense", "train_lstm"]
