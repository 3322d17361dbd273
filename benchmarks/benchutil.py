"""What the benchmark suites measure and how: configurations, sizes, rounds, the worker call.

No pytest fixtures here; ``report.py`` imports the names too.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).resolve().parent / "worker.py"
SHARED_DATA = Path(
    os.environ.get("FASTMLP_BENCH_DATA")
    or os.environ.get("FASTMLP_TEST_DATA")
    or REPO.parent / "shared" / "data"
)
CACHE = Path(os.environ.get("FASTMLP_BENCH_CACHE") or REPO / ".benchmarks" / "data")
# `nox -s bench -- --quick` sets this: fewer rows, rounds and seeds, for development.
QUICK = os.environ.get("FASTMLP_BENCH_QUICK", "") not in ("", "0")

# Training images per timed epoch (quick mode: a third, the same for every system).
FULL_SAMPLES = 20_000 if QUICK else 60_000
# Batch 1 runs on a slice for the systems that take ~0.2 ms per step in Python
# (the naive loop, PyTorch, scikit-learn); the issue asks for at least 5,000.
SLICE_BATCH_1 = 5000
SMOKE_SAMPLES = 1024  # --benchmark-disable (CI): every body once on this many samples
ROUNDS = int(os.environ.get("FASTMLP_BENCH_ROUNDS") or (2 if QUICK else 3))
EPOCHS_PER_ROUND = 2  # timed fits per process; a round keeps the fastest
SEEDS = (0,) if QUICK else (0, 1, 2)
TARGET = 0.975
MAX_EPOCHS = 15
NOISY_SPREAD = 0.20  # a fastmlp row whose (max - min) / median over rounds exceeds this
WORKER_TIMEOUT = 900

# The systems, in the order of a forward round (a backward round reverses it).
FASTMLP, PYTORCH, SKLEARN = "fastmlp", "PyTorch", "scikit-learn"
NAIVE_1, NAIVE_DEFAULT = "naive loop, 1 BLAS thread", "naive loop, default BLAS threads"
NAIVE = (NAIVE_1, NAIVE_DEFAULT)
PRESET = "fastmlp, default preset"
SYSTEMS = (FASTMLP, PYTORCH, SKLEARN, *NAIVE)


@dataclass(frozen=True)
class Config:
    """One row group of the throughput table: a network trained one epoch."""

    recipe: str  # "notebook", "adam" or "regression" (see worker.RECIPES)
    hidden: tuple[int, ...]
    batch: int
    dtype: str  # the maths dtype
    input: str  # "float32" or "uint8"
    quick: bool = field(default=False, compare=False)

    @property
    def network(self) -> str:
        outputs = 1 if self.recipe == "regression" else 10
        return "-".join(str(n) for n in (784, *self.hidden, outputs))

    @property
    def id(self) -> str:
        return f"{self.network}-batch{self.batch}-{self.dtype}-{self.input}-input"


def _configs() -> list[Config]:
    quick = {(1, "float64", "uint8"), (128, "float32", "float32"), (128, "float32", "uint8"),
             (1024, "float32", "float32")}
    configs = [
        Config("notebook", (16,), batch, dtype, input_type, (batch, dtype, input_type) in quick)
        for batch in (1, 32, 128, 1024)
        for dtype in ("float32", "float64")
        for input_type in ("float32", "uint8")
    ]
    for hidden in ((128,), (256, 128)):
        for input_type in ("float32", "uint8"):
            configs.append(Config("adam", hidden, 128, "float32", input_type,
                                  hidden == (128,) and input_type == "float32"))
    configs.append(Config("regression", (128,), 128, "float32", "float32"))
    return configs


CONFIGS = _configs()


def systems_for(config: Config, torch_available: bool) -> dict[str, str | None]:
    """Each system's skip reason for this configuration, None where it runs."""
    systems: dict[str, str | None] = {FASTMLP: None}
    systems[PYTORCH] = None if torch_available else (
        "PyTorch not installed (`nox -s bench` installs the bench extra)")
    systems[SKLEARN] = None if config.input == "float32" else (
        "no uint8 path: scikit-learn converts uint8 to float64 without scaling")
    if config.recipe == "notebook" and config.batch == 1 and config.dtype == "float64":
        systems.update({NAIVE_1: None, NAIVE_DEFAULT: None})
    return systems


def epoch_spec(config: Config, system: str, smoke: bool) -> dict:
    """The worker's spec for one system on one configuration."""
    slow_at_batch_1 = system != FASTMLP and config.batch == 1
    n = SLICE_BATCH_1 if slow_at_batch_1 else FULL_SAMPLES
    spec = {
        "task": "epoch", "system": "naive" if system in NAIVE else system,
        "recipe": config.recipe, "hidden": list(config.hidden), "batch": config.batch,
        "dtype": config.dtype, "input": config.input,
        "n_samples": min(n, SMOKE_SAMPLES) if smoke else n,
        "epochs": 1 if smoke else EPOCHS_PER_ROUND,
    }
    if system == NAIVE_1:
        spec["blas_threads"] = 1
    return spec


def time_to_accuracy_spec(system: str, seed: int, smoke: bool) -> dict:
    """One recipe for fastmlp, PyTorch and scikit-learn; the preset as `fastmlp train` has it."""
    spec = {"task": "time_to_accuracy", "system": FASTMLP if system == PRESET else system,
            "recipe": "adam", "hidden": [128], "batch": 128, "dtype": "float32",
            "input": "float32", "seed": seed, "target": TARGET,
            "max_epochs": 1 if smoke else MAX_EPOCHS}
    if system == PRESET:
        spec.update(preset="default", input="uint8")  # load_mnist's uint8, as `fastmlp train`
    if smoke:
        spec["n_samples"] = SMOKE_SAMPLES
    return spec


def interleaved(items: list, round_index: int) -> list:
    """A B C in even rounds, C B A in odd ones."""
    return list(items) if round_index % 2 == 0 else list(reversed(items))


def run_worker(spec: dict, in_process: bool = False) -> dict:
    """Run the worker on one spec in a fresh Python process (or here, for a smoke run)."""
    if in_process:
        import worker

        return worker.run(spec)
    done = subprocess.run(
        [sys.executable, str(WORKER), json.dumps(spec)], capture_output=True, text=True,
        timeout=WORKER_TIMEOUT, cwd=REPO,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"worker failed (exit {done.returncode}) on {spec}:\n{done.stderr[-3000:]}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def blas_description() -> str:
    """e.g. 'openblas 0.3.31 (numpy; SkylakeX, pthreads, 2 threads)' for NumPy's BLAS."""
    try:
        import numpy  # noqa: F401  (loads the BLAS threadpoolctl inspects)
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    found = []
    for p in threadpool_info():
        if p["user_api"] != "blas" or "numpy" not in p["filepath"]:
            continue
        found.append(
            f"{p['internal_api']} {p.get('version') or '?'} (numpy; "
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


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None
