"""The naive baseline: the teaching notebook's training loop, kept deliberately naive.

A faithful port of the notebook fastmlp grew from: a 784-16-10 network with
sigmoid hidden and output layers, the per-sample cost sum((y_hat - y) ** 2),
plain SGD, one sample at a time, in file order, in float64 NumPy. It is the
reference for correctness and the yardstick for speed; do not optimize it.
It depends on nothing else in fastmlp.
"""

from dataclasses import dataclass

import numpy as np


@dataclass
class NaiveWeights:
    """Parameters in the notebook's layout (output units first), all float64.

    Attributes
    ----------
    input_weights : ndarray of shape (hidden, 784)
    hidden_biases : ndarray of shape (hidden,)
    output_weights : ndarray of shape (10, hidden)
    output_biases : ndarray of shape (10,)
    """

    input_weights: np.ndarray  # (hidden, 784) float64
    hidden_biases: np.ndarray  # (hidden,) float64
    output_weights: np.ndarray  # (10, hidden) float64
    output_biases: np.ndarray  # (10,) float64

    def copy(self) -> "NaiveWeights":
        """A deep copy, every array as float64."""
        return NaiveWeights(*(np.array(a, dtype=np.float64) for a in vars(self).values()))


def init_weights(
    hidden: int = 16, n_inputs: int = 784, n_outputs: int = 10, seed: int | None = None
) -> NaiveWeights:
    """N(0, 1) * 0.01 draws in the notebook's order: biases, then weights.

    Parameters
    ----------
    hidden : int, default=16
        Hidden units.
    n_inputs : int, default=784
        Input features.
    n_outputs : int, default=10
        Output units.
    seed : int, optional
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    NaiveWeights
        float64 arrays in the notebook's layout.
    """
    rng = np.random.default_rng(seed)
    hidden_biases = rng.standard_normal(hidden) * 0.01
    output_biases = rng.standard_normal(n_outputs) * 0.01
    input_weights = rng.standard_normal((hidden, n_inputs)) * 0.01
    output_weights = rng.standard_normal((n_outputs, hidden)) * 0.01
    return NaiveWeights(input_weights, hidden_biases, output_weights, output_biases)


def sigmoid(x):
    """The logistic function 1 / (1 + exp(-x)), elementwise, as in the notebook."""
    return 1 / (1 + np.exp(-(x)))


def d_sigmoid(x):
    """Its derivative, sigmoid(x) * (1 - sigmoid(x)), recomputing sigmoid twice as the notebook."""
    return sigmoid(x) * (1 - sigmoid(x))


def cost_fn(y_hat, y):
    """Per-output squared error (y_hat - y) ** 2; the notebook sums it over the outputs."""
    return (y_hat - y) ** 2


def d_cost_fn(y_hat, y):
    """Derivative of [`cost_fn`][fastmlp.baseline.cost_fn] in y_hat: 2 * (y_hat - y)."""
    return 2 * (y_hat - y)


def _as_pixels(x: np.ndarray) -> np.ndarray:
    """(n, 28, 28) or (n, 784); uint8 is scaled to [0, 1] as the notebook does."""
    x = np.asarray(x)
    x = x.reshape(x.shape[0], -1)
    return x / 255.0 if x.dtype == np.uint8 else x.astype(np.float64)


def train(
    x_train: np.ndarray,
    y_train: np.ndarray,
    epochs: int = 5,
    learning_rate: float = 0.01,
    hidden: int = 16,
    seed: int | None = None,
    weights: NaiveWeights | None = None,
) -> tuple[NaiveWeights, list[float]]:
    """Train the notebook's network one sample at a time.

    Parameters
    ----------
    x_train : ndarray of shape (n, 28, 28) or (n, 784)
        uint8 pixels (scaled by 1/255, as the notebook does) or floats (converted
        to float64 as they are).
    y_train : ndarray of shape (n,)
        Integer digit labels 0-9.
    epochs : int
        Passes over the data, each in file order.
    learning_rate : float
        SGD step size.
    hidden : int
        Hidden units, when the weights are drawn here.
    seed : int, optional
        Seed for [`init_weights`][fastmlp.baseline.init_weights] when ``weights`` is None.
    weights : NaiveWeights, optional
        Initial weights (copied); drawn from ``seed`` when None.

    Returns
    -------
    weights : NaiveWeights
        The trained weights.
    epoch_costs : list of float
        The mean per-sample cost of each epoch.
    """
    x_train = _as_pixels(x_train)
    w = (weights or init_weights(hidden, x_train.shape[1], seed=seed)).copy()
    n_outputs = w.output_biases.shape[0]
    epoch_cost_arr = []
    for _ in range(epochs):
        cost_arr = []
        for i in range(x_train.shape[0]):
            # feed forward
            input_layer = x_train[i]
            hidden_layer_z = np.dot(w.input_weights, input_layer) + w.hidden_biases
            hidden_layer_activation = sigmoid(hidden_layer_z)
            y_hat_z = np.dot(w.output_weights, hidden_layer_activation) + w.output_biases
            y_hat = sigmoid(y_hat_z)
            y = np.zeros(n_outputs)
            y[y_train[i]] = 1
            cost = cost_fn(y_hat, y)

            # backpropagation
            delta = d_cost_fn(y_hat, y) * d_sigmoid(y_hat_z)
            slope_b1 = delta
            slope_w1 = np.dot(delta.reshape(-1, 1), hidden_layer_activation.reshape(1, -1))
            delta = np.dot(delta, w.output_weights) * d_sigmoid(hidden_layer_z)
            slope_b0 = delta
            slope_w0 = np.dot(delta.reshape(-1, 1), input_layer.reshape(1, -1))

            w.hidden_biases -= slope_b0 * learning_rate
            w.output_biases -= slope_b1 * learning_rate
            w.input_weights -= slope_w0 * learning_rate
            w.output_weights -= slope_w1 * learning_rate
            cost_arr.append(np.sum(cost))
        epoch_cost_arr.append(float(np.average(cost_arr)))
    return w, epoch_cost_arr


def predict(weights: NaiveWeights, x: np.ndarray) -> np.ndarray:
    """Predicted digit for each row, one sample at a time as the notebook evaluates.

    Parameters
    ----------
    weights : NaiveWeights
    x : ndarray of shape (n, 28, 28) or (n, 784)
        uint8 pixels or floats, as for [`train`][fastmlp.baseline.train].

    Returns
    -------
    ndarray of shape (n,), int64
    """
    x = _as_pixels(x)
    out = np.empty(x.shape[0], dtype=np.int64)
    for i in range(x.shape[0]):
        hidden = sigmoid(np.dot(weights.input_weights, x[i]) + weights.hidden_biases)
        out[i] = np.argmax(sigmoid(np.dot(weights.output_weights, hidden) + weights.output_biases))
    return out
