"""Compiled training: many steps of an epoch inside one Numba call.

Every call from Python into a kernel costs a few microseconds, and a
mini-batch step of a small network is only tens of microseconds of work, so
the training loop itself lives here: [minibatch_steps][fastmlp.engine.steps.minibatch_steps]
runs the gather, forward pass, loss, backward pass and optimizer update of
a run of batches without returning to Python, and
[per_sample_steps][fastmlp.engine.steps.per_sample_steps] does the same for batch
size 1. The network calls them on chunks of samples sized by
[chunk_samples][fastmlp.engine.steps.chunk_samples], so that Ctrl-C is answered
within a fraction of a second whatever the network's size.

The entry points release the GIL (``nogil``), so fits in several Python
threads (a Dask worker of several threads) run at once.

The matrix products go to BLAS through Numba's ``np.dot`` (SciPy's OpenBLAS,
the only BLAS used during training, so two thread pools never compete);
everything elementwise is a fused loop over rows, with the vectorizable
``exp`` of [fastmlp.engine.vmath][fastmlp.engine.vmath]. Large batches are split between
threads by [sharded_minibatch_steps][fastmlp.engine.steps.sharded_minibatch_steps]
([fastmlp.engine.threads][fastmlp.engine.threads] decides when).

Arguments come grouped, as pynndescent passes its trees: a
[Layout][fastmlp.engine.steps.Layout] of layer shapes and offsets, a
[Kinds][fastmlp.engine.steps.Kinds] of activation and loss codes, a
[Solver][fastmlp.engine.steps.Solver] of optimizer settings and state, and a
[Buffers][fastmlp.engine.steps.Buffers] of scratch memory. F is the network's float
dtype (float32 or float64): every float array of one call has it, and every
float scalar is cast to it by the caller.
"""

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from fastmlp.engine import csr, fpmode, kernels, prefetch, simd
from fastmlp.engine import sparse_first_layer as listing

# Work per compiled call, in parameter-visits (samples x parameters): tens of
# milliseconds, so the Python loop around the calls answers Ctrl-C promptly while
# their overhead (tens of microseconds each) stays far below 1 %.
CHUNK_WORK = 1 << 27


def chunk_samples(n_params: int, batch_size: int = 1) -> int:
    """Samples per compiled call for a network of ``n_params`` parameters: about
    ``CHUNK_WORK`` parameter-visits, a whole number of batches, at least one."""
    batches = max(1, CHUNK_WORK // max(1, n_params * batch_size))
    return batches * batch_size

SGD, ADAM = 0, 1

# Samples per block of the pipelined batch-1 path, and rows (about) per block of
# the pipelined gather of small mini-batches.
LISTING_BLOCK = 256
GATHER_BLOCK = 256


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
    out like ``params``. (The batch's targets are read in place, through its
    rows: [kernels.Targets][fastmlp.engine.kernels.Targets].)
    """

    inputs: np.ndarray
    units: np.ndarray
    deltas: np.ndarray
    grads: np.ndarray


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


@njit(cache=True, error_model="numpy", inline="always")
def _flat_layer(flat, layout, layer):
    """One layer's weights as a flat (n_in * n_out,) view and its (n_out,) biases;
    the per-sample loops index rows of the flat view, which vectorizes best."""
    n_in, n_out = layout.shapes[layer, 0], layout.shapes[layer, 1]
    w0, b0 = layout.weight_offsets[layer], layout.bias_offsets[layer]
    return flat[w0:w0 + n_in * n_out], flat[b0:b0 + n_out], n_in, n_out


@njit(cache=True, error_model="numpy", inline="always")
def _unit_row(flat, layout, layer):
    """One sample's (n_out,) units (or deltas) of one layer."""
    start = layout.unit_offsets[layer]
    return flat[start:start + layout.shapes[layer, 1]]


@njit(cache=True, error_model="numpy")
def _gather_checked(X, rows, start, stop, scale, out, check):
    """out[i] = X[rows[start + i]] * scale in F; with ``check``, False if any
    gathered value is NaN or infinite. The check is fused into the gather's
    loop (an or-reduction beside each store, which vectorizes): a second pass
    over the batch cost about 8 % of a first epoch at batch 128."""
    if not check:
        kernels.gather_rows(X, rows, start, stop, scale, out)
        return True
    f = out.dtype.type
    zero = f(0)
    d = X.shape[1]
    for i in range(stop - start):
        src = X[rows[start + i]]
        dst = out[i]
        bad = False
        for j in range(d):
            v = f(src[j] * scale)
            dst[j] = v
            bad |= (v - v) != zero
        if bad:
            return False
    return True


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _squared_weights(params, n_weights):
    """Sum of squared weights, accumulated in float64.

    Reassociation lets LLVM split the sum into vector lanes; without it the
    float64 additions form one serial chain (4 cycles each), which made this
    reporting-only term cost as much as a GEMM per step at 100k weights.
    """
    total = 0.0
    for i in range(n_weights):
        total += params[i] * params[i]
    return total


@njit(cache=True, error_model="numpy", inline="always")
def _weight_sum(y, rows, lo, hi):
    """The sum of the weights of the rows ``rows[lo:hi]`` (float64), or their count
    without weights: what a batch's loss is a mean over, as in scikit-learn."""
    if y.weights.shape[0] == 0:
        return float(hi - lo)
    total = 0.0
    for i in range(lo, hi):
        total += y.weights[rows[i]]
    return total


@njit(cache=True, error_model="numpy")
def _update(params, grads, solver, t, decay, n_weights, lo, hi):
    """One optimizer step over the entries ``[lo, hi)`` of the flat buffers; t
    counts Adam's steps (1-based)."""
    f = params.dtype.type
    if decay != f(0) and lo < n_weights:
        kernels.add_weight_decay(grads[lo:hi], params[lo:hi], decay, min(hi, n_weights) - lo)
    if solver.kind == SGD:
        # velocity is empty without momentum (its slice too), and then not read
        kernels.sgd_update(
            params[lo:hi], grads[lo:hi], solver.velocity[lo:hi], f(solver.learning_rate),
            solver.momentum, solver.nesterov,
        )
    else:
        # scikit-learn's bias-corrected step size, in float64 (from the betas as F holds them)
        lr_t = solver.learning_rate * math.sqrt(1.0 - solver.beta_2 ** float(t)) / (
            1.0 - solver.beta_1 ** float(t)
        )
        kernels.adam_update(
            params[lo:hi], grads[lo:hi], solver.m[lo:hi], solver.v[lo:hi], f(lr_t),
            solver.beta_1, solver.beta_2, solver.epsilon,
        )


@njit(cache=True, error_model="numpy", nogil=True)
def minibatch_steps(
    X, direct, y, rows, start, stop, batch_size, scale, params, layout, kinds, solver, t,
    alpha, check, buffers, nonzeros,
):
    """Mini-batch steps over ``rows[start:stop]``, batch after batch, in place.

    Per batch: gather and scale the rows (or, with ``direct``, read them in
    place), the forward products (BLAS) with fused bias + activation passes,
    the fused output layer (activation, loss, delta, bias gradient), the
    backward products with fused hidden deltas, and one optimizer step.

    Parameters
    ----------
    X : ndarray of shape (n, d), C-contiguous, or csr.Rows
        uint8, float32 or float64; CSR rows ([fastmlp.engine.csr][fastmlp.engine.csr]) are
        always listed (``nonzeros`` non-empty).
    direct : ndarray of shape (n, d) or (0, d), dtype F
        X itself when its rows can be used in place (dtype F, C-contiguous,
        ``rows`` in order), else an empty array.
    y : kernels.Targets
        Class indices or target values, and sample weights, in the order of X
        ([Targets][fastmlp.engine.kernels.Targets]).
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
        See [Layout][fastmlp.engine.steps.Layout], [Kinds][fastmlp.engine.steps.Kinds],
        [Solver][fastmlp.engine.steps.Solver], [Buffers][fastmlp.engine.steps.Buffers].
    t : int
        Optimizer steps taken before this call.
    alpha : float
        L2 strength; each batch's loss gets ``0.5 * alpha * ||W||^2 / s`` and its
        weight gradient ``alpha / s * W``, s the batch's length m or, with sample
        weights, their sum (scikit-learn's normalization).
    check : bool
        Check each gathered batch for NaN or infinity first (once per fit).

    Returns
    -------
    loss : float
        The summed loss of the batches run (each batch's mean loss plus the L2
        term, times its length m, as scikit-learn weighs batches), in float64;
        NaN if a batch's loss was not finite, inf if the input was not finite
        (the call stops before that batch's update).
    t : int
        Optimizer steps taken after this call.

    Subnormal numbers are flushed to zero while the steps run
    ([fastmlp.engine.fpmode][fastmlp.engine.fpmode]), and the caller's mode is restored.
    """
    saved = fpmode.flush_subnormals()
    squared = _squared_weights(params, layout.n_weights) if alpha != 0.0 else 0.0
    total, t, _ = _minibatch_steps(
        X, direct, y, rows, start, stop, batch_size, scale, params, layout, kinds, solver, t,
        alpha, check, buffers, nonzeros, 0.0, squared,
    )
    fpmode.restore(saved)
    return total, t


@njit(cache=True, error_model="numpy")
def _minibatch_steps(
    X, direct, y, rows, start, stop, batch_size, scale, params, layout, kinds, solver, t,
    alpha, check, buffers, nonzeros, total, squared,
):
    """The steps of [minibatch_steps][fastmlp.engine.steps.minibatch_steps], in the caller's
    floating-point mode. The batches' losses are added to ``total`` one by one, and
    ``squared`` is the weights' sum of squares (with ``alpha``), so a call cut in
    blocks sums the same way and sweeps the weights no extra time; returns
    (total, t, squared at the end)."""
    f = params.dtype.type
    for b_start in range(start, stop, batch_size):
        b_stop = min(b_start + batch_size, stop)
        m = b_stop - b_start
        weight = _weight_sum(y, rows, b_start, b_stop)
        if weight == 0.0:  # a batch of zero weights has no mean to follow: no step
            continue
        ok, loss = _forward_backward(
            X, direct, y, rows, b_start, b_stop, scale, params, layout, kinds, f(1.0 / weight),
            check, buffers.inputs, buffers.units, buffers.deltas, buffers.grads,
            batch_size, nonzeros,
        )
        if not ok:
            return math.inf, t, squared
        if alpha != 0.0:
            loss += 0.5 * alpha * squared
        if weight != m:  # the weighted mean, times the batch's length
            loss *= m / weight
        if not math.isfinite(loss):
            return math.nan, t, squared
        total += loss
        t += 1
        _update(params, buffers.grads, solver, t, f(alpha / weight), layout.n_weights, 0,
                params.shape[0])
        if alpha != 0.0:
            squared = _squared_weights(params, layout.n_weights)
    return total, t, squared


@njit(cache=True, error_model="numpy", nogil=True)
def pipelined_minibatch_steps(
    X, y, rows, start, stop, batch_size, scale, params, layout, kinds, solver, t, alpha,
    check, buffers, nonzeros, slots,
):
    """[minibatch_steps][fastmlp.engine.steps.minibatch_steps] with the rows gathered by
    a second thread.

    For batches too small to split, one thread trains and the other core would
    idle, while the gather of shuffled float32 rows waits on memory. So the
    batches go in blocks of whole batches: while one thread trains a block
    from its gathered rows, the other gathers (and checks) the next block,
    then the two swap buffers. ``slots`` ((2, K * d), F) holds the two
    blocks of K rows, K a multiple of ``batch_size``. The steps are those of
    [minibatch_steps][fastmlp.engine.steps.minibatch_steps], bit for bit; BLAS must
    stay on one thread meanwhile, as for split batches. A row found not finite
    stops the call at the end of the block before it (result inf).
    """
    saved = fpmode.flush_subnormals()
    result = _pipelined_batches(
        X, y, rows, start, stop, batch_size, scale, params, layout, kinds, solver, t, alpha,
        check, buffers, nonzeros, slots,
    )
    fpmode.restore(saved)
    return result


@njit(cache=True, error_model="numpy", parallel=True)
def _pipelined_batches(
    X, y, rows, start, stop, batch_size, scale, params, layout, kinds, solver, t, alpha,
    check, buffers, nonzeros, slots,
):
    """The blocks of [pipelined_minibatch_steps][fastmlp.engine.steps.pipelined_minibatch_steps]."""
    d = X.shape[1]
    block = slots.shape[1] // d
    losses = np.zeros(2)
    steps_after = np.zeros(1, dtype=np.int64)
    squares = np.zeros(1)
    if not _gather_block(X, rows, start, min(start + block, stop), scale, slots[0], check):
        return math.inf, t
    squares[0] = _squared_weights(params, layout.n_weights) if alpha != 0.0 else 0.0
    total = 0.0
    slot = 0
    for b_start in range(start, stop, block):
        b_stop = min(b_start + block, stop)
        for role in prange(2):
            saved = fpmode.flush_subnormals()
            if role == 0:
                n = b_stop - b_start
                losses[0], steps_after[0], squares[0] = _minibatch_steps(
                    X, slots[slot][:n * d].reshape((n, d)), y, rows[b_start:b_stop], 0, n,
                    batch_size, scale, params, layout, kinds, solver, t, alpha, False, buffers,
                    nonzeros, total, squares[0],
                )
            else:
                gathered = _gather_block(X, rows, b_stop, min(b_stop + block, stop), scale,
                                         slots[1 - slot], check)
                losses[1] = 0.0 if gathered else math.inf
            fpmode.restore(saved)
        t = steps_after[0]
        if not math.isfinite(losses[0]):
            return losses[0], t
        total = losses[0]
        if losses[1] != 0.0:
            return math.inf, t
        slot = 1 - slot
    return total, t


@njit(cache=True, error_model="numpy", inline="always")
def _gather_block(X, rows, lo, hi, scale, slot, check):
    """Gather (and check) the rows ``X[rows[lo:hi]]`` into the flat buffer ``slot``."""
    n = hi - lo
    return _gather_checked(X, rows, lo, hi, scale, slot[:n * X.shape[1]].reshape((n, X.shape[1])),
                           check)


@njit(cache=True, error_model="numpy")
def _forward_backward(
    X, direct, y, rows, lo, hi, scale, params, layout, kinds, mean, check, inputs, units,
    deltas, grads, ahead, nonzeros,
):
    """Gradient of the rows ``rows[lo:hi]``' share of a batch's mean loss.

    Gathers the rows (or, with ``direct``, reads them in place), runs the
    forward products (BLAS) with fused bias + activation passes, the fused
    output layer and the backward products with fused hidden deltas. ``mean``
    is 1 / (the whole batch's length or sum of weights), so the gradients of a
    batch's shards add up to the batch's. ``y`` is a
    [kernels.Targets][fastmlp.engine.kernels.Targets], read through ``rows``.
    ``inputs``, ``units``, ``deltas`` and ``grads`` are 1-D scratch of F, as in
    [Buffers][fastmlp.engine.steps.Buffers]. Gathered rows are followed by a
    prefetch of the rows ``ahead`` places further on in ``rows`` (the next
    batch's share, [fastmlp.engine.prefetch][fastmlp.engine.prefetch]).

    With a non-empty ``nonzeros`` ([listing.Listing][fastmlp.engine.sparse_first_layer.Listing]),
    the rows are listed instead of gathered, and the first layer's two products
    run over their non-zeros only ([fastmlp.engine.sparse_first_layer][]).

    Returns (False, 0.0) if ``check`` finds NaN or infinity in the rows, else
    (True, the rows' summed data loss in float64).
    """
    n_layers = layout.shapes.shape[0]
    last = n_layers - 1
    d = X.shape[1]
    m = hi - lo
    listed = nonzeros.index.shape[0] > 0
    if listed:
        A = inputs[:0].reshape((0, d))  # the rows are not gathered
        if not csr.list_rows(X, rows, lo, hi, scale, nonzeros, check):
            return False, 0.0
        csr.rows_ahead(X, rows, lo + ahead, hi + ahead)
    elif direct.shape[0] > 0:
        A = direct[lo:hi]
        if check:
            for i in range(m):
                if not kernels.all_finite(A[i], scale, A):
                    return False, 0.0
    else:
        A = inputs[:m * d].reshape((m, d))
        if not csr.gather(X, rows, lo, hi, scale, A, check):
            return False, 0.0
        # the next batch's share of rows comes in while this one computes
        csr.rows_ahead(X, rows, lo + ahead, hi + ahead)
    # forward
    prev = A
    for layer in range(n_layers):
        W, b = _layer(params, layout, layer)
        Z = _units(units, layout, layer, m)
        if layer == 0 and listed:
            listing.forward(nonzeros, m, _flat_layer(params, layout, 0)[0], Z.shape[1], Z)
        else:
            np.dot(prev, W, Z)
        if layer < last:
            kernels.bias_activation(Z, b, kinds.hidden)
        prev = Z
    _, gb = _layer(grads, layout, last)
    loss = kernels.output_delta(
        prev, _layer(params, layout, last)[1], y, rows[lo:hi], kinds.output, kinds.loss, mean,
        _units(deltas, layout, last, m), gb,
    )
    # backward
    for layer in range(last, -1, -1):
        delta = _units(deltas, layout, layer, m)
        below = A if layer == 0 else _units(units, layout, layer - 1, m)
        gW, _ = _layer(grads, layout, layer)
        if layer == 0 and listed:
            listing.weight_gradient(nonzeros, m, delta, _flat_layer(grads, layout, 0)[0])
        else:
            np.dot(below.T, delta, gW)
        if layer > 0:
            W, _ = _layer(params, layout, layer)
            below_delta = _units(deltas, layout, layer - 1, m)
            np.dot(delta, W.T, below_delta)
            _, gb = _layer(grads, layout, layer - 1)
            kernels.hidden_delta(below_delta, below, kinds.hidden, gb)
    return True, loss


@njit(cache=True, error_model="numpy", nogil=True)
def sharded_minibatch_steps(
    X, direct, y, rows, start, stop, batch_size, scale, params, layout, kinds, solver, t,
    alpha, check, shards, nonzeros,
):
    """[minibatch_steps][fastmlp.engine.steps.minibatch_steps] with each batch cut into
    shards that Numba's threads run at once.

    ``shards`` is a [Buffers][fastmlp.engine.steps.Buffers] with one row per shard
    (arrays of shape (S, ...), each sized for a shard's rows). Shard
    s takes the rows ``[s * m // S, (s + 1) * m // S)`` of a batch of m and
    computes their share of the gradient with single-threaded BLAS calls; the
    shards' gradients are then summed (in shard order, so the result does not
    depend on how many threads ran them) and the update runs on S slices of
    the parameters at once. The caller limits BLAS to one thread while this
    runs ([fastmlp.engine.threads][fastmlp.engine.threads]) and sets the thread count.

    Same arguments (but ``shards`` for ``buffers``) and results as
    [minibatch_steps][fastmlp.engine.steps.minibatch_steps]. The floating-point mode
    is a thread's own, so subnormals are flushed
    ([fastmlp.engine.fpmode][fastmlp.engine.fpmode]) by this thread for the serial parts and
    by each thread around its shards: without the latter, Numba's worker
    threads would run their shards unflushed.
    """
    saved = fpmode.flush_subnormals()
    result = _threaded_shards(
        X, direct, y, rows, start, stop, batch_size, scale, params, layout, kinds, solver, t,
        alpha, check, shards, nonzeros,
    )
    fpmode.restore(saved)
    return result


@njit(cache=True, error_model="numpy", nogil=True)
def serial_sharded_minibatch_steps(
    X, direct, y, rows, start, stop, batch_size, scale, params, layout, kinds, solver, t,
    alpha, check, shards, nonzeros,
):
    """[sharded_minibatch_steps][fastmlp.engine.steps.sharded_minibatch_steps] on the
    calling thread alone, the shards in turn (``prange`` is ``range`` outside a
    parallel function): the same numbers bit for bit, with no thread pool (one
    thread allowed, or Numba's threads unsafe here)."""
    saved = fpmode.flush_subnormals()
    result = _shard_steps(
        X, direct, y, rows, start, stop, batch_size, scale, params, layout, kinds, solver, t,
        alpha, check, shards, nonzeros,
    )
    fpmode.restore(saved)
    return result


@njit(cache=True, error_model="numpy", parallel=True)
def _threaded_shards(
    X, direct, y, rows, start, stop, batch_size, scale, params, layout, kinds, solver, t,
    alpha, check, shards, nonzeros,
):
    """The steps of [sharded_minibatch_steps][fastmlp.engine.steps.sharded_minibatch_steps]:
    its loops over shards run on Numba's threads."""
    return _shard_steps(
        X, direct, y, rows, start, stop, batch_size, scale, params, layout, kinds, solver, t,
        alpha, check, shards, nonzeros,
    )


@njit(cache=True, error_model="numpy", inline="always")
def _shard_steps(
    X, direct, y, rows, start, stop, batch_size, scale, params, layout, kinds, solver, t,
    alpha, check, shards, nonzeros,
):
    """The sharded steps, written once for both callers (inlined into each)."""
    f = params.dtype.type
    n_shards = shards.grads.shape[0]
    losses = np.zeros(n_shards)
    squares = np.zeros(n_shards)
    passed = np.zeros(n_shards, dtype=np.bool_)
    total = 0.0
    squared = _squared_weights(params, layout.n_weights) if alpha != 0.0 else 0.0
    for b_start in range(start, stop, batch_size):
        b_stop = min(b_start + batch_size, stop)
        m = b_stop - b_start
        k = min(n_shards, m)
        weight = _weight_sum(y, rows, b_start, b_stop)
        if weight == 0.0:  # a batch of zero weights has no mean to follow: no step
            continue
        mean = f(1.0 / weight)
        for s in prange(k):
            passed[s], losses[s] = _one_shard(
                X, direct, y, rows, b_start + s * m // k, b_start + (s + 1) * m // k, scale,
                params, layout, kinds, mean, check, shards, s, batch_size, nonzeros,
            )
        loss = 0.0
        for s in range(k):
            if not passed[s]:
                return math.inf, t
            loss += losses[s]
        if alpha != 0.0:
            loss += 0.5 * alpha * squared
        if weight != m:  # the weighted mean, times the batch's length
            loss *= m / weight
        if not math.isfinite(loss):
            return math.nan, t
        total += loss
        t += 1
        decay = f(alpha / weight)
        for s in prange(n_shards):
            squares[s] = _reduce_and_update(params, shards.grads, k, solver, t, decay,
                                            layout.n_weights, s, n_shards, alpha != 0.0)
        if alpha != 0.0:
            squared = 0.0
            for s in range(n_shards):
                squared += squares[s]
    return total, t


@njit(cache=True, error_model="numpy")
def _one_shard(X, direct, y, rows, lo, hi, scale, params, layout, kinds, mean, check, shards,
               s, ahead, nonzeros):
    """Shard s's share of a batch's gradient, in flushed mode: (rows finite, loss)."""
    saved = fpmode.flush_subnormals()
    result = _forward_backward(
        X, direct, y, rows, lo, hi, scale, params, layout, kinds, mean, check,
        shards.inputs[s], shards.units[s], shards.deltas[s], shards.grads[s], ahead,
        listing.shard(nonzeros, s),
    )
    fpmode.restore(saved)
    return result


@njit(cache=True, error_model="numpy")
def _reduce_and_update(params, grads, k, solver, t, decay, n_weights, s, n_slices, squares):
    """Slice s of n_slices of the parameters: the k shards' gradients summed into
    shard 0's, in shard order, then the optimizer step; with ``squares``, returns
    the slice's sum of squared weights (the next batch's L2 term), else 0."""
    saved = fpmode.flush_subnormals()
    n_params = params.shape[0]
    lo, hi = s * n_params // n_slices, (s + 1) * n_params // n_slices
    total = grads[0]
    for other in range(1, k):
        more = grads[other]
        for i in range(lo, hi):
            total[i] += more[i]
    _update(params, total, solver, t, decay, n_weights, lo, hi)
    squared = _squared_weights(params[lo:hi], max(0, min(hi, n_weights) - lo)) if squares else 0.0
    fpmode.restore(saved)
    return squared


@njit(cache=True, error_model="numpy", nogil=True)
def per_sample_steps(
    X, skip_zeros, y, rows, start, stop, scale, params, layout, kinds, lr, decay, units,
    deltas, nonzero_index, nonzero_value, check,
):
    """Plain SGD with batch size 1 over ``rows[start:stop]``, in place.

    The notebook's regime: every sample updates the weights before the next
    is seen. With ``skip_zeros`` each sample's non-zero inputs are first
    listed (one branch-free pass over the row), and the first layer's forward
    product and weight update run over that list only; that is exact, as the
    skipped terms are 0, and on MNIST (150 of 784 pixels non-zero) it does a
    fifth of the work. Each hidden layer's delta is fused with its weight
    update (row i of W is read for unit i's delta, then updated), so W is read
    twice and written once per sample.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        uint8, float32 or float64.
    skip_zeros : bool
        Run the first layer over each sample's non-zero inputs only.
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
        See [Layout][fastmlp.engine.steps.Layout] and [Kinds][fastmlp.engine.steps.Kinds].
    lr, decay : F scalar
        Step size and L2 strength (each step multiplies W by ``1 - lr * decay``).
    units, deltas : ndarray of shape (sum of widths,), dtype F
        Scratch for one sample's activations and deltas.
    nonzero_index : ndarray of shape (d,), int64
        Scratch: the sample's non-zero input columns.
    nonzero_value : ndarray of shape (d,), dtype F
        Scratch: their scaled values.
    check : bool
        Check each sample's input for NaN or infinity first (once per fit).

    Returns
    -------
    float
        The summed per-sample loss, in float64; inf if ``check`` found the
        input not finite (the call stops before that sample's update), though
        a loss that overflowed as the weights blew up can be inf too.
    """
    no_bias = _no_bias(params, layout)
    loss = 0.0
    for sample in range(start, stop):
        r = rows[sample]
        x = X[r]
        prefetch.rows_ahead(X, rows, sample + 1, sample + 2)
        n_nonzero = 0
        if skip_zeros:
            # the listing checks the row as it reads it
            n_nonzero = listing.list_nonzero(x, scale, nonzero_index, nonzero_value, check)
            if n_nonzero < 0:
                return math.inf
        elif check and not kernels.all_finite(x, scale, params):
            return math.inf
        loss += _sample_step(
            x, y[r], skip_zeros, scale, params, layout, kinds, lr, decay, units, deltas,
            nonzero_index, nonzero_value, n_nonzero, no_bias,
        )
    return loss


@njit(cache=True, error_model="numpy", nogil=True, parallel=True)
def pipelined_per_sample_steps(
    X, y, rows, start, stop, scale, params, layout, kinds, lr, decay, units, deltas, slots,
    check,
):
    """[per_sample_steps][fastmlp.engine.steps.per_sample_steps] with zeros skipped,
    the listing of the inputs' non-zeros done by a second thread.

    Listing a row is the only part of a sample's step that does not depend on
    the weights, and for float32 input it is the costliest: its 3 KB come from
    memory. So the samples go in blocks: while one thread trains a block from
    its listing, the other lists the next block, then the two swap buffers.
    Every sample's arithmetic is that of
    [per_sample_steps][fastmlp.engine.steps.per_sample_steps], so the weights are the
    same bit for bit.

    ``slots`` is a [listing.Listing][fastmlp.engine.sparse_first_layer.Listing] by rows of two
    buffers (a leading axis of 2), each for a block of K samples. The other
    arguments and the result are those of
    [per_sample_steps][fastmlp.engine.steps.per_sample_steps] with ``skip_zeros``;
    a row found not finite stops the call at the end of the block before it.
    """
    block = slots.row_starts.shape[1] - 1
    results = np.zeros(2)
    if not listing.list_rows(X, rows, start, min(start + block, stop), scale,
                             listing.shard(slots, 0), check):
        return math.inf
    loss = 0.0
    slot = 0
    for b_start in range(start, stop, block):
        b_stop = min(b_start + block, stop)
        following = min(b_stop + block, stop)
        for role in prange(2):
            if role == 0:
                results[0] = _train_listed(
                    y, rows, b_start, b_stop, params, layout, kinds, lr, decay, units, deltas,
                    listing.shard(slots, slot), loss,
                )
            else:
                listed = listing.list_rows(
                    X, rows, b_stop, following, scale, listing.shard(slots, 1 - slot), check)
                results[1] = 0.0 if listed else 1.0
        loss = results[0]
        if results[1] != 0.0:
            return math.inf
        slot = 1 - slot
    return loss


@njit(cache=True, error_model="numpy")
def _train_listed(
    y, rows, start, stop, params, layout, kinds, lr, decay, units, deltas, listed, loss,
):
    """Train the samples ``rows[start:stop]`` from their non-zeros, listed by row
    in ``listed``; returns ``loss`` plus their losses, added one by one (as the
    serial loop adds them)."""
    no_bias = _no_bias(params, layout)
    index, value, starts = listed.index, listed.value, listed.row_starts
    one = params.dtype.type(1)
    for i in range(stop - start):
        first, last = starts[i], starts[i + 1]
        loss += _sample_step(
            value, y[rows[start + i]], True, one, params, layout, kinds, lr, decay, units,
            deltas, index[first:last], value[first:last], last - first, no_bias,
        )
    return loss


@njit(cache=True, error_model="numpy", inline="always")
def _no_bias(params, layout):
    """(k,) zeros of F: the per-sample step adds the output biases in its forward
    product, not in ``output_row``."""
    return np.zeros(layout.shapes[layout.shapes.shape[0] - 1, 1], dtype=params.dtype)


@njit(cache=True, error_model="numpy", inline="always")
def _sample_step(
    x, target, skip_zeros, scale, params, layout, kinds, lr, decay, units, deltas,
    nonzero_index, nonzero_value, n_nonzero, no_bias,
):
    """One sample's SGD step, in place; its loss. x is the sample's row (unused
    with ``skip_zeros``: its non-zeros are listed); no_bias is (k,) zeros of F, the
    output biases being added in the forward product."""
    n_layers = layout.shapes.shape[0]
    f = params.dtype.type
    one = f(1)
    zero = f(0)
    shrink = one - lr * decay
    last = n_layers - 1
    # Loops index views (a[j], w[j]) rather than params[offset + j]: numba proves
    # a range index non-negative and drops the wrap-around test that would stop
    # LLVM from vectorizing; an offset sum it cannot prove (3x slower measured).
    # forward
    for layer in range(n_layers):
        W, b, n_in, n_out = _flat_layer(params, layout, layer)
        a = _unit_row(units, layout, layer)
        for j in range(n_out):
            a[j] = b[j]
        if layer == 0 and skip_zeros:
            # W2[c, j] with an unsigned c needs neither a view nor a wrap-around
            # test: the hottest loop of the path (15 % faster than views here)
            blocked = n_out - n_out % simd.BLOCK
            for j0 in range(0, blocked, simd.BLOCK):
                simd.sparse_forward_block(
                    W, n_out, nonzero_index, nonzero_value, n_nonzero, a, j0)
            W2 = W.reshape((n_in, n_out))
            for k in range(n_nonzero):
                xi = nonzero_value[k]
                c = nonzero_index[k]
                for j in range(blocked, n_out):
                    a[j] += xi * W2[c, j]
        elif layer == 0:
            for i in range(n_in):
                xi = f(x[i] * scale)  # float maths in F whatever X's dtype
                w = W[i * n_out:(i + 1) * n_out]
                for j in range(n_out):
                    a[j] += xi * w[j]
        else:
            prev = _unit_row(units, layout, layer - 1)
            for i in range(n_in):
                pi = prev[i]
                w = W[i * n_out:(i + 1) * n_out]
                for j in range(n_out):
                    a[j] += pi * w[j]
        if layer < last:
            kernels.activate_row(a, kinds.hidden)
    loss = kernels.output_row(
        _unit_row(units, layout, last), no_bias, target, kinds.output, kinds.loss, one,
        _unit_row(deltas, layout, last),
    )
    # backward: each layer's delta uses its weights before they change
    for layer in range(last, -1, -1):
        W, b, n_in, n_out = _flat_layer(params, layout, layer)
        d = _unit_row(deltas, layout, layer)
        if layer > 0:
            # row i of W feeds only unit i's delta: read it, then update it
            prev = _unit_row(units, layout, layer - 1)
            prev_d = _unit_row(deltas, layout, layer - 1)
            for i in range(n_in):
                w = W[i * n_out:(i + 1) * n_out]
                s = zero
                for j in range(n_out):
                    s += w[j] * d[j]
                prev_d[i] = s * kernels.derivative_from_output(prev[i], kinds.hidden, one, zero)
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
            if skip_zeros:
                blocked = n_out - n_out % simd.BLOCK
                for j0 in range(0, blocked, simd.BLOCK):
                    simd.sparse_update_block(
                        W, n_out, nonzero_index, nonzero_value, n_nonzero, d, j0, lr)
                W2 = W.reshape((n_in, n_out))
                for k in range(n_nonzero):
                    step = lr * nonzero_value[k]
                    c = nonzero_index[k]
                    for j in range(blocked, n_out):
                        W2[c, j] -= step * d[j]
            else:
                for i in range(n_in):
                    step = lr * f(x[i] * scale)
                    w = W[i * n_out:(i + 1) * n_out]
                    for j in range(n_out):
                        w[j] -= step * d[j]
        for j in range(n_out):
            b[j] -= lr * d[j]
    return loss


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
        See [Layout][fastmlp.engine.steps.Layout] and [Kinds][fastmlp.engine.steps.Kinds].
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
        W, b = _layer(params, layout, layer)
        Z = out if layer == last else _units(units, layout, layer, m)
        np.dot(prev, W, Z)
        if layer < last:
            kernels.bias_activation(Z, b, kinds.hidden)
        else:
            kernels.output_activation(Z, b, kinds.output)
        prev = Z
