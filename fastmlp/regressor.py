"""MLPRegressor: scikit-learn's regressor, on the classifier's compiled engine.

The training loop is [BaseMultilayerPerceptron][fastmlp.multilayer.BaseMultilayerPerceptron]'s;
the regressor adds its parameters, its targets (1-D or 2-D, checked in
[fastmlp.targets][fastmlp.targets]) and R². The network ends in an identity
output layer trained on half the squared error, as scikit-learn's: the output
delta is the residual, and the reported loss is ``0.5 * mean((y - y_hat) ** 2)``
over samples and outputs.
"""

from collections.abc import Callable, Sequence

from fastmlp import fitguard, parameters, targets
from fastmlp.base import RegressorMixin
from fastmlp.engine import training
from fastmlp.multilayer import BaseMultilayerPerceptron

_CONSTRAINTS = {
    name: constraints for name, constraints in parameters.PARAMETER_CONSTRAINTS.items()
    if name != "output_activation"
}
_CONSTRAINTS["loss"] = [parameters.Options(("squared_error",))]


class MLPRegressor(RegressorMixin, BaseMultilayerPerceptron):
    """Multi-layer perceptron regressor, a drop-in for scikit-learn's.

    Parameters keep the names, meanings and defaults of scikit-learn's
    ``sklearn.neural_network.MLPRegressor`` (solvers ``"sgd"`` and ``"adam"``;
    loss ``"squared_error"`` only, no ``"poisson"``; no ``max_fun``, which
    belongs to ``"lbfgs"``). They mean what they mean for
    [MLPClassifier][fastmlp.estimator.MLPClassifier], which documents each;
    the differences are below. The last four are fastmlp's own.

    Parameters
    ----------
    loss : {"squared_error"}, default="squared_error"
        Half the squared error, as scikit-learn's regressor.
    hidden_layer_sizes : int or sequence of int, default=(100,)
    activation : {"relu", "identity", "logistic", "tanh"}, default="relu"
    solver : {"adam", "sgd"}, default="adam"
    alpha : float, default=0.0001
    batch_size : int or "auto", default="auto"
        Every batch size runs mini-batches, 1 included.
    learning_rate : {"constant", "invscaling", "adaptive", "cosine"}, default="constant"
    learning_rate_init : float, default=0.001
    power_t : float, default=0.5
    max_iter : int, default=200
    shuffle : bool, default=True
    random_state : int, numpy.random.RandomState or None, default=None
    tol : float, default=1e-4
    verbose : bool, default=False
    warm_start : bool, default=False
    momentum : float, default=0.9
    nesterovs_momentum : bool, default=True
    early_stopping : bool, default=False
        Hold out a random ``validation_fraction`` of the training data, stop
        when its R² (weighted by ``sample_weight``) stalls and restore the best
        epoch's weights.
    validation_fraction : float, default=0.1
    beta_1 : float, default=0.9
    beta_2 : float, default=0.999
    epsilon : float, default=1e-8
    n_iter_no_change : int, default=10
    weight_init : {"glorot", "normal"}, default="glorot"
    init_scale : float, default=0.01
    dtype : {None, "float32", "float64"}, default=None
        Float type of parameters, targets and arithmetic. None: float32 for
        uint8 and float32 input, float64 otherwise.
    callbacks : sequence of callables, default=None
        Called as ``callback(model, info)`` after every epoch (see
        [MLPClassifier][fastmlp.estimator.MLPClassifier]).

    Attributes
    ----------
    coefs_, intercepts_, n_layers_, n_outputs_, out_activation_
        As the classifier's; ``n_outputs_`` is the number of targets and
        ``out_activation_`` is ``"identity"``.
    n_features_in_, feature_names_in_, image_shape_, loss_, loss_curve_, best_loss_
        As the classifier's; the loss is half the mean squared error.
    validation_scores_, best_validation_score_
        R² of the validation split per epoch, and the best, with ``early_stopping``.
    n_iter_, t_
        As the classifier's.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.preprocessing import StandardScaler
    >>> from fastmlp import MLPRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> model = MLPRegressor(hidden_layer_sizes=(64,), learning_rate_init=0.01,
    ...                      max_iter=500, random_state=0)
    >>> model.fit(X[:350], y[:350])
    MLPRegressor(hidden_layer_sizes=(64,), learning_rate_init=0.01, max_iter=500,
                 random_state=0)
    >>> model.predict(X[350:]).shape
    (92,)
    >>> model.score(X[350:], y[350:]) > 0.4
    True
    """

    _parameter_constraints = _CONSTRAINTS

    def __init__(
        self,
        loss: str = "squared_error",
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
        weight_init: str = "glorot",
        init_scale: float = 0.01,
        dtype: str | None = None,
        callbacks: Sequence[Callable] | None = None,
    ) -> None:
        self.loss = loss
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
        self.weight_init = weight_init
        self.init_scale = init_scale
        self.dtype = dtype
        self.callbacks = callbacks

    def __sklearn_tags__(self):
        # Only scikit-learn calls this, so its base class is there to extend.
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # SciPy sparse X: fastmlp.sparse
        tags.input_tags.allow_nan = False
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    # -- public API -------------------------------------------------------------------

    def fit(self, X, y, sample_weight=None, coef_init=None, intercept_init=None
            ) -> "MLPRegressor":
        """Train on (X, y) for up to ``max_iter`` epochs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w)
            uint8 (scaled by 1/255), integer, float32 or float64.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Finite targets.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights, not all zero, as for
            [MLPClassifier.fit][fastmlp.estimator.MLPClassifier.fit].
        coef_init, intercept_init : list of ndarray, optional
            Initial weights and biases shaped like ``coefs_`` and ``intercepts_``.

        Returns
        -------
        self
        """
        with fitguard.fitting(self, "fit"), training.unchanged_on_bad_input(self):
            return self._fit(X, y, False, sample_weight, coef_init=coef_init,
                             intercept_init=intercept_init)

    def partial_fit(self, X, y, sample_weight=None) -> "MLPRegressor":
        """One epoch over (X, y), keeping weights and optimizer state between calls.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w)
            As for ``fit``; the number of features must not change.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            As many outputs as on the first call.
        sample_weight : array-like of shape (n_samples,), optional
            As for ``fit``.

        Returns
        -------
        self
        """
        if self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        with fitguard.fitting(self, "partial_fit"), training.unchanged_on_bad_input(self):
            return self._fit(X, y, True, sample_weight)

    def predict(self, X):
        """Predicted targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w)
            uint8 (scaled by 1/255), integer or float.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
            In the model's dtype; 1-D when the model has one output.
        """
        out = self._forward(X)
        return out.ravel() if out.shape[1] == 1 else out

    # -- the regressor's side of the training loop --------------------------------------

    def _shaping(self) -> dict:
        return {"output_activation": "identity", "loss": "squared_error"}

    def _encode_targets(self, y, n_samples, dtype, *, reset, incremental):
        values = targets.check_regression_targets(y, n_samples, dtype)
        if not reset and values.shape[1] != self.n_outputs_:
            how = "partial_fit" if incremental else "fit with warm_start=True"
            raise ValueError(
                f"{how} continues a network with {self.n_outputs_} output(s), but y has "
                f"{values.shape[1]}; pass y with {self.n_outputs_} column(s), or train a new "
                "network with fit and warm_start=False."
            )
        return values

    def _n_outputs(self, y) -> int:
        return y.shape[1]

    def _split(self, y, rng):
        return targets.random_split(y.shape[0], self.validation_fraction, rng)

    def _validation_score(self, X_val, y_val, weights) -> float:
        return targets.r2_score(y_val, self._network.forward(X_val), weights)

    def _chance_loss(self) -> None:
        # the squared error has no scale-free "uniform guess"; non-finite losses are
        # still caught after every epoch
        return None
