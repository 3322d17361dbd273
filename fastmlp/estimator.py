"""MLPClassifier: scikit-learn's interface, fastmlp's engine.

The estimator orchestrates: it initializes the network, runs the epoch loop
(shuffling, early stopping, learning-rate schedules, divergence guard,
callbacks) and hands every numerical pass to
[Network][fastmlp.network.Network]. Parameter and input checks live in
[fastmlp.validation][fastmlp.validation], the model file format in
[fastmlp.persistence][fastmlp.persistence].
"""

import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from fastmlp import fitguard, numeric, persistence, training, validation
from fastmlp.base import BaseEstimator, ClassifierMixin
from fastmlp.exceptions import ConvergenceWarning, compatible
from fastmlp.fitted import FittedMLP
from fastmlp.network import Network


class MLPClassifier(FittedMLP, ClassifierMixin, BaseEstimator):
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
        runs the epoch compiled, sample after sample.
    learning_rate : {"constant", "invscaling", "adaptive", "cosine"}, default="constant"
        Step-size schedule. As in scikit-learn, the first three apply to
        ``solver="sgd"`` only: constant; decaying as
        ``learning_rate_init / (t + 1) ** power_t`` with ``t`` the samples seen;
        or divided by 5 each time the loss stalls. ``"cosine"`` (fastmlp's own)
        applies to both solvers: epoch ``k`` of ``max_iter`` steps with
        ``learning_rate_init * (1 + cos(pi * (k - 1) / max_iter)) / 2``: a half
        cosine from the initial rate towards 0 (0.15x it in the last of 4
        epochs). ``partial_fit`` calls count as epochs; past ``max_iter`` the
        last epoch's rate stays.
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
    coefs_, intercepts_, n_layers_, n_outputs_, out_activation_
        Views of the fitted network, documented below.
    classes_ : ndarray of shape (n_classes,)
        The sorted class labels, in the dtype of ``y``.
    n_features_in_ : int
        Features seen at fit (pixels, for image stacks).
    image_shape_ : tuple of int or None
        (h, w) of the images seen at fit, None for 2-D input. Later image
        input must have this shape (flat rows of ``h * w`` are accepted).
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

    def __sklearn_tags__(self):
        # Only scikit-learn calls this, so its base class is there to extend.
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False  # dense input only; sparse X is rejected clearly
        tags.input_tags.allow_nan = False
        tags.classifier_tags.multi_label = False
        return tags

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

        Raises
        ------
        ConcurrentFitError
            Another ``fit`` or ``partial_fit`` of this estimator is running (in
            another thread, or from a callback). One estimator trains one fit
            at a time, and a second one raises at once rather than wait
            ([fastmlp.fitguard][fastmlp.fitguard] says why); fits of different
            estimators run in parallel.
        """
        with fitguard.fitting(self, "fit"), training.unchanged_on_bad_input(self):
            return self._fit(X, y, False, coef_init=coef_init, intercept_init=intercept_init)

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

        Raises
        ------
        ConcurrentFitError
            Another ``fit`` or ``partial_fit`` of this estimator is running, as for ``fit``.
        """
        if self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        with fitguard.fitting(self, "partial_fit"), training.unchanged_on_bad_input(self):
            return self._fit(X, y, incremental=True, classes=classes)

    # -- training loop ----------------------------------------------------------------

    def _validate_params(self) -> None:
        validation.validate_params(self.get_params())

    def _fit(self, X, y, incremental, coef_init=None, intercept_init=None, classes=None):
        self._validate_params()
        reset = not self.__sklearn_is_fitted__() or not (self.warm_start or incremental)
        if not reset:
            validation.check_same_architecture(self, self._fitted_architecture(), incremental)
        # Without a validation split, the first epoch checks X for NaN and infinity
        # as it reads each batch, instead of a separate pass over all of X.
        X = self._validate_X(X, reset=reset, check_finite=self.early_stopping)
        y = validation.validate_labels(
            self, y, X.shape[0], reset=reset, classes=classes, incremental=incremental
        )
        rng = validation.check_random_state(self.random_state)
        if reset:
            self._initialize(X, rng)
        if coef_init is not None:
            self.coefs_ = coef_init
        if intercept_init is not None:
            self.intercepts_ = intercept_init
        if not incremental or "_optimizer" not in self.__dict__:
            self._optimizer = training.make_optimizer(self.get_params(), self._network)

        X_val = y_val = None
        early_stopping = self.early_stopping  # partial_fit refuses early_stopping=True
        if early_stopping:
            X, y, X_val, y_val = validation.stratified_split(
                X, y, self.validation_fraction, rng
            )
        n_samples = X.shape[0]
        batch_size = validation.check_batch_size(self.batch_size, n_samples)
        chance = training.chance_loss(
            self._architecture["loss"], self.out_activation_, self.n_outputs_
        )
        epochs = training.Epochs(
            self._network, self._optimizer, X, y, batch_size, self.alpha, self.shuffle, rng,
            check_input=not early_stopping, n_epochs=self.max_iter,
        )
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
            validation_score = self._update_no_improvement(loss, X_val, y_val)
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
                    stacklevel=3,
                )
        if early_stopping:  # the best epoch's weights, measured on held-out data
            self._network.params[:] = self._best_params
        # a blow-up the model keeps: in the last epoch, or with early stopping in all
        ended = min(self.loss_curve_[-self.n_iter_:]) if early_stopping else self.loss_
        training.check_blowup(ended, chance, self.learning_rate_init)
        return self

    def _update_no_improvement(self, loss: float, X_val, y_val) -> float | None:
        """Count epochs without a ``tol`` improvement, as scikit-learn; the validation score."""
        if X_val is None:  # the training loss must fall by tol
            score, stalled = None, loss > self.best_loss_ - self.tol
            self.best_loss_ = min(self.best_loss_, loss)
        else:  # the validation accuracy must rise by tol
            score = float(np.mean(np.argmax(self._network.forward(X_val), axis=1) == y_val))
            self.validation_scores_.append(score)
            stalled = score < self.best_validation_score_ + self.tol
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_params = self._network.params.copy()
        self._no_improvement_count = self._no_improvement_count + 1 if stalled else 0
        return score

    # -- setup ------------------------------------------------------------------------

    def _initialize(self, X: np.ndarray, rng: np.random.Generator) -> None:
        hidden = validation.hidden_sizes(self.hidden_layer_sizes)
        layer_sizes = (X.shape[1], *hidden, len(self.classes_))
        dtype = numeric.float_dtype(self.dtype, X)
        validation.check_memory(self.hidden_layer_sizes, layer_sizes, dtype, self.solver)
        try:
            network = Network(
                layer_sizes, self.activation, self.output_activation, self.loss, dtype
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


def load(path) -> MLPClassifier:
    """Read a model written by [MLPClassifier.save][fastmlp.estimator.MLPClassifier.save].

    Available as ``fastmlp.load``. The file is read with ``allow_pickle=False``
    (format: [fastmlp.persistence][fastmlp.persistence]).

    Parameters
    ----------
    path : str or os.PathLike
        The model file.

    Returns
    -------
    MLPClassifier
        The fitted model, with its optimizer state (``callbacks`` is None).

    Raises
    ------
    ModelFileError
        A ``ValueError`` naming the file: it is corrupt, truncated, not a
        fastmlp model, inconsistent or of a newer format.
    FileNotFoundError
        ``path`` does not exist.

    Examples
    --------
    >>> import fastmlp
    >>> (x_train, y_train), (x_test, y_test) = fastmlp.load_mnist()
    >>> model = fastmlp.MLPClassifier(hidden_layer_sizes=(16,), max_iter=2, random_state=0)
    >>> model.fit(x_train[:2_000], y_train[:2_000]).save("digits.npz")
    >>> restored = fastmlp.load("digits.npz")
    >>> restored
    MLPClassifier(hidden_layer_sizes=(16,), max_iter=2, random_state=0)
    >>> bool((restored.predict(x_test) == model.predict(x_test)).all())
    True
    """
    return load_with_metadata(path)[0]


def load_with_metadata(path) -> tuple[MLPClassifier, dict]:
    """[load][fastmlp.estimator.load], also returning the metadata given at save time.

    Returns
    -------
    model : MLPClassifier
        As from [load][fastmlp.estimator.load].
    metadata : dict
        The ``metadata`` dict passed to ``save`` (empty if none was).
    """
    return persistence.read(path, MLPClassifier._from_state)
