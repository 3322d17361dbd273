"""The Python side of prediction: input checks that cost less than one row's arithmetic.

``predict``, ``predict_proba`` and the output units go through
[run][fastmlp.engine.prediction.run]. The common input, a C-contiguous 2-D NumPy
array of the model's float dtype or uint8 with the fitted number of features,
goes to the compiled pass
([predict_kernels.predict_rows][fastmlp.engine.predict_kernels.predict_rows]) after
a handful of attribute tests; anything else (lists, data frames, image stacks,
other dtypes, wrong shapes) goes through the full
[validate_data][fastmlp.validation.validate_data] first, which converts it or
raises its one clear error. Either way the compiled pass checks float input
for NaN and infinity as it reads it, instead of a separate pass over X.
SciPy sparse input is checked in Python ([fastmlp.sparse][fastmlp.sparse]:
one pass over its stored entries) and runs the same pass over them.
"""

import functools
import os
import weakref
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from fastmlp.engine import csr, predict_kernels, threads
from fastmlp.engine.predict_kernels import LABELS, OUTPUTS, PROBA

CHUNK_ROWS = 4096
"""Rows per compiled call at most: Ctrl-C is answered between calls, and scratch stays small."""
SPLIT_MIN_ROWS = 1024
"""From this many rows on, the rows are split between ``THREADS`` Python threads."""
THREADS = min(2, numba.config.NUMBA_NUM_THREADS)
"""Threads of a large prediction: the compiled pass runs without the GIL. Numba's
configured count (read without starting Numba's own thread pool)."""
_NO_LABELS = np.empty(0, dtype=np.int64)
_UINT8 = np.dtype(np.uint8)
# Per network (whose shape never changes): the kernel's layer_meta, the dtype, the outputs.
_SPECS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
__all__ = ["LABELS", "OUTPUTS", "PROBA", "run"]


def run(model, X, mode: int) -> np.ndarray:
    """The model's answer for every row of X.

    Parameters
    ----------
    model : fitted estimator
        Has ``_fitted_network`` and ``_validate_X`` (``FittedMLP``).
    X : array-like
        As ``predict`` takes it.
    mode : int
        ``OUTPUTS`` (the output layer's activations), ``PROBA`` (those,
        normalized to sum to 1 for a logistic output layer) or ``LABELS``.

    Returns
    -------
    ndarray
        (n, k) of the model's dtype, or (n,) int64 class indices for ``LABELS``.

    Raises
    ------
    NotFittedError, ValueError, TypeError
        As [validate_data][fastmlp.validation.validate_data]; ValueError for
        NaN or infinity, naming the first bad entry.
    """
    network = model._fitted_network()
    spec = _SPECS.get(network)
    if spec is None:
        spec = _SPECS[network] = (predict_kernels.layer_meta(network), network.dtype,
                                  network.layer_sizes[-1])
    meta, dtype, k = spec
    if not (type(X) is np.ndarray and X.ndim == 2 and X.shape[0] > 0
            and X.shape[1] == model.n_features_in_
            and (X.dtype == dtype or X.dtype == _UINT8) and X.flags.c_contiguous
            and "feature_names_in_" not in model.__dict__):
        # anything but the common case: converted, or refused with one clear error
        X = model._validate_X(X, reset=False, check_finite=False)
    n = X.shape[0]
    out = np.empty((n, k), dtype=dtype)
    labels = np.empty(n, dtype=np.int64) if mode == LABELS else _NO_LABELS
    scale = 1 / 255 if X.dtype == _UINT8 else 1.0
    if n < SPLIT_MIN_ROWS:
        bad = predict_kernels.predict_rows(X, scale, network.params, meta, mode, out, labels)
        if bad >= 0:
            _raise_non_finite(X[bad:bad + 1], bad, dtype)
        return labels if mode == LABELS else out
    parts = _parts(n)
    part = X.row_slice if isinstance(X, csr.Rows) else lambda lo, hi: X[lo:hi]
    calls = [(lo, predict_kernels.predict_rows, part(lo, hi), scale, network.params, meta, mode,
              out[lo:hi], labels[lo:hi] if mode == LABELS else labels) for lo, hi in parts]
    # the parts' threads take the cores: a BLAS call that started threads of its own
    # would spin against them
    with threads.single_threaded_blas():
        results = _run_all(calls)
    for lo, bad in results:
        if bad >= 0:
            _raise_non_finite(X[lo + bad:lo + bad + 1], lo + bad, dtype)
    return labels if mode == LABELS else out


def _parts(n: int) -> list[tuple[int, int]]:
    """Row ranges of at most ``CHUNK_ROWS``, as many as a multiple of ``THREADS`` and
    of equal size, so that no thread is left with a short last part alone (10,000
    rows: four parts of 2,500, not 4,096 + 4,096 + 1,808)."""
    count = -(-n // CHUNK_ROWS)
    if THREADS > 1:
        count = THREADS * -(-count // THREADS)
    return [(i * n // count, (i + 1) * n // count) for i in range(count)]


def _run_all(calls: list[tuple]) -> list[tuple[int, int]]:
    """(first row, result) of each call, run ``THREADS`` at a time (the kernel releases
    the GIL) in order of their rows."""
    if THREADS == 1 or len(calls) == 1:
        return [(lo, kernel(*args)) for lo, kernel, *args in calls]
    pool = _pool()
    futures = [(lo, pool.submit(kernel, *args)) for lo, kernel, *args in calls]
    try:
        return [(lo, future.result()) for lo, future in futures]
    except BaseException:  # Ctrl-C: the parts not yet started are dropped
        for _, future in futures:
            future.cancel()
        raise


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(THREADS, thread_name_prefix="fastmlp-predict")


# A forked child has none of the parent's threads: it starts a pool of its own.
os.register_at_fork(after_in_child=_pool.cache_clear)


def _raise_non_finite(row: np.ndarray, at: int, dtype: np.dtype) -> None:
    """The clear error for row ``at`` of X, in which the kernel found NaN or infinity."""
    with np.errstate(over="ignore"):
        converted = row.astype(dtype)
    bad = ~np.isfinite(row)
    column = int(np.argmax(bad if bad.any() else ~np.isfinite(converted)))
    value = row[0, column]
    if np.isfinite(value):
        raise ValueError(
            f"Input X holds {float(value)!r} at row {at}, column {column}, beyond the range of the "
            f"model's {dtype.name}; rescale X or fit with dtype='float64'."
        )
    what = "NaN" if np.isnan(value) else "infinity"
    raise ValueError(
        f"Input X contains {what} (first at row {at}, column {column}); remove or impute "
        "those values before calling fit or predict."
    )

