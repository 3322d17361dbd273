"""The engine side of a fit: initial weights, the optimizer, and guarded epochs.

[MLPClassifier][fastmlp.estimator.MLPClassifier] orchestrates a fit (checks,
initialization, the epoch loop, its attributes, callbacks and stopping); what
it asks of this module is the arithmetic and the engine choices it need not
know about: how initial weights are drawn, which optimizer a solver name
means, and how one epoch runs on the network (per-sample kernel or
mini-batches, the batch buffers, the divergence guard).
"""

import copy
import math

import numpy as np

from fastmlp.exceptions import DivergenceError
from fastmlp.network import Network, TrainingInput, Workspace
from fastmlp.solvers import AdamOptimizer, SGDOptimizer, StochasticOptimizer


def initialize_weights(
    network: Network, scheme: str, activation: str, init_scale: float, rng: np.random.Generator
) -> None:
    """Draw the network's initial weights and biases, in place.

    Parameters
    ----------
    network : Network
        Its ``coefs`` and ``intercepts`` (views of the flat buffer) are filled.
    scheme : str
        ``"glorot"``: uniform in +-sqrt(6 / (fan_in + fan_out)) (factor 2 for
        logistic units), as scikit-learn; ``"normal"``: N(0, 1) * ``init_scale``,
        as the notebook.
    activation : str
        The hidden activation (for Glorot's factor).
    init_scale : float
        Standard deviation of ``"normal"``.
    rng : numpy.random.Generator
        The fit's random generator.
    """
    for coef, intercept in zip(network.coefs, network.intercepts, strict=True):
        fan_in, fan_out = coef.shape
        if scheme == "normal":
            coef[:] = rng.standard_normal(coef.shape) * init_scale
            intercept[:] = rng.standard_normal(fan_out) * init_scale
        else:
            # Glorot & Bengio (2010), with scikit-learn's factor for logistic units
            factor = 2.0 if activation == "logistic" else 6.0
            bound = math.sqrt(factor / (fan_in + fan_out))
            coef[:] = rng.uniform(-bound, bound, coef.shape)
            intercept[:] = rng.uniform(-bound, bound, fan_out)


def make_optimizer(params: dict, network: Network) -> StochasticOptimizer:
    """The optimizer that MLPClassifier's parameters ``params`` describe, for ``network``."""
    n_params, dtype = network.params.size, network.dtype
    if params["solver"] == "sgd":
        return SGDOptimizer(
            n_params, dtype, params["learning_rate_init"], params["learning_rate"],
            params["momentum"], params["nesterovs_momentum"], params["power_t"],
        )
    return AdamOptimizer(
        n_params, dtype, params["learning_rate_init"], params["beta_1"], params["beta_2"],
        params["epsilon"],
    )


class Epochs:
    """The epochs of one fit: one shuffled pass over (X, y) per call, guarded.

    Batch size 1 with a stateless optimizer (plain SGD) runs the per-sample
    kernel on a CSR copy of mostly-zero input; anything else runs mini-batches
    in buffers allocated here, once. Before every epoch the weights and the
    optimizer state are snapshotted; if the epoch ends with a non-finite loss
    or weights, both are restored and ``DivergenceError`` is raised.

    Parameters
    ----------
    network : Network
        Trained in place.
    optimizer : StochasticOptimizer
        Its state is updated in place (and restored on divergence).
    X : ndarray of shape (n_samples, n_features)
        uint8 or the network's dtype, C-contiguous.
    y : ndarray of shape (n_samples,)
        Class indices, int64.
    batch_size : int
        Samples per step, at most ``n_samples``.
    alpha : float
        L2 strength.
    shuffle : bool
        Visit the rows in a new random order every epoch.
    rng : numpy.random.Generator
        Draws the orders.
    """

    def __init__(
        self,
        network: Network,
        optimizer: StochasticOptimizer,
        X: np.ndarray,
        y: np.ndarray,
        batch_size: int,
        alpha: float,
        shuffle: bool,
        rng: np.random.Generator,
    ) -> None:
        self.network, self.optimizer, self.y = network, optimizer, y
        self.alpha, self.shuffle, self.rng = alpha, shuffle, rng
        self.n_samples = X.shape[0]
        self.per_sample = batch_size == 1 and optimizer.plain
        self.workspace = None if self.per_sample else Workspace(network, batch_size, X)
        self.inputs = TrainingInput(X, network.dtype, sparse_first_layer=self.per_sample)

    def run(self, epoch: int, learning_rate_init: float) -> float:
        """One epoch; returns its mean training loss.

        Parameters
        ----------
        epoch : int
            The epoch's number, for the message.
        learning_rate_init : float
            The model's setting, for the advice in the message.

        Raises
        ------
        DivergenceError
            The loss or the weights became non-finite; the weights and the
            optimizer state of before the epoch are back.
        """
        network, optimizer, n = self.network, self.optimizer, self.n_samples
        rows = self.rng.permutation(n) if self.shuffle else np.arange(n)
        weights, state = network.params.copy(), copy.deepcopy(optimizer.state())
        if self.per_sample:
            loss = network.train_per_sample(
                self.inputs, self.y, rows, optimizer.learning_rate, self.alpha
            )
        else:
            loss = network.train_batches(
                self.workspace, self.inputs, self.y, rows, optimizer, self.alpha
            )
        # The epoch's last step can overflow the weights after its loss was
        # computed, so the weights themselves are checked too.
        if not (math.isfinite(loss) and np.isfinite(network.params).all()):
            network.params[:] = weights
            optimizer.load_state(state)
            what = f"the loss became {loss}" if not math.isfinite(loss) else (
                "the weights became non-finite"
            )
            raise DivergenceError(
                f"Training diverged in epoch {epoch}: {what}. The weights of the last "
                f"finite epoch were restored. Lower learning_rate_init (now "
                f"{learning_rate_init}), or scale the input features to about [0, 1]."
            )
        return loss
