"""The first layer of a mini-batch, eight batch rows at a time.

A first layer of up to a few hundred units is only a few 512-bit registers
wide (16 float32 or 8 float64 units each). BLAS runs its two products,
``X @ W1`` and ``X.T @ D``, well under the processor's multiply-add peak on
such skinny shapes, and the listing by single rows of
[fastmlp.engine.sparse_first_layer][] gives a narrow layer too little work per
listed input to pay. Here a batch is cut into blocks of ``ROWS`` rows, and
each block's products run over the columns where any of its rows is non-zero
(listed by AVX-512 compares and compress, as in [fastmlp.engine.simd][]),
one register of units at a time:

- forward: ``ROWS`` registers of sums, one per row; each listed column loads
  its row of W1 once and adds it, scaled by the block's ``ROWS`` inputs, into
  all of them;
- gradient: the block's ``ROWS`` rows of D sit in registers; each listed
  column's row of W1's gradient gets their sum, scaled by the block's inputs,
  in one load and one store.

On MNIST about half of a block's 784 columns are listed, against a fifth of
a single row's, but the work per listed column is ``ROWS`` times larger and
runs at the multiply-add peak; on dense input every column is listed and the
products still beat BLAS. Sums in another order than BLAS's, with fused
multiply-adds: the results differ from the dense ones by rounding only.

F is the network's float dtype. ``A`` is the batch's gathered (m, d) rows
(C-contiguous F); a block's listed columns go to ``cols[b * d:]`` (int64) and
their count to ``counts[b]``.
"""

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from fastmlp.engine import simd
from fastmlp.engine.sparse_first_layer import Listing

ROWS = 8  # rows in flight: 8 registers of sums hide a multiply-add's latency
# Widest first layer run here, in 512-bit registers of units: 256 float32 or 128
# float64 units, the widest measured faster than the other ways (docs/design.md,
# "The first layer by blocks of rows").
MOST_REGISTERS = 16


@njit(cache=True, inline="always")
def units_per_register(itemsize: int) -> int:
    """Units of floats of ``itemsize`` bytes in one 512-bit register."""
    return simd.WIDE_BYTES // itemsize


def fits(width: int, itemsize: int) -> bool:
    """Whether a first layer of ``width`` units of floats of ``itemsize`` bytes
    runs here: whole registers of units, at most ``MOST_REGISTERS``, on a
    processor with AVX-512 (its 32 registers hold the blocks' sums)."""
    lanes = units_per_register(itemsize)
    return (simd.COMPRESS_STORE and width % lanes == 0
            and 0 < width // lanes <= MOST_REGISTERS)


def allocate(batch_rows: int, d: int, dtype: np.dtype, shards: int = 0) -> Listing:
    """A [Listing][fastmlp.engine.sparse_first_layer.Listing] of the blocks of
    batches of up to ``batch_rows`` rows of d inputs: ``index`` holds each
    block's listed columns (d per block), ``row_starts`` their counts, and
    ``value`` is empty, which marks a listing by blocks. With ``shards``, each
    array gets a leading axis of that many."""
    lead = (shards,) if shards else ()
    blocks = -(-batch_rows // ROWS)
    return Listing(
        np.empty(lead + (blocks * d,), np.int64), np.empty(lead + (0,), dtype),
        np.empty(lead + (blocks + 1,), np.int64), np.empty(lead + (1,), np.int64),
        np.empty(lead + (0,), np.int64), np.empty(lead + (0,), np.int64),
        np.empty(lead + (0,), dtype),
    )


@njit(cache=True, error_model="numpy", inline="always")
def by_blocks(listing) -> bool:
    """Whether ``listing`` is a listing by blocks (``allocate`` here)."""
    return listing.value.shape[0] == 0 and listing.index.shape[0] > 0


@njit(cache=True, error_model="numpy")
def forward(A, listing, W, Z):
    """Z (m, n_out) F = A @ W, W the layer's (d * n_out,) weights row after row;
    lists each block's columns into ``listing`` for the gradient after."""
    m, d = A.shape
    cols, counts = listing.index, listing.row_starts
    lanes = units_per_register(Z.itemsize)
    for b in range(-(-m // ROWS)):
        i0 = b * ROWS
        rows = min(ROWS, m - i0)
        counts[b] = list_block_columns(A, i0, rows, cols[b * d:(b + 1) * d])
        for j0 in range(0, Z.shape[1], lanes):
            block_forward(A, i0, rows, cols[b * d:], counts[b], W, Z, j0)


@njit(cache=True, error_model="numpy")
def weight_gradient(A, listing, D, gW):
    """gW (d * n_out,) F = A.T @ D, D (m, n_out) F C-contiguous, over the columns
    that ``forward`` listed for each block."""
    m, d = A.shape
    cols, counts = listing.index, listing.row_starts
    lanes = units_per_register(D.itemsize)
    gW[:] = D.dtype.type(0)
    for b in range(-(-m // ROWS)):
        i0 = b * ROWS
        for j0 in range(0, D.shape[1], lanes):
            block_gradient(A, i0, min(ROWS, m - i0), cols[b * d:], counts[b], D, gW, j0)


def _row_starts(builder, a, i0, rows):
    """Flat offsets of the block's ``ROWS`` rows of the 2-D array ``a``; rows past
    the block's ``rows`` repeat its last (finite, never stored), so every load is
    in bounds and no branch is taken per column."""
    _, d = cgutils.unpack_tuple(builder, a.shape, 2)
    last = builder.sub(builder.add(i0, rows), ir.Constant(i0.type, 1))
    starts = []
    for r in range(ROWS):
        i = builder.add(i0, ir.Constant(i0.type, r))
        inside = builder.icmp_signed("<", ir.Constant(rows.type, r), rows)
        starts.append(builder.mul(builder.select(inside, i, last), d))
    return starts, d


def _block_arrays(context, builder, signature, args):
    """The arrays (A, cols, S, T), the block's row offsets, and the vector type
    of one 512-bit register of F with its element size."""
    arrays = simd._arrays(context, builder, signature, args, (0, 3, 5, 6))
    starts, _ = _row_starts(builder, arrays[0], args[1], args[2])
    vector, size = simd._wide_vector(context, signature, 5)
    return arrays, starts, vector, size


def _input(builder, a, start, column, vector):
    """A[row, column], the row at flat offset ``start``, in every lane of ``vector``."""
    x = builder.load(builder.gep(a.data, [builder.add(start, column)], inbounds=True))
    return simd._broadcast(builder, x, vector)


@intrinsic
def list_block_columns(typingctx, A, i0, rows, cols):
    """List into ``cols`` (int64) the columns where any of the rows ``i0 <= i <
    i0 + rows`` of A is non-zero (NaN counts as non-zero), 8 at a time by
    compare and compress; returns how many."""
    if not (isinstance(A, types.Array) and A.ndim == 2 and A.layout == "C"):
        return None

    def codegen(context, builder, signature, args):
        a, c = simd._arrays(context, builder, signature, args, (0, 3))
        starts, d = _row_starts(builder, a, args[1], args[2])
        lanes = simd.LANES
        vector = ir.VectorType(context.get_value_type(signature.args[0].dtype), lanes)
        positions_type = ir.VectorType(ir.IntType(64), lanes)
        count = cgutils.alloca_once_value(builder, ir.Constant(ir.IntType(64), 0))
        whole = builder.and_(d, ir.Constant(d.type, -lanes))
        zero = ir.Constant(vector, [0.0] * lanes)
        with cgutils.for_range_slice(builder, d.type(0), whole, d.type(lanes)) as (k, _):
            listed = None
            for start in starts:
                v = builder.load(simd._vector_at(builder, a, builder.add(start, k), vector),
                                 align=context.get_abi_sizeof(vector.element))
                nonzero = builder.fcmp_unordered("!=", v, zero)
                listed = nonzero if listed is None else builder.or_(listed, nonzero)
            positions = builder.add(simd._broadcast(builder, k, positions_type),
                                    ir.Constant(positions_type, list(range(lanes))))
            so_far = builder.load(count)
            simd._compress_into(builder, c, so_far, positions, listed)
            bits = builder.bitcast(listed, ir.IntType(lanes))
            popcount = builder.module.declare_intrinsic("llvm.ctpop", [bits.type])
            builder.store(builder.add(so_far, builder.zext(builder.call(popcount, [bits]),
                                                           so_far.type)), count)
        # the last d % 8 columns are listed whatever their values
        with cgutils.for_range_slice(builder, whole, d, d.type(1)) as (k, _):
            so_far = builder.load(count)
            builder.store(k, builder.gep(c.data, [so_far], inbounds=True))
            builder.store(builder.add(so_far, so_far.type(1)), count)
        return builder.load(count)

    return types.int64(A, i0, rows, cols), codegen


@intrinsic
def block_forward(typingctx, A, i0, rows, cols, n, W, Z, j0):
    """``Z[i, j0:j0 + lanes] = sum(A[i, c] * W[c * n_out + j0:...])`` over the
    ``n`` listed columns c of ``cols``, for the block's rows ``i0 <= i < i0 +
    rows``; n_out is Z's width."""
    if not (A.dtype == W.dtype == Z.dtype and A.ndim == Z.ndim == 2 and W.ndim == 1):
        return None

    def codegen(context, builder, signature, args):
        (a, c, w, z), starts, vector, size = _block_arrays(context, builder, signature, args)
        first, rows_, count, unit = args[1], args[2], args[4], args[7]
        _, width = cgutils.unpack_tuple(builder, z.shape, 2)
        fma = simd._fma(builder, vector, size)
        zero = ir.Constant(vector, [0.0] * vector.count)
        sums = [cgutils.alloca_once_value(builder, zero) for _ in range(ROWS)]
        with cgutils.for_range(builder, count) as loop:
            column = builder.load(builder.gep(c.data, [loop.index], inbounds=True))
            weights = builder.load(simd._vector_at(
                builder, w, builder.add(builder.mul(column, width), unit), vector), align=size)
            for start, total in zip(starts, sums, strict=True):
                x = _input(builder, a, start, column, vector)
                builder.store(builder.call(fma, [x, weights, builder.load(total)]), total)
        for r, total in enumerate(sums):
            with builder.if_then(builder.icmp_signed("<", rows_.type(r), rows_)):
                row = builder.add(first, first.type(r))
                at = builder.add(builder.mul(row, width), unit)
                builder.store(builder.load(total), simd._vector_at(builder, z, at, vector),
                              align=size)
        return context.get_dummy_value()

    return types.void(A, i0, rows, cols, n, W, Z, j0), codegen


@intrinsic
def block_gradient(typingctx, A, i0, rows, cols, n, D, G, j0):
    """``G[c * n_out + j0:...] += sum(A[i, c] * D[i, j0:j0 + lanes])`` over the
    block's rows ``i0 <= i < i0 + rows``, for the ``n`` listed columns c of
    ``cols``; n_out is D's width. Each column's sum runs in two chains of
    multiply-adds, so consecutive columns overlap."""
    if not (A.dtype == D.dtype == G.dtype and A.ndim == D.ndim == 2 and G.ndim == 1):
        return None

    def codegen(context, builder, signature, args):
        (a, c, dd, g), starts, vector, size = _block_arrays(context, builder, signature, args)
        first, rows_, count, unit = args[1], args[2], args[4], args[7]
        _, width = cgutils.unpack_tuple(builder, dd.shape, 2)
        fma = simd._fma(builder, vector, size)
        zero = ir.Constant(vector, [0.0] * vector.count)
        deltas = []
        for r in range(ROWS):
            inside = builder.icmp_signed("<", rows_.type(r), rows_)
            row = builder.select(inside, builder.add(first, first.type(r)), first)
            at = builder.add(builder.mul(row, width), unit)
            delta = builder.load(simd._vector_at(builder, dd, at, vector), align=size)
            deltas.append(builder.select(inside, delta, zero))  # rows past the block add 0
        with cgutils.for_range(builder, count) as loop:
            column = builder.load(builder.gep(c.data, [loop.index], inbounds=True))
            at = simd._vector_at(builder, g, builder.add(builder.mul(column, width), unit), vector)
            chains = [builder.load(at, align=size), zero]
            for r, (start, delta) in enumerate(zip(starts, deltas, strict=True)):
                x = _input(builder, a, start, column, vector)
                chains[r % 2] = builder.call(fma, [x, delta, chains[r % 2]])
            builder.store(builder.fadd(chains[0], chains[1]), at, align=size)
        return context.get_dummy_value()

    return types.void(A, i0, rows, cols, n, D, G, j0), codegen
