"""MLPRegressor: scikit-learn's regressor exactly (one epoch from the same weights,
on real MNIST rows), its conformance, its targets, float32, partial_fit, warm starts,
early stopping on R², and model files of both estimators."""

import warnings

import numpy as np
import pytest

from fastmlp import MLPClassifier, MLPRegressor, load
from fastmlp.exceptions import ModelFileError

sklearn = pytest.importorskip("sklearn")

from sklearn.neural_network import MLPClassifier as SkMLPClassifier  # noqa: E402
from sklearn.neural_network import MLPRegressor as SkMLPRegressor  # noqa: E402
from sklearn.utils.estimator_checks import (  # noqa: E402
    check_sample_weight_equivalence_on_dense_data,
    parametrize_with_checks,
)


@pytest.fixture(autouse=True)
def _quiet(quiet_convergence):
    """The fits in this module are short by design; their ConvergenceWarning is noise."""


def _regression(n=150, n_features=6, n_outputs=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_features))
    W = rng.standard_normal((n_features, n_outputs))
    y = np.tanh(X @ W) + 0.05 * rng.standard_normal((n, n_outputs))
    return X, (y[:, 0] if n_outputs == 1 else y)


# -- conformance -----------------------------------------------------------------------------

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*does not inherit from `sklearn.base")
    _CHECKS = parametrize_with_checks(
        [MLPRegressor(), MLPRegressor(solver="sgd")],
        expected_failed_checks=lambda estimator: {},
    )


@_CHECKS
def test_sklearn_check_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "estimator",
    [MLPClassifier(random_state=0), MLPRegressor(random_state=0),
     MLPRegressor(solver="sgd", tol=1e-2, random_state=42)],
    ids=repr,
)
def test_sklearn_sample_weight_equivalence(estimator):
    check_sample_weight_equivalence_on_dense_data(type(estimator).__name__, estimator)


def test_parameters_and_defaults_are_sklearns():
    ours, theirs = MLPRegressor().get_params(), SkMLPRegressor().get_params()
    own = {"weight_init", "init_scale", "dtype", "callbacks"}
    assert set(ours) - own == set(theirs) - {"max_fun"}
    assert all(ours[name] == theirs[name] for name in set(ours) - own)
    model = MLPRegressor(hidden_layer_sizes=(5,), max_iter=3).fit(*_regression())
    assert (model.n_outputs_, model.out_activation_, model.n_layers_) == (2, "identity", 3)
    with pytest.raises(ValueError, match="loss must be 'squared_error'; got 'poisson'"):
        MLPRegressor(loss="poisson").fit(*_regression())


# -- exactness: one epoch from the same weights, on real MNIST rows ---------------------------


def _mnist_rows(mnist, n=2000):
    (x_train, y_train), _ = mnist
    return x_train[:n].reshape(n, -1) / 255.0, y_train[:n]


def _same_start(n_in, hidden, n_out):
    rng = np.random.default_rng(3)
    sizes = (n_in, *hidden, n_out)
    coefs = [rng.uniform(-0.1, 0.1, (a, b)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    intercepts = [rng.uniform(-0.1, 0.1, b) for b in sizes[1:]]
    return coefs, intercepts


_COMMON = dict(hidden_layer_sizes=(32,), solver="adam", alpha=1e-4, batch_size=200,
               learning_rate_init=1e-3, shuffle=False, max_iter=1, random_state=0)


def _sklearn_one_epoch(theirs, X, y, coefs, intercepts, sample_weight=None):
    theirs.fit(X, y, sample_weight=sample_weight)  # only to build its layers
    theirs.coefs_ = [c.copy() for c in coefs]
    theirs.intercepts_ = [b.copy() for b in intercepts]
    return theirs.fit(X, y, sample_weight=sample_weight)  # warm start: a fresh Adam


def _assert_same_weights(ours, theirs, start):
    moved = min(np.abs(c - c0).max() for c, c0 in zip(ours.coefs_, start, strict=True))
    assert moved > 1e-4
    for mine, sk in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_,
                        strict=True):
        np.testing.assert_allclose(mine, sk, rtol=0, atol=1e-9)
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-9)


def test_two_output_regression_epoch_matches_sklearn(mnist):
    X, labels = _mnist_rows(mnist)
    y = np.c_[labels / 9.0, X.mean(axis=1) * 4]
    coefs, intercepts = _same_start(X.shape[1], (32,), 2)
    ours = MLPRegressor(**_COMMON, dtype="float64").fit(
        X, y, coef_init=coefs, intercept_init=intercepts)
    theirs = _sklearn_one_epoch(SkMLPRegressor(**_COMMON, warm_start=True), X, y, coefs,
                                intercepts)
    _assert_same_weights(ours, theirs, coefs)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=0, atol=1e-9)
    assert ours.score(X, y) == pytest.approx(theirs.score(X, y), rel=1e-9)


def test_weighted_classifier_epoch_matches_sklearn(mnist):
    X, y = _mnist_rows(mnist)
    w = np.random.default_rng(4).uniform(0.1, 3, len(X))
    coefs, intercepts = _same_start(X.shape[1], (32,), 10)
    ours = MLPClassifier(**_COMMON, dtype="float64").fit(
        X, y, sample_weight=w, coef_init=coefs, intercept_init=intercepts)
    theirs = _sklearn_one_epoch(SkMLPClassifier(**_COMMON, warm_start=True), X, y, coefs,
                                intercepts, sample_weight=w)
    _assert_same_weights(ours, theirs, coefs)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=0,
                               atol=1e-9)
    unweighted = MLPClassifier(**_COMMON, dtype="float64").fit(
        X, y, coef_init=coefs, intercept_init=intercepts)
    assert np.abs(unweighted.coefs_[0] - ours.coefs_[0]).max() > 1e-5


# -- targets, dtypes, continued training ----------------------------------------------------


@pytest.mark.parametrize("n_outputs", [1, 3])
def test_float32_and_float64_learn_the_same(n_outputs):
    X, y = _regression(n=400, n_outputs=n_outputs)
    fits = [MLPRegressor(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=60,
                         random_state=0, dtype=dtype).fit(X, y)
            for dtype in ("float32", "float64")]
    assert fits[0].predict(X).dtype == np.float32
    assert fits[0].predict(X).shape == y.shape
    assert fits[1].score(X, y) > 0.8
    assert fits[0].score(X, y) == pytest.approx(fits[1].score(X, y), abs=1e-3)


def test_column_target_warns_and_predicts_1d():
    X, y = _regression(n_outputs=1)
    with pytest.warns(UserWarning, match="column-vector y"):
        model = MLPRegressor(hidden_layer_sizes=(4,), max_iter=2).fit(X, y[:, None])
    assert model.predict(X).shape == (len(X),)


def test_partial_fit_and_warm_start_continue_the_fit():
    X, y = _regression()
    model = MLPRegressor(hidden_layer_sizes=(8,), learning_rate_init=0.01, random_state=0)
    for _ in range(3):
        model.partial_fit(X, y)
    assert (model.n_iter_, model.t_, len(model.loss_curve_)) == (1, 3 * len(X), 3)
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    once = MLPRegressor(hidden_layer_sizes=(8,), learning_rate_init=0.01, random_state=0,
                        max_iter=4, warm_start=True, shuffle=False).fit(X, y)
    twice = MLPRegressor(hidden_layer_sizes=(8,), learning_rate_init=0.01, random_state=0,
                         max_iter=2, warm_start=True, shuffle=False).fit(X, y)
    twice.fit(X, y)
    assert twice.loss_curve_[:2] == once.loss_curve_[:2] and len(twice.loss_curve_) == 4


def test_early_stopping_follows_validation_r2():
    X, y = _regression(n=300)
    scores = []
    model = MLPRegressor(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=300,
                         batch_size=32, early_stopping=True, n_iter_no_change=5, random_state=0,
                         callbacks=[lambda m, info: scores.append(info["validation_score"])])
    model.fit(X, y)
    assert model.n_iter_ < 300 and scores == model.validation_scores_
    assert model.best_validation_score_ == max(scores) > 0.8


def test_coef_init_and_callbacks():
    X, y = _regression()
    coefs, intercepts = _same_start(X.shape[1], (5,), 2)
    seen = []
    model = MLPRegressor(hidden_layer_sizes=(5,), max_iter=3, shuffle=False,
                         learning_rate_init=1e-9, callbacks=[lambda m, info: seen.append(info)])
    model.fit(X, y, coef_init=coefs, intercept_init=intercepts)
    np.testing.assert_allclose(model.coefs_[0], coefs[0], atol=1e-6)
    assert [info["epoch"] for info in seen] == [1, 2, 3]


# -- bad input: one clear error, nothing changed -------------------------------------------------


@pytest.mark.parametrize(
    "make_y, message",
    [
        (lambda y: np.where(np.arange(len(y))[:, None] == 7, np.nan, y),
         "y contains nan .*row 7"),
        (lambda y: y[:, :, None].repeat(2, axis=2), r"got shape \(150, 2, 2\)"),
        (lambda y: y[:-1], "149 targets but X has 150"),
        (lambda y: np.full(y.shape, "a"), "must hold numbers"),
    ],
)
def test_bad_targets_get_one_clear_error(make_y, message):
    X, y = _regression()
    model = MLPRegressor(hidden_layer_sizes=(4,), max_iter=2)
    with pytest.raises(ValueError, match=message):
        model.fit(X, make_y(y))
    assert not hasattr(model, "n_features_in_") and not hasattr(model, "coefs_")


@pytest.mark.parametrize("width", [1, 3])
def test_partial_fit_refuses_another_target_width(width):
    X, y = _regression()
    model = MLPRegressor(hidden_layer_sizes=(4,)).partial_fit(X, y)
    before = [c.copy() for c in model.coefs_], model.t_
    other = _regression(n_outputs=width)[1]
    with pytest.raises(ValueError, match=f"2 output\\(s\\), but y has {width}"):
        model.partial_fit(X, other)
    np.testing.assert_array_equal(model.coefs_[0], before[0][0])
    assert model.t_ == before[1]


# -- model files ---------------------------------------------------------------------------------


def test_save_and_load_a_regressor(tmp_path):
    X, y = _regression()
    model = MLPRegressor(hidden_layer_sizes=(6,), max_iter=5, random_state=0,
                         early_stopping=True).fit(X, y)
    model.save(tmp_path / "model.npz", metadata={"data": "synthetic"})
    restored = load(tmp_path / "model.npz")
    assert type(restored) is MLPRegressor and repr(restored) == repr(model)
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    assert restored.validation_scores_ == model.validation_scores_
    # partial_fit after loading continues exactly (the optimizer state is in the file)
    model = MLPRegressor(hidden_layer_sizes=(6,), random_state=0).partial_fit(X, y)
    model.save(tmp_path / "model.npz")
    restored = load(tmp_path / "model.npz")
    np.testing.assert_array_equal(restored.partial_fit(X, y).predict(X),
                                  model.partial_fit(X, y).predict(X))


def _rewrite(path, out, **changes):
    """Edit a model file's arrays into ``out``; the digest goes, as in files saved before
    digests (an edited file that kept it would be refused as altered)."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files if key != "digest"}
    for key, value in changes.items():
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
    np.savez(out, **arrays)


def test_classifier_files_of_the_previous_format_still_load(tmp_path, linear_classes):
    X, y = linear_classes()
    model = MLPClassifier(hidden_layer_sizes=(6,), max_iter=3, random_state=0).fit(X, y)
    model.save(tmp_path / "now.npz")
    _rewrite(tmp_path / "now.npz", tmp_path / "v2.npz", estimator=None,
             format_version=np.array(2))
    restored = load(tmp_path / "v2.npz")
    assert type(restored) is MLPClassifier
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))


def test_damaged_regressor_files_are_refused(tmp_path):
    X, y = _regression()
    MLPRegressor(hidden_layer_sizes=(6,), max_iter=2).fit(X, y).save(tmp_path / "r.npz")
    _rewrite(tmp_path / "r.npz", tmp_path / "foreign.npz", estimator=np.array("os.system"))
    with pytest.raises(ModelFileError, match="estimator 'os.system'"):
        load(tmp_path / "foreign.npz")
    _rewrite(tmp_path / "r.npz", tmp_path / "swapped.npz", estimator=np.array("MLPClassifier"))
    with pytest.raises(ModelFileError, match="missing \\['classes', 'classes_object'\\]"):
        load(tmp_path / "swapped.npz")
    _rewrite(tmp_path / "r.npz", tmp_path / "old.npz", format_version=np.array(2))
    with pytest.raises(ModelFileError, match="missing"):
        load(tmp_path / "old.npz")
