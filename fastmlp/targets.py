"""Checks and scores of what the estimators are fitted to: sample weights and
regression targets.

Class labels are checked in [fastmlp.validation][fastmlp.validation]; this
module holds what [MLPRegressor][fastmlp.regressor.MLPRegressor] needs instead
(targets, a random validation split, R²), the classifier's stratified split,
and the sample weights both
estimators take, with scikit-learn's meaning: a sample of weight 2 counts as
two copies of it in every batch's mean loss.
"""

from __future__ import annotations

import warnings

import numpy as np

from fastmlp.exceptions import DataConversionWarning, compatible


def check_sample_weight(sample_weight, n_samples: int, dtype) -> np.ndarray | None:
    """``sample_weight`` as a new (n_samples,) array of ``dtype``, or None.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,), scalar or None
        One non-negative finite weight per sample, not all zero; a scalar
        weighs every sample alike (and so changes nothing).
    n_samples : int
        Rows of X.
    dtype : numpy dtype
        The model's float dtype.

    Returns
    -------
    ndarray of shape (n_samples,) or None
        A copy (the caller's array is never changed); None for None.

    Raises
    ------
    ValueError
        One message per problem: the shape, a NaN or infinity, a negative
        weight, or weights that are all zero; each names the first bad entry.
    """
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight)
    if weights.ndim == 0:
        weights = np.full(n_samples, weights)
    if weights.dtype.kind not in "biuf":
        raise ValueError(
            f"sample_weight must hold numbers; got dtype {weights.dtype}. Pass one float "
            "weight per sample."
        )
    if weights.ndim != 1 or weights.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight has shape {weights.shape}, but X has {n_samples} samples: pass "
            f"one weight per sample, shape ({n_samples},)."
        )
    weights = weights.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(weights))
    if bad.size:
        raise ValueError(
            f"sample_weight contains {weights[bad[0]]} (first at index {bad[0]}); every "
            "weight must be a finite number: drop those samples or give them a weight."
        )
    negative = np.flatnonzero(weights < 0)
    if negative.size:
        raise ValueError(
            f"sample_weight contains the negative weight {weights[negative[0]]} (first at "
            f"index {negative[0]}); weights must be >= 0 (0 leaves a sample out)."
        )
    if not weights.any():
        raise ValueError(
            "sample_weight is zero for every sample, so there is nothing to fit; give some "
            "samples a positive weight."
        )
    return weights.astype(dtype)


def check_regression_targets(y, n_samples: int, dtype) -> np.ndarray:
    """y as a C-contiguous (n_samples, k) array of ``dtype``, for MLPRegressor.

    A column vector (n, 1) is accepted with scikit-learn's
    ``DataConversionWarning``, as for its regressor; the model then predicts 1-D.

    Raises
    ------
    ValueError
        y is missing, not 1-D or 2-D, of another length than X, not numeric,
        or holds NaN or infinity (named with its first position).
    """
    if y is None:
        raise ValueError("MLPRegressor requires y to be passed, but the target y is None.")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please change the "
            "shape of y to (n_samples, ), for example using ravel().",
            compatible(DataConversionWarning),
            stacklevel=5,
        )
        y = y.ravel()
    if y.ndim not in (1, 2) or (y.ndim == 2 and y.shape[1] < 1):
        raise ValueError(
            f"y should be a 1-D array (n_samples,) or a 2-D array (n_samples, n_outputs) of "
            f"targets; got shape {y.shape}. Reshape it, e.g. y.reshape(len(y), -1)."
        )
    if y.shape[0] != n_samples:
        raise ValueError(
            f"y has {y.shape[0]} targets but X has {n_samples} samples; they must match."
        )
    if y.dtype.kind not in "biuf":
        try:
            y = y.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"y must hold numbers for regression; got dtype {y.dtype}. For class "
                "labels use MLPClassifier."
            ) from None
    values = np.ascontiguousarray(y.reshape(n_samples, -1), dtype=dtype)
    if not np.isfinite(values).all():
        row, column = np.argwhere(~np.isfinite(values))[0]
        raise ValueError(
            f"Input y contains {values[row, column]} (first at row {row}, output {column}); "
            "every target must be finite: drop those samples or impute their targets."
        )
    return values


def random_split(n_samples: int, fraction: float, rng: np.random.Generator):
    """Rows of a random hold-out of about ``fraction`` of the samples, and the rest.

    Returns
    -------
    train, val : ndarray of int64
        Sorted row indices; neither is empty.
    """
    n_val = int(round(fraction * n_samples))
    if n_val < 1 or n_val >= n_samples:
        raise ValueError(
            f"validation_fraction={fraction} leaves an empty training or validation set for "
            f"{n_samples} samples; change validation_fraction or set early_stopping=False."
        )
    order = rng.permutation(n_samples)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def r2_score(y_true, y_pred, sample_weight=None) -> float:
    """The coefficient of determination R², averaged over outputs, optionally weighted.

    scikit-learn's ``r2_score`` with ``multioutput="uniform_average"``,
    including its convention for constant targets: an output whose targets do
    not vary scores 1 if predicted exactly, else 0.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
    sample_weight : array-like of shape (n_samples,), optional

    Returns
    -------
    float
        At most 1; 0 for predicting the (weighted) mean; unbounded below.
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    y_true = y_true.reshape(y_true.shape[0], -1)
    y_pred = y_pred.reshape(y_true.shape)
    w = np.ones(y_true.shape[0]) if sample_weight is None else np.asarray(
        sample_weight, dtype=np.float64)
    w = w[:, None]
    residual = (w * (y_true - y_pred) ** 2).sum(axis=0)
    mean = np.average(y_true, axis=0, weights=w[:, 0])
    total = (w * (y_true - mean) ** 2).sum(axis=0)
    scores = np.ones(y_true.shape[1])
    varying = total != 0
    scores[varying] = 1 - residual[varying] / total[varying]
    scores[~varying & (residual != 0)] = 0.0
    return float(scores.mean())


def stratified_split(X: np.ndarray, y: np.ndarray, fraction: float, rng: np.random.Generator):
    """Hold out about ``fraction`` of every class for validation.

    Returns
    -------
    X_train, y_train, X_val, y_val : ndarray
        C-contiguous row subsets of X and y.
    """
    train, val_rows = stratified_rows(y, fraction, rng)
    return (np.ascontiguousarray(X[train]), y[train],
            np.ascontiguousarray(X[val_rows]), y[val_rows])


def stratified_rows(y: np.ndarray, fraction: float, rng: np.random.Generator):
    """The rows of [stratified_split][fastmlp.targets.stratified_split]: a
    boolean mask of the training rows and the sorted validation rows."""
    val_rows = []
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        val_rows.append(members[: int(round(fraction * len(members)))])
    val_rows = np.sort(np.concatenate(val_rows))
    if val_rows.size == 0 or val_rows.size == y.size:
        raise ValueError(
            f"validation_fraction={fraction} leaves an empty training or validation set for "
            f"{y.size} samples; change validation_fraction or set early_stopping=False."
        )
    train = np.ones(y.size, dtype=bool)
    train[val_rows] = False
    return train, val_rows

