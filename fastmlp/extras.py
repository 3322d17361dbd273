"""Optional dependencies: import one, or fail with one message naming the extra.

fastmlp is installed from a checkout, so the fix a message gives is the
editable install of the extra (``python -m pip install -e ".[dask]"``), run in
the checkout's folder.
"""

import importlib
from types import ModuleType

from fastmlp.exceptions import MissingDependencyError

EXTRAS = {
    "dask": ("dask", "dask[distributed]"),
    "distributed": ("dask", "dask[distributed]"),
    "matplotlib": ("plot", "matplotlib"),
}
"""Module name -> (the extra that installs it, the package pip installs)."""


def install_hint(extra: str) -> str:
    """The command that installs ``extra`` into a checkout of fastmlp."""
    return f'python -m pip install -e ".[{extra}]" (in your fastmlp checkout)'


def missing_message(module: str, feature: str) -> str:
    """The message for ``feature`` lacking ``module``: what is missing and the fix."""
    extra, package = EXTRAS[module]
    return (f"{feature} needs {package}, which is not installed; install fastmlp's "
            f"{extra} extra with {install_hint(extra)}.")


def require(module: str, feature: str) -> ModuleType:
    """Import ``module``, or raise MissingDependencyError naming the extra that installs it.

    Parameters
    ----------
    module : str
        A key of ``EXTRAS``, e.g. ``"distributed"``.
    feature : str
        What needs it, for the message, e.g. ``"fastmlp.sweep"``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        # only the module itself missing: a broken install of it shows its own error
        if getattr(error, "name", None) not in (module, module.split(".")[0]):
            raise
        raise MissingDependencyError(missing_message(module, feature)) from None
