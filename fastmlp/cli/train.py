"""``fastmlp train``: fit a preset, with the flags' overrides, on a built-in data set or
an ``.npz`` file, and report the test score, the training time and the throughput.

A classifier is trained on class labels; a regressor
([MLPRegressor][fastmlp.regressor.MLPRegressor]) when the file's ``y_train`` is
float, or with ``--task regression``; it reports R² and the RMSE instead of
the accuracy.
"""

import argparse
import json
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import fastmlp
from fastmlp import options
from fastmlp.cli import common, plots
from fastmlp.exceptions import CommandError
from fastmlp.presets import PRESETS

BASELINE_SLICE = 5000
"""Samples of the naive baseline timed by ``--preset notebook`` for the speed-up."""

TASKS = ("auto", "classification", "regression")
"""``--task``: ``auto`` trains a regressor when ``y_train`` is float, a classifier otherwise."""

EXAMPLES = """\
examples:
  fastmlp train                                  the default preset on MNIST
  fastmlp train --preset notebook                the teaching notebook's model, and its speed-up
  fastmlp train --dataset fashion-mnist --hidden 256 128 --epochs 20
  fastmlp train --data mydata.npz --save model.npz
                                                 your own x_train, y_train, x_test, y_test
                                                 (float y_train: a regressor, R² and RMSE)
  fastmlp train --epochs 2 --json                one JSON line for scripts

A flag left out takes its value from the preset ("default from the preset"
above); the presets are listed in fastmlp.presets.PRESETS.
"""

DATA_KEYS = ("x_train", "y_train", "x_test", "y_test")


@dataclass
class TrainingData:
    """The arrays of one ``train`` run, where they came from and the task they set."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    task: str


@dataclass
class Fitted:
    """A fitted model with the times of its fit and its per-epoch test scores."""

    model: object
    seconds: float
    kernel_seconds: float
    epoch_seconds: list = field(default_factory=list)
    test_curve: list = field(default_factory=list)


def add_parser(commands) -> None:
    """The ``train`` subcommand's options."""
    train = commands.add_parser(
        "train", help="train on a data set and report test accuracy (or R² for regression)",
        description="Train an MLPClassifier on a built-in data set or your own .npz file,\n"
        "then report its test accuracy, training time and throughput; an MLPRegressor\n"
        "(R² and RMSE) when the file's y_train is float. A preset gives every setting;\n"
        "the flags override single ones.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("--preset", choices=sorted(PRESETS), default="default",
                       help="starting configuration; the flags below override it "
                       "(default: default)")
    source = train.add_mutually_exclusive_group()
    source.add_argument("--dataset", default="mnist", choices=common.dataset_names(),
                        help="built-in data set to train and test on (default: mnist)")
    source.add_argument("--data", metavar="FILE",
                        help="your own data: an .npz file with arrays x_train, y_train, "
                        "x_test, y_test (np.savez)")
    train.add_argument("--task", choices=TASKS, default="auto",
                       help="classification or regression (default: auto, regression when "
                       "y_train is float)")
    _add_model_options(train)
    train.add_argument("--seed", type=common.seed, default=0, metavar="N",
                       help="seed of the initial weights and the shuffling (default: 0)")
    train.add_argument("--save", metavar="FILE", help="save the trained model to FILE (.npz)")
    common.add_plot_option(train, "loss and test score per epoch")
    common.add_report_and_data_options(train)


# The flags whose default is the preset's value: their argparse settings, what they set.
_PRESET_FLAGS = {
    "hidden_layer_sizes": (dict(type=int, nargs="+", metavar="N"),
                           "hidden layer sizes, e.g. --hidden 128 64"),
    "activation": (dict(choices=options.ACTIVATIONS), "activation of the hidden units"),
    "solver": (dict(choices=options.SOLVERS), "optimizer"),
    "max_iter": (dict(type=int, metavar="N"), "passes over the training data"),
    "batch_size": (dict(type=int, metavar="N"), "samples per step"),
    "learning_rate_init": (dict(type=float, metavar="RATE"), "initial learning rate"),
    "dtype": (dict(choices=options.DTYPES), "float type of the weights and arithmetic"),
    "alpha": (dict(type=float, metavar="L2"), "strength of the L2 penalty"),
}


def _add_model_options(train: argparse.ArgumentParser) -> None:
    for parameter, (settings, what) in _PRESET_FLAGS.items():
        train.add_argument(common.FLAGS[parameter], **settings,
                           help=f"{what} ({common.preset_default(parameter)})")
    train.add_argument("--momentum", type=float, metavar="M",
                       help="momentum of the sgd solver, in [0, 1] (default: 0.9, the notebook "
                       "preset 0.0)")
    train.add_argument("--early-stopping", action=argparse.BooleanOptionalAction,
                       help="hold out a tenth of the training data and stop when its score "
                       "stops improving (default: off)")


def run(args: argparse.Namespace) -> int:
    """Check every flag, load the data, fit, save and plot as asked, and report."""
    params = checked_params(args)
    data = training_data(args, params)
    params = task_params(params, data.task)
    fitted = fit(args, params, data)
    scores = test_scores(fitted.model, data)
    write_outputs(args, params, data, fitted, scores)
    baseline_rate = None
    if args.preset == "notebook" and data.task == "classification":
        baseline_rate = baseline_samples_per_s(data.x_train, data.y_train)
    report(args, params, data, fitted, scores, baseline_rate)
    return 0


# -- checks: everything the user typed, before any download or training --------------------


def checked_params(args: argparse.Namespace) -> dict:
    """The estimator's parameters from the preset and flags, and the output paths, checked."""
    params = train_params(args)
    check_params(params)
    if args.plot:
        common.check_plot_path(args.plot)
    if args.save:
        common.check_output_path("--save", args.save)
    return params


def train_params(args: argparse.Namespace) -> dict:
    """The preset's parameters with the flags' overrides."""
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


def check_params(params: dict) -> None:
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
        raise CommandError(common.flag_message(message)) from None


def task_of(args: argparse.Namespace, y_train: np.ndarray) -> str:
    """``--task``, or for ``auto`` regression on float targets and classification otherwise."""
    if args.task != "auto":
        return args.task
    return "regression" if np.asarray(y_train).dtype.kind == "f" else "classification"


def training_data(args: argparse.Namespace, params: dict) -> TrainingData:
    """The four arrays, after the batch size and the memory were checked against their
    shapes (for a built-in data set, before it is downloaded)."""
    if args.data:
        targets = {"auto": "auto", "classification": "labels", "regression": "values"}
        arrays = common.read_data_file(args.data, DATA_KEYS, targets[args.task])
        task = task_of(args, arrays["y_train"])
        data = TrainingData(**arrays, source=Path(args.data).name, task=task)
        n_samples, n_features = len(data.x_train), int(np.prod(data.x_train.shape[1:]))
        y = np.asarray(data.y_train)
        n_outputs = (len(np.unique(y)) if task == "classification"
                     else 1 if y.ndim == 1 else y.shape[1])
        source = data.source
    else:
        if args.task == "regression":
            raise CommandError(
                "--task regression needs --data FILE, an .npz with float targets y_train and "
                "y_test; the built-in data sets are labelled images."
            )
        data, source, n_samples = None, args.dataset, common.DATASET_SAMPLES
        n_features, n_outputs = common.DATASET_FEATURES, common.DATASET_CLASSES
    check_batch_size(params["batch_size"], n_samples, source)
    check_memory(args, params, n_features, n_outputs)
    if data is None:
        from fastmlp.datasets import load_dataset

        (x_train, y_train), (x_test, y_test) = load_dataset(
            args.dataset, data_home=args.data_home, mirror=args.mirror
        )
        data = TrainingData(x_train, y_train, x_test, y_test, args.dataset, "classification")
    return data


def check_batch_size(batch_size: int | str, n_samples: int, source: str) -> None:
    """A batch larger than the training set is a typo on the command line, not a request."""
    if batch_size != "auto" and batch_size > n_samples:
        raise CommandError(
            f"--batch-size {batch_size} is larger than the {n_samples:,} training samples of "
            f"{source}; use at most {n_samples}."
        )


def check_memory(args, params: dict, n_features: int, n_outputs: int) -> None:
    """Refuse, before any download, a network whose training cannot fit in memory."""
    from fastmlp.parameters import check_memory as check
    from fastmlp.parameters import hidden_sizes

    hidden = hidden_sizes(params["hidden_layer_sizes"])
    try:
        check(hidden, (n_features, *hidden, n_outputs), params["dtype"], params["solver"])
    except ValueError as error:
        # the estimator's message shows Python tuples; say it as typed
        message = str(error).replace(f"hidden_layer_sizes={hidden!r}",
                                     common.flags_typed(args, "--hidden"))
        raise CommandError(common.flag_message(message)) from None


def task_params(params: dict, task: str) -> dict:
    """The parameters of the task's estimator: a regressor takes no output activation or
    classification loss (it has identity output and half the squared error)."""
    if task == "classification":
        return params
    from fastmlp.regressor import MLPRegressor

    names = set(MLPRegressor._get_param_names()) - {"loss"}
    return {name: value for name, value in params.items() if name in names}


# -- the fit ------------------------------------------------------------------------------


def fit(args: argparse.Namespace, params: dict, data: TrainingData) -> Fitted:
    """Compile the kernels untimed, then fit with a progress bar; errors name the flags."""
    from tqdm.auto import tqdm

    from fastmlp import warmup
    from fastmlp.base import ConvergenceWarning

    estimator = fastmlp.MLPRegressor if data.task == "regression" else fastmlp.MLPClassifier
    # An untimed fit on a slice compiles the kernels (or loads them from the cache) first:
    # a cold cache would otherwise put seconds of compilation in the first timed epoch.
    kernel_seconds = warmup.warm_up(params, data.x_train, data.y_train,
                                    notice=None if args.json else sys.stderr,
                                    estimator=estimator)
    fitted = Fitted(None, 0.0, kernel_seconds)
    progress = tqdm(total=params["max_iter"], unit="epoch", desc=f"training on {data.source}",
                    disable=None, leave=False)
    model = estimator(callbacks=_callbacks(args, data, fitted, progress), **params)
    started = time.perf_counter()
    try:
        with warnings.catch_warnings():
            # a fixed epoch budget is the point of a preset; not converging is expected
            warnings.simplefilter("ignore", category=ConvergenceWarning)
            model.fit(data.x_train, data.y_train)
    except MemoryError:
        raise CommandError(
            "out of memory while training "
            f"{common.flags_typed(args, '--hidden', '--batch-size')}; "
            "use fewer or smaller hidden layers or a smaller batch size."
        ) from None
    except fastmlp.DivergenceError as error:  # its advice names learning_rate_init: --lr here
        raise CommandError(common.flag_message(str(error))) from None
    finally:
        progress.close()
    fitted.model, fitted.seconds = model, time.perf_counter() - started
    return fitted


def _callbacks(args, data: TrainingData, fitted: Fitted, progress) -> list:
    def show_progress(model, info: dict) -> None:
        fitted.epoch_seconds.append(info["seconds"])
        progress.set_postfix(loss=f"{info['loss']:.4f}",
                             samples_per_s=f"{info['n_samples'] / info['seconds']:,.0f}")
        progress.update()

    callbacks = [show_progress]
    if args.plot:
        # scoring the test set every epoch costs time, so only when it is plotted;
        # it runs after the epoch's timing was taken and after show_progress
        callbacks.append(lambda model, info: fitted.test_curve.append(
            model.score(data.x_test, data.y_test)))
    return callbacks


def test_scores(model, data: TrainingData) -> dict:
    """Accuracy (and label warnings) for a classifier; R² and RMSE for a regressor."""
    if data.task == "regression":
        return {**common.regression_scores(model, data.x_test, data.y_test), "warnings": []}
    return {"accuracy": model.score(data.x_test, data.y_test),
            "warnings": common.label_warnings(model, data.y_test,
                                              f"the test labels of {data.source}")}


def layer_sizes(model) -> tuple[int, ...]:
    return (model.n_features_in_, *(c.shape[1] for c in model.coefs_))


def write_outputs(args, params: dict, data: TrainingData, fitted: Fitted, scores: dict) -> None:
    """The model file (``--save``) and the curves (``--plot``)."""
    if args.save:
        metadata = ({"test_accuracy": scores["accuracy"]} if data.task == "classification"
                    else {"test_r2": scores["r2"], "test_rmse": scores["rmse"]})
        metadata.update({"data": args.data} if args.data else {"dataset": args.dataset})
        common.save(fitted.model, args.save, metadata)
    if args.plot:
        layers = "-".join(str(n) for n in layer_sizes(fitted.model))
        title = (f"{layers} {params['activation']}, {params['solver']}, "
                 f"batch {params['batch_size']}, {params['dtype']} on {data.source}")
        plots.plot_curves(args.plot, fitted.model.loss_curve_, fitted.test_curve, title,
                          params.get("loss", "squared_error"), data.task)


def baseline_samples_per_s(x_train, y_train) -> float:
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


# -- the report ---------------------------------------------------------------------------


def report(args, params: dict, data: TrainingData, fitted: Fitted, scores: dict,
           baseline_rate: float | None) -> None:
    """One JSON line (``--json``) or the aligned text report on stdout."""
    model = fitted.model
    samples_per_s = model.t_ / sum(fitted.epoch_seconds)
    if args.json:
        result = {
            "command": "train", "task": data.task,
            "dataset": None if args.data else args.dataset,
            "data": args.data, "preset": args.preset,
            "layer_sizes": list(layer_sizes(model)), "activation": params["activation"],
            "solver": params["solver"], "batch_size": params["batch_size"],
            "dtype": params["dtype"], "epochs": model.n_iter_,
            **{key: value for key, value in scores.items() if key != "warnings"},
            "n_test": len(data.y_test), "kernel_seconds": fitted.kernel_seconds,
            "train_seconds": fitted.seconds, "epoch_seconds": sum(fitted.epoch_seconds),
            "samples_per_s": samples_per_s, "loss_curve": model.loss_curve_,
            f"test_{'accuracy' if data.task == 'classification' else 'r2'}_curve":
                fitted.test_curve or None,
            "saved": args.save, "plot": args.plot, "warnings": scores["warnings"],
        }
        if baseline_rate is not None:
            result["baseline_samples_per_s"] = baseline_rate
            result["speedup"] = samples_per_s / baseline_rate
        print(json.dumps(result))
        return
    _print_report(args, params, data, fitted, scores, baseline_rate)


def _print_report(args, params, data, fitted, scores, baseline_rate) -> None:
    model = fitted.model
    samples_per_s = model.t_ / sum(fitted.epoch_seconds)
    layers = "-".join(str(n) for n in layer_sizes(model))
    print(f"model        {layers} {params['activation']}, {params['solver']} "
          f"{model.learning_rate_init:g} ({model.learning_rate}), "
          f"batch {params['batch_size']}, {params['dtype']}")
    print(f"epochs       {model.n_iter_}")
    what = "images" if not args.data else "samples of " + data.source
    if data.task == "classification":
        print(f"accuracy     {scores['accuracy']:.4f} on the {len(data.y_test)} test {what}")
    else:
        print(f"R²           {scores['r2']:.4f} on the {len(data.y_test)} test {what}")
        print(f"RMSE         {scores['rmse']:.4g}")
    print(f"kernels      {fitted.kernel_seconds:.2f} s to compile them (first run only) or "
          "load them from the cache, before training")
    print(f"train time   {fitted.seconds:.2f} s ({sum(fitted.epoch_seconds):.2f} s in epochs, "
          "the rest setup)")
    # Throughput counts the epochs only: the fit's wall time also holds its setup
    # (checking and converting the input); the kernels were compiled before it.
    print(f"throughput   {samples_per_s:,.0f} samples/s (epochs only)")
    if baseline_rate is not None:
        print(f"naive loop   {baseline_rate:,.0f} samples/s (the notebook's loop on "
              f"{BASELINE_SLICE} samples, at its faster BLAS thread count)")
        print(f"speed-up     {samples_per_s / baseline_rate:.1f}x over the naive loop")
    if args.save:
        print(f"saved        {args.save}")
    if args.plot:
        print(f"plot         {args.plot}")
