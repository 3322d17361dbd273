"""End-to-end accuracy on the real data sets (slow: full 60k-image trainings).

Run with ``python -m pytest -m slow``.
"""

import warnings

import numpy as np
import pytest

from fastmlp.estimator import MLPClassifier
from fastmlp.presets import PRESETS

pytestmark = pytest.mark.slow

# The presets `fastmlp train` ships: the accuracy claims are about these exactly.
NOTEBOOK = dict(PRESETS["notebook"], random_state=0)
DEFAULT = dict(PRESETS["default"], random_state=0)


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


def test_default_preset_on_mnist(mnist):
    accuracy = _fit_and_score(DEFAULT, mnist)
    assert accuracy >= 0.975, accuracy


def test_default_preset_on_fashion_mnist(fashion_mnist):
    accuracy = _fit_and_score(DEFAULT, fashion_mnist)
    assert accuracy >= 0.85, accuracy
