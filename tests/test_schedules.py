"""The learning-rate schedules (fastmlp.engine.optimizers) as MLPClassifier runs them:
against a by-hand gradient descent, across partial_fit and saving, and as scikit-learn."""

import warnings

import numpy as np
import pytest
from fithelp import params_of

import fastmlp
from fastmlp.engine import reference
from fastmlp.engine.network import Network
from fastmlp.estimator import MLPClassifier

pytestmark = pytest.mark.usefixtures("quiet_convergence")


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
