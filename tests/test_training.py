"""The engine's divergence guard (fastmlp.engine.training): a run that overflows or blows
up raises with the advice and keeps the last finite weights; ordinary runs stay far below
its threshold."""

import numpy as np
import pytest
from fithelp import params_of

import fastmlp
from fastmlp.estimator import MLPClassifier

pytestmark = pytest.mark.usefixtures("quiet_convergence")


def _diverging_data(blobs):
    X, y = blobs(n=200, n_features=10)
    return X * 100, y


@pytest.mark.parametrize(
    "kwargs",
    [
        # the fused per-sample kernel
        dict(solver="sgd", momentum=0.0, batch_size=1, learning_rate_init=1e6),
        # mini-batches; diverges after a few finite epochs
        dict(
            solver="sgd", momentum=0.0, batch_size=20, learning_rate_init=1e6, activation="identity"
        ),
        # one batch per epoch: the last step overflows the weights after the epoch's
        # loss was computed at finite weights
        dict(
            solver="sgd",
            momentum=0.9,
            batch_size=200,
            learning_rate_init=1e150,
            activation="identity",
            dtype="float32",
        ),
        dict(solver="sgd", momentum=0.0, batch_size=1, learning_rate_init=1e150, dtype="float32"),
    ],
    ids=["per-sample", "mini-batch", "overflow-on-last-step", "per-sample-float32"],
)
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_divergence_raises_and_restores_finite_weights(kwargs, blobs):
    X, y = _diverging_data(blobs)
    epochs = []
    model = MLPClassifier(
        hidden_layer_sizes=(8,),
        max_iter=10,
        random_state=0,
        callbacks=[lambda m, info: epochs.append(params_of(m))],
        **kwargs,
    )
    with pytest.raises(fastmlp.DivergenceError, match="learning_rate_init") as info:
        model.fit(X, y)
    assert "lower" in str(info.value).lower()
    assert isinstance(info.value, FloatingPointError)
    params = params_of(model)
    assert all(np.isfinite(p).all() for p in params)
    assert model.n_iter_ == len(epochs) == len(model.loss_curve_)
    assert all(np.isfinite(model.loss_curve_))
    if epochs:  # the weights of the last finite epoch are back
        for p, q in zip(params, epochs[-1], strict=True):
            np.testing.assert_array_equal(p, q)
    # the model stays usable
    assert model.predict(X).shape == (X.shape[0],)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(solver="sgd", learning_rate_init=3.0, momentum=0.0, batch_size=1),
        dict(solver="sgd", learning_rate_init=50.0, momentum=0.9, batch_size=50),
        dict(solver="adam", learning_rate_init=100.0, batch_size=20),
        dict(solver="adam", learning_rate_init=100.0, batch_size=20, dtype="float32"),
        dict(solver="sgd", learning_rate_init=3.0, batch_size=20, output_activation="logistic"),
        dict(solver="adam", learning_rate_init=100.0, batch_size=20, early_stopping=True),
    ],
    ids=["per-sample", "momentum", "adam", "float32", "logistic-output", "early-stopping"],
)
def test_a_blown_up_but_finite_loss_raises_with_the_divergence_advice(blobs, kwargs):
    X, y = blobs(n=200, n_features=10, n_classes=4)
    epochs = []
    model = MLPClassifier(
        hidden_layer_sizes=(16,), max_iter=10, random_state=0,
        callbacks=[lambda m, info: epochs.append(info["loss"])], **kwargs,
    )
    with pytest.raises(fastmlp.DivergenceError, match="learning_rate_init") as info:
        model.fit(X, y)
    message = str(info.value)
    assert "uniform guess" in message and "lower" in message.lower()
    assert all(np.isfinite(epochs)) and max(epochs) > 10 * np.log(4)
    # the run is complete and consistent, as fitted; the model stays usable
    assert model.n_iter_ == len(epochs) and model.loss_curve_ == epochs
    assert all(np.isfinite(p).all() for p in params_of(model))
    assert model.predict(X).shape == (len(X),)


def test_partial_fit_reports_a_blown_up_epoch(blobs):
    X, y = blobs(n=200, n_features=10, n_classes=4)
    model = MLPClassifier(hidden_layer_sizes=(16,), solver="adam", learning_rate_init=100.0,
                          batch_size=20, random_state=0)
    with pytest.raises(fastmlp.DivergenceError, match="uniform guess"):
        for _ in range(10):
            model.partial_fit(X, y, classes=[0, 1, 2, 3])


def test_the_reported_blow_up_on_mnist_is_caught(mnist_slice):
    """fastmlp train --solver sgd --lr 1000 ended with a loss of 4e15 and exit code 0."""
    from fastmlp.presets import PRESETS

    x8, y = mnist_slice
    model = MLPClassifier(**{**PRESETS["default"], "solver": "sgd", "learning_rate_init": 1000})
    with pytest.raises(fastmlp.DivergenceError, match="uniform guess"):
        model.fit(x8, y)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(solver="sgd", learning_rate_init=0.5),
        dict(solver="sgd", learning_rate_init=0.01, momentum=0.0, batch_size=1),
        dict(solver="adam", learning_rate_init=0.05),
        dict(output_activation="logistic", solver="sgd", learning_rate_init=0.3),
        dict(loss="squared_error", solver="sgd", learning_rate_init=1.0),
        dict(activation="logistic", solver="sgd", learning_rate_init=0.5, alpha=1.0),
        dict(activation="identity", solver="adam", learning_rate_init=0.01),
        dict(early_stopping=True, solver="sgd", learning_rate_init=0.3),
    ],
)
@pytest.mark.parametrize("n_classes", [2, 10])
@pytest.mark.parametrize("scale", [1.0, 0.125])
def test_ordinary_runs_end_far_below_the_blow_up_threshold(blobs, kwargs, n_classes, scale):
    """The threshold is 10 uniform guesses at the end of a run; ordinary runs, with
    20 % label noise, unscaled features and step sizes near the edge of stability,
    end below 1, and the check passes where an epoch on the way spiked above 10."""
    from fastmlp.engine.training import chance_loss

    X, y = blobs(n=300, n_features=12, n_classes=n_classes, spread=2.0)
    y = np.where(np.random.default_rng(1).random(len(y)) < 0.2, 0, y)  # 20 % label noise
    model = MLPClassifier(hidden_layer_sizes=(32,), max_iter=30, random_state=0, **kwargs)
    model.fit(X * scale, y)
    chance = chance_loss(model.loss, model.out_activation_, model.n_outputs_)
    assert (min(model.loss_curve_) if model.early_stopping else model.loss_) < chance
    if n_classes == 2 and scale == 1.0 and kwargs == dict(solver="sgd", learning_rate_init=0.5):
        assert max(model.loss_curve_) > 10 * chance  # a spike on the way that recovered


def test_blow_up_threshold_on_mnist_presets(mnist_slice):
    """The two presets, two epochs each, stay far below the threshold on real data."""
    from fastmlp.engine.training import chance_loss
    from fastmlp.presets import PRESETS

    x8, y = mnist_slice
    for name, params in PRESETS.items():
        model = MLPClassifier(**{**params, "max_iter": 2, "random_state": 0}).fit(x8, y)
        chance = chance_loss(model.loss, model.out_activation_, model.n_outputs_)
        assert max(model.loss_curve_) < 1.5 * chance, name
