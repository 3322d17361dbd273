"""Integer input other than uint8: a warning that it is not scaled like uint8 images.

fastmlp scales uint8 input by 1/255 (8-bit images, as ``load_mnist()`` returns
them) and uses every other input as it is. The same pixels as int64 then reach
the network 255 times larger, and training does far worse without an error.
Scaling every integer type would instead break integer features that are not
pixels (counts, codes), so those are kept, with a warning when they look like
8-bit pixels.
"""

import sys
import warnings

import numpy as np

from fastmlp.exceptions import UnscaledInputWarning

# Small integers (codes, counts, 0-16 grey levels) are not taken for 8-bit pixels;
# an 8-bit image nearly always has some pixel above half the range.
PIXEL_MIN_MAX = 128


def looks_like_unscaled_pixels(X: np.ndarray) -> bool:
    """True for integer X other than uint8 with every value in 0-255 and some from 128 up."""
    if X.dtype.kind not in "iu" or X.dtype == np.uint8 or X.size == 0:
        return False
    low, high = X.min(), X.max()
    return bool(low >= 0 and PIXEL_MIN_MAX <= high <= 255)


def warn_if_unscaled(X: np.ndarray) -> None:
    """Warn with ``UnscaledInputWarning`` when X looks like 8-bit pixels in a wider type."""
    if looks_like_unscaled_pixels(X):
        warnings.warn(
            f"X is {X.dtype} with values in 0-{int(X.max())}; fastmlp scales only uint8 input "
            f"by 1/255, so these values are used as they are. For 8-bit images pass "
            f"X.astype(np.uint8) (scaled for you) or X / 255.",
            UnscaledInputWarning,
            stacklevel=_caller_level(),
        )


def _caller_level() -> int:
    """The stacklevel of the first frame outside fastmlp: the user's fit or predict line."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("fastmlp."):
        frame, level = frame.f_back, level + 1
    return level
