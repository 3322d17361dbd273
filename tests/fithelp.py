"""Helpers of the estimator tests: a short fit's settings and a model's parameters."""

import numpy as np

FAST = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)


def params_of(model):
    return [np.array(a) for a in (*model.coefs_, *model.intercepts_)]


def max_rel_diff(a, b):
    return max(
        float(np.abs(np.asarray(p, np.float64) - q).max() / np.abs(np.asarray(q)).max())
        for p, q in zip(params_of(a), params_of(b), strict=True)
    )
