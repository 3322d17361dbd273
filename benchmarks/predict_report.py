"""The prediction section of the benchmark report (``report.py``), from the predict suite."""

from __future__ import annotations

import statistics

from benchutil import FASTMLP, PREDICT_SYSTEMS

PREDICT_HEADER = ["system", "input", "rows/s (10,000)", "min–max", "× fastmlp",
                  "1 row median µs", "1 row p99 µs"]
PREDICT_NOTES = (
    "Prediction: `predict_proba` of one 784-128-10 network (ReLU, softmax; the same float32 "
    "weights for every system) on the 10,000 MNIST test images in one call (the fastest of "
    "the process's calls; rows/s is the median over rounds), and on one image at a time "
    "(thousands of calls, each timed; median and 99th percentile of a round, median over "
    "rounds). Each system × input type runs in fresh processes, rounds interleaved. "
    "fastmlp: `MLPClassifier.predict_proba`. PyTorch: eager `Sequential` under "
    "`torch.inference_mode`, softmax of the logits, uint8 converted and scaled per call. "
    "scikit-learn: `MLPClassifier.predict_proba` (no uint8 path). onnxruntime: an "
    "`InferenceSession` on fastmlp's `to_onnx` export (the uint8 graph scales its input). "
    "× fastmlp: fastmlp's rows/s over that row's."
)


def _median(rounds: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rounds)


def predict_table(benchmarks: list[dict], si, table) -> str | None:
    """The prediction table in markdown, None if the predict suite did not run; ``si``
    and ``table`` are the report's number and table formats."""
    runs = [b["extra_info"] for b in benchmarks
            if b.get("extra_info", {}).get("suite") == "predict"]
    if not runs:
        return None
    order = {s: i for i, s in enumerate(PREDICT_SYSTEMS)}
    rows = []
    for info in sorted(runs, key=lambda i: i["input"] != "float32"):
        fastmlp = info["systems"].get(FASTMLP, {}).get("rounds")
        ours = _median(fastmlp, "rows_per_second") if fastmlp else None
        for system, result in sorted(info["systems"].items(), key=lambda s: order.get(s[0], 9)):
            rounds = result.get("rounds")
            if not rounds:
                rows.append([system, info["input"], f"not run: {result.get('skipped')}",
                             "", "", "", ""])
                continue
            rates = [r["rows_per_second"] for r in rounds]
            rate = statistics.median(rates)
            rows.append([
                system, info["input"], si(rate), f"{si(min(rates))}–{si(max(rates))}",
                f"{ours / rate:.1f}×" if ours else "",
                f"{_median(rounds, 'latency_median_us'):.1f}",
                f"{_median(rounds, 'latency_p99_us'):.1f}",
            ])
    return table(PREDICT_HEADER, rows)
