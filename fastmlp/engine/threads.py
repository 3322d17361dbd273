"""Who owns the cores during training, how many there are, and how threads wait.

Four decisions, each a small function:

- **Shards follow the batch** ([n_shards][fastmlp.engine.threads.n_shards]). A batch is
  cut into a number of shards that depends only on the batch size and the
  network, never on the thread count; the shards' gradients are summed in
  shard order, so a fit gives the same weights bit for bit on 1, 2 or 64
  threads, in a worker thread, or in a forked child.
- **Threads follow the machine** ([engine_threads][fastmlp.engine.threads.engine_threads]).
  The shards run on as many threads as the process may use: its allowed cores
  (``os.sched_getaffinity``), Numba's thread count (``NUMBA_NUM_THREADS``,
  ``numba.set_num_threads``) and any limit the user put on the process's
  thread pools (``threadpoolctl.threadpool_limits``, ``OMP_NUM_THREADS``,
  ``OPENBLAS_NUM_THREADS``; Dask's workers set the latter two to 1), never
  more threads than shards.
- **BLAS stays on one thread** while a fit trains
  ([single_threaded_blas][fastmlp.engine.threads.single_threaded_blas]): the cores
  belong to the shards, and a BLAS product whose thread count varied would
  round differently.
- **Waiting threads give their core back.** GNU OpenMP, behind Numba's ``omp``
  layer, spins for about 300,000 pause instructions before a waiting thread
  sleeps: several milliseconds, longer than a time slice. When another
  process takes one of the cores, the thread left waiting for it spins
  through whole time slices. fastmlp bounds the spin
  ([bounded_spin][fastmlp.engine.threads.bounded_spin]) unless the user chose a
  wait policy.

One thread runs the shards in turn with a serial twin of the threaded steps
(no OpenMP at all), as do processes where Numba's threads are unsafe
([can_split][fastmlp.engine.threads.can_split]): its ``workqueue`` layer (two fits
from two Python threads would abort the process) and a child forked after
Numba's OpenMP threads started (GNU OpenMP aborts such a child).
"""

import functools
import math
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# Pause instructions a GNU OpenMP thread spins before it sleeps (about 25-40 ns each
# on current x86): long enough to bridge the gap between two steps' parallel
# regions, short enough that a thread whose partner lost its core soon yields.
SPIN_COUNT = 3000
WAIT_SETTINGS = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")


def bounded_spin(environ: Any = os.environ) -> bool:
    """Bound GNU OpenMP's spin before Numba's threads start, unless the user set a
    wait policy; True if the bound was set. GNU OpenMP reads its settings once,
    when it loads, so this runs as this module is imported, before any
    parallel call."""
    if any(name in environ for name in WAIT_SETTINGS) or _threads_started():
        return False
    environ["GOMP_SPINCOUNT"] = str(SPIN_COUNT)
    return True


def _threads_started() -> bool:
    """Whether Numba's thread pool has been launched (unknown: assume it has)."""
    from numba.np.ufunc import parallel

    return bool(getattr(parallel, "_is_initialized", True))


bounded_spin()

from numba import (  # noqa: E402
    get_num_threads,
    njit,
    prange,
    set_num_threads,
    set_parallel_chunksize,
    threading_layer,
)

# A shard's rows: at least MIN_SHARD_ROWS, so that summing the shards' gradients
# stays small beside computing them, and SHARD_WORK parameter-rows, so that a
# tiny network's shard outweighs the cost of handing it to a thread.
MIN_SHARD_ROWS = 64
SHARD_WORK = 1 << 19
MAX_SHARDS = 64
# The shards' gradient buffers of one fit, at most (bytes); two shards always fit.
SHARD_MEMORY = 64 << 20
# A shard's rows must cost this many passes over the parameters at least, or writing
# and summing its full-size gradient outweighs what the split saves (a wide, sparse
# first layer: 100,000 inputs of which a row holds about 100).
SUM_COST = 2
SAFE_LAYERS = ("omp", "tbb")


def rows_per_shard(n_params: int) -> int:
    """The fewest rows a shard of a network of ``n_params`` parameters holds."""
    return max(MIN_SHARD_ROWS, -(-SHARD_WORK // max(1, n_params)))


def n_shards(batch_size: int, n_params: int, itemsize: int = 4,
             work_params: int | None = None) -> int:
    """How many shards a batch is cut into (1: not cut): a power of two, so that
    2, 4, 8... threads share them evenly, of at least
    [rows_per_shard][fastmlp.engine.threads.rows_per_shard] rows, within ``MAX_SHARDS``
    and ``SHARD_MEMORY``. A function of the batch, the network and, for sparse
    input, its non-zeros per row; never of the machine.

    ``work_params`` is what a row costs, in parameters visited (all of them,
    unless the first layer runs over a sparse row's few stored entries). Each
    shard writes and sums a gradient of all ``n_params``: where a shard's rows
    cost less than ``SUM_COST`` times that, the batch is not cut."""
    work = n_params if work_params is None else max(1, work_params)
    rows = rows_per_shard(work)
    if rows * work < SUM_COST * n_params:
        return 1
    most = min(batch_size // rows, MAX_SHARDS,
               max(2, SHARD_MEMORY // max(1, n_params * itemsize)))
    return 1 << int(math.log2(most)) if most >= 2 else 1


def allowed_cores() -> int:
    """The cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def engine_threads(n_tasks: int) -> int:
    """Threads for ``n_tasks`` tasks that may run at once (shards, or 2 for a
    pipeline): the fewest of the tasks, the allowed cores, Numba's thread count
    in the calling thread and the user's limit on the thread pools; 1 where
    Numba's threads are unsafe ([can_split][fastmlp.engine.threads.can_split])."""
    if n_tasks < 2 or not can_split():
        return 1
    return max(1, min(n_tasks, allowed_cores(), get_num_threads(), pool_limit()))


def can_split() -> bool:
    """Whether Numba's threads may run in this process: not after a fork that
    inherited started OpenMP threads, and only with a thread-safe threading
    layer (``omp`` or ``tbb``; finding out starts it)."""
    return not _forked_with_threads and _safe_layer()


def can_pipeline() -> bool:
    """Whether a second thread can prepare the coming rows (gathered, or their
    non-zeros listed at batch size 1) while the first trains."""
    return engine_threads(2) >= 2


@contextmanager
def running_on(n_threads: int) -> Iterator[None]:
    """Numba's parallel loops use ``n_threads`` threads inside the block, handing
    out their iterations one at a time: a thread whose core is taken holds up one
    shard, while the others take the rest. Numba's settings are per calling
    thread, so concurrent fits each keep their own."""
    if n_threads < 2:
        yield
        return
    previous = get_num_threads()
    set_num_threads(n_threads)
    chunk = set_parallel_chunksize(1)
    try:
        yield
    finally:
        set_parallel_chunksize(chunk)
        set_num_threads(previous)


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


_forked_with_threads = False


def _after_fork_in_child() -> None:
    global _forked_with_threads, _blas_lock, _blas_users
    _forked_with_threads = _forked_with_threads or _threads_started()
    # a lock held by another thread at the fork would never be released in the child
    _blas_lock, _blas_users = threading.Lock(), 0


os.register_at_fork(after_in_child=_after_fork_in_child)


@functools.cache
def thread_pools() -> Any:
    """The process's native thread pools (threadpoolctl), found once: a scan of the
    loaded libraries costs milliseconds. SciPy's BLAS, the one Numba's ``np.dot``
    calls, and Numba's OpenMP are loaded first, or the scan would not see them."""
    import scipy.linalg.cython_blas  # noqa: F401
    from threadpoolctl import ThreadpoolController

    _safe_layer()
    return ThreadpoolController()


def _blas_pools() -> list:
    return [pool for pool in thread_pools().lib_controllers if pool.user_api == "blas"]


def _set_threads(pool: Any, n: int) -> None:
    """Set a pool's thread count from any Python thread. threadpoolctl lets only the
    first Python thread that limited OpenBLAS change it again (a fit in a worker
    thread was left on 2 BLAS threads); fastmlp keeps its own first-in, last-out
    count instead ([single_threaded_blas][fastmlp.engine.threads.single_threaded_blas])."""
    getattr(pool, "_real_set_num_threads", pool.set_num_threads)(n)


_blas_lock = threading.Lock()
_blas_users = 0
_blas_outside: list[int] = []


def pool_limit() -> int:
    """The smallest thread count set on the process's BLAS and OpenMP pools, as
    it stands outside fastmlp's own one-thread limit."""
    with _blas_lock:
        if _blas_users:
            blas = list(_blas_outside)
        else:
            blas = [pool.num_threads for pool in _blas_pools()]
    others = [pool.num_threads for pool in thread_pools().lib_controllers
              if pool.user_api != "blas"]
    return min(blas + others, default=1 << 16)


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Every BLAS in the process on one thread inside a ``with`` block.

    The limit is process-wide, so fits running at once in several Python
    threads share it: the first to enter sets it, the last to leave restores
    the previous counts (one fit leaving must not lift it under another)."""
    global _blas_users, _blas_outside
    with _blas_lock:
        if _blas_users == 0:
            pools = _blas_pools()
            _blas_outside = [pool.num_threads for pool in pools]
            for pool in pools:
                _set_threads(pool, 1)
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                for pool, n in zip(_blas_pools(), _blas_outside, strict=True):
                    _set_threads(pool, n)
