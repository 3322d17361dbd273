"""Probe: the first layer's two products over each row's non-zero pixels, against BLAS.

    python benchmarks/sparse_first_layer_probe.py

MNIST images are about 80 % background, so the first layer's forward product
``X[rows] @ W`` and weight gradient ``X[rows].T @ D`` do about 5x more
multiplications dense than over each row's non-zero pixels. This script times,
per batch of shuffled MNIST uint8 rows, float32 maths:

- ``dense``: what the engine runs (gather and scale into a float buffer, then
  both products through Numba's ``np.dot``, SciPy's OpenBLAS on 2 threads);
- ``sparse``: one thread; each row's non-zero pixels listed as the batch-1
  path lists them (``sparse_first_layer.list_nonzero``), then ``Z[k] += x * W[p]`` and
  ``G[p] += x * D[k]`` per non-zero pixel ``p``, vectorized over the hidden width;
- ``sparse, lists ready``: the same products with the lists made before the
  timing, as a per-``fit`` compressed copy of the data would have them;
- ``dense, 1 BLAS thread``: ``dense`` with BLAS on one thread, as each shard of
  a split batch runs it;
- ``listed``: what the engine runs on sparse input since 2026-12-04, one
  thread: ``sparse_first_layer.list_rows``, then ``sparse_first_layer.forward`` (by rows) and
  ``sparse_first_layer.weight_gradient`` (by columns), register-blocked vector loops.

Each variant runs in a fresh process of its own and prints microseconds per
batch, the best of 7 repeats over 20,000 rows. It is not part of
``nox -s bench``: it measures a design choice, not fastmlp. Keep the machine
otherwise idle while it runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
from numba import njit

from fastmlp.engine import sparse_first_layer, threads
from fastmlp.engine.sparse_first_layer import list_nonzero

VARIANTS = ("dense", "dense, 1 BLAS thread", "sparse", "sparse, lists ready", "listed")
SHAPES = ((16, 128), (128, 64), (128, 128), (128, 1024))  # (hidden units, batch)
N_TIMED_ROWS = 20_000


@njit(cache=True, error_model="numpy")
def dense_products(X, rows, W, D, A, Z, G, repeats):
    """Z = A @ W and G = A.T @ D with A the gathered, scaled rows; all F arrays but X (uint8)."""
    scale = np.float32(1 / 255)
    for _ in range(repeats):
        for k in range(rows.shape[0]):
            row = X[rows[k]]
            for j in range(X.shape[1]):
                A[k, j] = np.float32(row[j]) * scale
        Z[:] = np.dot(A, W)
        G[:] = np.dot(A.T, D)


@njit(cache=True, error_model="numpy")
def sparse_products(X, rows, W, D, Z, G, index, value, counts, repeats, list_once):
    """The same Z and G from each row's non-zero pixels (index int64, value float32)."""
    scale = np.float32(1 / 255)
    zero = np.float32(0)
    for repeat in range(repeats):
        if repeat == 0 or not list_once:
            for k in range(rows.shape[0]):
                counts[k] = list_nonzero(X[rows[k]], scale, index[k], value[k], False)
        for k in range(rows.shape[0]):
            z = Z[k]
            z[:] = zero
            for t in range(counts[k]):
                w = W[index[k, t]]
                x = value[k, t]
                for j in range(z.shape[0]):
                    z[j] += x * w[j]
        G[:] = zero
        for k in range(rows.shape[0]):
            d = D[k]
            for t in range(counts[k]):
                g = G[index[k, t]]
                x = value[k, t]
                for j in range(d.shape[0]):
                    g[j] += x * d[j]


@njit(cache=True, error_model="numpy")
def listed_products(X, rows, W, D, Z, G, nonzeros, repeats):
    """The same Z and G through fastmlp.engine.sparse_first_layer, as the engine runs them."""
    scale = np.float32(1 / 255)
    m = rows.shape[0]
    for _ in range(repeats):
        sparse_first_layer.list_rows(X, rows, 0, m, scale, nonzeros, False)
        sparse_first_layer.forward(nonzeros, m, W.reshape(W.size), W.shape[1], Z)
        sparse_first_layer.weight_gradient(nonzeros, m, D, G.reshape(G.size))


def measure(variant: str, hidden: int, batch: int) -> dict:
    """Microseconds per batch for one variant and shape (run in a process of its own)."""
    from fastmlp import load_mnist

    (images, _), _ = load_mnist()
    X = np.ascontiguousarray(images.reshape(len(images), -1))
    rng = np.random.default_rng(0)
    rows = rng.permutation(len(X))[:batch].astype(np.int64)
    W = rng.standard_normal((X.shape[1], hidden)).astype(np.float32)
    D = rng.standard_normal((batch, hidden)).astype(np.float32)
    Z = np.empty((batch, hidden), np.float32)
    G = np.empty((X.shape[1], hidden), np.float32)
    repeats = max(1, N_TIMED_ROWS // batch)
    if variant.startswith("dense"):
        A = np.empty((batch, X.shape[1]), np.float32)
        one_thread = variant == "dense, 1 BLAS thread"

        def run() -> None:
            if one_thread:
                with threads.single_threaded_blas():
                    dense_products(X, rows, W, D, A, Z, G, repeats)
            else:
                dense_products(X, rows, W, D, A, Z, G, repeats)
    elif variant == "listed":
        nonzeros = sparse_first_layer.allocate(batch, X.shape[1], np.float32)

        def run() -> None:
            listed_products(X, rows, W, D, Z, G, nonzeros, repeats)
    else:
        index = np.empty((batch, X.shape[1]), np.int64)
        value = np.empty((batch, X.shape[1]), np.float32)
        counts = np.empty(batch, np.int64)

        def run() -> None:
            sparse_products(X, rows, W, D, Z, G, index, value, counts, repeats,
                            variant == "sparse, lists ready")
    run()  # compile
    best = float("inf")
    for _ in range(7):
        started = time.perf_counter()
        run()
        best = min(best, (time.perf_counter() - started) / repeats)
    expected_z = (X[rows].astype(np.float32) / np.float32(255)) @ W
    if not np.allclose(Z, expected_z, rtol=1e-4, atol=1e-3):
        raise AssertionError(f"{variant}: forward product differs from NumPy's")
    expected_g = (X[rows].astype(np.float32) / np.float32(255)).T @ D
    if not np.allclose(G, expected_g, rtol=1e-4, atol=1e-3):
        raise AssertionError(f"{variant}: weight gradient differs from NumPy's")
    return {"variant": variant, "hidden": hidden, "batch": batch, "us": best * 1e6}


def main() -> None:
    if len(sys.argv) == 2:
        print(json.dumps(measure(**json.loads(sys.argv[1]))))
        return
    print("| hidden, batch | " + " | ".join(VARIANTS) + " |")
    print("|---" * (len(VARIANTS) + 1) + "|")
    for hidden, batch in SHAPES:
        cells = []
        for variant in VARIANTS:
            spec = json.dumps({"variant": variant, "hidden": hidden, "batch": batch})
            out = subprocess.run([sys.executable, __file__, spec], check=True,
                                 capture_output=True, text=True).stdout
            cells.append(f"{json.loads(out.splitlines()[-1])['us']:.0f} us")
        print(f"| {hidden}, {batch} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
