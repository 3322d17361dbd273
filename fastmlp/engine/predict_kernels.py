"""Compiled prediction: a chunk of rows from input to answer in one call.

[predict_rows][fastmlp.engine.predict_kernels.predict_rows] runs the first layer,
the other layers, the output activation and then the answer asked for (the
output units, ``predict_proba``'s normalized probabilities, or ``predict``'s
class indices) without returning to Python, and checks float input for NaN
and infinity as it reads it: a single row costs one dispatch.

The first layer skips zero inputs where there are few non-zeros (MNIST
images are about 19 % non-zero): each block of rows is listed (with
the finiteness check in the same loop) and multiplied over its non-zeros
with the vector loops of
[sparse_first_layer.forward][fastmlp.engine.sparse_first_layer.forward]. A
block with more non-zeros than ``SPARSE_DENSITY`` goes to BLAS instead, and
so does the rest of its chunk, unlisted. A later layer with few outputs (the
classes) runs as dot products over a transposed copy of its weights
(``_narrow_product``), a small one for a few rows in a plain loop, and the
others in BLAS (SciPy's, as in training). Products in another order than
BLAS's: results differ from the dense pass by rounding only.

The network's shape is passed as one int64 array (``layer_meta``) rather
than as tuples: a call's dispatch cost grows with the number and nesting
of its arguments, and for one row dispatch is a good part of the time.

[forward_rows][fastmlp.engine.predict_kernels.forward_rows] is the plain dense
pass of [Network.forward][fastmlp.engine.network.Network.forward], on the BLAS
that training uses.
"""

import numpy as np
from numba import njit

from fastmlp.engine import arguments, csr, kernels, sparse_first_layer

OUTPUTS, PROBA, LABELS = 0, 1, 2
"""What ``predict_rows`` leaves: the output units, probabilities, or class indices."""
BLOCK_ROWS = 64
"""Rows listed at a time: the first layer of a block runs over its non-zeros or in BLAS."""
BLOCK_INPUTS = 1 << 18
"""At most this many inputs per block (fewer rows for wide inputs): a bounded scratch."""
SPARSE_DENSITY = 0.5
"""Largest fraction of non-zero inputs for which a block skips its zeros."""
SMALL_PRODUCT = 1 << 14
"""Multiply-adds below which a layer's product runs in a plain loop: a BLAS call's
fixed cost outweighs a single row's product."""
NARROW_WEIGHTS = 4096
"""Weights (at most ``NARROW_OUTPUTS`` columns) up to which a later layer runs as dot
products over a transposed copy: it stays in L1, and BLAS is not called at all."""
NARROW_OUTPUTS = 16
"""Widest layer output that runs as dot products: one vector register's floats."""
_HEAD = 3  # layer_meta: n_layers, hidden kind, output kind, then 4 entries per layer


def layer_meta(network) -> np.ndarray:
    """The network's shape as ``predict_rows`` reads it.

    Returns
    -------
    ndarray of int64
        ``[n_layers, hidden kind, output kind]`` then, per layer,
        ``n_in, n_out, weight offset, bias offset``.
    """
    layout = network.layout
    per_layer = np.column_stack(
        [layout.shapes, layout.weight_offsets, layout.bias_offsets]
    ).ravel()
    head = [network.n_layers, network.hidden_kind, network.output_kind]
    return np.concatenate([np.array(head, dtype=np.int64), per_layer.astype(np.int64)])


@njit(cache=True, error_model="numpy", nogil=True)
def predict_rows(X, scale, params, meta, mode, out, labels):
    """Run every row of X through the network.

    Parameters
    ----------
    X : ndarray of shape (m, d), C-contiguous, or csr.Rows
        uint8, float32 or float64; CSR rows run the first layer over their
        stored entries ([csr.first_layer][fastmlp.engine.csr.first_layer]).
    scale : float
        1/255 for uint8 X, else 1; converted to F.
    params : ndarray of shape (p,), dtype F
        The flat parameter buffer.
    meta : ndarray of int64
        From [layer_meta][fastmlp.engine.predict_kernels.layer_meta].
    mode : int
        ``OUTPUTS``, ``PROBA`` (logistic outputs divided by their row's sum)
        or ``LABELS`` (also the first index of each row's maximum).
    out : ndarray of shape (m, k), dtype F, C-contiguous
        Receives the output activations, or the probabilities.
    labels : ndarray of shape (m,) (``LABELS``) or (0,), int64
        Receives the class indices.

    Returns
    -------
    int
        -1, or the first row that holds NaN or infinity in F (``out`` is then
        undefined). Integer input never does, so checking it costs nothing to ask for.
    """
    m = X.shape[0]
    f = params.dtype.type
    n_layers, last = meta[0], meta[0] - 1
    width = 0
    for layer in range(last):
        width += meta[_HEAD + 4 * layer + 1]
    units = np.empty(m * width, dtype=params.dtype)
    flat_out = out.reshape(out.size)
    at = 0
    prev = out  # replaced by the first layer's units
    for layer in range(n_layers):
        at_meta = _HEAD + 4 * layer
        n_in, n_out = meta[at_meta], meta[at_meta + 1]
        w0, b0 = meta[at_meta + 2], meta[at_meta + 3]
        if layer == last:
            Z = flat_out[:m * n_out].reshape((m, n_out))
        else:
            Z = units[at:at + m * n_out].reshape((m, n_out))
            at += m * n_out
        if layer == 0:
            bad = csr.first_layer(X, f(scale), params[w0:w0 + n_in * n_out], n_out, Z)
            if bad >= 0:
                return bad
        elif n_out <= NARROW_OUTPUTS and n_in * n_out <= NARROW_WEIGHTS:
            _narrow_product(prev, params[w0:w0 + n_in * n_out].reshape((n_in, n_out)), Z)
        elif m * n_in * n_out <= SMALL_PRODUCT:
            _small_product(prev, params[w0:w0 + n_in * n_out].reshape((n_in, n_out)), Z)
        else:
            np.dot(prev, params[w0:w0 + n_in * n_out].reshape((n_in, n_out)), Z)
        if layer < last:
            kernels.bias_activation(Z, params[b0:b0 + n_out], meta[1])
        else:
            kernels.output_activation(Z, params[b0:b0 + n_out], meta[2])
        prev = Z
    if mode == PROBA and meta[2] == kernels.LOGISTIC:
        _normalize_rows(out)
    elif mode == LABELS:
        _argmax_rows(out, labels)
    return -1


@njit(cache=True, error_model="numpy")
def first_layer(X, scale, W, n_out, Z):
    """Z (m, n_out) = (X * scale) @ W, W the (d * n_out,) weights row after row.

    Block by block of ``BLOCK_ROWS`` rows: over the listed non-zeros while
    blocks are sparse, then in BLAS. Returns -1, or the first row with NaN or
    infinity.
    """
    m, d = X.shape
    rows = max(1, min(BLOCK_ROWS, m, BLOCK_INPUTS // d))
    index = np.empty(rows * d, dtype=np.int64)
    value = np.empty(rows * d, dtype=W.dtype)
    starts = np.empty(rows + 1, dtype=np.int64)
    none = np.empty(0, dtype=np.int64)
    listed = sparse_first_layer.Listing(index, value, starts, none, none, none, value[:0])
    flat_Z = Z.reshape(Z.size)
    dense = False
    for r0 in range(0, m, rows):
        r1 = min(r0 + rows, m)
        Zb = flat_Z[r0 * n_out:r1 * n_out].reshape((r1 - r0, n_out))
        if not dense:
            count = 0
            starts[0] = 0
            for i in range(r1 - r0):
                n = sparse_first_layer.list_nonzero(X[r0 + i], scale, index[count:],
                                                    value[count:], True)
                if n < 0:
                    return r0 + i
                count += n
                starts[i + 1] = count
            if count <= SPARSE_DENSITY * (r1 - r0) * d:
                sparse_first_layer.forward(listed, r1 - r0, W, n_out, Zb)
                continue
            dense = True  # this block's rows are checked; later ones are checked below
        A = value[:(r1 - r0) * d].reshape((r1 - r0, d))
        for i in range(r1 - r0):
            row = X[r0 + i]
            if not kernels.all_finite(row, scale, value):
                return r0 + i
            dst = A[i]
            for j in range(d):
                dst[j] = row[j] * scale
        np.dot(A, W.reshape((d, n_out)), Zb)
    return -1


@njit(cache=True, error_model="numpy", inline="always")
def _small_product(A, W, Z):
    """Z = A @ W in a loop over W's rows, for products too small to pay a BLAS call."""
    f = Z.dtype.type
    for i in range(A.shape[0]):
        z = Z[i]
        z[:] = f(0)
        a = A[i]
        for j in range(W.shape[0]):
            aj = a[j]
            w = W[j]
            for k in range(z.shape[0]):
                z[k] += aj * w[k]


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _narrow_product(A, W, Z):
    """Z = A @ W, each entry one dot product of a row of A (F) with a column of W (F).

    A layer with a few outputs (the classes) leaves a vector loop over its
    outputs mostly empty; the dot products run along A's rows instead, over a
    transposed copy of W small enough for L1. Summed in another order than
    BLAS's: rounding differs, as between two BLAS builds."""
    f = Z.dtype.type
    n_in, n_out = W.shape
    Wt = np.empty((n_out, n_in), dtype=W.dtype)
    for j in range(n_in):
        for k in range(n_out):
            Wt[k, j] = W[j, k]
    for i in range(A.shape[0]):
        a = A[i]
        z = Z[i]
        for k in range(n_out):
            w = Wt[k]
            total = f(0)
            for j in range(n_in):
                total += a[j] * w[j]
            z[k] = total


@njit(cache=True, error_model="numpy", inline="always")
def _normalize_rows(P):
    """Divide each row of P by its sum (at least the dtype's smallest normal number)."""
    f = P.dtype.type
    tiny = f(1.1754943508222875e-38) if P.itemsize == 4 else f(2.2250738585072014e-308)
    for i in range(P.shape[0]):
        row = P[i]
        total = f(0)
        for j in range(row.shape[0]):
            total += row[j]
        total = max(total, tiny)
        for j in range(row.shape[0]):
            row[j] /= total


@njit(cache=True, error_model="numpy", inline="always")
def _argmax_rows(P, labels):
    """labels[i] = the first column of row i's maximum, as ``np.argmax`` picks it."""
    for i in range(P.shape[0]):
        row = P[i]
        best = 0
        for j in range(1, row.shape[0]):
            if row[j] > row[best]:
                best = j
        labels[i] = best


@njit(cache=True, error_model="numpy", nogil=True)
def forward_rows(X, start, stop, scale, params, layout, kinds, inputs, units, out):
    """Output activations of rows ``start:stop`` of X, in order, into out.

    Prediction's pass, compiled like training's so that its products go to the
    same BLAS (SciPy's, through ``np.dot``): a predict or score between two
    epochs then never wakes NumPy's OpenBLAS thread pool beside the one training
    uses.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        uint8, float32 or float64, C-contiguous.
    start, stop : int
        The rows to run.
    scale : F scalar
        1/255 for uint8 X, else 1.
    params : ndarray of shape (p,), dtype F
        The flat parameter buffer.
    layout, kinds
        See [Layout][fastmlp.engine.arguments.Layout] and
        [Kinds][fastmlp.engine.arguments.Kinds].
    inputs : ndarray of shape (>= (stop - start) * d,), dtype F
        Scratch for the converted rows.
    units : ndarray of shape (>= (stop - start) * sum of hidden widths,), dtype F
        Scratch for the hidden activations.
    out : ndarray of shape (stop - start, k), dtype F
        Receives softmax probabilities or logistic outputs.
    """
    m = stop - start
    d = X.shape[1]
    last = layout.shapes.shape[0] - 1
    A = inputs[:m * d].reshape((m, d))
    for i in range(m):
        src = X[start + i]
        dst = A[i]
        for j in range(d):
            dst[j] = src[j] * scale
    prev = A
    for layer in range(last + 1):
        W, b = arguments.layer(params, layout, layer)
        Z = out if layer == last else arguments.block(units, layout, layer, m)
        np.dot(prev, W, Z)
        if layer < last:
            kernels.bias_activation(Z, b, kinds.hidden)
        else:
            kernels.output_activation(Z, b, kinds.output)
        prev = Z


def csr_outputs(network, X: csr.Rows) -> np.ndarray:
    """A network's output activations for CSR rows, over their stored entries."""
    out = np.empty((X.shape[0], network.layer_sizes[-1]), dtype=network.dtype)
    scale = 1 / 255 if X.dtype == np.uint8 else 1.0
    predict_rows(X, scale, network.params, layer_meta(network), OUTPUTS, out,
                 np.empty(0, dtype=np.int64))
    return out
