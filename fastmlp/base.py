"""Estimator base classes that speak scikit-learn's protocol without importing it.

fastmlp must import and train without scikit-learn, and should not pay for it
when it is installed but unused: importing ``sklearn.neural_network`` takes
several times as long as NumPy's import and about 90 MiB more memory than
NumPy alone (measured on the Practical tips page, docs/guide/tips.md). scikit-learn's own tools
(``clone``, ``Pipeline``, ``GridSearchCV``, ``check_estimator``) duck-type
estimators: they need ``get_params`` / ``set_params`` and, for the tags,
``__sklearn_tags__``, which is only ever called by scikit-learn and so imports
its tag classes lazily. These classes
are used whether scikit-learn is installed or not.

``NotFittedError``, ``ConvergenceWarning``, ``DataConversionWarning`` and
``compatible`` live in [fastmlp.exceptions][fastmlp.exceptions] and are
re-exported here, where they were first defined, so that older imports keep
working.
"""

import functools
import inspect

import numpy as np

from fastmlp.exceptions import (
    ConvergenceWarning,
    DataConversionWarning,
    NotFittedError,
    compatible,
)


class BaseEstimator:
    """get_params / set_params from the constructor's signature, as scikit-learn does.

    Subclasses store every constructor argument unchanged as an attribute of
    the same name (scikit-learn's convention, which ``clone`` relies on). The
    ``repr`` shows only the parameters that differ from their defaults.
    """

    @classmethod
    def _get_param_names(cls) -> list[str]:
        return list(_param_names(cls.__init__))

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's parameters and their current values.

        Parameters
        ----------
        deep : bool, default=True
            Accepted for scikit-learn's protocol; there are no sub-estimators.

        Returns
        -------
        dict
            Parameter name to value, sorted by name.
        """
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params):
        """Set constructor parameters by name.

        Parameters
        ----------
        **params
            New values; an unknown name raises ``ValueError`` listing the valid ones.

        Returns
        -------
        self
        """
        valid = self._get_param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator {type(self).__name__}; "
                    f"valid parameters are {valid}."
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = inspect.signature(type(self).__init__).parameters
        changed = []
        for name, value in self.get_params().items():
            default = defaults[name].default
            same = value is default
            if not same:
                try:
                    same = bool(value == default)
                except (TypeError, ValueError):  # arrays and the like
                    same = False
            if not same:
                changed.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self):
        from sklearn.utils import Tags, TargetTags

        return Tags(
            estimator_type=None,
            target_tags=TargetTags(required=False),
            transformer_tags=None,
            regressor_tags=None,
            classifier_tags=None,
        )


class ClassifierMixin:
    """score() as mean accuracy, and the classifier tags for scikit-learn."""

    _estimator_type = "classifier"

    def score(self, X, y, sample_weight=None) -> float:
        """Mean accuracy of ``predict(X)`` against ``y``, optionally weighted.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input, as for ``predict``.
        y : array-like of shape (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), optional
            Weights of the samples in the mean.

        Returns
        -------
        float
            In [0, 1].

        Raises
        ------
        ValueError
            ``y`` or ``sample_weight`` does not have one entry per sample of ``X``.
        """
        predicted = self.predict(X)
        y = np.asarray(y)
        if y.shape != predicted.shape:  # else == broadcasts, or fails in NumPy's words
            raise ValueError(
                f"score: y has shape {y.shape}, but X has {len(predicted)} samples; pass "
                f"one label per sample of X, shape ({len(predicted)},)."
            )
        if sample_weight is not None and np.shape(sample_weight) != predicted.shape:
            raise ValueError(
                f"score: sample_weight has shape {np.shape(sample_weight)}, but X has "
                f"{len(predicted)} samples; pass one weight per sample of X."
            )
        return float(np.average(predicted == y, weights=sample_weight))

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags

        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags()
        tags.target_tags.required = True
        return tags


class RegressorMixin:
    """score() as R², and the regressor tags for scikit-learn."""

    _estimator_type = "regressor"

    def score(self, X, y, sample_weight=None) -> float:
        """R² of ``predict(X)`` against ``y``, averaged over outputs, optionally weighted.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input, as for ``predict``.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True targets.
        sample_weight : array-like of shape (n_samples,), optional
            Weights of the samples in both sums of squares.

        Returns
        -------
        float
            1 for perfect predictions, 0 for predicting the mean; unbounded below.
        """
        from fastmlp.targets import r2_score

        return r2_score(y, self.predict(X), sample_weight=sample_weight)

    def __sklearn_tags__(self):
        from sklearn.utils import RegressorTags

        tags = super().__sklearn_tags__()
        tags.estimator_type = "regressor"
        tags.regressor_tags = RegressorTags()
        tags.target_tags.required = True
        return tags


__all__ = [
    "BaseEstimator",
    "ClassifierMixin",
    "RegressorMixin",
    "ConvergenceWarning",
    "DataConversionWarning",
    "NotFittedError",
    "compatible",
]


@functools.cache
def _param_names(init) -> tuple[str, ...]:
    """A constructor's parameter names, sorted; read once per class (a signature
    costs tens of microseconds, and every fit reads the parameters)."""
    signature = inspect.signature(init)
    return tuple(sorted(
        p.name
        for p in signature.parameters.values()
        if p.name != "self" and p.kind != p.VAR_KEYWORD
    ))
