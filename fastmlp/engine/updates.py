"""The optimizers' compiled half: every parameter update the training steps apply.

[fastmlp.engine.optimizers][fastmlp.engine.optimizers] keeps the state and the
schedules in Python; this module holds what runs inside the compiled steps:
the [Solver][fastmlp.engine.updates.Solver] tuple they carry and its codes,
Adam's bias-corrected step size, the mini-batch update over the flat buffers
([update][fastmlp.engine.updates.update]) and the batch-1 SGD step that the
per-sample steps apply layer by layer on their way back
([sample_rate][fastmlp.engine.updates.sample_rate] and the ``sample_*``
helpers). No other module computes a learning rate or a moment.

Parameters and gradients live in one flat buffer each, weights first, so one
call updates the whole network and the L2 term
([add_weight_decay][fastmlp.engine.updates.add_weight_decay]) touches the
first ``n_weights``; the gradient passed to an update already includes it.
F is the network's float dtype: every float array of a call has it.
"""

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from fastmlp.engine import simd

SGD, ADAM = 0, 1


class Solver(NamedTuple):
    """An optimizer step's settings (F scalars) and state buffers ((p,) arrays of F).

    kind : ``SGD`` or ``ADAM``. ``learning_rate`` is a float64. For SGD, it,
    ``momentum`` and
    ``nesterov`` are used with ``velocity``; for Adam, ``learning_rate`` is the
    initial rate (bias corrections are applied per step, from ``t``) with
    ``beta_1``, ``beta_2``, ``epsilon`` and the moments ``m``, ``v``. Buffers a
    solver does not use are empty. The per-sample steps read ``learning_rate``
    alone: they run plain SGD.
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


def plain_sgd(learning_rate: float, dtype: np.dtype) -> Solver:
    """The Solver of plain SGD (no momentum, no state) at ``learning_rate``."""
    f, none = np.dtype(dtype).type, np.zeros(0, dtype=dtype)
    return Solver(SGD, float(learning_rate), f(0), False, f(0), f(0), f(0), none, none, none)


@njit(cache=True, error_model="numpy", inline="always")
def _flush(x, tiny, zero):
    """0 for subnormal x. Optimizer state of weights whose gradient is always 0
    (MNIST's always-zero border pixels) decays geometrically into the subnormal
    range, where arithmetic is about 100x slower."""
    return x if abs(x) >= tiny else zero


@njit(cache=True, error_model="numpy")
def add_weight_decay(grads, params, decay, n_weights):
    """grads[:n_weights] += decay * params[:n_weights]: the L2 penalty's share of
    the gradient, for the weights (biases are not decayed); F arrays and scalar.

    A pass of its own, before the optimizer's, keeps the optimizers' loops free
    of the weight-or-bias branch, which stops LLVM from vectorizing them.
    """
    zero = params.dtype.type(0)
    tiny = np.finfo(params.dtype).tiny
    for i in range(n_weights):
        grads[i] = _flush(grads[i] + decay * params[i], tiny, zero)


@njit(cache=True, error_model="numpy")
def sgd_update(params, grads, velocity, lr, momentum, nesterov):
    """SGD step with optional (Nesterov) momentum, scikit-learn's formulation.

    One call updates the whole network: parameters, gradients and velocity are
    flat buffers, weights first. Velocity below the float's ``tiny`` is
    flushed to 0 (subnormals are slow).

    Parameters
    ----------
    params, grads, velocity : ndarray of shape (p,), dtype F
        Updated in place: params and velocity.
    lr, momentum : F scalar
        Step size and momentum (0: plain ``p -= lr * g``).
    nesterov : bool
        Nesterov's momentum.
    """
    zero = params.dtype.type(0)
    tiny = np.finfo(params.dtype).tiny
    for i in range(params.shape[0]):
        g = grads[i]
        if momentum == zero:
            params[i] = _flush(params[i] - lr * g, tiny, zero)
        else:
            v = _flush(momentum * velocity[i] - lr * g, tiny, zero)
            velocity[i] = v
            params[i] = _flush(params[i] + (momentum * v - lr * g if nesterov else v), tiny, zero)


@njit(cache=True, error_model="numpy")
def adam_update(params, grads, m, v, lr_t, beta_1, beta_2, epsilon):
    """Adam step over the whole flat buffer; moments below ``tiny`` are flushed to 0.

    Parameters
    ----------
    params, grads, m, v : ndarray of shape (p,), dtype F
        Updated in place: params and the moment estimates m, v.
    lr_t : F scalar
        Step size with this step's bias corrections already applied.
    beta_1, beta_2, epsilon : F scalar
        Adam's constants.
    """
    one = params.dtype.type(1)
    zero = params.dtype.type(0)
    tiny = np.finfo(params.dtype).tiny
    for i in range(params.shape[0]):
        g = grads[i]
        m[i] = _flush(beta_1 * m[i] + (one - beta_1) * g, tiny, zero)
        v[i] = _flush(beta_2 * v[i] + (one - beta_2) * g * g, tiny, zero)
        params[i] = _flush(params[i] - lr_t * m[i] / (np.sqrt(v[i]) + epsilon), tiny, zero)


@njit(cache=True, error_model="numpy", inline="always")
def adam_rate(solver, t):
    """scikit-learn's bias-corrected step size of Adam's step t (1-based), in
    float64 (from the betas as F holds them)."""
    return solver.learning_rate * math.sqrt(1.0 - solver.beta_2 ** float(t)) / (
        1.0 - solver.beta_1 ** float(t)
    )


@njit(cache=True, error_model="numpy")
def update(params, grads, solver, t, decay, n_weights, lo, hi):
    """One optimizer step over the entries ``[lo, hi)`` of the flat buffers, the
    L2 term ``decay`` (F) added to the weights' gradients first; t counts Adam's
    steps (1-based)."""
    f = params.dtype.type
    if decay != f(0) and lo < n_weights:
        add_weight_decay(grads[lo:hi], params[lo:hi], decay, min(hi, n_weights) - lo)
    if solver.kind == SGD:
        # velocity is empty without momentum (its slice too), and then not read
        sgd_update(
            params[lo:hi], grads[lo:hi], solver.velocity[lo:hi], f(solver.learning_rate),
            solver.momentum, solver.nesterov,
        )
    else:
        lr_t = adam_rate(solver, t)
        adam_update(
            params[lo:hi], grads[lo:hi], solver.m[lo:hi], solver.v[lo:hi], f(lr_t),
            solver.beta_1, solver.beta_2, solver.epsilon,
        )


# -- the batch-1 SGD step --------------------------------------------------------------
# The per-sample steps update each layer as soon as its deltas are known, row by
# row of W (a hidden row is read for its unit's delta, then updated), so the step
# comes in pieces that the steps call in that order; all are inlined.


class SampleRate(NamedTuple):
    """The batch-1 SGD step's F scalars: the rate, the L2 strength ``decay`` and
    ``shrink = 1 - lr * decay``, the factor each step scales the weights by."""

    lr: float
    decay: float
    shrink: float


@njit(cache=True, error_model="numpy", inline="always")
def sample_rate(solver, alpha, like):
    """The [SampleRate][fastmlp.engine.updates.SampleRate] of plain SGD at the
    solver's rate with L2 strength ``alpha`` (float64), in the dtype of ``like``."""
    f = like.dtype.type
    lr, decay = f(solver.learning_rate), f(alpha)
    return SampleRate(lr, decay, f(1) - lr * decay)


@njit(cache=True, error_model="numpy", inline="always")
def sample_row(w, d, x, rate):
    """One row of a layer's weights, the row of input value x: shrunk by the L2
    term, then ``w -= lr * x * d``."""
    step = rate.lr * x
    if rate.decay != w.dtype.type(0):
        for j in range(w.shape[0]):
            w[j] *= rate.shrink
    for j in range(w.shape[0]):
        w[j] -= step * d[j]


@njit(cache=True, error_model="numpy", inline="always")
def sample_decay(W, n, rate):
    """The first n weights of the flat W shrunk by the L2 term (the first layer,
    whose rows are updated apart)."""
    if rate.decay != W.dtype.type(0):
        for i in range(n):
            W[i] *= rate.shrink


@njit(cache=True, error_model="numpy", inline="always")
def sample_dense_rows(W, n_in, n_out, x, scale, d, lr):
    """The first layer's rows: ``W[i] -= lr * (x[i] * scale) * d``, x in its own
    dtype (the scaled value in F)."""
    f = W.dtype.type
    for i in range(n_in):
        step = lr * f(x[i] * scale)
        w = W[i * n_out:(i + 1) * n_out]
        for j in range(n_out):
            w[j] -= step * d[j]


@njit(cache=True, error_model="numpy", inline="always")
def sample_listed_rows(W, n_in, n_out, index, value, n, d, lr):
    """The first layer's rows of the n listed non-zero inputs (columns ``index``,
    values ``value``): 16 units at a time in vector code
    ([simd][fastmlp.engine.simd]), the units left over in a plain loop."""
    blocked = n_out - n_out % simd.BLOCK
    for j0 in range(0, blocked, simd.BLOCK):
        simd.sparse_update_block(W, n_out, index, value, n, d, j0, lr)
    W2 = W.reshape((n_in, n_out))
    for k in range(n):
        step = lr * value[k]
        c = index[k]
        for j in range(blocked, n_out):
            W2[c, j] -= step * d[j]


@njit(cache=True, error_model="numpy", inline="always")
def sample_bias(b, d, lr):
    """A layer's biases: ``b -= lr * d``."""
    for j in range(b.shape[0]):
        b[j] -= lr * d[j]
