"""Probe: prediction's cost, split into its parts, against the network's dense pass.

    python benchmarks/predict_probe.py

On a 784-128-10 float32 model (one epoch on 5,000 MNIST images) it prints, in
microseconds:

- single-row ``predict_proba`` on a flat (1, 784) test image, float32 and
  uint8: median and 99th percentile of 5,000 calls, each timed;
- the compiled call alone (``predict_kernels.predict_rows``), so the
  difference is the Python side's checks and allocation;
- the 10,000 test images in one ``predict_proba`` against
  ``Network.forward`` (the dense pass through BLAS that prediction ran
  before), best of 10 calls interleaved, with the process's CPU time beside
  the wall time.

It is not part of ``nox -s bench`` (the predict suite compares systems); it
helps decide where prediction's time goes. Run it on an otherwise idle
machine: on a shared one only the ratios mean anything.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

CALLS = 5000


def _timed(call, n: int) -> np.ndarray:
    for _ in range(300):
        call()
    seconds = []
    for _ in range(n):
        started = time.perf_counter_ns()
        call()
        seconds.append(time.perf_counter_ns() - started)
    return np.array(seconds) / 1000


def _best(call, n: int = 10) -> tuple[float, float]:
    wall, cpu = [], []
    for _ in range(n):
        w, c = time.perf_counter(), time.process_time()
        call()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return min(wall) * 1e3, min(cpu) * 1e3


def main() -> None:
    from fastmlp import MLPClassifier, load_mnist
    from fastmlp.engine import predict_kernels

    (x_train, y_train), (x_test, _) = load_mnist()
    x8 = x_test.reshape(len(x_test), -1)
    xf = (x8 / np.float32(255)).astype(np.float32)
    model = MLPClassifier((128,), batch_size=128, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x_train[:5000].reshape(5000, -1), y_train[:5000])
    network = model._network
    meta = predict_kernels.layer_meta(network)
    out = np.empty((1, 10), np.float32)
    none = np.empty(0, np.int64)
    for name, X, scale in (("float32", xf, 1.0), ("uint8", x8, 1 / 255)):
        row = np.ascontiguousarray(X[:1])
        single = _timed(lambda row=row: model.predict_proba(row), CALLS)
        kernel = _timed(lambda row=row, scale=scale: predict_kernels.predict_rows(
            row, scale, network.params, meta, predict_kernels.PROBA, out, none), CALLS)
        print(f"{name} 1 row predict_proba: median {np.median(single):.2f} us, "
              f"p99 {np.percentile(single, 99):.2f} us; compiled call alone: median "
              f"{np.median(kernel):.2f} us")
        new = _best(lambda X=X: model.predict_proba(X))
        old = _best(lambda X=X: network.forward(X))
        print(f"{name} 10,000 rows: predict_proba {new[0]:.1f} ms (CPU {new[1]:.1f} ms), "
              f"dense Network.forward {old[0]:.1f} ms (CPU {old[1]:.1f} ms)")


if __name__ == "__main__":
    main()
