"""Time one system on one configuration, in the process this script runs in.

    python benchmarks/worker.py '{"task": "epoch", "system": "fastmlp", ...}'

The benchmark suites start one fresh process per system, configuration and
round, so no system shares a process, a thread pool or a warm cache with
another. Everything that is not training comes first and is not timed:
imports, loading MNIST (``load_mnist()``; the suites point ``FASTMLP_DATA_DIR``
at a verified cache), preparing the input in the requested type, and a warm-up
fit on a small slice that compiles (or loads) fastmlp's Numba kernels and
PyTorch's and NumPy's code paths. The last line of stdout is the JSON result.

Tasks:

- ``epoch``: ``epochs`` timed one-epoch fits on the first ``n_samples``
  training images; the result holds each fit's seconds (the suites keep the
  fastest: samples/s of a round = n_samples / min).
- ``predict``: ``predict_proba`` on the test images, all at once and one row at a
  time (``predict_worker.py``).
- ``text``: one-epoch fits on the generated text corpus, CSR input
  (``text_worker.py``, ``textcorpus.py``).
- ``time_to_accuracy``: train up to ``max_epochs`` epochs with one seed and
  score the test set after each; the result holds the seconds of training
  (scoring excluded) until test accuracy >= ``target``. The same warm-up
  comes first, twice: ``startup_seconds``, the first warm-up fit minus the
  second, is the one-off cost of a first fit in a fresh process (fastmlp:
  loading its compiled kernels from Numba's cache), reported apart from the
  training time.

Systems train the same network on the same data in the same input type:

- ``fastmlp``: ``MLPClassifier(..., max_iter=1).fit`` through the public API,
  a fresh estimator per epoch (validation, initialization and workspace
  included: what a user runs).
- ``PyTorch``: eager, ``torch.set_num_threads(TORCH_THREADS)``, a plain loop
  over a fresh permutation each epoch; uint8 input is gathered and scaled per
  batch, as fastmlp does.
- ``scikit-learn``: its ``MLPClassifier``; it has no squared-error classifier
  (softmax + log loss instead, the same products) and no uint8 path.
- ``naive``: ``fastmlp.baseline.train``, the notebook's loop (float64, batch
  1, file order), with ``blas_threads`` 1 or the default.
- ``JAX`` and ``torch.compile``: the compiled peers, in ``peers.py``.
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings

import numpy as np
import peers

TORCH_THREADS = 2
WARM_UP_SAMPLES = 1024
N_CLASSES = 10

# The two recipes. "notebook": the teaching notebook's (logistic hidden and output,
# squared error, plain SGD 0.01). "adam": 784-128-10-style ReLU, softmax + log loss,
# Adam 1e-3, no L2: the default model's recipe, the same for every system.
# "regression": the adam recipe with one identity output trained on half the squared
# error (MLPRegressor) towards the digit / 9, epochs only.
RECIPES = ("notebook", "adam", "regression")


def regression_targets(y: np.ndarray, dtype: str) -> np.ndarray:
    """The regression recipe's target: each image's digit / 9, in [0, 1]."""
    return (y / 9).astype(dtype)


# The data sets of the rows: "mnist-standardized" is MNIST through a StandardScaler fit on
# the 60,000 training images, dense input (only never-lit pixels stay 0).
DATA = {"mnist": "mnist", "fashion-mnist": "fashion-mnist", "mnist-standardized": "mnist"}


def load_inputs(input_type: str, n_train: int | None = None, data: str = "mnist"):
    """``data`` as ``(x_train, y_train, x_test, y_test)``, flattened, in ``input_type``.

    ``"uint8"`` keeps the raw pixels; ``"float32"`` scales them by 1/255 once, here
    (``"mnist-standardized"``: standardizes them instead; float32 only).
    """
    from fastmlp import load_dataset

    if data not in DATA:
        raise ValueError(f"data must be one of {sorted(DATA)}, not {data!r}")
    (x_train, y_train), (x_test, y_test) = load_dataset(DATA[data])
    if data == "mnist-standardized":
        if input_type != "float32":
            raise ValueError(f"standardized MNIST is float32 input, not {input_type!r}")
        x_train, x_test = standardized(x_train, x_test)
        return (np.ascontiguousarray(x_train[:n_train]), y_train[:n_train].astype(np.int64),
                x_test, y_test.astype(np.int64))
    x_train = x_train.reshape(len(x_train), -1)[:n_train]
    y_train = y_train[:n_train].astype(np.int64)
    x_test = x_test.reshape(len(x_test), -1)
    if input_type == "float32":
        x_train = x_train.astype(np.float32) / np.float32(255)
        x_test = x_test.astype(np.float32) / np.float32(255)
    elif input_type != "uint8":
        raise ValueError(f"input must be 'uint8' or 'float32', not {input_type!r}")
    return np.ascontiguousarray(x_train), y_train, x_test, y_test.astype(np.int64)


def standardized(x_train: np.ndarray, x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flattened float32 images, standardized with a ``StandardScaler`` fit on ``x_train``."""
    from sklearn.preprocessing import StandardScaler

    x_train = x_train.reshape(len(x_train), -1).astype(np.float32)
    x_test = x_test.reshape(len(x_test), -1).astype(np.float32)
    scaler = StandardScaler().fit(x_train)
    return scaler.transform(x_train), scaler.transform(x_test)


# -- fastmlp -------------------------------------------------------------------------------


def fastmlp_params(spec: dict) -> dict:
    """MLPClassifier keyword arguments of the spec's recipe, network, batch and dtype."""
    from fastmlp.presets import PRESETS

    if spec.get("preset"):
        params = dict(PRESETS[spec["preset"]])
    elif spec["recipe"] == "notebook":
        params = dict(PRESETS["notebook"], shuffle=True)
    elif spec["recipe"] == "regression":
        params = dict(activation="relu", solver="adam", learning_rate_init=1e-3, alpha=0.0)
    else:
        params = dict(activation="relu", output_activation="softmax", loss="log_loss",
                      solver="adam", learning_rate_init=1e-3, alpha=0.0)
    if not spec.get("preset"):
        params.update(hidden_layer_sizes=tuple(spec["hidden"]), batch_size=spec["batch"],
                      dtype=spec["dtype"])
    return params


def force_first_layer(spec: dict) -> None:
    """Send every fit's first layer down the spec's ``first_layer`` path: "blocks",
    "rows" (listed by rows) or "blas"; without it the choice stays with
    ``fastmlp.engine.first_layer`` (``benchmarks/first_layer_fits.py`` compares them)."""
    path = spec.get("first_layer")
    if path is None:
        return
    from fastmlp.engine import first_layer, narrow_first_layer

    width, dtype = spec["hidden"][0], spec["dtype"]
    if path not in ("blocks", "rows", "blas"):
        raise ValueError(f"first_layer must be 'blocks', 'rows' or 'blas', not {path!r}")
    if path == "blocks" and not narrow_first_layer.fits(width, np.dtype(dtype).itemsize):
        raise ValueError(f"a first layer of {width} {dtype} units cannot run by blocks")
    first_layer.lists_by_blocks = lambda network, X: path == "blocks"
    first_layer.lists_nonzeros = lambda network, X: path == "rows"


def fastmlp_epochs(spec: dict, x, y) -> list[float]:
    from fastmlp import MLPClassifier, MLPRegressor

    force_first_layer(spec)
    params = dict(fastmlp_params(spec), max_iter=1)
    estimator = MLPRegressor if spec["recipe"] == "regression" else MLPClassifier

    def fit(rows: slice, seed: int) -> None:
        estimator(**params, random_state=seed).fit(x[rows], y[rows])

    return timed_epochs(fit, spec)


def fastmlp_time_to_accuracy(spec: dict, x, y, x_test, y_test) -> dict:
    from fastmlp import MLPClassifier

    run = Progress(spec)

    def score(model, info) -> None:
        started = time.perf_counter()
        accuracy = float(model.score(x_test, y_test))
        run.scored(accuracy, time.perf_counter() - started)
        if run.done:
            raise _Stop

    params = fastmlp_params(spec)
    warm = slice(0, WARM_UP_SAMPLES)
    startup = startup_seconds(lambda: MLPClassifier(
        **dict(params, max_iter=1), random_state=spec["seed"]).fit(x[warm], y[warm]))
    # a preset keeps its own epochs: they are its cosine schedule's horizon
    max_iter = min(params["max_iter"], spec["max_epochs"]) if spec.get("preset") else (
        spec["max_epochs"])
    params.update(max_iter=max_iter, n_iter_no_change=max_iter + 1)
    model = MLPClassifier(**params, random_state=spec["seed"], callbacks=[score])
    started = time.perf_counter()
    try:
        model.fit(x, y)
    except _Stop:
        pass
    return {**run.result(time.perf_counter() - started), "startup_seconds": startup}


# -- PyTorch -------------------------------------------------------------------------------


def torch_setup(spec: dict, x, y):
    """(model, optimizer, loss function, per-batch input function, targets) for PyTorch."""
    import torch

    torch.set_num_threads(TORCH_THREADS)
    torch.manual_seed(spec.get("seed", 0))
    dtype = getattr(torch, spec["dtype"])
    regression = spec["recipe"] == "regression"
    sizes = (x.shape[1], *spec["hidden"], 1 if regression else N_CLASSES)
    hidden_act = torch.nn.Sigmoid if spec["recipe"] == "notebook" else torch.nn.ReLU
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [torch.nn.Linear(fan_in, fan_out), hidden_act()]
    if spec["recipe"] == "notebook":
        model = torch.nn.Sequential(*layers).to(dtype)  # sigmoid output too
        targets = torch.nn.functional.one_hot(torch.from_numpy(y), N_CLASSES).to(dtype)

        def loss_fn(out, target):
            return ((out - target) ** 2).sum(dim=1).mean()

        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.0)
    elif regression:  # identity output, half the squared error, as MLPRegressor
        model = torch.nn.Sequential(*layers[:-1]).to(dtype)
        targets = torch.from_numpy(y).to(dtype).reshape(-1, 1)

        def loss_fn(out, target):
            return 0.5 * torch.nn.functional.mse_loss(out, target)

        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    else:
        model = torch.nn.Sequential(*layers[:-1]).to(dtype)  # logits; softmax in the loss
        targets = torch.from_numpy(y)
        loss_fn = torch.nn.CrossEntropyLoss()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    batch_input = torch_batch_input(x, dtype)
    return model, optimizer, loss_fn, batch_input, targets


def torch_batch_input(x: np.ndarray, dtype):
    """rows -> the model's input: gathered, converted to ``dtype`` (uint8 also scaled)."""
    import torch

    data = torch.from_numpy(x)
    if x.dtype == np.uint8:
        def batch_input(rows):
            return data[rows].to(dtype).mul_(1 / 255)
    elif data.dtype == dtype:
        def batch_input(rows):
            return data[rows]
    else:
        def batch_input(rows):
            return data[rows].to(dtype)
    return batch_input


def torch_train_epoch(setup, n: int, batch: int) -> float:
    """One epoch over a fresh permutation of the n samples: the mean batch loss."""
    import torch

    model, optimizer, loss_fn, batch_input, targets = setup
    order = torch.randperm(n)
    total = 0.0
    for start in range(0, n, batch):
        rows = order[start:start + batch]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(batch_input(rows)), targets[rows])
        loss.backward()
        optimizer.step()
        total += float(loss.detach())
    return total / -(-n // batch)


def torch_epochs(spec: dict, x, y) -> list[float]:
    def fit(rows: slice, seed: int) -> None:
        spec_seed = dict(spec, seed=seed)
        setup = torch_setup(spec_seed, x[rows], y[rows])
        torch_train_epoch(setup, len(y[rows]), spec["batch"])

    return timed_epochs(fit, spec)


def torch_time_to_accuracy(spec: dict, x, y, x_test, y_test) -> dict:
    import torch

    warm = slice(0, WARM_UP_SAMPLES)
    startup = startup_seconds(lambda: torch_train_epoch(
        torch_setup(spec, x[warm], y[warm]), len(y[warm]), spec["batch"]))
    setup = torch_setup(spec, x, y)  # seeds torch again: the warm-up changes nothing
    model = setup[0]
    test_input = torch_batch_input(x_test, getattr(torch, spec["dtype"]))(
        torch.arange(len(y_test))
    )
    labels = torch.from_numpy(y_test)
    run = Progress(spec)
    while not run.done:
        started = time.perf_counter()
        torch_train_epoch(setup, len(y), spec["batch"])
        run.trained(time.perf_counter() - started)
        started = time.perf_counter()
        with torch.no_grad():
            accuracy = float((model(test_input).argmax(1) == labels).double().mean())
        run.scored(accuracy, time.perf_counter() - started)
    return {**run.result(), "startup_seconds": startup}


# -- scikit-learn --------------------------------------------------------------------------


def sklearn_model(spec: dict, seed: int, max_iter: int):
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    if spec.get("recipe") == "regression":
        return MLPRegressor(hidden_layer_sizes=tuple(spec["hidden"]), batch_size=spec["batch"],
                            alpha=0.0, max_iter=max_iter, shuffle=True, random_state=seed,
                            activation="relu", solver="adam", learning_rate_init=1e-3)
    if spec["recipe"] == "notebook":
        recipe = dict(activation="logistic", solver="sgd", learning_rate_init=0.01,
                      momentum=0.0)
    else:
        recipe = dict(activation="relu", solver="adam", learning_rate_init=1e-3)
    return MLPClassifier(hidden_layer_sizes=tuple(spec["hidden"]), batch_size=spec["batch"],
                         alpha=0.0, max_iter=max_iter, shuffle=True, random_state=seed,
                         **recipe)


def sklearn_epochs(spec: dict, x, y) -> list[float]:
    # scikit-learn computes in its input's float type: float64 maths from float32
    # input means converting, which the timing includes (a user would do it too)
    as_dtype = np.dtype(spec["dtype"])

    def fit(rows: slice, seed: int) -> None:
        sklearn_model(spec, seed, max_iter=1).fit(x[rows].astype(as_dtype, copy=False), y[rows])

    return timed_epochs(fit, spec)


def sklearn_time_to_accuracy(spec: dict, x, y, x_test, y_test) -> dict:
    # partial_fit = one shuffled epoch keeping the optimizer's state (fit with
    # warm_start would restart Adam every epoch); each call validates X again
    classes = np.arange(N_CLASSES)
    warm = slice(0, WARM_UP_SAMPLES)
    startup = startup_seconds(lambda: sklearn_model(spec, spec["seed"], max_iter=1).partial_fit(
        x[warm], y[warm], classes=classes))
    model = sklearn_model(spec, spec["seed"], max_iter=1)
    run = Progress(spec)
    while not run.done:
        started = time.perf_counter()
        model.partial_fit(x, y, classes=classes)
        run.trained(time.perf_counter() - started)
        started = time.perf_counter()
        accuracy = float(model.score(x_test, y_test))
        run.scored(accuracy, time.perf_counter() - started)
    return {**run.result(), "startup_seconds": startup}


# -- the naive notebook loop ---------------------------------------------------------------


def naive_epochs(spec: dict, x, y) -> list[float]:
    from fastmlp import baseline

    def fit(rows: slice, seed: int) -> None:
        baseline.train(x[rows], y[rows], epochs=1, seed=seed)

    if spec.get("blas_threads") is None:
        return timed_epochs(fit, spec)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(spec["blas_threads"], user_api="blas"):
        return timed_epochs(fit, spec)


# -- shared ---------------------------------------------------------------------------------


class _Stop(Exception):
    """Raised from a fastmlp callback once the target accuracy is reached."""


class Progress:
    """Epochs, training seconds and accuracy of a time-to-accuracy run."""

    def __init__(self, spec: dict) -> None:
        self.target, self.max_epochs = spec["target"], spec["max_epochs"]
        self.train_seconds = self.score_seconds = 0.0
        self.epochs, self.accuracy, self.reached = 0, 0.0, False

    @property
    def done(self) -> bool:
        return self.reached or self.epochs >= self.max_epochs

    def trained(self, seconds: float) -> None:
        self.train_seconds += seconds

    def scored(self, accuracy: float, seconds: float) -> None:
        self.epochs += 1
        self.accuracy, self.reached = accuracy, accuracy >= self.target
        self.score_seconds += seconds

    def result(self, wall_seconds: float | None = None) -> dict:
        """``wall_seconds``: the whole fit, scoring included (fastmlp's callbacks)."""
        train = self.train_seconds if wall_seconds is None else wall_seconds - self.score_seconds
        return {"train_seconds": train, "epochs": self.epochs, "accuracy": self.accuracy,
                "reached": self.reached, "score_seconds": self.score_seconds}


def startup_seconds(fit_small) -> float:
    """Run ``fit_small`` twice; the first run's extra seconds over the second: what a
    process pays once, on its first fit (compiled code loaded, first BLAS calls)."""
    seconds = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one epoch on a slice: convergence warnings
        for _ in range(2):
            started = time.perf_counter()
            fit_small()
            seconds.append(time.perf_counter() - started)
    return max(0.0, seconds[0] - seconds[1])


def timed_epochs(fit, spec: dict) -> list[float]:
    """Warm up on a small slice, untimed, then time ``spec["epochs"]`` fits of n samples."""
    n = spec["n_samples"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one epoch: convergence warnings by design
        fit(slice(0, min(n, WARM_UP_SAMPLES)), 0)
        seconds = []
        for epoch in range(spec["epochs"]):
            started = time.perf_counter()
            fit(slice(0, n), epoch)
            seconds.append(time.perf_counter() - started)
    return seconds


EPOCHS = {"fastmlp": fastmlp_epochs, "PyTorch": torch_epochs,
          "scikit-learn": sklearn_epochs, "naive": naive_epochs,
          "JAX": peers.jax_epochs, "torch.compile": peers.compiled_torch_epochs}
TIME_TO_ACCURACY = {"fastmlp": fastmlp_time_to_accuracy, "PyTorch": torch_time_to_accuracy,
                    "scikit-learn": sklearn_time_to_accuracy,
                    "JAX": peers.jax_time_to_accuracy,
                    "torch.compile": peers.compiled_torch_time_to_accuracy}
# Systems whose epoch leaves out the last, partial batch (peers.py): their samples/s
# counts the samples they trained.
FULL_BATCHES_ONLY = ("JAX",)


def thread_counts(system: str) -> dict:
    """The thread pools this process ran with (threadpoolctl; PyTorch's own count)."""
    info: dict = {}
    try:
        from threadpoolctl import threadpool_info
        info["blas_threads"] = max((p["num_threads"] for p in threadpool_info()
                                    if p["user_api"] == "blas"), default=None)
    except ImportError:
        pass
    if system == "fastmlp":
        import numba
        info["numba_threads"] = numba.get_num_threads()
    if system == "JAX":
        info.update(peers.jax_thread_info())
    if system in ("PyTorch", "torch.compile"):
        import torch
        info["torch_threads"] = torch.get_num_threads()
        info["version"] = torch.__version__
    if system == "scikit-learn":
        import sklearn
        info["version"] = sklearn.__version__
    if system == "onnxruntime":
        import onnxruntime
        info["version"] = onnxruntime.__version__
    return info


def run(spec: dict) -> dict:
    """Run one spec in this process and return its result (see the module docstring)."""
    system, task = spec["system"], spec["task"]
    if task == "text":  # the generated text corpus, not MNIST (text_worker.py)
        import text_worker

        return {**thread_counts(system), **text_worker.run(spec)}
    x, y, x_test, y_test = load_inputs(spec["input"], spec.get("n_samples"),
                                       spec.get("data", "mnist"))
    if spec.get("recipe") == "regression":
        if task != "epoch":
            raise ValueError("the regression recipe times epochs only")
        y = regression_targets(y, spec["dtype"])
    if task == "epoch":
        n = peers.full_batches(len(y), spec["batch"]) if system in FULL_BATCHES_ONLY else len(y)
        result = {"epoch_seconds": EPOCHS[system](spec, x, y), "n_samples": n,
                  "input_nonzero": float(np.count_nonzero(x) / x.size)}
    elif task == "time_to_accuracy":
        result = TIME_TO_ACCURACY[system](spec, x, y, x_test, y_test)
    elif task == "predict":
        import predict_worker

        result = predict_worker.run(spec, x, y, x_test)
    else:
        raise ValueError(
            f"task must be 'epoch', 'time_to_accuracy', 'predict' or 'text', not {task!r}")
    if spec.get("blas_threads") is not None:
        # threadpoolctl's limit is lifted on leaving the block: report what was timed
        result["blas_threads"] = spec["blas_threads"]
    return {**thread_counts(system), **result}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        sys.exit("usage: python benchmarks/worker.py '<json spec>'")
    result = run(json.loads(argv[0]))
    sys.stdout.flush()
    print(json.dumps({**result, "pid": os.getpid()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
