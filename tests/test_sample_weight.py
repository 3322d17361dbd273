"""sample_weight in fit, partial_fit and score of both estimators: scikit-learn 1.7+'s
meaning (each batch's loss and L2 term normalized by the batch's sum of weights),
its checks, early stopping and metadata routing."""

import warnings

import numpy as np
import pytest

from fastmlp import MLPClassifier, MLPRegressor
from fastmlp.engine import reference


@pytest.fixture(autouse=True)
def _quiet(quiet_convergence):
    """The fits in this module are short by design; their ConvergenceWarning is noise."""


def _classifier(**params):
    defaults = dict(hidden_layer_sizes=(8,), max_iter=5, learning_rate_init=0.01,
                    random_state=0, dtype="float64")
    return MLPClassifier(**{**defaults, **params})


def _regressor(**params):
    defaults = dict(hidden_layer_sizes=(8,), max_iter=5, learning_rate_init=0.01,
                    random_state=0, dtype="float64")
    return MLPRegressor(**{**defaults, **params})


def _targets(kind, linear_classes):
    X, y = linear_classes(n=120, n_features=6, n_classes=3)
    if kind == "regressor":
        y = np.c_[X[:, 0] - X[:, 1], X[:, 2]]
    return X, y


def _model(kind, **params):
    return (_classifier if kind == "classifier" else _regressor)(**params)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
@pytest.mark.parametrize(
    "params", [{}, {"solver": "sgd", "batch_size": 1, "momentum": 0.0}, {"batch_size": 7}]
)
def test_weights_of_one_are_exactly_the_unweighted_fit(kind, params, linear_classes):
    X, y = _targets(kind, linear_classes)
    plain = _model(kind, **params).fit(X, y)
    ones = _model(kind, **params).fit(X, y, sample_weight=np.ones(len(X)))
    for a, b in zip(plain.coefs_ + plain.intercepts_, ones.coefs_ + ones.intercepts_,
                    strict=True):
        np.testing.assert_array_equal(a, b)
    assert plain.loss_curve_ == ones.loss_curve_


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_weights_change_the_fit_and_scale_freely_without_l2(kind, linear_classes):
    """Weights drawn from [0.1, 3] change the weights; weights all 2 are the unweighted
    fit (the normalization by the batch's sum of weights cancels them) when alpha=0."""
    X, y = _targets(kind, linear_classes)
    w = np.random.default_rng(0).uniform(0.1, 3, len(X))
    plain = _model(kind, alpha=0.0).fit(X, y)
    weighted = _model(kind, alpha=0.0).fit(X, y, sample_weight=w)
    doubled = _model(kind, alpha=0.0).fit(X, y, sample_weight=np.full(len(X), 2.0))
    assert max(np.abs(a - b).max() for a, b in zip(plain.coefs_, weighted.coefs_,
                                                   strict=True)) > 1e-4
    for a, b in zip(plain.coefs_, doubled.coefs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_integer_weights_repeat_samples_in_a_full_batch(kind, linear_classes):
    """One batch holding all samples ("auto": up to 200): weight k is k copies of the
    sample (and weight 0 drops it), as scikit-learn's sample-weight equivalence check
    demands."""
    X, y = _targets(kind, linear_classes)
    w = np.random.default_rng(1).integers(0, 4, len(X))
    repeated = _model(kind).fit(X.repeat(w, axis=0), y.repeat(w, axis=0))
    weighted = _model(kind, shuffle=False).fit(X, y, sample_weight=w)
    for a, b in zip(repeated.coefs_, weighted.coefs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
@pytest.mark.parametrize(
    "weights, message",
    [
        (np.ones(5), r"shape \(5,\).*one weight per sample"),
        (np.r_[np.ones(119), -1.0], "negative weight -1.0 .*index 119"),
        (np.r_[np.nan, np.ones(119)], "contains nan .*index 0"),
        (np.r_[np.ones(119), np.inf], "contains inf .*index 119"),
        (np.zeros(120), "zero for every sample"),
        (np.array(["a"] * 120), "must hold numbers"),
    ],
)
def test_bad_weights_get_one_clear_error_and_change_nothing(kind, weights, message,
                                                            linear_classes):
    X, y = _targets(kind, linear_classes)
    model = _model(kind).fit(X, y)
    before = [c.copy() for c in model.coefs_], model.n_iter_, list(model.loss_curve_)
    with pytest.raises(ValueError, match=message):
        model.partial_fit(X, y, sample_weight=weights)
    with pytest.raises(ValueError, match=message):
        model.fit(X, y, sample_weight=weights)
    for a, b in zip(before[0], model.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)
    assert (model.n_iter_, model.loss_curve_) == before[1:]
    fresh = _model(kind)
    with pytest.raises(ValueError, match=message):
        fresh.fit(X, y, sample_weight=weights)
    assert not hasattr(fresh, "n_features_in_") and not hasattr(fresh, "coefs_")


def test_caller_weights_are_not_changed(linear_classes):
    X, y = _targets("classifier", linear_classes)
    w = np.random.default_rng(0).uniform(0.1, 3, len(X)).astype(np.float32)
    copy = w.copy()
    _classifier(dtype="float32").fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(w, copy)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_early_stopping_scores_the_validation_split_with_its_weights(kind, linear_classes):
    """The validation score is the weighted accuracy or R² of the held-out rows: the
    best epoch's score is the restored model's weighted score on them, not its
    unweighted one."""
    X, y = _targets(kind, linear_classes)
    w = np.random.default_rng(2).uniform(0.1, 3, len(X))
    held_out = []

    class Spy(type(_model(kind))):
        def _hold_out(self, X, y, weights, rng):
            split = super()._hold_out(X, y, weights, rng)
            held_out.append(split[3][0])
            return split

    model = Spy(hidden_layer_sizes=(8,), max_iter=4, learning_rate_init=0.01, random_state=0,
                dtype="float64", early_stopping=True, validation_fraction=0.3)
    model.fit(X, y, sample_weight=w)
    val = [int(np.flatnonzero((X == row).all(axis=1))[0]) for row in held_out[0]]
    assert len(val) == round(0.3 * len(X))
    weighted = model.score(X[val], y[val], sample_weight=w[val])
    assert model.best_validation_score_ == pytest.approx(weighted, rel=1e-12)
    assert model.score(X[val], y[val]) != pytest.approx(weighted, rel=1e-9)


def test_score_takes_sample_weight(linear_classes):
    X, y = _targets("regressor", linear_classes)
    model = _regressor(max_iter=30).fit(X, y)
    w = np.random.default_rng(0).uniform(0.1, 3, len(X))
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    assert model.score(X, y, sample_weight=w) == pytest.approx(
        sklearn_metrics.r2_score(y, model.predict(X), sample_weight=w), rel=1e-12)
    assert model.score(X, y, sample_weight=w) != pytest.approx(model.score(X, y), abs=1e-9)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_metadata_routing_passes_weights(kind, linear_classes):
    sklearn = pytest.importorskip("sklearn")
    from sklearn.model_selection import GridSearchCV, KFold, cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = _targets(kind, linear_classes)
    w = np.random.default_rng(0).uniform(0.1, 3, len(X))
    received = []

    class Recording(type(_model(kind))):
        def fit(self, X, y, sample_weight=None, coef_init=None, intercept_init=None):
            received.append(None if sample_weight is None else len(sample_weight))
            return super().fit(X, y, sample_weight=sample_weight)

    with sklearn.config_context(enable_metadata_routing=True), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = Recording(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
        with pytest.raises(Exception, match="sample_weight"):  # not requested: refused
            make_pipeline(StandardScaler(), model).fit(X, y, sample_weight=w)
        model.set_fit_request(sample_weight=True).set_score_request(sample_weight=True)
        pipe = make_pipeline(StandardScaler().set_fit_request(sample_weight=False), model)
        pipe.fit(X, y, sample_weight=w)
        assert received[-1] == len(X)
        cross_validate(pipe, X, y, params={"sample_weight": w}, cv=KFold(3))
        assert received[-3:] == [80, 80, 80]
        search = GridSearchCV(model, {"alpha": [1e-4, 1e-2]}, cv=KFold(2))
        search.fit(X, y, sample_weight=w)
        assert received[-1] == len(X) and set(received[-5:-1]) == {60}


@pytest.mark.parametrize("output, loss", [("softmax", "log_loss"), ("identity", "squared_error")])
def test_weighted_gradients_match_finite_differences(output, loss):
    """reference.gradients with weights: the gradient of the weighted mean loss plus
    0.5 * alpha * ||W||^2 / sum(w). For the identity output the loss reported averages
    the k outputs while the gradient is that of their sum, as scikit-learn's."""
    from fastmlp.engine import training
    from fastmlp.engine.network import Network

    rng = np.random.default_rng(0)
    k = 3
    network = Network((5, 4, k), "tanh", output, loss, np.float64)
    training.initialize_weights(network, "glorot", "tanh", 0.01, rng)
    X = rng.standard_normal((20, 5))
    y = rng.integers(0, k, 20) if output == "softmax" else rng.standard_normal((20, k))
    w = rng.uniform(0.1, 3, 20)
    _, grads = reference.gradients(network, X, y, 0.1, w)
    factor = 1 if output == "softmax" else k
    numeric = np.empty_like(grads)
    for i in range(grads.size):
        saved = network.params[i]
        network.params[i] = saved + 1e-6
        up = reference.loss(network, X, y, 0.1, w)
        network.params[i] = saved - 1e-6
        down = reference.loss(network, X, y, 0.1, w)
        network.params[i] = saved
        numeric[i] = (up - down) / 2e-6
    l2 = np.zeros_like(grads)
    l2[: network.n_weights] = 0.1 / w.sum() * network.params[: network.n_weights]
    np.testing.assert_allclose(grads - l2, factor * (numeric - l2), rtol=0, atol=1e-8)
    assert np.abs(grads).max() > 1e-3


def test_a_validation_split_left_without_weight_leaves_the_estimator_unfitted():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = np.tile([0, 1], 20)
    weights = np.zeros(40)
    weights[:4] = 1.0  # every weighted sample can fall in the validation split
    model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0,
                          early_stopping=True, validation_fraction=0.9)
    with pytest.raises(ValueError, match="sample_weight is zero for every sample left"):
        model.fit(X, y, sample_weight=weights)
    assert not hasattr(model, "coefs_") and not hasattr(model, "classes_")
