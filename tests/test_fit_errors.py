"""The one clear error for a parameter or an input MLPClassifier refuses, raised before
anything is trained or allocated, and the values it accepts."""

import warnings

import numpy as np
import pytest
from fithelp import FAST

from fastmlp.estimator import MLPClassifier

pytestmark = pytest.mark.usefixtures("quiet_convergence")


def _fit_raises(match, X, y, **params):
    with pytest.raises(ValueError, match=match):
        MLPClassifier(**{**FAST, **params}).fit(X, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_non_finite_X_rejected(bad, dtype, blobs):
    X, y = blobs(n=30)
    X = X.astype(dtype)
    X[4, 2] = bad
    _fit_raises(r"\bX\b", X, y)
    model = MLPClassifier(**FAST).fit(*blobs(n=30))
    with pytest.raises(ValueError, match=r"\bX\b"):
        model.predict(X)


def test_finite_X_whose_sum_overflows_is_accepted(blobs):
    """The finiteness check sums X first; an overflowing sum of finite values must
    fall back to the exact check, not reject good data."""
    X, y = blobs(n=30)
    X = X.astype(np.float32)
    X[:2, 0] = np.finfo(np.float32).max
    with np.errstate(over="ignore"):
        assert not np.isfinite(X.sum())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning leaks to the user either
        validated = MLPClassifier(**FAST)._validate_X(X, reset=True)
    assert validated.shape == X.shape


def test_y_length_mismatch(blobs):
    X, y = blobs(n=30)
    _fit_raises(r"\by\b", X, y[:-1])


def test_single_class(blobs):
    X, _ = blobs(n=30)
    _fit_raises(r"class", X, np.zeros(30, dtype=int))


def test_wrong_feature_count_at_predict(blobs):
    X, y = blobs(n=30, n_features=5)
    model = MLPClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match=r"features"):
        model.predict(X[:, :4])
    with pytest.raises(ValueError, match=r"features"):
        model.predict_proba(np.hstack([X, X]))


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("activation", ("identity", "logistic", "tanh", "relu")),
        ("solver", ("sgd", "adam")),
        ("loss", ("log_loss", "squared_error")),
        ("output_activation", ("softmax", "logistic")),
        ("learning_rate", ("constant", "invscaling", "adaptive")),
        ("weight_init", ("glorot", "normal")),
    ],
)
def test_unknown_option_lists_allowed_values(name, allowed, blobs):
    X, y = blobs(n=30)
    with pytest.raises(ValueError, match=name) as info:
        MLPClassifier(**{**FAST, name: "bogus"}).fit(X, y)
    message = str(info.value)
    assert "bogus" in message
    for value in allowed:
        assert value in message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("hidden_layer_sizes", (0,)),
        ("hidden_layer_sizes", (5, -1)),
        ("hidden_layer_sizes", 0),
        ("hidden_layer_sizes", (2.5,)),
        ("learning_rate_init", 0.0),
        ("learning_rate_init", -0.1),
        ("max_iter", 0),
        ("max_iter", -3),
        ("batch_size", 0),
        ("batch_size", -1),
        ("alpha", -1.0),
        ("momentum", 1.5),
    ],
)
def test_out_of_range_numbers_name_the_argument(name, value, blobs):
    _fit_raises(name, *blobs(n=30), **{name: value})


def test_predict_before_fit(blobs):
    X, _ = blobs(n=10)
    model = MLPClassifier()
    for method in (model.predict, model.predict_proba):
        with pytest.raises(AttributeError, match="not fitted"):
            method(X)
    assert not hasattr(model, "coefs_")


@pytest.mark.parametrize("hidden", [10**9, (10**8,), (64, 10**10), (10**6, 10**6)])
def test_absurd_layer_sizes_name_the_parameter_before_allocating(blobs, hidden):
    """Terabytes of parameters on any machine: refused before anything is allocated."""
    X, y = blobs(n=30, n_features=784)
    model = MLPClassifier(hidden_layer_sizes=hidden, max_iter=1)
    with pytest.raises(ValueError, match="hidden_layer_sizes") as error:
        model.fit(X, y)
    assert "GB" in str(error.value)
    assert not hasattr(model, "coefs_")


@pytest.mark.parametrize("solver, fits", [("sgd", True), ("adam", False)])
def test_memory_check_counts_the_training_buffers(blobs, monkeypatch, solver, fits):
    """784-1000-3 float64: 0.8 M parameters, 6.3 MB each copy; SGD keeps 5 copies
    (31 MB), Adam 7 (44 MB). With 40 MB of memory, SGD fits and Adam does not."""
    from fastmlp import memory

    monkeypatch.setattr(memory, "physical_memory", lambda: 40_000_000)
    X, y = blobs(n=30, n_features=784)
    model = MLPClassifier(hidden_layer_sizes=(1000,), max_iter=1, solver=solver,
                          dtype="float64")
    if fits:
        model.fit(X, y)
    else:
        with pytest.raises(ValueError, match=r"hidden_layer_sizes=\(1000,\).*784-1000-3"):
            model.fit(X, y)


@pytest.mark.parametrize(
    "bad, where",
    [
        (np.nan, "index 4"),
        (None, "index 4"),
        (float("inf"), "index 4"),
    ],
    ids=["nan", "none", "inf"],
)
@pytest.mark.parametrize("others", ["int", "str"])
def test_object_labels_with_missing_values_name_them(blobs, bad, where, others):
    X, index = blobs(n=30)
    labels = np.array([0, 1, 2] if others == "int" else ["a", "b", "c"], dtype=object)
    y = labels[index]
    y[4] = bad
    with pytest.raises(ValueError, match=where) as error:
        MLPClassifier(**FAST).fit(X, y)
    assert "label" in str(error.value)


def test_float_labels_with_nan_name_the_first_one(blobs):
    X, y = blobs(n=30)
    y = y.astype(float)
    y[7] = np.nan
    with pytest.raises(ValueError, match="index 7"):
        MLPClassifier(**FAST).fit(X, y)
    model = MLPClassifier(**FAST)
    with pytest.raises(ValueError, match="classes"):
        model.partial_fit(X, y.round(), classes=[0.0, 1.0, np.nan])


@pytest.mark.parametrize(
    "shape, what",
    [((0, 28, 28), "0 sample"), ((0, 784), "0 sample"), ((5, 0, 28), "0 feature"),
     ((5, 28, 0), "0 feature"), ((0, 0), "0 sample"), ((0,), "2-D array")],
)
def test_empty_input_names_the_empty_axis(blobs, shape, what):
    X = np.zeros(shape, dtype=np.uint8)
    y = np.zeros(shape[0], dtype=int)
    with pytest.raises(ValueError, match=what) as error:
        MLPClassifier(**FAST).fit(X, y)
    assert str(shape) in str(error.value)
    model = MLPClassifier(**FAST).fit(*blobs(n=30, n_features=784))
    with pytest.raises(ValueError, match=what):
        model.predict(X)


@pytest.mark.parametrize(
    "value", ["abc", -1, 1.5, [1, 2], np.random.SeedSequence(0), True, object()]
)
def test_invalid_random_state_names_the_parameter(blobs, value):
    X, y = blobs(n=30)
    with pytest.raises(ValueError, match="random_state"):
        MLPClassifier(**{**FAST, "random_state": value}).fit(X, y)


@pytest.mark.parametrize("value", [None, 0, 2**40, np.int64(3), np.random.RandomState(0),
                                   np.random.default_rng(0)])
def test_valid_random_states_are_accepted(blobs, value):
    X, y = blobs(n=30)
    MLPClassifier(**{**FAST, "random_state": value}).fit(X, y)


@pytest.mark.parametrize(
    "value", [print, "print", [1], [print, "x"], (lambda m, info: None), {"a": print}]
)
def test_callbacks_that_are_not_a_list_of_callables_name_the_parameter(blobs, value):
    X, y = blobs(n=30)
    model = MLPClassifier(**{**FAST, "callbacks": value})
    with pytest.raises(ValueError, match="callbacks"):
        model.fit(X, y)
    assert not hasattr(model, "coefs_")  # refused before any training
