"""Gradients and optimizer steps of the engine against independent references.

Three references, none of which shares code with :mod:`fastmlp.engine.network`:

* central finite differences of ``reference.loss`` (the kernels run from Python);
* the plain-NumPy specification of :mod:`fastmlp.engine.reference`: a
  forward/backward pass and scikit-learn's SGD/Adam update formulas (float64);
* the mini-batch path itself, for the fused per-sample kernel.
"""

import itertools

import numpy as np
import pytest

from fastmlp.engine import first_layer, reference, simd, threads
from fastmlp.engine.network import Network, TrainingInput, Workspace
from fastmlp.engine.optimizers import AdamOptimizer, SGDOptimizer

HIDDEN = ("identity", "logistic", "tanh", "relu")
OUTPUT = ("logistic", "softmax")
LOSS = ("squared_error", "log_loss")
COMBOS = list(itertools.product(HIDDEN, OUTPUT, LOSS))
LAYERS = (6, 5, 4, 3)
N_SAMPLES = 8
# Pre-activations of relu units must stay this far from the kink at 0 so that the
# finite-difference steps below never cross it.
RELU_MARGIN = 1e-3
FD_STEP = 1e-6


# -- helpers ------------------------------------------------------------------------------


def make_problem(hidden, seed=0, dtype=np.float64, n=N_SAMPLES, layers=LAYERS, zeros=0.0):
    """A random network and batch whose hidden pre-activations keep off relu's kink;
    about a fraction ``zeros`` of the inputs are 0."""
    rng = np.random.default_rng(seed)
    for _ in range(100):
        coefs = [rng.normal(0.0, 0.7, (a, b)) for a, b in zip(layers[:-1], layers[1:], strict=True)]
        intercepts = [rng.normal(0.0, 0.3, b) for b in layers[1:]]
        X = rng.normal(0.0, 1.0, (n, layers[0]))
        X[rng.random(X.shape) < zeros] = 0.0
        y = rng.permutation(np.arange(n) % layers[-1]).astype(np.int64)
        pre = reference.forward_backward(
            coefs, intercepts, X, y, hidden, "softmax", "log_loss", 0.0
        )[3]
        if min(np.abs(z).min() for z in pre) > RELU_MARGIN:
            break
    else:  # pragma: no cover - the draw above succeeds within a few tries
        raise AssertionError("could not draw pre-activations away from 0")
    net = Network(layers, hidden, "softmax", "log_loss", dtype)
    return net, coefs, intercepts, X.astype(dtype), y


def build(layers, hidden, output, loss, dtype, coefs, intercepts):
    net = Network(layers, hidden, output, loss, dtype)
    for target, value in zip(
        net.coefs + net.intercepts, list(coefs) + list(intercepts), strict=True
    ):
        target[...] = value
    return net


def rel_diff(actual, expected):
    """max |actual - expected| / max |expected|: a relative error that tolerates zeros."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    return float(np.abs(actual - expected).max() / np.abs(expected).max())


# -- gradients ----------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.0, 0.1])
@pytest.mark.parametrize(("hidden", "output", "loss"), COMBOS)
def test_gradients_match_finite_differences(hidden, output, loss, alpha):
    _, coefs, intercepts, X, y = make_problem(hidden)
    net = build(LAYERS, hidden, output, loss, np.float64, coefs, intercepts)
    value, grads = reference.gradients(net, X, y, alpha)
    assert grads.shape == net.params.shape

    numeric = np.empty_like(grads)
    base = net.params.copy()
    for i in range(base.size):
        net.params[i] = base[i] + FD_STEP
        up = reference.loss(net, X, y, alpha)
        net.params[i] = base[i] - FD_STEP
        down = reference.loss(net, X, y, alpha)
        net.params[i] = base[i]
        numeric[i] = (up - down) / (2 * FD_STEP)
    np.testing.assert_array_equal(net.params, base)  # loss() must not touch parameters

    error = np.linalg.norm(grads - numeric) / np.linalg.norm(numeric)
    assert error <= 1e-6, f"relative gradient error {error:.2e}"
    assert np.linalg.norm(numeric) > 1e-3  # a vanishing gradient would prove nothing


@pytest.mark.parametrize("alpha", [0.0, 0.1])
@pytest.mark.parametrize(("hidden", "output", "loss"), COMBOS)
def test_gradients_match_numpy_reference(hidden, output, loss, alpha):
    _, coefs, intercepts, X, y = make_problem(hidden, seed=1)
    net = build(LAYERS, hidden, output, loss, np.float64, coefs, intercepts)
    value, grads = reference.gradients(net, X, y, alpha)
    ref_value, ref_W, ref_b, _ = reference.forward_backward(
        coefs, intercepts, X, y, hidden, output, loss, alpha
    )
    assert value == pytest.approx(ref_value, rel=1e-13)
    assert rel_diff(grads, reference.flat(ref_W, ref_b)) <= 1e-12


@pytest.mark.parametrize(("dtype", "tol"), [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize(("hidden", "output", "loss"), COMBOS[::3])
def test_uint8_input_is_scaled_by_1_over_255(hidden, output, loss, dtype, tol):
    rng = np.random.default_rng(2)
    layers = (12, 7, 4)
    X8 = rng.integers(0, 256, (10, 12), dtype=np.uint8)
    X8[:, :3] = 0  # background pixels
    Xf = (X8 / 255.0).astype(dtype)
    y = np.arange(10, dtype=np.int64) % 4
    coefs = [rng.normal(0, 0.5, (a, b)) for a, b in zip(layers[:-1], layers[1:], strict=True)]
    intercepts = [rng.normal(0, 0.1, b) for b in layers[1:]]
    net = build(layers, hidden, output, loss, dtype, coefs, intercepts)
    loss8, grads8 = reference.gradients(net, X8, y, 0.1)
    lossf, gradsf = reference.gradients(net, Xf, y, 0.1)
    assert grads8.dtype == gradsf.dtype == np.dtype(dtype)
    assert loss8 == pytest.approx(lossf, rel=tol)
    assert rel_diff(grads8, gradsf) <= tol
    assert rel_diff(net.forward(X8), net.forward(Xf)) <= tol
    # and against the reference on the scaled data, to be sure the scale is 1/255
    ref_W, ref_b = reference.forward_backward(
        coefs, intercepts, X8 / 255.0, y, hidden, output, loss, 0.1
    )[1:3]
    assert rel_diff(grads8, reference.flat(ref_W, ref_b)) <= tol


# -- mini-batch training steps -----------------------------------------------------------

OPTIMIZERS = {
    "sgd": dict(solver="sgd", momentum=0.0, nesterov=False),
    "momentum": dict(solver="sgd", momentum=0.9, nesterov=False),
    "nesterov": dict(solver="sgd", momentum=0.9, nesterov=True),
    "adam": dict(solver="adam"),
}


def _optimizers(spec, net, lr, ref_params):
    if spec["solver"] == "adam":
        return AdamOptimizer(net.params.size, net.dtype, lr), reference.Adam(ref_params, lr)
    engine = SGDOptimizer(
        net.params.size, net.dtype, lr, "constant", spec["momentum"], spec["nesterov"]
    )
    return engine, reference.SGD(ref_params, lr, spec["momentum"], spec["nesterov"])


@pytest.mark.parametrize("listed", ["blas", "rows"])
@pytest.mark.parametrize("sharded", [False, True])
@pytest.mark.parametrize(("dtype", "tol"), [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("batch_size", [N_SAMPLES, 3])
@pytest.mark.parametrize("alpha", [0.0, 0.1])
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("loss", ["log_loss", "squared_error"])
@pytest.mark.parametrize("output", ["softmax", "logistic"])
@pytest.mark.parametrize("hidden", ["identity", "logistic", "tanh", "relu"])
def test_train_batches_step_matches_reference(
    monkeypatch, hidden, output, loss, optimizer, alpha, batch_size, dtype, tol, sharded,
    listed,
):
    """One epoch of train_batches, in a shuffled order, against the written-out steps.

    batch_size=8 is a single step; 3 gives steps of 3, 3 and 2 samples, so the
    optimizer state (velocity, moments) and the short last batch are exercised.
    ``sharded`` splits every batch between threads (shards of 4 + 4, 1 + 2 and
    1 + 1 rows), as batches of 128 rows or more are split. ``listed="rows"`` runs
    the first layer over each row's non-zero inputs (half of them here), as
    mini-batches of CSR input do.
    """
    _epoch_against_reference(monkeypatch, hidden, output, loss, optimizer, alpha, batch_size,
                             dtype, tol, sharded, listed, LAYERS)


@pytest.mark.parametrize("listed", ["rows", "blocks"])
@pytest.mark.parametrize("sharded", [False, True])
@pytest.mark.parametrize(("dtype", "tol"), [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("hidden", ["logistic", "relu"])
def test_listed_wide_first_layer_matches_reference(monkeypatch, hidden, optimizer, dtype, tol,
                                                   sharded, listed):
    """A first layer of 144 units lists through every block of the vector loops: 128 +
    16 float32 units (a block of 8 registers, then one), 2 x 64 + 2 x 8 float64; by
    blocks of rows, 9 (float32) or 18 (float64) registers one after another."""
    _epoch_against_reference(monkeypatch, hidden, "softmax", "log_loss", optimizer, 0.1, 3,
                             dtype, tol, sharded, listed, (30, 144, 3))


@pytest.mark.parametrize("sharded", [False, True])
@pytest.mark.parametrize(("dtype", "tol"), [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("batch_size", [N_SAMPLES, 3])
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize(("hidden", "output", "loss"), COMBOS[::3])
def test_first_layer_by_blocks_matches_reference(monkeypatch, hidden, output, loss, optimizer,
                                                 batch_size, dtype, tol, sharded):
    """A first layer of 16 units (one float32 register, two float64) by blocks of
    rows: blocks of 8, 3 and 2 rows, shards of 4 and 1 rows, half the inputs 0."""
    _epoch_against_reference(monkeypatch, hidden, output, loss, optimizer, 0.1, batch_size,
                             dtype, tol, sharded, "blocks", (6, 16, 4, 3))


def _epoch_against_reference(monkeypatch, hidden, output, loss, optimizer, alpha, batch_size,
                             dtype, tol, sharded, listed, layers):
    monkeypatch.setattr(threads, "n_shards", lambda batch, n_params, itemsize=4, work_params=None:
                        2 if sharded and batch >= 2 else 1)
    if listed == "blocks" and not simd.COMPRESS_STORE:
        pytest.skip("the first layer runs by blocks of rows only with AVX-512")
    monkeypatch.setattr(first_layer, "lists_nonzeros", lambda net, X: listed == "rows")
    monkeypatch.setattr(first_layer, "lists_by_blocks", lambda net, X: listed == "blocks")
    _, coefs, intercepts, X, y = make_problem(hidden, seed=3, dtype=dtype, layers=layers,
                                              zeros=0.5 if listed != "blas" else 0.0)
    net = build(layers, hidden, output, loss, dtype, coefs, intercepts)
    # the reference starts from exactly the engine's (possibly float32) parameters
    ref = [np.array(a, dtype=np.float64) for a in net.coefs + net.intercepts]
    lr = 0.05
    engine_opt, ref_opt = _optimizers(OPTIMIZERS[optimizer], net, lr, ref)
    rows = np.random.default_rng(4).permutation(N_SAMPLES).astype(np.int64)

    workspace = Workspace(net, batch_size, X)
    assert (workspace.shards is not None) == sharded
    assert (workspace.nonzeros.index.size > 0) == (listed != "blas")
    assert workspace.lists_by_blocks == (listed == "blocks")
    epoch_loss = net.train_batches(
        workspace, TrainingInput(X, net.dtype), y, rows, engine_opt, alpha
    )

    n_layers = len(layers) - 1
    total = 0.0
    for start in range(0, N_SAMPLES, batch_size):
        batch = rows[start : start + batch_size]
        value, gW, gb, _ = reference.forward_backward(
            ref[:n_layers], ref[n_layers:], X[batch], y[batch], hidden, output, loss, alpha
        )
        total += value * batch.size
        ref = ref_opt.step(ref, gW + gb)

    assert net.params.dtype == np.dtype(dtype)
    assert rel_diff(net.params, reference.flat(ref[:n_layers], ref[n_layers:])) <= tol
    assert epoch_loss == pytest.approx(total / N_SAMPLES, rel=tol)
    # the step really moved the parameters
    assert rel_diff(net.params, reference.flat(coefs, intercepts)) > 1e-4


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_train_batches_with_uint8_input_matches_float_input(dtype):
    rng = np.random.default_rng(5)
    layers = (20, 8, 5)
    X8 = rng.integers(0, 256, (30, 20), dtype=np.uint8)
    Xf = (X8 / 255.0).astype(dtype)
    y = rng.integers(0, 5, 30).astype(np.int64)
    coefs = [rng.normal(0, 0.3, (a, b)) for a, b in zip(layers[:-1], layers[1:], strict=True)]
    intercepts = [rng.normal(0, 0.1, b) for b in layers[1:]]
    rows = rng.permutation(30).astype(np.int64)
    results = []
    for X in (X8, Xf):
        net = build(layers, "relu", "softmax", "log_loss", dtype, coefs, intercepts)
        opt = AdamOptimizer(net.params.size, net.dtype, 0.01)
        loss = net.train_batches(
            Workspace(net, 7, X), TrainingInput(X, net.dtype), y, rows, opt, 1e-3
        )
        results.append((loss, net.params.copy()))
    tol = 1e-12 if dtype == np.float64 else 1e-5
    assert results[0][0] == pytest.approx(results[1][0], rel=tol)
    assert rel_diff(results[0][1], results[1][1]) <= tol


# -- the fused per-sample kernel -----------------------------------------------------------


@pytest.mark.parametrize("layers", [(15, 6, 5, 4), (15, 20, 5, 4), (15, 32, 4)])
@pytest.mark.parametrize("alpha", [0.0, 0.01])
@pytest.mark.parametrize(("hidden", "output", "loss"), COMBOS)
def test_per_sample_kernel_matches_minibatch_of_one(hidden, output, loss, alpha, layers):
    """train_per_sample (dense and zero-skipping) == train_batches with batch size 1.
    First layers of 20 and 32 units run the vector loops (fastmlp.engine.simd) on blocks
    of 16 units, 20 with a remainder of 4."""
    rng = np.random.default_rng(6)
    n = 25
    X8 = rng.integers(0, 256, (n, 15), dtype=np.uint8)
    X8[rng.random((n, 15)) < 0.7] = 0  # sparse enough to skip zeros
    y = rng.integers(0, 4, n).astype(np.int64)
    coefs = [rng.normal(0, 0.5, (a, b)) for a, b in zip(layers[:-1], layers[1:], strict=True)]
    intercepts = [rng.normal(0, 0.2, b) for b in layers[1:]]
    rows = rng.permutation(n).astype(np.int64)
    lr = 0.1

    ref_net = build(layers, hidden, output, loss, np.float64, coefs, intercepts)
    opt = SGDOptimizer(ref_net.params.size, np.float64, lr, "constant", 0.0, False)
    ref_loss = ref_net.train_batches(
        Workspace(ref_net, 1, X8), TrainingInput(X8, np.float64), y, rows, opt, alpha
    )

    for X, sparse in ((X8, True), (X8, False), (X8 / 255.0, True)):
        net = build(layers, hidden, output, loss, np.float64, coefs, intercepts)
        inputs = TrainingInput(X, np.float64, sparse_first_layer=sparse)
        assert inputs.skip_zeros == sparse
        epoch_loss = net.train_per_sample(inputs, y, rows, lr, alpha)
        assert rel_diff(net.params, ref_net.params) <= 1e-12, (X.dtype, sparse)
        if alpha == 0:
            assert epoch_loss == pytest.approx(ref_loss, rel=1e-12)
    assert rel_diff(ref_net.params, reference.flat(coefs, intercepts)) > 1e-3
