"""The elementwise kernels of training and prediction (fastmlp.engine.kernels)."""

import numpy as np
import pytest

from fastmlp.engine import kernels


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("out_kind", ["softmax", "logistic"])
@pytest.mark.parametrize("loss_kind", ["log_loss", "squared_error"])
@pytest.mark.parametrize("k", [1, 2, 10, 17])
def test_batched_output_layer_equals_the_per_row_one(dtype, out_kind, loss_kind, k):
    """kernels.output_delta (three passes over the batch) does output_row's arithmetic
    in output_row's order: activations, deltas, bias gradient and loss agree bit for
    bit, saturated logits included (softmax log loss stays exact when p underflows)."""
    if out_kind == "softmax" and k == 1:
        pytest.skip("softmax needs two outputs at least")
    rng = np.random.default_rng(k)
    m = 37
    Z = (rng.standard_normal((m, k)) * 8).astype(dtype)
    Z[0, :] = 200  # saturated: p underflows for every non-maximal class of some rows
    Z[1, 0] = -200
    b = rng.standard_normal(k).astype(dtype)
    y = rng.integers(0, k, m).astype(np.int64)
    out, loss = kernels.OUTPUT_ACTIVATIONS[out_kind], kernels.LOSSES[loss_kind]
    scale = dtype(1 / m)
    batched, delta, grad_b = Z.copy(), np.empty_like(Z), np.empty(k, dtype)
    targets = kernels.make_targets(y, None, dtype)
    total = kernels.output_delta(
        batched, b, targets, np.arange(m, dtype=np.int64), out, loss, scale, delta, grad_b
    )
    rows, row_delta, row_total = Z.copy(), np.empty_like(Z), 0.0
    for i in range(m):
        row_total += kernels.output_row(rows[i], b, y[i], out, loss, scale, row_delta[i])
    np.testing.assert_array_equal(batched, rows)
    np.testing.assert_array_equal(delta, row_delta)
    assert total == row_total and np.isfinite(total)
    expected_grad_b = np.zeros(k, dtype)
    for i in range(m):
        expected_grad_b += row_delta[i]
    np.testing.assert_array_equal(grad_b, expected_grad_b)
