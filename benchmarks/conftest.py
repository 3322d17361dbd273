"""Shared fixtures of the benchmark suites: data, smoke mode, machine facts, load average.

Run for real with ``nox -s bench`` (``-- --quick`` for a short development run).
Each benchmark drives ``worker.py`` in fresh processes, one per system,
configuration and round (see ``benchutil``); pytest-benchmark's own timing of
a test is the whole measurement and means nothing. The figures are the
workers' timings, stored in ``benchmark.extra_info``. With
``--benchmark-disable`` (CI's smoke run) every body runs once, in process, on
``SMOKE_SAMPLES`` samples: it checks the code, it measures nothing.

Data: the raw MNIST files are imported from ``../shared/data/mnist`` next to the
repository (override with ``FASTMLP_BENCH_DATA`` or ``FASTMLP_TEST_DATA``, either
naming the folder that holds ``mnist/``) into the cache ``.benchmarks/data``
(override with ``FASTMLP_BENCH_CACHE``), with their pinned hashes checked. For
the session, ``FASTMLP_DATA_DIR`` points at that cache, so the workers (which
inherit the environment) load it warm. Without the files the benchmarks skip.
"""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path

import numpy as np
import pytest
from benchutil import (
    CACHE,
    EPOCHS_PER_ROUND,
    QUICK,
    ROUNDS,
    SHARED_DATA,
    blas_description,
    cpu_model,
    load_average,
    vector_extensions,
)

_LOAD_BEFORE: dict = {}


def pytest_sessionstart(session) -> None:
    _LOAD_BEFORE["load"] = load_average()
    _LOAD_BEFORE["started"] = time.monotonic()


def pytest_benchmark_update_machine_info(config, machine_info):
    """Put the facts the report needs into the saved JSON's machine_info."""
    import numba
    from peak import measure_fma_peak
    from worker import TORCH_THREADS

    machine_info["fastmlp"] = {
        "cores": os.cpu_count(),
        "cpu_model": cpu_model(),
        "vector_extensions": vector_extensions(),
        # measured in this run, on the threads each system gets (rows' share of it)
        "fma_peak": measure_fma_peak(TORCH_THREADS),
        "blas": blas_description(),
        "numba_threads": numba.get_num_threads(),
        "numba_version": numba.__version__,
        "numpy_version": np.__version__,
        "load_before": _LOAD_BEFORE.get("load"),
        "load_after": load_average(),
        # the whole run, which the report states (the pages quote no hand-typed duration)
        "duration_s": round(time.monotonic() - _LOAD_BEFORE.get("started", time.monotonic())),
        "quick": QUICK,
        "rounds": ROUNDS,
        "epochs_per_round": EPOCHS_PER_ROUND,
    }


@pytest.fixture(scope="session")
def smoke(request: pytest.FixtureRequest) -> bool:
    """True when benchmarks are disabled (--benchmark-disable): run once, small, in process."""
    return bool(request.config.getoption("benchmark_disable", False))


@pytest.fixture(scope="session")
def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


@pytest.fixture(scope="session")
def jax_available() -> bool:
    return importlib.util.find_spec("jax") is not None


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
    if (SHARED_DATA / "fashion-mnist").is_dir():  # the dense rows' second data set
        datasets.download("fashion-mnist", source=SHARED_DATA / "fashion-mnist",
                          data_home=CACHE)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(datasets.DATA_DIR_ENV, str(CACHE))
        mp.delenv(datasets.MIRROR_ENV, raising=False)
        yield CACHE
