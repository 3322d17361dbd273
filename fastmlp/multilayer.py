"""The training loop shared by MLPClassifier and MLPRegressor.

[BaseMultilayerPerceptron][fastmlp.multilayer.BaseMultilayerPerceptron]
orchestrates a fit: it checks the parameters, the input and the sample
weights, initializes the network, runs the epoch loop (shuffling, early
stopping, learning-rate schedules, divergence guard, callbacks) and hands
every numerical pass to [Network][fastmlp.engine.network.Network]. The two estimators
are thin: each says what its targets are, how they are encoded and split, and
how a validation split is scored (accuracy or R²), as scikit-learn's
``BaseMultilayerPerceptron`` leaves to its two subclasses.
"""

import time
import warnings

import numpy as np

from fastmlp import numeric, parameters, targets
from fastmlp.base import BaseEstimator
from fastmlp.engine import csr, training
from fastmlp.engine.network import Network
from fastmlp.exceptions import ConvergenceWarning, compatible
from fastmlp.fitted import FittedMLP

UNCHANGED = "$UNCHANGED$"  # scikit-learn's marker for "keep this request as it is"


class MetadataRequests(dict):
    """``{method: {metadata: request}}`` set by ``set_fit_request`` and its siblings.

    A dict that scikit-learn's ``clone`` copies (it clones an estimator's
    ``_metadata_request``, and refuses plain values inside a dict).
    """

    def __sklearn_clone__(self) -> "MetadataRequests":
        return MetadataRequests({method: dict(requests) for method, requests in self.items()})


class BaseMultilayerPerceptron(FittedMLP, BaseEstimator):
    """Parameters, training loop and metadata requests of both estimators.

    Subclasses define the constructor (scikit-learn's parameters) and
    ``_parameter_constraints``, and the hooks ``_encode_targets``,
    ``_n_outputs``, ``_split``, ``_validation_score`` and ``_chance_loss``.
    """

    _parameter_constraints: dict = parameters.PARAMETER_CONSTRAINTS

    # -- metadata routing: which methods take sample_weight -------------------------------

    def _request(self, method: str, sample_weight) -> "BaseMultilayerPerceptron":
        if sample_weight is not UNCHANGED:
            requests = self.__dict__.setdefault("_metadata_request", MetadataRequests())
            requests.setdefault(method, {})["sample_weight"] = sample_weight
        return self

    def set_fit_request(self, *, sample_weight=UNCHANGED) -> "BaseMultilayerPerceptron":
        """Whether meta-estimators pass ``sample_weight`` to ``fit``, with
        scikit-learn's metadata routing (``sklearn.set_config(enable_metadata_routing=True)``).

        Parameters
        ----------
        sample_weight : bool, str or None
            True: pass it; False: do not; None: refuse it if given (the
            default); a str: pass the metadata of that name as ``sample_weight``.

        Returns
        -------
        self
        """
        return self._request("fit", sample_weight)

    def set_partial_fit_request(self, *, sample_weight=UNCHANGED) -> "BaseMultilayerPerceptron":
        """As [set_fit_request][fastmlp.multilayer.BaseMultilayerPerceptron.set_fit_request],
        for ``partial_fit``."""
        return self._request("partial_fit", sample_weight)

    def set_score_request(self, *, sample_weight=UNCHANGED) -> "BaseMultilayerPerceptron":
        """As [set_fit_request][fastmlp.multilayer.BaseMultilayerPerceptron.set_fit_request],
        for ``score``."""
        return self._request("score", sample_weight)

    def get_metadata_routing(self):
        """The metadata requests, as scikit-learn's ``MetadataRequest`` (imports scikit-learn).

        Returns
        -------
        sklearn.utils.metadata_routing.MetadataRequest
        """
        from sklearn.utils.metadata_routing import MetadataRequest

        routing = MetadataRequest(owner=self)
        requested = self.__dict__.get("_metadata_request", {})
        for method in ("fit", "partial_fit", "score"):
            alias = requested.get(method, {}).get("sample_weight")
            getattr(routing, method).add_request(param="sample_weight", alias=alias)
        return routing

    # -- training loop ------------------------------------------------------------------

    def _validate_params(self) -> None:
        parameters.check_fields(self.get_params(), self._parameter_constraints, "parameters")

    def _fit(self, X, y, incremental, sample_weight=None, coef_init=None, intercept_init=None,
             **target_options):
        before = self.__dict__.copy()
        try:
            X, y, weights, rng = self._check_fit_input(
                X, y, incremental, sample_weight, **target_options)
        except (ValueError, TypeError):
            # a refused input leaves the estimator as it was: no attribute half-set
            self.__dict__.clear()
            self.__dict__.update(before)
            raise
        if not self.__sklearn_is_fitted__() or not (self.warm_start or incremental):
            self._initialize(X, rng, self._n_outputs(y))
        if coef_init is not None:
            self.coefs_ = coef_init
        if intercept_init is not None:
            self.intercepts_ = intercept_init
        if not incremental or "_optimizer" not in self.__dict__:
            self._optimizer = training.make_optimizer(self.get_params(), self._network)
        validation_set = None
        if self.early_stopping:  # partial_fit refuses early_stopping=True
            try:
                X, y, weights, validation_set = self._hold_out(X, y, weights, rng)
            except ValueError:  # a split that cannot be made leaves the estimator as it was
                self.__dict__.clear()
                self.__dict__.update(before)
                raise
        batch_size = parameters.check_batch_size(self.batch_size, X.shape[0])
        settings = training.EpochSettings(batch_size, self.alpha, self.shuffle, self.max_iter)
        epochs = training.Epochs(
            self._network, self._optimizer, X, y, settings, rng,
            check_input=not self.early_stopping, sample_weight=weights,
        )
        self._run_epochs(epochs, int(X.shape[0]), incremental, validation_set)
        return self

    def _check_fit_input(self, X, y, incremental, sample_weight, **target_options):
        """Parameters, X, sample weights and targets checked; (X, encoded y, weights, rng)."""
        self._validate_params()
        reset = not self.__sklearn_is_fitted__() or not (self.warm_start or incremental)
        if not reset:
            parameters.check_same_architecture(self, self._fitted_architecture(), incremental)
        # Without a validation split, the first epoch checks X for NaN and infinity
        # as it reads each batch, instead of a separate pass over all of X.
        X = self._validate_X(X, reset=reset, check_finite=self.early_stopping)
        dtype = self._network.dtype if not reset else numeric.float_dtype(self.dtype, X)
        weights = targets.check_sample_weight(sample_weight, X.shape[0], dtype)
        y = self._encode_targets(y, X.shape[0], dtype, reset=reset, incremental=incremental,
                                 **target_options)
        return X, y, weights, parameters.check_random_state(self.random_state)

    def _hold_out(self, X, y, weights, rng):
        """Split off the validation set of early stopping: (X, y, weights) to train on,
        and (X_val, y_val, weights_val) to score."""
        train, val = self._split(y, rng)
        if weights is not None and not weights[train].any():
            raise ValueError(
                "sample_weight is zero for every sample left for training after the "
                "validation split; give more samples a positive weight."
            )
        held_out = (csr.take(X, val), y[val], None if weights is None else weights[val])
        return (csr.take(X, train), y[train],
                None if weights is None else weights[train], held_out)

    def _run_epochs(self, epochs, n_samples: int, incremental: bool, validation_set) -> None:
        """The epoch loop: stopping rules, verbose output, callbacks; the end's checks."""
        early_stopping = validation_set is not None
        self.n_iter_ = 0  # epochs of this call, as scikit-learn counts them
        for _ in range(1 if incremental else self.max_iter):
            started = time.perf_counter()
            loss = epochs.run(self.n_iter_ + 1, self.learning_rate_init)
            self.n_iter_ += 1
            self.t_ += n_samples
            self.loss_ = loss
            self.loss_curve_.append(loss)
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {loss:.8f}")
            validation_score = self._update_no_improvement(loss, validation_set)
            if self.verbose and early_stopping:
                print(f"Validation score: {validation_score:f}")
            self._optimizer.iteration_ends(self.t_)
            info = {"epoch": self.n_iter_, "loss": loss, "seconds": time.perf_counter() - started,
                    "n_samples": n_samples, "validation_score": validation_score}
            for callback in self.callbacks or ():
                callback(self, info)
            if incremental:
                break
            if self._no_improvement_count > self.n_iter_no_change:
                what = "Validation score" if early_stopping else "Training loss"
                msg = (
                    f"{what} did not improve more than tol={self.tol:f} for "
                    f"{self.n_iter_no_change} consecutive epochs."
                )
                if self._optimizer.trigger_stopping(msg, self.verbose):
                    break
                self._no_improvement_count = 0
        else:
            if not incremental:
                warnings.warn(
                    f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and "
                    "the optimization hasn't converged yet.",
                    compatible(ConvergenceWarning),
                    stacklevel=4,
                )
        if early_stopping:  # the best epoch's weights, measured on held-out data
            self._network.params[:] = self._best_params
        chance = self._chance_loss()
        if chance is not None:
            # a blow-up the model keeps: in the last epoch, or with early stopping in all
            ended = min(self.loss_curve_[-self.n_iter_:]) if early_stopping else self.loss_
            training.check_blowup(ended, chance, self.learning_rate_init)

    def _update_no_improvement(self, loss: float, validation_set) -> float | None:
        """Count epochs without a ``tol`` improvement, as scikit-learn; the validation score."""
        if validation_set is None:  # the training loss must fall by tol
            score, stalled = None, loss > self.best_loss_ - self.tol
            self.best_loss_ = min(self.best_loss_, loss)
        else:  # the validation score must rise by tol
            score = self._validation_score(*validation_set)
            self.validation_scores_.append(score)
            stalled = score < self.best_validation_score_ + self.tol
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_params = self._network.params.copy()
        self._no_improvement_count = self._no_improvement_count + 1 if stalled else 0
        return score

    # -- setup ------------------------------------------------------------------------

    def _initialize(self, X: np.ndarray, rng: np.random.Generator, n_outputs: int) -> None:
        hidden = parameters.hidden_sizes(self.hidden_layer_sizes)
        layer_sizes = (X.shape[1], *hidden, n_outputs)
        dtype = numeric.float_dtype(self.dtype, X)
        parameters.check_memory(self.hidden_layer_sizes, layer_sizes, dtype, self.solver)
        shaping = self._shaping()
        try:
            network = Network(
                layer_sizes, self.activation, shaping["output_activation"], shaping["loss"], dtype
            )
            training.initialize_weights(
                network, self.weight_init, self.activation, self.init_scale, rng
            )
        except MemoryError as error:
            raise MemoryError(
                f"hidden_layer_sizes={self.hidden_layer_sizes!r}: {error}. Use fewer or "
                "smaller hidden layers."
            ) from None
        self._reset_fitted_state(network)
