"""Who owns the cores during training: BLAS's threads or fastmlp's.

Batches of [SHARD_MIN_BATCH][fastmlp.threads.SHARD_MIN_BATCH] rows or more
are split into [SHARDS][fastmlp.threads.SHARDS] shards that Numba's threads
run at once ([steps.sharded_minibatch_steps][fastmlp.steps.sharded_minibatch_steps]),
each calling BLAS on its own rows; BLAS must then stay on one thread, or its
threads and Numba's busy-wait against each other on the same cores (a
one-epoch fit ran 40x slower). Smaller batches run on one thread and leave
the cores to BLAS, which does not split products that small anyway.
"""

import functools
from contextlib import AbstractContextManager
from typing import Any

# Fixed, not the thread count: the shards' gradients are summed in shard order, so
# a fit gives the same numbers on any number of threads.
SHARDS = 2
SHARD_MIN_BATCH = 128


def n_shards(batch_size: int) -> int:
    """How many shards a batch size is split into (1: not split)."""
    return SHARDS if batch_size >= SHARD_MIN_BATCH else 1


@functools.cache
def thread_pools() -> Any:
    """The process's native thread pools (threadpoolctl), found once: a scan of the
    loaded libraries costs milliseconds. SciPy's BLAS, the one Numba's ``np.dot``
    calls, is loaded first, or the scan would not see it."""
    import scipy.linalg.cython_blas  # noqa: F401
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def single_threaded_blas() -> AbstractContextManager:
    """Limit every BLAS in the process to one thread inside a ``with`` block."""
    return thread_pools().limit(limits=1, user_api="blas")
