"""MLPClassifier: scikit-learn's interface, fastmlp's engine.

The training loop is [BaseMultilayerPerceptron][fastmlp.multilayer.BaseMultilayerPerceptron]'s,
shared with [MLPRegressor][fastmlp.regressor.MLPRegressor]; the classifier
adds its parameters, class labels and probabilities. Parameter checks live in
[fastmlp.parameters][fastmlp.parameters], input checks in
[fastmlp.validation][fastmlp.validation], the model file format
in [fastmlp.persistence][fastmlp.persistence]; [load][fastmlp.fitted.load]
reads either estimator back.
"""

from collections.abc import Callable, Sequence

import numpy as np

from fastmlp import fitguard, targets, validation
from fastmlp.base import ClassifierMixin
from fastmlp.engine import prediction, training
from fastmlp.multilayer import BaseMultilayerPerceptron


class MLPClassifier(ClassifierMixin, BaseMultilayerPerceptron):
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
        tags.input_tags.sparse = True  # SciPy sparse X: fastmlp.sparse
        tags.input_tags.allow_nan = False
        tags.classifier_tags.multi_label = False
        return tags

    # -- public API -------------------------------------------------------------------

    def fit(self, X, y, sample_weight=None, coef_init=None, intercept_init=None
            ) -> "MLPClassifier":
        """Train on (X, y) for up to ``max_iter`` epochs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w)
            uint8 (scaled by 1/255), integer, float32 or float64.
        y : array-like of shape (n_samples,)
            Class labels of any sortable type.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights, not all zero: each batch's loss (and its L2
            term) is normalized by the batch's sum of weights, as in
            scikit-learn 1.7+; early stopping scores its validation split with
            them. All ones gives exactly the unweighted fit.
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
            return self._fit(X, y, False, sample_weight, coef_init=coef_init,
                             intercept_init=intercept_init)

    def partial_fit(self, X, y, sample_weight=None, classes=None) -> "MLPClassifier":
        """One epoch over (X, y), keeping weights and optimizer state between calls.

        For data that arrives in chunks. Never warns about convergence, and
        refuses ``early_stopping=True``, as scikit-learn does.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w)
            As for ``fit``; the number of features must not change.
        y : array-like of shape (n_samples,)
            Labels, each one of ``classes``.
        sample_weight : array-like of shape (n_samples,), optional
            As for ``fit``.
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
            return self._fit(X, y, True, sample_weight, classes=classes)

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
        return prediction.run(self, X, prediction.PROBA)

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
            As for [predict_proba][fastmlp.estimator.MLPClassifier.predict_proba].

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``, in their dtype.
        """
        index = prediction.run(self, X, prediction.LABELS)  # NotFittedError first
        return self.classes_[index]

    # -- the classifier's side of the training loop -------------------------------------

    def _shaping(self) -> dict:
        return {"output_activation": self.output_activation, "loss": self.loss}

    def _encode_targets(self, y, n_samples, dtype, *, reset, incremental, classes=None):
        return validation.validate_labels(
            self, y, n_samples, reset=reset, classes=classes, incremental=incremental
        )

    def _n_outputs(self, y) -> int:
        return len(self.classes_)

    def _split(self, y, rng):
        return targets.stratified_rows(y, self.validation_fraction, rng)

    def _validation_score(self, X_val, y_val, weights) -> float:
        hits = np.argmax(self._network.forward(X_val), axis=1) == y_val
        return float(np.average(hits, weights=weights))

    def _chance_loss(self) -> float:
        return training.chance_loss(
            self._architecture["loss"], self.out_activation_, self.n_outputs_
        )


# ``fastmlp.estimator.load`` was the reader's path before it moved beside ``save``.
from fastmlp.fitted import load, load_with_metadata  # noqa: E402

__all__ = ["MLPClassifier", "load", "load_with_metadata"]
