"""Time to 97.5 % MNIST test accuracy: one recipe for every system, and fastmlp's preset.

The recipe (``benchutil.time_to_accuracy_spec``): 784-128-10 ReLU, softmax +
log loss, Adam 1e-3, no L2, batch 128, float32 maths on float32 input,
shuffled each epoch, at most ``MAX_EPOCHS`` epochs, for fastmlp, PyTorch and
scikit-learn; plus ``fastmlp.presets.PRESETS["default"]`` on uint8 input, as
``fastmlp train`` runs it. Each seed of each system is a fresh worker process,
systems interleaved per seed. The figure is the seconds of training until the
test accuracy first reaches the target, scoring the test set after each epoch
excluded; the report takes the median over the seeds and marks a system
that missed the target within the cap.
"""

from __future__ import annotations

from benchutil import (
    FASTMLP,
    PRESET,
    PYTORCH,
    SEEDS,
    SKLEARN,
    interleaved,
    run_worker,
    time_to_accuracy_spec,
)


def test_time_to_accuracy(benchmark, mnist_cache, smoke, torch_available):
    systems = [FASTMLP, PYTORCH, SKLEARN, PRESET]
    results: dict[str, dict] = {}
    if not torch_available:
        systems.remove(PYTORCH)
        results[PYTORCH] = {"skipped": "PyTorch not installed (`nox -s bench` installs the "
                                       "bench extra)"}

    def measure() -> None:
        for seed_index, seed in enumerate(SEEDS[:1] if smoke else SEEDS):
            for system in interleaved(systems, seed_index):
                out = run_worker(time_to_accuracy_spec(system, seed, smoke), in_process=smoke)
                results.setdefault(system, {"runs": []})["runs"].append({"seed": seed, **out})

    benchmark.group = "time to accuracy"
    benchmark.pedantic(measure, rounds=1, iterations=1, warmup_rounds=0)
    spec = time_to_accuracy_spec(FASTMLP, 0, smoke)
    benchmark.extra_info.update(suite="time_to_accuracy", target=spec["target"],
                                max_epochs=spec["max_epochs"], systems=results)
    for system in systems:
        for run in results[system]["runs"]:
            assert run["epochs"] >= 1 and run["train_seconds"] > 0, (system, run)
            assert 0 <= run["accuracy"] <= 1
            assert run["startup_seconds"] >= 0, (system, run)
