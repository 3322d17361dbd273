"""Subnormal floats flushed to zero while the compiled mini-batch steps run.

Weights that the data never moves (MNIST's always-blank border pixels) are
pulled towards 0 by the L2 penalty, and Adam's ``g * g`` and ``decay * w`` of
such weights underflow into the subnormal range. On x86 every operation that
produces or reads a subnormal takes a microcode assist, about a hundred times
slower: measured on 2026-12-02, a weight-decay pass over 100k float32
weights ran 25x slower with a tenth of them tiny, and the epochs of the default
preset grew about 40 % slower over six epochs. Setting the SSE control
register's flush-to-zero and denormals-are-zero bits for the duration of the
steps removes that; it changes only results below ``np.finfo(F).tiny``
(1.2e-38 in float32), and the previous mode is restored afterwards. Other
processors keep their default mode (the functions do nothing there).
"""

import platform

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

FLUSH_TO_ZERO = 0x8000
DENORMALS_ARE_ZERO = 0x0040
X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86")


def _mxcsr_call(builder, name, pointer):
    byte_pointer = ir.IntType(8).as_pointer()
    function = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer]), name
    )
    builder.call(function, [builder.bitcast(pointer, byte_pointer)])


@intrinsic
def _read_mxcsr(typingctx):
    """The SSE control and status register (LLVM's x86 stmxcsr)."""

    def codegen(context, builder, signature, args):
        slot = cgutils.alloca_once(builder, ir.IntType(32))
        _mxcsr_call(builder, "llvm.x86.sse.stmxcsr", slot)
        return builder.load(slot)

    return types.uint32(), codegen


@intrinsic
def _write_mxcsr(typingctx, value):
    """Load the integer ``value`` (its low 32 bits) into the SSE control and status
    register (x86 ldmxcsr)."""
    if not isinstance(value, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        low = context.cast(builder, args[0], value, types.uint32)
        slot = cgutils.alloca_once_value(builder, low)
        _mxcsr_call(builder, "llvm.x86.sse.ldmxcsr", slot)
        return context.get_dummy_value()

    return types.void(value), codegen


if X86:

    @njit(cache=True)
    def flush_subnormals():
        """Turn on flush-to-zero and denormals-are-zero; returns the previous mode."""
        saved = _read_mxcsr()
        _write_mxcsr(saved | np.uint32(FLUSH_TO_ZERO | DENORMALS_ARE_ZERO))
        return saved

    @njit(cache=True)
    def restore(saved):
        """Put back the mode that ``flush_subnormals`` returned."""
        _write_mxcsr(saved)

else:

    @njit(cache=True)
    def flush_subnormals():
        """No-op off x86: returns a placeholder mode."""
        return np.uint32(0)

    @njit(cache=True)
    def restore(saved):
        """No-op off x86."""



def flushed(function, args):
    """``function(*args)`` with subnormals flushed, the caller's mode restored
    afterwards: how the compiled steps' entry points, and each thread's share of
    a batch, run. Compiled callers get it inlined (the overload below), so that
    the function is called directly, never passed as a value: a function value
    would keep the caller out of Numba's cache."""
    saved = flush_subnormals()
    try:
        return function(*args)
    finally:
        restore(saved)


@overload(flushed, inline="always")
def _flushed(function, args):
    def flushed_call(function, args):
        saved = flush_subnormals()
        result = function(*args)
        restore(saved)
        return result

    return flushed_call
