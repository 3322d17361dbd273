"""Probe: which way of running the first layer wins, by width and density.

    python benchmarks/listing_gate_probe.py [--dtype float32] [--rows 64]

For each first-layer width and input density it times, on one thread, one
shard's first layer (``--rows`` shuffled rows of 784 float32 inputs, the
shard size of split batches) three ways:

- ``dense``: gather and scale the rows, then the forward product and the
  weight gradient through Numba's ``np.dot`` (BLAS on one thread, as shards run it);
- ``listed``: ``sparse_first_layer.list_rows``, ``sparse_first_layer.forward`` and
  ``sparse_first_layer.weight_gradient``, the path of [fastmlp.engine.sparse_first_layer][];
- ``blocks``: gather and scale the rows, then ``narrow_first_layer.forward`` and
  ``narrow_first_layer.weight_gradient`` (blocks of 8 rows over the columns any
  of them lists, [fastmlp.engine.narrow_first_layer][]), for widths of whole
  registers (AVX-512 only).

It prints microseconds per shard (best of 7 repeats over 20,000 rows) for
dense / listed / blocks. ``first_layer.lists_by_blocks`` and
``first_layer.lists_nonzeros`` gate on what this table shows (design.md quotes
a run). It measures a design choice, not fastmlp; keep the machine otherwise
idle while it runs.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np
from numba import njit

from fastmlp.engine import narrow_first_layer, simd, sparse_first_layer, threads

WIDTHS = (16, 32, 64, 100, 128, 256, 512)
DENSITIES = (0.05, 0.19, 0.5, 1.0)
N_ROWS, D = 20_000, 784


@njit(cache=True)
def _dense(X, rows, m, W, D_, A, Z, G, repeats):
    for _ in range(repeats):
        for start in range(0, rows.shape[0] - m + 1, m):
            for i in range(m):
                A[i] = X[rows[start + i]]
            np.dot(A, W, Z)
            np.dot(A.T, D_, G)


@njit(cache=True)
def _listed(X, rows, m, W, D_, Z, G, nonzeros, repeats):
    one = W.dtype.type(1)
    flat_w, flat_g = W.ravel(), G.ravel()
    for _ in range(repeats):
        for start in range(0, rows.shape[0] - m + 1, m):
            sparse_first_layer.list_rows(X, rows, start, start + m, one, nonzeros, False)
            sparse_first_layer.forward(nonzeros, m, flat_w, W.shape[1], Z)
            sparse_first_layer.weight_gradient(nonzeros, m, D_, flat_g)


@njit(cache=True)
def _blocks(X, rows, m, W, D_, A, Z, G, listing, repeats):
    flat_w, flat_g = W.ravel(), G.ravel()
    for _ in range(repeats):
        for start in range(0, rows.shape[0] - m + 1, m):
            for i in range(m):
                A[i] = X[rows[start + i]]
            narrow_first_layer.forward(A, listing, flat_w, Z)
            narrow_first_layer.weight_gradient(A, listing, D_, flat_g)


def inputs(density: float, dtype, rng) -> np.ndarray:
    X = rng.random((N_ROWS, D)).astype(dtype)
    X[rng.random((N_ROWS, D)) >= density] = 0
    return X


def best_of(run, repeats: int = 7) -> float:
    run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def measure(width: int, density: float, dtype, m: int, rng) -> tuple[float, float, float]:
    """Microseconds per shard of m rows: (dense, listed, blocks); blocks is NaN where
    the width is not whole registers or the processor lacks AVX-512."""
    X = inputs(density, dtype, rng)
    rows = rng.permutation(N_ROWS).astype(np.int64)
    W = rng.standard_normal((D, width)).astype(dtype)
    deltas = rng.standard_normal((m, width)).astype(dtype)
    A, Z, G = np.empty((m, D), dtype), np.empty((m, width), dtype), np.empty((D, width), dtype)
    nonzeros = sparse_first_layer.allocate(m, D, np.dtype(dtype))
    shards = N_ROWS // m
    dense = best_of(lambda: _dense(X, rows, m, W, deltas, A, Z, G, 1))
    listed = best_of(lambda: _listed(X, rows, m, W, deltas, Z, G, nonzeros, 1))
    blocks = math.nan
    lanes = narrow_first_layer.units_per_register(np.dtype(dtype).itemsize)
    if simd.COMPRESS_STORE and width % lanes == 0:
        listing = narrow_first_layer.allocate(m, D, np.dtype(dtype))
        blocks = best_of(lambda: _blocks(X, rows, m, W, deltas, A, Z, G, listing, 1))
    return dense / shards * 1e6, listed / shards * 1e6, blocks / shards * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--rows", type=int, default=64, help="rows per shard (default 64)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    print(f"{args.dtype}, {args.rows} rows per shard, one thread; "
          "us per shard dense / listed / blocks")
    print("| width | " + " | ".join(f"{d:.0%} non-zero" for d in DENSITIES) + " |")
    print("|---" * (len(DENSITIES) + 1) + "|")
    with threads.single_threaded_blas():
        for width in WIDTHS:
            cells = []
            for density in DENSITIES:
                times = measure(width, density, np.dtype(args.dtype).type, args.rows, rng)
                cells.append(" / ".join("–" if math.isnan(t) else f"{t:.0f}" for t in times))
            print(f"| {width} | " + " | ".join(cells) + " |")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
