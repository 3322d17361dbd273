"""The vectorizable exp of fastmlp.engine.vmath against NumPy's, over the whole float range."""

import numpy as np
import pytest

from fastmlp.engine import vmath

ULP_BOUND = 2.0


def _exp(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    vmath.exp_array(x, out)
    return out


def _ulp_error(x: np.ndarray, got: np.ndarray) -> np.ndarray:
    """|got - e**x| in units of the last place of the correctly rounded result,
    for results in the normal range; the reference is computed in extended precision."""
    with np.errstate(over="ignore", under="ignore"):
        exact = np.exp(x.astype(np.longdouble))
        rounded = exact.astype(x.dtype)
    normal = np.isfinite(rounded) & (rounded >= np.finfo(x.dtype).tiny)
    error = np.abs(got[normal].astype(np.longdouble) - exact[normal])
    return error / np.spacing(rounded[normal]).astype(np.longdouble)


def test_float32_every_exponent_within_two_ulp():
    # every float32 from -104 to 89 whose low 12 mantissa bits are zero: 2**20 values
    bits = np.arange(0, 2**32, 2**12, dtype=np.uint64).astype(np.uint32)
    x = bits.view(np.float32)
    x = x[np.isfinite(x) & (x > -104) & (x < 89)]
    got = _exp(x)
    assert got.dtype == np.float32
    assert _ulp_error(x, got).max() <= ULP_BOUND


def test_float64_within_two_ulp():
    x = np.random.default_rng(0).uniform(-745, 710, 1_000_000)
    x = np.concatenate([x, np.linspace(-1, 1, 10_001)])
    assert _ulp_error(x, _exp(x)).max() <= ULP_BOUND


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_overflow_underflow_and_nan(dtype):
    info = np.finfo(dtype)
    # the largest x of the dtype whose e**x is finite
    big = np.nextafter(np.log(info.max).astype(dtype), dtype(0))
    with np.errstate(over="ignore"):
        while not np.isfinite(np.exp(big.astype(np.longdouble)).astype(dtype)):
            big = np.nextafter(big, dtype(0))
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, big, big * 1.01, -big * 1.1, -800],
                 dtype=dtype)
    got = _exp(x)
    assert got[0] == np.inf and got[1] == 0 and np.isnan(got[2])
    assert got[3] == 1 and got[4] == 1
    assert np.isfinite(got[5]) and got[5] > info.max / 2
    assert got[6] == np.inf
    assert got[8] == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_underflow_is_gradual(dtype):
    # results below the smallest normal float come out as subnormals, not 0
    tiny = np.finfo(dtype).tiny
    x = np.log(np.array([tiny / 4, tiny / 1000], dtype=np.float64)).astype(dtype)
    got = _exp(x)
    expected = np.exp(x.astype(np.longdouble)).astype(dtype)
    assert (got > 0).all() and (got < tiny).all()
    np.testing.assert_allclose(got, expected, rtol=1e-2)
