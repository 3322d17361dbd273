"""Elementwise maths that LLVM can vectorize inside fused Numba kernels.

Numba lowers ``np.exp`` on a scalar to a call into libm, one element at a
time, and a loop containing a call is never vectorized. The logistic,
softmax and tanh passes of training are all built on ``exp``, so this module
gives them one made of arithmetic only: Cody-Waite range reduction
``x = n ln 2 + r`` with ``|r| <= ln 2 / 2``, a polynomial for ``e**r``, and
``2**n`` assembled directly in the float's exponent bits. Every operation is
an add, multiply, compare or select, so a loop over these functions becomes
SIMD code (8 float32 lanes per instruction on the AVX-512 machines measured,
where LLVM prefers 256-bit vectors).

This is the one place that explains why fastmlp does not use NumPy's or
libm's ``exp`` in its kernels; other modules refer here.

Accuracy (``tests/test_vmath.py`` sweeps the whole float32 range): within 2
ulp of the correctly rounded result for float32, 2 ulp for float64, with
exact ``inf`` on overflow, gradual underflow through the subnormals to 0,
and NaN passed through. Arithmetic stays in the argument's dtype: float32
in, float32 maths, float32 out.
"""

import decimal
import math

import numpy as np
from numba import njit, types
from numba.extending import intrinsic, overload

# -- the exponent bits -----------------------------------------------------------------


@intrinsic
def _bits_as_float(typingctx, bits):
    """Reinterpret an int32 as float32 or an int64 as float64, as LLVM's bitcast."""
    result = {types.int32: types.float32, types.int64: types.float64}.get(bits)
    if result is None:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(result))

    return result(bits), codegen


def _int_like(x, value):
    """``value`` as the integer of x's width (int32 for float32, int64 for float64)."""
    return int(value)


@overload(_int_like)
def _int_like_overload(x, value):
    # Numba widens int32 arithmetic to int64: this cast brings the bits back to the
    # float's width, so a float32 exp keeps 8 int32 lanes per vector, not 4 int64
    if x == types.float32:
        return lambda x, value: np.int32(value)
    if x == types.float64:
        return lambda x, value: np.int64(value)
    return None


# Taylor coefficients 1/k! of e**r: with |r| <= ln 2 / 2 the first omitted term is
# below half an ulp (degree 7 for float32, 13 for float64).
_INV_FACTORIALS = [1.0 / math.factorial(k) for k in range(14)]
_LN2 = math.log(2.0)


def _split_ln2(mantissa_bits: int, n_bits: int) -> tuple[float, float]:
    """ln 2 as hi + lo, hi with its low bits cleared so that ``n * hi`` is exact
    for every ``|n| < 2**n_bits``."""
    scale = 2 ** (mantissa_bits - n_bits)
    exact = decimal.Context(prec=60).ln(decimal.Decimal(2))  # lo needs more than a double
    hi = math.floor(exact * scale) / scale
    return hi, float(exact - decimal.Decimal(hi))




def exp(x):
    """e**x, elementwise (NumPy outside Numba; the vectorizable kernel inside)."""
    return np.exp(x)


@overload(exp)
def _exp_overload(x):
    consts = {types.float32: _C32, types.float64: _C64}.get(x)
    if consts is None:
        return None

    def impl(x):
        return _exp_kernel(x, consts)

    return impl


def _constants(dtype, degree, mantissa_bits, n_bits, bias, int_type, overflow, underflow):
    """The constants of e**x for one float dtype, each cast to it (no promotion),
    and the exponent's in the integer of the same width."""
    f = np.dtype(dtype).type
    hi, lo = _split_ln2(mantissa_bits, n_bits)
    coefs = tuple(f(_INV_FACTORIALS[k]) for k in range(degree, -1, -1))  # Horner order
    return (
        coefs, f(1 / _LN2), f(hi), f(lo), f(0.5), f(overflow), f(underflow), f(np.inf),
        f(0), int_type(mantissa_bits - 1), int_type(bias),
    )


# The largest x with a finite e**x, and the smallest with a non-zero one.
# |n| <= 150 for float32 and 1075 for float64: 8 and 11 bits.
_C32 = _constants(np.float32, 7, 24, 8, 127, np.int32, 88.72283, -103.97208)
_C64 = _constants(np.float64, 13, 53, 11, 1023, np.int64, 709.782712893384, -745.1332191019412)


@njit(cache=True, error_model="numpy")
def _exp_kernel(x, consts):
    """e**x for one float scalar x, with the constants of its dtype."""
    coefs, log2e, hi, lo, half, overflow, underflow, inf, zero, shift, bias = consts
    xc = min(max(x, underflow), overflow)  # n must fit the exponent field
    n = np.floor(xc * log2e + half)
    r = (xc - n * hi) - n * lo
    p = coefs[0]
    for c in coefs[1:]:
        p = p * r + c
    # 2**n as two factors, each a normal float even when the result is subnormal,
    # so underflow is gradual
    k = _int_like(x, n)
    k1 = _int_like(x, k >> 1)
    low = _bits_as_float(_int_like(x, (k1 + bias) << shift))
    high = _bits_as_float(_int_like(x, (k - k1 + bias) << shift))
    y = p * low * high
    if x > overflow:
        y = inf
    if x < underflow:
        y = zero
    if x != x:
        y = x
    return y


@njit(cache=True, error_model="numpy")
def logistic(z, one):
    """1 / (1 + e**-z); z and one are scalars of one float dtype."""
    return one / (one + exp(-z))


@njit(cache=True, error_model="numpy")
def exp_array(x, out):
    """out[i] = e**x[i] for 1-D arrays of one float dtype; for tests and benchmarks."""
    for i in range(x.shape[0]):
        out[i] = exp(x[i])
