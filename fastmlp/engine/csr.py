"""Compressed sparse rows as the compiled steps read them: listed, never densified.

A text matrix of 100,000 columns and 0.1 % non-zeros is 80 GB dense in
float32 and a few hundred megabytes in CSR. Its rows are already what the
mini-batch steps build from dense rows before the first layer
([fastmlp.engine.sparse_first_layer][]): the columns and values of their
non-zeros. So a batch of CSR rows is copied straight from
``(indptr, indices, data)`` into the same [Listing][fastmlp.engine.sparse_first_layer.Listing]
(in F, times the input scale), and the listed forward and weight-gradient
loops run on it unchanged. Prediction does the same, a chunk of rows at a
time ([first_layer][fastmlp.engine.csr.first_layer]).

Duplicate column indices within a row are listed twice, and the listed
products add them, as SciPy defines a duplicate entry (their sum); the order
of the indices within a row does not matter, and explicit zeros add nothing.

The steps and the prediction kernel are written once for both kinds of X:
the few places that read X call the functions of this module
([list_rows][fastmlp.engine.csr.list_rows], [rows_ahead][fastmlp.engine.csr.rows_ahead],
[gather][fastmlp.engine.csr.gather], [first_layer][fastmlp.engine.csr.first_layer]),
which Numba resolves, by X's type, to the dense kernels (the same code as
before, bit for bit) or to the CSR ones below.
"""

from typing import NamedTuple

import numpy as np
from numba import njit, types
from numba.extending import overload

from fastmlp.engine import prefetch, sparse_first_layer


class Rows(NamedTuple):
    """A CSR matrix's arrays, checked ([fastmlp.sparse][fastmlp.sparse] builds it).

    indptr : (n + 1,) int64, row i's entries at ``indptr[i]:indptr[i + 1]`` of
        the two arrays below (absolute offsets: a slice of rows keeps them).
    indices : (nnz,) int32 or int64, the entries' columns.
    data : (nnz,) uint8, float32 or float64, their values (uint8 is scaled by
        1/255, as dense uint8 input).
    shape : (2,) int64, ``(n, d)``: an array, not a tuple, as Numba's parallel
        loops take no tuple nested in an argument.
    """

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    shape: np.ndarray

    @property
    def dtype(self) -> np.dtype:
        """The values' dtype, as a dense X's (it picks the input scale and model dtype)."""
        return self.data.dtype

    def row_slice(self, lo: int, hi: int) -> "Rows":
        """Rows ``lo:hi``, sharing the arrays."""
        return Rows(self.indptr[lo:hi + 1], self.indices, self.data,
                    np.array([hi - lo, self.shape[1]], dtype=np.int64))


def _is_rows(X) -> bool:
    """Whether the Numba type X is that of a Rows."""
    return (isinstance(X, (types.NamedTuple, types.NamedUniTuple))
            and X.instance_class is Rows)


# -- the compiled CSR kernels ------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def list_csr_rows(X, rows, lo, hi, scale, nonzeros, check):
    """List the rows ``X[rows[lo:hi]]`` (times ``scale``, in F) into the Listing
    ``nonzeros`` by row; False if ``check`` found a value NaN or infinite in F."""
    index, value, starts = nonzeros.index, nonzeros.value, nonzeros.row_starts
    indptr, indices, data = X.indptr, X.indices, X.data
    f = value.dtype.type
    zero = f(0)
    count = 0
    bad = False
    starts[0] = 0
    for i in range(hi - lo):
        r = rows[lo + i]
        for k in range(indptr[r], indptr[r + 1]):
            v = f(data[k] * scale)
            index[count] = indices[k]
            value[count] = v
            bad |= (v - v) != zero
            count += 1
        starts[i + 1] = count
    return not (check and bad)


@njit(cache=True, error_model="numpy")
def gather_csr_rows(X, rows, lo, hi, scale, out, check):
    """out[i] = the dense row ``X[rows[lo + i]] * scale`` in F (duplicates added);
    False if ``check`` found a value NaN or infinite. One batch, never all of X."""
    indptr, indices, data = X.indptr, X.indices, X.data
    f = out.dtype.type
    zero = f(0)
    bad = False
    for i in range(hi - lo):
        dst = out[i]
        for j in range(dst.shape[0]):
            dst[j] = zero
        r = rows[lo + i]
        for k in range(indptr[r], indptr[r + 1]):
            v = f(data[k] * scale)
            dst[indices[k]] += v
            bad |= (v - v) != zero
    return not (check and bad)


@njit(cache=True, error_model="numpy", inline="always")
def csr_rows_ahead(X, rows, start, stop):
    """Prefetch the first entries of the rows ``X[rows[start:stop]]`` (the rest of a
    row follows in order, which the processor's own prefetcher sees)."""
    indptr, indices, data = X.indptr, X.indices, X.data
    for i in range(start, min(stop, rows.shape[0])):
        k = indptr[rows[i]]
        if k < data.shape[0]:
            prefetch._prefetch(indices, k)
            prefetch._prefetch(data, k)


@njit(cache=True, error_model="numpy")
def csr_first_layer(X, scale, W, n_out, Z):
    """Z (m, n_out) = (X * scale) @ W over the rows' stored entries, W the
    (d * n_out,) weights row after row; -1 (the rows were checked in Python)."""
    m = X.shape[0]
    indptr = X.indptr
    first = indptr[0]
    size = indptr[m] - first
    index = np.empty(size, dtype=np.int64)
    value = np.empty(size, dtype=W.dtype)
    starts = np.empty(m + 1, dtype=np.int64)
    none = np.empty(0, dtype=np.int64)
    listed = sparse_first_layer.Listing(index, value, starts, none, none, none, value[:0])
    order = np.arange(m)
    list_csr_rows(X, order, 0, m, scale, listed, False)
    sparse_first_layer.forward(listed, m, W, n_out, Z)
    return -1


# -- one name per operation, for either kind of X ---------------------------------------


def list_rows(X, rows, lo, hi, scale, nonzeros, check):
    """List the rows ``X[rows[lo:hi]]`` into ``nonzeros``
    ([sparse_first_layer.list_rows][fastmlp.engine.sparse_first_layer.list_rows] for dense X,
    [list_csr_rows][fastmlp.engine.csr.list_csr_rows] for Rows). Compiled code only."""
    raise NotImplementedError("compiled code only")


def rows_ahead(X, rows, start, stop):
    """Prefetch the rows ``X[rows[start:stop]]``
    ([prefetch.rows_ahead][fastmlp.engine.prefetch.rows_ahead] for dense X). Compiled code only."""
    raise NotImplementedError("compiled code only")


def gather(X, rows, start, stop, scale, out, check):
    """Gather the rows ``X[rows[start:stop]]`` densely into ``out``, checked with
    ``check`` (the steps' own gather for dense X). Compiled code only."""
    raise NotImplementedError("compiled code only")


def first_layer(X, scale, W, n_out, Z):
    """Prediction's first layer
    ([predict_kernels.first_layer][fastmlp.engine.predict_kernels.first_layer]
    for dense X). Compiled code only."""
    raise NotImplementedError("compiled code only")


@overload(list_rows)
def _list_rows(X, rows, lo, hi, scale, nonzeros, check):
    if _is_rows(X):
        return lambda X, rows, lo, hi, scale, nonzeros, check: list_csr_rows(
            X, rows, lo, hi, scale, nonzeros, check)
    return lambda X, rows, lo, hi, scale, nonzeros, check: sparse_first_layer.list_rows(
        X, rows, lo, hi, scale, nonzeros, check)


@overload(rows_ahead, inline="always")
def _rows_ahead(X, rows, start, stop):
    if _is_rows(X):
        return lambda X, rows, start, stop: csr_rows_ahead(X, rows, start, stop)
    return lambda X, rows, start, stop: prefetch.rows_ahead(X, rows, start, stop)


@overload(gather)
def _gather(X, rows, start, stop, scale, out, check):
    if _is_rows(X):
        return lambda X, rows, start, stop, scale, out, check: gather_csr_rows(
            X, rows, start, stop, scale, out, check)
    from fastmlp.engine import steps  # typed while steps compiles, long after its import

    dense = steps._gather_checked
    return lambda X, rows, start, stop, scale, out, check: dense(
        X, rows, start, stop, scale, out, check)


@overload(first_layer)
def _first_layer(X, scale, W, n_out, Z):
    if _is_rows(X):
        return lambda X, scale, W, n_out, Z: csr_first_layer(X, scale, W, n_out, Z)
    from fastmlp.engine import predict_kernels  # typed while predict_kernels compiles

    dense = predict_kernels.first_layer
    return lambda X, scale, W, n_out, Z: dense(X, scale, W, n_out, Z)


def most_entries(X: Rows, rows: int) -> int:
    """The most stored entries that any ``rows`` rows of X hold: the size of a
    batch's listing."""
    lengths = np.diff(X.indptr)
    if rows >= lengths.shape[0]:
        return int(lengths.sum())
    return int(np.partition(lengths, lengths.shape[0] - rows)[-rows:].sum())


def take(X, rows: np.ndarray):
    """The rows ``X[rows]`` (indices or a mask): a C-contiguous array for dense X,
    new CSR rows for Rows."""
    if not isinstance(X, Rows):
        return np.ascontiguousarray(X[rows])
    rows = np.flatnonzero(rows) if rows.dtype == np.bool_ else rows
    lengths = np.diff(X.indptr)[rows]
    indptr = np.zeros(rows.shape[0] + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    positions = (np.repeat(X.indptr[rows] - indptr[:-1], lengths)
                 + np.arange(indptr[-1], dtype=np.int64))
    return Rows(indptr, X.indices[positions], X.data[positions],
                    np.array([rows.shape[0], X.shape[1]], dtype=np.int64))
