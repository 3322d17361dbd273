"""Subnormals flushed to zero while the compiled steps run, and only then
(fastmlp.engine.fpmode)."""

import warnings

import numpy as np
from numba import njit

from fastmlp import MLPClassifier
from fastmlp.engine import fpmode


def test_subnormals_flushed_during_steps_only(blobs):
    """The compiled steps flush subnormals (x86: FTZ/DAZ) and hand back the caller's
    mode: NumPy still computes gradual underflow after a fit."""
    tiny = np.float32(1e-30) * np.float32(1e-10)
    assert 0 < tiny < np.finfo(np.float32).tiny
    saved = fpmode.flush_subnormals()
    try:
        if fpmode.X86:
            assert _tiny_product(np.float32(1e-30), np.float32(1e-10)) == 0
    finally:
        fpmode.restore(saved)
    assert _tiny_product(np.float32(1e-30), np.float32(1e-10)) > 0
    X, y = blobs(n=300, n_features=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MLPClassifier(hidden_layer_sizes=(7,), max_iter=3, random_state=0, solver="adam",
                      alpha=1e-3).fit(X, y)
    assert np.float32(1e-30) * np.float32(1e-10) > 0


def _tiny_product(a, b):
    return njit(lambda a, b: a * b)(a, b)


def test_flushed_runs_a_compiled_function_flushed_then_restores_the_mode():
    """fpmode.flushed, the one wrapper of the compiled entry points: the function runs
    with subnormals flushed (x86), and the caller's mode is back afterwards."""
    from numba import njit

    from fastmlp.engine import fpmode

    product = njit(lambda a, b: a * b)
    flushed_product = njit(lambda a, b: fpmode.flushed(product, (a, b)))
    a, b = np.float32(1e-30), np.float32(1e-10)
    assert flushed_product(a, b) == (0 if fpmode.X86 else a * b)
    assert product(a, b) == a * b > 0
