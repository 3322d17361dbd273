"""Which way a mini-batch's first layer runs, from its width and the input.

Three ways ([steps][fastmlp.engine.steps] runs the one the workspace's
listing names):

- by blocks of rows ([fastmlp.engine.narrow_first_layer][]): first layers of
  whole 512-bit registers of units, up to ``narrow_first_layer.MOST_REGISTERS``,
  on dense X, unless its non-zeros are scattered enough for the next way;
- over each row's listed non-zeros ([fastmlp.engine.sparse_first_layer][]):
  CSR rows, and layers of two registers of units or more on sparse enough X;
- in BLAS: everything else.
"""

import math

import numpy as np

from fastmlp.engine import csr, narrow_first_layer, simd, sparse_first_layer

# Where both apply, blocks run if they list at most this many times the
# fraction of non-zeros (benchmarks/listing_gate_probe.py and whole fits,
# docs/design.md "First layer by blocks of rows").
BLOCKS_OVER_ROWS = 3.0


def lists_nonzeros(network, X: np.ndarray) -> bool:
    """Whether mini-batches of X run the first layer over their non-zero inputs
    ([fastmlp.engine.sparse_first_layer][]): a processor with AVX-512 (the loops
    hold up to 8 of its 32 vector registers; AVX2 has 16), and X sparse enough
    for the first layer's width (``sparse_first_layer.listed_density``), where
    the listed products beat BLAS (``benchmarks/listing_gate_probe.py`` measures it)."""
    if isinstance(X, csr.Rows):
        return True  # CSR rows are stored listed: the dense alternative would gather them
    width = int(network.layer_shapes[0, 1])
    return (simd.COMPRESS_STORE
            and density(X) <= sparse_first_layer.listed_density(width, network.dtype.itemsize))


def lists_by_blocks(network, X) -> bool:
    """Whether mini-batches of X run the first layer by blocks of rows
    ([fastmlp.engine.narrow_first_layer][]): a first layer of whole registers of
    units (``narrow_first_layer.fits``) on dense X, unless the listing by rows
    (``lists_nonzeros``) also applies and skips clearly more: a block lists every
    column any of its 8 rows needs, so on scattered non-zeros (19 % of each row
    makes 80 % of a block's columns) the listing by rows wins, and on clustered
    ones (MNIST: 19 % and 47 %) blocks do (``BLOCKS_OVER_ROWS``)."""
    width, itemsize = int(network.layer_shapes[0, 1]), network.dtype.itemsize
    if isinstance(X, csr.Rows) or not narrow_first_layer.fits(width, itemsize):
        return False
    if not lists_nonzeros(network, X):
        return True
    return block_density(X) <= BLOCKS_OVER_ROWS * density(X)


def row_work(network, X) -> int:
    """Parameters a training row visits: all of them, but for CSR rows only the
    first layer's weights of their stored entries (sets how a batch is cut,
    [threads.n_shards][fastmlp.engine.threads.n_shards])."""
    n_params = int(network.params.size)
    if not isinstance(X, csr.Rows):
        return n_params
    d, width = (int(v) for v in network.layer_shapes[0])
    entries_per_row = int(X.indptr[-1] - X.indptr[0]) / max(1, int(X.shape[0]))
    return max(1, int(n_params - d * width + math.ceil(entries_per_row) * width))


def block_density(X: np.ndarray, max_rows: int = 256) -> float:
    """Fraction of the columns a block of ``narrow_first_layer.ROWS`` rows lists
    (any of its rows non-zero there), estimated on evenly spaced rows, the way
    shuffled batches draw them."""
    step = max(1, X.shape[0] // max_rows)
    rows = narrow_first_layer.ROWS
    sample = X[::step]
    sample = sample[: max(rows, sample.shape[0] // rows * rows)]
    if sample.shape[0] < rows:
        return density(X, max_rows)
    return float(np.any(sample.reshape(-1, rows, X.shape[1]) != 0, axis=1).mean())


def density(X: np.ndarray, max_rows: int = 256) -> float:
    """Fraction of non-zero entries, estimated on evenly spaced rows.

    Decides whether the per-sample path skips zero inputs
    (``network.SPARSE_DENSITY``) and whether mini-batches list their non-zeros.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Any dtype.
    max_rows : int, default=256
        About this many rows are read (every ``n // max_rows``-th): enough for
        a decision between thresholds far apart, and cheap next to an epoch.

    Returns
    -------
    float
        In [0, 1]; about 0.19 for MNIST.
    """
    step = max(1, X.shape[0] // max_rows)
    sample = X[::step]
    return float(np.count_nonzero(sample)) / max(sample.size, 1)
