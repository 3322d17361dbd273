"""Measure every figure of the "Practical tips" page and the first-call cost in Quick start.

Run from the repository root, on a quiet machine, to regenerate the tables::

    python docs/scripts/practical_tips.py              # every section
    python docs/scripts/practical_tips.py dtype threads  # some of them

Each section writes ``docs/_snippets/tips_<section>.md``: a Markdown table and a
caption naming the date, the machine, the command and the load average, which
the pages include as they are. Nothing in them is typed by hand. The data is
MNIST from ``load_mnist()`` (the cache, else a download). Numbers depend on the
machine and on whatever else runs on it; the load average in each caption tells
a busy run from a quiet one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import snippets  # docs/scripts/snippets.py, beside this script

ROOT = Path(__file__).resolve().parents[2]
TARGET = 0.975  # test accuracy whose time-to-reach is reported


def _write(section: str, body: str, load_before: str, note: str) -> None:
    snippets.write(f"tips_{section}", body, f"python docs/scripts/practical_tips.py {section}",
                   load_before, note)


def _mnist():
    from fastmlp import load_mnist

    return load_mnist()


def _curve(params: dict, data) -> dict:
    """Fit epoch by epoch; the test accuracy and the summed epoch seconds after each."""
    from fastmlp import MLPClassifier

    (x_train, y_train), (x_test, y_test) = data
    seconds, accuracy = [], []

    def record(model, info):
        # runs after the epoch's own timing was taken: scoring is not counted
        seconds.append(info["seconds"])
        accuracy.append(model.score(x_test, y_test))

    model = MLPClassifier(**params, callbacks=[record])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x_train, y_train)
    elapsed = np.cumsum(seconds)
    reached = next((i for i, a in enumerate(accuracy) if a >= TARGET), None)
    return {
        "final": accuracy[-1],
        "epochs_to_target": None if reached is None else reached + 1,
        "seconds_to_target": None if reached is None else float(elapsed[reached]),
        "samples_per_s": len(y_train) / statistics.median(seconds),
        "total_seconds": float(elapsed[-1]),
    }


def _default(**changes) -> dict:
    from fastmlp.presets import PRESETS

    return {**PRESETS["default"], "random_state": 0, **changes}


def _fmt_target(result: dict) -> str:
    if result["epochs_to_target"] is None:
        return "not reached"
    return f"{result['seconds_to_target']:.1f} s (epoch {result['epochs_to_target']})"


def batch_lr(args) -> None:
    """Batch size x learning rate for Adam on the default network."""
    load = snippets.load()
    data = _mnist()
    rows = ["| batch size | learning rate | samples/s | time to 97.5 % | accuracy after "
            f"{args.epochs} epochs |", "|---:|---:|---:|---|---:|"]
    grid = [(batch, lr) for batch in (32, 128, 512) for lr in (1e-3, 2e-3, 5e-3)]
    for done, (batch, lr) in enumerate(grid, 1):
        r = _curve(_default(batch_size=batch, learning_rate_init=lr, max_iter=args.epochs),
                   data)
        rows.append(f"| {batch} | {lr:g} | {r['samples_per_s']:,.0f} | {_fmt_target(r)} "
                    f"| {100 * r['final']:.2f} % |")
        # written after every row, so that an interrupted run keeps what it measured
        _write("batch_lr", "\n".join(rows), load,
               "default preset (784-128-10 ReLU, Adam, float32, uint8 input), seed 0, one "
               "run per row; time is the sum of epoch times (test scoring excluded)."
               + ("" if done == len(grid) else f" Rows {done} of {len(grid)}: incomplete run."))


def dtype(args) -> None:
    """float32 against float64, the same network and settings."""
    load = snippets.load()
    data = _mnist()
    results = {}
    for _ in range(args.repeats):  # interleaved: float32, float64, float32, ...
        for name in ("float32", "float64"):
            results.setdefault(name, []).append(
                _curve(_default(dtype=name, max_iter=args.epochs), data)
            )
    rows = ["| dtype | samples/s (median, min-max) | time to 97.5 % | accuracy after "
            f"{args.epochs} epochs |", "|---|---:|---|---:|"]
    for name, runs in results.items():
        rates = [r["samples_per_s"] for r in runs]
        first = runs[0]
        rows.append(f"| {name} | {statistics.median(rates):,.0f} ({min(rates):,.0f}-"
                    f"{max(rates):,.0f}) | {_fmt_target(first)} | {100 * first['final']:.2f} % |")
    ratio = (statistics.median(r["samples_per_s"] for r in results["float32"])
             / statistics.median(r["samples_per_s"] for r in results["float64"]))
    rows.append("")
    rows.append(f"float32 trains **{ratio:.2f}x** as many samples per second as float64 here.")
    _write("dtype", "\n".join(rows), load,
           f"default preset, seed 0, {args.repeats} interleaved runs per dtype (samples/s: "
           "median epoch of each run; accuracy and time to target: the first run).")


@contextmanager
def _threads(limit):
    """Every BLAS and Numba limited to ``limit`` threads (None: the defaults)."""
    import numba
    from threadpoolctl import threadpool_limits

    previous = numba.get_num_threads()
    if limit is not None:
        numba.set_num_threads(limit)
    try:
        with threadpool_limits(limits=limit, user_api="blas"):
            yield
    finally:
        numba.set_num_threads(previous)


def threads(args) -> None:
    """One thread (BLAS and Numba) against all."""
    from threadpoolctl import threadpool_info

    load = snippets.load()
    data = _mnist()
    blas = [f"{p['internal_api']} ({p['num_threads']} threads)" for p in threadpool_info()
            if p["user_api"] == "blas"]
    results: dict[str, list[float]] = {}
    for _ in range(args.repeats):
        for limit in (1, None):
            label = "1" if limit == 1 else f"all ({os.cpu_count()})"
            with _threads(limit):
                r = _curve(_default(max_iter=2), data)
            results.setdefault(label, []).append(r["samples_per_s"])
    rows = ["| threads (BLAS and Numba) | samples/s (median, min-max) |", "|---|---:|"]
    for label, rates in results.items():
        rows.append(f"| {label} | {statistics.median(rates):,.0f} "
                    f"({min(rates):,.0f}-{max(rates):,.0f}) |")
    _write("threads", "\n".join(rows), load,
           f"default preset, 2 epochs, {args.repeats} interleaved runs per row, BLAS: "
           f"{', '.join(blas) or 'none found'}.")


def n_jobs(args) -> None:
    """scikit-learn's cross_val_score with n_jobs=1 and 2 (joblib processes)."""
    from sklearn.model_selection import cross_val_score

    from fastmlp import MLPClassifier

    load = snippets.load()
    (x_train, y_train), _ = _mnist()
    x, y = x_train[:20_000], y_train[:20_000]
    results: dict[int, list[float]] = {}
    for _ in range(args.repeats):
        for jobs in (1, 2):
            started = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cross_val_score(MLPClassifier(**_default(max_iter=2)), x, y, cv=4,
                                n_jobs=jobs)
            results.setdefault(jobs, []).append(time.perf_counter() - started)
    rows = ["| n_jobs | wall time, 4 folds (median, min-max) |", "|---:|---:|"]
    for jobs, times in results.items():
        rows.append(f"| {jobs} | {statistics.median(times):.1f} s "
                    f"({min(times):.1f}-{max(times):.1f}) |")
    _write("n_jobs", "\n".join(rows), load,
           f"`cross_val_score(MLPClassifier(**PRESETS['default'], max_iter=2), X, y, cv=4, "
           f"n_jobs=...)` on 20,000 MNIST images, {args.repeats} interleaved runs per row "
           "(joblib's default process backend).")


def _fit_weights(params: dict, x, y, threads=None) -> np.ndarray:
    from fastmlp import MLPClassifier

    with _threads(threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPClassifier(**params).fit(x, y)
    return np.concatenate([c.ravel() for c in model.coefs_]).astype(np.float64)


def reproducibility(args) -> None:
    """Which changes keep the fitted weights bit for bit."""
    load = snippets.load()
    (x_train, y_train), _ = _mnist()
    x, y = x_train[:10_000], y_train[:10_000]
    params = _default(max_iter=1)
    reference = _fit_weights(params, x, y)

    small = {**params, "batch_size": 64}
    small_reference = _fit_weights(small, x, y)

    def compare(weights: np.ndarray, reference: np.ndarray = reference) -> str:
        if np.array_equal(weights, reference):
            return "identical, bit for bit"
        return f"differ: largest weight difference {np.abs(weights - reference).max():.1e}"

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "weights.npy"
        code = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
                "import numpy as np, practical_tips as t; "
                "(x, y), _ = t._mnist(); "
                f"np.save({str(out)!r}, t._fit_weights(t._default(max_iter=1), "
                "x[:10_000], y[:10_000]))")
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        other_process = np.load(out)
    rows = ["| refit with | weights after one epoch |", "|---|---|",
            f"| the same `random_state`, same process | {compare(_fit_weights(params, x, y))} |",
            f"| the same `random_state`, a new process | {compare(other_process)} |",
            f"| 1 thread (BLAS and Numba) instead of {os.cpu_count()} | "
            f"{compare(_fit_weights(params, x, y, threads=1))} |",
            "| at batch size 64 (not split between threads): 1 thread instead of "
            f"{os.cpu_count()} | "
            f"{compare(_fit_weights(small, x, y, threads=1), small_reference)} |",
            f"| float32 input `x / 255` instead of uint8 | "
            f"{compare(_fit_weights(params, (x / np.float32(255)).astype(np.float32), y))} |",
            f"| `dtype=\"float64\"` | "
            f"{compare(_fit_weights({**params, 'dtype': 'float64'}, x, y))} |",
            f"| `random_state=1` | {compare(_fit_weights({**params, 'random_state': 1}, x, y))} |"]
    _write("reproducibility", "\n".join(rows), load,
           "default preset, one epoch on the first 10,000 MNIST images, seed 0 unless stated.")


_FIRST_FIT = """
import time, warnings
t0 = time.perf_counter()
from fastmlp import MLPClassifier, load_mnist
from fastmlp.presets import PRESETS
(x, y), _ = load_mnist()
t1 = time.perf_counter()
warnings.simplefilter("ignore")
model = MLPClassifier(**{**PRESETS["default"], "max_iter": 1, "random_state": 0})
model.fit(x[:10000], y[:10000])
t2 = time.perf_counter()
model.fit(x[:10000], y[:10000])
t3 = time.perf_counter()
import json
print(json.dumps({"first_fit": t2 - t1, "second_fit": t3 - t2}))
"""


def first_call(args) -> None:
    """A process's first fit with an empty Numba cache, a filled one, and a second fit."""
    load = snippets.load()
    cold, warm, second = [], [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "NUMBA_CACHE_DIR": cache}
            for bucket in (cold, warm):
                out = subprocess.run([sys.executable, "-c", _FIRST_FIT], env=env, check=True,
                                     capture_output=True, text=True).stdout
                times = json.loads(out.strip().splitlines()[-1])
                bucket.append(times["first_fit"])
                second.append(times["second_fit"])

    def cell(values):
        return f"{statistics.median(values):.2f} s ({min(values):.2f}-{max(values):.2f})"

    rows = ["| fit of 10,000 images, 1 epoch, default preset | seconds (median, min-max) |",
            "|---|---:|",
            f"| first fit in a process, empty compilation cache (first use) | {cell(cold)} |",
            f"| first fit in a process, cache filled (every later run) | {cell(warm)} |",
            f"| second fit in the same process | {cell(second)} |"]
    _write("first_call", "\n".join(rows), load,
           f"{args.repeats} rounds, each a fresh process with a new empty `NUMBA_CACHE_DIR` "
           "and then one with that cache filled.")


_IMPORT = """
import resource, sys, time
t0 = time.perf_counter()
exec(sys.argv[1])
t1 = time.perf_counter()
print(t1 - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def import_cost(args) -> None:
    """Time and peak memory of importing fastmlp's estimator and scikit-learn's."""
    load = snippets.load()
    statements = {
        "`import numpy`": "import numpy",
        "`from fastmlp import MLPClassifier` (estimator and kernels)":
            "import fastmlp.estimator",
        "`import sklearn.neural_network`": "import sklearn.neural_network",
    }
    results: dict[str, list[tuple[float, int]]] = {}
    for _ in range(args.repeats):
        for label, statement in statements.items():
            out = subprocess.run([sys.executable, "-c", _IMPORT, statement], check=True,
                                 capture_output=True, text=True).stdout.split()
            results.setdefault(label, []).append((float(out[0]), int(out[1])))
    rows = ["| import, in a fresh process | seconds (median, min-max) | peak memory of the "
            "process |", "|---|---:|---:|"]
    for label, runs in results.items():
        seconds = [s for s, _ in runs]
        rss = statistics.median(m for _, m in runs) / 1024  # ru_maxrss is in KiB on Linux
        rows.append(f"| {label} | {statistics.median(seconds):.2f} s ({min(seconds):.2f}-"
                    f"{max(seconds):.2f}) | {rss:.0f} MiB |")
    _write("import_cost", "\n".join(rows), load,
           f"{args.repeats} interleaved rounds; warm file cache; peak memory is the whole "
           "process's maximum resident set size, Python and NumPy included.")


SECTIONS = {
    "first_call": first_call, "import_cost": import_cost, "dtype": dtype,
    "batch_lr": batch_lr, "threads": threads, "n_jobs": n_jobs,
    "reproducibility": reproducibility,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sections", nargs="*", metavar="SECTION",
                        help=f"sections to run, of {', '.join(SECTIONS)} (default: all)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per timed row")
    parser.add_argument("--epochs", type=int, default=8, help="epochs of the accuracy runs")
    args = parser.parse_args()
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    for name in args.sections or SECTIONS:
        print(f"== {name}", flush=True)
        SECTIONS[name](args)


if __name__ == "__main__":
    main()
