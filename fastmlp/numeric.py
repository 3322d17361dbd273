"""Which inputs X are numbers, and the float type a model of them trains in.

NumPy converts dates, time spans, records and numeric strings to float
without complaint; fastmlp refuses them, as the command line refuses them in
a data file, because a number read off a date or a string is rarely the
feature that was meant. Byte order is converted without changing the type:
a big-endian float32 array (as read from some files) trains a float32 model,
exactly like its native twin.
"""

import numpy as np

# dtype kinds that NumPy would convert to float but that are not numbers to learn from
_NOT_NUMBERS = {"M": "dates", "m": "time spans", "V": "records (a structured array)",
                "U": "strings", "S": "byte strings"}


def float_dtype(dtype: str | None, X: np.ndarray) -> np.dtype:
    """The model's float dtype: ``dtype``, or float32 for uint8 and float32 X, else float64."""
    if dtype is not None:
        return np.dtype(dtype)
    return np.dtype(np.float32 if X.dtype in (np.uint8, np.float32) else np.float64)


def as_float(X: np.ndarray, dtype: np.dtype | None) -> np.ndarray:
    """Non-uint8 X as float32 or float64 in native byte order, refusing what is not numbers.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The input, of any dtype but uint8.
    dtype : numpy dtype or None
        The model's float dtype; None picks it from X
        ([float_dtype][fastmlp.numeric.float_dtype]).

    Returns
    -------
    ndarray
        float32 or float64 X, not copied if it already is either (the kernels
        convert each batch as they read it, so a float64 array for a float32
        model is never copied whole).

    Raises
    ------
    ValueError
        Complex numbers, dates, time spans, records or strings (also numeric
        ones, also in an object array).
    """
    if X.dtype.kind == "c":
        raise ValueError("Complex data not supported; X must hold real numbers.")
    if X.dtype.kind in _NOT_NUMBERS or (X.dtype.kind == "O" and _holds_strings(X)):
        what = _NOT_NUMBERS.get(X.dtype.kind, "strings")
        raise ValueError(
            f"X has dtype {X.dtype}, which holds {what}, not numbers; fastmlp does not "
            "convert them silently. Convert X to numbers yourself, e.g. "
            "X.astype(np.float32) for numeric strings."
        )
    if not X.dtype.isnative:
        X = X.astype(X.dtype.newbyteorder("="))
    if X.dtype.kind not in "biuf":
        try:
            X = X.astype(np.float64)
        except (TypeError, ValueError) as error:
            raise type(error)(
                f"X must hold numbers; got dtype {X.dtype} that cannot be converted to "
                f"float: {error}"
            ) from None
    dtype = float_dtype(None, X) if dtype is None else dtype
    if X.dtype != dtype and X.dtype not in (np.float32, np.float64):
        X = X.astype(dtype)
    return X


def _holds_strings(X: np.ndarray) -> bool:
    return any(isinstance(value, str | bytes) for value in X.ravel())
