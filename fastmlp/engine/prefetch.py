"""Rows asked for ahead of use, so the shuffled gather waits less on memory.

A shuffled epoch reads the rows of X in random order, and each row's first
cache lines arrive only after a full memory latency: the float32 gather of a
batch of 32 notebook samples took about a third of its step. Each batch
therefore, once its own rows are gathered, asks the processor for the next
batch's rows (the LLVM ``prefetch`` hint, a no-op where unsupported) while
its products run. Only up to ``BUDGET_BYTES``
of rows per call: prefetching a whole batch of 1024 float32 rows (3 MB) evicted
the batch being trained and made the epoch about 10 % slower. Within a
batch's own gather, each row copied asks for the row ``GATHER_AHEAD`` places
on, so several rows' misses overlap instead of following one another.
"""

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

# An eighth of a core's 2 MiB L2 on the machines measured: room for the batch being trained.
BUDGET_BYTES = 256 * 1024
CACHE_LINE_BYTES = 64
# Rows between the one a gather copies and the one it prefetches.
GATHER_AHEAD = 4


@intrinsic
def _prefetch(typingctx, array, index):
    """Hint that ``array[index]`` (1-D) will be read soon: fetch its cache line into
    every cache level (LLVM's ``llvm.prefetch``: read, locality 3, data)."""
    if not (isinstance(array, types.Array) and array.ndim == 1
            and isinstance(index, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        pointer = cgutils.get_item_pointer(
            context, builder, array_type, view, [args[1]], wraparound=False,
            boundscheck=False,
        )
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        hint = builder.module.declare_intrinsic(
            "llvm.prefetch", [byte_pointer],
            ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]),
        )
        builder.call(hint, [builder.bitcast(pointer, byte_pointer), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(array, index), codegen


@njit(cache=True, error_model="numpy", inline="always")
def row(X, r):
    """Prefetch every cache line of the row ``X[r]``."""
    line = X[r]
    for j in range(0, line.shape[0], max(1, CACHE_LINE_BYTES // X.itemsize)):
        _prefetch(line, j)


@njit(cache=True, error_model="numpy", inline="always")
def gather_ahead(X, rows, i, stop):
    """While a gather copies the row ``X[rows[i]]``, prefetch the one ``GATHER_AHEAD``
    places further on (if before ``stop``): the copy then waits on memory for
    one row at a time no longer, but a few rows' fetches overlap."""
    if i + GATHER_AHEAD < stop:
        row(X, rows[i + GATHER_AHEAD])


@njit(cache=True, error_model="numpy", inline="always")
def rows_ahead(X, rows, start, stop):
    """Prefetch the rows ``X[rows[start:stop]]``, clipped to the end of ``rows`` and
    to ``BUDGET_BYTES`` in all."""
    row_bytes = X.shape[1] * X.itemsize
    stop = min(stop, rows.shape[0], start + max(1, BUDGET_BYTES // max(1, row_bytes)))
    for i in range(start, stop):
        row(X, rows[i])
