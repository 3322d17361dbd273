"""Errors fastmlp raises on purpose; each message names the problem and the fix."""


class DatasetError(Exception):
    """A data set could not be fetched, verified or parsed.

    The message names the file concerned, what went wrong and what to do about it.
    """


class DivergenceError(FloatingPointError):
    """Training produced a non-finite loss; the last finite weights were restored."""


class ModelFileError(ValueError):
    """A saved model file is corrupt, truncated, not a fastmlp model or of an unknown format.

    The message names the file and what is wrong with it.
    """
