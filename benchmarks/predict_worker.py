"""Time one system's prediction, in the process ``worker.py`` runs in (task ``predict``).

Every system predicts with the same 784-128-10 ReLU/softmax weights (Glorot
draws from one seed: prediction speed does not depend on training), built
into its own model untimed: fastmlp's ``MLPClassifier``, scikit-learn's
``MLPClassifier`` (fitted on a slice, then given the weights), a PyTorch eager
``Sequential`` (``torch.inference_mode``, softmax on the logits) and an
onnxruntime session on fastmlp's ``to_onnx`` export. Each answers
``predict_proba``: class probabilities of the input as handed over (float32,
or uint8 scaled by 1/255 where the system can read it).

Two figures per process, after a warm-up of each:

- ``rows_per_second``: the whole test set (``n_rows``, 10,000) in one call,
  ``repeats`` times; the fastest call counts.
- ``latency_us``: ``calls`` single-row calls, each on the next test image (a
  C-contiguous (1, 784) row, prepared beforehand), timed one by one; median
  and 99th percentile in microseconds.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

HIDDEN = 128
SEED = 0
REPEATS = 7
LATENCY_CALLS = 3000
WARM_UP_CALLS = 300


def weights(n_in: int, n_classes: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(W, b) per layer, float32, Glorot-uniform weights and small biases."""
    rng = np.random.default_rng(SEED)
    layers = []
    for fan_in, fan_out in ((n_in, HIDDEN), (HIDDEN, n_classes)):
        bound = np.sqrt(6 / (fan_in + fan_out))
        layers.append((rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32),
                       rng.uniform(-0.1, 0.1, fan_out).astype(np.float32)))
    return layers


def _fitted_fastmlp(x, y, layers):
    from fastmlp import MLPClassifier

    model = MLPClassifier((HIDDEN,), max_iter=1, dtype="float32", random_state=SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x[:1024], y[:1024])
    model.coefs_ = [w for w, _ in layers]
    model.intercepts_ = [b for _, b in layers]
    return model


def fastmlp_predictor(x, y, layers):
    return _fitted_fastmlp(x, y, layers).predict_proba


def sklearn_predictor(x, y, layers):
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier((HIDDEN,), max_iter=1, random_state=SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x[:1024], y[:1024])
    model.coefs_ = [w for w, _ in layers]
    model.intercepts_ = [b for _, b in layers]
    return model.predict_proba


def torch_predictor(x, y, layers):
    import torch
    from worker import TORCH_THREADS

    torch.set_num_threads(TORCH_THREADS)
    net = torch.nn.Sequential(torch.nn.Linear(*layers[0][0].shape), torch.nn.ReLU(),
                              torch.nn.Linear(*layers[1][0].shape))
    with torch.no_grad():
        for linear, (w, b) in zip((net[0], net[2]), layers, strict=True):
            linear.weight.copy_(torch.from_numpy(w.T.copy()))
            linear.bias.copy_(torch.from_numpy(b))
    net.eval()

    def predict_proba(rows: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            inputs = torch.from_numpy(rows)
            if rows.dtype == np.uint8:
                inputs = inputs.to(torch.float32).mul_(1 / 255)
            return torch.softmax(net(inputs), dim=1).numpy()

    return predict_proba


def onnxruntime_predictor(x, y, layers, path):
    import onnxruntime
    from worker import TORCH_THREADS

    _fitted_fastmlp(x, y, layers).to_onnx(path, input_dtype=x.dtype.name)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = TORCH_THREADS
    session = onnxruntime.InferenceSession(str(path), options,
                                           providers=["CPUExecutionProvider"])

    def predict_proba(rows: np.ndarray) -> np.ndarray:
        return session.run(["probabilities"], {"X": rows})[0]

    return predict_proba


def measure(predict_proba, x_test: np.ndarray, spec: dict) -> dict:
    """The throughput and single-row latency of ``predict_proba`` on ``x_test``."""
    rows = x_test[:spec["n_rows"]]
    reference = predict_proba(rows)  # warm-up, and the answer every system must give
    seconds = []
    for _ in range(spec["repeats"]):
        started = time.perf_counter()
        predict_proba(rows)
        seconds.append(time.perf_counter() - started)
    singles = [np.ascontiguousarray(x_test[i % len(x_test)][None])
               for i in range(spec["calls"] + WARM_UP_CALLS)]
    for row in singles[:WARM_UP_CALLS]:
        predict_proba(row)
    latency = []
    for row in singles[WARM_UP_CALLS:]:
        started = time.perf_counter_ns()
        predict_proba(row)
        latency.append(time.perf_counter_ns() - started)
    latency_us = np.array(latency) / 1000
    return {
        "rows_per_second": len(rows) / min(seconds), "n_rows": len(rows),
        "latency_median_us": float(np.median(latency_us)),
        "latency_p99_us": float(np.percentile(latency_us, 99)),
        "calls": len(latency), "checksum": float(np.asarray(reference, np.float64).sum()),
    }


def run(spec: dict, x, y, x_test) -> dict:
    """Build the spec's system's model and time it (see the module docstring)."""
    import tempfile
    from pathlib import Path

    layers = weights(x.shape[1], int(y.max()) + 1)
    system = spec["system"]
    with tempfile.TemporaryDirectory() as folder:
        if system == "onnxruntime":
            predict_proba = onnxruntime_predictor(x, y, layers, Path(folder) / "model.onnx")
        else:
            predict_proba = PREDICTORS[system](x, y, layers)
        return measure(predict_proba, x_test, spec)


PREDICTORS = {"fastmlp": fastmlp_predictor, "scikit-learn": sklearn_predictor,
              "PyTorch": torch_predictor}
