"""MLPClassifier: scikit-learn's interface, fastmlp's engine.

The estimator orchestrates: it validates input, encodes labels, owns the
epoch loop (shuffling, early stopping, learning-rate schedules, divergence
guard, callbacks) and hands every numerical pass to
[Network][fastmlp.network.Network].
"""

import copy
import math
import numbers
import sys
import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from fastmlp import options
from fastmlp.base import (
    BaseEstimator,
    ClassifierMixin,
    ConvergenceWarning,
    DataConversionWarning,
    NotFittedError,
    compatible,
)
from fastmlp.exceptions import DivergenceError
from fastmlp.network import Network, TrainingInput, Workspace
from fastmlp.solvers import AdamOptimizer, SGDOptimizer

# scikit-learn checks (check_estimator / parametrize_with_checks) that cannot apply to
# this estimator, each with its reason: {check name: reason}. Passed as scikit-learn's
# ``expected_failed_checks``; empty while every check passes.
EXPECTED_FAILED_CHECKS: dict[str, str] = {}


class MLPClassifier(ClassifierMixin, BaseEstimator):
    """Multi-layer perceptron classifier, a drop-in for scikit-learn's.

    Parameters keep the names, meanings and defaults of scikit-learn's
    ``sklearn.neural_network.MLPClassifier`` (solvers ``"sgd"`` and ``"adam"``
    only; no ``max_fun``, which belongs to ``"lbfgs"``); the last six are
    fastmlp's own. Values are checked at ``fit``, which raises ``ValueError``
    naming the parameter.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(100,)
        Units of each hidden layer, e.g. ``(128,)`` or ``(128, 64)``.
    activation : {"relu", "identity", "logistic", "tanh"}, default="relu"
        Activation of the hidden units.
    solver : {"adam", "sgd"}, default="adam"
        Optimizer.
    alpha : float, default=0.0001
        Strength of the L2 penalty on the weights (not the biases).
    batch_size : int or "auto", default="auto"
        Samples per step; ``"auto"`` is ``min(200, n_samples)``. With
        ``batch_size=1`` and plain SGD (``momentum=0``) the per-sample engine
        runs the whole epoch in one compiled kernel.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Step-size schedule of ``solver="sgd"``: constant; decaying as
        ``learning_rate_init / (t + 1) ** power_t`` with ``t`` the samples seen;
        or divided by 5 each time the loss stalls.
    learning_rate_init : float, default=0.001
        Initial step size.
    power_t : float, default=0.5
        Exponent of the ``"invscaling"`` schedule.
    max_iter : int, default=200
        Epochs at most (each sample is seen once per epoch).
    shuffle : bool, default=True
        Reshuffle the samples every epoch.
    random_state : int, numpy.random.RandomState or None, default=None
        Seed of the initial weights, the shuffling and the validation split,
        drawn with ``numpy.random.default_rng``.
    tol : float, default=1e-4
        Minimum improvement of the loss (or validation score) that counts.
    verbose : bool, default=False
        Print the loss after every epoch, as scikit-learn does.
    warm_start : bool, default=False
        ``fit`` continues from the current weights instead of starting over.
    momentum : float, default=0.9
        SGD momentum in [0, 1].
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum (SGD with ``momentum > 0``).
    early_stopping : bool, default=False
        Hold out a stratified ``validation_fraction`` of the training data,
        stop when its accuracy stalls and restore the best epoch's weights.
    validation_fraction : float, default=0.1
        Share held out for ``early_stopping``, in (0, 1).
    beta_1 : float, default=0.9
        Adam's decay rate of the first-moment estimates, in [0, 1).
    beta_2 : float, default=0.999
        Adam's decay rate of the second-moment estimates, in [0, 1).
    epsilon : float, default=1e-8
        Adam's numerical-stability term.
    n_iter_no_change : int, default=10
        Epochs without a ``tol`` improvement before stopping (or, with the
        ``"adaptive"`` schedule, before dividing the step size).
    loss : {"log_loss", "squared_error"}, default="log_loss"
        ``"squared_error"`` is the per-sample sum over outputs of
        ``(y_hat - y) ** 2``, as in the teaching notebook (not scikit-learn's
        half mean).
    output_activation : {"softmax", "logistic"}, default="softmax"
        One output unit per class either way, also for two classes.
    weight_init : {"glorot", "normal"}, default="glorot"
        ``"glorot"`` draws uniform weights as scikit-learn does; ``"normal"``
        draws N(0, 1) * ``init_scale`` for weights and biases, as the notebook.
    init_scale : float, default=0.01
        Standard deviation of the ``"normal"`` initialization.
    dtype : {None, "float32", "float64"}, default=None
        Float type of parameters and arithmetic. None: float32 for uint8 and
        float32 input, float64 otherwise.
    callbacks : sequence of callables, default=None
        Each is called as ``callback(model, info)`` after every epoch, with
        ``info`` a dict of ``epoch``, ``loss``, ``seconds``, ``n_samples`` and
        ``validation_score``. Not stored by ``save``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The sorted class labels, in the dtype of ``y``.
    coefs_ : list of ndarray
        Weights; the i-th of shape (layer_i, layer_i+1), in the model's dtype.
    intercepts_ : list of ndarray
        Biases; the i-th of shape (layer_i+1,), in the model's dtype.
    n_features_in_ : int
        Features seen at fit (pixels, for image stacks).
    feature_names_in_ : ndarray of str, shape (n_features_in_,)
        Column names of X at fit, when X is a data frame with string column names.
    loss_ : float
        The last epoch's training loss.
    loss_curve_ : list of float
        Training loss after every epoch.
    best_loss_ : float or None
        Lowest training loss so far; None with ``early_stopping``.
    validation_scores_ : list of float or None
        Validation accuracy per epoch when ``early_stopping=True``.
    best_validation_score_ : float or None
        Best of ``validation_scores_``.
    n_iter_ : int
        Epochs run by the last call to ``fit`` (1 after ``partial_fit``), as in
        scikit-learn; ``loss_curve_`` and ``t_`` accumulate over warm starts.
    t_ : int
        Training samples seen (scikit-learn's time step).
    n_layers_ : int
        Layers including input and output: ``len(hidden_layer_sizes) + 2``.
    n_outputs_ : int
        Output units: ``n_classes``, also for two classes.
    out_activation_ : str
        The output activation, ``output_activation``.

    Notes
    -----
    uint8 input (such as raw MNIST) is read as 8-bit intensities and scaled by
    1/255 batch by batch, so the data set is never copied to float. Input of
    shape (n, h, w) is flattened to (n, h * w). Fitted parameters live in one
    flat buffer; ``coefs_`` and ``intercepts_`` are views of it, and assigning
    to them copies the given arrays into it (shapes must match).

    Examples
    --------
    >>> from fastmlp import MLPClassifier, load_mnist
    >>> (x_train, y_train), (x_test, y_test) = load_mnist()
    >>> model = MLPClassifier(hidden_layer_sizes=(64,), batch_size=128, max_iter=3,
    ...                       random_state=0)
    >>> model.fit(x_train[:10_000], y_train[:10_000])
    MLPClassifier(batch_size=128, hidden_layer_sizes=(64,), max_iter=3, random_state=0)
    >>> model.predict(x_test[:5])
    array([7, 2, 1, 0, 4], dtype=uint8)
    >>> model.score(x_test, y_test) > 0.9
    True
    """

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] | int = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state=None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        loss: str = "log_loss",
        output_activation: str = "softmax",
        weight_init: str = "glorot",
        init_scale: float = 0.01,
        dtype: str | None = None,
        callbacks: Sequence[Callable] | None = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.loss = loss
        self.output_activation = output_activation
        self.weight_init = weight_init
        self.init_scale = init_scale
        self.dtype = dtype
        self.callbacks = callbacks

    # -- fitted parameters, as views of the network's flat buffer ------------------------

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices, one per layer: the i-th of shape (layer_i, layer_i+1), model dtype.

        Views of the flat parameter buffer, so in-place edits change the model;
        assigning a list copies the arrays in (shapes must match). Raises
        ``NotFittedError`` before ``fit``.
        """
        return self._fitted_network().coefs

    @coefs_.setter
    def coefs_(self, values: Sequence[np.ndarray]) -> None:
        _assign_layers(self._fitted_network().coefs, values, "coefs_")

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors, one per layer: the i-th of shape (layer_i+1,), model dtype.

        Views of the flat parameter buffer, like ``coefs_``.
        """
        return self._fitted_network().intercepts

    @intercepts_.setter
    def intercepts_(self, values: Sequence[np.ndarray]) -> None:
        _assign_layers(self._fitted_network().intercepts, values, "intercepts_")

    @property
    def n_layers_(self) -> int:
        """Layers counting input and output, ``len(hidden_layer_sizes) + 2``."""
        return self._fitted_network().n_layers + 1

    @property
    def n_outputs_(self) -> int:
        """Output units: one per class, 2 for a binary problem (scikit-learn has 1)."""
        return self._fitted_network().layer_sizes[-1]

    @property
    def out_activation_(self) -> str:
        """The output layer's activation, ``"softmax"`` or ``"logistic"``.

        Always ``output_activation``: unlike scikit-learn, binary problems also
        get softmax by default.
        """
        return self.output_activation

    def _fitted_network(self) -> Network:
        try:
            return self.__dict__["_network"]
        except KeyError:
            # NotFittedError is also an AttributeError: hasattr(model, "coefs_") stays False
            raise compatible(NotFittedError)(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            ) from None

    def __sklearn_is_fitted__(self) -> bool:
        return "_network" in self.__dict__

    def __sklearn_tags__(self):
        # Only scikit-learn calls this, so its base class is there to extend.
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False  # dense input only; sparse X is rejected clearly
        tags.input_tags.allow_nan = False
        tags.classifier_tags.multi_label = False
        return tags

    def save(self, path, metadata: dict | None = None) -> None:
        """Write the fitted model to one ``.npz`` file.

        Read it back with [fastmlp.load][fastmlp.persistence.load].
        The file holds the parameters, the hyper-parameters (without
        ``callbacks``), ``classes_``, the fitted attributes and the optimizer
        state: what ``predict``, ``score``, ``warm_start`` and ``partial_fit``
        need. It is written to a temporary file next to ``path`` and renamed
        into place, so a failed save never leaves a half-written file or
        destroys an older one. Loading uses ``allow_pickle=False``.

        Parameters
        ----------
        path : str or os.PathLike
            Target file, conventionally ending in ``.npz``; replaced if it exists.
        metadata : dict, optional
            JSON-serializable values stored alongside, returned by
            [load_with_metadata][fastmlp.persistence.load_with_metadata].

        Raises
        ------
        NotFittedError
            The model is not fitted.
        ValueError
            Class labels or metadata that cannot be stored without pickle.
        OSError
            The file cannot be written.
        """
        from fastmlp.persistence import save

        save(self, path, metadata=metadata)

    # -- public API -------------------------------------------------------------------

    def fit(self, X, y, coef_init=None, intercept_init=None) -> "MLPClassifier":
        """Train on (X, y) for up to ``max_iter`` epochs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w)
            uint8 (scaled by 1/255), integer, float32 or float64.
        y : array-like of shape (n_samples,)
            Class labels of any sortable type.
        coef_init : list of ndarray, optional
            Initial weights shaped like ``coefs_``: (n_in, n_out) per layer.
        intercept_init : list of ndarray, optional
            Initial biases shaped like ``intercepts_``.

        Returns
        -------
        self
        """
        return self._fit(
            X, y, incremental=False, coef_init=coef_init, intercept_init=intercept_init
        )

    def partial_fit(self, X, y, classes=None) -> "MLPClassifier":
        """One epoch over (X, y), keeping weights and optimizer state between calls.

        For data that arrives in chunks. Never warns about convergence, and
        refuses ``early_stopping=True``, as scikit-learn does.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w)
            As for ``fit``; the number of features must not change.
        y : array-like of shape (n_samples,)
            Labels, each one of ``classes``.
        classes : array-like of shape (n_classes,), optional
            All labels that will ever appear. Required on the first call
            (before any ``fit``); later calls may repeat it unchanged.

        Returns
        -------
        self
        """
        if self.solver not in options.SOLVERS:
            raise ValueError(
                f"partial_fit needs solver in {options.SOLVERS}; got {self.solver!r}."
            )
        first_call = "_network" not in self.__dict__
        if first_call and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        if not first_call and classes is not None and not np.array_equal(
            _unique_labels(classes), self.classes_
        ):
            raise ValueError(
                f"`classes={_unique_labels(classes)!r}` is not the same as on last call to "
                f"partial_fit, was: {self.classes_!r}."
            )
        return self._fit(X, y, incremental=True, classes=classes)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities.

        With a logistic output layer the unit outputs are normalized to sum to 1.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w)
            uint8 (scaled by 1/255), integer or float.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            In the model's dtype (float32 or float64); columns follow ``classes_``.
        """
        network = self._fitted_network()
        X = self._validate_X(X, reset=False)
        proba = network.forward(X)
        if self.output_activation == "logistic":
            proba /= np.maximum(proba.sum(axis=1, keepdims=True), np.finfo(proba.dtype).tiny)
        return proba

    def predict_log_proba(self, X) -> np.ndarray:
        """Natural log of ``predict_proba(X)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            In the model's dtype; ``-inf`` where a probability underflowed to 0.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        """Most probable class label for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w)
            uint8 (scaled by 1/255), integer or float.

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``, in their dtype.
        """
        network = self._fitted_network()
        X = self._validate_X(X, reset=False)
        return self.classes_[np.argmax(network.forward(X), axis=1)]

    # -- training loop ----------------------------------------------------------------

    def _fit(self, X, y, incremental, coef_init=None, intercept_init=None, classes=None):
        self._validate_params()
        fitted = "_network" in self.__dict__
        reset = not fitted or not (self.warm_start or incremental)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        X = self._validate_X(X, reset=reset)
        y = self._encode_y(
            y, X.shape[0], reset=reset, classes=classes,
            same_classes=fitted and self.warm_start and not incremental,
        )
        rng = self._rng()
        if reset:
            self._initialize(X, rng)
        if coef_init is not None:
            self.coefs_ = coef_init
        if intercept_init is not None:
            self.intercepts_ = intercept_init
        if not incremental or "_optimizer" not in self.__dict__:
            self._optimizer = self._make_optimizer()

        early_stopping = self.early_stopping  # partial_fit refuses early_stopping=True
        if early_stopping:
            X, y, X_val, y_val = _stratified_split(X, y, self.validation_fraction, rng)
        n_samples = X.shape[0]
        batch_size = self._batch_size(n_samples)
        network = self._network
        per_sample = batch_size == 1 and self._optimizer.plain
        workspace = None if per_sample else Workspace(network, batch_size, X)
        inputs = TrainingInput(X, network.dtype, sparse_first_layer=per_sample)
        max_iter = 1 if incremental else self.max_iter

        self.n_iter_ = 0  # epochs of this call, as scikit-learn counts them
        for _ in range(max_iter):
            started = time.perf_counter()
            rows = rng.permutation(n_samples) if self.shuffle else np.arange(n_samples)
            snapshot = network.params.copy(), copy.deepcopy(self._optimizer)
            if per_sample:
                loss = network.train_per_sample(
                    inputs, y, rows, self._optimizer.learning_rate, self.alpha
                )
            else:
                loss = network.train_batches(
                    workspace, inputs, y, rows, self._optimizer, self.alpha
                )
            # The epoch's last step can overflow the weights after its loss was
            # computed, so the weights themselves are checked too.
            if not (math.isfinite(loss) and np.isfinite(network.params).all()):
                network.params[:], self._optimizer = snapshot
                what = f"the loss became {loss}" if not math.isfinite(loss) else (
                    "the weights became non-finite"
                )
                raise DivergenceError(
                    f"Training diverged in epoch {self.n_iter_ + 1}: {what}. "
                    "The weights of the last finite epoch were restored. Lower "
                    f"learning_rate_init (now {self.learning_rate_init}), or scale the "
                    "input features to about [0, 1]."
                )
            self.n_iter_ += 1
            self.t_ += n_samples
            self.loss_ = loss
            self.loss_curve_.append(loss)
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {loss:.8f}")
            validation_score = None
            if early_stopping:
                validation_score = self._update_validation(X_val, y_val)
                if self.verbose:
                    print(f"Validation score: {validation_score:f}")
            else:
                self._update_no_improvement(loss)
            self._optimizer.iteration_ends(self.t_)
            info = {
                "epoch": self.n_iter_,
                "loss": loss,
                "seconds": time.perf_counter() - started,
                "n_samples": n_samples,
                "validation_score": validation_score,
            }
            for callback in self.callbacks or ():
                callback(self, info)
            if incremental:
                break
            if self._no_improvement_count > self.n_iter_no_change:
                if early_stopping:
                    msg = (
                        f"Validation score did not improve more than tol={self.tol:f} for "
                        f"{self.n_iter_no_change} consecutive epochs."
                    )
                else:
                    msg = (
                        f"Training loss did not improve more than tol={self.tol:f} for "
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
                    stacklevel=3,
                )
        if early_stopping:
            network.params[:] = self._best_params
        return self

    def _update_validation(self, X_val, y_val) -> float:
        network = self._network
        score = float(np.mean(np.argmax(network.forward(X_val), axis=1) == y_val))
        self.validation_scores_.append(score)
        if score < self.best_validation_score_ + self.tol:
            self._no_improvement_count += 1
        else:
            self._no_improvement_count = 0
        if score > self.best_validation_score_:
            self.best_validation_score_ = score
            self._best_params = network.params.copy()
        return score

    def _update_no_improvement(self, loss: float) -> None:
        if loss > self.best_loss_ - self.tol:
            self._no_improvement_count += 1
        else:
            self._no_improvement_count = 0
        if loss < self.best_loss_:
            self.best_loss_ = loss

    # -- setup ------------------------------------------------------------------------

    def _initialize(self, X: np.ndarray, rng: np.random.Generator) -> None:
        hidden = _hidden_sizes(self.hidden_layer_sizes)
        layer_sizes = (X.shape[1], *hidden, len(self.classes_))
        network = Network(
            layer_sizes, self.activation, self.output_activation, self.loss, self._dtype(X)
        )
        for coef, intercept in zip(network.coefs, network.intercepts, strict=True):
            fan_in, fan_out = coef.shape
            if self.weight_init == "normal":
                coef[:] = rng.standard_normal(coef.shape) * self.init_scale
                intercept[:] = rng.standard_normal(fan_out) * self.init_scale
            else:
                # Glorot & Bengio (2010), with scikit-learn's factor for logistic units
                factor = 2.0 if self.activation == "logistic" else 6.0
                bound = math.sqrt(factor / (fan_in + fan_out))
                coef[:] = rng.uniform(-bound, bound, coef.shape)
                intercept[:] = rng.uniform(-bound, bound, fan_out)
        self._network = network
        self.__dict__.pop("_optimizer", None)
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
            self._best_params = network.params.copy()
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = np.inf

    def _make_optimizer(self):
        n_params, dtype = self._network.params.size, self._network.dtype
        if self.solver == "sgd":
            return SGDOptimizer(
                n_params, dtype, self.learning_rate_init, self.learning_rate, self.momentum,
                self.nesterovs_momentum, self.power_t,
            )
        return AdamOptimizer(
            n_params, dtype, self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon
        )

    def _rng(self) -> np.random.Generator:
        state = self.random_state
        if isinstance(state, np.random.RandomState):
            state = state.randint(np.iinfo(np.int32).max)
        return np.random.default_rng(state)

    def _dtype(self, X: np.ndarray) -> np.dtype:
        if self.dtype is not None:
            return np.dtype(self.dtype)
        return np.dtype(np.float32 if X.dtype in (np.uint8, np.float32) else np.float64)

    def _batch_size(self, n_samples: int) -> int:
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                f"batch_size={self.batch_size} is larger than the {n_samples} training "
                "samples; it is clipped to the sample count.",
                UserWarning,
                stacklevel=4,
            )
        return min(int(self.batch_size), n_samples)

    # -- validation -------------------------------------------------------------------

    def _validate_params(self) -> None:
        def check(condition: bool, message: str) -> None:
            if not condition:
                raise ValueError(message)

        _hidden_sizes(self.hidden_layer_sizes)
        for name, allowed in (
            ("activation", options.ACTIVATIONS),
            ("solver", options.SOLVERS),
            ("learning_rate", options.LEARNING_RATES),
            ("loss", options.LOSSES),
            ("output_activation", options.OUTPUT_ACTIVATIONS),
            ("weight_init", options.WEIGHT_INITS),
            ("dtype", (None, *options.DTYPES)),
        ):
            value = getattr(self, name)
            check(
                isinstance(value, str | type(None)) and value in allowed,
                f"{name}={value!r} is not supported; choose one of {allowed}.",
            )
        for name in ("learning_rate_init", "epsilon", "init_scale"):
            value = getattr(self, name)
            check(
                _is_real(value) and value > 0, f"{name} must be a positive number; got {value!r}."
            )
        for name in ("alpha", "tol", "power_t"):
            value = getattr(self, name)
            check(_is_real(value) and value >= 0, f"{name} must be >= 0; got {value!r}.")
        for name in ("max_iter", "n_iter_no_change"):
            value = getattr(self, name)
            check(_is_int(value) and value >= 1, f"{name} must be an integer >= 1; got {value!r}.")
        check(
            self.batch_size == "auto" or (_is_int(self.batch_size) and self.batch_size >= 1),
            f"batch_size must be 'auto' or an integer >= 1; got {self.batch_size!r}.",
        )
        check(
            _is_real(self.momentum) and 0 <= self.momentum <= 1,
            f"momentum must be in [0, 1]; got {self.momentum!r}.",
        )
        for name in ("beta_1", "beta_2"):
            value = getattr(self, name)
            check(_is_real(value) and 0 <= value < 1, f"{name} must be in [0, 1); got {value!r}.")
        check(
            _is_real(self.validation_fraction) and 0 < self.validation_fraction < 1,
            f"validation_fraction must be in (0, 1); got {self.validation_fraction!r}.",
        )

    def _validate_X(self, X, reset: bool) -> np.ndarray:
        """X as a C-contiguous 2-D array the kernels read; messages follow scikit-learn's."""
        name = type(self).__name__
        if _is_sparse(X):
            raise TypeError(
                "Sparse data was passed for X, but dense data is required: fastmlp does not "
                "support sparse input. Use X.toarray() to convert to a dense numpy array."
            )
        self._check_feature_names(X, reset)
        X = np.asarray(X)
        if X.ndim == 3:
            X = X.reshape(X.shape[0], -1)
        if X.ndim != 2:
            raise ValueError(
                f"Expected a 2-D array (n_samples, n_features) or 3-D images (n_samples, h, w); "
                f"got an array of shape {X.shape}. Reshape your data either using "
                "array.reshape(-1, 1) if your data has a single feature or "
                "array.reshape(1, -1) if it contains a single sample."
            )
        for axis, what in ((0, "sample"), (1, "feature")):
            if X.shape[axis] < 1:
                raise ValueError(
                    f"Found array with 0 {what}(s) (shape={X.shape}) while a minimum of 1 "
                    f"is required by {name}."
                )
        if X.dtype != np.uint8:
            if X.dtype.kind == "c":
                raise ValueError("Complex data not supported; X must hold real numbers.")
            if X.dtype.kind not in "biuf":
                try:
                    X = X.astype(np.float64)
                except (TypeError, ValueError) as error:
                    raise type(error)(
                        f"X must hold numbers; got dtype {X.dtype} that cannot be converted "
                        f"to float: {error}"
                    ) from None
            dtype = np.dtype(self.dtype) if self.dtype else None
            if dtype is None:
                fitted = "_network" in self.__dict__ and not reset
                dtype = self._network.dtype if fitted else self._dtype(X)
            if X.dtype != dtype:
                X = X.astype(dtype)
            # A finite sum proves every entry finite without an X-sized temporary;
            # only a non-finite sum (or an overflow) pays for the full check.
            with np.errstate(over="ignore"):
                total = X.sum()
            if not np.isfinite(total) and not (finite := np.isfinite(X)).all():
                row, column = np.argwhere(~finite)[0]
                what = "NaN" if np.isnan(X[row, column]) else "infinity"
                raise ValueError(
                    f"Input X contains {what} (first at row {row}, column {column}); remove "
                    "or impute those values before calling fit or predict."
                )
        X = np.ascontiguousarray(X)
        if reset:
            self.n_features_in_ = X.shape[1]
        elif X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {name} is expecting "
                f"{self.n_features_in_} features as input."
            )
        return X

    def _check_feature_names(self, X, reset: bool) -> None:
        """Record data-frame column names at fit and compare them later, as scikit-learn."""
        names = _feature_names(X)
        if reset:
            if names is None:
                self.__dict__.pop("feature_names_in_", None)
            else:
                self.feature_names_in_ = names
            return
        fitted_names = getattr(self, "feature_names_in_", None)
        name = type(self).__name__
        if fitted_names is None and names is not None:
            warnings.warn(
                f"X has feature names, but {name} was fitted without feature names",
                UserWarning,
                stacklevel=4,
            )
        elif fitted_names is not None and names is None:
            warnings.warn(
                f"X does not have valid feature names, but {name} was fitted with feature "
                "names",
                UserWarning,
                stacklevel=4,
            )
        elif fitted_names is not None and (
            len(names) != len(fitted_names) or (names != fitted_names).any()
        ):
            unexpected = sorted(set(names) - set(fitted_names))
            missing = sorted(set(fitted_names) - set(names))
            detail = ""
            if unexpected:
                detail += f"Feature names unseen at fit time: {unexpected[:10]}\n"
            if missing:
                detail += f"Feature names seen at fit time, yet now missing: {missing[:10]}\n"
            if not detail:
                detail = "Feature names must be in the same order as they were in fit.\n"
            raise ValueError(
                "The feature names should match those that were passed during fit.\n" + detail
            )

    def _encode_y(
        self, y, n_samples: int, reset: bool, classes=None, same_classes: bool = False
    ) -> np.ndarray:
        """Class indices (int64) into ``classes_``; ``classes_`` is set when ``reset``."""
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected. Please change "
                "the shape of y to (n_samples, ), for example using ravel().",
                compatible(DataConversionWarning),
                stacklevel=4,
            )
            y = y.ravel()
        if y.ndim != 1:
            raise ValueError(
                f"y should be a 1d array of class labels; got shape {y.shape}. "
                "Multi-label and multi-output targets are not supported."
            )
        if y.shape[0] != n_samples:
            raise ValueError(
                f"y has {y.shape[0]} labels but X has {n_samples} samples; they must match."
            )
        if y.dtype.kind == "f":
            if not np.isfinite(y).all():
                raise ValueError("Input y contains NaN or infinity; every sample needs a label.")
            if (y != np.round(y)).any():
                raise ValueError(
                    "Unknown label type: continuous. Maybe you are trying to fit a classifier, "
                    "which expects discrete classes, on a regression target with continuous "
                    "values."
                )
        elif y.dtype.kind not in "biuUS" and y.dtype != object:
            raise ValueError(f"Unknown label type: y has dtype {y.dtype}.")
        labels = _unique_labels(y)
        if reset:
            found = labels if classes is None else _unique_labels(
                np.concatenate([_unique_labels(classes), labels])
            )
            if found.shape[0] < 2:
                raise ValueError(
                    f"The classifier needs samples of at least 2 classes in y; got only 1 "
                    f"class: {found.tolist()}."
                )
            self.classes_ = found
        elif same_classes and not np.array_equal(labels, self.classes_):
            raise ValueError(
                "warm_start can only be used where `y` has the same classes as in the "
                f"previous call to fit. Previously got {self.classes_}, `y` has {labels}."
            )
        index = np.searchsorted(self.classes_, y)
        index = np.minimum(index, len(self.classes_) - 1)
        unknown = self.classes_[index] != y
        if unknown.any():
            raise ValueError(
                f"y contains labels {_unique_labels(y[unknown]).tolist()[:10]} not seen at the "
                f"first fit; the model knows {self.classes_.tolist()}."
            )
        return index.astype(np.int64)


def _unique_labels(y) -> np.ndarray:
    """Sorted distinct labels; a clear error for labels that cannot be ordered."""
    y = np.asarray(y)
    try:
        return np.unique(y)
    except TypeError:
        kinds = sorted({type(label).__name__ for label in y.ravel().tolist()})
        raise ValueError(
            f"Unknown label type: y mixes labels of types {kinds} that cannot be sorted; "
            "use labels of one type (all strings or all numbers)."
        ) from None


def _is_sparse(X) -> bool:
    # scipy may not be installed; if scipy.sparse was never imported, X is not one of its arrays
    sparse = sys.modules.get("scipy.sparse")
    return sparse is not None and sparse.issparse(X)


def _feature_names(X) -> np.ndarray | None:
    """String column names of a data frame, else None (scikit-learn's rule)."""
    columns = getattr(X, "columns", None)
    if columns is None or isinstance(X, np.ndarray):
        return None
    names = np.asarray(list(columns), dtype=object)
    if names.ndim != 1 or names.size == 0:
        return None
    is_str = [isinstance(n, str) for n in names]
    if all(is_str):
        return names
    if any(is_str):
        raise TypeError(
            "Feature names are only supported if all input features have string names, "
            f"but your input has {sorted({type(n).__name__ for n in names})} as feature name "
            "/ column name types. Convert them all to str, e.g. X.columns = "
            "X.columns.astype(str)."
        )
    return None


def _hidden_sizes(hidden_layer_sizes) -> tuple[int, ...]:
    sizes = (
        (hidden_layer_sizes,) if _is_int(hidden_layer_sizes) else tuple(hidden_layer_sizes)
    )
    if not all(_is_int(n) and n >= 1 for n in sizes):
        raise ValueError(
            f"hidden_layer_sizes must be positive integers, e.g. (100,) or (128, 64); "
            f"got {hidden_layer_sizes!r}."
        )
    return tuple(int(n) for n in sizes)


def _assign_layers(targets: list[np.ndarray], values, name: str) -> None:
    values = list(values)
    if len(values) != len(targets):
        raise ValueError(f"{name} needs {len(targets)} arrays, one per layer; got {len(values)}.")
    for layer, (target, value) in enumerate(zip(targets, values, strict=True)):
        value = np.asarray(value)
        if value.shape != target.shape:
            raise ValueError(
                f"{name}[{layer}] must have shape {target.shape}; got {value.shape}."
            )
        target[...] = value


def _stratified_split(X, y, fraction, rng):
    """Hold out about ``fraction`` of every class for validation."""
    val_rows = []
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        val_rows.append(members[: int(round(fraction * len(members)))])
    val_rows = np.sort(np.concatenate(val_rows))
    if val_rows.size == 0 or val_rows.size == y.size:
        raise ValueError(
            f"validation_fraction={fraction} leaves an empty training or validation set for "
            f"{y.size} samples; change validation_fraction or set early_stopping=False."
        )
    train = np.ones(y.size, dtype=bool)
    train[val_rows] = False
    return (np.ascontiguousarray(X[train]), y[train],
            np.ascontiguousarray(X[val_rows]), y[val_rows])


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
