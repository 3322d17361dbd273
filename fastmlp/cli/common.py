"""What the subcommands share: exit codes, flag names in messages, checks of
output paths and data files, and the options several subcommands take."""

import argparse
import os
import re
import sys
from pathlib import Path

import numpy as np

import fastmlp
from fastmlp.exceptions import CommandError
from fastmlp.presets import PRESETS

# Exit codes: 0 success, 1 a fastmlp error (bad data, divergence, bad input),
# 2 bad command line (argparse's own), 130 interrupted.
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130

# The built-in data sets: 60,000 training images of 28x28 pixels, 10 classes.
DATASET_SAMPLES = 60_000
DATASET_FEATURES = 28 * 28
DATASET_CLASSES = 10

FLAGS = {
    "hidden_layer_sizes": "--hidden",
    "activation": "--activation",
    "solver": "--solver",
    "max_iter": "--epochs",
    "batch_size": "--batch-size",
    "learning_rate_init": "--lr",
    "dtype": "--dtype",
    "random_state": "--seed",
    "alpha": "--alpha",
    "momentum": "--momentum",
    "early_stopping": "--early-stopping",
}
"""The estimator parameter each ``train`` flag sets; errors name the flag."""


def dataset_names() -> list[str]:
    """The built-in data sets, from the one table of them ([fastmlp.datasets.DATASETS][])."""
    from fastmlp.datasets import DATASETS

    return list(DATASETS)


def preset_default(key: str) -> str:
    """'default: X (default preset), Y (notebook)' for a parameter the presets set."""
    def show(value) -> str:
        return " ".join(str(n) for n in value) if isinstance(value, tuple) else str(value)

    values = [f"{show(preset[key])} ({name})" for name, preset in PRESETS.items()]
    return "default from the preset: " + ", ".join(values)


def seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {value}")
    return value


def add_plot_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--plot", metavar="FILE",
                        help=f"plot {what} to FILE, e.g. curves.png (needs matplotlib)")


def add_report_and_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="print one JSON result line on stdout instead of the report")
    add_data_options(parser)


def add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-home", metavar="DIR",
                        help="cache folder of the built-in data sets (default: "
                        "$FASTMLP_DATA_DIR, else the OS cache)")
    parser.add_argument("--mirror", metavar="URL",
                        help="mirror tried first for downloads (default: $FASTMLP_MIRROR)")


def flag_message(message: str) -> str:
    """An estimator's error message with each parameter name replaced by its flag.

    ``"max_iter must be an integer >= 1; got 0."`` becomes ``"--epochs must be
    an integer >= 1; got 0."``: users of the command line typed the flag.

    Parameters
    ----------
    message : str
        A message naming parameters of [FLAGS][fastmlp.cli.common.FLAGS].

    Returns
    -------
    str
    """
    for name, flag in FLAGS.items():
        message = re.sub(rf"(?<![\w-]){name}(?!\w)", flag, message)
    return message


def flags_typed(args: argparse.Namespace, *flags: str) -> str:
    """'--hidden 1000000000 --batch-size 64': the given flags the user set, with values."""
    typed = []
    for flag in flags:
        value = getattr(args, flag.lstrip("-").replace("-", "_"))
        if value is not None:
            shown = " ".join(map(str, value)) if isinstance(value, list) else str(value)
            typed.append(f"{flag} {shown}")
    return " ".join(typed) or f"the {args.preset} preset"


def check_output_path(flag: str, path: str) -> None:
    """The file may be replaced (none, or a regular file, with a name the folder accepts)
    and its folder exists and is writable, before any work is done."""
    from fastmlp.atomic import check_target
    from fastmlp.exceptions import SpecialFileError

    target = Path(path)
    try:
        check_target(target)
    except SpecialFileError as error:
        if target.is_dir():
            raise CommandError(f"{flag} {path} is a folder; name a file in it instead.") from None
        raise CommandError(f"{flag} {path}: {reason(error)}.") from None
    except OSError as error:
        raise CommandError(f"{flag} {path}: {reason(error)}.") from None
    folder = target.parent
    if not folder.is_dir():
        raise CommandError(
            f"{flag} {path}: the folder {folder} does not exist; create it first "
            f"(mkdir -p {folder}) or name another file."
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CommandError(f"{flag} {path}: the folder {folder} is not writable.")


def check_plot_path(path: str) -> None:
    """matplotlib is installed, and can write ``path`` (checked as ``check_output_path``)."""
    require_matplotlib()
    from matplotlib.backend_bases import FigureCanvasBase

    check_output_path("--plot", path)
    suffix = Path(path).suffix.lstrip(".").lower()
    formats = FigureCanvasBase.get_supported_filetypes()
    if suffix and suffix not in formats:
        raise CommandError(
            f"--plot {path}: matplotlib cannot write .{suffix} files; end the name in "
            ".png, .svg or .pdf."
        )


def require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        from fastmlp import extras

        raise CommandError(
            extras.missing_message("matplotlib", "--plot") + " Or drop --plot."
        ) from None


def reason(error: OSError) -> str:
    """An OSError's reason without the file name: the message names the flag's file."""
    return error.strerror or str(error)


def read_data_file(path: str, keys: tuple[str, ...], targets: str = "labels") -> dict:
    """``load_npz``'s arrays; its errors name the ``--data`` flag."""
    from fastmlp.data.npzdata import load_npz

    try:
        return load_npz(path, keys, targets)
    except fastmlp.DatasetError as error:
        raise CommandError(f"--data {error}") from None


def save(model, path: str, metadata: dict) -> None:
    try:
        model.save(path, metadata=metadata)
    except OSError as error:
        raise CommandError(
            f"--save {path}: the model could not be written ({reason(error)})."
        ) from None
    except ValueError as error:
        raise CommandError(f"--save {path}: {error}") from None


def load_model(path: str):
    """load_with_metadata, with any failure to read the file reported as one line."""
    from fastmlp.fitted import load_with_metadata

    try:
        return load_with_metadata(path)
    except (fastmlp.ModelFileError, OSError):
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError,
            MemoryError) as error:
        raise CommandError(
            f"{path} is not a readable fastmlp model file ({type(error).__name__}: {error})."
        ) from None


def label_warnings(model, y_test, what: str) -> list[str]:
    """Warnings (also printed on stderr) when test labels are unknown to the model."""
    known = set(model.classes_.tolist())
    labels = np.asarray(y_test).tolist()
    unknown = [label for label in labels if label not in known]
    if not unknown:
        return []
    shown = sorted(set(unknown), key=str)[:10]
    classes = sorted(known, key=str)[:10]
    if len(unknown) == len(labels):
        message = (
            f"none of {what} ({shown}) is one of the model's classes ({classes}), so the "
            "accuracy is 0 by construction; evaluate on data labelled like the training data "
            "(same label values and type)."
        )
    else:
        message = (
            f"{len(unknown)} of {len(labels)} samples in {what} have labels the model never "
            f"saw ({shown}); they count as wrong."
        )
    print(f"fastmlp: warning: {message}", file=sys.stderr)
    return [message]


def regression_scores(model, X, y) -> dict:
    """R² (the regressor's ``score``) and the root mean squared error over every output."""
    from fastmlp.metrics import root_mean_squared_error

    return {"r2": float(model.score(X, y)), "rmse": root_mean_squared_error(y, model.predict(X))}
