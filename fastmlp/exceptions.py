"""Every exception and warning fastmlp raises on purpose.

Each message names the problem and the fix. ``NotFittedError``,
``ConvergenceWarning`` and ``DataConversionWarning`` carry scikit-learn's names
and meanings; fastmlp raises and warns with ``compatible(cls)``, which adds
scikit-learn's class of the same name as a second base when scikit-learn is
loaded, so code written against either library catches them.

``CommandError``, ``DownloadError``, ``LockTimeout`` and ``DamagedFileError``
never reach callers of the library: the command line prints the first as one
line, and the data and model file layers turn the others into a
``DatasetError`` or ``ModelFileError``.
"""

import functools
import sys


class DatasetError(Exception):
    """A data set could not be fetched, verified or parsed.

    The message names the file concerned, what went wrong and what to do about it.
    """


class DivergenceError(FloatingPointError):
    """Training produced a non-finite loss; the last finite weights were restored."""


class CommandError(Exception):
    """A problem the user of the command line can fix (e.g. a missing optional package).

    Raised by [fastmlp.cli][fastmlp.cli] only, which shows it as one line.
    """


class MissingDependencyError(ImportError):
    """An optional dependency is not installed; the message names the extra to install.

    An ImportError, so code that guards an optional feature with
    ``except ImportError`` keeps working.
    """


class DownloadError(Exception):
    """One source could not deliver a file; the message is a short reason.

    Internal to the data layer: [load_dataset][fastmlp.datasets.load_dataset]
    tries the next mirror, and reports every reason in one ``DatasetError``.
    """


class LockTimeout(TimeoutError):
    """Another process held a cache folder's lock for longer than we would wait.

    Internal to the data layer, which reports it as a ``DatasetError``.
    """


class SchedulerError(ConnectionError):
    """A sweep's Dask cluster cannot be used: the scheduler did not answer as one, or the
    workers holding the sweep's data left it.

    The message names the scheduler's address and what happened instead.
    """


class ModelFileError(ValueError):
    """A saved model file is corrupt, truncated, not a fastmlp model or of an unknown format.

    The message names the file and what is wrong with it.
    """


class SpecialFileError(OSError):
    """A path names a folder, FIFO, device or socket where a regular file is needed,
    or, to be written, a symbolic link. fastmlp never opens such a file in a way that
    could block, never replaces it, and leaves it untouched."""


class DamagedFileError(ValueError):
    """A ``.npy`` header or ``.npz`` member layout that cannot be read.

    Internal to the file readers, which report it as a ``ModelFileError`` or
    ``DatasetError`` naming the file, or (the parsed cache) parse the raw file again.
    """


class ConcurrentFitError(RuntimeError):
    """``fit`` or ``partial_fit`` was called on an estimator another call is still training.

    One estimator trains one fit at a time ([fastmlp.fitguard][fastmlp.fitguard]
    says why it raises rather than waits); fit one estimator per thread.
    """


class NotFittedError(ValueError, AttributeError):
    """The estimator is used before ``fit``; an AttributeError so hasattr() works."""


class ConvergenceWarning(UserWarning):
    """The solver stopped at ``max_iter`` before the loss settled."""


class DataConversionWarning(UserWarning):
    """The input was converted, e.g. a column-vector y was flattened."""


class UnscaledInputWarning(UserWarning):
    """Integer input other than uint8 looks like 8-bit pixels but is not scaled by 1/255.

    Only uint8 input is scaled (by 1/255); cast 8-bit images to uint8, or divide by 255.
    """


@functools.cache
def _merged(ours: type, sklearn_class: type) -> type:
    return type(ours.__name__, (ours, sklearn_class), {"__module__": __name__})


def compatible(ours: type) -> type:
    """The class to raise or warn with, caught by handlers for either library.

    If ``sklearn.exceptions`` is loaded, a subclass of both ``ours`` and
    scikit-learn's class of the same name (created once and cached), so that an
    ``except`` clause or a warnings filter written for either one catches it.
    Otherwise ``ours`` itself: if scikit-learn is not loaded, no code can be
    holding its classes, and it is not imported here.

    Parameters
    ----------
    ours : type
        ``NotFittedError``, ``ConvergenceWarning`` or ``DataConversionWarning``.

    Returns
    -------
    type
        ``ours`` or the merged subclass.
    """
    sklearn_exceptions = sys.modules.get("sklearn.exceptions")
    if sklearn_exceptions is None:
        return ours
    return _merged(ours, getattr(sklearn_exceptions, ours.__name__))


class NonFiniteInputError(ValueError):
    """A batch of the training input held NaN or infinity; raised before that
    batch's update, and turned into a message naming the first bad entry."""
