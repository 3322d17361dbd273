"""Checks of the estimators' inputs: X as scikit-learn's ``validate_data``, and class labels.

Input arrays go through [validate_data][fastmlp.validation.validate_data]
(X, as scikit-learn's ``validate_data``) and
[check_labels][fastmlp.validation.check_labels] /
[encode_labels][fastmlp.validation.encode_labels] (y). Messages follow
scikit-learn's where it has one. Parameters are checked in
[fastmlp.parameters][fastmlp.parameters], a model file's state in
[fastmlp.modelstate][fastmlp.modelstate].
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from fastmlp import inputscale, numeric, sparse
from fastmlp.exceptions import DataConversionWarning, compatible

# -- X ---------------------------------------------------------------------------------------


def validate_data(
    estimator, X, *, reset: bool, dtype: np.dtype | None, check_finite: bool = True
) -> np.ndarray:
    """X as the C-contiguous 2-D array the network reads.

    uint8 stays uint8 (the network scales it batch by batch); other input is
    converted to ``dtype`` and checked to be finite. Image stacks (n, h, w)
    are flattened. With ``reset``, records ``n_features_in_``,
    ``feature_names_in_`` and ``image_shape_`` on the estimator; otherwise
    checks X against them.

    The image check compares shapes: a model fitted on (n, 28, 28) refuses
    (n, 14, 56) and (n, 784, 1). It cannot tell a transposed stack of square
    images (``X.transpose(0, 2, 1)``) from the original, which has the same
    shape and the same pixel values, only reordered; and flattened
    (n, h * w) input is always accepted, as is any image shape by a model
    fitted on flat rows.

    Parameters
    ----------
    estimator : MLPClassifier
        Where the fitted input facts are recorded or read.
    X : array-like of shape (n_samples, n_features) or (n_samples, h, w)
        The input.
    reset : bool
        True at the start of a fresh fit.
    dtype : numpy dtype or None
        Float dtype for non-uint8 input; None picks it from X (see
        [float_dtype][fastmlp.numeric.float_dtype]).
    check_finite : bool, default=True
        Refuse NaN and infinity here. ``fit`` passes False and lets the first
        epoch check each batch as it reads it, which saves a whole pass over X.

    Returns
    -------
    ndarray of shape (n_samples, n_features)
        uint8, float32, float64 (the kernels convert batch by batch) or
        ``dtype``, C-contiguous; for a SciPy sparse X, its checked CSR rows
        ([sparse.validate][fastmlp.sparse.validate]).
    """
    name = type(estimator).__name__
    _check_feature_names(estimator, X, reset)
    if sparse.is_sparse(X):
        return sparse.validate(estimator, X, reset=reset, dtype=dtype)
    X = np.asarray(X)
    if X.ndim != 2 and X.ndim != 3:
        raise ValueError(
            f"Expected a 2-D array (n_samples, n_features) or 3-D images (n_samples, h, w); "
            f"got an array of shape {X.shape}. Reshape your data either using "
            "array.reshape(-1, 1) if your data has a single feature or "
            "array.reshape(1, -1) if it contains a single sample."
        )
    for axis in range(X.ndim):
        if X.shape[axis] < 1:
            raise ValueError(
                f"Found array with 0 {'sample' if axis == 0 else 'feature'}(s) "
                f"(shape={X.shape}) while a minimum of 1 is required by {name}."
            )
    image_shape = tuple(int(n) for n in X.shape[1:]) if X.ndim == 3 else None
    X = X.reshape(X.shape[0], -1)
    if X.dtype != np.uint8:
        inputscale.warn_if_unscaled(X)
        X = numeric.as_float(X, dtype)
        if check_finite:
            check_all_finite(X)
    X = np.ascontiguousarray(X)
    if reset:
        estimator.n_features_in_ = X.shape[1]
        estimator.image_shape_ = image_shape
        return X
    if X.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {name} is expecting "
            f"{estimator.n_features_in_} features as input."
        )
    fitted_shape = getattr(estimator, "image_shape_", None)
    if image_shape is not None and fitted_shape is not None and image_shape != fitted_shape:
        raise ValueError(
            f"X holds images of shape {image_shape}, but {name} was fitted on images of "
            f"shape {fitted_shape}: reshape X to (n_samples, {fitted_shape[0]}, "
            f"{fitted_shape[1]}) if the pixels are in that order."
        )
    return X


def check_all_finite(X: np.ndarray) -> None:
    """Raise ValueError, naming the first bad entry, if float X holds NaN or infinity."""
    # A finite sum proves every entry finite without an X-sized temporary;
    # only a non-finite sum (or an overflow) pays for the full check.
    with np.errstate(over="ignore"):
        total = X.sum()
    if not np.isfinite(total) and not (finite := np.isfinite(X)).all():
        row, column = np.argwhere(~finite)[0]
        what = "NaN" if np.isnan(X[row, column]) else "infinity"
        raise ValueError(
            f"Input X contains {what} (first at row {row}, column {column}); remove or "
            "impute those values before calling fit or predict."
        )


def _feature_names(X) -> np.ndarray | None:
    """String column names of a data frame, else None (scikit-learn's rule)."""
    columns = getattr(X, "columns", None)
    if columns is None or isinstance(X, np.ndarray):
        return None
    names = np.asarray(list(columns), dtype=object)
    if names.ndim != 1 or names.size == 0:
        return None
    is_str = [isinstance(n, str) for n in names]
    if all(is_str):
        return names
    if any(is_str):
        raise TypeError(
            "Feature names are only supported if all input features have string names, "
            f"but your input has {sorted({type(n).__name__ for n in names})} as feature name "
            "/ column name types. Convert them all to str, e.g. X.columns = "
            "X.columns.astype(str)."
        )
    return None


def _check_feature_names(estimator, X, reset: bool) -> None:
    """Record data-frame column names at fit and compare them later, as scikit-learn."""
    names = _feature_names(X)
    if reset:
        if names is None:
            estimator.__dict__.pop("feature_names_in_", None)
        else:
            estimator.feature_names_in_ = names
        return
    fitted_names = getattr(estimator, "feature_names_in_", None)
    name = type(estimator).__name__
    if fitted_names is None and names is not None:
        warnings.warn(
            f"X has feature names, but {name} was fitted without feature names",
            UserWarning,
            stacklevel=5,
        )
    elif fitted_names is not None and names is None:
        warnings.warn(
            f"X does not have valid feature names, but {name} was fitted with feature names",
            UserWarning,
            stacklevel=5,
        )
    elif fitted_names is not None and (
        len(names) != len(fitted_names) or (names != fitted_names).any()
    ):
        unexpected = sorted(set(names) - set(fitted_names))
        missing = sorted(set(fitted_names) - set(names))
        detail = ""
        if unexpected:
            detail += f"Feature names unseen at fit time: {unexpected[:10]}\n"
        if missing:
            detail += f"Feature names seen at fit time, yet now missing: {missing[:10]}\n"
        if not detail:
            detail = "Feature names must be in the same order as they were in fit.\n"
        raise ValueError(
            "The feature names should match those that were passed during fit.\n" + detail
        )


# -- y ---------------------------------------------------------------------------------------


def check_labels(y, n_samples: int | None = None, what: str = "y") -> np.ndarray:
    """y as a 1-D array of class labels, one per sample.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels of one sortable type: integers, whole floats, strings, bools or
        objects of those.
    n_samples : int, optional
        Rows of X; ``y`` must have as many.
    what : str
        The argument's name in messages (``"y"`` or ``"classes"``).

    Returns
    -------
    ndarray of shape (n_samples,)
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1 and what == "y":
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please change the "
            "shape of y to (n_samples, ), for example using ravel().",
            compatible(DataConversionWarning),
            stacklevel=4,
        )
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(
            f"{what} should be a 1d array of class labels; got shape {y.shape}. "
            "Multi-label and multi-output targets are not supported."
        )
    if n_samples is not None and y.shape[0] != n_samples:
        raise ValueError(
            f"y has {y.shape[0]} labels but X has {n_samples} samples; they must match."
        )
    if y.dtype.kind == "f":
        if not np.isfinite(y).all():
            index = int(np.flatnonzero(~np.isfinite(y))[0])
            raise ValueError(
                f"Input {what} contains {y[index]} (first at index {index}); every sample "
                "needs a label: drop those samples or fill in their labels."
            )
        if (y != np.round(y)).any():
            raise ValueError(
                "Unknown label type: continuous. Maybe you are trying to fit a classifier, "
                "which expects discrete classes, on a regression target with continuous "
                "values."
            )
    elif y.dtype == object:
        for index, label in enumerate(y.tolist()):
            missing = isinstance(label, numbers.Real) and not isinstance(label, numbers.Integral)
            if label is None or (missing and not math.isfinite(label)):
                raise ValueError(
                    f"Input {what} contains {label!r} (first at index {index}); every sample "
                    "needs a label: drop those samples or fill in their labels."
                )
    elif y.dtype.kind not in "biuUS":
        raise ValueError(f"Unknown label type: {what} has dtype {y.dtype}.")
    return y


def validate_labels(
    estimator, y, n_samples: int, *, reset: bool, classes=None, incremental: bool = False
) -> np.ndarray:
    """y as class indices (int64) into ``classes_``, which ``reset`` sets.

    The classes are those of ``y``, or ``classes`` on ``partial_fit``'s first
    call, which must then hold every label of ``y``. Without ``reset``, the
    labels must be known: a warm-started ``fit`` must see the same classes,
    and ``classes`` repeated in ``partial_fit`` must not change.

    Parameters
    ----------
    estimator : MLPClassifier
        Holds ``classes_``.
    y : array-like of shape (n_samples,)
        The labels.
    n_samples : int
        Rows of X.
    reset : bool
        True at the start of a fresh fit.
    classes : array-like, optional
        ``partial_fit``'s ``classes``.
    incremental : bool
        True for ``partial_fit``.

    Returns
    -------
    ndarray of shape (n_samples,)
        int64 indices into ``classes_``.
    """
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target y is None."
        )
    if incremental and classes is None and reset:
        raise ValueError("classes must be passed on the first call to partial_fit.")
    if classes is not None:
        classes = check_labels(classes, what="classes")
    y = check_labels(y, n_samples)
    labels = unique_labels(y)
    if reset:
        known = labels if classes is None else unique_labels(classes)
        if known.shape[0] < 2:
            raise ValueError(
                f"The classifier needs samples of at least 2 classes in "
                f"{'y' if classes is None else 'classes'}; got only {known.shape[0]} class: "
                f"{known.tolist()}."
            )
        hint = "partial_fit's classes must list every label that y will hold."
        encoded = encode_labels(y, known, hint)
        estimator.classes_ = known
        return encoded
    if incremental and classes is not None and not np.array_equal(
        unique_labels(classes), estimator.classes_
    ):
        raise ValueError(
            f"`classes={unique_labels(classes)!r}` is not the same as on last call to "
            f"partial_fit, was: {estimator.classes_!r}."
        )
    if not incremental and not np.array_equal(labels, estimator.classes_):
        raise ValueError(
            "warm_start can only be used where `y` has the same classes as in the previous "
            f"call to fit. Previously got {estimator.classes_}, `y` has {labels}."
        )
    return encode_labels(y, estimator.classes_, "labels not seen at the first fit.")


def unique_labels(y) -> np.ndarray:
    """Sorted distinct labels; a clear error for labels that cannot be ordered."""
    y = np.asarray(y)
    if y.dtype.kind == "u" and y.dtype.itemsize <= 2 and y.ndim == 1:
        # a count per possible value: several times faster than sorting or hashing
        return np.flatnonzero(np.bincount(y, minlength=1)).astype(y.dtype)
    try:
        return np.unique(y)
    except TypeError:
        kinds = sorted({type(label).__name__ for label in y.ravel().tolist()})
        raise ValueError(
            f"Unknown label type: y mixes labels of types {kinds} that cannot be sorted; "
            "use labels of one type (all strings or all numbers)."
        ) from None


def encode_labels(y: np.ndarray, classes: np.ndarray, hint: str) -> np.ndarray:
    """Indices (int64) of ``y``'s labels in the sorted ``classes``.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Checked labels.
    classes : ndarray of shape (n_classes,)
        Sorted known labels.
    hint : str
        Where ``classes`` came from, for the message about unknown labels.
    """
    index = _small_int_index(y, classes)
    if index is None:
        index = np.minimum(np.searchsorted(classes, y), len(classes) - 1)
    unknown = classes[index] != y
    if unknown.any():
        raise ValueError(
            f"y contains labels {unique_labels(y[unknown]).tolist()[:10]} that are not in the "
            f"classes {classes.tolist()[:20]}; {hint}"
        )
    return index.astype(np.int64)


def _small_int_index(y: np.ndarray, classes: np.ndarray) -> np.ndarray | None:
    """Indices of 8- or 16-bit unsigned labels through a lookup table, several times
    faster than a binary search; None for other labels. A label outside ``classes``
    gets index 0; the caller compares and refuses it."""
    if y.dtype.kind != "u" or y.dtype.itemsize > 2 or classes.dtype != y.dtype:
        return None
    table = np.zeros(1 << (8 * y.dtype.itemsize), dtype=np.int64)
    table[classes] = np.arange(len(classes))
    return table[y]

