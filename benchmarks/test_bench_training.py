"""fastmlp training throughput: one step, one full epoch, and the naive baseline.

The model is the teaching notebook's (logistic hidden and output, squared
error, plain SGD at 0.01), on uint8 MNIST, networks 784-16-10 and 784-128-10,
batch sizes 1, 32, 128, 1024, float32 and float64. The figure that matters is
samples/s = ``extra_info["n_samples"]`` / median time.

- ``test_epoch``: ``MLPClassifier.fit`` with ``max_iter=1`` on all 60,000
  training images, everything a user pays for included (validation, label
  encoding, initialization, workspace). At batch 1 that is the per-sample
  kernel (the whole epoch in one call).
- ``test_step``: one optimizer step of ``Network.train_batches`` on ``B`` rows,
  the mini-batch engine without the estimator around it (at batch 1 this is the
  mini-batch path, which momentum SGD and Adam use; plain SGD uses the
  per-sample kernel, see ``test_epoch``). Each call takes the next ``B`` rows.
- ``test_naive_baseline``: ``fastmlp.baseline.train`` (the notebook's NumPy
  loop, float64, batch 1) on the first 5,000 images: a stable figure without
  spending a minute per round on a whole epoch.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from benchutil import (
    BATCH_SIZES,
    DTYPES,
    NETWORKS,
    ROUNDS,
    bounded,
    notebook_model,
    record,
)

from fastmlp import baseline
from fastmlp.network import Network, TrainingInput, Workspace
from fastmlp.solvers import SGDOptimizer

BASELINE_SAMPLES = 5000
STEP_SAMPLES = 8192  # the step benchmark cycles through this many rows

networks = pytest.mark.parametrize("network", list(NETWORKS))
batches = pytest.mark.parametrize("batch_size", BATCH_SIZES)
dtypes = pytest.mark.parametrize("dtype", DTYPES)


@dtypes
@batches
@networks
def test_epoch(benchmark, train_flat, warm_numba, smoke, network, batch_size, dtype):
    x, y = train_flat
    n = bounded(len(x), smoke)
    x, y = x[:n], y[:n]
    hidden = NETWORKS[network]

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # max_iter=1: ConvergenceWarning by design
            return notebook_model(hidden, batch_size, dtype).fit(x, y)

    benchmark.group = f"epoch {network} batch {batch_size}"
    record(
        benchmark, "epoch", "fastmlp", network=network, batch_size=batch_size, dtype=dtype,
        n_samples=n, input="uint8", path="per-sample" if batch_size == 1 else "mini-batch",
        **warm_numba,
    )
    model = benchmark.pedantic(fit, rounds=ROUNDS, warmup_rounds=1)
    assert model.n_iter_ == 1 and np.isfinite(model.loss_)


@dtypes
@batches
@networks
def test_step(benchmark, train_flat, warm_numba, network, batch_size, dtype):
    x, y = train_flat
    x, y = x[:STEP_SAMPLES], y[:STEP_SAMPLES].astype(np.int64)
    net = Network((784, *NETWORKS[network], 10), "logistic", "logistic", "squared_error", dtype)
    rng = np.random.default_rng(0)
    net.params[:] = rng.standard_normal(net.params.shape) * 0.01
    workspace = Workspace(net, batch_size, x)
    inputs = TrainingInput(x, net.dtype)
    optimizer = SGDOptimizer(net.params.size, net.dtype, 0.01, "constant", 0.0, False)
    order = np.arange(len(x), dtype=np.int64)
    n_steps = len(x) // batch_size
    state = {"step": 0}

    def step():
        i = state["step"] = (state["step"] + 1) % n_steps
        rows = order[i * batch_size:(i + 1) * batch_size]
        return net.train_batches(workspace, inputs, y, rows, optimizer, 0.0)

    step()
    benchmark.group = f"step {network} batch {batch_size}"
    record(
        benchmark, "step", "fastmlp", network=network, batch_size=batch_size, dtype=dtype,
        n_samples=batch_size, input="uint8", path="mini-batch", **warm_numba,
    )
    loss = benchmark(step)
    assert np.isfinite(loss)


def test_naive_baseline(benchmark, train_flat, warm_numba, smoke):
    x, y = train_flat
    n = 500 if smoke else BASELINE_SAMPLES
    x, y = x[:n], y[:n]
    weights = baseline.init_weights(seed=0)

    benchmark.group = "epoch 784-16-10 batch 1"
    record(
        benchmark, "epoch", "naive baseline", network="784-16-10", batch_size=1,
        dtype="float64", n_samples=n, input="uint8", path="notebook loop", **warm_numba,
    )
    _, costs = benchmark.pedantic(
        baseline.train, args=(x, y), kwargs={"epochs": 1, "weights": weights},
        rounds=ROUNDS, warmup_rounds=1,
    )
    assert np.isfinite(costs[0])
