"""Training throughput: one-epoch fits, each system in fresh processes, rounds interleaved.

One test per configuration (``benchutil.CONFIGS``: network, batch, maths dtype,
input type). Each round starts one worker process per system, in the order
A B C, then C B A, ...; a round's figure is n_samples / the fastest of the
worker's timed epochs. ``extra_info["systems"]`` maps each system to its
``rounds`` (samples/s per round) and thread counts, or to the reason it was
``skipped``; ``data`` names the data set (dense rows: standardized MNIST,
Fashion-MNIST) and ``flops_per_sample`` the dense FLOPs a sample needs, for the
share of the run's FMA peak (``peak.py``; the peak is in the machine info).
Which systems run where: ``benchutil.systems_for``.
"""

from __future__ import annotations

import math

import pytest
from benchutil import (
    CONFIGS,
    QUICK,
    ROUNDS,
    TORCH_COMPILE,
    data_cached,
    epoch_spec,
    interleaved,
    run_worker,
    systems_for,
)

CHOSEN = [c for c in CONFIGS if c.quick or not QUICK]


@pytest.mark.parametrize("config", CHOSEN, ids=[c.id for c in CHOSEN])
def test_epoch(benchmark, mnist_cache, smoke, torch_available, jax_available, config):
    if not data_cached(config.data):
        pytest.skip(f"{config.data} not in the cache {mnist_cache}: put its raw files "
                    "beside mnist/ in the folder FASTMLP_BENCH_DATA names")
    reasons = systems_for(config, torch_available, jax_available)
    if smoke and reasons[TORCH_COMPILE] is None:
        # compiling a step takes a minute per configuration in one process;
        # test_peers.py checks the compiled worker trains as eager PyTorch does
        reasons[TORCH_COMPILE] = "smoke run: compiling takes minutes (test_peers.py checks it)"
    results: dict[str, dict] = {s: {"skipped": why} for s, why in reasons.items() if why}
    running = [s for s, why in reasons.items() if why is None]

    def measure() -> None:
        for round_index in range(1 if smoke else ROUNDS):
            for system in interleaved(running, round_index):
                out = run_worker(epoch_spec(config, system, smoke), in_process=smoke)
                entry = results.setdefault(system, {"rounds": [], "epoch_seconds": []})
                entry["rounds"].append(out["n_samples"] / min(out["epoch_seconds"]))
                entry["epoch_seconds"].append(out["epoch_seconds"])
                entry.update(n_samples=out["n_samples"], **{
                    k: v for k, v in out.items()
                    if k in ("blas_threads", "numba_threads", "torch_threads", "xla_threads",
                             "version", "input_nonzero")
                })

    benchmark.group = "epoch"
    benchmark.pedantic(measure, rounds=1, iterations=1, warmup_rounds=0)
    benchmark.extra_info.update(
        suite="epoch", network=config.network, recipe=config.recipe, batch_size=config.batch,
        dtype=config.dtype, input=config.input, systems=results, data=config.data,
        flops_per_sample=config.flops_per_sample,
    )
    for system in running:
        rates = results[system]["rounds"]
        assert len(rates) == (1 if smoke else ROUNDS)
        assert all(math.isfinite(r) and r > 0 for r in rates), (system, rates)
