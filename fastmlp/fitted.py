"""The fitted side of both estimators: views, the output pass and the state API.

Everything here works on a fitted model and never trains it: the fitted
attributes that are views of the network (``coefs_``, ``intercepts_``, ...),
the output layer's activations for new X, the one fitted-state test, ``save``
and [load][fastmlp.fitted.load],
and the state API that model files go through (``_get_state``, ``_from_state``,
``_set_state``: private, as the state's layout is the file format's business).
[MLPClassifier][fastmlp.estimator.MLPClassifier] and
[MLPRegressor][fastmlp.regressor.MLPRegressor] inherit it (through
[BaseMultilayerPerceptron][fastmlp.multilayer.BaseMultilayerPerceptron]) and
add their predictions.
"""

from collections.abc import Sequence

import numpy as np

from fastmlp import modelstate, parameters, persistence, validation
from fastmlp.engine import prediction, training
from fastmlp.engine.network import Network
from fastmlp.exceptions import NotFittedError, compatible


class FittedMLP:
    """Fitted views, the output pass, ``save`` and the state API of a network.

    A mixin for both estimators, whose parameters (``activation``, ``solver``,
    ...) it reads, and whose ``_shaping()`` names the output layer and loss. The model is fitted
    exactly when it holds a network (``_network``), which only ``fit``,
    ``partial_fit`` and loading create.
    """

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
        modelstate.assign_layers(self._fitted_network().coefs, values, "coefs_")

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors, one per layer: the i-th of shape (layer_i+1,), model dtype.

        Views of the flat parameter buffer, like ``coefs_``.
        """
        return self._fitted_network().intercepts

    @intercepts_.setter
    def intercepts_(self, values: Sequence[np.ndarray]) -> None:
        modelstate.assign_layers(self._fitted_network().intercepts, values, "intercepts_")

    @property
    def n_layers_(self) -> int:
        """Layers counting input and output, ``len(hidden_layer_sizes) + 2``."""
        return self._fitted_network().n_layers + 1

    @property
    def n_outputs_(self) -> int:
        """Output units: one per class (2 for a binary problem, where scikit-learn
        has 1), or one per regression target."""
        return self._fitted_network().layer_sizes[-1]

    @property
    def out_activation_(self) -> str:
        """The output layer's activation: ``"softmax"`` or ``"logistic"``, or ``"identity"``.

        For the classifier, ``output_activation`` as it was at fit (a later
        ``set_params`` does not change the fitted network): unlike
        scikit-learn, binary problems also get softmax by default. The
        regressor's is ``"identity"``.
        """
        return self._fitted_architecture()["output_activation"]

    def _fitted_architecture(self) -> dict:
        """The fitted network's values of the parameters that shape it."""
        network = self._fitted_network()
        return {
            "hidden_layer_sizes": network.layer_sizes[1:-1],
            **self._architecture,
            "dtype": network.dtype.name,
        }

    def __sklearn_is_fitted__(self) -> bool:
        # The one fitted-state test: fit and load create the network, nothing else does.
        return "_network" in self.__dict__

    def _fitted_network(self) -> Network:
        if not self.__sklearn_is_fitted__():
            # NotFittedError is also an AttributeError: hasattr(model, "coefs_") stays False
            raise compatible(NotFittedError)(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )
        return self._network

    def _forward(self, X) -> np.ndarray:
        """The output layer's activations for X, after checking both model and X."""
        return prediction.run(self, X, prediction.OUTPUTS)

    def _validate_X(self, X, reset: bool, check_finite: bool = True) -> np.ndarray:
        fitted = self.__sklearn_is_fitted__() and not reset
        dtype = self._network.dtype if fitted else (
            np.dtype(self.dtype) if self.dtype is not None else None
        )
        return validation.validate_data(
            self, X, reset=reset, dtype=dtype, check_finite=check_finite
        )

    def save(self, path, metadata: dict | None = None) -> None:
        """Write the fitted model to one ``.npz`` file.

        Read it back with [fastmlp.load][fastmlp.fitted.load]. The file
        holds the parameters, the hyper-parameters (without ``callbacks``),
        ``classes_``, the fitted attributes and the optimizer state: what
        ``predict``, ``score``, ``warm_start`` and ``partial_fit`` need (format:
        [fastmlp.persistence][fastmlp.persistence]). It is written to a
        temporary file next to ``path`` and renamed into place, so a failed
        save never leaves a half-written file or destroys an older one. The
        model is first checked as loading will check it, so a model that
        would not load (e.g. after ``set_params(max_iter=0)``) is refused
        before the target is touched.

        Parameters
        ----------
        path : str or os.PathLike
            Target file, conventionally ending in ``.npz``; replaced if it is a
            regular file. A symbolic link is refused, never replaced or written
            through (save to the file it points to); so is a folder, FIFO,
            device or socket, each left untouched.
        metadata : dict, optional
            JSON-serializable values stored alongside, returned by
            [load_with_metadata][fastmlp.fitted.load_with_metadata].

        Raises
        ------
        NotFittedError
            The model is not fitted.
        ValueError
            Class labels or metadata that cannot be stored without pickle,
            NaN or infinite weights, or parameters that loading refuses.
        SpecialFileError
            ``path`` exists and is not a regular file (an ``OSError``).
        OSError
            The file cannot be written; the message names ``path``.
        """
        persistence.write(path, self._get_state(), metadata, check=self._check_state)

    def to_onnx(self, path, *, input_dtype=None) -> None:
        """Write the fitted model as an ONNX graph, for onnxruntime or any ONNX runtime.

        Needs the ``onnx`` package (``pip install "fastmlp[onnx]"``). The graph
        (built by [fastmlp.onnx_export][fastmlp.onnx_export]) takes ``X`` of
        shape (N, n_features_in_) and gives ``label`` (N,), the output of
        ``predict``, and ``probabilities`` (N, n_classes), that of
        ``predict_proba``. Image stacks are given flattened. Written atomically,
        like ``save``.

        Parameters
        ----------
        path : str or os.PathLike
            Target file, conventionally ending in ``.onnx``; replaced if it exists.
        input_dtype : {None, "float32", "float64", "uint8"}, default=None
            Element type of ``X`` in the graph; None is the model's dtype.
            ``"uint8"`` includes the 1/255 scaling fastmlp applies to uint8
            images, so raw 8-bit pixels go in as they do to ``predict``.

        Raises
        ------
        NotFittedError
            The model is not fitted.
        ImportError
            The ``onnx`` package is not installed.
        ValueError
            An unknown ``input_dtype``.
        OSError
            The folder of ``path`` does not exist, ``path`` is a folder, or the
            file cannot be written (``path`` is then unchanged).
        """
        from fastmlp import onnx_export  # imports onnx only when exporting

        onnx_export.export(self, path, input_dtype)

    # -- state, for model files -------------------------------------------------------------

    def _get_state(self) -> dict:
        """The fitted model as plain values, for [persistence.write][fastmlp.persistence.write]."""
        network = self._fitted_network()
        params = self.get_params()
        del params["callbacks"]  # functions cannot be stored
        if not parameters.NON_NEGATIVE_INT(params["random_state"]):
            params["random_state"] = None  # a RandomState or Generator object
        attributes = {
            name: getattr(self, name)
            for name in modelstate.FITTED_ATTRIBUTES
            if name in self.__dict__
        }
        if "feature_names_in_" in attributes:
            attributes["feature_names_in_"] = [str(n) for n in self.feature_names_in_]
        optimizer = self.__dict__.get("_optimizer")
        optimizer = None if optimizer is None else optimizer.state()
        modelstate.check_finite_buffers(network.params, optimizer)  # or it would not load
        return {
            "hyperparams": params,
            "architecture": dict(self._architecture),
            "layer_sizes": network.layer_sizes,
            "params": network.params,
            "estimator": type(self).__name__,
            "classes": self.__dict__.get("classes_"),
            "attributes": attributes,
            "optimizer": optimizer,
        }

    @staticmethod
    def _check_state(state: dict) -> None:
        """Raise ValueError for a state ``_from_state`` refuses, without building the model."""
        parameters.check_fields(
            state["hyperparams"], parameters.PARAMETER_CONSTRAINTS, "hyper-parameters"
        )
        modelstate.check_state(state)

    @classmethod
    def _from_state(cls, state: dict) -> "FittedMLP":
        """A fitted model from what ``_get_state`` returned."""
        hyperparams = dict(state["hyperparams"])
        parameters.check_fields(hyperparams, cls._parameter_constraints, "hyper-parameters")
        if isinstance(hyperparams.get("hidden_layer_sizes"), list):
            hyperparams["hidden_layer_sizes"] = tuple(hyperparams["hidden_layer_sizes"])
        model = cls(**hyperparams)
        model._set_state(state)
        return model

    def _reset_fitted_state(self, network: Network) -> None:
        """Make ``network`` the fitted one, untrained: no epochs, samples or optimizer yet."""
        self._network = network
        self._architecture = {"activation": self.activation, **self._shaping()}
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

    def _set_state(self, state: dict) -> None:
        """Restore the fitted network and attributes: only known ones, each checked."""
        self.__dict__.update(modelstate.check_state(state))
        params, architecture = state["params"], self._architecture
        network = Network(state["layer_sizes"], architecture["activation"],
                          architecture["output_activation"], architecture["loss"], params.dtype)
        network.params[:] = params
        self._network = network
        if self.early_stopping and self.validation_scores_ is not None:
            self._best_params = network.params.copy()
        optimizer = state["optimizer"]
        if optimizer is not None:
            # of the stored kind, as in memory, where partial_fit keeps the fitted optimizer
            params = {**self.get_params(), "solver": optimizer["kind"]}
            self._optimizer = training.make_optimizer(params, network)
            self._optimizer.load_state(optimizer)


# -- reading a model file back: the other half of save ----------------------------------


def load(path) -> FittedMLP:
    """Read a model written by [MLPClassifier.save][fastmlp.estimator.MLPClassifier.save]
    or ``MLPRegressor.save``: the estimator that was saved.

    Available as ``fastmlp.load``. The file is read with ``allow_pickle=False``
    (format: [fastmlp.persistence][fastmlp.persistence]).

    Parameters
    ----------
    path : str or os.PathLike
        The model file.

    Returns
    -------
    MLPClassifier or MLPRegressor
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


def load_with_metadata(path) -> tuple[FittedMLP, dict]:
    """[load][fastmlp.fitted.load], also returning the metadata given at save time.

    Returns
    -------
    model : MLPClassifier or MLPRegressor
        As from [load][fastmlp.fitted.load].
    metadata : dict
        The ``metadata`` dict passed to ``save`` (empty if none was).
    """
    return persistence.read(path, _restore)


def _restore(state: dict) -> FittedMLP:
    """The saved estimator's class, restored from ``state``."""
    from fastmlp.estimator import MLPClassifier
    from fastmlp.regressor import MLPRegressor

    kind = MLPRegressor if state["estimator"] == "MLPRegressor" else MLPClassifier
    return kind._from_state(state)
