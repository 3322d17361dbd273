"""Prediction: predict_proba throughput on the 10,000 test images and single-row latency.

One test per input type (float32, uint8). Each round starts one worker process
per system (fastmlp, PyTorch eager, scikit-learn, onnxruntime on fastmlp's
ONNX export), in the order A B C D, then D C B A, ...; every system predicts
with the same 784-128-10 weights (``predict_worker.py``). A round's figures
are the fastest whole-set call (rows/s) and the median and 99th percentile of
single-row calls (µs). ``extra_info["systems"]`` maps each system to its
``rounds`` or to the reason it was ``skipped``.
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest
from benchutil import (
    PREDICT_INPUTS,
    ROUNDS,
    interleaved,
    predict_spec,
    predict_systems,
    run_worker,
)


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@pytest.mark.parametrize("input_type", PREDICT_INPUTS)
def test_predict(benchmark, mnist_cache, smoke, input_type):
    reasons = predict_systems(input_type, _installed)
    results: dict[str, dict] = {s: {"skipped": why} for s, why in reasons.items() if why}
    running = [s for s, why in reasons.items() if why is None]

    def measure() -> None:
        for round_index in range(1 if smoke else ROUNDS):
            for system in interleaved(running, round_index):
                out = run_worker(predict_spec(system, input_type, smoke), in_process=smoke)
                entry = results.setdefault(system, {"rounds": []})
                entry["rounds"].append({k: out[k] for k in (
                    "rows_per_second", "latency_median_us", "latency_p99_us", "checksum")})
                entry.update(n_rows=out["n_rows"], calls=out["calls"], **{
                    k: v for k, v in out.items()
                    if k in ("blas_threads", "numba_threads", "torch_threads", "version")
                })

    benchmark.group = "predict"
    benchmark.pedantic(measure, rounds=1, iterations=1, warmup_rounds=0)
    benchmark.extra_info.update(suite="predict", network="784-128-10", dtype="float32",
                                input=input_type, systems=results)
    checksums = [r["checksum"] for s in running for r in results[s]["rounds"]]
    # every system answered with the same probabilities (their sum over all rows)
    np.testing.assert_allclose(checksums, checksums[0], rtol=1e-5)
    for system in running:
        for r in results[system]["rounds"]:
            assert math.isfinite(r["rows_per_second"]) and r["rows_per_second"] > 0
            assert 0 < r["latency_median_us"] <= r["latency_p99_us"]
