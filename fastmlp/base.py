"""scikit-learn's estimator base classes when it is installed, a small stand-in otherwise.

fastmlp must import and train without scikit-learn, yet behave as a genuine
scikit-learn estimator (``clone``, ``Pipeline``, ``GridSearchCV``) when it is
there. The stand-in covers what the estimator itself relies on: parameter
introspection and accuracy scoring.
"""

import inspect

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.exceptions import ConvergenceWarning
except ImportError:  # scikit-learn is optional

    class ConvergenceWarning(UserWarning):
        """The solver stopped at max_iter before the loss settled."""

    class BaseEstimator:
        """get_params / set_params from the constructor's signature, as scikit-learn does."""

        @classmethod
        def _get_param_names(cls) -> list[str]:
            signature = inspect.signature(cls.__init__)
            return sorted(p.name for p in signature.parameters.values() if p.name != "self")

        def get_params(self, deep: bool = True) -> dict:
            return {name: getattr(self, name) for name in self._get_param_names()}

        def set_params(self, **params):
            valid = self._get_param_names()
            for name, value in params.items():
                if name not in valid:
                    raise ValueError(
                        f"Invalid parameter {name!r} for {type(self).__name__}; "
                        f"valid parameters are {valid}."
                    )
                setattr(self, name, value)
            return self

        def __repr__(self) -> str:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
            return f"{type(self).__name__}({args})"

    class ClassifierMixin:
        """score() as mean accuracy."""

        _estimator_type = "classifier"

        def score(self, X, y, sample_weight=None) -> float:
            hits = self.predict(X) == np.asarray(y)
            return float(np.average(hits, weights=sample_weight))


__all__ = ["BaseEstimator", "ClassifierMixin", "ConvergenceWarning"]
