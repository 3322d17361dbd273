"""The specification the compiled steps are tested against, and the kernels run from Python.

Two references, for tests and gradient checks only (training never calls them):

- **Plain NumPy** ([forward_backward][fastmlp.engine.reference.forward_backward],
  [SGD][fastmlp.engine.reference.SGD], [Adam][fastmlp.engine.reference.Adam]):
  the forward pass, the loss, its gradient and scikit-learn's SGD and Adam
  updates written out in float64 on lists of per-layer arrays, sharing no code
  with the engine. It is the specification: what the compiled steps of
  [fastmlp.engine.steps][fastmlp.engine.steps] must compute.
- **The engine's kernels driven from Python** ([loss][fastmlp.engine.reference.loss],
  [gradients][fastmlp.engine.reference.gradients]): the mean loss and its
  gradient over a whole data set taken as one batch, in the network's flat
  layout and dtype, for finite-difference checks of the kernels themselves.
"""

from __future__ import annotations

import numpy as np

from fastmlp.engine import kernels
from fastmlp.engine.network import Network, TrainingInput, Workspace

# -- plain NumPy -----------------------------------------------------------------------------


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _hidden(z, kind):
    if kind == "logistic":
        return _sigmoid(z)
    if kind == "tanh":
        return np.tanh(z)
    if kind == "relu":
        return np.maximum(z, 0.0)
    return z


def _hidden_grad(z, kind):
    if kind == "logistic":
        s = _sigmoid(z)
        return s * (1.0 - s)
    if kind == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if kind == "relu":
        return (z > 0).astype(z.dtype)
    return np.ones_like(z)


def forward_backward(coefs, intercepts, X, y, hidden, output, loss, alpha):
    """The mean loss and its gradient, in plain float64 NumPy: the specification.

    Returns (mean loss, coef grads, intercept grads, hidden pre-activations).

    coefs[i] is (n_in, n_out); X is float; y holds class indices.
    """
    coefs = [np.asarray(W, dtype=np.float64) for W in coefs]
    intercepts = [np.asarray(b, dtype=np.float64) for b in intercepts]
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    activations, pre = [X], []
    for layer, (W, b) in enumerate(zip(coefs, intercepts, strict=True)):
        z = activations[-1] @ W + b
        pre.append(z)
        if layer < len(coefs) - 1:
            activations.append(_hidden(z, hidden))
    z = pre[-1]
    Y = np.zeros_like(z)
    Y[np.arange(n), y] = 1.0
    if output == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
    else:
        p = _sigmoid(z)
    if loss == "log_loss":
        if output == "softmax":
            per_sample = -np.log(p[np.arange(n), y])
        else:
            per_sample = -(Y * np.log(p) + (1.0 - Y) * np.log(1.0 - p)).sum(axis=1)
        dz = p - Y
    else:
        per_sample = ((p - Y) ** 2).sum(axis=1)
        dp = 2.0 * (p - Y)
        if output == "softmax":
            dz = p * (dp - (dp * p).sum(axis=1, keepdims=True))
        else:
            dz = dp * p * (1.0 - p)
    value = per_sample.mean() + 0.5 * alpha * sum((W**2).sum() for W in coefs) / n
    dz = dz / n
    grad_W = [None] * len(coefs)
    grad_b = [None] * len(coefs)
    for layer in range(len(coefs) - 1, -1, -1):
        grad_W[layer] = activations[layer].T @ dz + alpha * coefs[layer] / n
        grad_b[layer] = dz.sum(axis=0)
        if layer > 0:
            dz = (dz @ coefs[layer].T) * _hidden_grad(pre[layer - 1], hidden)
    return value, grad_W, grad_b, pre[:-1]


def flat(coefs, intercepts):
    """The engine's documented flat layout: every weight matrix row-major, then biases."""
    return np.concatenate([np.ravel(W) for W in coefs] + [np.ravel(b) for b in intercepts])


class SGD:
    """scikit-learn's SGDOptimizer.update, on lists of float64 arrays."""

    def __init__(self, params, lr, momentum, nesterov):
        self.lr, self.momentum, self.nesterov = lr, momentum, nesterov
        self.velocities = [np.zeros_like(p) for p in params]

    def step(self, params, grads):
        updates = [
            self.momentum * v - self.lr * g for v, g in zip(self.velocities, grads, strict=True)
        ]
        self.velocities = updates
        if self.nesterov:
            updates = [
                self.momentum * v - self.lr * g for v, g in zip(self.velocities, grads, strict=True)
            ]
        return [p + u for p, u in zip(params, updates, strict=True)]


class Adam:
    """scikit-learn's AdamOptimizer.update, on lists of float64 arrays."""

    def __init__(self, params, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        self.lr0, self.beta_1, self.beta_2, self.epsilon = lr, beta_1, beta_2, epsilon
        self.t = 0
        self.ms = [np.zeros_like(p) for p in params]
        self.vs = [np.zeros_like(p) for p in params]

    def step(self, params, grads):
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        self.ms = [b1 * m + (1 - b1) * g for m, g in zip(self.ms, grads, strict=True)]
        self.vs = [b2 * v + (1 - b2) * g**2 for v, g in zip(self.vs, grads, strict=True)]
        lr = self.lr0 * np.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        return [
            p - lr * m / (np.sqrt(v) + self.epsilon)
            for p, m, v in zip(params, self.ms, self.vs, strict=True)
        ]


# -- the kernels from Python -------------------------------------------------------------------


def loss(network: Network, X: np.ndarray, y: np.ndarray, alpha: float = 0.0,
         sample_weight: np.ndarray | None = None) -> float:
    """Mean loss over (X, y) plus the L2 term, without changing parameters.

    Parameters
    ----------
    X : ndarray of shape (n, d), C-contiguous
        uint8, float32 or float64.
    y : ndarray of shape (n,) int64, or (n, k) float
        Class indices (output columns), or regression targets.
    alpha : float, default=0.0
        L2 strength; adds ``0.5 * alpha * ||W||^2 / n`` (n: the sum of weights).
    sample_weight : ndarray of shape (n,), optional
        Weights of the samples in the mean.

    Returns
    -------
    float
    """
    return gradients(network, X, y, alpha, sample_weight)[0]

def gradients(network: Network, X: np.ndarray, y: np.ndarray, alpha: float = 0.0,
              sample_weight: np.ndarray | None = None):
    """Mean loss and its gradient over all of (X, y) taken as one batch.

    For gradient checks and tests; training never materializes a
    full-data batch.

    Parameters
    ----------
    X : ndarray of shape (n, d), C-contiguous
        uint8, float32 or float64.
    y : ndarray of shape (n,) int64, or (n, k) float
        Class indices, or regression targets.
    alpha : float, default=0.0
        L2 strength, as scikit-learn applies it.
    sample_weight : ndarray of shape (n,), optional
        Weights of the samples; the mean is over their sum, as scikit-learn's.

    Returns
    -------
    loss : float
        Mean loss plus ``0.5 * alpha * ||W||^2 / n`` (n: the sum of weights).
    grads : ndarray of shape (n_params,), dtype F
        A new flat array laid out like ``params``.
    """
    inputs = TrainingInput(X, network.dtype)
    n = X.shape[0]
    total = float(n if sample_weight is None else np.sum(sample_weight, dtype=np.float64))
    ws = Workspace(network, n, X)
    rows = np.arange(n, dtype=np.int64)
    targets = kernels.make_targets(y, sample_weight, network.dtype)
    loss = _forward_loss(network, ws, inputs, rows, targets, 0, n, network.dtype.type(1 / total))
    _backward(network, ws, n)
    grads = ws.grads.copy()
    if alpha:
        loss += 0.5 * alpha * network.weights_squared_norm()
        grads[: network.n_weights] += alpha / total * network.params[: network.n_weights]
    return loss / total, grads

def _forward_loss(network: Network, ws, inputs, rows, targets, start, stop, mean) -> float:
    """Forward pass of one batch into ws, ending with the output delta (each row's
    scaled by ``mean`` and its weight); returns the summed loss of the batch."""
    batch = ws.batch(stop - start)
    A = batch.inputs
    kernels.gather_rows(inputs.X, rows, start, stop, inputs.scale, A)
    for layer in range(network.n_layers):
        Z = batch.activations[layer]
        np.matmul(A, network.coefs[layer], out=Z)
        if layer < network.n_layers - 1:
            kernels.bias_activation(Z, network.intercepts[layer], network.hidden_kind)
        A = Z
    return kernels.output_delta(
        Z, network.intercepts[-1], targets, rows[start:stop], network.output_kind,
        network.loss_kind, mean, batch.deltas[-1], ws.grad_intercepts[-1],
    )

def _backward(network: Network, ws, m: int) -> None:
    """Gradients of the m-row batch whose forward pass is in ws, into ws.grads."""
    batch = ws.batch(m)
    for layer in range(network.n_layers - 1, -1, -1):
        delta = batch.deltas[layer]
        prev = batch.inputs if layer == 0 else batch.activations[layer - 1]
        np.matmul(prev.T, delta, out=ws.grad_coefs[layer])
        if layer > 0:
            below = batch.deltas[layer - 1]
            np.matmul(delta, network.coefs[layer].T, out=below)
            kernels.hidden_delta(below, prev, network.hidden_kind, ws.grad_intercepts[layer - 1])
