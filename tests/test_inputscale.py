"""Only uint8 input is scaled by 1/255; wider integer pixels get a warning saying so."""

import warnings

import numpy as np
import pytest

from fastmlp import MLPClassifier, inputscale
from fastmlp.exceptions import UnscaledInputWarning


def _pixels(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = np.where(y[:, None] == 1, 200, 30) + rng.integers(0, 40, (n, 6))
    return X.astype(np.uint8), y


def _fit(X, y):
    return MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(X, y)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint16, np.int16])
def test_wider_integer_pixels_warn_naming_the_scaling(dtype, quiet_convergence):
    X, y = _pixels()
    with pytest.warns(UnscaledInputWarning, match=r"scales only uint8 input by 1/255"):
        model = _fit(X.astype(dtype), y)
    with pytest.warns(UnscaledInputWarning, match=str(np.dtype(dtype))):
        model.predict(X.astype(dtype))


@pytest.mark.parametrize("X", [_pixels()[0], _pixels()[0] / 255.0,
                               (_pixels()[0] > 100).astype(np.int64)],
                         ids=["uint8", "float", "int 0/1"])
def test_no_warning_for_scaled_or_non_pixel_input(X, quiet_convergence):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnscaledInputWarning)
        _fit(X, _pixels()[1])


def test_the_warning_points_at_the_callers_line(quiet_convergence):
    X, y = _pixels()
    with pytest.warns(UnscaledInputWarning) as caught:
        _fit(X.astype(np.int64), y)
    assert caught[0].filename == __file__


def test_integers_beyond_a_byte_are_not_taken_for_pixels():
    X = _pixels()[0].astype(np.int64)
    assert inputscale.looks_like_unscaled_pixels(X)
    assert not inputscale.looks_like_unscaled_pixels(X * 10)  # counts, not pixels
    assert not inputscale.looks_like_unscaled_pixels(X - 100)  # negative values
    assert not inputscale.looks_like_unscaled_pixels(X % 5)  # small codes, 0-4
    assert not inputscale.looks_like_unscaled_pixels(X % 17)  # 0-16 grey levels
