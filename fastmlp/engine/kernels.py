"""Numba kernels: every elementwise pass of training and prediction but the
parameter updates (those are [fastmlp.engine.updates][fastmlp.engine.updates]'s).

The matrix products go through BLAS (see [fastmlp.engine.steps][fastmlp.engine.steps]
and [fastmlp.engine.network][fastmlp.engine.network]); everything around them lives here
as pure functions on arrays, fused so that each pass over memory does as
much work as it can, with the vectorizable ``exp`` of
[fastmlp.engine.vmath][fastmlp.engine.vmath]. The compiled training loops of
[fastmlp.engine.steps][fastmlp.engine.steps] call these kernels, for training and
prediction alike; only the gradient checks (``reference.gradients``) call them
from Python.

Every kernel is single-threaded (a ``prange`` inside a kernel measured
slower): the threads are the caller's, BLAS's or, for large batches, one per
shard of the batch ([fastmlp.engine.threads][fastmlp.engine.threads]).

Dtypes. ``F`` is the model's float dtype, float32 or float64; every float
array handed to one call shares it, and float scalars are cast to ``F`` by the
caller. Constants inside a kernel are built with ``F`` (``Z.dtype.type(1)``)
because a Python float literal would silently promote float32 maths to
float64. Class labels are int64 indices into the output columns. Loss sums
are accumulated in float64 whatever ``F`` is, so a long epoch's mean loss
does not drift.

Kernels use NumPy's error model (a division by zero gives inf, not an
exception): Python's model puts a ZeroDivisionError branch in every division
and square root, which stops LLVM from vectorizing the loop (measured: the
Adam update of 100k parameters, 777 µs with it, 100 µs without). The
estimator's divergence guard catches the non-finite results instead.

The codes below are the kernels' view of the string options of
[fastmlp.options][fastmlp.options].
"""

from typing import NamedTuple

import numpy as np
from numba import njit

from fastmlp import options
from fastmlp.engine import prefetch, vmath

IDENTITY, LOGISTIC, TANH, RELU, SOFTMAX = 0, 1, 2, 3, 4
SQUARED_ERROR, LOG_LOSS = 0, 1

_CODES = {
    "identity": IDENTITY, "logistic": LOGISTIC, "tanh": TANH, "relu": RELU, "softmax": SOFTMAX,
    "squared_error": SQUARED_ERROR, "log_loss": LOG_LOSS,
}
HIDDEN_ACTIVATIONS = {name: _CODES[name] for name in options.ACTIVATIONS}
# the classifier's choices, and the regressor's identity output
OUTPUT_ACTIVATIONS = {name: _CODES[name] for name in (*options.OUTPUT_ACTIVATIONS, "identity")}
LOSSES = {name: _CODES[name] for name in options.LOSSES}


class Targets(NamedTuple):
    """What the output layer is trained towards, for every training sample.

    labels : (n,) int64, class indices (classification; empty for regression).
    values : (n, k) F, target values (regression, with the identity output; (0, k)
        for classification).
    weights : (n,) F, sample weights; empty when every sample weighs 1.

    The output-layer kernels read a batch's entries through its rows' indices,
    so neither targets nor weights are gathered per batch.
    """

    labels: np.ndarray
    values: np.ndarray
    weights: np.ndarray


def make_targets(y: np.ndarray, sample_weight, dtype) -> Targets:
    """[Targets][fastmlp.engine.kernels.Targets] from int64 labels (n,) or float values (n, k),
    and weights (n,) or None, in the contiguous layouts the compiled code expects."""
    dtype = np.dtype(dtype)
    if y.dtype.kind == "f":
        labels = np.zeros(0, dtype=np.int64)
        values = np.ascontiguousarray(y.reshape(y.shape[0], -1), dtype=dtype)
    else:
        labels = np.ascontiguousarray(y, dtype=np.int64)
        values = np.zeros((0, 1), dtype=dtype)
    weights = (np.zeros(0, dtype=dtype) if sample_weight is None
               else np.ascontiguousarray(sample_weight, dtype=dtype))
    return Targets(labels, values, weights)


# -- scalar building blocks ------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def activate_row(a, kind):
    """a <- f(a) in place for one sample's (n,) hidden units, dtype F."""
    one = a.dtype.type(1)
    zero = a.dtype.type(0)
    if kind == LOGISTIC:
        for j in range(a.shape[0]):
            a[j] = vmath.logistic(a[j], one)
    elif kind == TANH:
        for j in range(a.shape[0]):
            a[j] = np.tanh(a[j])
    elif kind == RELU:
        for j in range(a.shape[0]):
            a[j] = a[j] if a[j] > zero else zero


@njit(cache=True, error_model="numpy", inline="always")
def derivative_from_output(a, kind, one, zero):
    """f'(z) read off a = f(z), so the forward pass need not keep z (F scalars)."""
    if kind == LOGISTIC:
        return a * (one - a)
    if kind == TANH:
        return one - a * a
    if kind == RELU:
        return one if a > zero else zero
    return one


@njit(cache=True, error_model="numpy", inline="always")
def _softplus(x, zero):
    """log(1 + exp(x)) without overflow; F scalars in, F out."""
    return max(x, zero) + np.log1p(vmath.exp(-abs(x)))


# -- batch input -------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def gather_rows(X, rows, start, stop, scale, out):
    """out[i] = X[rows[start + i]] * scale, converting to F on the way.

    Fusing the shuffle gather with the uint8 -> float scaling means the data
    set itself is never copied to float: only one batch at a time is.

    Parameters
    ----------
    X : ndarray of shape (n, d), C-contiguous
        uint8, float32 or float64.
    rows : ndarray of shape (n,), int64
        The epoch's sample order.
    start, stop : int
        The batch is ``rows[start:stop]``.
    scale : F scalar
        1/255 for uint8, else 1.
    out : ndarray of shape (B, d), dtype F
        Receives the batch, ``B >= stop - start``.
    """
    d = X.shape[1]
    for i in range(stop - start):
        prefetch.gather_ahead(X, rows, start + i, stop)
        src = X[rows[start + i]]
        dst = out[i]
        for j in range(d):
            dst[j] = src[j] * scale


# -- forward ---------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def bias_activation(Z, b, kind):
    """Z <- f(Z + b) in place, one fused pass.

    Parameters
    ----------
    Z : ndarray of shape (B, n), dtype F
        Pre-activations ``A @ W``; overwritten by the activations.
    b : ndarray of shape (n,), dtype F
        Biases.
    kind : int
        ``IDENTITY``, ``LOGISTIC``, ``TANH`` or ``RELU``.
    """
    n_rows, n_cols = Z.shape
    one = Z.dtype.type(1)
    zero = Z.dtype.type(0)
    for i in range(n_rows):
        row = Z[i]
        if kind == LOGISTIC:
            for j in range(n_cols):
                row[j] = vmath.logistic(row[j] + b[j], one)
        elif kind == TANH:
            for j in range(n_cols):
                row[j] = np.tanh(row[j] + b[j])
        elif kind == RELU:
            for j in range(n_cols):
                v = row[j] + b[j]
                row[j] = v if v > zero else zero
        else:
            for j in range(n_cols):
                row[j] = row[j] + b[j]


@njit(cache=True, error_model="numpy", inline="always")
def _add_bias(row, b):
    """row <- row + b in place; returns the new row's maximum (softmax's shift)."""
    m = row[0] + b[0]
    for j in range(row.shape[0]):
        row[j] = row[j] + b[j]
        if row[j] > m:
            m = row[j]
    return m


@njit(cache=True, error_model="numpy", inline="always")
def _softmax_row(row, b):
    """row <- softmax(row + b) in place, shifted by the row max for stability.

    Returns (max, log-sum-exp of the shifted row), which the loss needs.
    """
    n = row.shape[0]
    m = _add_bias(row, b)
    total = row.dtype.type(0)
    for j in range(n):
        row[j] = vmath.exp(row[j] - m)
        total += row[j]
    inv = row.dtype.type(1) / total
    for j in range(n):
        row[j] *= inv
    return m, np.log(total)


@njit(cache=True, error_model="numpy")
def output_activation(Z, b, kind):
    """Z <- g(Z + b) in place for the output layer, for prediction.

    Parameters
    ----------
    Z : ndarray of shape (B, k), dtype F
        Pre-activations; overwritten by probabilities (softmax, row-wise with
        the row maximum subtracted) or logistic outputs.
    b : ndarray of shape (k,), dtype F
        Output biases.
    kind : int
        ``SOFTMAX`` or ``LOGISTIC``.
    """
    if kind == SOFTMAX:
        for i in range(Z.shape[0]):
            _softmax_row(Z[i], b)
    else:
        bias_activation(Z, b, kind)


# -- loss and backward -----------------------------------------------------------------


@njit(cache=True, error_model="numpy", inline="always")
def output_row(row, b, target, out_kind, loss_kind, scale, d):
    """One sample's output layer: row <- g(row + b); d <- scale * dL/dz.

    row, b, d: (k,) F; target: int64 class index; scale: F. Returns the
    sample's loss as float64.
    """
    k = row.shape[0]
    one = row.dtype.type(1)
    two = row.dtype.type(2)
    zero = row.dtype.type(0)
    loss = 0.0
    if out_kind == SOFTMAX:
        z_target = row[target] + b[target]
        m, log_total = _softmax_row(row, b)
        if loss_kind == LOG_LOSS:
            # -log p_target = logsumexp(z) - z_target, exact even when p underflows
            loss = m + log_total - z_target
            for j in range(k):
                d[j] = (row[j] - (one if j == target else zero)) * scale
        else:
            loss = _softmax_squared_error(row, target, scale, d)
    else:
        for j in range(k):
            z = row[j] + b[j]
            p = vmath.logistic(z, one)
            row[j] = p
            t = one if j == target else zero
            if loss_kind == LOG_LOSS:
                loss += _softplus(-z, zero) if j == target else _softplus(z, zero)
                d[j] = (p - t) * scale
            else:
                loss += (p - t) * (p - t)
                d[j] = two * (p - t) * p * (one - p) * scale
    return loss


@njit(cache=True, error_model="numpy", inline="always")
def _softmax_squared_error(p, target, scale, d):
    """One row of softmax outputs ``p`` (k,) F with squared error: d <- scale * dL/dz;
    returns the row's loss in float64."""
    f = p.dtype.type
    one, two, zero = f(1), f(2), f(0)
    # d/dz_j of sum_c (p_c - y_c)^2 = p_j (g_j - sum_c g_c p_c)
    dot = zero
    loss = 0.0
    for j in range(p.shape[0]):
        err = p[j] - (one if j == target else zero)
        loss += err * err
        d[j] = two * err
        dot += d[j] * p[j]
    for j in range(p.shape[0]):
        d[j] = p[j] * (d[j] - dot) * scale
    return loss


@njit(cache=True, error_model="numpy")
def output_delta(Z, b, y, rows, out_kind, loss_kind, scale, delta, grad_b):
    """Fused output layer: activation, loss, dL/dz and the bias gradient.

    Same arithmetic, in the same order, as [output_row][fastmlp.engine.kernels.output_row]
    on each row, but in three passes over the batch: the bias (and, for
    softmax, the row maximum), the activation over the whole (B, k) block as
    one flat loop, then loss and delta. With k = 10 a loop per row is too
    short for LLVM's vector code, and one pass per row cost about 3x as much.

    Parameters
    ----------
    Z : ndarray of shape (B, k), dtype F, C-contiguous
        Pre-activations; overwritten by the activations.
    b : ndarray of shape (k,), dtype F
        Output biases.
    y : Targets
        The training targets and weights ([Targets][fastmlp.engine.kernels.Targets]).
    rows : ndarray of shape (B,), int64
        The batch's rows into ``y``'s arrays.
    out_kind, loss_kind : int
        ``SOFTMAX``, ``LOGISTIC`` or ``IDENTITY`` (regression: half the squared
        error, as scikit-learn's regressor); ``LOG_LOSS`` or ``SQUARED_ERROR``.
    scale : F scalar
        1 / (the batch's length, or its sum of weights), so the gradients come
        out as batch means; each row's delta is further scaled by its weight.
    delta : ndarray of shape (B, k), dtype F
        Receives ``scale * weight * dL/dz``.
    grad_b : ndarray of shape (k,), dtype F
        Receives the column sums of delta.

    Returns
    -------
    float
        The summed weighted per-sample loss, accumulated in float64 (for
        regression, each sample's half squared error averaged over the k outputs).
    """
    n_rows, k = Z.shape
    zero = Z.dtype.type(0)
    if out_kind == SOFTMAX:
        loss = _softmax_delta(Z, b, y, rows, loss_kind, scale, delta)
    elif out_kind == LOGISTIC:
        loss = _logistic_delta(Z, b, y, rows, loss_kind, scale, delta)
    else:
        loss = _identity_delta(Z, b, y, rows, scale, delta)
    for j in range(k):
        grad_b[j] = zero
    for i in range(n_rows):
        d = delta[i]
        for j in range(k):
            grad_b[j] += d[j]
    return loss


@njit(cache=True, error_model="numpy", inline="always")
def _batch_row(Z, delta, y, rows, i, scale):
    """Row i of the batch: its outputs and deltas, its sample weight in float64 (1
    without weights: exact in every product) and its delta scale ``scale * weight`` in F."""
    w = 1.0 if y.weights.shape[0] == 0 else float(y.weights[rows[i]])
    return Z[i], delta[i], w, scale * Z.dtype.type(w)


@njit(cache=True, error_model="numpy", inline="always")
def _softmax_delta(Z, b, y, rows, loss_kind, scale, delta):
    """output_delta's softmax output; the rows' maxima and target logits kept aside."""
    n_rows, k = Z.shape
    f = Z.dtype.type
    one, zero = f(1), f(0)
    labels = y.labels
    shift = np.empty((n_rows, 2), dtype=Z.dtype)  # row maximum, z_target
    for i in range(n_rows):
        row = Z[i]
        m = _add_bias(row, b)
        shift[i, 0] = m
        shift[i, 1] = row[labels[rows[i]]]
        for j in range(k):
            row[j] = row[j] - m
    flat = Z.reshape(n_rows * k)
    for q in range(n_rows * k):
        flat[q] = vmath.exp(flat[q])
    loss = 0.0
    for i in range(n_rows):
        row, d, w, s = _batch_row(Z, delta, y, rows, i, scale)
        target = labels[rows[i]]
        total = zero
        for j in range(k):
            total += row[j]
        inv = one / total
        for j in range(k):
            row[j] *= inv
        if loss_kind == LOG_LOSS:
            # -log p_target = logsumexp(z) - z_target, exact even when p underflows
            loss += (shift[i, 0] + np.log(total) - shift[i, 1]) * w
            for j in range(k):
                d[j] = row[j] * s
            d[target] = (row[target] - one) * s
        else:
            # per row, then added: output_row's order
            loss += _softmax_squared_error(row, target, s, d) * w
    return loss


@njit(cache=True, error_model="numpy", inline="always")
def _logistic_delta(Z, b, y, rows, loss_kind, scale, delta):
    """output_delta's logistic output (log loss needs z: kept in delta until then)."""
    n_rows, k = Z.shape
    f = Z.dtype.type
    one, two, zero = f(1), f(2), f(0)
    labels = y.labels
    for i in range(n_rows):
        row = Z[i]
        d = delta[i]
        for j in range(k):
            row[j] = row[j] + b[j]
            d[j] = row[j]
    flat = Z.reshape(n_rows * k)
    for q in range(n_rows * k):
        flat[q] = vmath.logistic(flat[q], one)
    loss = 0.0
    for i in range(n_rows):
        row, d, w, s = _batch_row(Z, delta, y, rows, i, scale)
        target = labels[rows[i]]
        row_loss = 0.0  # per row, then added: output_row's order
        if loss_kind == LOG_LOSS:
            for j in range(k):
                z = d[j]
                row_loss += _softplus(-z, zero) if j == target else _softplus(z, zero)
                d[j] = row[j] * s
            d[target] = (row[target] - one) * s
        else:
            for j in range(k):
                p = row[j]
                e = p - (one if j == target else zero)
                row_loss += e * e
                d[j] = two * e * p * (one - p) * s
        loss += row_loss * w
    return loss


@njit(cache=True, error_model="numpy", inline="always")
def _identity_delta(Z, b, y, rows, scale, delta):
    """output_delta's identity output (regression): half the squared error, whose
    delta is the residual, as scikit-learn's MLPRegressor; the reported loss
    averages the outputs, as scikit-learn's ``squared_loss`` does."""
    n_rows, k = Z.shape
    values = y.values
    per_output = 0.5 / k
    loss = 0.0
    for i in range(n_rows):
        row, d, w, s = _batch_row(Z, delta, y, rows, i, scale)
        target = values[rows[i]]
        row_loss = 0.0
        for j in range(k):
            row[j] = row[j] + b[j]
            e = row[j] - target[j]
            row_loss += e * e
            d[j] = e * s
        loss += row_loss * per_output * w
    return loss


@njit(cache=True, error_model="numpy")
def hidden_delta(D, A, kind, grad_b):
    """D <- D * f'(z) in place, with f' read off the activations A; fused
    with the bias gradient grad_b = column sums of the new D.

    Parameters
    ----------
    D : ndarray of shape (B, n), dtype F
        ``delta_next @ W_next.T`` from BLAS; overwritten by this layer's delta.
    A : ndarray of shape (B, n), dtype F
        The layer's activations (``a(1 - a)``, ``1 - a**2``, ``a > 0``).
    kind : int
        Hidden activation code.
    grad_b : ndarray of shape (n,), dtype F
        Receives the column sums of the new D.
    """
    n_rows, n_cols = D.shape
    one = D.dtype.type(1)
    zero = D.dtype.type(0)
    for j in range(n_cols):
        grad_b[j] = zero
    for i in range(n_rows):
        d = D[i]
        a = A[i]
        for j in range(n_cols):
            d[j] *= derivative_from_output(a[j], kind, one, zero)
            grad_b[j] += d[j]


@njit(cache=True, error_model="numpy", inline="always")
def all_finite(row, scale, like):
    """True if no entry of ``row * scale``, converted to the dtype of the array
    ``like``, is NaN or infinite (x - x is 0 only for finite x), so a float64
    value beyond float32's range counts as bad for a float32 model. An
    or-reduction of booleans, which LLVM vectorizes, unlike a sum."""
    f = like.dtype.type
    bad = False
    for j in range(row.shape[0]):
        v = f(row[j] * scale)
        bad |= (v - v) != f(0)
    return not bad
