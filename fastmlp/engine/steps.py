"""Compiled mini-batch training: many steps of an epoch inside one Numba call.

Every call from Python into a kernel costs a few microseconds, and a
mini-batch step of a small network is only tens of microseconds of work, so
the training loop itself lives here: [minibatch_steps][fastmlp.engine.steps.minibatch_steps]
runs the gather, forward pass, loss, backward pass and optimizer update of
a run of batches without returning to Python, and
[pipelined_minibatch_steps][fastmlp.engine.steps.pipelined_minibatch_steps] does
the same with the rows gathered by a second thread. The network calls them on
chunks of samples sized by [chunk_samples][fastmlp.engine.steps.chunk_samples], so
that Ctrl-C is answered within a fraction of a second whatever the network's size.
Batches cut into shards run in [fastmlp.engine.shard_steps][fastmlp.engine.shard_steps],
batch size 1 in [fastmlp.engine.sample_steps][fastmlp.engine.sample_steps]; both
reuse the pieces here, and the update itself is
[fastmlp.engine.updates][fastmlp.engine.updates]'s.

The entry points release the GIL (``nogil``), so fits in several Python
threads (a Dask worker of several threads) run at once.

The matrix products go to BLAS through Numba's ``np.dot`` (SciPy's OpenBLAS,
the only BLAS used during training, so two thread pools never compete);
everything elementwise is a fused loop over rows, with the vectorizable
``exp`` of [fastmlp.engine.vmath][fastmlp.engine.vmath].

Arguments come grouped ([fastmlp.engine.arguments][fastmlp.engine.arguments]): a
[Source][fastmlp.engine.arguments.Source] of samples, the
[Model][fastmlp.engine.arguments.Model] trained and
[Buffers][fastmlp.engine.arguments.Buffers] of scratch memory. F is the network's
float dtype (float32 or float64): every float array of one call has it, and every
float scalar is cast to it by the caller.
"""

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from fastmlp.engine import arguments, csr, fpmode, kernels, prefetch, updates
from fastmlp.engine import narrow_first_layer as blocks
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


# Rows (about) per block of the pipelined gather of small mini-batches.
GATHER_BLOCK = 256


class Progress(NamedTuple):
    """Where a run of batches stands: the summed loss so far (float64), the
    optimizer's steps taken, and the weights' sum of squares (float64, for the
    L2 term; 0 without one)."""

    total: float
    t: int
    squared: float


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
        prefetch.gather_ahead(X, rows, start + i, stop)
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
def squared_weights(params, n_weights):
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
def weight_sum(y, rows, lo, hi):
    """The sum of the weights of the rows ``rows[lo:hi]`` (float64), or their count
    without weights: what a batch's loss is a mean over, as in scikit-learn."""
    if y.weights.shape[0] == 0:
        return float(hi - lo)
    total = 0.0
    for i in range(lo, hi):
        total += y.weights[rows[i]]
    return total


@njit(cache=True, error_model="numpy", nogil=True)
def minibatch_steps(source, start, stop, batch_size, model, t, alpha, buffers, nonzeros):
    """Mini-batch steps over ``rows[start:stop]``, batch after batch, in place.

    Per batch: gather and scale the rows (or, with ``in_place_X``, read them in
    place), the forward products (BLAS) with fused bias + activation passes,
    the fused output layer (activation, loss, delta, bias gradient), the
    backward products with fused hidden deltas, and one optimizer step.

    Parameters
    ----------
    source : arguments.Source
        X (CSR rows are always listed: ``nonzeros`` non-empty), ``in_place_X``, the
        targets and sample weights ``y`` ([Targets][fastmlp.engine.kernels.Targets]),
        the epoch's ``rows``, ``scale`` and ``check`` (check each gathered batch
        for NaN or infinity first, once per fit); see
        [Source][fastmlp.engine.arguments.Source].
    start, stop : int
        The slice of ``rows`` to train on; ``start`` is a multiple of ``batch_size``.
    batch_size : int
        B; the last batch may be shorter.
    model : arguments.Model
        The flat parameters (updated), layout, kinds and the optimizer's solver
        ([Model][fastmlp.engine.arguments.Model]).
    t : int
        Optimizer steps taken before this call.
    alpha : float
        L2 strength; each batch's loss gets ``0.5 * alpha * ||W||^2 / s`` and its
        weight gradient ``alpha / s * W``, s the batch's length m or, with sample
        weights, their sum (scikit-learn's normalization).
    buffers : arguments.Buffers
        Scratch ([Buffers][fastmlp.engine.arguments.Buffers]).
    nonzeros : listing.Listing
        Scratch for the rows' non-zeros, empty unless the first layer runs over
        them ([fastmlp.engine.sparse_first_layer][]).

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
    return fpmode.flushed(_steps_from_start, (source, start, stop, batch_size, model, t, alpha,
                                              buffers, nonzeros))


@njit(cache=True, error_model="numpy")
def _steps_from_start(source, start, stop, batch_size, model, t, alpha, buffers, nonzeros):
    """[minibatch_steps][fastmlp.engine.steps.minibatch_steps] in the caller's
    floating-point mode: the weights' sum of squares, then the steps."""
    params = model.params
    squared = squared_weights(params, model.layout.n_weights) if alpha != 0.0 else 0.0
    total, t, _ = _minibatch_steps(source, start, stop, batch_size, model, alpha, buffers,
                                   nonzeros, Progress(0.0, t, squared))
    return total, t


@njit(cache=True, error_model="numpy")
def _minibatch_steps(source, start, stop, batch_size, model, alpha, buffers, nonzeros, progress):
    """The steps of [minibatch_steps][fastmlp.engine.steps.minibatch_steps], in the caller's
    floating-point mode, from ``progress`` ([Progress][fastmlp.engine.steps.Progress]):
    the batches' losses are added to its total one by one, and its ``squared`` is
    the weights' sum of squares (with ``alpha``), so a call cut in blocks sums the
    same way and sweeps the weights no extra time; returns (total, t, squared at
    the end)."""
    y, rows = source.y, source.rows
    params, layout, solver = model.params, model.layout, model.solver
    total, t, squared = progress
    f = params.dtype.type
    for b_start in range(start, stop, batch_size):
        b_stop = min(b_start + batch_size, stop)
        m = b_stop - b_start
        weight = weight_sum(y, rows, b_start, b_stop)
        if weight == 0.0:  # a batch of zero weights has no mean to follow: no step
            continue
        ok, loss = forward_backward(source, b_start, b_stop, model, f(1.0 / weight), buffers,
                                    batch_size, nonzeros)
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
        updates.update(params, buffers.grads, solver, t, f(alpha / weight), layout.n_weights, 0,
                       params.shape[0])
        if alpha != 0.0:
            squared = squared_weights(params, layout.n_weights)
    return total, t, squared


@njit(cache=True, error_model="numpy", nogil=True)
def pipelined_minibatch_steps(
    source, start, stop, batch_size, model, t, alpha, buffers, nonzeros, slots,
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
    stay on one thread meanwhile, as for split batches. ``source.in_place_X`` is not
    read (the rows are always gathered). A row found not finite stops the call at
    the end of the block before it (result inf).
    """
    return fpmode.flushed(_pipelined_batches, (source, start, stop, batch_size, model, t, alpha,
                                               buffers, nonzeros, slots))


@njit(cache=True, error_model="numpy", parallel=True)
def _pipelined_batches(source, start, stop, batch_size, model, t, alpha, buffers, nonzeros,
                       slots):
    """The blocks of [pipelined_minibatch_steps][fastmlp.engine.steps.pipelined_minibatch_steps]."""
    # the parallel loop's named tuples, one level deep and built in its sight
    X = arguments.rebuilt(source.X)
    y = arguments.rebuilt(source.y)
    rows, scale, check = source.rows, source.scale, source.check
    params = model.params
    layout = arguments.rebuilt(model.layout)
    kinds = arguments.rebuilt(model.kinds)
    solver = arguments.rebuilt(model.solver)
    d = X.shape[1]
    block = slots.shape[1] // d
    losses = np.zeros(2)
    steps_after = np.zeros(1, dtype=np.int64)
    squares = np.zeros(1)
    if not _gather_block(X, rows, start, min(start + block, stop), scale, slots[0], check):
        return math.inf, t
    squares[0] = squared_weights(params, layout.n_weights) if alpha != 0.0 else 0.0
    total = 0.0
    slot = 0
    for b_start in range(start, stop, block):
        b_stop = min(b_start + block, stop)
        for role in prange(2):
            saved = fpmode.flush_subnormals()
            if role == 0:
                n = b_stop - b_start
                block_source = arguments.Source(X, slots[slot][:n * d].reshape((n, d)), y,
                                                rows[b_start:b_stop], scale, False)
                losses[0], steps_after[0], squares[0] = _minibatch_steps(
                    block_source, 0, n, batch_size, arguments.Model(params, layout, kinds, solver),
                    alpha, buffers, nonzeros, Progress(total, t, squares[0]),
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
def forward_backward(source, lo, hi, model, mean, scratch, ahead, nonzeros):
    """Gradient of the rows ``rows[lo:hi]``' share of a batch's mean loss, in
    ``scratch.grads``.

    Gathers the rows (or, with ``in_place_X``, reads them in place), runs the
    forward products (BLAS) with fused bias + activation passes, the fused
    output layer and the backward products with fused hidden deltas. ``mean``
    is 1 / (the whole batch's length or sum of weights), so the gradients of a
    batch's shards add up to the batch's. ``source.y`` is a
    [kernels.Targets][fastmlp.engine.kernels.Targets], read through ``rows``.
    ``scratch`` is a [Buffers][fastmlp.engine.arguments.Buffers] of 1-D arrays
    (one shard's, for split batches). Gathered rows are followed by a
    prefetch of the rows ``ahead`` places further on in ``rows`` (the next
    batch's share, [fastmlp.engine.prefetch][fastmlp.engine.prefetch]).

    With a non-empty ``nonzeros`` ([listing.Listing][fastmlp.engine.sparse_first_layer.Listing]),
    the rows are listed instead of gathered, and the first layer's two products
    run over their non-zeros only ([fastmlp.engine.sparse_first_layer][]).

    Returns (False, 0.0) if ``check`` finds NaN or infinity in the rows, else
    (True, the rows' summed data loss in float64).
    """
    X, in_place_X, y, rows, scale, check = source
    params, layout, kinds = model.params, model.layout, model.kinds
    inputs, units, deltas, grads = scratch
    n_layers = layout.shapes.shape[0]
    last = n_layers - 1
    d = X.shape[1]
    m = hi - lo
    listed = nonzeros.index.shape[0] > 0 and not blocks.by_blocks(nonzeros)
    if listed:
        A = inputs[:0].reshape((0, d))  # the rows are not gathered
        if not csr.list_rows(X, rows, lo, hi, scale, nonzeros, check):
            return False, 0.0
        csr.rows_ahead(X, rows, lo + ahead, hi + ahead)
    elif in_place_X.shape[0] > 0:
        A = in_place_X[lo:hi]
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
        W, b = arguments.layer(params, layout, layer)
        Z = arguments.block(units, layout, layer, m)
        if layer == 0:
            _first_layer_forward(A, nonzeros, params, layout, Z)
        else:
            np.dot(prev, W, Z)
        if layer < last:
            kernels.bias_activation(Z, b, kinds.hidden)
        prev = Z
    _, gb = arguments.layer(grads, layout, last)
    loss = kernels.output_delta(
        prev, arguments.layer(params, layout, last)[1], y, rows[lo:hi], kinds.output,
        kinds.loss, mean, arguments.block(deltas, layout, last, m), gb,
    )
    # backward
    for layer in range(last, -1, -1):
        delta = arguments.block(deltas, layout, layer, m)
        below = A if layer == 0 else arguments.block(units, layout, layer - 1, m)
        gW, _ = arguments.layer(grads, layout, layer)
        if layer == 0:
            _first_layer_gradient(A, nonzeros, delta, grads, layout)
        else:
            np.dot(below.T, delta, gW)
        if layer > 0:
            W, _ = arguments.layer(params, layout, layer)
            below_delta = arguments.block(deltas, layout, layer - 1, m)
            np.dot(delta, W.T, below_delta)
            _, gb = arguments.layer(grads, layout, layer - 1)
            kernels.hidden_delta(below_delta, below, kinds.hidden, gb)
    return True, loss


@njit(cache=True, error_model="numpy", inline="always")
def _first_layer_forward(A, nonzeros, params, layout, Z):
    """Z = A @ W1: by blocks of rows ([fastmlp.engine.narrow_first_layer][]), over
    the rows' listed non-zeros ([fastmlp.engine.sparse_first_layer][]), or in BLAS."""
    W1 = arguments.flat_layer(params, layout, 0)[0]
    if blocks.by_blocks(nonzeros):
        blocks.forward(A, nonzeros, W1, Z)
    elif nonzeros.index.shape[0] > 0:
        listing.forward(nonzeros, Z.shape[0], W1, Z.shape[1], Z)
    else:
        np.dot(A, arguments.layer(params, layout, 0)[0], Z)


@njit(cache=True, error_model="numpy", inline="always")
def _first_layer_gradient(A, nonzeros, delta, grads, layout):
    """W1's gradient A.T @ delta, into ``grads``, the way ``_first_layer_forward`` ran."""
    gW1 = arguments.flat_layer(grads, layout, 0)[0]
    if blocks.by_blocks(nonzeros):
        blocks.weight_gradient(A, nonzeros, delta, gW1)
    elif nonzeros.index.shape[0] > 0:
        listing.weight_gradient(nonzeros, delta.shape[0], delta, gW1)
    else:
        np.dot(A.T, delta, arguments.layer(grads, layout, 0)[0])
