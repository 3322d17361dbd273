"""The ``fastmlp`` command: train, save and evaluate models on MNIST-style data or your own.

Subcommands ``train``, ``evaluate``, ``download`` and ``sweep`` (a grid of fits
on a Dask cluster, [fastmlp.sweeps][fastmlp.sweeps]). Every flag and path is
checked before any download or training starts. Errors reach the user as one
line on stderr naming the flag or file and the fix, with a non-zero exit code;
``--debug`` shows the traceback instead. Exit codes: 0 success; 1 an error
(bad data, damaged model file, divergence, invalid value, I/O, not enough
memory); 2 a bad command line (argparse's own); 130 interrupted (Ctrl-C).
"""

import argparse
import json
import os
import re
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import fastmlp
from fastmlp import options
from fastmlp.exceptions import CommandError
from fastmlp.metrics import confusion_matrix, format_confusion_matrix
from fastmlp.presets import PRESETS

# Exit codes: 0 success, 1 a fastmlp error (bad data, divergence, bad input),
# 2 bad command line (argparse's own), 130 interrupted.
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130

# Samples of the naive baseline timed by `--preset notebook` for the speed-up.
BASELINE_SLICE = 5000

DATASETS = ["mnist", "fashion-mnist", "kmnist"]
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
"""The ``MLPClassifier`` parameter each ``train`` flag sets; errors name the flag."""

TRAIN_EXAMPLES = """\
examples:
  fastmlp train                                  the default preset on MNIST
  fastmlp train --preset notebook                the teaching notebook's model, and its speed-up
  fastmlp train --dataset fashion-mnist --hidden 256 128 --epochs 20
  fastmlp train --data mydata.npz --save model.npz
                                                 your own x_train, y_train, x_test, y_test
  fastmlp train --epochs 2 --json                one JSON line for scripts

A flag left out takes its value from the preset ("default from the preset"
above); the presets are listed in fastmlp.presets.PRESETS.
"""


def _preset_default(key: str) -> str:
    """'default: X (default preset), Y (notebook)' for a parameter the presets set."""
    def show(value) -> str:
        return " ".join(str(n) for n in value) if isinstance(value, tuple) else str(value)

    values = [f"{show(preset[key])} ({name})" for name, preset in PRESETS.items()]
    return "default from the preset: " + ", ".join(values)


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The ``fastmlp`` argument parser with its subcommands.

    Exposed so that tests and the documentation can check command lines
    without running them.

    Returns
    -------
    argparse.ArgumentParser
        Parses into a namespace with ``command`` (``"train"``, ``"evaluate"``,
        ``"download"`` or ``"sweep"``), ``debug`` and the subcommand's options.
    """
    parser = argparse.ArgumentParser(
        prog="fastmlp", description="Train multi-layer perceptrons fast on a CPU."
    )
    parser.add_argument("--version", action="version", version=f"fastmlp {fastmlp.__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train", help="train on a data set and report test accuracy",
        description="Train an MLPClassifier on a built-in data set or your own .npz file,\n"
        "then report its test accuracy, training time and throughput. A preset\n"
        "gives every setting; the flags override single ones.",
        epilog=TRAIN_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("--preset", choices=sorted(PRESETS), default="default",
                       help="starting configuration; the flags below override it "
                       "(default: default)")
    source = train.add_mutually_exclusive_group()
    source.add_argument("--dataset", default="mnist", choices=DATASETS,
                        help="built-in data set to train and test on (default: mnist)")
    source.add_argument("--data", metavar="FILE",
                        help="your own data: an .npz file with arrays x_train, y_train, "
                        "x_test, y_test (np.savez)")
    train.add_argument("--hidden", type=int, nargs="+", metavar="N",
                       help=f"hidden layer sizes, e.g. --hidden 128 64 "
                       f"({_preset_default('hidden_layer_sizes')})")
    train.add_argument("--activation", choices=options.ACTIVATIONS,
                       help=f"activation of the hidden units ({_preset_default('activation')})")
    train.add_argument("--solver", choices=options.SOLVERS,
                       help=f"optimizer ({_preset_default('solver')})")
    train.add_argument("--epochs", type=int, metavar="N",
                       help=f"passes over the training data ({_preset_default('max_iter')})")
    train.add_argument("--batch-size", type=int, metavar="N",
                       help=f"samples per step ({_preset_default('batch_size')})")
    train.add_argument("--lr", type=float, metavar="RATE",
                       help=f"initial learning rate ({_preset_default('learning_rate_init')})")
    train.add_argument("--dtype", choices=options.DTYPES,
                       help=f"float type of the weights and arithmetic "
                       f"({_preset_default('dtype')})")
    train.add_argument("--alpha", type=float, metavar="L2",
                       help=f"strength of the L2 penalty ({_preset_default('alpha')})")
    train.add_argument("--momentum", type=float, metavar="M",
                       help="momentum of the sgd solver, in [0, 1] (default: 0.9, the notebook "
                       "preset 0.0)")
    train.add_argument("--early-stopping", action=argparse.BooleanOptionalAction,
                       help="hold out a tenth of the training data and stop when its score "
                       "stops improving (default: off)")
    train.add_argument("--seed", type=_seed, default=0, metavar="N",
                       help="seed of the initial weights and the shuffling (default: 0)")
    train.add_argument("--save", metavar="FILE", help="save the trained model to FILE (.npz)")
    _add_plot_option(train, "loss and test accuracy per epoch")
    _add_report_and_data_options(train)

    evaluate = commands.add_parser(
        "evaluate", help="report a saved model's test accuracy and confusion matrix",
        description="Report a saved model's accuracy on a test set, with the confusion "
        "matrix.",
    )
    evaluate.add_argument("model", metavar="MODEL", help="model file written by train --save")
    source = evaluate.add_mutually_exclusive_group()
    source.add_argument("--dataset", choices=DATASETS,
                        help="built-in test set to use (default: the one the model was "
                        "trained on)")
    source.add_argument("--data", metavar="FILE",
                        help="your own test set: an .npz file with arrays x_test, y_test")
    _add_report_and_data_options(evaluate)

    download = commands.add_parser(
        "download", help="fetch a data set into the cache, or import it from a folder",
        description="Put a built-in data set's four files into the cache and print their "
        "paths.",
    )
    download.add_argument("dataset", choices=DATASETS, help="the data set")
    download.add_argument("--from", dest="source", metavar="DIR",
                          help="import the original .gz files from DIR instead of downloading")
    _add_data_options(download)
    _add_sweep_parser(commands)
    return parser


def _add_plot_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--plot", metavar="FILE",
                        help=f"plot {what} to FILE, e.g. curves.png (needs matplotlib)")


def _add_report_and_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="print one JSON result line on stdout instead of the report")
    _add_data_options(parser)


def _add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-home", metavar="DIR",
                        help="cache folder of the built-in data sets (default: "
                        "$FASTMLP_DATA_DIR, else the OS cache)")
    parser.add_argument("--mirror", metavar="URL",
                        help="mirror tried first for downloads (default: $FASTMLP_MIRROR)")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fastmlp`` console script.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit code: 0 success, 1 error (reported as one line on stderr,
        or re-raised with ``--debug``), 130 interrupted. argparse raises
        ``SystemExit`` itself: code 2 for a bad command line, 0 after
        ``--help`` or ``--version``.
    """
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("fastmlp: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except MemoryError as error:
        if args.debug:
            raise
        detail = f" ({error})" if str(error) else ""
        print(f"fastmlp: error: out of memory{detail}; use a smaller network or data set.",
              file=sys.stderr)
        return EXIT_ERROR
    except (
        fastmlp.DatasetError, fastmlp.DivergenceError, CommandError, ValueError, OSError
    ) as error:
        if args.debug:
            raise
        print(format_error(error), file=sys.stderr)
        return EXIT_ERROR


def format_error(error: BaseException) -> str:
    """The text ``main`` prints for an error, after ``fastmlp: error: ``.

    A [DatasetError][fastmlp.exceptions.DatasetError] keeps its lines (a
    failed download names each mirror tried on a line of its own, then the
    fix), indented under the first; every other message becomes one line,
    whatever it holds.

    Parameters
    ----------
    error : BaseException
        The error to show.

    Returns
    -------
    str
        One line, or several for a ``DatasetError``, the first prefixed with
        ``fastmlp: error: ``.
    """
    if isinstance(error, fastmlp.DatasetError):
        # the library's advice names its argument; here the user types the flag
        text = str(error).replace("pass data_home=", "pass --data-home DIR")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        lines = lines or [type(error).__name__]
        return "\n".join([f"fastmlp: error: {lines[0]}", *(f"  {line}" for line in lines[1:])])
    return "fastmlp: error: " + " ".join(str(error).split())


def _train(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from fastmlp.base import ConvergenceWarning

    # Everything the user typed is checked before any download or training.
    params = _train_params(args)
    _check_params(params)
    if args.plot:
        _require_matplotlib()
        _check_plot_path(args.plot)
    if args.save:
        _check_output_path("--save", args.save)
    if args.data:
        arrays = _read_data_file(args.data, ("x_train", "y_train", "x_test", "y_test"))
        x_train, y_train = arrays["x_train"], arrays["y_train"]
        x_test, y_test = arrays["x_test"], arrays["y_test"]
        source = Path(args.data).name
        n_samples, n_features = len(x_train), int(np.prod(x_train.shape[1:]))
        n_classes = len(np.unique(y_train))
    else:
        source, n_samples = args.dataset, DATASET_SAMPLES
        n_features, n_classes = DATASET_FEATURES, DATASET_CLASSES
    _check_batch_size(params["batch_size"], n_samples, source)
    _check_memory(args, params, n_features, n_classes)
    if not args.data:
        from fastmlp.datasets import load_dataset

        (x_train, y_train), (x_test, y_test) = load_dataset(
            args.dataset, data_home=args.data_home, mirror=args.mirror
        )
    progress = tqdm(total=params["max_iter"], unit="epoch", desc=f"training on {source}",
                    disable=None, leave=False)

    epoch_seconds: list[float] = []

    def show_progress(model, info: dict) -> None:
        epoch_seconds.append(info["seconds"])
        progress.set_postfix(loss=f"{info['loss']:.4f}",
                             samples_per_s=f"{info['n_samples'] / info['seconds']:,.0f}")
        progress.update()

    callbacks = [show_progress]
    test_accuracy: list[float] = []
    if args.plot:
        # scoring the test set every epoch costs time, so only when it is plotted;
        # it runs after the epoch's timing was taken and after show_progress
        callbacks.append(lambda model, info: test_accuracy.append(model.score(x_test, y_test)))

    # An untimed fit on a slice compiles the kernels (or loads them from the cache) first:
    # a cold cache would otherwise put seconds of compilation in the first timed epoch.
    from fastmlp.warmup import warm_up

    kernel_seconds = warm_up(params, x_train, y_train, notice=None if args.json else sys.stderr)
    model = fastmlp.MLPClassifier(callbacks=callbacks, **params)
    started = time.perf_counter()
    try:
        with warnings.catch_warnings():
            # a fixed epoch budget is the point of a preset; not converging is expected
            warnings.simplefilter("ignore", category=ConvergenceWarning)
            model.fit(x_train, y_train)
    except MemoryError:
        raise CommandError(
            f"out of memory while training {_flags_typed(args, '--hidden', '--batch-size')}; "
            "use fewer or smaller hidden layers or a smaller batch size."
        ) from None
    except fastmlp.DivergenceError as error:  # its advice names learning_rate_init: --lr here
        raise CommandError(flag_message(str(error))) from None
    finally:
        progress.close()
    seconds = time.perf_counter() - started
    # Throughput counts the epochs only: the fit's wall time also holds its setup
    # (checking and converting the input); the kernels were compiled before it.
    samples_per_s = model.t_ / sum(epoch_seconds)
    accuracy = model.score(x_test, y_test)
    notes = _label_warnings(model, y_test, f"the test labels of {source}")

    layer_sizes = (model.n_features_in_, *(c.shape[1] for c in model.coefs_))
    layers = "-".join(str(n) for n in layer_sizes)
    if args.save:
        metadata = {"test_accuracy": accuracy}
        metadata.update({"data": args.data} if args.data else {"dataset": args.dataset})
        _save(model, args.save, metadata)
    if args.plot:
        title = (f"{layers} {params['activation']}, {params['solver']}, "
                 f"batch {params['batch_size']}, {params['dtype']} on {source}")
        _plot_curves(args.plot, model.loss_curve_, test_accuracy, title, params["loss"])

    baseline_rate = None
    if args.preset == "notebook":
        baseline_rate = _baseline_samples_per_s(x_train, y_train)
    if args.json:
        result = {
            "command": "train", "dataset": None if args.data else args.dataset,
            "data": args.data, "preset": args.preset,
            "layer_sizes": list(layer_sizes), "activation": params["activation"],
            "solver": params["solver"], "batch_size": params["batch_size"],
            "dtype": params["dtype"], "epochs": model.n_iter_, "accuracy": accuracy,
            "n_test": len(y_test), "kernel_seconds": kernel_seconds, "train_seconds": seconds,
            "epoch_seconds": sum(epoch_seconds), "samples_per_s": samples_per_s,
            "loss_curve": model.loss_curve_, "test_accuracy_curve": test_accuracy or None,
            "saved": args.save, "plot": args.plot, "warnings": notes,
        }
        if baseline_rate is not None:
            result["baseline_samples_per_s"] = baseline_rate
            result["speedup"] = samples_per_s / baseline_rate
        print(json.dumps(result))
        return 0
    print(f"model        {layers} {params['activation']}, {params['solver']} "
          f"{model.learning_rate_init:g} ({model.learning_rate}), "
          f"batch {params['batch_size']}, {params['dtype']}")
    print(f"epochs       {model.n_iter_}")
    print(f"accuracy     {accuracy:.4f} on the {len(y_test)} test "
          f"{'images' if not args.data else 'samples of ' + source}")
    print(f"kernels      {kernel_seconds:.2f} s to compile them (first run only) or load them "
          "from the cache, before training")
    print(f"train time   {seconds:.2f} s ({sum(epoch_seconds):.2f} s in epochs, the rest "
          "setup)")
    print(f"throughput   {samples_per_s:,.0f} samples/s (epochs only)")
    if baseline_rate is not None:
        print(f"naive loop   {baseline_rate:,.0f} samples/s (the notebook's loop on "
              f"{BASELINE_SLICE} samples, at its faster BLAS thread count)")
        print(f"speed-up     {samples_per_s / baseline_rate:.1f}x over the naive loop")
    if args.save:
        print(f"saved        {args.save}")
    if args.plot:
        print(f"plot         {args.plot}")
    return 0


def _train_params(args: argparse.Namespace) -> dict:
    """The preset's MLPClassifier parameters with the flags' overrides."""
    params = dict(PRESETS[args.preset])
    overrides = {
        "hidden_layer_sizes": tuple(args.hidden) if args.hidden else None,
        "activation": args.activation,
        "solver": args.solver,
        "max_iter": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate_init": args.lr,
        "dtype": args.dtype,
        "alpha": args.alpha,
        "momentum": args.momentum,
        "early_stopping": args.early_stopping,
    }
    params.update({key: value for key, value in overrides.items() if value is not None})
    params["random_state"] = args.seed
    return params


def _check_params(params: dict) -> None:
    """The estimator's own validation, its messages naming the flags instead."""
    try:
        fastmlp.MLPClassifier(**params)._validate_params()
    except (ValueError, TypeError) as error:
        message = str(error)
        if message.startswith("hidden_layer_sizes "):
            # the estimator's message shows Python tuples; say it as typed
            sizes = " ".join(map(str, params["hidden_layer_sizes"]))
            message = ("--hidden takes whole numbers >= 1, one per hidden layer, e.g. "
                       f"--hidden 128 or --hidden 128 64; got --hidden {sizes}.")
        raise CommandError(flag_message(message)) from None


def flag_message(message: str) -> str:
    """An ``MLPClassifier`` error message with each parameter name replaced by its flag.

    ``"max_iter must be an integer >= 1; got 0."`` becomes ``"--epochs must be
    an integer >= 1; got 0."``: users of the command line typed the flag.

    Parameters
    ----------
    message : str
        A message naming parameters of [FLAGS][fastmlp.cli.FLAGS].

    Returns
    -------
    str
    """
    for name, flag in FLAGS.items():
        message = re.sub(rf"(?<![\w-]){name}(?!\w)", flag, message)
    return message


def _flags_typed(args: argparse.Namespace, *flags: str) -> str:
    """'--hidden 1000000000 --batch-size 64': the given flags the user set, with values."""
    typed = []
    for flag in flags:
        value = getattr(args, flag.lstrip("-").replace("-", "_"))
        if value is not None:
            shown = " ".join(map(str, value)) if isinstance(value, list) else str(value)
            typed.append(f"{flag} {shown}")
    return " ".join(typed) or f"the {args.preset} preset"


def _check_batch_size(batch_size: int | str, n_samples: int, source: str) -> None:
    """A batch larger than the training set is a typo on the command line, not a request."""
    if batch_size != "auto" and batch_size > n_samples:
        raise CommandError(
            f"--batch-size {batch_size} is larger than the {n_samples:,} training samples of "
            f"{source}; use at most {n_samples}."
        )


def _check_memory(args, params: dict, n_features: int, n_classes: int) -> None:
    """Refuse, before any download, a network whose training cannot fit in memory."""
    from fastmlp.parameters import check_memory, hidden_sizes

    hidden = hidden_sizes(params["hidden_layer_sizes"])
    try:
        check_memory(hidden, (n_features, *hidden, n_classes), params["dtype"],
                     params["solver"])
    except ValueError as error:
        # the estimator's message shows Python tuples; say it as typed
        message = str(error).replace(f"hidden_layer_sizes={hidden!r}",
                                     _flags_typed(args, "--hidden"))
        raise CommandError(flag_message(message)) from None


def _check_output_path(flag: str, path: str) -> None:
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
        raise CommandError(f"{flag} {path}: {_reason(error)}.") from None
    except OSError as error:
        raise CommandError(f"{flag} {path}: {_reason(error)}.") from None
    folder = target.parent
    if not folder.is_dir():
        raise CommandError(
            f"{flag} {path}: the folder {folder} does not exist; create it first "
            f"(mkdir -p {folder}) or name another file."
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CommandError(f"{flag} {path}: the folder {folder} is not writable.")


def _check_plot_path(path: str) -> None:
    from matplotlib.backend_bases import FigureCanvasBase

    _check_output_path("--plot", path)
    suffix = Path(path).suffix.lstrip(".").lower()
    formats = FigureCanvasBase.get_supported_filetypes()
    if suffix and suffix not in formats:
        raise CommandError(
            f"--plot {path}: matplotlib cannot write .{suffix} files; end the name in "
            ".png, .svg or .pdf."
        )


def _save(model, path: str, metadata: dict) -> None:
    try:
        model.save(path, metadata=metadata)
    except OSError as error:
        raise CommandError(
            f"--save {path}: the model could not be written ({_reason(error)})."
        ) from None
    except ValueError as error:
        raise CommandError(f"--save {path}: {error}") from None


def _reason(error: OSError) -> str:
    """An OSError's reason without the file name: the message names the flag's file."""
    return error.strerror or str(error)


def _read_data_file(path: str, keys: tuple[str, ...]) -> dict:
    from fastmlp.data.npzdata import load_npz

    try:
        return load_npz(path, keys)
    except fastmlp.DatasetError as error:
        raise CommandError(f"--data {error}") from None


def _label_warnings(model, y_test, what: str) -> list[str]:
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


def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        from fastmlp import extras

        raise CommandError(
            extras.missing_message("matplotlib", "--plot") + " Or drop --plot."
        ) from None


LOSS_NAMES = {"log_loss": "log loss (cross-entropy)", "squared_error": "squared error"}


def _plot_curves(
    path: str, losses: list[float], accuracy: list[float], title: str, loss: str
) -> None:
    """Training loss and test accuracy per epoch, side by side, written with the Agg backend."""
    # Figure + FigureCanvasAgg, not pyplot: no GUI backend and no global state touched
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 3.4), dpi=150, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(title, fontsize=11)
    left, right = figure.subplots(1, 2)
    left.plot(range(1, len(losses) + 1), losses, marker="o")
    left.set(xlabel="epoch", ylabel=f"training {LOSS_NAMES.get(loss, loss)}",
             title="training loss")
    right.plot(range(1, len(accuracy) + 1), [100 * a for a in accuracy], marker="o",
               color="tab:green")
    right.set(xlabel="epoch", ylabel="test accuracy (%)", title="test accuracy")
    for axes in (left, right):
        axes.grid(alpha=0.3)
        axes.xaxis.get_major_locator().set_params(integer=True)
    from fastmlp.atomic import atomic_write

    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    try:
        with atomic_write(path) as file:  # a full disk keeps the previous plot whole
            figure.savefig(file, format=fmt)
    except OSError as error:
        raise CommandError(
            f"--plot {path}: the plot could not be written ({_reason(error)})."
        ) from None


def _evaluate(args: argparse.Namespace) -> int:
    model, metadata = _load_model(args.model)
    if args.data:
        arrays = _read_data_file(args.data, ("x_test", "y_test"))
        x_test, y_test = arrays["x_test"], arrays["y_test"]
        n_features = int(np.prod(x_test.shape[1:]))
        if n_features != model.n_features_in_:
            raise CommandError(
                f"--data {args.data}: x_test rows have {n_features} features, but "
                f"{args.model} was trained on {model.n_features_in_} features."
            )
        dataset, source, what = None, args.data, f"test samples of {Path(args.data).name}"
    else:
        from fastmlp.datasets import load_dataset

        dataset = args.dataset or metadata.get("dataset")
        if dataset is None and metadata.get("data"):
            raise CommandError(
                f"{args.model} was trained on your data file {metadata['data']}; pass "
                "--data FILE (an .npz with x_test, y_test) or --dataset NAME."
            )
        dataset = dataset or "mnist"
        if dataset not in DATASETS:
            raise CommandError(
                f"{args.model} was trained on {dataset!r}, which evaluate cannot load; "
                f"pass --dataset, one of {DATASETS}, or --data FILE."
            )
        _, (x_test, y_test) = load_dataset(dataset, data_home=args.data_home,
                                           mirror=args.mirror)
        source, what = dataset, f"{dataset} test images"
        n_features = int(np.prod(x_test.shape[1:]))
        if n_features != model.n_features_in_:
            raise CommandError(
                f"{args.model} was trained on {model.n_features_in_} features, but the "
                f"{dataset} test images have {n_features} features (pixels); pass --data "
                f"FILE, an .npz with x_test, y_test of {model.n_features_in_} features."
            )
    predicted = model.predict(x_test)
    accuracy = float(np.mean(predicted == y_test))
    notes = _label_warnings(model, y_test, f"the test labels of {source}")
    labels, matrix = confusion_matrix(y_test, predicted)
    from fastmlp.datasets import CLASS_NAMES

    names = CLASS_NAMES.get(dataset)
    if args.json:
        print(json.dumps({
            "command": "evaluate", "model": str(args.model), "dataset": dataset,
            "data": args.data,
            "accuracy": accuracy, "n_test": len(y_test), "labels": labels.tolist(),
            "confusion_matrix": matrix.tolist(), "warnings": notes,
            "class_names": list(names) if names else None,
        }))
        return 0
    print(f"model        {args.model}")
    print(f"accuracy     {accuracy:.4f} on the {len(y_test)} {what}")
    print("confusion matrix (rows: true class, columns: predicted class)")
    print(format_confusion_matrix(labels, matrix, names))
    return 0


def _load_model(path: str):
    """load_with_metadata, with any failure to read the file reported as one line."""
    from fastmlp.estimator import load_with_metadata

    try:
        return load_with_metadata(path)
    except (fastmlp.ModelFileError, OSError):
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError,
            MemoryError) as error:
        raise CommandError(
            f"{path} is not a readable fastmlp model file ({type(error).__name__}: {error})."
        ) from None


def _baseline_samples_per_s(x_train, y_train) -> float:
    """The naive loop's samples/s at its faster BLAS thread count, 1 or the default.

    Which count is faster for its small per-sample products depends on the
    machine and its load, so both are timed and the speed-up uses the faster.
    """
    from contextlib import nullcontext

    from fastmlp import baseline

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # an optional dependency: without it only the default count
        thread_settings = [nullcontext]
    else:
        thread_settings = [lambda: threadpool_limits(1, user_api="blas"), nullcontext]
    n = min(BASELINE_SLICE, len(x_train))
    rates = []
    for threads in thread_settings:
        with threads():
            started = time.perf_counter()
            baseline.train(x_train[:n], y_train[:n], epochs=1, seed=0)
            rates.append(n / (time.perf_counter() - started))
    return max(rates)


def _download(args: argparse.Namespace) -> int:
    from fastmlp.datasets import download

    paths = download(args.dataset, source=args.source, data_home=args.data_home,
                     mirror=args.mirror)
    for path in paths:
        print(path)
    return 0


# -- fastmlp sweep: a grid of fits on a Dask cluster (fastmlp.sweeps) --------------------


def _add_sweep_parser(commands) -> None:
    sweep = commands.add_parser(
        "sweep", help="fit a grid of hyper-parameters on a Dask cluster and rank the points",
        description="Fit one model per grid point on a Dask cluster (an embedded one by "
        "default), rank the points by accuracy on the last 10,000 training images, then "
        "report the best point's test accuracy, measured once.",
    )
    sweep.add_argument(
        "--grid", action="append", required=True, metavar="NAME=V1,V2,...",
        help="a parameter of MLPClassifier and its values, e.g. hidden_layer_sizes=16,256x128 "
        "(256x128: two hidden layers) or learning_rate_init=1e-3,3e-3; repeat for more "
        "parameters (every combination is fitted)",
    )
    sweep.add_argument("--preset", choices=sorted(PRESETS), default="default",
                       help="parameters shared by all points; the grid overrides them")
    sweep.add_argument("--epochs", type=int, help="number of epochs (max_iter) of every point")
    sweep.add_argument("--seed", type=int, default=0,
                       help="random_state of every point (default 0; sweep it with --grid)")
    sweep.add_argument("--dataset", default="mnist", choices=DATASETS,
                       help="built-in data set to train, validate and test on (default: mnist)")
    cluster = sweep.add_mutually_exclusive_group()
    cluster.add_argument("--scheduler", metavar="ADDRESS",
                         help="Dask scheduler to run on, e.g. tcp://10.0.0.1:8786 "
                         "(default: an embedded cluster on this machine)")
    cluster.add_argument("--workers", type=int, metavar="N",
                         help="worker processes of the embedded cluster (default: one per core)")
    sweep.add_argument("--connect-timeout", type=float, default=30.0, metavar="SECONDS",
                       help="seconds to connect to --scheduler and hear its handshake "
                       "before giving up (default: 30)")
    sweep.add_argument("--out", metavar="FILE", help="write the ranked results to FILE as CSV")
    _add_plot_option(sweep, "validation accuracy against each swept parameter")
    _add_report_and_data_options(sweep)


def _sweep(args: argparse.Namespace) -> int:
    import importlib.util

    from fastmlp import extras

    if importlib.util.find_spec("distributed") is None:
        raise CommandError(extras.missing_message("distributed", "fastmlp sweep"))
    from tqdm.auto import tqdm

    from fastmlp import sweeps
    from fastmlp.datasets import load_dataset

    # Everything the user typed is checked before the data is loaded or a cluster starts,
    # the cheap flags first; the grid on its description before any point exists.
    if args.workers is not None and args.workers < 1:
        raise CommandError(f"--workers must be at least 1; got {args.workers}.")
    if not args.connect_timeout > 0:
        raise CommandError(f"--connect-timeout must be > 0 seconds; got {args.connect_timeout}.")
    grid = sweeps.parse_grid(args.grid)
    params = dict(PRESETS[args.preset], random_state=args.seed)
    if args.epochs is not None:
        params["max_iter"] = args.epochs
    points = sweeps.check_points(grid, params, n_features=DATASET_FEATURES,
                                 n_classes=DATASET_CLASSES, data_dtype=np.uint8)
    if args.out:
        _check_output_path("--out", args.out)
    if args.plot:
        _require_matplotlib()
        _check_plot_path(args.plot)

    # the cluster first: an unreachable scheduler fails before the data loads, and an
    # embedded cluster's workers start while it does
    with _sweep_client(args) as client:
        (x_train, y_train), (x_test, y_test) = load_dataset(
            args.dataset, data_home=args.data_home, mirror=args.mirror
        )
        progress = tqdm(total=len(points), unit="point", desc=f"sweep on {args.dataset}",
                        disable=None, leave=False)
        started = time.perf_counter()
        results = sweeps.sweep(grid, x_train, y_train, params=params, client=client,
                               callback=lambda result: progress.update())
        seconds = time.perf_counter() - started
        progress.close()

    ranking = sweeps.ranked(results)
    names = list(grid)
    if args.out:
        _write_sweep_csv(args.out, ranking, names)
    if args.plot:
        _plot_sweep(args.plot, results, names, args.dataset)
    best = sweeps.best(results)  # ValueError, exit 1, if every point failed
    test_accuracy = best.model.score(x_test, y_test)  # the test set's only use
    n_val = sweeps.default_validation_size(len(x_train))
    workers = sorted({result.worker for result in results if result.worker})
    if args.json:
        print(json.dumps({
            "command": "sweep", "dataset": args.dataset, "preset": args.preset,
            "results": [result.to_dict() for result in ranking], "best": best.to_dict(),
            "test_accuracy": test_accuracy, "n_validation": n_val, "n_test": len(y_test),
            "seconds": seconds, "workers": workers, "out": args.out, "plot": args.plot,
        }))
        return 0
    print(_format_sweep_table(ranking, names))
    failed = sum(not result.ok for result in results)
    print()
    print(f"points       {len(results)} ({failed} failed) on {len(workers)} workers "
          f"in {seconds:.1f} s")
    print(f"best         {_format_point(best.params)}")
    print(f"validation   {best.validation_accuracy:.4f} on the last {n_val} training images")
    print(f"test         {test_accuracy:.4f} on the {len(y_test)} test images "
          "(best point only, measured once)")
    if args.out:
        print(f"results      {args.out}")
    if args.plot:
        print(f"plot         {args.plot}")
    return 0


def _sweep_client(args: argparse.Namespace):
    """A client of the cluster at --scheduler, or of an embedded one with --workers processes."""
    from fastmlp import sweeps

    if not args.scheduler:
        return sweeps.local_client(args.workers)
    from fastmlp import cluster

    try:
        return cluster.connect(args.scheduler, args.connect_timeout)
    except (ValueError, OSError) as error:
        raise CommandError(
            f"--scheduler: {error} (or leave out --scheduler to run on this machine)."
        ) from None


def _sweep_value(value) -> str:
    from fastmlp import sweeps

    if isinstance(value, tuple):
        return sweeps.LAYER_SEPARATOR.join(str(size) for size in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _format_point(params: dict) -> str:
    return " ".join(f"{name}={_sweep_value(value)}" for name, value in params.items())


def _format_sweep_table(ranking, names: list[str]) -> str:
    header = ["rank", *names, "validation", "fit s", "samples/s", "worker"]
    rows = []
    for rank, result in enumerate(ranking, start=1):
        values = [str(rank), *(_sweep_value(result.params[name]) for name in names)]
        if result.ok:
            rate = "-" if result.samples_per_s is None else f"{result.samples_per_s:,.0f}"
            values += [f"{result.validation_accuracy:.4f}", f"{result.seconds:.2f}", rate,
                       result.worker or "-"]
        else:
            values += ["failed", "", "", result.error]
        rows.append(values)
    # the last column (worker, or the error) is left unpadded
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [cell.rjust(width) if i == 0 or i > len(names) else cell.ljust(width)
                 for i, (cell, width) in enumerate(zip(row, widths, strict=False))]
        lines.append("  ".join([*cells, row[-1]]))
    return "\n".join(lines)


def _write_sweep_csv(path: str, ranking, names: list[str]) -> None:
    import csv
    import io

    from fastmlp.atomic import atomic_write

    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([*names, "validation_accuracy", "seconds", "samples_per_s", "epochs",
                     "final_loss", "worker", "error"])
    for result in ranking:
        writer.writerow([
            *(_sweep_value(result.params[name]) for name in names),
            result.validation_accuracy, result.seconds, result.samples_per_s,
            len(result.loss_curve), result.loss_curve[-1] if result.loss_curve else None,
            result.worker, result.error,
        ])
    with atomic_write(path) as file:
        file.write(text.getvalue().encode())


def _plot_sweep(path: str, results, names: list[str], dataset: str) -> None:
    """Validation accuracy against each swept parameter, one panel each, with the Agg backend."""
    import os

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from fastmlp.atomic import atomic_write

    succeeded = [result for result in results if result.ok]
    figure = Figure(figsize=(4 * len(names), 3.5), layout="constrained")
    FigureCanvasAgg(figure)
    panels = figure.subplots(1, len(names), squeeze=False)[0]
    for axes, name in zip(panels, names, strict=True):
        # each distinct value at its own position, in grid order; every point at its value
        labels = list(dict.fromkeys(_sweep_value(result.params[name]) for result in results))
        position = {label: i for i, label in enumerate(labels)}
        xs = [position[_sweep_value(result.params[name])] for result in succeeded]
        ys = [result.validation_accuracy for result in succeeded]
        axes.scatter(xs, ys, alpha=0.6, label="points")
        best_per_value = {}
        for x, accuracy in zip(xs, ys, strict=True):
            best_per_value[x] = max(accuracy, best_per_value.get(x, accuracy))
        if best_per_value:
            axes.plot(*zip(*sorted(best_per_value.items()), strict=True), color="tab:green",
                      label="best at this value")
        axes.set_xticks(range(len(labels)), labels)
        axes.set(xlabel=name, ylabel="validation accuracy", title=f"{dataset}: {name}")
        axes.grid(alpha=0.3)
    panels[0].legend(loc="lower right")
    fmt = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    with atomic_write(path) as file:
        figure.savefig(file, format=fmt)


COMMANDS = {"train": _train, "evaluate": _evaluate, "download": _download, "sweep": _sweep}


if __name__ == "__main__":
    sys.exit(main())
