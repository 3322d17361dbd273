"""MLPClassifier.fit and partial_fit: the same seed gives the same model, the fitted
attributes, warm starts and continued fits, early stopping and the callbacks."""

import warnings

import numpy as np
import pytest
from fithelp import FAST, max_rel_diff, params_of

from fastmlp.estimator import MLPClassifier

pytestmark = pytest.mark.usefixtures("quiet_convergence")


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(solver="adam"),
        dict(solver="sgd", batch_size=1, momentum=0.0),
        dict(solver="sgd", early_stopping=True, weight_init="normal"),
    ],
)
def test_same_random_state_same_model(kwargs, blobs):
    X, y = blobs()
    a = MLPClassifier(**FAST, **kwargs).fit(X, y)
    b = MLPClassifier(**FAST, **kwargs).fit(X, y)
    c = MLPClassifier(**{**FAST, "random_state": 1}, **kwargs).fit(X, y)
    for pa, pb in zip(params_of(a), params_of(b), strict=True):
        np.testing.assert_array_equal(pa, pb)
    assert a.loss_curve_ == b.loss_curve_
    assert any(
        not np.array_equal(pa, pc) for pa, pc in zip(params_of(a), params_of(c), strict=True)
    )


def test_refit_starts_over(blobs):
    X, y = blobs()
    model = MLPClassifier(**FAST)
    first = params_of(model.fit(X, y))
    second = params_of(model.fit(X, y))
    for p, q in zip(first, second, strict=True):
        np.testing.assert_array_equal(p, q)
    assert model.n_iter_ == FAST["max_iter"]


@pytest.mark.parametrize("hidden", [(7,), (9, 4), 6])
@pytest.mark.parametrize("batch_size", [1, 16, "auto"])
def test_fitted_attributes(hidden, batch_size, blobs):
    X, y = blobs(n=50, n_features=5, n_classes=3)
    model = MLPClassifier(
        hidden_layer_sizes=hidden,
        solver="sgd",
        momentum=0.0,
        batch_size=batch_size,
        max_iter=4,
        random_state=0,
    ).fit(X, y)
    sizes = (5, *((hidden,) if isinstance(hidden, int) else hidden), 3)
    assert [c.shape for c in model.coefs_] == list(zip(sizes[:-1], sizes[1:], strict=True))
    assert [b.shape for b in model.intercepts_] == [(n,) for n in sizes[1:]]
    assert model.n_layers_ == len(sizes)
    assert model.n_outputs_ == 3
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    assert model.n_features_in_ == 5
    assert model.n_iter_ == 4
    assert len(model.loss_curve_) == model.n_iter_
    assert model.loss_ == model.loss_curve_[-1]
    assert model.best_loss_ == min(model.loss_curve_)
    assert all(np.isfinite(model.loss_curve_))
    assert model.t_ == model.n_iter_ * X.shape[0]
    assert model.validation_scores_ is None and model.best_validation_score_ is None


def test_max_iter_reached_warns(blobs):
    X, y = blobs()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(Warning, match="Maximum iterations"):
            MLPClassifier(**FAST).fit(X, y)


def test_callbacks_see_every_epoch(blobs):
    X, y = blobs()
    seen = []
    model = MLPClassifier(**FAST, callbacks=[lambda m, info: seen.append(dict(info))]).fit(X, y)
    assert [info["epoch"] for info in seen] == list(range(1, model.n_iter_ + 1))
    assert [info["loss"] for info in seen] == model.loss_curve_
    assert all(info["n_samples"] == X.shape[0] for info in seen)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(solver="sgd", momentum=0.0, batch_size=10),
        dict(solver="sgd", momentum=0.0, batch_size=1),
    ],
)
def test_warm_start_continues(kwargs, blobs):
    """With shuffle off and a stateless optimizer, 2 + 2 warm epochs == 4 epochs."""
    X, y = blobs()
    common = dict(hidden_layer_sizes=(8,), shuffle=False, random_state=0, **kwargs)
    straight = MLPClassifier(**common, max_iter=4).fit(X, y)
    warm = MLPClassifier(**common, max_iter=2).fit(X, y)
    after_two = params_of(warm)
    warm.set_params(warm_start=True)
    warm.fit(X, y)
    # as in scikit-learn: n_iter_ counts this call's epochs; t_ and loss_curve_ run on
    assert warm.n_iter_ == 2
    assert warm.t_ == 4 * X.shape[0]
    assert len(warm.loss_curve_) == 4
    np.testing.assert_allclose(warm.loss_curve_, straight.loss_curve_, rtol=1e-12)
    assert max_rel_diff(warm, straight) <= 1e-12
    assert max(np.abs(p - q).max() for p, q in zip(params_of(warm), after_two, strict=True)) > 0
    # without warm_start, fit starts over
    warm.set_params(warm_start=False, max_iter=2)
    warm.fit(X, y)
    assert warm.n_iter_ == 2
    for p, q in zip(params_of(warm), after_two, strict=True):
        np.testing.assert_array_equal(p, q)


def test_warm_start_counters_follow_sklearn(blobs):
    sklearn_nn = pytest.importorskip("sklearn.neural_network")
    X, y = blobs(n=60)
    counters = []
    for cls in (MLPClassifier, sklearn_nn.MLPClassifier):
        model = cls(hidden_layer_sizes=(4,), solver="sgd", max_iter=2, random_state=0)
        model.fit(X, y)
        model.set_params(warm_start=True, max_iter=3)
        model.fit(X, y)
        counters.append((model.n_iter_, model.t_, len(model.loss_curve_)))
    assert counters[0] == counters[1]


def test_early_stopping_keeps_the_best_epoch(blobs):
    X, y = blobs(n=200, spread=2.5)  # overlapping: the score moves epoch to epoch
    snapshots, seen = [], []

    def record(model, info):
        snapshots.append((info["validation_score"], params_of(model)))
        seen.append(info["n_samples"])

    model = MLPClassifier(
        hidden_layer_sizes=(16,),
        solver="sgd",
        learning_rate_init=0.3,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=3,
        max_iter=30,
        random_state=0,
        callbacks=[record],
    ).fit(X, y)
    scores = model.validation_scores_
    assert len(scores) == model.n_iter_ == len(snapshots)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert [s for s, _ in snapshots] == scores
    assert model.best_validation_score_ == max(scores)
    assert model.best_loss_ is None
    # the training set excludes the 20 % held out
    n_train = seen[0]
    assert abs(n_train - 160) <= 3
    assert model.t_ == model.n_iter_ * n_train
    # the weights are those of the (first) best epoch
    best = int(np.argmax(scores))
    for p, q in zip(params_of(model), snapshots[best][1], strict=True):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("classes", [[0, 1], [0, 2], [1, 2], np.array([0, 1]), (1, 2, 5)])
def test_partial_fit_refuses_labels_outside_classes(blobs, classes):
    X, y = blobs(n=60, n_classes=3)
    model = MLPClassifier(**FAST)
    with pytest.raises(ValueError, match="classes") as error:
        model.partial_fit(X, y, classes=classes)
    missing = sorted(set(range(3)) - set(np.asarray(classes).tolist()))
    assert str(missing[0]) in str(error.value)
    assert not hasattr(model, "classes_") and not hasattr(model, "coefs_")
    # classes that include every label present work, also when some never appear
    model.partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2, 7])
    np.testing.assert_array_equal(model.classes_, [0, 1, 2, 7])


@pytest.mark.parametrize(
    "change",
    [
        dict(hidden_layer_sizes=(16,)),
        dict(hidden_layer_sizes=(8, 8)),
        dict(hidden_layer_sizes=8 + 1),
        dict(dtype="float32"),
        dict(activation="logistic"),
        dict(output_activation="logistic"),
        dict(loss="squared_error"),
    ],
    ids=["wider", "deeper", "int", "dtype", "activation", "output", "loss"],
)
@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_continuing_with_another_architecture_is_refused(blobs, change, how):
    X, y = blobs()
    model = MLPClassifier(**{**FAST, "dtype": "float64"}, warm_start=how == "warm_start")
    model.fit(X, y)
    before = [p.copy() for p in params_of(model)]
    model.set_params(**change)
    (name, value), = change.items()
    with pytest.raises(ValueError, match=name) as error:
        model.fit(X, y) if how == "warm_start" else model.partial_fit(X, y)
    assert "warm_start=False" in str(error.value)
    for p, q in zip(params_of(model), before, strict=True):
        np.testing.assert_array_equal(p, q)  # nothing was trained
    # without warm_start, fit trains the new architecture
    model.set_params(warm_start=False).fit(X, y)
    if name == "hidden_layer_sizes":
        assert model.coefs_[0].shape[1] == validation_hidden(value)[0]


def validation_hidden(value):
    return (value,) if isinstance(value, int) else tuple(value)


def test_continuing_with_the_same_architecture_spelled_differently_is_fine(blobs):
    X, y = blobs()
    model = MLPClassifier(**{**FAST, "hidden_layer_sizes": 8}, warm_start=True).fit(X, y)
    model.set_params(hidden_layer_sizes=[8]).fit(X, y)
    model.set_params(hidden_layer_sizes=np.array([8])).partial_fit(X, y)
    model.set_params(dtype="float64").fit(X, y)  # the dtype None picked for float64 X
    assert model.t_ == 3 * FAST["max_iter"] * len(X) + len(X)
