"""The ``fastmlp`` command: train on MNIST-style data sets, fetch data sets.

Errors reach the user as one line on stderr and a non-zero exit code; ``--debug``
shows the traceback instead.
"""

import argparse
import sys
import time
import warnings
from collections.abc import Sequence

import fastmlp

# Exit codes: 0 success, 1 a fastmlp error (bad data, divergence, bad input),
# 2 bad command line (argparse's own), 130 interrupted.
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130

PRESETS = {
    # Reaches 97.5-97.7 % MNIST test accuracy in 7-8 epochs.
    "default": dict(
        hidden_layer_sizes=(128,), activation="relu", output_activation="softmax",
        loss="log_loss", solver="adam", learning_rate_init=1e-3, alpha=1e-4,
        batch_size=128, max_iter=8, dtype="float32",
    ),
    # The teaching notebook's model and settings, computed exactly.
    "notebook": dict(
        hidden_layer_sizes=(16,), activation="logistic", output_activation="logistic",
        loss="squared_error", solver="sgd", learning_rate_init=0.01, momentum=0.0,
        alpha=0.0, batch_size=1, max_iter=5, shuffle=False, weight_init="normal",
        init_scale=0.01, dtype="float64",
    ),
}

# Samples of the naive baseline timed by `--preset notebook` for the speed-up.
BASELINE_SLICE = 3000


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fastmlp", description="Train multi-layer perceptrons fast on a CPU."
    )
    parser.add_argument("--version", action="version", version=f"fastmlp {fastmlp.__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser("train", help="train on a data set and report test accuracy")
    train.add_argument("--preset", choices=sorted(PRESETS), default="default",
                       help="starting configuration; flags below override it")
    train.add_argument("--dataset", default="mnist",
                       choices=["mnist", "fashion-mnist", "kmnist"])
    train.add_argument("--hidden", type=int, nargs="+", metavar="N",
                       help="hidden layer sizes, e.g. --hidden 128 64")
    train.add_argument("--activation", choices=["identity", "logistic", "tanh", "relu"])
    train.add_argument("--solver", choices=["sgd", "adam"])
    train.add_argument("--epochs", type=int, help="number of epochs (max_iter)")
    train.add_argument("--batch-size", type=int)
    train.add_argument("--lr", type=float, help="initial learning rate")
    train.add_argument("--dtype", choices=["float32", "float64"])
    train.add_argument("--seed", type=int, default=0, help="random_state (default 0)")
    _add_data_options(train)

    download = commands.add_parser(
        "download", help="fetch a data set into the cache, or import it from a folder"
    )
    download.add_argument("dataset", choices=["mnist", "fashion-mnist", "kmnist"])
    download.add_argument("--from", dest="source", metavar="DIR",
                          help="import the original .gz files from DIR instead of downloading")
    _add_data_options(download)
    return parser


def _add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-home", metavar="DIR", help="cache folder (else FASTMLP_DATA_DIR)")
    parser.add_argument("--mirror", metavar="URL", help="mirror tried first (else FASTMLP_MIRROR)")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fastmlp`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("fastmlp: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (fastmlp.DatasetError, fastmlp.DivergenceError, ValueError, OSError) as error:
        if args.debug:
            raise
        print(f"fastmlp: error: {error}", file=sys.stderr)
        return EXIT_ERROR


def _train(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from fastmlp.base import ConvergenceWarning
    from fastmlp.datasets import load_dataset

    params = dict(PRESETS[args.preset])
    overrides = {
        "hidden_layer_sizes": tuple(args.hidden) if args.hidden else None,
        "activation": args.activation,
        "solver": args.solver,
        "max_iter": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate_init": args.lr,
        "dtype": args.dtype,
    }
    params.update({key: value for key, value in overrides.items() if value is not None})
    params["random_state"] = args.seed

    (x_train, y_train), (x_test, y_test) = load_dataset(
        args.dataset, data_home=args.data_home, mirror=args.mirror
    )
    progress = tqdm(total=params["max_iter"], unit="epoch", desc=f"training on {args.dataset}",
                    disable=None, leave=False)

    def show_progress(model, info: dict) -> None:
        progress.set_postfix(loss=f"{info['loss']:.4f}",
                             samples_per_s=f"{info['n_samples'] / info['seconds']:,.0f}")
        progress.update()

    model = fastmlp.MLPClassifier(callbacks=[show_progress], **params)
    started = time.perf_counter()
    with warnings.catch_warnings():
        # a fixed epoch budget is the point of a preset; not converging is expected
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        model.fit(x_train, y_train)
    seconds = time.perf_counter() - started
    progress.close()
    samples_per_s = model.t_ / seconds
    accuracy = model.score(x_test, y_test)

    layers = "-".join(str(n) for n in (model.n_features_in_, *(c.shape[1] for c in model.coefs_)))
    print(f"model        {layers} {params['activation']}, {params['solver']}, "
          f"batch {params['batch_size']}, {params['dtype']}")
    print(f"epochs       {model.n_iter_}")
    print(f"accuracy     {accuracy:.4f} on the {len(y_test)} test images")
    print(f"train time   {seconds:.2f} s")
    print(f"throughput   {samples_per_s:,.0f} samples/s")
    if args.preset == "notebook":
        baseline_rate = _baseline_samples_per_s(x_train, y_train)
        print(f"naive loop   {baseline_rate:,.0f} samples/s "
              f"(the notebook's loop, timed on {BASELINE_SLICE} samples)")
        print(f"speed-up     {samples_per_s / baseline_rate:.1f}x over the naive loop")
    return 0


def _baseline_samples_per_s(x_train, y_train) -> float:
    from fastmlp import baseline

    n = min(BASELINE_SLICE, len(x_train))
    started = time.perf_counter()
    baseline.train(x_train[:n], y_train[:n], epochs=1, seed=0)
    return n / (time.perf_counter() - started)


def _download(args: argparse.Namespace) -> int:
    from fastmlp.datasets import download

    paths = download(args.dataset, source=args.source, data_home=args.data_home,
                     mirror=args.mirror)
    for path in paths:
        print(path)
    return 0


COMMANDS = {"train": _train, "download": _download}


if __name__ == "__main__":
    sys.exit(main())
