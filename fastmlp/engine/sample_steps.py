"""Compiled plain SGD with batch size 1: every sample updates the weights before
the next is seen.

The notebook's regime, in one Numba call per run of samples, like the
mini-batch steps of [fastmlp.engine.steps][fastmlp.engine.steps]:
[per_sample_steps][fastmlp.engine.sample_steps.per_sample_steps] on one thread, or
[pipelined_per_sample_steps][fastmlp.engine.sample_steps.pipelined_per_sample_steps]
with the samples' non-zero inputs listed by a second thread. A sample's step
runs the forward pass with no BLAS (a product of one row is a loop), then goes
back through the layers applying the batch-1 SGD update of
[fastmlp.engine.updates][fastmlp.engine.updates] as soon as each layer's deltas are
known. Both entry points release the GIL.

Arguments come grouped as the mini-batch steps' do
([fastmlp.engine.arguments][fastmlp.engine.arguments]), with the per-sample scratch
in a [SampleBuffers][fastmlp.engine.sample_steps.SampleBuffers].
"""

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from fastmlp.engine import arguments, kernels, prefetch, simd, updates
from fastmlp.engine import sparse_first_layer as listing

# Samples per block of the pipelined batch-1 path.
LISTING_BLOCK = 256


class SampleBuffers(NamedTuple):
    """Scratch of the per-sample steps, allocated once per epoch.

    units, deltas : (sum of widths,) F, one sample's activations and deltas.
    index : (d,) int64, the sample's non-zero input columns.
    value : (d,) F, their scaled values.
    """

    units: np.ndarray
    deltas: np.ndarray
    index: np.ndarray
    value: np.ndarray


def allocate(n_units: int, d: int, dtype: np.dtype) -> SampleBuffers:
    """SampleBuffers for a network of ``n_units`` units (all layers') and d inputs."""
    units = np.zeros(n_units, dtype=dtype)
    return SampleBuffers(units, np.zeros_like(units), np.zeros(d, np.int64), np.zeros(d, dtype))


def allocate_slots(d: int, dtype: np.dtype) -> listing.Listing:
    """The two listings (by row) of the pipelined path, of ``LISTING_BLOCK`` samples each."""
    return listing.allocate(LISTING_BLOCK, d, dtype, 2, by_column=False)


@njit(cache=True, error_model="numpy", nogil=True)
def per_sample_steps(source, skip_zeros, start, stop, model, alpha, scratch):
    """Plain SGD with batch size 1 over ``rows[start:stop]``, in place.

    With ``skip_zeros`` each sample's non-zero inputs are first
    listed (one branch-free pass over the row), and the first layer's forward
    product and weight update run over that list only; that is exact, as the
    skipped terms are 0, and on MNIST (150 of 784 pixels non-zero) it does a
    fifth of the work. Each hidden layer's delta is fused with its weight
    update (row i of W is read for unit i's delta, then updated), so W is read
    twice and written once per sample.

    Parameters
    ----------
    source : arguments.Source
        X (uint8, float32 or float64), its class indices ``y`` ((n,) int64),
        the epoch's ``rows``, ``scale`` and ``check`` (check each sample's input
        for NaN or infinity first, once per fit); ``in_place_X`` is not read
        ([Source][fastmlp.engine.arguments.Source]).
    skip_zeros : bool
        Run the first layer over each sample's non-zero inputs only.
    start, stop : int
        The slice of ``rows`` to train on.
    model : arguments.Model
        The flat parameters (updated), layout, kinds, and a solver of plain SGD
        whose ``learning_rate`` is the step size
        ([updates.plain_sgd][fastmlp.engine.updates.plain_sgd]).
    alpha : float
        L2 strength (each step multiplies W by ``1 - lr * alpha`` in F).
    scratch : SampleBuffers
        See [SampleBuffers][fastmlp.engine.sample_steps.SampleBuffers].

    Returns
    -------
    float
        The summed per-sample loss, in float64; inf if ``check`` found the
        input not finite (the call stops before that sample's update), though
        a loss that overflowed as the weights blew up can be inf too.
    """
    X, y, rows, scale, check = source.X, source.y, source.rows, source.scale, source.check
    params = model.params
    rate = updates.sample_rate(model.solver, alpha, params)
    no_bias = _no_bias(params, model.layout)
    loss = 0.0
    for sample in range(start, stop):
        r = rows[sample]
        x = X[r]
        prefetch.rows_ahead(X, rows, sample + 1, sample + 2)
        n_nonzero = 0
        if skip_zeros:
            # the listing checks the row as it reads it
            n_nonzero = listing.list_nonzero(x, scale, scratch.index, scratch.value, check)
            if n_nonzero < 0:
                return math.inf
        elif check and not kernels.all_finite(x, scale, params):
            return math.inf
        loss += _sample_step(x, y[r], skip_zeros, scale, model, rate, scratch, n_nonzero,
                             no_bias)
    return loss


@njit(cache=True, error_model="numpy", nogil=True, parallel=True)
def pipelined_per_sample_steps(source, start, stop, model, alpha, scratch, slots):
    """[per_sample_steps][fastmlp.engine.sample_steps.per_sample_steps] with zeros
    skipped, the listing of the inputs' non-zeros done by a second thread.

    Listing a row is the only part of a sample's step that does not depend on
    the weights, and for float32 input it is the costliest: its 3 KB come from
    memory. So the samples go in blocks: while one thread trains a block from
    its listing, the other lists the next block, then the two swap buffers.
    Every sample's arithmetic is that of
    [per_sample_steps][fastmlp.engine.sample_steps.per_sample_steps], so the weights
    are the same bit for bit.

    ``slots`` is a [listing.Listing][fastmlp.engine.sparse_first_layer.Listing] by rows of two
    buffers (a leading axis of 2), each for a block of K samples; ``scratch``'s
    ``index`` and ``value`` are not read. The other arguments and the result are
    those of [per_sample_steps][fastmlp.engine.sample_steps.per_sample_steps] with
    ``skip_zeros``; a row found not finite stops the call at the end of the block
    before it.
    """
    # the parallel loop's named tuples, one level deep and built in its sight
    X = arguments.rebuilt(source.X)
    y = arguments.rebuilt(source.y)
    rows, scale, check = source.rows, source.scale, source.check
    params = model.params
    layout = arguments.rebuilt(model.layout)
    kinds = arguments.rebuilt(model.kinds)
    solver = arguments.rebuilt(model.solver)
    rate = updates.sample_rate(solver, alpha, params)
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
                    y, rows, b_start, b_stop, arguments.Model(params, layout, kinds, solver), rate,
                    scratch, listing.shard(slots, slot), loss,
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
def _train_listed(y, rows, start, stop, model, rate, scratch, listed, loss):
    """Train the samples ``rows[start:stop]`` from their non-zeros, listed by row
    in ``listed``; returns ``loss`` plus their losses, added one by one (as the
    serial loop adds them)."""
    params = model.params
    no_bias = _no_bias(params, model.layout)
    index, value, starts = listed.index, listed.value, listed.row_starts
    one = params.dtype.type(1)
    for i in range(stop - start):
        first, last = starts[i], starts[i + 1]
        row = SampleBuffers(scratch.units, scratch.deltas, index[first:last], value[first:last])
        loss += _sample_step(value, y[rows[start + i]], True, one, model, rate, row,
                             last - first, no_bias)
    return loss


@njit(cache=True, error_model="numpy", inline="always")
def _no_bias(params, layout):
    """(k,) zeros of F: the per-sample step adds the output biases in its forward
    product, not in ``output_row``."""
    return np.zeros(layout.shapes[layout.shapes.shape[0] - 1, 1], dtype=params.dtype)


@njit(cache=True, error_model="numpy", inline="always")
def _sample_step(x, target, skip_zeros, scale, model, rate, scratch, n_nonzero, no_bias):
    """One sample's SGD step, in place; its loss. x is the sample's row (unused
    with ``skip_zeros``: its ``n_nonzero`` non-zeros are listed in ``scratch``);
    rate is the step's [SampleRate][fastmlp.engine.updates.SampleRate]; no_bias is
    (k,) zeros of F, the output biases being added in the forward product."""
    params, layout, kinds = model.params, model.layout, model.kinds
    units, deltas = scratch.units, scratch.deltas
    nonzero_index, nonzero_value = scratch.index, scratch.value
    n_layers = layout.shapes.shape[0]
    f = params.dtype.type
    one = f(1)
    zero = f(0)
    last = n_layers - 1
    # Loops index views (a[j], w[j]) rather than params[offset + j]: numba proves
    # a range index non-negative and drops the wrap-around test that would stop
    # LLVM from vectorizing; an offset sum it cannot prove (3x slower measured).
    # forward
    for layer in range(n_layers):
        W, b, n_in, n_out = arguments.flat_layer(params, layout, layer)
        a = arguments.unit_row(units, layout, layer)
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
            prev = arguments.unit_row(units, layout, layer - 1)
            for i in range(n_in):
                pi = prev[i]
                w = W[i * n_out:(i + 1) * n_out]
                for j in range(n_out):
                    a[j] += pi * w[j]
        if layer < last:
            kernels.activate_row(a, kinds.hidden)
    loss = kernels.output_row(
        arguments.unit_row(units, layout, last), no_bias, target, kinds.output, kinds.loss, one,
        arguments.unit_row(deltas, layout, last),
    )
    # backward: each layer's delta uses its weights before they change
    for layer in range(last, -1, -1):
        W, b, n_in, n_out = arguments.flat_layer(params, layout, layer)
        d = arguments.unit_row(deltas, layout, layer)
        if layer > 0:
            # row i of W feeds only unit i's delta: read it, then update it
            prev = arguments.unit_row(units, layout, layer - 1)
            prev_d = arguments.unit_row(deltas, layout, layer - 1)
            for i in range(n_in):
                w = W[i * n_out:(i + 1) * n_out]
                s = zero
                for j in range(n_out):
                    s += w[j] * d[j]
                prev_d[i] = s * kernels.derivative_from_output(prev[i], kinds.hidden, one, zero)
                updates.sample_row(w, d, prev[i], rate)
        else:
            updates.sample_decay(W, n_in * n_out, rate)
            if skip_zeros:
                updates.sample_listed_rows(W, n_in, n_out, nonzero_index, nonzero_value,
                                           n_nonzero, d, rate.lr)
            else:
                updates.sample_dense_rows(W, n_in, n_out, x, scale, d, rate.lr)
        updates.sample_bias(b, d, rate.lr)
    return loss
