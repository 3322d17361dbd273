"""MLPClassifier's contract: determinism, input handling, fitted state, schedules,
validation errors and the divergence guard."""

import warnings

import numpy as np
import pytest

import fastmlp
from fastmlp.engine import reference
from fastmlp.engine.network import Network
from fastmlp.estimator import MLPClassifier

FAST = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)


pytestmark = pytest.mark.usefixtures("quiet_convergence")


def params_of(model):
    return [np.array(a) for a in (*model.coefs_, *model.intercepts_)]


def max_rel_diff(a, b):
    return max(
        float(np.abs(np.asarray(p, np.float64) - q).max() / np.abs(np.asarray(q)).max())
        for p, q in zip(params_of(a), params_of(b), strict=True)
    )


# -- determinism and inputs ---------------------------------------------------------------


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


@pytest.fixture(scope="module")
def mnist_slice(mnist):
    (x_train, y_train), _ = mnist
    return np.ascontiguousarray(x_train[:1000].reshape(1000, -1)), y_train[:1000]


def test_uint8_float32_float64_inputs_agree(mnist_slice):
    x8, y = mnist_slice
    kwargs = dict(
        hidden_layer_sizes=(32,),
        solver="sgd",
        learning_rate_init=0.1,
        momentum=0.9,
        batch_size=100,
        max_iter=3,
        random_state=0,
    )
    m8 = MLPClassifier(**kwargs).fit(x8, y)
    m32 = MLPClassifier(**kwargs).fit((x8 / 255.0).astype(np.float32), y)
    m64 = MLPClassifier(**kwargs).fit(x8 / 255.0, y)
    # default dtype: float32 for uint8 and float32 input, float64 otherwise
    assert m8.coefs_[0].dtype == m32.coefs_[0].dtype == np.float32
    assert m64.coefs_[0].dtype == np.float64
    assert max_rel_diff(m8, m32) <= 1e-5
    assert max_rel_diff(m8, m64) <= 1e-5
    assert max_rel_diff(m32, m64) <= 1e-5
    # with the same float64 arithmetic, uint8 and x/255 agree to float64 rounding
    m8_64 = MLPClassifier(**kwargs, dtype="float64").fit(x8, y)
    assert m8_64.coefs_[0].dtype == np.float64
    assert max_rel_diff(m8_64, m64) <= 1e-12
    np.testing.assert_allclose(m8_64.loss_curve_, m64.loss_curve_, rtol=1e-12)
    # predictions accept either representation
    np.testing.assert_array_equal(m8_64.predict(x8), m64.predict(x8 / 255.0))


def test_image_input_is_flattened(mnist_slice):
    x8, y = mnist_slice
    images = x8[:300].reshape(300, 28, 28)
    kwargs = dict(hidden_layer_sizes=(16,), max_iter=2, random_state=0)
    m3 = MLPClassifier(**kwargs).fit(images, y[:300])
    m2 = MLPClassifier(**kwargs).fit(x8[:300], y[:300])
    assert m3.n_features_in_ == 784
    assert m3.coefs_[0].shape == (784, 16)
    for p, q in zip(params_of(m3), params_of(m2), strict=True):
        np.testing.assert_array_equal(p, q)
    np.testing.assert_array_equal(m3.predict(images), m3.predict(x8[:300]))
    np.testing.assert_array_equal(m3.predict_proba(images), m2.predict_proba(x8[:300]))


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["cat", "dog", "emu"]),
        np.array([-7, 3, 1000]),
        np.array([1.0, 10.0, 99.0]),
        np.array([True, False]),
    ],
    ids=["str", "sparse-int", "float", "bool"],
)
def test_arbitrary_labels_round_trip(labels, blobs):
    X, index = blobs(n_classes=len(labels))
    y = labels[index]
    model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=200, random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.classes_, np.unique(labels))
    predicted = model.predict(X)
    assert predicted.dtype == y.dtype
    assert set(predicted.tolist()) <= set(labels.tolist())
    assert np.mean(predicted == y) >= 0.95
    assert model.score(X, y) == pytest.approx(np.mean(predicted == y))
    # predict_proba columns follow classes_
    proba = model.predict_proba(X)
    np.testing.assert_array_equal(model.classes_[proba.argmax(axis=1)], predicted)


def test_labels_given_as_list_of_strings(blobs):
    X, index = blobs()
    y = [["a", "b", "c"][i] for i in index]
    model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=200, random_state=0).fit(X, y)
    assert model.classes_.tolist() == ["a", "b", "c"]
    assert np.mean(model.predict(X) == np.array(y)) >= 0.95


@pytest.mark.parametrize("output_activation", ["softmax", "logistic"])
@pytest.mark.parametrize("loss", ["log_loss", "squared_error"])
def test_predict_proba_is_a_distribution(output_activation, loss, blobs):
    X, y = blobs(n_classes=4)
    model = MLPClassifier(**FAST, output_activation=output_activation, loss=loss).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (X.shape[0], 4)
    assert np.all(proba >= 0) and np.all(proba <= 1)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(model.classes_[proba.argmax(axis=1)], model.predict(X))
    np.testing.assert_allclose(model.predict_log_proba(X), np.log(proba), rtol=1e-12)
    assert model.out_activation_ == output_activation


# -- fitted state -------------------------------------------------------------------------


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


# -- learning-rate schedules ---------------------------------------------------------------


def test_invscaling_steps_with_decayed_rate(blobs):
    """sgd, one batch per epoch: epoch e steps with lr0 / (t + 1) ** power_t, t the
    samples seen before it, exactly as a by-hand gradient descent from the same start."""
    X, y = blobs(n=40)
    lr0, power_t, alpha = 0.5, 0.25, 1e-3
    rng = np.random.default_rng(7)
    coefs = [rng.normal(0, 0.5, (5, 6)), rng.normal(0, 0.5, (6, 3))]
    intercepts = [rng.normal(0, 0.1, 6), rng.normal(0, 0.1, 3)]
    model = MLPClassifier(
        hidden_layer_sizes=(6,),
        solver="sgd",
        momentum=0.0,
        learning_rate="invscaling",
        learning_rate_init=lr0,
        power_t=power_t,
        batch_size=40,
        max_iter=3,
        shuffle=False,
        alpha=alpha,
        random_state=0,
        dtype="float64",
    ).fit(X, y, coef_init=coefs, intercept_init=intercepts)

    net = Network((5, 6, 3), "relu", "softmax", "log_loss", np.float64)
    for target, value in zip(net.coefs + net.intercepts, coefs + intercepts, strict=True):
        target[...] = value
    for t in (0, 40, 80):
        _, grads = reference.gradients(net, X, y.astype(np.int64), alpha)
        net.params[:] -= lr0 / (t + 1) ** power_t * grads
    assert model.n_iter_ == 3
    for p, q in zip(params_of(model), [*net.coefs, *net.intercepts], strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-15)
    assert model._optimizer.learning_rate == pytest.approx(lr0 / (3 * 40 + 1) ** power_t)


def test_cosine_steps_with_half_cosine_rates(blobs):
    """sgd, one batch per epoch: epoch k of 4 steps with lr0 * (1 + cos(pi (k-1) / 4)) / 2,
    exactly as a by-hand gradient descent from the same start."""
    X, y = blobs(n=40)
    lr0, n_epochs = 0.5, 4
    rng = np.random.default_rng(3)
    coefs = [rng.normal(0, 0.5, (5, 6)), rng.normal(0, 0.5, (6, 3))]
    intercepts = [rng.normal(0, 0.1, 6), rng.normal(0, 0.1, 3)]
    model = MLPClassifier(
        hidden_layer_sizes=(6,), solver="sgd", momentum=0.0, learning_rate="cosine",
        learning_rate_init=lr0, batch_size=40, max_iter=n_epochs, shuffle=False, alpha=0.0,
        random_state=0, dtype="float64",
    ).fit(X, y, coef_init=coefs, intercept_init=intercepts)

    net = Network((5, 6, 3), "relu", "softmax", "log_loss", np.float64)
    for target, value in zip(net.coefs + net.intercepts, coefs + intercepts, strict=True):
        target[...] = value
    rates = [lr0 * (1 + np.cos(np.pi * k / n_epochs)) / 2 for k in range(n_epochs)]
    for rate in rates:
        _, grads = reference.gradients(net, X, y.astype(np.int64), 0.0)
        net.params[:] -= rate * grads
    for p, q in zip(params_of(model), [*net.coefs, *net.intercepts], strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-15)
    assert model._optimizer.learning_rate == pytest.approx(rates[-1])


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_cosine_rate_per_epoch_and_across_partial_fit(solver, blobs, tmp_path):
    """Both solvers follow the cosine, fit over max_iter epochs and partial_fit call by
    call (then holding the last rate); a saved model continues where it stopped."""
    X, y = blobs(n=60)
    lr0, n_epochs = 0.01, 3
    expected = [lr0 * (1 + np.cos(np.pi * min(k, n_epochs - 1) / n_epochs)) / 2
                for k in range(5)]
    seen = []
    kwargs = dict(hidden_layer_sizes=(4,), solver=solver, learning_rate="cosine",
                  learning_rate_init=lr0, max_iter=n_epochs, batch_size=20, random_state=0,
                  tol=0.0, n_iter_no_change=99,
                  callbacks=[lambda m, info: seen.append(m._optimizer.learning_rate)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MLPClassifier(**kwargs).fit(X, y)
    assert seen == pytest.approx(expected[:n_epochs])

    seen.clear()
    model = MLPClassifier(**kwargs)
    for _ in range(2):
        model.partial_fit(X, y, classes=np.unique(y))
    model.save(tmp_path / "model.npz")
    model = fastmlp.load(tmp_path / "model.npz")
    model.set_params(callbacks=kwargs["callbacks"])
    for _ in range(3):
        model.partial_fit(X, y)
    assert seen == pytest.approx(expected)


def test_cosine_changes_adam_only_after_the_first_epoch(blobs):
    """Adam's first epoch is the same with either schedule; the later ones step less."""
    X, y = blobs(n=60)
    kwargs = dict(hidden_layer_sizes=(4,), learning_rate_init=0.01, batch_size=20,
                  random_state=0, dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = [MLPClassifier(**kwargs, learning_rate=s, max_iter=1).fit(X, y)
               for s in ("constant", "cosine")]
        three = [MLPClassifier(**kwargs, learning_rate=s, max_iter=3).fit(X, y)
                 for s in ("constant", "cosine", "invscaling")]
    for p, q in zip(params_of(one[0]), params_of(one[1]), strict=True):
        np.testing.assert_array_equal(p, q)
    assert not np.array_equal(three[0].coefs_[0], three[1].coefs_[0])
    # scikit-learn's schedules are SGD's: Adam ignores them
    for p, q in zip(params_of(three[0]), params_of(three[2]), strict=True):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("schedule", ["constant", "invscaling", "adaptive"])
@pytest.mark.parametrize(("tol", "n_iter_no_change", "max_iter"), [(1e9, 2, 12), (0.0, 50, 5)])
def test_schedules_follow_sklearn(schedule, tol, n_iter_no_change, max_iter, blobs):
    """Same epochs run and same final rate as scikit-learn (tol=1e9 makes every epoch a
    "no improvement" one, so the decisions do not depend on the loss values)."""
    sklearn_nn = pytest.importorskip("sklearn.neural_network")
    X, y = blobs(n=60)
    kwargs = dict(
        hidden_layer_sizes=(4,),
        solver="sgd",
        learning_rate=schedule,
        learning_rate_init=0.1,
        tol=tol,
        n_iter_no_change=n_iter_no_change,
        max_iter=max_iter,
        batch_size=20,
        random_state=0,
    )
    ours = MLPClassifier(**kwargs).fit(X, y)
    theirs = sklearn_nn.MLPClassifier(**kwargs).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.t_ == theirs.t_
    assert ours._optimizer.learning_rate == pytest.approx(theirs._optimizer.learning_rate)


def test_adaptive_divides_rate_by_five(blobs):
    X, y = blobs(n=60)
    model = MLPClassifier(
        hidden_layer_sizes=(4,),
        solver="sgd",
        learning_rate="adaptive",
        learning_rate_init=0.1,
        tol=1e9,
        n_iter_no_change=2,
        max_iter=6,
        random_state=0,
    ).fit(X, y)
    # no improvement counted from epoch 2; the 3rd such epoch (epoch 4) triggers lr / 5
    assert model._optimizer.learning_rate == pytest.approx(0.1 / 5)
    constant = MLPClassifier(
        hidden_layer_sizes=(4,),
        solver="sgd",
        learning_rate="constant",
        learning_rate_init=0.1,
        tol=1e9,
        n_iter_no_change=2,
        max_iter=8,
        random_state=0,
    ).fit(X, y)
    assert constant.n_iter_ == 4


# -- validation -----------------------------------------------------------------------------


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


# -- divergence ---------------------------------------------------------------------------


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


# -- reliability (issue 11): absurd sizes, errors that name the problem ----------------------


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


def _images(blobs, n=60, shape=(6, 6), seed=0):
    X, y = blobs(n=n, n_features=shape[0] * shape[1], seed=seed)
    return X.reshape(n, *shape), y


@pytest.mark.parametrize("other", [(3, 12), (12, 3), (36, 1), (1, 36), (2, 18)])
@pytest.mark.parametrize("method", ["predict", "predict_proba", "partial_fit", "warm_fit"])
def test_images_of_another_shape_are_refused(blobs, other, method):
    """Same pixel count, other image shape: refused, naming both shapes."""
    X, y = _images(blobs)
    model = MLPClassifier(**FAST, warm_start=method == "warm_fit").fit(X, y)
    assert model.image_shape_ == (6, 6)
    wrong = X.reshape(len(X), *other)
    call = {
        "predict": lambda: model.predict(wrong),
        "predict_proba": lambda: model.predict_proba(wrong),
        "partial_fit": lambda: model.partial_fit(wrong, y),
        "warm_fit": lambda: model.fit(wrong, y),
    }[method]
    with pytest.raises(ValueError, match=r"\(6, 6\)") as error:
        call()
    assert str(other) in str(error.value)


def test_flattened_images_and_image_models_mix_as_documented(blobs):
    X, y = _images(blobs)
    model = MLPClassifier(**FAST).fit(X, y)
    flat = X.reshape(len(X), -1)
    # flattened input of the right width is the documented equivalent
    np.testing.assert_array_equal(model.predict(flat), model.predict(X))
    # a model fitted on flat rows has no image shape to compare with
    flat_model = MLPClassifier(**FAST).fit(flat, y)
    assert flat_model.image_shape_ is None
    assert flat_model.predict(X.reshape(len(X), 4, 9)).shape == (len(X),)
    # a transposed stack of square images has the same shape: not detectable (documented)
    assert model.predict(X.transpose(0, 2, 1)).shape == (len(X),)
    # a fresh fit takes the new shape
    refit = model.fit(X.reshape(len(X), 4, 9), y)
    assert refit.image_shape_ == (4, 9)


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
