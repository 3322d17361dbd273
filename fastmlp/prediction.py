"""The Python side of prediction: input checks that cost less than one row's arithmetic.

``predict``, ``predict_proba`` and the output units go through
[run][fastmlp.prediction.run]. The common input, a C-contiguous 2-D NumPy
array of the model's float dtype or uint8 with the fitted number of features,
goes to the compiled pass
([predict_kernels.predict_rows][fastmlp.predict_kernels.predict_rows]) after
a handful of attribute tests; anything else (lists, data frames, image stacks,
other dtypes, wrong shapes) goes through the full
[validate_data][fastmlp.validation.validate_data] first, which converts it or
raises its one clear error. Either way the compiled pass checks float input
for NaN and infinity as it reads it, instead of a separate pass over X.
"""

import weakref

import numpy as np

from fastmlp import predict_kernels
from fastmlp.predict_kernels import LABELS, OUTPUTS, PROBA

CHUNK_ROWS = 4096
"""Rows per compiled call: Ctrl-C is answered between calls, and scratch memory stays small."""
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
    if n <= CHUNK_ROWS:
        bad = predict_kernels.predict_rows(X, scale, network.params, meta, mode, out, labels)
        if bad >= 0:
            _raise_non_finite(X[bad:bad + 1], bad, dtype)
        return labels if mode == LABELS else out
    for start in range(0, n, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, n)
        chunk_labels = labels[start:stop] if mode == LABELS else labels
        bad = predict_kernels.predict_rows(
            X[start:stop], scale, network.params, meta, mode, out[start:stop], chunk_labels
        )
        if bad >= 0:
            _raise_non_finite(X[start + bad:start + bad + 1], start + bad, dtype)
    return labels if mode == LABELS else out


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

