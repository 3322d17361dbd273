"""``fastmlp evaluate``: a saved model's score on a test set: a classifier's accuracy and
confusion matrix, or a regressor's R² and RMSE."""

import argparse
import json
from pathlib import Path

import numpy as np

from fastmlp.cli import common
from fastmlp.exceptions import CommandError
from fastmlp.metrics import confusion_matrix, format_confusion_matrix


def add_parser(commands) -> None:
    """The ``evaluate`` subcommand's options."""
    evaluate = commands.add_parser(
        "evaluate", help="report a saved model's test accuracy and confusion matrix "
        "(R² and RMSE for a regressor)",
        description="Report a saved model's accuracy on a test set, with the confusion "
        "matrix; for a regressor, its R² and RMSE.",
    )
    evaluate.add_argument("model", metavar="MODEL", help="model file written by train --save")
    source = evaluate.add_mutually_exclusive_group()
    source.add_argument("--dataset", choices=common.dataset_names(),
                        help="built-in test set to use (default: the one the model was "
                        "trained on)")
    source.add_argument("--data", metavar="FILE",
                        help="your own test set: an .npz file with arrays x_test, y_test")
    common.add_report_and_data_options(evaluate)


def run(args: argparse.Namespace) -> int:
    """Load the model and its test set, then report."""
    model, metadata = common.load_model(args.model)
    x_test, y_test, dataset, what = test_data(args, model, metadata)
    if not hasattr(model, "classes_"):
        report_regression(args, model, x_test, y_test, what)
    else:
        report_classification(args, model, x_test, y_test, dataset, what)
    return 0


def test_data(args: argparse.Namespace, model, metadata: dict) -> tuple:
    """x_test, y_test, the built-in data set's name (None for a file) and how to say them."""
    if args.data:
        targets = "labels" if hasattr(model, "classes_") else "values"
        arrays = common.read_data_file(args.data, ("x_test", "y_test"), targets)
        x_test, y_test = arrays["x_test"], arrays["y_test"]
        n_features = int(np.prod(x_test.shape[1:]))
        if n_features != model.n_features_in_:
            raise CommandError(
                f"--data {args.data}: x_test rows have {n_features} features, but "
                f"{args.model} was trained on {model.n_features_in_} features."
            )
        return x_test, y_test, None, f"test samples of {Path(args.data).name}"
    dataset = _dataset(args, metadata)
    from fastmlp.datasets import load_dataset

    _, (x_test, y_test) = load_dataset(dataset, data_home=args.data_home, mirror=args.mirror)
    n_features = int(np.prod(x_test.shape[1:]))
    if n_features != model.n_features_in_:
        raise CommandError(
            f"{args.model} was trained on {model.n_features_in_} features, but the "
            f"{dataset} test images have {n_features} features (pixels); pass --data "
            f"FILE, an .npz with x_test, y_test of {model.n_features_in_} features."
        )
    return x_test, y_test, dataset, f"{dataset} test images"


def _dataset(args: argparse.Namespace, metadata: dict) -> str:
    """--dataset, else the data set the model was trained on, else mnist."""
    dataset = args.dataset or metadata.get("dataset")
    if dataset is None and metadata.get("data"):
        raise CommandError(
            f"{args.model} was trained on your data file {metadata['data']}; pass "
            "--data FILE (an .npz with x_test, y_test) or --dataset NAME."
        )
    dataset = dataset or "mnist"
    names = common.dataset_names()
    if dataset not in names:
        raise CommandError(
            f"{args.model} was trained on {dataset!r}, which evaluate cannot load; "
            f"pass --dataset, one of {names}, or --data FILE."
        )
    return dataset


def report_classification(args, model, x_test, y_test, dataset, what: str) -> None:
    from fastmlp.datasets import CLASS_NAMES

    predicted = model.predict(x_test)
    accuracy = float(np.mean(predicted == y_test))
    source = dataset or args.data
    notes = common.label_warnings(model, y_test, f"the test labels of {source}")
    labels, matrix = confusion_matrix(y_test, predicted)
    names = CLASS_NAMES.get(dataset)
    if args.json:
        print(json.dumps({
            "command": "evaluate", "task": "classification", "model": str(args.model),
            "dataset": dataset, "data": args.data,
            "accuracy": accuracy, "n_test": len(y_test), "labels": labels.tolist(),
            "confusion_matrix": matrix.tolist(), "warnings": notes,
            "class_names": list(names) if names else None,
        }))
        return
    print(f"model        {args.model}")
    print(f"accuracy     {accuracy:.4f} on the {len(y_test)} {what}")
    print("confusion matrix (rows: true class, columns: predicted class)")
    print(format_confusion_matrix(labels, matrix, names))


def report_regression(args, model, x_test, y_test, what: str) -> None:
    scores = common.regression_scores(model, x_test, y_test)
    if args.json:
        print(json.dumps({
            "command": "evaluate", "task": "regression", "model": str(args.model),
            "dataset": None, "data": args.data, **scores, "n_test": len(y_test),
        }))
        return
    print(f"model        {args.model}")
    print(f"R²           {scores['r2']:.4f} on the {len(y_test)} {what}")
    print(f"RMSE         {scores['rmse']:.4g}")
