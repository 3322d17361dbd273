"""Who owns the cores during training: BLAS's threads or fastmlp's.

Batches of ``SHARD_MIN_BATCH`` rows or more
are split into ``SHARDS`` shards that Numba's threads
run at once ([steps.sharded_minibatch_steps][fastmlp.steps.sharded_minibatch_steps]),
each calling BLAS on its own rows; BLAS must then stay on one thread, or its
threads and Numba's busy-wait against each other on the same cores (a
one-epoch fit ran 40x slower). Smaller batches train on one thread while a
second gathers the coming rows
([steps.pipelined_minibatch_steps][fastmlp.steps.pipelined_minibatch_steps]),
BLAS again on one thread; at batch size 1 the second thread lists the coming
samples' non-zero inputs instead
([steps.pipelined_per_sample_steps][fastmlp.steps.pipelined_per_sample_steps]).

Neither is done where Numba's threads would be unsafe or slow
([can_split][fastmlp.threads.can_split]): with its ``workqueue`` threading
layer (two fits at once from two Python threads would abort the process,
and it launches threads too slowly to pay), and in a process forked after
Numba's OpenMP threads started (GNU OpenMP aborts such a child).
"""

import functools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from numba import get_num_threads, njit, prange, threading_layer

# Fixed, not the thread count: the shards' gradients are summed in shard order, so
# a fit gives the same numbers on any number of threads.
SHARDS = 2
SHARD_MIN_BATCH = 128
SAFE_LAYERS = ("omp", "tbb")


def n_shards(batch_size: int) -> int:
    """How many shards a batch size is split into (1: not split)."""
    return SHARDS if batch_size >= SHARD_MIN_BATCH and can_split() else 1


def can_split() -> bool:
    """Whether batches may be split between Numba's threads in this process: not
    after a fork that inherited started OpenMP threads, and only with a
    thread-safe threading layer (``omp`` or ``tbb``; finding out starts it)."""
    return not _forked_with_threads and _safe_layer()


def can_pipeline() -> bool:
    """Whether a second Numba thread can prepare the coming rows (gathered, or
    their non-zeros listed at batch size 1) while the first trains:
    [can_split][fastmlp.threads.can_split], and at least 2 threads."""
    return can_split() and get_num_threads() >= 2


@njit(cache=True, parallel=True)
def _start_threads(n):
    total = 0
    for i in prange(n):
        total += i
    return total


@functools.cache
def _safe_layer() -> bool:
    _start_threads(2)
    return threading_layer() in SAFE_LAYERS


def _threads_started() -> bool:
    """Whether Numba's thread pool has been launched (unknown: assume it has)."""
    from numba.np.ufunc import parallel

    return bool(getattr(parallel, "_is_initialized", True))


_forked_with_threads = False


def _after_fork_in_child() -> None:
    global _forked_with_threads
    _forked_with_threads = _forked_with_threads or _threads_started()


os.register_at_fork(after_in_child=_after_fork_in_child)


@functools.cache
def thread_pools() -> Any:
    """The process's native thread pools (threadpoolctl), found once: a scan of the
    loaded libraries costs milliseconds. SciPy's BLAS, the one Numba's ``np.dot``
    calls, is loaded first, or the scan would not see it."""
    import scipy.linalg.cython_blas  # noqa: F401
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


_blas_lock = threading.Lock()
_blas_users = 0
_blas_limiter: Any = None


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Limit every BLAS in the process to one thread inside a ``with`` block.

    The limit is process-wide, so fits running at once in several Python
    threads share it: the first to enter sets it, the last to leave restores
    the previous counts (one fit leaving must not lift it under another)."""
    global _blas_users, _blas_limiter
    with _blas_lock:
        if _blas_users == 0:
            _blas_limiter = thread_pools().limit(limits=1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                _blas_limiter.restore_original_limits()
                _blas_limiter = None
