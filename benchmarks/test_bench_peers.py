"""Peers on the same machine and in the same run: scikit-learn and PyTorch.

Each peer trains the notebook's network shape (784-16-10 and 784-128-10,
logistic hidden layer) with plain SGD at 0.01, no momentum, no L2, in file
order, at batch sizes 1, 32, 128, 1024, in float32, for one epoch; samples/s
= ``extra_info["n_samples"]`` / median, as for ``test_bench_training``. A peer
that is not installed is skipped, never faked.

- scikit-learn ``MLPClassifier`` (``solver="sgd"``, ``momentum=0``,
  ``max_iter=1``, ``shuffle=False``) has no squared-error classifier: its output
  layer is softmax with log-loss. The FLOP shape of a step is the same (two
  GEMMs forward, three backward); only the output elementwise pass differs. It
  keeps float32 input in float32, so the uint8 images are scaled to float32
  outside the timing. It runs on the first 10,000 images (5,000 at batch 1,
  ~0.1 ms per step in Python): at 784-128-10 a whole epoch takes up to 30 s.
- PyTorch (eager, ``torch.set_num_threads(2)`` like our BLAS threads): sigmoid
  hidden and output, the notebook's loss sum((y_hat - y)^2) per sample, mean
  over the batch, ``torch.optim.SGD``. The input stays uint8 and each batch is
  scaled to float32 inside the loop, as fastmlp does. Batch 1 runs on a
  5,000-sample slice (~0.2 ms per step).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from benchutil import BATCH_SIZES, NETWORKS, ROUNDS, SMOKE_SAMPLES, record

SLICE_BATCH_1 = 5000
SKLEARN_SLICE = 10000  # scikit-learn at 784-128-10 runs ~2-30 k samples/s: bound the time
TORCH_THREADS = 2

networks = pytest.mark.parametrize("network", list(NETWORKS))
batches = pytest.mark.parametrize("batch_size", BATCH_SIZES)


def _n_samples(batch_size: int, total: int, smoke: bool, limit: int | None = None) -> int:
    n = SLICE_BATCH_1 if batch_size == 1 else min(total, limit or total)
    return min(n, 500 if batch_size == 1 else SMOKE_SAMPLES) if smoke else n


@batches
@networks
def test_sklearn_epoch(benchmark, train_flat, warm_numba, smoke, network, batch_size):
    sklearn = pytest.importorskip("sklearn", reason="scikit-learn not installed: peer skipped")
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    x, y = train_flat
    n = _n_samples(batch_size, len(x), smoke, SKLEARN_SLICE)
    x = x[:n].astype(np.float32) / np.float32(255)
    y = y[:n]

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return MLPClassifier(
                hidden_layer_sizes=NETWORKS[network], activation="logistic", solver="sgd",
                learning_rate_init=0.01, momentum=0.0, alpha=0.0, batch_size=batch_size,
                max_iter=1, shuffle=False, random_state=0,
            ).fit(x, y)

    benchmark.group = f"epoch {network} batch {batch_size}"
    record(
        benchmark, "epoch", "scikit-learn", network=network, batch_size=batch_size,
        dtype="float32", n_samples=n, input="float32", path="softmax + log-loss",
        version=sklearn.__version__, **warm_numba,
    )
    model = benchmark.pedantic(fit, rounds=ROUNDS, warmup_rounds=1)
    assert model.coefs_[0].dtype == np.float32


@batches
@networks
def test_torch_epoch(benchmark, train_flat, warm_numba, smoke, network, batch_size):
    torch = pytest.importorskip(
        "torch", reason="PyTorch not installed (nox -s bench installs torch==2.13.0): peer skipped"
    )
    torch.set_num_threads(TORCH_THREADS)
    x, y = train_flat
    n = _n_samples(batch_size, len(x), smoke)
    x_u8 = torch.from_numpy(np.array(x[:n]))
    targets = torch.nn.functional.one_hot(torch.from_numpy(y[:n].astype(np.int64)), 10).float()
    hidden = NETWORKS[network][0]

    def make():
        torch.manual_seed(0)
        model = torch.nn.Sequential(
            torch.nn.Linear(784, hidden), torch.nn.Sigmoid(),
            torch.nn.Linear(hidden, 10), torch.nn.Sigmoid(),
        )
        return (model, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.0)), {}

    def epoch(model, optimizer):
        total = 0.0
        for start in range(0, n, batch_size):
            xb = x_u8[start:start + batch_size].float().div_(255)
            tb = targets[start:start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = ((model(xb) - tb) ** 2).sum(dim=1).mean()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(xb)
        return total / n

    benchmark.group = f"epoch {network} batch {batch_size}"
    record(
        benchmark, "epoch", "PyTorch", network=network, batch_size=batch_size, dtype="float32",
        n_samples=n, input="uint8", path="eager, MSE-sum, SGD", version=torch.__version__,
        torch_threads=torch.get_num_threads(), **warm_numba,
    )
    loss = benchmark.pedantic(epoch, setup=make, rounds=ROUNDS, warmup_rounds=1)
    assert np.isfinite(loss)
