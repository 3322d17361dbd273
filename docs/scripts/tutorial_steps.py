"""Measure each step of the tutorial "From the notebook to fastmlp".

Run from the repository root (``FASTMLP_MIRROR`` may name a local folder
holding ``mnist/*.gz`` when there is no network)::

    python docs/scripts/tutorial_steps.py [--repeats 5]

Every step trains the notebook's network (784-16-10, sigmoid hidden and output
units, squared error, plain SGD without momentum) on MNIST and reports training
samples per second: the median over ``--repeats`` timed epochs, after one
untimed warm-up run (which also compiles the Numba kernels). Numbers depend on
the machine and on whatever else runs on it; the script prints the load average
so a noisy run can be recognized.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import time
import warnings

import numpy as np

from fastmlp import MLPClassifier, baseline, load_mnist
from fastmlp.engine.network import TrainingInput

HIDDEN = 16
LR = 0.01


def _time(fn, repeats: int) -> float:
    fn()  # warm-up: JIT compilation, page faults, BLAS thread start
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _init(dtype, rng):
    w1 = (rng.standard_normal((784, HIDDEN)) * 0.01).astype(dtype)
    b1 = (rng.standard_normal(HIDDEN) * 0.01).astype(dtype)
    w2 = (rng.standard_normal((HIDDEN, 10)) * 0.01).astype(dtype)
    b2 = (rng.standard_normal(10) * 0.01).astype(dtype)
    return w1, b1, w2, b2


def tidy_loop(x, onehot, params) -> None:
    """Step 1: the notebook's loop without its redundant work (still per sample)."""
    w1, b1, w2, b2 = params
    for i in range(x.shape[0]):
        xi = x[i]
        a1 = 1 / (1 + np.exp(-(xi @ w1 + b1)))
        a2 = 1 / (1 + np.exp(-(a1 @ w2 + b2)))
        d2 = 2 * (a2 - onehot[i]) * a2 * (1 - a2)
        d1 = (w2 @ d2) * a1 * (1 - a1)
        w2 -= LR * np.outer(a1, d2)
        b2 -= LR * d2
        w1 -= LR * np.outer(xi, d1)
        b1 -= LR * d1


def numpy_batches(x, onehot, params, batch: int) -> None:
    """Step 2: the batch (matrix) form in plain NumPy; uint8 x is scaled batch by batch."""
    w1, b1, w2, b2 = params
    for start in range(0, x.shape[0], batch):
        xb = x[start:start + batch]
        if xb.dtype == np.uint8:
            xb = xb.astype(w1.dtype) / 255
        yb = onehot[start:start + batch]
        m = xb.shape[0]
        a1 = 1 / (1 + np.exp(-(xb @ w1 + b1)))
        a2 = 1 / (1 + np.exp(-(a1 @ w2 + b2)))
        d2 = 2 * (a2 - yb) * a2 * (1 - a2) / m
        d1 = (d2 @ w2.T) * a1 * (1 - a1)
        w2 -= LR * (a1.T @ d2)
        b2 -= LR * d2.sum(axis=0)
        w1 -= LR * (xb.T @ d1)
        b1 -= LR * d1.sum(axis=0)


def _notebook_model(batch_size: int, dtype: str, max_iter: int) -> MLPClassifier:
    return MLPClassifier(
        hidden_layer_sizes=(HIDDEN,), activation="logistic", solver="sgd", momentum=0.0,
        learning_rate_init=LR, batch_size=batch_size, loss="squared_error",
        output_activation="logistic", weight_init="normal", max_iter=max_iter,
        shuffle=False, tol=0.0, n_iter_no_change=max_iter + 1, dtype=dtype, random_state=0,
    )


def fastmlp_epoch_seconds(x_uint8, y, batch_size: int, dtype: str, repeats: int) -> float:
    """Steps 3-4: MLPClassifier, timed by its own per-epoch callback (uint8 input)."""
    seconds: list[float] = []
    model = _notebook_model(batch_size, dtype, repeats + 1)
    model.callbacks = [lambda model, info: seconds.append(info["seconds"])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x_uint8, y)
    return statistics.median(seconds[1:])  # the first epoch loads the compiled kernels


def per_sample_dense_seconds(x_uint8, y, dtype: str, repeats: int) -> float:
    """Step 4 without the sparse input: the jitted per-sample epoch on dense rows."""
    model = _notebook_model(1, dtype, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x_uint8[:100], y[:100])
    network = model._network
    flat = np.ascontiguousarray(x_uint8.reshape(len(x_uint8), -1))
    inputs = TrainingInput(flat, network.dtype, sparse_first_layer=False)
    rows = np.arange(len(flat), dtype=np.int64)
    labels = y.astype(np.int64)
    return _time(lambda: network.train_per_sample(inputs, labels, rows, LR, 0.0), repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--naive-samples", type=int, default=10_000)
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args()
    r = args.repeats
    load_before = ", ".join(f"{x:.2f}" for x in os.getloadavg())

    (x_train, y_train), _ = load_mnist()
    n = x_train.shape[0]
    x64 = x_train.reshape(n, -1) / 255.0
    x32 = x64.astype(np.float32)
    onehot64 = np.eye(10)[y_train]
    onehot32 = onehot64.astype(np.float32)
    k = args.naive_samples
    rng = np.random.default_rng(0)

    rows: list[tuple[str, float]] = []

    def add(name: str, samples: int, seconds: float) -> None:
        rows.append((name, samples / seconds))
        print(f"{name:<62} {samples / seconds:>12,.0f} samples/s", flush=True)

    add("0 notebook loop (fastmlp.baseline), float64, batch 1", k,
        _time(lambda: baseline.train(x64[:k], y_train[:k], epochs=1, seed=0), r))
    p64 = _init(np.float64, rng)
    add("1 tidy NumPy loop, float64, batch 1", k,
        _time(lambda: tidy_loop(x64[:k], onehot64[:k], p64), r))
    for batch in (32, 128):
        add(f"2 NumPy batch form, float64, batch {batch}", n,
            _time(lambda b=batch: numpy_batches(x64, onehot64, p64, b), r))
    p32 = _init(np.float32, rng)
    for batch in (32, 128):
        add(f"2 NumPy batch form, float32, batch {batch}", n,
            _time(lambda b=batch: numpy_batches(x32, onehot32, p32, b), r))
    x8 = x_train.reshape(n, -1)
    for batch in (32, 128):
        add(f"2 NumPy batch form, float32, batch {batch}, uint8 in", n,
            _time(lambda b=batch: numpy_batches(x8, onehot32, p32, b), r))
    for dtype in ("float64", "float32"):
        for batch in (32, 128):
            add(f"3 fastmlp BLAS + fused kernels, {dtype}, batch {batch}, uint8 in", n,
                fastmlp_epoch_seconds(x_train, y_train, batch, dtype, r))
    for dtype in ("float64", "float32"):
        add(f"4 fastmlp jitted per-sample, dense input, {dtype}, batch 1", n,
            per_sample_dense_seconds(x_train, y_train, dtype, r))
        add(f"4 fastmlp jitted per-sample, CSR input, {dtype}, batch 1", n,
            fastmlp_epoch_seconds(x_train, y_train, 1, dtype, r))

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nmedian of {r} timed runs each; load average before {load_before}, after {load}")
    base = rows[0][1]
    table = ["| step | samples/s | vs notebook |", "|---|---:|---:|"]
    for name, rate in rows:
        step, _, what = name.partition(" ")
        table.append(f"| {step}: {what} | {rate:,.0f} | {rate / base:,.1f}x |")
    print("\n".join(table))
    if args.markdown:
        command = f"python docs/scripts/tutorial_steps.py --repeats {r}"
        if args.naive_samples != 10_000:
            command += f" --naive-samples {args.naive_samples}"
        caption = (
            f"Measured on {datetime.date.today().isoformat()} with `{command}` on "
            f"{os.cpu_count()} cores ({platform.machine()}, NumPy {np.__version__}): "
            f"median of {r} timed runs per row; load average (1, 5, 15 min) "
            f"{load_before} before the run, {load} after."
        )
        with open(args.markdown, "w") as f:
            f.write("\n".join(table) + "\n\n" + caption + "\n")


if __name__ == "__main__":
    main()
