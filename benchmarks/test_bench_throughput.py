"""Training throughput: one-epoch fits, each system in fresh processes, rounds interleaved.

One test per configuration (``benchutil.CONFIGS``: network, batch, maths dtype,
input type). Each round starts one worker process per system, in the order
A B C, then C B A, ...; a round's figure is n_samples / the fastest of the
worker's timed epochs. ``extra_info["systems"]`` maps each system to its
``rounds`` (samples/s per round) and thread counts, or to the reason it was
``skipped``. Which systems run where: ``benchutil.systems_for``.
"""

from __future__ import annotations

import math

import pytest
from benchutil import CONFIGS, QUICK, ROUNDS, epoch_spec, interleaved, run_worker, systems_for

CHOSEN = [c for c in CONFIGS if c.quick or not QUICK]


@pytest.mark.parametrize("config", CHOSEN, ids=[c.id for c in CHOSEN])
def test_epoch(benchmark, mnist_cache, smoke, torch_available, config):
    reasons = systems_for(config, torch_available)
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
                    if k in ("blas_threads", "numba_threads", "torch_threads", "version")
                })

    benchmark.group = "epoch"
    benchmark.pedantic(measure, rounds=1, iterations=1, warmup_rounds=0)
    benchmark.extra_info.update(
        suite="epoch", network=config.network, recipe=config.recipe, batch_size=config.batch,
        dtype=config.dtype, input=config.input, systems=results,
    )
    for system in running:
        rates = results[system]["rounds"]
        assert len(rates) == (1 if smoke else ROUNDS)
        assert all(math.isfinite(r) and r > 0 for r in rates), (system, rates)
