"""Sparse input: one-epoch fits on a generated text corpus, CSR for every system.

The corpus (``textcorpus.py``): a Zipf vocabulary of 100,000 terms, about 100
terms per document, 20 topics. fastmlp, scikit-learn and PyTorch (a
``torch.sparse.mm`` first layer) train the same 100000-128-20 network (ReLU,
Adam, float32) at batch 128 on the same matrix (``text_worker.py``). Each
round starts one worker process per system, A B C then C B A; a round's
figure is documents / the fastest timed epoch. ``extra_info["systems"]`` maps
each system to its ``rounds`` (documents/s) or the reason it was ``skipped``.
"""

from __future__ import annotations

import importlib.util
import math

from benchutil import ROUNDS, TEXT_BATCH, TEXT_HIDDEN, interleaved, run_worker, text_spec
from benchutil import text_systems as systems_of


def test_text_epoch(benchmark, smoke):
    reasons = systems_of(lambda module: importlib.util.find_spec(module) is not None)
    results: dict[str, dict] = {s: {"skipped": why} for s, why in reasons.items() if why}
    running = [s for s, why in reasons.items() if why is None]
    shape: dict = {}

    def measure() -> None:
        for round_index in range(1 if smoke else ROUNDS):
            for system in interleaved(running, round_index):
                out = run_worker(text_spec(system, smoke), in_process=smoke)
                entry = results.setdefault(system, {"rounds": [], "epoch_seconds": []})
                entry["rounds"].append(out["n_samples"] / min(out["epoch_seconds"]))
                entry["epoch_seconds"].append(out["epoch_seconds"])
                entry.update({k: v for k, v in out.items() if k in (
                    "blas_threads", "numba_threads", "torch_threads", "version")})
                shape.update({k: out[k] for k in ("n_samples", "n_terms", "nonzeros_per_row")})

    benchmark.group = "text"
    benchmark.pedantic(measure, rounds=1, iterations=1, warmup_rounds=0)
    network = "-".join(str(n) for n in (shape["n_terms"], *TEXT_HIDDEN, 20))
    benchmark.extra_info.update(suite="text", network=network, batch_size=TEXT_BATCH,
                                dtype="float32", input="csr", systems=results, **shape)
    assert 50 < shape["nonzeros_per_row"] < 150
    for system in running:
        rates = results[system]["rounds"]
        assert len(rates) == (1 if smoke else ROUNDS)
        assert all(math.isfinite(r) and r > 0 for r in rates), (system, rates)
