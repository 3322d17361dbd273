"""The compiled peers (``peers.py``), the dense rows, the FMA peak and the FLOPs of a row.

A fast peer must not be a broken one: the JAX step equals eager PyTorch's step
from the same weights, and the JAX and ``torch.compile`` workers train to eager
PyTorch's accuracy over one epoch. Plain tests (no ``benchmark`` fixture), each
skipped with its reason when JAX or PyTorch is not installed (``pip install -e
".[bench]"``).
"""

from __future__ import annotations

import importlib.util

import numpy as np
import peak
import pytest
from benchutil import (
    CONFIGS,
    FASTMLP,
    JAX,
    PYTORCH,
    SKLEARN,
    TORCH_COMPILE,
    VECTOR_FLAGS,
    run_worker,
    systems_for,
    vector_extensions,
)

HAVE_JAX = importlib.util.find_spec("jax") is not None
HAVE_TORCH = importlib.util.find_spec("torch") is not None
needs_jax = pytest.mark.skipif(not HAVE_JAX, reason="JAX not installed (the bench extra)")
needs_torch = pytest.mark.skipif(not HAVE_TORCH,
                                 reason="PyTorch not installed (the bench extra)")


def test_flops_per_sample_counts_forward_weight_and_hidden_input_gradients():
    # 784-16-10: forward 2 * (784*16 + 16*10), the weight gradients as much again,
    # the hidden layer's input gradient 2 * 16*10; the data's gradient is not needed
    assert peak.flops_per_sample((784, 16, 10)) == 2 * 12704 + 2 * 12704 + 2 * 160 == 51136
    assert peak.flops_per_sample((784, 256, 128, 10)) == (
        4 * (784 * 256 + 256 * 128 + 128 * 10) + 2 * (256 * 128 + 128 * 10))
    notebook = next(c for c in CONFIGS if c.network == "784-16-10")
    assert notebook.flops_per_sample == 51136


def test_a_rows_share_of_the_peak_and_its_cell():
    peak_info = {"gflops": 224.0, "threads": 2}
    assert peak.peak_share(2.2e6, 51136, 224.0) == pytest.approx(0.5022, abs=1e-4)
    assert peak.format_peak_share(2.2e6, 51136, peak_info) == "50 %"
    assert peak.format_peak_share(None, 51136, peak_info) == "–"
    assert peak.format_peak_share(2.2e6, 51136, None) == "–"
    assert peak.format_peak(peak_info).startswith("224 GFLOP/s float32 FMA peak on 2 threads")


def test_the_fma_peak_is_a_positive_rate_on_the_threads_asked():
    measured = peak.measure_fma_peak(threads=1, seconds=0.01, repeats=1)
    assert measured["threads"] == 1 and measured["gflops"] > 0
    assert measured["block"] in peak.BLOCKS
    assert measured["gflops"] == pytest.approx(max(measured["gflops_by_block"].values()),
                                               abs=0.1)
    with pytest.raises(ValueError, match="threads must be at least 1"):
        peak.measure_fma_peak(threads=0)


def test_vector_extensions_come_from_the_cpu_flags():
    flags = "fpu sse sse4_2 avx fma avx2 avx512f avx512bw avx512_bf16 amx_tile sha_ni"
    assert vector_extensions(flags) == ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw",
                                        "avx512_bf16", "amx_tile"]
    assert set(vector_extensions()) <= set(VECTOR_FLAGS)


def test_dense_rows_run_every_system_at_batch_128_and_1024():
    dense = [c for c in CONFIGS if c.data != "mnist"]
    assert {(c.data, c.batch) for c in dense} == {
        (d, b) for d in ("mnist-standardized", "fashion-mnist") for b in (128, 1024)}
    for config in dense:
        assert config.recipe == "notebook" and config.input == "float32"
        assert config.id.endswith(f"-input-{config.data}")
        reasons = systems_for(config, torch_available=True, jax_available=True)
        assert {s for s, why in reasons.items() if why is None} == {
            FASTMLP, JAX, TORCH_COMPILE, PYTORCH, SKLEARN}
    assert systems_for(dense[0], torch_available=False, jax_available=False)[JAX] == (
        "JAX not installed (`nox -s bench` installs the bench extra)")


def test_standardized_mnist_is_dense_input(mnist_cache):
    import worker

    x, y, x_test, _ = worker.load_inputs("float32", data="mnist-standardized")
    assert x.dtype == np.float32 and x.shape == (60000, 784) and x_test.shape == (10000, 784)
    np.testing.assert_allclose(x.mean(axis=0), 0, atol=1e-4)
    constant = x.std(axis=0) == 0  # pixels never lit in training: the only zeros left
    assert (x[:, ~constant] != 0).mean() > 0.999 and (x != 0).mean() > 0.9
    with pytest.raises(ValueError, match="float32 input"):
        worker.load_inputs("uint8", data="mnist-standardized")


@needs_jax
@needs_torch
@pytest.mark.parametrize("recipe", ["notebook", "adam"])
def test_the_jax_step_is_eager_pytorchs_step(recipe):
    """Three steps from the same weights on the same batches: the same weights after."""
    import peers
    import torch
    import worker

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (96, 784), dtype=np.uint8)
    y = rng.integers(0, 10, 96).astype(np.int64)
    spec = {"recipe": recipe, "hidden": [16], "batch": 32, "dtype": "float32", "seed": 0}
    model, optimizer, loss_fn, batch_input, targets = worker.torch_setup(spec, x, y)
    trainer = peers.JaxTrainer(spec, x, y)
    linear = [m for m in model if isinstance(m, torch.nn.Linear)]
    params = [(m.weight.detach().numpy().T.copy(), m.bias.detach().numpy().copy())
              for m in linear]
    state = (params, trainer.fresh(0)[1])
    jax = trainer.jax
    for start in range(0, 96, 32):
        rows = np.arange(start, start + 32)
        optimizer.zero_grad()
        loss_fn(model(batch_input(torch.from_numpy(rows))), targets[rows]).backward()
        optimizer.step()
        grads = jax.grad(trainer.loss)(state[0], x[rows], y[rows].astype(np.int32))
        state = trainer.update(state[0], grads, state[1])
    for m, (w, b) in zip(linear, state[0], strict=True):
        np.testing.assert_allclose(np.asarray(w), m.weight.detach().numpy().T, atol=2e-6)
        np.testing.assert_allclose(np.asarray(b), m.bias.detach().numpy(), atol=2e-6)


@needs_jax
def test_the_jax_worker_trains_full_batches_on_the_threads_it_is_given(mnist_cache):
    spec = {"task": "epoch", "system": JAX, "recipe": "notebook", "hidden": [16],
            "batch": 128, "dtype": "float64", "input": "uint8", "n_samples": 1000,
            "epochs": 2}
    out = run_worker(spec)
    assert out["n_samples"] == 896  # 7 full batches; the last 104 samples left out
    assert out["xla_threads"] == 2 and len(out["epoch_seconds"]) == 2
    assert all(s > 0 for s in out["epoch_seconds"])


def _one_epoch_accuracy(system: str) -> float:
    """Test accuracy after one epoch on the 60,000 images, uint8 input (scaled inside)."""
    spec = {"task": "time_to_accuracy", "system": system, "recipe": "adam", "hidden": [128],
            "batch": 128, "dtype": "float32", "input": "uint8", "seed": 0,
            "target": 1.0, "max_epochs": 1}
    out = run_worker(spec)
    assert out["epochs"] == 1
    return out["accuracy"]


@needs_jax
@needs_torch
def test_the_jax_worker_trains_as_eager_pytorch_does(mnist_cache):
    eager, compiled = _one_epoch_accuracy(PYTORCH), _one_epoch_accuracy(JAX)
    assert eager > 0.9 and abs(compiled - eager) <= 0.01, (eager, compiled)


@needs_torch
@pytest.mark.slow  # compiling the step takes a minute
def test_the_torch_compile_worker_trains_as_eager_pytorch_does(mnist_cache):
    eager, compiled = _one_epoch_accuracy(PYTORCH), _one_epoch_accuracy(TORCH_COMPILE)
    assert eager > 0.9 and abs(compiled - eager) <= 0.01, (eager, compiled)


def test_the_report_keeps_a_dense_rows_figures_apart_from_mnists():
    import report

    def bench(data, fastmlp, torch):
        systems = {FASTMLP: {"rounds": [fastmlp] * 3, "n_samples": 60000},
                   PYTORCH: {"rounds": [torch] * 3, "n_samples": 60000}}
        return {"extra_info": {"suite": "epoch", "network": "784-16-10", "recipe": "notebook",
                               "batch_size": 128, "dtype": "float32", "input": "float32",
                               "data": data, "systems": systems}}

    rows = report.throughput_rows([bench("mnist", 2e6, 500e3),
                                   bench("fashion-mnist", 1e6, 1e6)])
    cells = report.parse_tables(report.throughput_table(rows)[0])["system|network"]
    mine = {r["input"]: r for r in cells if r["system"] == FASTMLP}
    assert mine["float32"]["× PyTorch"] == "4.00×"
    assert mine["float32, fashion-mnist"]["× PyTorch"] == "1.00×"
