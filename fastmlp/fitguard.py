"""One fit at a time per estimator: a second, concurrent ``fit`` or ``partial_fit`` raises.

Training releases the GIL, so two threads can fit the same estimator at
once. Each would replace the network, the optimizer and the fitted
attributes the other is writing, and both would return normally with a
model that mixes them (the weights of one, ``n_features_in_`` of the
other). The guard turns that into a
[ConcurrentFitError][fastmlp.exceptions.ConcurrentFitError] in the second
caller, at once and before it touches anything.

It raises rather than waits. Waiting would hide the bug it catches: ``fit``
starts over, so of two fits queued on one estimator the first one's work is
silently thrown away, and two threads feeding ``partial_fit`` would train on
their chunks in an arbitrary order. Code that means to serialize its fits
holds a lock of its own; code that means to train in parallel fits one
estimator per thread (``sklearn.base.clone``), and those fits do run at once.
A callback that calls ``fit`` on the model it is watching is caught too,
where a waiting lock would deadlock.

The guard is a registry of the estimators being fitted, keyed by ``id``,
not an attribute: nothing is added to the estimator, so pickling, copying,
``clone`` and ``get_params`` see exactly what they saw before. An ``id`` is
unique while its object lives, and an estimator lives while it is being
fitted.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from fastmlp.exceptions import ConcurrentFitError

_lock = threading.Lock()
_fitting: set[int] = set()


@contextmanager
def fitting(estimator, method: str) -> Iterator[None]:
    """Run the block as ``estimator``'s only fit; raise if another one is running.

    Parameters
    ----------
    estimator : object
        The estimator about to be trained.
    method : str
        ``"fit"`` or ``"partial_fit"``, for the message.

    Raises
    ------
    ConcurrentFitError
        Another ``fit`` or ``partial_fit`` of the same estimator has not returned.
    """
    key = id(estimator)
    with _lock:
        if key in _fitting:
            raise ConcurrentFitError(
                f"{method} was called on a {type(estimator).__name__} that another fit or "
                "partial_fit (in another thread, or from one of its callbacks) is still "
                "training; one estimator trains one fit at a time. Fit a separate estimator "
                "in each thread (sklearn.base.clone(model)), or wait for the first fit to "
                "return."
            )
        _fitting.add(key)
    try:
        yield
    finally:
        with _lock:
            _fitting.discard(key)

