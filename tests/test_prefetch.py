"""Prefetching the coming rows of an epoch (fastmlp.engine.prefetch)."""

import numpy as np
from numba import njit

from fastmlp.engine import prefetch


def test_prefetch_stays_within_the_rows():
    """Asking for rows past the end of the epoch's order (the last batch's "next
    batch") reads no index beyond it: here the memory after ``rows`` holds
    indices far outside X, so a missing clip would crash the process."""

    @njit
    def ask(X, rows, start, stop):
        prefetch.rows_ahead(X, rows, start, stop)
        return True

    X = np.zeros((5, 3000), dtype=np.float32)
    rows = np.array([4, 3, 2, 1, 0], dtype=np.int64)
    padded = np.full(10**6, 2**40, dtype=np.int64)
    padded[:5] = rows
    assert ask(X, padded[:5], 3, 10**6) and ask(X, rows, 5, 9) and ask(X, rows, 0, 5)
