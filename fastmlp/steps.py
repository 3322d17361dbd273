"""Compiled training: many steps of an epoch inside one Numba call.

Every call from Python into a kernel costs a few microseconds, and a
mini-batch step of a small network is only tens of microseconds of work, so
the training loop itself lives here: [minibatch_steps][fastmlp.steps.minibatch_steps]
runs the gather, forward pass, loss, backward pass and optimizer update of
a run of batches without returning to Python, and
[per_sample_steps][fastmlp.steps.per_sample_steps] does the same for batch
size 1. The network calls them on chunks of about ``CHUNK_SAMPLES`` samples,
so that Ctrl-C is answered within a fraction of a second.

The matrix products go to BLAS through Numba's ``np.dot`` (SciPy's OpenBLAS,
the only BLAS used during training, so two thread pools never compete);
everything elementwise is a fused loop over rows, with the vectorizable
``exp`` of [fastmlp.vmath][fastmlp.vmath].

Arguments come grouped, as pynndescent passes its trees: a
[Layout][fastmlp.steps.Layout] of layer shapes and offsets, a
[Kinds][fastmlp.steps.Kinds] of activation and loss codes, a
[Solver][fastmlp.steps.Solver] of optimizer settings and state, and a
[Buffers][fastmlp.steps.Buffers] of scratch memory. F is the network's float
dtype (float32 or float64): every float array of one call has it, and every
float scalar is cast to it by the caller.
"""

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from fastmlp import kernels

# Samples per compiled call: a few milliseconds of work, so the Python loop around
# the calls answers Ctrl-C promptly while their overhead stays far below 1 %.
CHUNK_SAMPLES = 16384

SGD, ADAM = 0, 1


class Layout(NamedTuple):
    """Where each layer lives in the flat parameter buffer and in the unit buffers.

    shapes : (L, 2) int64, ``(n_in, n_out)`` per layer.
    weight_offsets, bias_offsets : (L,) int64, starts in ``params``.
    unit_offsets : (L,) int64, where each layer's units start in a sample's
        activations (per-sample path) or, times the batch length, in a batch's.
    n_weights : int, the leading entries of ``params`` that are weights.
    """

    shapes: np.ndarray
    weight_offsets: np.ndarray
    bias_offsets: np.ndarray
    unit_offsets: np.ndarray
    n_weights: int


class Kinds(NamedTuple):
    """Codes of ``kernels``: the hidden and output activations and the loss."""

    hidden: int
    output: int
    loss: int


class Solver(NamedTuple):
    """An optimizer step's settings (F scalars) and state buffers ((p,) arrays of F).

    kind : ``SGD`` or ``ADAM``. ``learning_rate`` is a float64. For SGD, it,
    ``momentum`` and
    ``nesterov`` are used with ``velocity``; for Adam, ``learning_rate`` is the
    initial rate (bias corrections are applied per step, from ``t``) with
    ``beta_1``, ``beta_2``, ``epsilon`` and the moments ``m``, ``v``. Buffers a
    solver does not use are empty.
    """

    kind: int
    learning_rate: float  # float64, the others F
    momentum: float
    nesterov: bool
    beta_1: float
    beta_2: float
    epsilon: float
    velocity: np.ndarray
    m: np.ndarray
    v: np.ndarray


class Buffers(NamedTuple):
    """Scratch memory of one fit, allocated once.

    inputs : (B * d,) F, the gathered batch. units, deltas : (B * sum of
    widths,) F, each layer's activations and ``dL/dZ``. grads : (p,) F, laid
    out like ``params``. targets : (B,) int64, the batch's class indices.
    """

    inputs: np.ndarray
    units: np.ndarray
    deltas: np.ndarray
    grads: np.ndarray
    targets: np.ndarray


@njit(cache=True, error_model="numpy", inline="always")
def _layer(flat, layout, layer):
    """Views of one layer's (n_in, n_out) weights and (n_out,) biases in ``flat``."""
    n_in, n_out = layout.shapes[layer, 0], layout.shapes[layer, 1]
    w0, b0 = layout.weight_offsets[layer], layout.bias_offsets[layer]
    return flat[w0:w0 + n_in * n_out].reshape((n_in, n_out)), flat[b0:b0 + n_out]


@njit(cache=True, error_model="numpy", inline="always")
def _units(flat, layout, layer, m):
    """The (m, n_out) block of one layer in a batch buffer (units or deltas)."""
    n_out = layout.shapes[layer, 1]
    start = layout.unit_offsets[layer] * m
    return flat[start:start + m * n_out].reshape((m, n_out))


@njit(cache=True, error_model="numpy")
def _gather_checked(X, rows, start, stop, scale, out, check):
    """out[i] = X[rows[start + i]] * scale in F; with ``check``, False if any
    gathered value is NaN or infinite (x - x is 0 only for finite x)."""
    d = X.shape[1]
    zero = out.dtype.type(0)
    bad = zero
    for i in range(stop - start):
        src = X[rows[start + i]]
        dst = out[i]
        for j in range(d):
            dst[j] = src[j] * scale
        if check:
            for j in range(d):
                bad += dst[j] - dst[j]
    return bad == zero


@njit(cache=True, error_model="numpy")
def _squared_weights(params, n_weights):
    """Sum of squared weights, accumulated in float64."""
    total = 0.0
    for i in range(n_weights):
        total += params[i] * params[i]
    return total


@njit(cache=True, error_model="numpy")
def _update(params, grads, solver, t, decay, n_weights):
    """One optimizer step over the flat buffers; t counts Adam's steps (1-based)."""
    f = params.dtype.type
    if solver.kind == SGD:
        kernels.sgd_update(
            params, grads, solver.velocity, f(solver.learning_rate), solver.momentum,
            solver.nesterov, decay, n_weights,
        )
    else:
        # scikit-learn's bias-corrected step size, in float64 as it computes it
        lr_t = solver.learning_rate * math.sqrt(1.0 - solver.beta_2 ** float(t)) / (
            1.0 - solver.beta_1 ** float(t)
        )
        kernels.adam_update(
            params, grads, solver.m, solver.v, f(lr_t), solver.beta_1, solver.beta_2,
            solver.epsilon, decay, n_weights,
        )


@njit(cache=True, error_model="numpy")
def minibatch_steps(
    X, direct, y, rows, start, stop, batch_size, scale, params, layout, kinds, solver, t,
    alpha, check, buffers,
):
    """Mini-batch steps over ``rows[start:stop]``, batch after batch, in place.

    Per batch: gather and scale the rows (or, with ``direct``, read them in
    place), the forward products (BLAS) with fused bias + activation passes,
    the fused output layer (activation, loss, delta, bias gradient), the
    backward products with fused hidden deltas, and one optimizer step.

    Parameters
    ----------
    X : ndarray of shape (n, d), C-contiguous
        uint8, float32 or float64.
    direct : ndarray of shape (n, d) or (0, d), dtype F
        X itself when its rows can be used in place (dtype F, C-contiguous,
        ``rows`` in order), else an empty array.
    y : ndarray of shape (n,), int64
        Class indices, in the order of X.
    rows : ndarray of shape (n,), int64
        The epoch's sample order.
    start, stop : int
        The slice of ``rows`` to train on; ``start`` is a multiple of ``batch_size``.
    batch_size : int
        B; the last batch may be shorter.
    scale : F scalar
        1/255 for uint8 X, else 1.
    params : ndarray of shape (p,), dtype F
        The flat parameter buffer, updated.
    layout, kinds, solver, buffers
        See [Layout][fastmlp.steps.Layout], [Kinds][fastmlp.steps.Kinds],
        [Solver][fastmlp.steps.Solver], [Buffers][fastmlp.steps.Buffers].
    t : int
        Optimizer steps taken before this call.
    alpha : float
        L2 strength; each batch's loss gets ``0.5 * alpha * ||W||^2`` and its
        weight gradient ``alpha / m * W``.
    check : bool
        Check each gathered batch for NaN or infinity first (once per fit).

    Returns
    -------
    loss : float
        The summed loss of the batches run (each batch's mean loss plus the L2
        term, times its length), in float64; NaN if a batch's loss was not
        finite, inf if the input was not finite (the call stops before that
        batch's update).
    t : int
        Optimizer steps taken after this call.
    """
    n_layers = layout.shapes.shape[0]
    last = n_layers - 1
    d = X.shape[1]
    zero = params.dtype.type(0)
    total = 0.0
    squared = _squared_weights(params, layout.n_weights) if alpha != 0.0 else 0.0
    for b_start in range(start, stop, batch_size):
        b_stop = min(b_start + batch_size, stop)
        m = b_stop - b_start
        if direct.shape[0] > 0:
            A = direct[b_start:b_stop]
            if check:
                bad = zero
                for i in range(m):
                    for j in range(d):
                        bad += A[i, j] - A[i, j]
                if bad != zero:
                    return math.inf, t
        else:
            A = buffers.inputs[:m * d].reshape((m, d))
            if not _gather_checked(X, rows, b_start, b_stop, scale, A, check):
                return math.inf, t
        targets = buffers.targets[:m]
        for i in range(m):
            targets[i] = y[rows[b_start + i]]
        # forward
        prev = A
        for layer in range(n_layers):
            W, b = _layer(params, layout, layer)
            Z = _units(buffers.units, layout, layer, m)
            np.dot(prev, W, Z)
            if layer < last:
                kernels.bias_activation(Z, b, kinds.hidden)
            prev = Z
        _, gb = _layer(buffers.grads, layout, last)
        mean = params.dtype.type(1.0 / m)
        loss = kernels.output_delta(
            prev, _layer(params, layout, last)[1], targets, kinds.output, kinds.loss, mean,
            _units(buffers.deltas, layout, last, m), gb,
        )
        if alpha != 0.0:
            loss += 0.5 * alpha * squared
        if not math.isfinite(loss):
            return math.nan, t
        total += loss
        # backward
        for layer in range(last, -1, -1):
            delta = _units(buffers.deltas, layout, layer, m)
            below = A if layer == 0 else _units(buffers.units, layout, layer - 1, m)
            gW, _ = _layer(buffers.grads, layout, layer)
            np.dot(below.T, delta, gW)
            if layer > 0:
                W, _ = _layer(params, layout, layer)
                below_delta = _units(buffers.deltas, layout, layer - 1, m)
                np.dot(delta, W.T, below_delta)
                _, gb = _layer(buffers.grads, layout, layer - 1)
                kernels.hidden_delta(below_delta, below, kinds.hidden, gb)
        t += 1
        _update(params, buffers.grads, solver, t, params.dtype.type(alpha / m), layout.n_weights)
        if alpha != 0.0:
            squared = _squared_weights(params, layout.n_weights)
    return total, t


class CSR(NamedTuple):
    """Compressed rows of the input, from ``kernels.to_csr``.

    indptr : (n + 1,) int64. indices : (nnz,) uint16 (or int32 past 65,535
    features). values : (nnz,) in X's dtype.
    """

    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray


@njit(cache=True, error_model="numpy")
def per_sample_steps(
    X, csr, sparse, y, rows, start, stop, scale, params, layout, kinds, lr, decay, units,
    deltas,
):
    """Plain SGD with batch size 1 over ``rows[start:stop]``, in place.

    The notebook's regime: every sample updates the weights before the next
    is seen. With ``sparse`` the first layer reads the CSR copy and skips zero
    inputs in both the forward product and the weight update; that is exact,
    as those terms are 0. Each hidden layer's delta is fused with its weight
    update (row i of W is read for unit i's delta, then updated), so W is read
    twice and written once per sample.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        uint8, float32 or float64 (read when not ``sparse``).
    csr : CSR
        The CSR copy of X (an empty stand-in when not ``sparse``).
    sparse : bool
        Read the first layer's input from ``csr``.
    y : ndarray of shape (n,), int64
        Class indices.
    rows : ndarray of shape (n,), int64
        The epoch's sample order.
    start, stop : int
        The slice of ``rows`` to train on.
    scale : F scalar
        Factor applied to X (1/255 for uint8).
    params : ndarray of shape (p,), dtype F
        The flat parameter buffer, updated.
    layout, kinds
        See [Layout][fastmlp.steps.Layout] and [Kinds][fastmlp.steps.Kinds].
    lr, decay : F scalar
        Step size and L2 strength (each step multiplies W by ``1 - lr * decay``).
    units, deltas : ndarray of shape (sum of widths,), dtype F
        Scratch for one sample's activations and deltas.

    Returns
    -------
    float
        The summed per-sample loss, in float64.
    """
    n_layers = layout.shapes.shape[0]
    last = n_layers - 1
    one = params.dtype.type(1)
    zero = params.dtype.type(0)
    shrink = one - lr * decay
    n_classes = layout.shapes[last, 1]
    no_bias = np.zeros(n_classes, dtype=params.dtype)  # output biases join the product
    indptr, indices, values = csr.indptr, csr.indices, csr.values
    loss = 0.0
    for sample in range(start, stop):
        r = rows[sample]
        # forward
        for layer in range(n_layers):
            W, b = _layer(params, layout, layer)
            n_in, n_out = W.shape
            a = units[layout.unit_offsets[layer]:layout.unit_offsets[layer] + n_out]
            a[:] = b
            if layer == 0 and sparse:
                for k in range(indptr[r], indptr[r + 1]):
                    xi = values[k] * scale
                    w = W[indices[k]]
                    for j in range(n_out):
                        a[j] += xi * w[j]
            else:
                for i in range(n_in):
                    xi = X[r, i] * scale if layer == 0 else units[
                        layout.unit_offsets[layer - 1] + i
                    ]
                    w = W[i]
                    for j in range(n_out):
                        a[j] += xi * w[j]
            if layer < last:
                for j in range(n_out):
                    a[j] = kernels.activate(a[j], kinds.hidden, one, zero)
        out = layout.unit_offsets[last]
        loss += kernels.output_row(
            units[out:out + n_classes], no_bias, y[r], kinds.output, kinds.loss, one,
            deltas[out:out + n_classes],
        )
        # backward: each layer's delta uses its weights before they change
        for layer in range(last, -1, -1):
            W, b = _layer(params, layout, layer)
            n_in, n_out = W.shape
            d = deltas[layout.unit_offsets[layer]:layout.unit_offsets[layer] + n_out]
            if layer > 0:
                below = layout.unit_offsets[layer - 1]
                for i in range(n_in):
                    w = W[i]
                    s = zero
                    for j in range(n_out):
                        s += w[j] * d[j]
                    a_i = units[below + i]
                    deltas[below + i] = s * kernels.derivative_from_output(
                        a_i, kinds.hidden, one, zero
                    )
                    step = lr * a_i
                    for j in range(n_out):
                        w[j] = w[j] * shrink - step * d[j]
            else:
                if decay != zero:
                    W *= shrink
                if sparse:
                    for k in range(indptr[r], indptr[r + 1]):
                        step = lr * (values[k] * scale)
                        w = W[indices[k]]
                        for j in range(n_out):
                            w[j] -= step * d[j]
                else:
                    for i in range(n_in):
                        step = lr * (X[r, i] * scale)
                        w = W[i]
                        for j in range(n_out):
                            w[j] -= step * d[j]
            for j in range(n_out):
                b[j] -= lr * d[j]
    return loss
