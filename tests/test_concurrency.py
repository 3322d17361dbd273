"""One estimator trains one fit at a time (fastmlp.fitguard); different estimators train at once.

Every test makes the overlap certain with a barrier met inside a running
fit's callback, rather than hoping two threads collide.
"""

import copy
import pickle
import threading

import numpy as np
import pytest

from fastmlp.estimator import MLPClassifier
from fastmlp.exceptions import ConcurrentFitError

pytestmark = pytest.mark.usefixtures("quiet_convergence")

WAIT = 60  # seconds: a barrier never waits longer (a broken one fails the test)


def _run_in_thread(target) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["value"] = target()
        except BaseException as error:  # handed to the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.mark.parametrize("second", ["fit", "partial_fit"])
def test_a_second_fit_of_the_same_estimator_raises_and_the_first_ends_intact(blobs, second):
    X, y = blobs(n=120, n_features=7)
    other_X = np.random.default_rng(1).random((60, 3))
    other_y = np.arange(60) % 2
    inside, checked = threading.Barrier(2, timeout=WAIT), threading.Barrier(2, timeout=WAIT)

    def meet_once(model, info) -> None:
        if info["epoch"] == 1:
            inside.wait()   # the first fit is running ...
            checked.wait()  # ... until the second call has been tried

    model = MLPClassifier(hidden_layer_sizes=(32,), max_iter=3, random_state=0,
                          callbacks=[meet_once])
    thread, outcome = _run_in_thread(lambda: model.fit(X, y))
    inside.wait()
    try:
        with pytest.raises(ConcurrentFitError, match=rf"^{second} was called .* still training"):
            if second == "fit":
                model.fit(other_X, other_y)
            else:
                model.partial_fit(other_X, other_y, classes=[0, 1])
    finally:
        checked.wait()
        thread.join(WAIT)
    assert "error" not in outcome and outcome["value"] is model
    # the model is the first fit's alone: its data, its epochs
    assert model.n_features_in_ == 7 and model.coefs_[0].shape == (7, 32)
    assert model.n_iter_ == 3 and len(model.loss_curve_) == 3
    assert model.predict(X).shape == (120,)
    # and the guard is gone: the estimator fits again
    model.set_params(callbacks=None).fit(other_X, other_y)
    assert model.n_features_in_ == 3


def test_a_callback_that_refits_its_own_model_raises_instead_of_deadlocking(blobs):
    X, y = blobs()
    caught = []

    def refit(model, info) -> None:
        try:
            model.fit(X, y)
        except ConcurrentFitError as error:
            caught.append(error)

    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, random_state=0,
                          callbacks=[refit]).fit(X, y)
    assert len(caught) == 2 and model.n_iter_ == 2


def test_fits_of_different_estimators_run_at_the_same_time(blobs):
    """Both fits must be inside their first epoch together, or the barrier breaks."""
    X, y = blobs(n=200)
    both_inside = threading.Barrier(2, timeout=WAIT)

    def meet(model, info) -> None:
        if info["epoch"] == 1:
            both_inside.wait()

    models = [MLPClassifier(hidden_layer_sizes=(16,), max_iter=2, random_state=0,
                            callbacks=[meet]) for _ in range(2)]
    runs = [_run_in_thread(lambda model=model: model.fit(X, y)) for model in models]
    for thread, _ in runs:
        thread.join(WAIT)
    assert [outcome.get("error") for _, outcome in runs] == [None, None]
    for model, (_, outcome) in zip(models, runs, strict=True):
        assert outcome["value"] is model and model.n_iter_ == 2 and model.t_ == 400


def test_the_guard_adds_nothing_to_the_estimator(blobs):
    """Mid-fit, the estimator pickles, copies and lists its parameters as before."""
    X, y = blobs()
    seen = {}

    def inspect(model, info) -> None:
        if info["epoch"] == 1:
            seen["params"] = sorted(model.get_params())
            seen["copy"] = copy.deepcopy(model.set_params(callbacks=None))
            seen["pickle"] = pickle.loads(pickle.dumps(model))
            model.set_params(callbacks=[inspect])

    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, random_state=0,
                          callbacks=[inspect]).fit(X, y)
    assert seen["params"] == sorted(MLPClassifier().get_params())
    for restored in (seen["copy"], seen["pickle"]):
        assert restored.n_features_in_ == model.n_features_in_
        restored.fit(X, y)  # a copy made mid-fit is not marked as being fitted
    assert set(model.__dict__) == set(MLPClassifier(**model.get_params()).fit(X, y).__dict__)
