"""Each Numba kernel against its plain-NumPy equivalent, on the same arrays.

Shapes are those of one training step of 784-128-10 at batch 128 (the default
model's size): hidden (128, 128), output (128, 10), 101,770 parameters. The
NumPy versions use ``out=`` and in-place operators, i.e. the best one can do
without fusing. Kernels work in place, so repeated calls re-apply them to their
own output; values stay bounded and both sides see the same treatment.

The report shows each pair as a speed-up (NumPy median / Numba median).
"""

from __future__ import annotations

import numpy as np
import pytest

from fastmlp import kernels
from fastmlp.network import activate_hidden

BATCH, HIDDEN, OUTPUTS, INPUTS = 128, 128, 10, 784
N_PARAMS = INPUTS * HIDDEN + HIDDEN * OUTPUTS + HIDDEN + OUTPUTS
N_WEIGHTS = INPUTS * HIDDEN + HIDDEN * OUTPUTS

dtypes = pytest.mark.parametrize("dtype", ["float32", "float64"])
impls = pytest.mark.parametrize("impl", ["numba", "numpy"])


def _sigmoid(Z):
    """In-place logistic with NumPy ufuncs, no temporaries."""
    np.negative(Z, out=Z)
    np.exp(Z, out=Z)
    Z += 1
    np.reciprocal(Z, out=Z)


def _arrays(dtype: str, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    f = np.dtype(dtype)
    return {
        "Z": rng.standard_normal((BATCH, HIDDEN)).astype(f),
        "b": rng.standard_normal(HIDDEN).astype(f),
        "A": rng.uniform(0.01, 0.99, (BATCH, HIDDEN)).astype(f),
        "D": (rng.standard_normal((BATCH, HIDDEN)) * 0.01).astype(f),
        "grad_b": np.zeros(HIDDEN, f),
        "Zo": rng.standard_normal((BATCH, OUTPUTS)).astype(f),
        "bo": rng.standard_normal(OUTPUTS).astype(f),
        "delta_o": np.zeros((BATCH, OUTPUTS), f),
        "grad_bo": np.zeros(OUTPUTS, f),
        "y": rng.integers(0, OUTPUTS, BATCH).astype(np.int64),
        "params": (rng.standard_normal(N_PARAMS) * 0.01).astype(f),
        "grads": (rng.standard_normal(N_PARAMS) * 0.001).astype(f),
        "state1": np.zeros(N_PARAMS, f),
        "state2": np.zeros(N_PARAMS, f),
        "X": rng.integers(0, 256, (4096, INPUTS), dtype=np.uint8),
        "rows": rng.permutation(4096).astype(np.int64),
        "batch": np.empty((BATCH, INPUTS), f),
    }


def _run(benchmark, kernel: str, impl: str, dtype: str, fn, shape: str, threads: dict) -> None:
    benchmark.group = f"kernel {kernel} {dtype}"
    benchmark.extra_info.update(
        {"suite": "kernel", "kernel": kernel, "system": impl, "dtype": dtype, "shape": shape,
         **threads}
    )
    fn()  # first call outside timing: compiles or loads the cached specialization
    benchmark(fn)


@dtypes
@impls
def test_sigmoid_forward(benchmark, warm_numba, impl, dtype):
    a = _arrays(dtype)
    Z, zero_bias = a["Z"], np.zeros(HIDDEN, dtype)
    if impl == "numba":
        def fn():
            activate_hidden(Z, zero_bias, kernels.LOGISTIC)
    else:
        def fn():
            _sigmoid(Z)
    _run(benchmark, "sigmoid forward", impl, dtype, fn, f"({BATCH}, {HIDDEN})", warm_numba)
    assert np.all((Z > 0) & (Z < 1))


@dtypes
@impls
def test_bias_activation(benchmark, warm_numba, impl, dtype):
    """Z <- sigmoid(Z + b) as the engine runs it (Numba passes around NumPy's SIMD
    exp) against the add and the ufunc chain."""
    a = _arrays(dtype)
    Z, b = a["Z"], a["b"]
    if impl == "numba":
        def fn():
            activate_hidden(Z, b, kernels.LOGISTIC)
    else:
        def fn():
            np.add(Z, b, out=Z)
            _sigmoid(Z)
    _run(benchmark, "bias + sigmoid", impl, dtype, fn, f"({BATCH}, {HIDDEN})", warm_numba)


@dtypes
@impls
def test_sigmoid_derivative(benchmark, warm_numba, impl, dtype):
    """Hidden delta: D *= A * (1 - A), fused with the bias gradient (column sums of D)."""
    a = _arrays(dtype)
    D, A, grad_b = a["D"], a["A"], a["grad_b"]
    tmp = np.empty_like(A)
    if impl == "numba":
        def fn():
            kernels.hidden_delta(D, A, kernels.LOGISTIC, grad_b)
    else:
        def fn():
            np.subtract(1, A, out=tmp)
            np.multiply(tmp, A, out=tmp)
            np.multiply(D, tmp, out=D)
            np.sum(D, axis=0, out=grad_b)
    _run(benchmark, "sigmoid derivative + bias grad", impl, dtype, fn,
         f"({BATCH}, {HIDDEN})", warm_numba)


@dtypes
@impls
def test_bias_gradient(benchmark, warm_numba, impl, dtype):
    """Column sums of a delta (hidden_delta with the identity's derivative 1)."""
    a = _arrays(dtype)
    D, grad_b = a["D"], a["grad_b"]
    if impl == "numba":
        def fn():
            kernels.hidden_delta(D, D, kernels.IDENTITY, grad_b)
    else:
        def fn():
            np.sum(D, axis=0, out=grad_b)
    _run(benchmark, "bias-gradient reduction", impl, dtype, fn, f"({BATCH}, {HIDDEN})", warm_numba)


@dtypes
@impls
def test_output_delta(benchmark, warm_numba, impl, dtype):
    """Output layer: sigmoid(Z + b), squared error, scaled dL/dz and its column sums."""
    a = _arrays(dtype)
    Z, b, y, delta, grad_b = a["Zo"], a["bo"], a["y"], a["delta_o"], a["grad_bo"]
    f = np.dtype(dtype).type
    scale = f(1 / BATCH)
    onehot = np.zeros_like(Z)
    onehot[np.arange(BATCH), y] = 1
    err = np.empty_like(Z)
    if impl == "numba":
        def fn():
            return kernels.output_delta(
                Z, b, y, kernels.LOGISTIC, kernels.SQUARED_ERROR, scale, delta, grad_b
            )
    else:
        def fn():
            np.add(Z, b, out=Z)
            _sigmoid(Z)
            np.subtract(Z, onehot, out=err)
            loss = float(np.einsum("ij,ij->", err, err, dtype=np.float64))
            # delta = 2 * err * p * (1 - p) * scale
            np.subtract(1, Z, out=delta)
            np.multiply(delta, Z, out=delta)
            np.multiply(delta, err, out=delta)
            np.multiply(delta, f(2) * scale, out=delta)
            np.sum(delta, axis=0, out=grad_b)
            return loss
    _run(benchmark, "output delta", impl, dtype, fn, f"({BATCH}, {OUTPUTS})", warm_numba)


@dtypes
@impls
@pytest.mark.parametrize("solver", ["sgd", "sgd-momentum", "adam"])
def test_update(benchmark, warm_numba, impl, dtype, solver):
    """The parameter update over the flat buffer of 784-128-10 (101,770 values)."""
    a = _arrays(dtype)
    params, grads, s1, s2 = a["params"], a["grads"], a["state1"], a["state2"]
    f = np.dtype(dtype).type
    lr, mom, b1, b2, eps = f(0.01), f(0.9), f(0.9), f(0.999), f(1e-8)
    zero = f(0)
    tmp = np.empty_like(params)
    if solver == "sgd":
        if impl == "numba":
            def fn():
                kernels.sgd_update(params, grads, s1, lr, zero, False, zero, N_WEIGHTS)
        else:
            def fn():
                np.multiply(grads, lr, out=tmp)
                np.subtract(params, tmp, out=params)
    elif solver == "sgd-momentum":
        if impl == "numba":
            def fn():
                kernels.sgd_update(params, grads, s1, lr, mom, False, zero, N_WEIGHTS)
        else:
            def fn():
                np.multiply(s1, mom, out=s1)
                np.multiply(grads, lr, out=tmp)
                np.subtract(s1, tmp, out=s1)
                np.add(params, s1, out=params)
    else:
        if impl == "numba":
            def fn():
                kernels.adam_update(params, grads, s1, s2, lr, b1, b2, eps, zero, N_WEIGHTS)
        else:
            def fn():
                np.multiply(s1, b1, out=s1)
                np.multiply(grads, 1 - b1, out=tmp)
                np.add(s1, tmp, out=s1)
                np.multiply(s2, b2, out=s2)
                np.multiply(grads, grads, out=tmp)
                np.multiply(tmp, 1 - b2, out=tmp)
                np.add(s2, tmp, out=s2)
                np.sqrt(s2, out=tmp)
                np.add(tmp, eps, out=tmp)
                np.divide(s1, tmp, out=tmp)
                np.multiply(tmp, lr, out=tmp)
                np.subtract(params, tmp, out=params)
    _run(benchmark, f"update {solver}", impl, dtype, fn, f"({N_PARAMS},)", warm_numba)
    assert np.isfinite(params).all()


@dtypes
@impls
def test_gather_rows(benchmark, warm_numba, impl, dtype):
    """A shuffled uint8 batch to float, scaled by 1/255 (the input of every step)."""
    a = _arrays(dtype)
    X, rows, out = a["X"], a["rows"], a["batch"]
    scale = np.dtype(dtype).type(1 / 255)
    state = {"start": 0}

    if impl == "numba":
        def fn():
            start = state["start"] = (state["start"] + BATCH) % (len(rows) - BATCH)
            kernels.gather_rows(X, rows, start, start + BATCH, scale, out)
    else:
        def fn():
            start = state["start"] = (state["start"] + BATCH) % (len(rows) - BATCH)
            np.multiply(X[rows[start:start + BATCH]], scale, out=out)
    _run(benchmark, "gather + scale uint8 batch", impl, dtype, fn,
         f"({BATCH}, {INPUTS}) of (4096, {INPUTS}) uint8", warm_numba)
