"""Numba kernels: every elementwise pass of training and prediction.

The two large matrix products of each layer go through NumPy's BLAS (see
:mod:`fastmlp.network`); everything around them lives here as pure functions
on arrays, fused so that each pass over memory does as much work as it can.

Dtypes. ``F`` is the model's float dtype, float32 or float64; every float
array handed to one call shares it, and float scalars are cast to ``F`` by the
caller. Constants inside a kernel are built with ``F`` (``Z.dtype.type(1)``)
because a Python float literal would silently promote float32 maths to
float64. Class labels are int64 indices into the output columns. Loss sums
are accumulated in float64 whatever ``F`` is, so a long epoch's mean loss
does not drift.

Kernels use NumPy's error model (a division by zero gives inf, not an
exception): Python's model puts a branch in every division and square root,
which stops LLVM from vectorizing the loop. The estimator's divergence guard
catches the non-finite results instead.

The codes below are the kernels' view of the estimator's string options.
"""

import numpy as np
from numba import njit

IDENTITY, LOGISTIC, TANH, RELU, SOFTMAX = 0, 1, 2, 3, 4
SQUARED_ERROR, LOG_LOSS = 0, 1

HIDDEN_ACTIVATIONS = {"identity": IDENTITY, "logistic": LOGISTIC, "tanh": TANH, "relu": RELU}
OUTPUT_ACTIVATIONS = {"logistic": LOGISTIC, "softmax": SOFTMAX}
LOSSES = {"squared_error": SQUARED_ERROR, "log_loss": LOG_LOSS}


# -- scalar building blocks ------------------------------------------------------------


@njit(cache=True, error_model="numpy", inline="always")
def _activate(z, kind, one, zero):
    """f(z) for one hidden unit; z, one and zero are F scalars."""
    if kind == LOGISTIC:
        return one / (one + np.exp(-z))
    if kind == TANH:
        return np.tanh(z)
    if kind == RELU:
        return z if z > zero else zero
    return z


@njit(cache=True, error_model="numpy", inline="always")
def _derivative_from_output(a, kind, one, zero):
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
    return max(x, zero) + np.log1p(np.exp(-abs(x)))


# -- batch input -------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def gather_rows(X, rows, start, stop, scale, out):
    """out[i] = X[rows[start + i]] * scale, converting to F on the way.

    X: (n, d) uint8, float32 or float64, C-contiguous. rows: (n,) int64 epoch
    order. out: (B, d) F with B >= stop - start. Fusing the shuffle gather
    with the uint8 -> float scaling means the data set itself is never copied
    to float: only one batch at a time is.
    """
    d = X.shape[1]
    for i in range(stop - start):
        src = X[rows[start + i]]
        dst = out[i]
        for j in range(d):
            dst[j] = src[j] * scale


# -- sparse input ----------------------------------------------------------------------
# Image data is mostly zero background (MNIST: 81 % of pixels). The per-sample
# kernel reads a compressed-row (CSR) copy of the input and skips those zeros
# exactly, reading the uint8 values directly.


@njit(cache=True, error_model="numpy")
def to_csr(X):
    """Compressed rows of X: (indptr (n+1,) int64, indices (nnz,) int32, values (nnz,) X.dtype)."""
    n, d = X.shape
    indptr = np.zeros(n + 1, dtype=np.int64)
    for r in range(n):
        row = X[r]
        count = 0
        for j in range(d):
            count += row[j] != 0  # branch-free, so the counting pass vectorizes
        indptr[r + 1] = indptr[r] + count
    indices = np.empty(indptr[n], dtype=np.int32)
    values = np.empty(indptr[n], dtype=X.dtype)
    for r in range(n):
        row = X[r]
        k = indptr[r]
        for j in range(d):
            if row[j] != 0:
                indices[k] = j
                values[k] = row[j]
                k += 1
    return indptr, indices, values


# -- forward ---------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def bias_activation(Z, b, kind):
    """Z <- f(Z + b) in place, one pass. Z: (B, n) F; b: (n,) F."""
    n_rows, n_cols = Z.shape
    one = Z.dtype.type(1)
    zero = Z.dtype.type(0)
    for i in range(n_rows):
        row = Z[i]
        if kind == LOGISTIC:
            for j in range(n_cols):
                row[j] = one / (one + np.exp(-(row[j] + b[j])))
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


@njit(cache=True, error_model="numpy")
def negated_bias_add(Z, b):
    """Z <- -(Z + b) in place: the argument of exp in the logistic function.

    Z: (B, n) F; b: (n,) F. Numba's exp is scalar libm here while NumPy's is
    SIMD, so the logistic layer is split around ``np.exp`` (see
    :func:`fastmlp.network.activate_hidden`).
    """
    n_rows, n_cols = Z.shape
    for i in range(n_rows):
        row = Z[i]
        for j in range(n_cols):
            row[j] = -(row[j] + b[j])


@njit(cache=True, error_model="numpy")
def logistic_from_exp(E):
    """E <- 1 / (1 + E) in place, E holding exp(-z): the logistic function. E: (B, n) F."""
    one = E.dtype.type(1)
    n_rows, n_cols = E.shape
    for i in range(n_rows):
        row = E[i]
        for j in range(n_cols):
            row[j] = one / (one + row[j])


@njit(cache=True, error_model="numpy", inline="always")
def _softmax_row(row, b):
    """row <- softmax(row + b) in place, shifted by the row max for stability.

    Returns (max, log-sum-exp of the shifted row), which the loss needs.
    """
    n = row.shape[0]
    m = row[0] + b[0]
    for j in range(n):
        row[j] = row[j] + b[j]
        if row[j] > m:
            m = row[j]
    total = row.dtype.type(0)
    for j in range(n):
        row[j] = np.exp(row[j] - m)
        total += row[j]
    inv = row.dtype.type(1) / total
    for j in range(n):
        row[j] *= inv
    return m, np.log(total)


@njit(cache=True, error_model="numpy")
def output_activation(Z, b, kind):
    """Z <- g(Z + b) in place for the output layer (softmax is row-wise)."""
    if kind == SOFTMAX:
        for i in range(Z.shape[0]):
            _softmax_row(Z[i], b)
    else:
        bias_activation(Z, b, kind)


# -- loss and backward -----------------------------------------------------------------


@njit(cache=True, error_model="numpy", inline="always")
def _output_row(row, b, target, out_kind, loss_kind, scale, d):
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
            # d/dz_j of sum_c (p_c - y_c)^2 = p_j (g_j - sum_c g_c p_c)
            dot = zero
            for j in range(k):
                err = row[j] - (one if j == target else zero)
                loss += err * err
                d[j] = two * err
                dot += d[j] * row[j]
            for j in range(k):
                d[j] = row[j] * (d[j] - dot) * scale
    else:
        for j in range(k):
            z = row[j] + b[j]
            p = one / (one + np.exp(-z))
            row[j] = p
            t = one if j == target else zero
            if loss_kind == LOG_LOSS:
                loss += _softplus(-z, zero) if j == target else _softplus(z, zero)
                d[j] = (p - t) * scale
            else:
                loss += (p - t) * (p - t)
                d[j] = two * (p - t) * p * (one - p) * scale
    return loss


@njit(cache=True, error_model="numpy")
def output_delta(Z, b, y, out_kind, loss_kind, scale, delta, grad_b):
    """Fused output layer: activation, loss, dL/dz and the bias gradient.

    Z: (B, k) F pre-activations, overwritten by the activations.
    b: (k,) F. y: (B,) int64 class index of each row.
    scale: F, usually 1/B so the gradients come out as batch means.
    delta: (B, k) F, receives scale * dL/dz. grad_b: (k,) F, receives the
    column sums of delta. Returns the summed per-sample loss (float64).
    """
    n_rows, k = Z.shape
    for j in range(k):
        grad_b[j] = Z.dtype.type(0)
    loss = 0.0
    for i in range(n_rows):
        d = delta[i]
        loss += _output_row(Z[i], b, y[i], out_kind, loss_kind, scale, d)
        for j in range(k):
            grad_b[j] += d[j]
    return loss


@njit(cache=True, error_model="numpy")
def hidden_delta(D, A, kind, grad_b):
    """D <- D * f'(z) in place, with f' read off the activations A; fused
    with the bias gradient grad_b = column sums of the new D.

    D: (B, n) F holding delta_next @ W_next.T. A: (B, n) F. grad_b: (n,) F.
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
            d[j] *= _derivative_from_output(a[j], kind, one, zero)
            grad_b[j] += d[j]


# -- parameter updates -----------------------------------------------------------------
# Parameters and gradients live in one flat buffer each, weights first, so one
# call updates the whole network and the L2 term touches the first n_weights.


@njit(cache=True, error_model="numpy", inline="always")
def _flush(x, tiny, zero):
    """0 for subnormal x. Optimizer state of weights whose gradient is always 0
    (MNIST's border pixels) decays geometrically into the subnormal range, where
    every arithmetic operation costs about a hundred cycles."""
    return x if abs(x) >= tiny else zero


@njit(cache=True, error_model="numpy")
def sgd_update(params, grads, velocity, lr, momentum, nesterov, decay, n_weights):
    """SGD step with optional (Nesterov) momentum, scikit-learn's formulation.

    params, grads, velocity: (p,) F. lr, momentum, decay: F, where decay is
    alpha / B, the L2 penalty's share of the gradient. nesterov: bool.
    """
    zero = params.dtype.type(0)
    tiny = np.finfo(params.dtype).tiny
    for i in range(params.shape[0]):
        g = grads[i]
        if i < n_weights and decay != zero:
            g += decay * params[i]
        if momentum == zero:
            params[i] -= lr * g
        else:
            v = _flush(momentum * velocity[i] - lr * g, tiny, zero)
            velocity[i] = v
            params[i] += momentum * v - lr * g if nesterov else v


@njit(cache=True, error_model="numpy")
def adam_update(params, grads, m, v, lr_t, beta_1, beta_2, epsilon, decay, n_weights):
    """Adam step; lr_t already carries the bias corrections for this step.

    params, grads, m, v: (p,) F. lr_t, beta_1, beta_2, epsilon, decay: F.
    """
    one = params.dtype.type(1)
    zero = params.dtype.type(0)
    tiny = np.finfo(params.dtype).tiny
    for i in range(params.shape[0]):
        g = grads[i]
        if i < n_weights and decay != zero:
            g += decay * params[i]
        m[i] = _flush(beta_1 * m[i] + (one - beta_1) * g, tiny, zero)
        v[i] = _flush(beta_2 * v[i] + (one - beta_2) * g * g, tiny, zero)
        params[i] -= lr_t * m[i] / (np.sqrt(v[i]) + epsilon)


# -- batch size 1: the whole epoch in one call ----------------------------------------


@njit(cache=True, error_model="numpy")
def sgd_per_sample_epoch(
    X, indptr, indices, values, sparse, y, rows, scale, params, layer_shapes,
    weight_offsets, bias_offsets, hidden_kind, out_kind, loss_kind, lr, decay, acts, deltas,
    act_offsets,
):
    """One epoch of plain SGD, one sample at a time, with no Python in the loop.

    The notebook's regime: every sample updates the weights before the next
    sample is seen. With ``sparse`` the first layer reads the input's CSR copy
    (indptr, indices, values; see :func:`to_csr`) and skips zero inputs in both
    the forward product and the weight update; that is exact, as those terms
    are 0.

    X: (n, d) uint8/float32/float64; y: (n,) int64; rows: (n,) int64 order;
    scale: F factor applied to X. params: flat F buffer (weights first, each
    (n_in, n_out) row-major, then biases). layer_shapes: (L, 2) int64;
    weight_offsets, bias_offsets, act_offsets: (L,) int64 into params and into
    the (sum of widths,) F scratch buffers acts and deltas. lr, decay: F.
    Returns the summed per-sample loss (float64).
    """
    n_layers = layer_shapes.shape[0]
    one = params.dtype.type(1)
    zero = params.dtype.type(0)
    shrink = one - lr * decay
    last = n_layers - 1
    n_classes = layer_shapes[last, 1]
    # the output biases are added during the forward product, not by _output_row
    no_bias = np.zeros(n_classes, dtype=params.dtype)
    loss = 0.0
    # Loops index views (a[j], w[j]) rather than params[offset + j]: numba proves
    # a range index non-negative and drops the wrap-around test that would stop
    # LLVM from vectorizing; an offset sum it cannot prove (3x slower measured).
    for sample in range(rows.shape[0]):
        r = rows[sample]
        x = X[r]
        # forward
        for layer in range(n_layers):
            n_in = layer_shapes[layer, 0]
            n_out = layer_shapes[layer, 1]
            W = params[weight_offsets[layer]:weight_offsets[layer] + n_in * n_out]
            b = params[bias_offsets[layer]:bias_offsets[layer] + n_out]
            a = acts[act_offsets[layer]:act_offsets[layer] + n_out]
            for j in range(n_out):
                a[j] = b[j]
            if layer == 0 and sparse:
                for k in range(indptr[r], indptr[r + 1]):
                    xi = values[k] * scale
                    w = W[indices[k] * n_out:(indices[k] + 1) * n_out]
                    for j in range(n_out):
                        a[j] += xi * w[j]
            elif layer == 0:
                for i in range(n_in):
                    xi = x[i] * scale
                    w = W[i * n_out:(i + 1) * n_out]
                    for j in range(n_out):
                        a[j] += xi * w[j]
            else:
                prev = acts[act_offsets[layer - 1]:act_offsets[layer - 1] + n_in]
                for i in range(n_in):
                    pi = prev[i]
                    w = W[i * n_out:(i + 1) * n_out]
                    for j in range(n_out):
                        a[j] += pi * w[j]
            if layer < last:
                for j in range(n_out):
                    a[j] = _activate(a[j], hidden_kind, one, zero)
        out = act_offsets[last]
        loss += _output_row(
            acts[out:out + n_classes], no_bias, y[r], out_kind, loss_kind, one,
            deltas[out:out + n_classes],
        )
        # backward: each layer's delta uses its weights before they change
        for layer in range(last, -1, -1):
            n_in = layer_shapes[layer, 0]
            n_out = layer_shapes[layer, 1]
            W = params[weight_offsets[layer]:weight_offsets[layer] + n_in * n_out]
            b = params[bias_offsets[layer]:bias_offsets[layer] + n_out]
            d = deltas[act_offsets[layer]:act_offsets[layer] + n_out]
            if layer > 0:
                # row i of W feeds only unit i's delta: read it, then update it
                prev = acts[act_offsets[layer - 1]:act_offsets[layer - 1] + n_in]
                prev_d = deltas[act_offsets[layer - 1]:act_offsets[layer - 1] + n_in]
                for i in range(n_in):
                    w = W[i * n_out:(i + 1) * n_out]
                    s = zero
                    for j in range(n_out):
                        s += w[j] * d[j]
                    prev_d[i] = s * _derivative_from_output(prev[i], hidden_kind, one, zero)
                    step = lr * prev[i]
                    if decay != zero:
                        for j in range(n_out):
                            w[j] *= shrink
                    for j in range(n_out):
                        w[j] -= step * d[j]
            else:
                if decay != zero:
                    for i in range(n_in * n_out):
                        W[i] *= shrink
                if sparse:
                    for k in range(indptr[r], indptr[r + 1]):
                        step = lr * (values[k] * scale)
                        w = W[indices[k] * n_out:(indices[k] + 1) * n_out]
                        for j in range(n_out):
                            w[j] -= step * d[j]
                else:
                    for i in range(n_in):
                        step = lr * (x[i] * scale)
                        w = W[i * n_out:(i + 1) * n_out]
                        for j in range(n_out):
                            w[j] -= step * d[j]
            for j in range(n_out):
                b[j] -= lr * d[j]
    return loss
