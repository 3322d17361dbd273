"""Compiled mini-batch steps with each batch cut into shards, run at once.

A batch large enough to split is cut into shards (how many,
[fastmlp.engine.threads][fastmlp.engine.threads] decides): each shard computes its rows'
share of the gradient with single-threaded BLAS
([steps.forward_backward][fastmlp.engine.steps.forward_backward]), the shards'
gradients are summed in shard order, so that the result does not depend on how
many threads ran them, and the update runs on slices of the parameters at once.
[sharded_minibatch_steps][fastmlp.engine.shard_steps.sharded_minibatch_steps] runs
the shards on Numba's threads,
[serial_sharded_minibatch_steps][fastmlp.engine.shard_steps.serial_sharded_minibatch_steps]
in turn on the calling thread: the same numbers bit for bit.
"""

import math

import numpy as np
from numba import njit, prange

from fastmlp.engine import arguments, fpmode, sparse_first_layer, steps, updates


@njit(cache=True, error_model="numpy", nogil=True)
def sharded_minibatch_steps(source, start, stop, batch_size, model, t, alpha, shards, nonzeros):
    """[minibatch_steps][fastmlp.engine.steps.minibatch_steps] with each batch cut into
    shards that Numba's threads run at once.

    ``shards`` is a [Buffers][fastmlp.engine.arguments.Buffers] with one row per shard
    (arrays of shape (S, ...), each sized for a shard's rows), and ``nonzeros``
    a listing with one row per shard. Shard
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
    return fpmode.flushed(_threaded_shards, (source, start, stop, batch_size, model, t, alpha,
                                             shards, nonzeros))


@njit(cache=True, error_model="numpy", nogil=True)
def serial_sharded_minibatch_steps(source, start, stop, batch_size, model, t, alpha, shards,
                                   nonzeros):
    """[sharded_minibatch_steps][fastmlp.engine.shard_steps.sharded_minibatch_steps] on the
    calling thread alone, the shards in turn (``prange`` is ``range`` outside a
    parallel function): the same numbers bit for bit, with no thread pool (one
    thread allowed, or Numba's threads unsafe here)."""
    return fpmode.flushed(_shard_steps, (source, start, stop, batch_size, model, t, alpha, shards,
                                         nonzeros))


@njit(cache=True, error_model="numpy", parallel=True)
def _threaded_shards(source, start, stop, batch_size, model, t, alpha, shards, nonzeros):
    """The steps of [sharded_minibatch_steps][fastmlp.engine.shard_steps.sharded_minibatch_steps]:
    its loops over shards run on Numba's threads."""
    return _shard_steps(source, start, stop, batch_size, model, t, alpha, shards, nonzeros)


@njit(cache=True, error_model="numpy", inline="always")
def _shard_steps(source, start, stop, batch_size, model, t, alpha, shards, nonzeros):
    """The sharded steps, written once for both callers (inlined into each)."""
    # the parallel loop's named tuples, one level deep and built in its sight
    X = arguments.rebuilt(source.X)
    y = arguments.rebuilt(source.y)
    in_place_X, rows, scale, check = source.in_place_X, source.rows, source.scale, source.check
    params = model.params
    layout = arguments.rebuilt(model.layout)
    kinds = arguments.rebuilt(model.kinds)
    solver = arguments.rebuilt(model.solver)
    f = params.dtype.type
    n_shards = shards.grads.shape[0]
    losses = np.zeros(n_shards)
    squares = np.zeros(n_shards)
    passed = np.zeros(n_shards, dtype=np.bool_)
    total = 0.0
    squared = steps.squared_weights(params, layout.n_weights) if alpha != 0.0 else 0.0
    for b_start in range(start, stop, batch_size):
        b_stop = min(b_start + batch_size, stop)
        m = b_stop - b_start
        k = min(n_shards, m)
        weight = steps.weight_sum(y, rows, b_start, b_stop)
        if weight == 0.0:  # a batch of zero weights has no mean to follow: no step
            continue
        mean = f(1.0 / weight)
        for s in prange(k):
            passed[s], losses[s] = _one_shard(
                arguments.Source(X, in_place_X, y, rows, scale, check), b_start + s * m // k,
                b_start + (s + 1) * m // k, arguments.Model(params, layout, kinds, solver), mean,
                shards, s, batch_size, nonzeros,
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
def _one_shard(source, lo, hi, model, mean, shards, s, ahead, nonzeros):
    """Shard s's share of a batch's gradient, in flushed mode: (rows finite, loss)."""
    scratch = arguments.Buffers(shards.inputs[s], shards.units[s], shards.deltas[s],
                                shards.grads[s])
    return fpmode.flushed(steps.forward_backward, (source, lo, hi, model, mean, scratch, ahead,
                                                   sparse_first_layer.shard(nonzeros, s)))


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
    updates.update(params, total, solver, t, decay, n_weights, lo, hi)
    squared = (steps.squared_weights(params[lo:hi], max(0, min(hi, n_weights) - lo)) if squares
               else 0.0)
    fpmode.restore(saved)
    return squared
