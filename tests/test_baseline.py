"""The engine against the teaching notebook's naive loop on real MNIST.

Both start from the same weights (``baseline.init_weights(seed=0)``) and see the
first 2000 training images in file order, one sample per step, so the engine's
per-sample kernel, its mini-batch path with batch size 1 and the notebook must
agree to rounding.
"""

import warnings

import numpy as np
import pytest

from fastmlp import baseline
from fastmlp.engine.network import Network, TrainingInput, Workspace
from fastmlp.engine.optimizers import SGDOptimizer
from fastmlp.estimator import MLPClassifier

N = 2000
LR = 0.01

NOTEBOOK = dict(
    hidden_layer_sizes=(16,),
    activation="logistic",
    output_activation="logistic",
    loss="squared_error",
    solver="sgd",
    learning_rate_init=LR,
    momentum=0.0,
    alpha=0.0,
    batch_size=1,
    max_iter=1,
    shuffle=False,
    weight_init="normal",
    init_scale=0.01,
)


@pytest.fixture(scope="module")
def subset(mnist):
    (x_train, y_train), _ = mnist
    return x_train[:N], y_train[:N]


@pytest.fixture(scope="module")
def w0():
    return baseline.init_weights(seed=0)


@pytest.fixture(scope="module")
def naive(subset, w0):
    """(trained NaiveWeights, epoch costs) of one notebook epoch."""
    x, y = subset
    weights, costs = baseline.train(x, y, epochs=1, learning_rate=LR, weights=w0)
    # the baseline copies its initial weights
    np.testing.assert_array_equal(w0.input_weights, baseline.init_weights(seed=0).input_weights)
    return weights, costs


def _init(w0):
    return dict(
        coef_init=[w0.input_weights.T, w0.output_weights.T],
        intercept_init=[w0.hidden_biases, w0.output_biases],
    )


def _fit(x, y, w0, dtype):
    model = MLPClassifier(**NOTEBOOK, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning after max_iter=1
        return model.fit(x, y, **_init(w0))


def _max_abs_diff(coefs, intercepts, naive_weights):
    expected = [
        naive_weights.input_weights.T,
        naive_weights.output_weights.T,
        naive_weights.hidden_biases,
        naive_weights.output_biases,
    ]
    actual = [*coefs, *intercepts]
    for a, e in zip(actual, expected, strict=True):
        assert a.shape == e.shape
    return max(
        float(np.abs(np.asarray(a, np.float64) - e).max())
        for a, e in zip(actual, expected, strict=True)
    )


def test_per_sample_engine_matches_notebook(subset, w0, naive):
    x, y = subset
    weights, costs = naive
    model = _fit(x, y, w0, "float64")
    assert model.coefs_[0].dtype == np.float64
    assert _max_abs_diff(model.coefs_, model.intercepts_, weights) <= 1e-12
    assert len(model.loss_curve_) == 1
    assert abs(model.loss_curve_[0] - costs[0]) <= 1e-12
    # training moved the weights well beyond the tolerance
    assert _max_abs_diff(model.coefs_, model.intercepts_, w0) > 1e-3


def test_per_sample_engine_matches_notebook_on_float_input(subset, w0, naive):
    """Float pixels (already /255, as the notebook prepares them) take the same path."""
    x, y = subset
    weights, costs = naive
    model = _fit(x / 255.0, y, w0, "float64")
    assert _max_abs_diff(model.coefs_, model.intercepts_, weights) <= 1e-12
    assert abs(model.loss_curve_[0] - costs[0]) <= 1e-12


@pytest.mark.parametrize("sparse", [True, False])
def test_minibatch_path_of_one_matches_notebook(subset, w0, naive, sparse):
    """The mini-batch engine (BLAS + fused kernels) with batch size 1, and the
    per-sample kernel with dense and zero-skipping first layers, called directly."""
    x, y = subset
    weights, costs = naive
    x2 = np.ascontiguousarray(x.reshape(N, -1))
    y64 = y.astype(np.int64)
    rows = np.arange(N, dtype=np.int64)

    def fresh():
        net = Network((784, 16, 10), "logistic", "logistic", "squared_error", np.float64)
        net.coefs[0][...] = w0.input_weights.T
        net.coefs[1][...] = w0.output_weights.T
        net.intercepts[0][...] = w0.hidden_biases
        net.intercepts[1][...] = w0.output_biases
        return net

    net = fresh()
    opt = SGDOptimizer(net.params.size, np.float64, LR, "constant", 0.0, False)
    loss = net.train_batches(
        Workspace(net, 1, x2), TrainingInput(x2, np.float64), y64, rows, opt, 0.0
    )
    assert _max_abs_diff(net.coefs, net.intercepts, weights) <= 1e-12
    assert abs(loss - costs[0]) <= 1e-12

    net = fresh()
    inputs = TrainingInput(x2, np.float64, sparse_first_layer=sparse)
    assert inputs.skip_zeros == sparse
    loss = net.train_per_sample(inputs, y64, rows, LR, 0.0)
    assert _max_abs_diff(net.coefs, net.intercepts, weights) <= 1e-12
    assert abs(loss - costs[0]) <= 1e-12


def test_float32_per_sample_close_to_float64(subset, w0, naive):
    x, y = subset
    weights, costs = naive
    model32 = _fit(x, y, w0, "float32")
    assert model32.coefs_[0].dtype == np.float32
    assert _max_abs_diff(model32.coefs_, model32.intercepts_, weights) <= 1e-5
    assert abs(model32.loss_curve_[0] - costs[0]) <= 1e-5


def test_predictions_match_notebook(subset, w0, naive, mnist):
    x, y = subset
    weights, _ = naive
    _, (x_test, _) = mnist
    model = _fit(x, y, w0, "float64")
    x_eval = x_test[:500]
    np.testing.assert_array_equal(model.predict(x_eval), baseline.predict(weights, x_eval))
