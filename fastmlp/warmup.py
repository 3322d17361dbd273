"""Compile (or load) the training kernels before a timed fit, saying so when it is slow.

Numba compiles fastmlp's kernels on the first fit after an install and caches
them on disk; later processes load them from the cache in a fraction of a
second. A report of training speed that timed the first fit would count that
compilation as training, so the command line runs one untimed fit on a slice
first and reports its time on a line of its own.
"""

import sys
import threading
import time
import warnings

import fastmlp

WARM_UP_SAMPLES = 64
"""At least this many samples in the warm-up fit; two full batches when batches are larger,
so the fit takes the same engine path (and compiles the same kernels) as the real one."""

NOTICE_AFTER = 1.0
"""Seconds after which the warm-up says it is compiling: loading cached kernels takes less."""

NOTICE = "compiling kernels (first run only) ..."


def warm_up_slice(params: dict, n_samples: int) -> int:
    """Samples in the warm-up fit of ``params``: enough for two full batches."""
    batch = params.get("batch_size", "auto")
    batch = 200 if batch == "auto" else int(batch)
    return min(n_samples, max(WARM_UP_SAMPLES, 2 * batch))


def warm_up(params: dict, X, y, notice=sys.stderr, notice_after: float = NOTICE_AFTER,
            estimator=None) -> float:
    """One untimed epoch of ``estimator(**params)`` on a slice of ``X``, ``y``.

    Parameters
    ----------
    params : dict
        The parameters of the fit to come.
    X, y : array-like
        Its training data; the first ``warm_up_slice`` samples are used.
    notice : file-like or None, optional
        Where ``NOTICE`` is written if the warm-up is still running after
        ``notice_after`` seconds (a cold cache); None writes nothing.
    notice_after : float, optional
        Seconds before the notice.
    estimator : class, optional
        The estimator of the fit to come; None is ``MLPClassifier``.

    Returns
    -------
    float
        Seconds the warm-up took: compiling the kernels, or loading them.
    """
    n = warm_up_slice(params, len(X))
    # every step-th sample: a file sorted by class still gives the slice every class
    step = max(1, len(X) // n)
    timer = None
    if notice is not None:
        timer = threading.Timer(notice_after, lambda: print(NOTICE, file=notice, flush=True))
        timer.daemon = True
        timer.start()
    started = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # one epoch on a few samples does not converge
            estimator = estimator or fastmlp.MLPClassifier
            estimator(**dict(params, max_iter=1, callbacks=None)).fit(
                X[::step][:n], y[::step][:n]
            )
    except Exception:  # noqa: BLE001
        # Compiling is all this fit is for: whatever went wrong (a diverging step size,
        # bad data) the real fit meets again and reports in its own words.
        pass
    finally:
        if timer is not None:
            timer.cancel()
    return time.perf_counter() - started
