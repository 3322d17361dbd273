"""Helpers shared by the benchmark suites and the report (no pytest fixtures here)."""

from __future__ import annotations

import os
import platform
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(
    os.environ.get("FASTMLP_BENCH_DATA")
    or os.environ.get("FASTMLP_TEST_DATA")
    or REPO.parent / "shared" / "data"
)
CACHE = Path(os.environ.get("FASTMLP_BENCH_CACHE") or REPO / ".benchmarks" / "data")

# Sizes. A smoke run (--benchmark-disable) shrinks every data slice to SMOKE_SAMPLES.
SMOKE_SAMPLES = 2048
NETWORKS = {"784-16-10": (16,), "784-128-10": (128,)}
BATCH_SIZES = (1, 32, 128, 1024)
DTYPES = ("float32", "float64")
# Rounds of the pedantic (whole-fit) benchmarks; medians are what the report quotes.
ROUNDS = int(os.environ.get("FASTMLP_BENCH_ROUNDS", "5"))


def notebook_model(hidden: tuple[int, ...], batch_size: int, dtype: str, **overrides):
    """The teaching notebook's network as an MLPClassifier (logistic, squared error, SGD)."""
    from fastmlp import MLPClassifier
    from fastmlp.presets import PRESETS

    params = dict(
        PRESETS["notebook"], hidden_layer_sizes=hidden, batch_size=batch_size, max_iter=1,
        random_state=0, dtype=dtype,
    )
    params.update(overrides)
    return MLPClassifier(**params)


def blas_threads() -> int | None:
    """Threads of the BLAS NumPy uses (threadpoolctl), None if it cannot tell."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    numpy_blas = [
        p for p in threadpool_info() if p["user_api"] == "blas" and "numpy" in p["filepath"]
    ]
    pools = numpy_blas or [p for p in threadpool_info() if p["user_api"] == "blas"]
    return pools[0]["num_threads"] if pools else None


def blas_description(numpy_only: bool = False) -> str:
    """e.g. 'openblas 0.3.31 (numpy; SkylakeX, pthreads, 2 threads)' for each BLAS loaded
    (only NumPy's with ``numpy_only``: which others are loaded depends on what ran)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    found = []
    for p in threadpool_info():
        if p["user_api"] != "blas" or (numpy_only and "numpy" not in p["filepath"]):
            continue
        owner = Path(p["filepath"]).parent.name.removesuffix(".libs")
        found.append(
            f"{p['internal_api']} {p.get('version') or '?'} ({owner}; "
            f"{p.get('architecture') or '?'}, {p.get('threading_layer') or '?'}, "
            f"{p['num_threads']} threads)"
        )
    return "; ".join(found) or "none loaded"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def numba_threads() -> int:
    import numba

    return numba.get_num_threads()


def thread_info() -> dict:
    return {"blas_threads": blas_threads(), "numba_threads": numba_threads()}


def bounded(n: int, smoke: bool) -> int:
    return min(n, SMOKE_SAMPLES) if smoke else n


def record(benchmark, suite: str, system: str, **info) -> None:
    benchmark.extra_info.update({"suite": suite, "system": system, **info})
