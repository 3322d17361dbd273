"""Probe: the first layer's two products as tiled Numba loops, against BLAS.

    python benchmarks/first_layer_probe.py

Engine v2 (docs/design.md, "Where BLAS is used") asked whether the skinny
first-layer products of a training step, the forward ``X[rows] @ W`` and the
weight gradient ``X[rows].T @ D``, should be Numba loops that read the
shuffled rows in place (no gather), instead of a gather into a float buffer
and two BLAS calls. This script times, per batch of a 60,000-row float32 or
uint8 data set in shuffled order:

- ``gather + BLAS``: what the engine runs (the gather, then both products
  through Numba's ``np.dot``, SciPy's OpenBLAS on 2 threads);
- ``tiled, 1 thread``: 4 rows x 4 hidden units per register tile, the inner
  loop over the 784 inputs vectorized by LLVM (fastmath reassociation), rows
  read and converted in place;
- ``tiled, 2 threads``: the same loops split over ``prange`` (rows for the
  forward product, input columns for the gradient, so no reduction).

Each variant runs in a fresh process of its own. It prints microseconds per
batch (the best of 5 repeats of 100 calls) and the GFLOP/s they amount to.
It is not part of ``nox -s bench``: it measures a design choice,
not fastmlp. Keep the machine otherwise idle while it runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
from numba import njit, prange

N_ROWS, N_INPUTS = 60_000, 784
TILE = 4
VARIANTS = ("blas", "serial", "parallel")


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _forward(X, rows, lo, hi, scale, WT, Z):
    """Z[lo:hi] = scale * X[rows[lo:hi]] @ WT.T, tiles of 4 rows x 4 units held in
    16 scalar accumulators (row and unit counts multiples of 4)."""
    f = WT.dtype.type
    for i in range(lo, hi, TILE):
        x0 = X[rows[i]]
        x1 = X[rows[i + 1]]
        x2 = X[rows[i + 2]]
        x3 = X[rows[i + 3]]
        for j in range(0, WT.shape[0], TILE):
            w0 = WT[j]
            w1 = WT[j + 1]
            w2 = WT[j + 2]
            w3 = WT[j + 3]
            a00 = f(0); a01 = f(0); a02 = f(0); a03 = f(0)  # noqa: E702
            a10 = f(0); a11 = f(0); a12 = f(0); a13 = f(0)  # noqa: E702
            a20 = f(0); a21 = f(0); a22 = f(0); a23 = f(0)  # noqa: E702
            a30 = f(0); a31 = f(0); a32 = f(0); a33 = f(0)  # noqa: E702
            for k in range(WT.shape[1]):
                v0 = f(x0[k]); v1 = f(x1[k]); v2 = f(x2[k]); v3 = f(x3[k])  # noqa: E702
                u0 = w0[k]; u1 = w1[k]; u2 = w2[k]; u3 = w3[k]  # noqa: E702
                a00 += v0 * u0; a01 += v0 * u1; a02 += v0 * u2; a03 += v0 * u3  # noqa: E702
                a10 += v1 * u0; a11 += v1 * u1; a12 += v1 * u2; a13 += v1 * u3  # noqa: E702
                a20 += v2 * u0; a21 += v2 * u1; a22 += v2 * u2; a23 += v2 * u3  # noqa: E702
                a30 += v3 * u0; a31 += v3 * u1; a32 += v3 * u2; a33 += v3 * u3  # noqa: E702
            Z[i, j] = a00 * scale; Z[i, j + 1] = a01 * scale  # noqa: E702
            Z[i, j + 2] = a02 * scale; Z[i, j + 3] = a03 * scale  # noqa: E702
            Z[i + 1, j] = a10 * scale; Z[i + 1, j + 1] = a11 * scale  # noqa: E702
            Z[i + 1, j + 2] = a12 * scale; Z[i + 1, j + 3] = a13 * scale  # noqa: E702
            Z[i + 2, j] = a20 * scale; Z[i + 2, j + 1] = a21 * scale  # noqa: E702
            Z[i + 2, j + 2] = a22 * scale; Z[i + 2, j + 3] = a23 * scale  # noqa: E702
            Z[i + 3, j] = a30 * scale; Z[i + 3, j + 1] = a31 * scale  # noqa: E702
            Z[i + 3, j + 2] = a32 * scale; Z[i + 3, j + 3] = a33 * scale  # noqa: E702


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _gradient(X, rows, m, k_lo, k_hi, scale, D, GT):
    """Columns k_lo:k_hi of GT = scale * D.T @ X[rows[:m]], 4 rows x 4 units a pass
    with the 16 deltas in scalars."""
    f = GT.dtype.type
    for j in range(GT.shape[0]):
        for k in range(k_lo, k_hi):
            GT[j, k] = f(0)
    for i in range(0, m, TILE):
        x0 = X[rows[i]]
        x1 = X[rows[i + 1]]
        x2 = X[rows[i + 2]]
        x3 = X[rows[i + 3]]
        for j in range(0, GT.shape[0], TILE):
            g0 = GT[j]
            g1 = GT[j + 1]
            g2 = GT[j + 2]
            g3 = GT[j + 3]
            d00 = D[i, j] * scale; d01 = D[i, j + 1] * scale  # noqa: E702
            d02 = D[i, j + 2] * scale; d03 = D[i, j + 3] * scale  # noqa: E702
            d10 = D[i + 1, j] * scale; d11 = D[i + 1, j + 1] * scale  # noqa: E702
            d12 = D[i + 1, j + 2] * scale; d13 = D[i + 1, j + 3] * scale  # noqa: E702
            d20 = D[i + 2, j] * scale; d21 = D[i + 2, j + 1] * scale  # noqa: E702
            d22 = D[i + 2, j + 2] * scale; d23 = D[i + 2, j + 3] * scale  # noqa: E702
            d30 = D[i + 3, j] * scale; d31 = D[i + 3, j + 1] * scale  # noqa: E702
            d32 = D[i + 3, j + 2] * scale; d33 = D[i + 3, j + 3] * scale  # noqa: E702
            for k in range(k_lo, k_hi):
                v0 = f(x0[k]); v1 = f(x1[k]); v2 = f(x2[k]); v3 = f(x3[k])  # noqa: E702
                g0[k] += v0 * d00 + v1 * d10 + v2 * d20 + v3 * d30
                g1[k] += v0 * d01 + v1 * d11 + v2 * d21 + v3 * d31
                g2[k] += v0 * d02 + v1 * d12 + v2 * d22 + v3 * d32
                g3[k] += v0 * d03 + v1 * d13 + v2 * d23 + v3 * d33


@njit(cache=True, error_model="numpy")
def tiled_serial(X, rows, m, scale, WT, Z, D, GT):
    _forward(X, rows, 0, m, scale, WT, Z)
    _gradient(X, rows, m, 0, WT.shape[1], scale, D, GT)


@njit(cache=True, error_model="numpy", parallel=True)
def tiled_parallel(X, rows, m, scale, WT, Z, D, GT):
    half_rows = m // (2 * TILE) * TILE
    for part in prange(2):
        lo, hi = (0, half_rows) if part == 0 else (half_rows, m)
        _forward(X, rows, lo, hi, scale, WT, Z)
    half_cols = WT.shape[1] // 2
    for part in prange(2):
        lo, hi = (0, half_cols) if part == 0 else (half_cols, WT.shape[1])
        _gradient(X, rows, m, lo, hi, scale, D, GT)


@njit(cache=True, error_model="numpy")
def gather_blas(X, rows, m, scale, W, Z, D, G, A):
    for i in range(m):
        src = X[rows[i]]
        dst = A[i]
        for k in range(src.shape[0]):
            dst[k] = src[k] * scale
    np.dot(A, W, Z)
    np.dot(A.T, D, G)


def best_microseconds(fn, *args, calls: int = 100, repeats: int = 5) -> float:
    fn(*args)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn(*args)
        best = min(best, (time.perf_counter() - start) / calls)
    return best * 1e6


CONFIGS = [(i, h, m) for i in ("float32", "uint8") for h in (16, 128) for m in (32, 128, 1024)]


def time_variant(variant: str) -> list[float]:
    """Microseconds per batch of one variant on every configuration, timed
    before any check (the check's NumPy products would wake a second BLAS pool)."""
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(N_ROWS, N_INPUTS), dtype=np.uint8)
    timings = []
    for input_type, hidden, m in CONFIGS:
        X = pixels if input_type == "uint8" else pixels.astype(np.float32) / np.float32(255)
        scale = np.float32(1 / 255 if input_type == "uint8" else 1)
        W = rng.standard_normal((N_INPUTS, hidden)).astype(np.float32)
        rows = rng.permutation(N_ROWS)[:m].astype(np.int64)
        D = rng.standard_normal((m, hidden)).astype(np.float32)
        Z = np.empty((m, hidden), np.float32)
        if variant == "blas":
            G = np.empty((N_INPUTS, hidden), np.float32)
            args = (X, rows, m, scale, W, Z, D, G, np.empty((m, N_INPUTS), np.float32))
            timings.append(best_microseconds(gather_blas, *args))
        else:
            G = np.empty((hidden, N_INPUTS), np.float32)
            kernel = tiled_serial if variant == "serial" else tiled_parallel
            args = (X, rows, m, scale, np.ascontiguousarray(W.T), Z, D, G)
            timings.append(best_microseconds(kernel, *args))
            G = G.T
        A = X[rows].astype(np.float32) * scale
        np.testing.assert_allclose(Z, A @ W, rtol=1e-3, atol=1e-3)
        np.testing.assert_allclose(G, A.T @ D, rtol=1e-3, atol=1e-3)
    return timings


def main() -> None:
    """Each variant in a fresh process of its own, so no thread pool of one
    (OpenBLAS's, Numba's) is awake while another is timed."""
    columns = []
    for variant in VARIANTS:
        output = subprocess.run(
            [sys.executable, __file__, variant], check=True, capture_output=True, text=True
        ).stdout
        columns.append(json.loads(output.splitlines()[-1]))
    print("input    hidden batch | gather + BLAS | tiled, 1 thread | tiled, 2 threads")
    print("(each cell: microseconds per batch, GFLOP/s)")
    for row, (input_type, hidden, m) in enumerate(CONFIGS):
        flop = 2 * 2 * m * N_INPUTS * hidden
        cells = " | ".join(f"{c[row]:8.1f} {flop / c[row] / 1e3:5.1f}" for c in columns)
        print(f"{input_type:8s} {hidden:6d} {m:5d} | {cells}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(json.dumps(time_variant(sys.argv[1])))
    else:
        main()
