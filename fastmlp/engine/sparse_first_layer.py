"""The first layer of a mini-batch over its non-zero inputs only.

On MNIST about 150 of a row's 784 pixels are non-zero, so the two
first-layer products of a step, ``X @ W1`` forward and ``X.T @ D`` for W1's
gradient, need a fifth of a dense product's multiply-adds. BLAS cannot skip
them; these loops do, fast enough to pay only because each holds a block of
units in vector registers across a whole list
([fastmlp.engine.simd][fastmlp.engine.simd]):

- forward, by rows: a row's listed non-zeros ``(column, value)`` scale rows
  of W1 into the row's block of sums;
- gradient, by columns: the batch's non-zeros are sorted by column (a
  counting sort), and each column's ``(row, value)`` pairs scale rows of D
  into one row of W1's gradient, written once.

Listing a row is fused with the finiteness check of float input, as the
gather it replaces was. Products in another order than BLAS's, with fused
multiply-adds: the results differ from the dense ones by rounding only.

The arrays of a [Listing][fastmlp.engine.sparse_first_layer.Listing] are allocated once per
fit for the largest batch; F is the network's float dtype.
"""

from typing import NamedTuple

import numpy as np
from numba import njit

from fastmlp.engine import kernels, prefetch, simd

# The most non-zero inputs at which the listed products still beat BLAS, for a
# layer two registers wide or more (32 float32 or 16 float64 units). A narrower
# layer is not listed: one register of units gave too little work per listed
# input to repay the listing in whole epochs (docs/design.md, "The first layer
# over the non-zeros", with benchmarks/listing_gate_probe.py).
SPARSE_BATCH_DENSITY = 0.25


def listed_density(width: int, itemsize: int) -> float:
    """The highest input density at which a first layer of ``width`` units of
    floats of ``itemsize`` bytes runs over the listed non-zeros (-1: never)."""
    return SPARSE_BATCH_DENSITY if width >= simd.wide_units(itemsize, 2) else -1.0


class Listing(NamedTuple):
    """A batch's non-zero inputs, by row and by column.

    index, value : (B * d,) int64 and F, row after row: the columns of the
        non-zeros and their scaled values; row i's at
        ``row_starts[i]:row_starts[i + 1]``.
    column_starts : (d + 1,) int64, column c's non-zeros at
        ``column_starts[c]:column_starts[c + 1]`` of ``column_rows`` (int64,
        their rows in the batch) and ``column_values`` (F).
    cursor : (d,) int64, scratch of the counting sort.
    Empty arrays (index of length 0) mean: the batch is dense, use BLAS.
    """

    index: np.ndarray
    value: np.ndarray
    row_starts: np.ndarray
    column_starts: np.ndarray
    cursor: np.ndarray
    column_rows: np.ndarray
    column_values: np.ndarray


def allocate(
    batch_rows: int, d: int, dtype: np.dtype, shards: int = 0, by_column: bool = True,
    entries: int | None = None,
) -> Listing:
    """A Listing for batches of up to ``batch_rows`` rows of d inputs; with
    ``shards``, each array gets a leading axis of that many (one per shard).
    Without ``by_column``, the by-column arrays are empty (a listing by rows only).
    ``entries`` bounds a batch's non-zeros where it is known (CSR input), else
    ``batch_rows * d``."""
    lead = (shards,) if shards else ()
    size = batch_rows * d if entries is None else entries
    columns = d if by_column else 0
    return Listing(
        np.empty(lead + (size,), np.int64),
        np.empty(lead + (size,), dtype),
        np.empty(lead + (batch_rows + 1,), np.int64),
        np.empty(lead + (columns + 1,), np.int64),
        np.empty(lead + (columns,), np.int64),
        np.empty(lead + (size if by_column else 0,), np.int64),
        np.empty(lead + (size if by_column else 0,), dtype),
    )


def no_listing(dtype: np.dtype, shards: int = 0) -> Listing:
    """The empty Listing: the first layer runs in BLAS."""
    return allocate(0, 0, dtype, shards)


@njit(cache=True, error_model="numpy", inline="always")
def shard(listing, s):
    """Shard s's Listing of arrays with one row per shard."""
    return Listing(
        listing.index[s], listing.value[s], listing.row_starts[s], listing.column_starts[s],
        listing.cursor[s], listing.column_rows[s], listing.column_values[s],
    )


def _compress_table() -> tuple[np.ndarray, np.ndarray]:
    """For each 8-bit mask: the positions of its set bits, in order (padded with
    0), and how many there are."""
    positions = np.zeros((256, 8), dtype=np.int64)
    counts = np.zeros(256, dtype=np.int64)
    for mask in range(256):
        bits = [i for i in range(8) if mask >> i & 1]
        positions[mask, :len(bits)] = bits
        counts[mask] = len(bits)
    return positions, counts


# Numba freezes module-level arrays into the compiled code as constants.
_SET_BITS, _N_SET_BITS = _compress_table()


@njit(cache=True, error_model="numpy", inline="always")
def list_nonzero(x, scale, index, value, check):
    """List the non-zero entries of the row x: their columns into index and
    ``x * scale`` into value (in F); returns how many, or -1 if ``check`` and
    an entry is NaN or infinite in F.

    With AVX-512, 8 entries at a time go through a compress-store
    ([simd.compress_nonzero][fastmlp.engine.simd.compress_nonzero]). Otherwise each
    block of 8 entries becomes a bit mask of its non-zeros. All-zero
    blocks (image borders) are skipped; for the others a table gives the
    positions of the set bits, and all 8 slots are written unconditionally,
    with no branch per entry and no chain of dependent stores (a running count
    per stored entry made each store wait for the one before). The writes stay
    within the row's length: a block's slots start at ``count <= start``.
    """
    d = x.shape[0]
    f = value.dtype.type
    count = 0
    whole = d - d % 8
    bad = 0
    if simd.COMPRESS_STORE:
        for start in range(0, whole, 8):
            listed = simd.compress_nonzero(x, start, scale, index, value, count)
            count += listed & (simd.NON_FINITE - 1)
            bad |= listed
    else:
        if check and not kernels.all_finite(x, scale, value):
            return -1
        for start in range(0, whole, 8):
            mask = 0
            for i in range(8):
                mask |= (x[start + i] != 0) << i
            if mask != 0:
                positions = _SET_BITS[mask]
                for i in range(8):
                    column = start + positions[i]
                    index[count + i] = column
                    value[count + i] = f(x[column] * scale)
                count += _N_SET_BITS[mask]
    for i in range(whole, d):
        index[count] = i  # overwritten next time unless x[i] is non-zero
        v = f(x[i] * scale)
        value[count] = v
        count += x[i] != 0
        bad |= simd.NON_FINITE * ((v - v) != f(0))
    if check and bad & simd.NON_FINITE:
        return -1
    return count


@njit(cache=True, error_model="numpy")
def list_rows(X, rows, lo, hi, scale, listing, check):
    """List the non-zeros of the rows ``X[rows[lo:hi]]`` (times ``scale``, in F) by
    row, each row's successor prefetched while it is listed. False if ``check``
    found a value NaN or infinite."""
    index, value, starts = listing.index, listing.value, listing.row_starts
    count = 0
    starts[0] = 0
    for i in range(hi - lo):
        prefetch.rows_ahead(X, rows, lo + i + 1, lo + i + 2)
        listed = list_nonzero(X[rows[lo + i]], scale, index[count:], value[count:], check)
        if listed < 0:
            return False
        count += listed
        starts[i + 1] = count
    return True


@njit(cache=True, error_model="numpy")
def forward(listing, m, W, n_out, Z):
    """Z (m, n_out), F = the listed batch's rows times W ((d * n_out,) F, the
    layer's weights row after row)."""
    f = Z.dtype.type
    starts, index, value = listing.row_starts, listing.index, listing.value
    W2 = W.reshape((W.shape[0] // n_out, n_out))
    for i in range(m):
        a = Z[i]
        for j in range(n_out):
            a[j] = f(0)
        kernels = (simd.rows_forward_wide, simd.rows_forward_four, simd.rows_forward_two,
                   simd.rows_forward_one)
        _sum_rows(kernels, (W, index, value, starts[i], starts[i + 1], a), W2, n_out, True)


@njit(cache=True, error_model="numpy")
def weight_gradient(listing, m, D, gW):
    """gW (d * n_out,) F = (the listed batch).T @ D, D (m, n_out) F C-contiguous.

    Under 8 registers of units, by rows (each row's deltas in registers, added
    into the rows of gW its non-zeros name); wider, by columns (each row of gW
    summed in registers and written once), after a counting sort that would
    cost more than a narrow layer's products."""
    if D.shape[1] < simd.wide_units(D.itemsize):
        _weight_gradient_by_rows(listing, m, D, gW)
    else:
        _weight_gradient_by_columns(listing, m, D, gW)


@njit(cache=True, error_model="numpy")
def _weight_gradient_by_rows(listing, m, D, gW):
    n_out = D.shape[1]
    starts, index, value = listing.row_starts, listing.index, listing.value
    G = gW.reshape((gW.shape[0] // n_out, n_out))
    gW[:] = D.dtype.type(0)
    for i in range(m):
        d = D[i]
        lo, hi = starts[i], starts[i + 1]
        j0 = _narrow_blocks(simd.rows_gradient_four, simd.rows_gradient_two,
                            simd.rows_gradient_one, (gW, index, value, lo, hi, d), n_out, 0)
        for k in range(lo, hi):
            x = value[k]
            g = G[index[k]]
            for j in range(j0, n_out):
                g[j] += x * d[j]


@njit(cache=True, error_model="numpy")
def _weight_gradient_by_columns(listing, m, D, gW):
    n_out = D.shape[1]
    d = listing.cursor.shape[0]
    _sort_by_column(listing, m)
    starts, rows, values = listing.column_starts, listing.column_rows, listing.column_values
    deltas = D.ravel()
    G = gW.reshape((d, n_out))
    for c in range(d):
        kernels = (simd.column_gradient_wide, simd.column_gradient_four,
                   simd.column_gradient_two, simd.column_gradient_one)
        terms = (deltas, rows, values, starts[c], starts[c + 1], G[c])
        _sum_rows(kernels, terms, D, n_out, False)


@njit(cache=True, error_model="numpy", inline="always")
def _narrow_blocks(four, two, one_register, terms, n_out, j0):
    """Units ``j0:`` of a row left after the 8-register blocks: a block of 4
    registers, of 2, of 1 where it fits, each kernel called with the ``terms``
    ``(S, index, value, lo, hi, out)`` as ``kernel(S, n_out, index, value, lo,
    hi, out, j0)``. Returns the first unit left, under one register wide."""
    S, index, value, lo, hi, out = terms
    one = simd.wide_units(out.itemsize, 1)
    if j0 + 4 * one <= n_out:
        four(S, n_out, index, value, lo, hi, out, j0)
        j0 += 4 * one
    if j0 + 2 * one <= n_out:
        two(S, n_out, index, value, lo, hi, out, j0)
        j0 += 2 * one
    if j0 + one <= n_out:
        one_register(S, n_out, index, value, lo, hi, out, j0)
        j0 += one
    return j0


@njit(cache=True, error_model="numpy", inline="always")
def _sum_rows(kernels, terms, S2, n_out, add):
    """``out (+)= value[k] * S2[index[k]]`` summed over ``lo <= k < hi``, the ``terms``
    being ``(S, index, value, lo, hi, out)`` and S2 the (n, n_out) view of the flat
    S: the ``kernels`` (8, 4, 2 and 1 registers of units wide) where their blocks
    fit, a scalar loop for the rest. With ``add`` the sums add to ``out`` (the
    kernels load it); otherwise they start at 0 (the kernels store over it)."""
    S, index, value, lo, hi, out = terms
    wide = simd.wide_units(out.itemsize)
    j0 = 0
    while j0 + wide <= n_out:
        kernels[0](S, n_out, index, value, lo, hi, out, j0)
        j0 += wide
    j0 = _narrow_blocks(kernels[1], kernels[2], kernels[3], terms, n_out, j0)
    if not add:
        for j in range(j0, n_out):
            out[j] = out.dtype.type(0)
    for k in range(lo, hi):
        x = value[k]
        s = S2[index[k]]
        for j in range(j0, n_out):
            out[j] += x * s[j]


@njit(cache=True, error_model="numpy", inline="always")
def _sort_by_column(listing, m):
    """Fill the by-column arrays from the by-row ones (a counting sort, stable in
    rows)."""
    index, value, row_starts = listing.index, listing.value, listing.row_starts
    cursor, starts = listing.cursor, listing.column_starts
    d = cursor.shape[0]
    n = row_starts[m]
    for c in range(d):
        cursor[c] = 0
    for k in range(n):
        cursor[index[k]] += 1
    total = 0
    for c in range(d):
        starts[c] = total
        total += cursor[c]
        cursor[c] = starts[c]
    starts[d] = total
    for i in range(m):
        for k in range(row_starts[i], row_starts[i + 1]):
            at = cursor[index[k]]
            listing.column_rows[at] = i
            listing.column_values[at] = value[k]
            cursor[index[k]] = at + 1
