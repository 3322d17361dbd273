"""End-to-end accuracy on the real data sets (slow: full 60k-image trainings).

Run with ``python -m pytest -m slow``.
"""

import warnings

import numpy as np
import pytest

from fastmlp.estimator import MLPClassifier

pytestmark = pytest.mark.slow

# The teaching notebook: 784-16-10, sigmoid everywhere, squared error, plain SGD
# one sample at a time in file order, N(0, 1) * 0.01 initialization.
NOTEBOOK = dict(
    hidden_layer_sizes=(16,),
    activation="logistic",
    output_activation="logistic",
    loss="squared_error",
    solver="sgd",
    learning_rate_init=0.01,
    momentum=0.0,
    alpha=0.0,
    batch_size=1,
    max_iter=5,
    shuffle=False,
    weight_init="normal",
    init_scale=0.01,
    random_state=0,
    dtype="float64",
)

DEFAULT_STYLE = dict(
    hidden_layer_sizes=(128,),
    solver="adam",
    learning_rate_init=1e-3,
    batch_size=128,
    max_iter=8,
    random_state=0,
    dtype="float32",
)


def _fit_and_score(params, data):
    (x_train, y_train), (x_test, y_test) = data
    model = MLPClassifier(**params)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Stochastic Optimizer")
        model.fit(x_train, y_train)
    assert model.n_iter_ == params["max_iter"]
    assert np.all(np.diff(model.loss_curve_) < 0), model.loss_curve_
    return model.score(x_test, y_test)


def test_notebook_preset_on_mnist(mnist):
    accuracy = _fit_and_score(NOTEBOOK, mnist)
    assert accuracy >= 0.92, accuracy


def test_default_style_on_mnist(mnist):
    accuracy = _fit_and_score(DEFAULT_STYLE, mnist)
    assert accuracy >= 0.975, accuracy


def test_default_style_on_fashion_mnist(fashion_mnist):
    accuracy = _fit_and_score(DEFAULT_STYLE, fashion_mnist)
    assert accuracy >= 0.85, accuracy
