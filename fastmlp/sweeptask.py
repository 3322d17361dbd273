"""What runs on a Dask worker for one point of a sweep: the fit, on one thread, and its
score on the validation set; an exception of the fit comes back as the point's error.

[fastmlp.sweeps][fastmlp.sweeps] sends these tasks; the functions are
module-level so that workers find them by name.
"""

import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from fastmlp.engine import threads


def describe(error: BaseException) -> str:
    message = " ".join(str(error).split())
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def fit_point(params: dict, X, y, X_val, y_val) -> dict:
    """The task: fit one point on the worker it runs on and score it on the validation set.

    Returns the fields of a ``SweepResult`` other than ``index`` and ``params``;
    an exception of the fit is caught and returned as ``error``.
    """
    from fastmlp import MLPClassifier
    from fastmlp.exceptions import ConvergenceWarning

    worker = worker_address()
    epoch_seconds: list[float] = []
    user_callbacks = params.get("callbacks")

    def time_epoch(model, info: dict) -> None:
        epoch_seconds.append(info["seconds"])

    model = MLPClassifier(**{**params, "callbacks": [*(user_callbacks or ()), time_epoch]})
    started = time.perf_counter()
    try:
        with one_thread_per_fit(), warnings.catch_warnings():
            # a fixed epoch budget is the point of a sweep; not converging is expected
            warnings.simplefilter("ignore", category=ConvergenceWarning)
            # overflow warnings of a diverging point would only repeat its recorded error
            warnings.simplefilter("ignore", category=RuntimeWarning)
            model.fit(X, y)
            seconds = time.perf_counter() - started
            accuracy = float(model.score(X_val, y_val))
    except Exception as error:
        return {
            "error": describe(error), "worker": worker,
            "seconds": time.perf_counter() - started,
            "loss_curve": [float(loss) for loss in getattr(model, "loss_curve_", [])],
        }
    model.set_params(callbacks=user_callbacks)  # the timer is ours, and not picklable
    return {
        "validation_accuracy": accuracy, "seconds": seconds,
        "samples_per_s": model.t_ / sum(epoch_seconds) if sum(epoch_seconds) > 0 else None,
        "loss_curve": [float(loss) for loss in model.loss_curve_], "worker": worker,
        "model": model,
    }


def worker_address() -> str | None:
    from distributed import get_worker

    try:
        return get_worker().address
    except ValueError:  # not on a worker
        return None


@contextmanager
def one_thread_per_fit() -> Iterator[None]:
    """BLAS and Numba run single-threaded for the task.

    A worker of n threads runs n fits at once, so one thread each fills its
    cores exactly; more would oversubscribe them (two single-threaded workers
    on two cores, each fit spawning a second BLAS thread, run slower).
    """
    import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        with threads.thread_pools().limit(limits=1):
            yield
    finally:
        numba.set_num_threads(previous)


def warm_up(params: dict) -> None:
    """Run on every worker before the points: loads the estimator, its kernels and threadpoolctl."""
    from fastmlp.sweeps import check_params

    check_params(params)  # loads the estimator and its kernels
    with one_thread_per_fit():
        pass
