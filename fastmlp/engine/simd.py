"""Explicit vector loops for the first layer over a sample's non-zero inputs.

The batch-1 path uses the 16-unit loops below, bit for bit the scalar
arithmetic; mini-batches ([fastmlp.engine.sparse_first_layer][]) use the wide
ones at the end of the module, which hold 8 registers of 512 bits of units
and use fused multiply-adds.

Listing a sample's non-zero inputs uses AVX-512's compress-store (through
LLVM's ``llvm.masked.compressstore``) where the processor has it
(``COMPRESS_STORE``): 8 inputs at a time are
compared with 0, converted and scaled, and the non-zero ones written out
packed, with no branch and no table; 626 -> 302 ns per MNIST row for uint8
input, 911 -> 606 ns for float32 (a one-core microbenchmark of the loop alone,
2026-12-04). Elsewhere LLVM would expand it
into a branch per input, so the table-driven loop of
[sparse_first_layer][fastmlp.engine.sparse_first_layer] is kept for those processors.

Numba runs LLVM with its SLP vectorizer off, so a loop over exactly 16
hidden units is unrolled into scalar code, and a loop over a width known only
at run time is vectorized with its accumulator kept in memory (one load and
store per term). These two loops over a sample's non-zero inputs are
therefore written directly as LLVM vector code: 16 units at a time as two
vectors of ``LANES``, the forward product's sums held in
registers across the whole list. Each lane does exactly the scalar loop's
arithmetic in its order (a multiply, then an add or subtract; no fused
multiply-add), so the results are bit for bit those of the loops they
replace. A one-core microbenchmark of each loop alone, on an MNIST row of 200
non-zeros (2026-12-04, float64):
forward 560 -> 208 ns, update 575 -> 308 ns; float32 543 -> 118 and 543 -> 222 ns.

Arguments: ``W`` is a layer's flat (n_in * n_out,) weights, ``index`` and
``value`` a sample's listed non-zero inputs (int64 columns and their F values,
``n`` of them), ``j0`` the first of the 16 units, with ``j0 + 16 <= n_out``.
Every float array and scalar has the layer's dtype F.
"""

from llvmlite import binding, ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

LANES = 8  # a vector of 8: 512 bits of float64, 256 of float32; two per 16 units
BLOCK = 2 * LANES
# Numba compiles for this processor, and its cache is keyed by the processor too.
COMPRESS_STORE = "+avx512f" in binding.get_host_cpu_features().flatten().split(",")
# Flag added to compress_nonzero's count when a value is not finite.
NON_FINITE = 1 << 32


def _vector_at(builder, array, index, vector_type):
    """A pointer to ``array.data[index]`` typed as a pointer to ``vector_type``."""
    element = builder.gep(array.data, [index], inbounds=True)
    return builder.bitcast(element, vector_type.as_pointer())


def _broadcast(builder, scalar, vector_type):
    """``scalar`` in every lane of a ``vector_type``."""
    undefined = ir.Constant(vector_type, ir.Undefined)
    first = builder.insert_element(undefined, scalar, ir.IntType(32)(0))
    lanes = ir.Constant(ir.VectorType(ir.IntType(32), vector_type.count), [0] * vector_type.count)
    return builder.shuffle_vector(first, undefined, lanes)


def _arrays(context, builder, signature, args, positions):
    return [context.make_array(signature.args[i])(context, builder, args[i]) for i in positions]


def _layer_float(context, signature):
    """(vector type of LANES floats of the weights' dtype, its alignment in bytes)."""
    element = context.get_value_type(signature.args[0].dtype)
    return ir.VectorType(element, LANES), context.get_abi_sizeof(element)


def _valid(W, index, value, other):
    """1-D C-contiguous arrays (the loops index raw pointers), integer indices,
    one float dtype."""
    arrays = (W, index, value, other)
    return (all(isinstance(a, types.Array) and a.ndim == 1 and a.layout == "C"
                for a in arrays)
            and isinstance(index.dtype, types.Integer) and index.dtype.signed
            and W.dtype == value.dtype == other.dtype)


@intrinsic
def sparse_forward_block(typingctx, W, n_out, index, value, n, a, j0):
    """``a[j0:j0 + 16] += value[k] * W[index[k] * n_out + j0:...]``, summed over
    ``k < n`` in order, one lane per unit."""
    if not _valid(W, index, value, a):
        return None

    def codegen(context, builder, signature, args):
        weights, columns, values, units = _arrays(context, builder, signature, args, (0, 2, 3, 5))
        width, count, first = args[1], args[4], args[6]
        vector, align = _layer_float(context, signature)
        lanes = ir.Constant(width.type, LANES)
        low_at = _vector_at(builder, units, first, vector)
        high_at = _vector_at(builder, units, builder.add(first, lanes), vector)
        low = cgutils.alloca_once_value(builder, builder.load(low_at, align=align))
        high = cgutils.alloca_once_value(builder, builder.load(high_at, align=align))
        with cgutils.for_range(builder, count) as loop:
            column = builder.load(builder.gep(columns.data, [loop.index], inbounds=True))
            x = _broadcast(builder, builder.load(
                builder.gep(values.data, [loop.index], inbounds=True)), vector)
            row = builder.add(builder.mul(column, width), first)
            w_low = builder.load(_vector_at(builder, weights, row, vector), align=align)
            w_high = builder.load(
                _vector_at(builder, weights, builder.add(row, lanes), vector), align=align)
            builder.store(builder.fadd(builder.load(low), builder.fmul(x, w_low)), low)
            builder.store(builder.fadd(builder.load(high), builder.fmul(x, w_high)), high)
        builder.store(builder.load(low), low_at, align=align)
        builder.store(builder.load(high), high_at, align=align)
        return context.get_dummy_value()

    return types.void(W, n_out, index, value, n, a, j0), codegen


@intrinsic
def sparse_update_block(typingctx, W, n_out, index, value, n, d, j0, lr):
    """``W[index[k] * n_out + j0:...] -= (lr * value[k]) * d[j0:j0 + 16]`` for
    each ``k < n``: the rank-one update of the rows of the listed inputs."""
    if not _valid(W, index, value, d):
        return None

    def codegen(context, builder, signature, args):
        weights, columns, values, deltas = _arrays(context, builder, signature, args, (0, 2, 3, 5))
        width, count, first, rate = args[1], args[4], args[6], args[7]
        vector, align = _layer_float(context, signature)
        lanes = ir.Constant(width.type, LANES)
        d_low = builder.load(_vector_at(builder, deltas, first, vector), align=align)
        d_high = builder.load(
            _vector_at(builder, deltas, builder.add(first, lanes), vector), align=align)
        with cgutils.for_range(builder, count) as loop:
            column = builder.load(builder.gep(columns.data, [loop.index], inbounds=True))
            step = _broadcast(builder, builder.fmul(rate, builder.load(
                builder.gep(values.data, [loop.index], inbounds=True))), vector)
            row = builder.add(builder.mul(column, width), first)
            for at, d_part in ((row, d_low), (builder.add(row, lanes), d_high)):
                pointer = _vector_at(builder, weights, at, vector)
                old = builder.load(pointer, align=align)
                builder.store(builder.fsub(old, builder.fmul(step, d_part)), pointer, align=align)
        return context.get_dummy_value()

    return types.void(W, n_out, index, value, n, d, j0, lr), codegen


def _compress_into(builder, array, at, vector, mask):
    """Store the lanes of ``vector`` that ``mask`` selects, packed, at ``array[at:]``.

    Compressed in a register, then stored whole: the lanes past the selected ones
    land in slots the next block overwrites (the callers' buffers have room for a
    row's length past ``at``). AVX-512's compress with a memory operand, what
    ``llvm.masked.compressstore`` becomes, is microcoded on some processors
    (AMD Zen 4), where it made listing a row several times slower."""
    compress = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(vector.type, [vector.type, vector.type, mask.type]),
        f"llvm.x86.avx512.mask.compress.{_vector_suffix(vector.type)}",
    )
    packed = builder.call(compress, [vector, ir.Constant(vector.type, ir.Undefined), mask])
    element = builder.gep(array.data, [at], inbounds=True)
    builder.store(packed, builder.bitcast(element, vector.type.as_pointer()), align=1)


def _vector_suffix(vector_type):
    """LLVM's overload suffix of a vector type, e.g. v8f32 or v8i64."""
    element = vector_type.element
    kind = "i" if isinstance(element, ir.IntType) else "f"
    bits = element.width if kind == "i" else (64 if isinstance(element, ir.DoubleType) else 32)
    return f"v{vector_type.count}{kind}{bits}"


@intrinsic
def compress_nonzero(typingctx, x, start, scale, index, value, count):
    """List the non-zero entries of ``x[start:start + LANES]``: their columns
    into ``index[count:]`` and ``x * scale`` (in F) into ``value[count:]``,
    packed. ``x`` is a C-contiguous row (uint8, float32 or float64); NaN
    counts as non-zero and -0.0 as zero, as ``x != 0`` has it.

    Returns how many were listed, plus ``NON_FINITE``
    if any of the 8 values is NaN or infinite in F (so the finiteness check
    of float input costs no pass of its own)."""
    if not (isinstance(x, types.Array) and x.ndim == 1 and x.layout == "C"
            and isinstance(value, types.Array) and isinstance(index, types.Array)
            and isinstance(x.dtype, (types.Integer, types.Float))):
        return None

    def codegen(context, builder, signature, args):
        row, columns, values = _arrays(context, builder, signature, args, (0, 3, 4))
        first, factor, count_so_far = args[1], args[2], args[5]
        x_type, f_type = signature.args[0].dtype, signature.args[4].dtype
        x_element = context.get_value_type(x_type)
        f_element = context.get_value_type(f_type)
        i64 = ir.IntType(64)
        inputs = builder.load(
            _vector_at(builder, row, first, ir.VectorType(x_element, LANES)),
            align=context.get_abi_sizeof(x_element),
        )
        f_vector = ir.VectorType(f_element, LANES)
        if isinstance(x_type, types.Integer):
            nonzero = builder.icmp_unsigned("!=", inputs, ir.Constant(inputs.type, [0] * LANES))
            as_f = (builder.sitofp if x_type.signed else builder.uitofp)(inputs, f_vector)
        else:
            nonzero = builder.fcmp_unordered("!=", inputs, ir.Constant(inputs.type, [0.0] * LANES))
            if x_type.bitwidth < f_type.bitwidth:
                as_f = builder.fpext(inputs, f_vector)
            elif x_type.bitwidth > f_type.bitwidth:
                as_f = builder.fptrunc(inputs, f_vector)
            else:
                as_f = inputs
        scaled = builder.fmul(as_f, _broadcast(builder, factor, f_vector))
        i64_vector = ir.VectorType(i64, LANES)
        positions = builder.add(_broadcast(builder, first, i64_vector),
                                ir.Constant(i64_vector, list(range(LANES))))
        for data, vector in ((values, scaled), (columns, positions)):
            _compress_into(builder, data, count_so_far, vector, nonzero)
        bits = builder.bitcast(nonzero, ir.IntType(LANES))
        popcount = builder.module.declare_intrinsic("llvm.ctpop", [bits.type])
        listed = builder.zext(builder.call(popcount, [bits]), i64)
        if isinstance(x_type, types.Integer):
            return listed
        # x - x is 0 exactly when x is finite
        difference = builder.fsub(scaled, scaled)
        bad = builder.fcmp_unordered("!=", difference, ir.Constant(f_vector, [0.0] * LANES))
        any_bad = builder.icmp_unsigned(
            "!=", builder.bitcast(bad, ir.IntType(LANES)), ir.Constant(ir.IntType(LANES), 0))
        return builder.or_(listed, builder.shl(builder.zext(any_bad, i64), i64(32)))

    return types.int64(x, start, scale, index, value, count), codegen


# The mini-batch path's first layer over a batch's non-zero inputs: a block of
# WIDE_VECTORS registers of 512 bits (128 float32 or 64 float64 units) held across
# a whole list, with fused multiply-adds (mini-batches need no bit-exact order).
WIDE_BYTES = 64
WIDE_VECTORS = 8
# Independent registers of sums in flight: enough to cover a multiply-add's latency.
ACCUMULATORS = 8


@njit(cache=True, inline="always")
def wide_units(dtype_bytes: int, vectors: int = WIDE_VECTORS) -> int:
    """Units in a block of ``vectors`` 512-bit registers of floats of ``dtype_bytes``."""
    return vectors * WIDE_BYTES // dtype_bytes


def _wide_vector(context, signature, position):
    element = context.get_value_type(signature.args[position].dtype)
    size = context.get_abi_sizeof(element)
    return ir.VectorType(element, WIDE_BYTES // size), size


def _fma(builder, vector, size):
    """LLVM's fused multiply-add on vectors of floats of ``size`` bytes."""
    return cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(vector, [vector] * 3),
        f"llvm.fma.v{vector.count}f{8 * size}",
    )


def _as_index(builder, value, like):
    """An integer loaded from a (signed) index array, widened to the type of ``like``."""
    if value.type.width < like.type.width:
        return builder.sext(value, like.type)
    return value


def _add_scaled_rows(builder, terms, lo, hi, width, first, vector, align, sums):
    """For ``lo <= k < hi``: ``sums[v] += values[k] * source[indices[k] * width + first
    + v * lanes:...]``, ``terms`` being the arrays ``(source, indices, values)``, one
    register (an alloca of ``vector``) per block of lanes, with fused multiply-adds.

    A fused multiply-add waits for the one before into the same register, so a
    block of few registers would run at the latency of one per term: the terms
    are dealt round-robin to ``ACCUMULATORS // len(sums)`` sets of registers,
    added together at the end."""
    sets = max(1, ACCUMULATORS // len(sums))
    zero = ir.Constant(vector, [0.0] * vector.count)
    partial = [sums] + [[cgutils.alloca_once_value(builder, zero) for _ in sums]
                        for _ in range(sets - 1)]
    step = ir.Constant(lo.type, sets)
    whole = builder.add(lo, builder.mul(builder.sdiv(builder.sub(hi, lo), step), step))
    with cgutils.for_range_slice(builder, lo, whole, step) as (k, _):
        for s, registers in enumerate(partial):
            _add_scaled_row(builder, terms, builder.add(k, ir.Constant(k.type, s)), width,
                            first, vector, align, registers)
    with cgutils.for_range_slice(builder, whole, hi, ir.Constant(lo.type, 1)) as (k, _):
        _add_scaled_row(builder, terms, k, width, first, vector, align, sums)
    for registers in partial[1:]:
        for total, more in zip(sums, registers, strict=True):
            builder.store(builder.fadd(builder.load(total), builder.load(more)), total)


def _add_scaled_row(builder, terms, k, width, first, vector, align, registers):
    """``registers[v] += values[k] * source[indices[k] * width + first + v * lanes:...]``."""
    source, indices, values = terms
    fma = _fma(builder, vector, align)
    index = _as_index(builder, builder.load(builder.gep(indices.data, [k], inbounds=True)), width)
    x = _broadcast(builder, builder.load(builder.gep(values.data, [k], inbounds=True)), vector)
    row = builder.add(builder.mul(index, width), first)
    for v, total in enumerate(registers):
        at = builder.add(row, ir.Constant(width.type, v * vector.count))
        term = builder.load(_vector_at(builder, source, at, vector), align=align)
        builder.store(builder.call(fma, [x, term, builder.load(total)]), total)


def _wide_kernel(emit):
    """An intrinsic ``kernel(S, n_out, index, value, lo, hi, out, j0)`` over a block
    of units from ``j0`` and the listed entries ``lo <= k < hi``, whose LLVM code
    ``emit(builder, arrays, (lo, hi), n_out, j0, vector, align)`` writes: ``arrays``
    are S, index, value and out, ``vector`` the type of a 512-bit register of F."""

    @intrinsic
    def kernel(typingctx, S, n_out, index, value, lo, hi, out, j0):
        if not _valid(S, index, value, out):
            return None

        def codegen(context, builder, signature, args):
            arrays = _arrays(context, builder, signature, args, (0, 2, 3, 6))
            vector, align = _wide_vector(context, signature, 0)
            emit(builder, arrays, (args[4], args[5]), args[1], args[7], vector, align)
            return context.get_dummy_value()

        return types.void(S, n_out, index, value, lo, hi, out, j0), codegen

    return kernel


def _make_sum_rows(vectors: int, accumulate: bool):
    """``out[j0:j0 + U]`` (plus itself with ``accumulate``, else 0) ``+= value[k] *
    S[index[k] * n_out + j0:...]`` summed over ``lo <= k < hi``, U = ``vectors``
    registers of units: a row of the forward product ``X @ W1`` (S = W1), or one
    input's row of the weight gradient ``X.T @ D`` (S = D, index the batch rows of
    the input's non-zeros)."""

    def emit(builder, arrays, ks, width, first, vector, align):
        source, indices, values, units = arrays
        offsets = [builder.add(first, ir.Constant(width.type, v * vector.count))
                   for v in range(vectors)]
        zero = ir.Constant(vector, [0.0] * vector.count)
        sums = [cgutils.alloca_once_value(builder, builder.load(
            _vector_at(builder, units, at, vector), align=align) if accumulate else zero)
            for at in offsets]
        _add_scaled_rows(builder, (source, indices, values), *ks, width, first, vector, align,
                         sums)
        for at, total in zip(offsets, sums, strict=True):
            builder.store(builder.load(total), _vector_at(builder, units, at, vector),
                          align=align)

    return _wide_kernel(emit)


def _make_rows_gradient(vectors: int):
    """``G[index[k] * n_out + j0:...] += value[k] * d[j0:j0 + U]`` for each ``lo <= k <
    hi``, U = ``vectors`` registers of units, called as ``kernel(G, n_out, index,
    value, lo, hi, d, j0)``: one row's share of the weight gradient ``X.T @ D``,
    its deltas ``d`` held in registers."""

    def emit(builder, arrays, ks, width, first, vector, align):
        grads, columns, values, deltas = arrays
        fma = _fma(builder, vector, align)
        offsets = [ir.Constant(width.type, v * vector.count) for v in range(vectors)]
        row_deltas = [builder.load(_vector_at(builder, deltas, builder.add(first, at),
                                              vector), align=align) for at in offsets]
        step = ir.Constant(ks[0].type, 1)
        with cgutils.for_range_slice(builder, *ks, step) as (k, _):
            index = _as_index(builder, builder.load(
                builder.gep(columns.data, [k], inbounds=True)), width)
            x = _broadcast(builder, builder.load(
                builder.gep(values.data, [k], inbounds=True)), vector)
            row = builder.add(builder.mul(index, width), first)
            for at, delta in zip(offsets, row_deltas, strict=True):
                pointer = _vector_at(builder, grads, builder.add(row, at), vector)
                total = builder.load(pointer, align=align)
                builder.store(builder.call(fma, [x, delta, total]), pointer, align=align)

    return _wide_kernel(emit)


rows_forward_wide = _make_sum_rows(WIDE_VECTORS, accumulate=True)
rows_forward_four = _make_sum_rows(4, accumulate=True)
rows_forward_two = _make_sum_rows(2, accumulate=True)
rows_forward_one = _make_sum_rows(1, accumulate=True)
column_gradient_wide = _make_sum_rows(WIDE_VECTORS, accumulate=False)
column_gradient_four = _make_sum_rows(4, accumulate=False)
column_gradient_two = _make_sum_rows(2, accumulate=False)
column_gradient_one = _make_sum_rows(1, accumulate=False)
rows_gradient_four = _make_rows_gradient(4)
rows_gradient_two = _make_rows_gradient(2)
rows_gradient_one = _make_rows_gradient(1)
