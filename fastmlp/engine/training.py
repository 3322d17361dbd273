"""The engine side of a fit: initial weights, the optimizer, and guarded epochs.

[MLPClassifier][fastmlp.estimator.MLPClassifier] orchestrates a fit (checks,
initialization, the epoch loop, its attributes, callbacks and stopping); what
it asks of this module is the arithmetic and the engine choices it need not
know about: how initial weights are drawn, which optimizer a solver name
means, and how one epoch runs on the network (per-sample kernel or
mini-batches, the batch buffers, the divergence guard).
"""

import contextlib
import copy
import math
from typing import NamedTuple

import numpy as np

from fastmlp import validation
from fastmlp.engine import kernels
from fastmlp.engine.network import Network, TrainingInput, Workspace
from fastmlp.engine.optimizers import AdamOptimizer, SGDOptimizer, StochasticOptimizer
from fastmlp.exceptions import DivergenceError, NonFiniteInputError


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


BLOWUP_FACTOR = 10
"""A fit that ends with a loss above this many uniform guesses' has blown up.

With the log loss, ten times a uniform guess's loss means the model gives the
true class a mean log-probability ten times below chance (below 1e-10 on
average for ten classes): confidently wrong about the very data it was
trained on, which a run that ends well never is; ordinary runs end below 1
uniform guess (the tests check it, with label noise, unscaled features and
step sizes near the edge of stability). Only the end counts, since a run at
the edge of stability can spike to 100 guesses mid-way and still end well:
the last epoch's loss, or with early stopping (which keeps the weights of the
best validation score, not the last) the lowest of the run. The squared error
is bounded (at most 2, or ``k`` with logistic outputs) and never reaches the
threshold: its blow-ups saturate rather than explode.
"""


def chance_loss(loss: str, output_activation: str, n_outputs: int) -> float:
    """The mean loss of a uniform guess, about what an untrained network scores.

    Parameters
    ----------
    loss : str
        The training loss, ``"log_loss"`` or ``"squared_error"``.
    output_activation : str
        The output layer, ``"softmax"`` or ``"logistic"``.
    n_outputs : int
        Output units k.

    Returns
    -------
    float
        ``ln k`` (softmax) or ``k ln 2`` (logistic) for the log loss;
        ``(k - 1) / k`` or ``k / 4`` for the squared error.
    """
    k = n_outputs
    if loss == "log_loss":
        return math.log(k) if output_activation == "softmax" else k * math.log(2)
    return (k - 1) / k if output_activation == "softmax" else k / 4


def check_blowup(loss: float, chance: float, learning_rate_init: float) -> None:
    """Raise ``DivergenceError`` if a fit ended with a finite but blown-up loss.

    Parameters
    ----------
    loss : float
        The loss the fit ended with (see ``BLOWUP_FACTOR``).
    chance : float
        A uniform guess's loss ([chance_loss][fastmlp.engine.training.chance_loss]).
    learning_rate_init : float
        The model's setting, for the advice.
    """
    if loss > BLOWUP_FACTOR * chance:
        raise DivergenceError(
            f"Training diverged: the loss ended at {loss:.3g}, more than {BLOWUP_FACTOR} "
            f"times the {chance:.3g} of a uniform guess; the model predicts no better than "
            f"chance. Lower learning_rate_init (now {learning_rate_init}), or scale the "
            "input features to about [0, 1]."
        )


def _explain_bad_input(X: np.ndarray, dtype: np.dtype) -> float:
    """Raise NonFiniteInputError naming the first NaN or infinity of X, or the
    overflow of a float64 X into float32; if X is neither, the infinite loss came
    from the weights: return NaN so that the divergence guard reports it."""
    try:
        validation.check_all_finite(X)
    except ValueError as error:
        raise NonFiniteInputError(str(error)) from None
    limit = np.finfo(dtype).max
    if X.dtype.itemsize > dtype.itemsize and (X.max() > limit or X.min() < -limit):
        raise NonFiniteInputError(
            f"Input X holds values beyond {dtype}'s range (+-{limit:.3g}); scale X or use "
            "dtype='float64'."
        )
    return math.nan


@contextlib.contextmanager
def unchanged_on_bad_input(estimator):
    """Bad input met mid-epoch leaves the estimator as it was before the call
    (fitted attributes, network, optimizer), as a check before any work would."""
    before = estimator.__dict__.copy()
    try:
        yield
    except NonFiniteInputError:
        estimator.__dict__.clear()
        estimator.__dict__.update(before)
        raise


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
        params["epsilon"], params["learning_rate"],
    )


class EpochSettings(NamedTuple):
    """The estimator's settings an epoch follows."""

    batch_size: int
    """Samples per step, at most ``n_samples``."""
    alpha: float
    """L2 strength."""
    shuffle: bool
    """Visit the rows in a new random order every epoch."""
    n_epochs: int
    """The fit's ``max_iter``, the horizon of the ``"cosine"`` schedule."""


class Epochs:
    """The epochs of one fit: one shuffled pass over (X, y) per call, guarded.

    Batch size 1 with a stateless optimizer (plain SGD), unweighted class labels,
    runs the per-sample steps, skipping the zeros of mostly-zero input; anything
    else (regression and sample weights included) runs mini-batches
    in buffers allocated here, once. Before every epoch the weights and the
    optimizer state are snapshotted; if the epoch ends with a non-finite loss
    or weights, both are restored and ``DivergenceError`` is raised.

    Parameters
    ----------
    network : Network
        Trained in place.
    optimizer : StochasticOptimizer
        Its state is updated in place (and restored on divergence).
    X : ndarray of shape (n_samples, n_features), or csr.Rows
        uint8 or the network's dtype, C-contiguous; CSR rows train in
        mini-batches (also of one sample) over their stored entries.
    y : ndarray of shape (n_samples,) int64, or (n_samples, k) float
        Class indices, or regression targets.
    settings : EpochSettings
        The batch size, L2 strength, shuffling and number of epochs.
    rng : numpy.random.Generator
        Draws the orders.
    check_input : bool, default=False
        X has not been checked for NaN and infinity yet: the first epoch checks
        each batch as it reads it (raising ValueError, weights untouched).
    sample_weight : ndarray of shape (n_samples,), optional
        Checked weights; each batch's loss is their weighted mean.
    """

    def __init__(
        self,
        network: Network,
        optimizer: StochasticOptimizer,
        X: np.ndarray,
        y: np.ndarray,
        settings: "EpochSettings",
        rng: np.random.Generator,
        *,
        check_input: bool = False,
        sample_weight: np.ndarray | None = None,
    ) -> None:
        self.network, self.optimizer = network, optimizer
        self.targets = kernels.make_targets(y, sample_weight, network.dtype)
        batch_size, self.alpha, self.shuffle, self.n_epochs = settings
        dense = isinstance(X, np.ndarray)  # else CSR rows, checked as they were built
        self.check_input = check_input and dense
        self.rng = rng
        self.n_samples = X.shape[0]
        # the per-sample steps train unweighted class labels only (weights all 1 are
        # the unweighted fit, as the mini-batch steps would compute it)
        unweighted = sample_weight is None or bool((sample_weight == 1).all())
        self.per_sample = (dense and batch_size == 1 and optimizer.plain and unweighted
                           and y.dtype.kind != "f")
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
        # after the snapshot, so that an epoch undone also undoes its step in the schedule
        optimizer.epoch_starts(self.n_epochs)
        try:
            if self.per_sample:
                loss = network.train_per_sample(
                    self.inputs, self.targets.labels, rows, optimizer.learning_rate, self.alpha,
                    check_input=self.check_input,
                )
            else:
                loss = network.train_batches(
                    self.workspace, self.inputs, self.targets, rows, optimizer, self.alpha,
                    check_input=self.check_input,
                )
        except NonFiniteInputError:
            network.params[:] = weights
            optimizer.load_state(state)
            loss = _explain_bad_input(self.inputs.X, network.dtype)
        except KeyboardInterrupt:
            # Ctrl-C lands between two compiled chunks of the epoch: put back the weights
            # and optimizer state of its start, so n_iter_ and t_ still describe them
            network.params[:] = weights
            optimizer.load_state(state)
            raise
        self.check_input = False
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
