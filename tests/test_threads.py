"""Threads: shards that follow the batch, threads that follow the machine.

A fit's weights depend on the batch and the network, never on the threads that
ran it: 1, 2 or (faked) 64 threads, a limit set by the user, a worker thread, a
forked or a spawned child all give the same numbers bit for bit.
"""

import multiprocessing
import os
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest

from fastmlp import MLPClassifier
from fastmlp.engine import shard_steps, threads

pytestmark = pytest.mark.filterwarnings("ignore:Stochastic Optimizer")


def _split_problem(n=600, d=64, seed=0):
    """A 64-feature problem whose 64-128-4 network cuts batches of 256 into 4 shards
    (its 8,836 parameters take 64-row shards); 600 rows end on a batch of 88."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, d)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 1).astype(int) + 2 * (X[:, 2] > 0.5)
    return X, y


def split_fit(seed=0, batch_size=256, n=600):
    """(weights, threads the engine was given) of a split-batch fit; for child processes too."""
    X, y = _split_problem(n)
    model = MLPClassifier(hidden_layer_sizes=(128,), max_iter=2, random_state=seed,
                          batch_size=batch_size, solver="adam", alpha=1e-3, dtype="float32")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    return model._network.params.copy(), model._network.engine_threads


def test_shards_follow_the_batch_and_the_network():
    """Powers of two of at least 64 rows (more for tiny networks), at most 64; never
    a function of the machine."""
    notebook, default = 784 * 16 + 16 + 16 * 10 + 10, 784 * 128 + 128 + 128 * 10 + 10
    assert [threads.n_shards(b, notebook) for b in (1, 32, 64, 127, 128, 1024)] == [
        1, 1, 1, 1, 2, 16]
    assert threads.n_shards(128, default) == 2
    assert threads.n_shards(1 << 20, default) == threads.MAX_SHARDS
    assert threads.n_shards(1024, 8836) == 16
    assert threads.rows_per_shard(100) > 1000  # a tiny network is not split
    # at most SHARD_MEMORY of gradient buffers, but two shards always
    wide = threads.SHARD_MEMORY // (4 * 4)
    assert threads.n_shards(1 << 20, wide) == 4
    assert threads.n_shards(1 << 20, 10 * wide) == 2


def test_threads_follow_the_machine_and_the_user(monkeypatch):
    """The fewest of the shards, the allowed cores, Numba's count and the pools' limit."""
    from threadpoolctl import threadpool_limits

    monkeypatch.setattr(threads, "allowed_cores", lambda: 64)
    monkeypatch.setattr(threads, "get_num_threads", lambda: 8)
    assert threads.engine_threads(16) == min(8, threads.pool_limit())
    assert threads.engine_threads(1) == 1
    with threadpool_limits(1):
        assert threads.pool_limit() == 1
        assert threads.engine_threads(16) == 1
    monkeypatch.setattr(threads, "allowed_cores", lambda: 1)
    assert threads.engine_threads(16) == 1


def test_a_fit_under_a_user_limit_runs_on_one_thread():
    """threadpoolctl's limit and Numba's own count are honoured."""
    import numba
    from threadpoolctl import threadpool_limits

    free, used = split_fit()
    assert used == min(2, threads.allowed_cores(), numba.get_num_threads(), 4)
    with threadpool_limits(1):
        limited, one = split_fit()
    assert one == 1
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        numba_limited, also_one = split_fit()
    finally:
        numba.set_num_threads(previous)
    assert also_one == 1
    np.testing.assert_array_equal(limited, free)
    np.testing.assert_array_equal(numba_limited, free)


def test_numba_num_threads_1_runs_on_one_thread():
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import test_threads as t; "
            "w, n = t.split_fit(); print(n)")
    done = subprocess.run([sys.executable, "-c", code, os.path.dirname(__file__)],
                          env={**os.environ, "NUMBA_NUM_THREADS": "1"}, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == "1"


_FAKED = """
import sys
sys.path.insert(0, sys.argv[1])
import numba, numpy as np, test_threads as t
from fastmlp.engine import threads
threads.allowed_cores = threads.pool_limit = lambda: 64  # a faked 64-core machine
threads.MIN_SHARD_ROWS, threads.SHARD_WORK = 3, 0  # 64 shards of 4 rows
results = []
for n in (1, 2, 8, 64):
    numba.set_num_threads(n)
    weights, used = t.split_fit(batch_size=256, n=550)  # the last batch: 38 rows
    results.append((n, used, weights))
np.save(sys.argv[2], np.stack([w for _, _, w in results]))
print(" ".join(f"{n}:{used}" for n, used, _ in results))
"""


def test_weights_are_bit_identical_on_1_2_8_and_64_threads(tmp_path):
    """Batches of 256 rows cut into 64 shards, and a last batch of 38 rows, fewer
    than the shards, on 1, 2, 8 and 64 threads of a faked 64-core machine: the
    same weights."""
    out = tmp_path / "weights.npy"
    done = subprocess.run(
        [sys.executable, "-c", _FAKED, os.path.dirname(__file__), str(out)],
        env={**os.environ, "NUMBA_NUM_THREADS": "64"}, capture_output=True, text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    used = dict(pair.split(":") for pair in done.stdout.split()[-4:])
    assert used == {"1": "1", "2": "2", "8": "8", "64": "64"}
    weights = np.load(out)
    for other in weights[1:]:
        np.testing.assert_array_equal(other, weights[0])


def test_a_short_last_batch_with_more_shards_than_rows(monkeypatch):
    """A last batch of 3 rows under 16 shards trains 3 one-row shards; one thread
    or two, the same weights."""
    import numba

    monkeypatch.setattr(threads, "MIN_SHARD_ROWS", 1)
    monkeypatch.setattr(threads, "SHARD_WORK", 0)
    monkeypatch.setattr(threads, "SUM_COST", 0)
    X, y = _split_problem(n=35)
    params = dict(hidden_layer_sizes=(9,), max_iter=2, random_state=0, batch_size=16,
                  solver="sgd", dtype="float64")
    assert threads.n_shards(16, 9) == 16
    two = MLPClassifier(**params).fit(X, y)
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        one = MLPClassifier(**params).fit(X, y)
    finally:
        numba.set_num_threads(previous)
    np.testing.assert_array_equal(one._network.params, two._network.params)
    assert one.loss_curve_ == two.loss_curve_
    monkeypatch.setattr(threads, "n_shards", lambda *args, **kwargs: 1)
    unsplit = MLPClassifier(**params).fit(X, y)
    np.testing.assert_allclose(unsplit._network.params, two._network.params, rtol=1e-10)


def test_the_same_fit_in_a_worker_thread_a_forked_and_a_spawned_child():
    """The main thread, a worker thread, a forked child (after the parent's threads
    started) and a spawned child give the same weights bit for bit."""
    main, main_threads = split_fit()
    assert main_threads >= 1
    box = {}
    worker = threading.Thread(target=lambda: box.update(result=split_fit()))
    worker.start()
    worker.join()
    np.testing.assert_array_equal(box["result"][0], main)
    for method in ("fork", "spawn"):
        if method not in multiprocessing.get_all_start_methods():
            continue
        with multiprocessing.get_context(method).Pool(1) as pool:
            child, child_threads = pool.apply_async(split_fit).get(timeout=300)
        np.testing.assert_array_equal(child, main)
        if method == "fork":
            assert child_threads == 1  # OpenMP is not restarted in a forked child


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")
def test_a_fork_during_a_fit_in_another_thread_finishes():
    """A child forked while another thread trains (inside the compiled steps, with
    BLAS limited) fits the same weights, and finishes."""
    expected, _ = split_fit(seed=1)
    stop = threading.Event()

    def keep_fitting():
        while not stop.is_set():
            split_fit(seed=2)

    trainer = threading.Thread(target=keep_fitting)
    trainer.start()
    try:
        with multiprocessing.get_context("fork").Pool(1) as pool:
            child, _ = pool.apply_async(split_fit, (1,)).get(timeout=120)
    finally:
        stop.set()
        trainer.join()
    np.testing.assert_array_equal(child, expected)


def test_blas_is_limited_in_worker_threads_and_restored():
    """threadpoolctl lets only the first Python thread that limits OpenBLAS limit it
    again; fastmlp's own limit works from any thread, and is lifted after."""
    before = [pool.num_threads for pool in threads.thread_pools().lib_controllers]
    seen = []

    def inside():
        with threads.single_threaded_blas():
            seen.append([pool.num_threads for pool in threads._blas_pools()])

    inside()
    worker = threading.Thread(target=inside)
    worker.start()
    worker.join()
    assert seen == [[1] * len(seen[0])] * 2
    assert [pool.num_threads for pool in threads.thread_pools().lib_controllers] == before


def test_fits_in_two_python_threads_at_once_give_their_own_weights():
    """Two split-batch fits at once from two Python threads give the weights each
    gives alone, and BLAS gets its thread counts back afterwards."""
    from concurrent.futures import ThreadPoolExecutor

    before = [pool.num_threads for pool in threads.thread_pools().lib_controllers]
    alone = [split_fit(seed)[0] for seed in (0, 1)]
    with ThreadPoolExecutor(2) as executor:
        together = list(executor.map(split_fit, (0, 1)))
    for (weights, _), expected in zip(together, alone, strict=True):
        np.testing.assert_array_equal(weights, expected)
    assert [pool.num_threads for pool in threads.thread_pools().lib_controllers] == before


def test_the_workqueue_threading_layer_runs_the_shards_in_turn(tmp_path):
    """Numba's workqueue layer is not thread-safe: there, the shards run in turn on
    the calling thread, with the same weights."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import numpy as np, numba, "
            "test_threads as t; from fastmlp.engine import threads; w, n = t.split_fit(); "
            "np.save(sys.argv[2], w); print(threads.can_split(), numba.threading_layer(), n)")
    out = tmp_path / "weights.npy"
    env = {**os.environ, "NUMBA_THREADING_LAYER": "workqueue"}
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", code,
                           os.path.dirname(__file__), str(out)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-3:] == ["False", "workqueue", "1"]
    np.testing.assert_array_equal(np.load(out), split_fit()[0])


def test_the_spin_of_waiting_threads_is_bounded_unless_the_user_chose():
    """GNU OpenMP's wait is bounded before Numba's threads start; a user's own wait
    policy is left alone."""
    split_fit()  # Numba's threads are running in this process now
    env = {}
    assert threads.bounded_spin(env) is False and env == {}  # too late to matter here
    code = "import os, fastmlp.engine.threads; print(os.environ.get('GOMP_SPINCOUNT'))"
    fresh = {k: v for k, v in os.environ.items() if k not in threads.WAIT_SETTINGS}
    got = subprocess.run([sys.executable, "-c", code], env=fresh, capture_output=True,
                         text=True, timeout=300)
    assert got.stdout.split() == [str(threads.SPIN_COUNT)]
    mine = subprocess.run([sys.executable, "-c", code],
                          env={**fresh, "OMP_WAIT_POLICY": "active"}, capture_output=True,
                          text=True, timeout=300)
    assert mine.stdout.split() == ["None"]


def test_entry_points_release_the_gil():
    for function in (shard_steps.sharded_minibatch_steps,
                     shard_steps.serial_sharded_minibatch_steps):
        assert function.targetoptions.get("nogil")


def test_a_fit_in_a_dask_worker_runs_on_the_worker_s_one_thread():
    """Dask's worker processes set OMP_NUM_THREADS and OPENBLAS_NUM_THREADS to 1: a fit
    there runs its shards on one thread, with the same weights."""
    pytest.importorskip("distributed")
    import cloudpickle

    from fastmlp import sweeps

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        with sweeps.local_client(1) as client:
            weights, used = client.submit(split_fit, pure=False).result(timeout=300)
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert used == 1
    np.testing.assert_array_equal(weights, split_fit()[0])


def test_a_wide_sparse_first_layer_is_not_cut():
    """A row whose first layer visits a few stored entries costs far less than
    summing a shard's full-size gradient: the batch stays whole. Dense rows of
    the same network are cut."""
    n_params = 100_000 * 128 + 128 * 20
    dense = threads.n_shards(1024, n_params)
    sparse_row = 100 * 128 + 128 * 20
    assert dense > 1
    assert threads.n_shards(1024, n_params, work_params=sparse_row) == 1
    # MNIST-like density keeps the split: about 150 of 784 inputs per row
    mnist = 784 * 128 + 128 * 10
    assert threads.n_shards(128, mnist, work_params=150 * 128 + 128 * 10) == 2
