"""scikit-learn conformance: check_estimator, meta-estimators, pickling, optionality,
behaviour side by side with sklearn.neural_network.MLPClassifier, and a differential
test of one SGD epoch against scikit-learn itself."""

import copy
import io
import pickle
import re
import subprocess
import sys
import textwrap
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkMLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from fastmlp import MLPClassifier  # noqa: E402

# -- check_estimator ---------------------------------------------------------------------

# Every check of scikit-learn's suite runs as its own test. A check that cannot apply
# to fastmlp would be declared in EXPECTED_FAILED_CHECKS with a reason and reported by
# pytest as XFAIL; today that mapping is empty, all checks pass.
# Two checks may be reported SKIPPED by scikit-learn itself, depending on the
# environment: check_classifier_data_not_an_array without pandas, and
# check_array_api_input unless SCIPY_ARRAY_API=1 is set before scipy is imported.

EXPECTED_FAILED_CHECKS: dict[str, str] = {}  # {check name: why it cannot apply}

with warnings.catch_warnings():
    # scikit-learn notes that MLPClassifier does not inherit its BaseEstimator: by
    # design (fastmlp.base speaks the protocol without importing scikit-learn), and
    # every check below passes regardless.
    warnings.filterwarnings("ignore", message=".*does not inherit from `sklearn.base")
    _CHECKS = parametrize_with_checks(
        [MLPClassifier(), MLPClassifier(solver="sgd", learning_rate_init=0.01)],
        expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS,
    )


@_CHECKS
def test_sklearn_check_estimator(estimator, check):
    check(estimator)


# -- meta-estimators, clone, pickle ----------------------------------------------------------


def _small(**params):
    defaults = dict(hidden_layer_sizes=(16,), max_iter=60, learning_rate_init=0.01,
                    random_state=0)
    return MLPClassifier(**{**defaults, **params})


@pytest.fixture(autouse=True)
def _quiet(quiet_convergence):
    """The fits in this module are short by design; their ConvergenceWarning is noise."""


def test_pipeline_and_cross_val_score(linear_classes):
    X, y = linear_classes()
    pipeline = make_pipeline(StandardScaler(), _small())
    scores = cross_val_score(pipeline, X * 50 + 3, y, cv=3)
    assert scores.shape == (3,)
    assert scores.mean() > 0.8
    pipeline.fit(X, y)
    assert pipeline.predict_proba(X).shape == (len(y), 3)


def test_grid_search_in_parallel(linear_classes):
    X, y = linear_classes()
    search = GridSearchCV(
        _small(max_iter=30),
        {"hidden_layer_sizes": [(4,), (16,)], "learning_rate_init": [1e-3, 1e-2]},
        cv=3,
        n_jobs=2,
    )
    search.fit(X, y)
    assert set(search.best_params_) == {"hidden_layer_sizes", "learning_rate_init"}
    assert search.best_estimator_.n_iter_ >= 1
    assert search.score(X, y) > 0.8


def test_clone_is_unfitted_with_same_params(linear_classes):
    X, y = linear_classes()
    model = _small(callbacks=[lambda model, info: None]).fit(X, y)
    cloned = clone(model)
    assert cloned.get_params() == model.get_params()
    assert not hasattr(cloned, "coefs_")
    with pytest.raises(NotFittedError):
        cloned.predict(X)


@pytest.mark.parametrize("copier", [pickle.loads, copy.deepcopy], ids=["pickle", "deepcopy"])
def test_copies_keep_parameters_as_views_of_the_flat_buffer(copier, linear_classes):
    X, y = linear_classes()
    model = _small(max_iter=5).fit(X, y)
    copied = copier(pickle.dumps(model)) if copier is pickle.loads else copier(model)
    network = copied._network
    assert network is not model._network
    assert not np.shares_memory(network.params, model._network.params)
    for layer in copied.coefs_ + copied.intercepts_:
        assert np.shares_memory(layer, network.params)
    np.testing.assert_array_equal(copied.predict_proba(X), model.predict_proba(X))
    # writing through coefs_ reaches the buffer training and prediction use
    copied.coefs_[0][:] = 0
    assert not network.params[: copied.coefs_[0].size].any()
    # and training the copy goes on from its own state, leaving the original alone
    before = model._network.params.copy()
    copied.partial_fit(X, y)
    np.testing.assert_array_equal(model._network.params, before)


def test_feature_names_of_data_frames(linear_classes):
    class Frame:  # the two things scikit-learn reads from a pandas DataFrame
        def __init__(self, data, columns):
            self._data, self.columns = np.asarray(data), list(columns)

        def __array__(self, dtype=None, copy=None):
            return self._data if dtype is None else self._data.astype(dtype)

    X, y = linear_classes(n_features=3)
    model = _small(max_iter=3).fit(Frame(X, ["a", "b", "c"]), y)
    np.testing.assert_array_equal(model.feature_names_in_, ["a", "b", "c"])
    model.predict(Frame(X, ["a", "b", "c"]))
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        model.predict(X)
    with pytest.raises(ValueError, match="feature names should match"):
        model.predict(Frame(X, ["a", "c", "b"]))
    model.fit(X, y)
    assert not hasattr(model, "feature_names_in_")
    with pytest.warns(UserWarning, match="fitted without feature names"):
        model.predict(Frame(X, ["a", "b", "c"]))


# -- scikit-learn stays optional ---------------------------------------------------------


def test_import_and_train_without_sklearn():
    code = textwrap.dedent(
        """
        import sys
        sys.modules["sklearn"] = None  # any `import sklearn...` now raises ImportError
        import warnings
        import numpy as np
        import fastmlp
        from fastmlp import base
        rng = np.random.default_rng(0)
        X = rng.standard_normal((200, 5))
        y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
        model = fastmlp.MLPClassifier(
            hidden_layer_sizes=(8,), max_iter=100, learning_rate_init=0.01, random_state=0
        )
        try:
            model.predict(X)
        except base.NotFittedError:
            pass
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", base.ConvergenceWarning)
            model.fit(X, y)
        assert set(model.predict(X)) <= {"yes", "no"}
        assert model.score(X, y) > 0.8, model.score(X, y)
        assert model.predict_proba(X).shape == (200, 2)
        model.set_params(max_iter=2).partial_fit(X, y)
        assert model.get_params()["max_iter"] == 2 and "MLPClassifier(" in repr(model)
        assert sys.modules["sklearn"] is None
        print("trained without scikit-learn")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "trained without scikit-learn" in result.stdout


# -- the same behaviour as scikit-learn's MLPClassifier ----------------------------------


def _pair(**params):
    """(fastmlp, scikit-learn) classifiers with the same parameters."""
    params = {"hidden_layer_sizes": (8,), "random_state": 0, **params}
    return MLPClassifier(**params), SkMLPClassifier(**params)


def test_partial_fit_like_sklearn(linear_classes):
    X, y = linear_classes()
    for model in _pair(solver="sgd"):
        with pytest.raises(ValueError, match="classes"):
            model.partial_fit(X, y)
        subset = y < 2
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # partial_fit never warns about convergence
            model.partial_fit(X[subset], y[subset], classes=[0, 1, 2])
            model.partial_fit(X, y)
            model.partial_fit(X, y, classes=np.array([2, 1, 0]))
        np.testing.assert_array_equal(model.classes_, [0, 1, 2])
        assert model.n_iter_ == 1  # epochs of the last call
        assert model.t_ == subset.sum() + 2 * len(y)
        assert len(model.loss_curve_) == 3
        assert model.predict_proba(X).shape == (len(y), 3)
        with pytest.raises(ValueError):
            model.partial_fit(X, y, classes=[0, 1, 2, 3])
        with pytest.raises(ValueError):
            model.partial_fit(X, np.where(y == 2, 7, y))
        # after fit, partial_fit goes on without classes
        model.set_params(max_iter=2).fit(X, y)
        model.partial_fit(X, y)
        assert model.n_iter_ == 1 and len(model.loss_curve_) == 3
    for model in _pair(early_stopping=True):
        with pytest.raises(ValueError, match="early_stopping"):
            model.partial_fit(X, y, classes=[0, 1, 2])


def test_warm_start_like_sklearn(linear_classes):
    X, y = linear_classes()
    for model in _pair(max_iter=3, warm_start=True):
        model.fit(X, y)
        first = [c.copy() for c in model.coefs_]
        model.fit(X, y)
        # n_iter_ counts the last call's epochs; loss_curve_ and t_ accumulate
        assert model.n_iter_ == 3 and len(model.loss_curve_) == 6 and model.t_ == 6 * len(y)
        assert not np.array_equal(first[0], model.coefs_[0])
        with pytest.raises(ValueError, match="warm_start"):
            model.fit(X[y < 2], y[y < 2])  # warm_start needs the same classes
        model.set_params(warm_start=False).fit(X, y)
        assert model.n_iter_ == 3 and len(model.loss_curve_) == 3


@pytest.mark.parametrize("early_stopping", [False, True])
def test_stopping_like_sklearn(early_stopping, linear_classes):
    X, y = linear_classes()
    # with a huge tol no epoch counts as an improvement: both stop after the same epoch
    ours, theirs = _pair(
        early_stopping=early_stopping, tol=10.0, n_iter_no_change=3, max_iter=50
    )
    for model in (ours, theirs):
        model.fit(X, y)
        assert model.n_iter_ == 5
        if early_stopping:
            assert len(model.validation_scores_) == model.n_iter_
            assert model.best_validation_score_ == max(model.validation_scores_)
            assert model.best_loss_ is None
        else:
            assert model.validation_scores_ is None and model.best_validation_score_ is None
            assert model.best_loss_ == min(model.loss_curve_)


def test_early_stopping_restores_the_best_epoch(linear_classes):
    X, y = linear_classes()
    snapshots = []
    model = _small(
        early_stopping=True, validation_fraction=0.25, n_iter_no_change=4, max_iter=40,
        learning_rate_init=0.05,
        callbacks=[lambda m, info: snapshots.append(
            (info["validation_score"], m._network.params.copy())
        )],
    )
    model.fit(X, y)
    scores = [score for score, _ in snapshots]
    assert scores == model.validation_scores_
    best = int(np.argmax(scores))  # the first epoch with the best score, as in sklearn
    np.testing.assert_array_equal(model._network.params, snapshots[best][1])


def _normalized(text: str) -> list[str]:
    return [re.sub(r"[-+]?\d+(\.\d+)?(e[-+]?\d+)?", "N", line) for line in text.splitlines()]


@pytest.mark.parametrize("early_stopping", [False, True])
def test_verbose_output_like_sklearn(early_stopping, linear_classes):
    X, y = linear_classes()
    outputs = []
    for model in _pair(verbose=True, early_stopping=early_stopping, tol=10.0, n_iter_no_change=2):
        buffer = io.StringIO()
        with redirect_stdout(buffer):
            model.fit(X, y)
        outputs.append(_normalized(buffer.getvalue()))
    assert outputs[0] == outputs[1]
    assert outputs[0][0] == "Iteration N, loss = N"


def test_predict_log_proba_like_sklearn(linear_classes):
    X, y = linear_classes()
    for model in _pair(max_iter=20):
        model.fit(X, y)
        log_proba = model.predict_log_proba(X)
        assert log_proba.shape == (len(y), 3)
        np.testing.assert_allclose(np.exp(log_proba), model.predict_proba(X), rtol=1e-6)


def test_binary_output_layers_differ_by_design(linear_classes):
    """scikit-learn gives a binary problem one logistic output unit; fastmlp keeps one
    softmax unit per class. Probabilities have the same (n, 2) shape, weights do not."""
    X, y = linear_classes(n_classes=2)
    ours, theirs = (model.fit(X, y) for model in _pair(max_iter=20))
    assert (ours.n_outputs_, theirs.n_outputs_) == (2, 1)
    assert (ours.out_activation_, theirs.out_activation_) == ("softmax", "logistic")
    assert ours.predict_proba(X).shape == theirs.predict_proba(X).shape == (len(y), 2)


# -- differential test: one SGD epoch, same weights, same arithmetic ------------------------


def _one_epoch_both(X, y, hidden, activation, batch_size):
    rng = np.random.default_rng(1)
    sizes = (X.shape[1], *hidden, len(np.unique(y)))
    coefs = [rng.uniform(-0.3, 0.3, (a, b)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    intercepts = [rng.uniform(-0.3, 0.3, b) for b in sizes[1:]]
    common = dict(
        hidden_layer_sizes=hidden, activation=activation, solver="sgd", alpha=0.0,
        batch_size=batch_size, learning_rate="constant", learning_rate_init=0.05,
        momentum=0.0, shuffle=False, max_iter=1, random_state=0,
    )
    ours = MLPClassifier(**common, dtype="float64", loss="log_loss", output_activation="softmax")
    ours.fit(X, y, coef_init=coefs, intercept_init=intercepts)

    theirs = SkMLPClassifier(**common, warm_start=True)
    theirs.fit(X, y)  # only to build its layers; the weights are replaced next
    theirs.coefs_ = [c.copy() for c in coefs]
    theirs.intercepts_ = [b.copy() for b in intercepts]
    theirs.fit(X, y)  # warm start: one epoch from exactly our initial weights
    return ours, theirs, coefs


@pytest.mark.parametrize(
    "hidden, activation, batch_size",
    [((16,), "relu", 32), ((16, 8), "tanh", 1), ((12,), "logistic", "auto")],
)
@pytest.mark.parametrize("source", ["synthetic", "mnist"])
def test_one_sgd_epoch_matches_sklearn(
    request, source, hidden, activation, batch_size, linear_classes
):
    if source == "mnist":
        (x_train, y_train), _ = request.getfixturevalue("mnist")
        X, y = x_train[:300].reshape(300, -1) / 255.0, y_train[:300]
    else:
        X, y = linear_classes(n=300, n_features=20, n_classes=4)
    assert len(np.unique(y)) > 2  # multiclass: scikit-learn uses softmax + log loss too
    ours, theirs, initial = _one_epoch_both(X, y, hidden, activation, batch_size)
    moved = min(np.abs(c - c0).max() for c, c0 in zip(ours.coefs_, initial, strict=True))
    assert moved > 1e-5  # the epoch did change every layer
    for mine, sk in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_,
                        strict=True):
        np.testing.assert_allclose(mine, sk, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.loss_curve_[-1], theirs.loss_curve_[-1], rtol=1e-9)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


def test_training_does_not_import_sklearn():
    """Installed but unused, scikit-learn costs nothing: not even an import."""
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        from fastmlp import MLPClassifier
        X = np.random.default_rng(0).standard_normal((50, 4))
        y = (X[:, 0] > 0).astype(int)
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=2).fit(X, y).predict(X)
        assert not [m for m in sys.modules if m.startswith("sklearn")], "sklearn was imported"
        """
    )
    subprocess.run([sys.executable, "-W", "ignore", "-c", code], check=True)
