"""Shared fixtures of the benchmark suites: data, thread counts, sizes, warm-up.

Run for real with ``nox -s bench`` (or ``python -m pytest benchmarks --benchmark-only``).
With ``--benchmark-disable`` (CI's smoke run) every benchmark body runs once on
bounded sizes, so the whole folder finishes in well under a minute or two.

Data: the raw MNIST files are imported from ``../shared/data/mnist`` next to the
repository (override with ``FASTMLP_BENCH_DATA`` or ``FASTMLP_TEST_DATA``, either
naming the folder that holds ``mnist/``) into the cache ``.benchmarks/data``
(override with ``FASTMLP_BENCH_CACHE``), with their pinned hashes checked. For
the session, ``FASTMLP_DATA_DIR`` points at that cache so a plain ``load_mnist()``
is a warm load. Without the files, the benchmarks that need data are skipped.

Every result records in ``benchmark.extra_info``: ``suite``, ``system``, and,
where they apply, ``network``, ``batch_size``, ``dtype``, ``n_samples`` (samples
processed per timed call: samples/s = n_samples / median) and the thread counts
(``blas_threads``, ``numba_threads``, ``torch_threads``).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from benchutil import (
    CACHE,
    DTYPES,
    SHARED_DATA,
    blas_description,
    blas_threads,
    cpu_model,
    notebook_model,
    thread_info,
)


def pytest_collection_modifyitems(session, config, items):
    """Peers last: PyTorch's OpenMP threads keep spinning for a while after each
    call, and measured beside fastmlp they halved its throughput in one run."""
    items.sort(key=lambda item: item.module.__name__.endswith("test_bench_peers"))


def pytest_benchmark_update_machine_info(config, machine_info):
    """Put the facts the report needs into the saved JSON's machine_info."""
    import numba

    machine_info["fastmlp"] = {
        "cores": os.cpu_count(),
        "cpu_model": cpu_model(),
        "blas": blas_description(numpy_only=True),
        "blas_threads": blas_threads(),
        "numba_threads": numba.get_num_threads(),
        "numba_version": numba.__version__,
        "numpy_version": np.__version__,
    }


# -- smoke mode ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def smoke(request: pytest.FixtureRequest) -> bool:
    """True when benchmarks are disabled (--benchmark-disable): run once on small sizes."""
    return bool(request.config.getoption("benchmark_disable", False))


# -- data ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mnist_cache() -> Path:
    """The cache folder holding verified MNIST files; FASTMLP_DATA_DIR points at it."""
    from fastmlp import datasets

    source = SHARED_DATA / "mnist"
    have_cache = all((CACHE / "mnist" / f).is_file() for f, _ in datasets.DATASETS["mnist"].files)
    if not source.is_dir() and not have_cache:
        pytest.skip(
            f"MNIST raw files not found at {source} (nor cached in {CACHE / 'mnist'}); "
            "set FASTMLP_BENCH_DATA to the folder holding mnist/"
        )
    if source.is_dir():
        datasets.download("mnist", source=source, data_home=CACHE)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(datasets.DATA_DIR_ENV, str(CACHE))
        mp.delenv(datasets.MIRROR_ENV, raising=False)
        yield CACHE


@pytest.fixture(scope="session")
def mnist(mnist_cache: Path) -> tuple:
    """``((x_train, y_train), (x_test, y_test))``, uint8, read-only, loaded once."""
    from fastmlp import load_mnist

    data = load_mnist()
    for split in data:
        for array in split:
            array.flags.writeable = False
    return data


@pytest.fixture(scope="session")
def train_flat(mnist) -> tuple[np.ndarray, np.ndarray]:
    """Training images as a C-contiguous (60000, 784) uint8 matrix, and labels."""
    (x, y), _ = mnist
    return np.ascontiguousarray(x.reshape(len(x), -1)), y


# -- Numba warm-up --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def warm_numba() -> dict:
    """Compile (or load from cache) every kernel specialization the suites time.

    Trains the notebook model and the default model briefly on random data in
    both dtypes and both paths (per-sample and mini-batch), so no benchmark's
    timing includes compilation. Returns the thread counts.
    """
    from fastmlp import MLPClassifier

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(64, 784), dtype=np.uint8)
    y = np.arange(64) % 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for dtype in DTYPES:
            for batch in (1, 16):
                notebook_model((16,), batch, dtype).fit(x, y).predict(x)
            MLPClassifier(hidden_layer_sizes=(16,), max_iter=1, batch_size=16, dtype=dtype).fit(
                x, y
            ).score(x, y)
            notebook_model((16,), 16, dtype, momentum=0.9).fit(x, y)
    return thread_info()
