"""SciPy sparse input, checked once and handed to the kernels as CSR rows.

``fit``, ``partial_fit``, ``predict``, ``predict_proba`` and ``score`` take
SciPy's sparse matrices and arrays. CSR is read as it is (no copy of its
indices or values); CSC is converted to CSR once; any other format (COO,
LIL, DOK, BSR, DIA) is converted too, with a warning that says so. Values
stay uint8 (scaled by 1/255, as dense uint8 images), float32 or float64; any
other value dtype is converted to the model's float type, with a warning.
The structure and the values are checked here, in one vectorized pass over
the stored entries, so the compiled steps can trust them: a malformed
matrix, NaN or infinity, or a value beyond a float32 model's range each get
one clear error. The result is a [csr.Rows][fastmlp.engine.csr.Rows].
"""

import sys
import warnings

import numpy as np

from fastmlp import inputscale
from fastmlp.engine import csr
from fastmlp.exceptions import DataConversionWarning, compatible

_KEPT = (np.dtype(np.uint8), np.dtype(np.float32), np.dtype(np.float64))


def is_sparse(X) -> bool:
    """Whether X is a SciPy sparse matrix or array (False when SciPy's sparse
    module was never imported: then X cannot be one)."""
    module = sys.modules.get("scipy.sparse")
    return module is not None and module.issparse(X)


def validate(estimator, X, *, reset: bool, dtype: np.dtype | None) -> csr.Rows:
    """X, a SciPy sparse matrix or array, as checked CSR rows.

    Parameters
    ----------
    estimator : MLPClassifier or MLPRegressor
        Receives ``n_features_in_`` (and ``image_shape_ = None``) with
        ``reset``; otherwise X's column count is checked against it.
    X : scipy.sparse matrix or array of shape (n_samples, n_features)
    reset : bool
        True at the start of a fresh fit.
    dtype : numpy dtype or None
        The model's float dtype, if known: other value dtypes are converted to
        it, and float64 values must fit a float32 one.

    Returns
    -------
    csr.Rows

    Raises
    ------
    ValueError
        Not 2-D, no rows or columns, the wrong column count, a malformed
        structure, complex values, NaN or infinity.
    """
    name = type(estimator).__name__
    if len(X.shape) != 2:
        raise ValueError(f"Expected a 2-D sparse matrix (n_samples, n_features); got shape "
                         f"{X.shape}.")
    n, d = (int(s) for s in X.shape)
    if n < 1 or d < 1:
        raise ValueError(f"Found sparse array with 0 {'sample' if n < 1 else 'feature'}(s) "
                         f"(shape={X.shape}) while a minimum of 1 is required by {name}.")
    if not reset and d != estimator.n_features_in_:
        raise ValueError(f"X has {d} features, but {name} is expecting "
                         f"{estimator.n_features_in_} features as input.")
    X = _as_csr(X)
    indptr = np.ascontiguousarray(X.indptr, dtype=np.int64)
    indices = np.ascontiguousarray(X.indices)
    if not indices.dtype.isnative or indices.dtype.kind != "i":
        indices = indices.astype(np.int64)
    _check_structure(indptr, indices, n, d)
    data = _values(np.ascontiguousarray(X.data), dtype)
    _check_values(indptr, indices, data, dtype)
    if reset:
        estimator.n_features_in_ = d
        estimator.image_shape_ = None
    return csr.Rows(indptr, indices, data, np.array([n, d], dtype=np.int64))


def _as_csr(X):
    """X in CSR: as it is, CSC converted once, other formats with a warning."""
    if X.format == "csr":
        return X
    if X.format != "csc":
        warnings.warn(
            f"X is a sparse {X.format.upper()} matrix; fastmlp reads CSR, so X was converted "
            "to CSR (a copy, made on every call). Pass X.tocsr() to convert it once.",
            compatible(DataConversionWarning), stacklevel=inputscale._caller_level(),
        )
    return X.tocsr()


def _values(data: np.ndarray, dtype: np.dtype | None) -> np.ndarray:
    """The stored values in a dtype the kernels read, converted with a warning if not."""
    if data.dtype.kind == "c":
        raise ValueError("Complex data not supported; X must hold real numbers.")
    if data.dtype.isnative and data.dtype in _KEPT:
        return data
    if data.dtype.kind not in "biuf":
        raise ValueError(f"X's values have dtype {data.dtype}, not numbers; convert X to "
                         "float32 or float64 first.")
    target = np.dtype(dtype if dtype is not None else np.float64)
    if data.dtype.newbyteorder("=") != target:
        warnings.warn(
            f"X's values have dtype {data.dtype}, which fastmlp does not read; they were "
            f"converted to {target} (a copy of the values). Pass X.astype(np.{target}) to "
            "convert them once.",
            compatible(DataConversionWarning), stacklevel=inputscale._caller_level(),
        )
    return data.astype(target)


def _check_structure(indptr: np.ndarray, indices: np.ndarray, n: int, d: int) -> None:
    """Refuse a CSR structure that would make the kernels read outside the arrays."""
    lengths = np.diff(indptr)
    entries = indices[indptr[0]:indptr[-1]] if indptr.size else indices[:0]
    if (indptr.shape[0] != n + 1 or indptr[0] < 0 or (lengths < 0).any()
            or indptr[-1] > indices.shape[0]
            or (entries.size and (entries.min() < 0 or entries.max() >= d))):
        raise ValueError(
            "X is a malformed sparse matrix: its index pointers or column indices do not "
            f"describe a {n} x {d} matrix. Rebuild it, or call X.check_format() to see what "
            "is wrong."
        )


def _check_values(indptr, indices, data, dtype) -> None:
    """One clear error for the first NaN or infinity, or a value beyond a float32 model."""
    if data.dtype.kind != "f":
        return
    stored = data[indptr[0]:indptr[-1]]
    finite = np.isfinite(stored)
    if not finite.all():
        at = int(np.argmin(finite))
        row = int(np.searchsorted(indptr, indptr[0] + at, side="right")) - 1
        what = "NaN" if np.isnan(stored[at]) else "infinity"
        raise ValueError(
            f"Input X contains {what} (first at row {row}, column "
            f"{int(indices[indptr[0] + at])}); remove or impute those values before calling "
            "fit or predict."
        )
    if dtype is not None and np.dtype(dtype).itemsize < data.dtype.itemsize and stored.size:
        limit = np.finfo(dtype).max
        if np.abs(stored).max() > limit:
            raise ValueError(
                f"Input X holds values beyond {np.dtype(dtype)}'s range (+-{limit:.3g}); scale "
                "X or use dtype='float64'."
            )
