"""Cross-check the report's ratios with plain standalone scripts, one process each.

    python benchmarks/isolated_check.py [--rounds 3] [--report docs/benchmarks/latest.md]

Independent of ``worker.py``: each system is a dozen lines of the plainest
training code (below), run as ``python -c`` in a fresh process, rounds
interleaved, best of 3 epochs per process, median over rounds. It prints
fastmlp/JAX, fastmlp/PyTorch and fastmlp/scikit-learn here next to the same
ratios in the report; the issue's bar is agreement within 20 %. The JAX script
is an epoch in one jitted ``lax.scan`` over full batches (the rest of the
permutation dropped and not counted), XLA on 2 threads, compiled before the
timing. Needs MNIST in the cache ``load_mnist()`` reads (``FASTMLP_DATA_DIR``;
``nox -s bench`` fills ``.benchmarks/data``), and JAX and PyTorch for their rows.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

COMMON = """
import sys, time, warnings
import numpy as np
from fastmlp import load_mnist
warnings.simplefilter("ignore")
hidden, batch, input_type = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
notebook = hidden == 16
(x, y), _ = load_mnist()
x = x.reshape(len(x), -1)
if input_type == "float32":
    x = x.astype(np.float32) / np.float32(255)
y = y.astype(np.int64)
def best_of_3(epoch):
    epoch(x[:1024], y[:1024])
    times = []
    for _ in range(3):
        t = time.perf_counter(); epoch(x, y); times.append(time.perf_counter() - t)
    print(len(x) / min(times))
"""

SYSTEMS = {
    "fastmlp": COMMON + """
from fastmlp import MLPClassifier
if notebook:
    kw = dict(activation="logistic", output_activation="logistic", loss="squared_error",
              solver="sgd", momentum=0.0, learning_rate_init=0.01, alpha=0.0)
else:
    kw = dict(activation="relu", solver="adam", learning_rate_init=1e-3, alpha=0.0)
best_of_3(lambda x, y: MLPClassifier((hidden,), batch_size=batch, max_iter=1, dtype="float32",
                                     **kw).fit(x, y))
""",
    "PyTorch": COMMON + """
import torch
torch.set_num_threads(2)
def epoch(x, y):
    act = torch.nn.Sigmoid if notebook else torch.nn.ReLU
    layers = [torch.nn.Linear(784, hidden), act(), torch.nn.Linear(hidden, 10)]
    model = torch.nn.Sequential(*layers, *([torch.nn.Sigmoid()] if notebook else []))
    if notebook:
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        t = torch.nn.functional.one_hot(torch.from_numpy(y), 10).float()
        loss_fn = lambda out, rows: ((out - t[rows]) ** 2).sum(1).mean()
    else:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        t = torch.from_numpy(y)
        loss_fn = lambda out, rows: torch.nn.functional.cross_entropy(out, t[rows])
    data = torch.from_numpy(x)
    perm = torch.randperm(len(y))
    for i in range(0, len(y), batch):
        rows = perm[i:i + batch]
        xb = data[rows]
        xb = xb.float().mul_(1 / 255) if xb.dtype == torch.uint8 else xb
        opt.zero_grad()
        loss = loss_fn(model(xb), rows)
        loss.backward()
        opt.step()
        loss.item()
best_of_3(epoch)
""",
    "scikit-learn": COMMON + """
from sklearn.neural_network import MLPClassifier
kw = (dict(activation="logistic", solver="sgd", momentum=0.0, learning_rate_init=0.01)
      if notebook else dict(activation="relu", solver="adam", learning_rate_init=1e-3))
best_of_3(lambda x, y: MLPClassifier((hidden,), batch_size=batch, max_iter=1, alpha=0.0,
                                     **kw).fit(x, y))
""",
    # one jitted epoch: lax.scan over full batches (the rest dropped, and not counted)
    "JAX": COMMON + """
import functools, os
os.environ.setdefault("PJRT_NPROC", "2")
import jax, jax.numpy as jnp
tree = jax.tree_util.tree_map
def init():
    rng, sizes = np.random.default_rng(0), (784, hidden, 10)
    return [tuple(rng.uniform(-i ** -0.5, i ** -0.5, s).astype(np.float32) for s in ((i, o), o))
            for i, o in zip(sizes[:-1], sizes[1:])]
def loss(p, xb, yb):
    h = xb.astype(jnp.float32) * (1 / 255) if xb.dtype == jnp.uint8 else xb
    (w1, b1), (w2, b2) = p
    out = (jax.nn.sigmoid if notebook else jax.nn.relu)(h @ w1 + b1) @ w2 + b2
    if notebook:
        return jnp.mean(jnp.sum((jax.nn.sigmoid(out) - jax.nn.one_hot(yb, 10)) ** 2, 1))
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(out), yb[:, None], 1))
@functools.partial(jax.jit, donate_argnums=0)
def epoch(carry, x, y, key):
    def step(carry, rows):
        p, m, v, t = carry
        g = jax.grad(loss)(p, x[rows], y[rows])
        if notebook:
            return (tree(lambda a, d: a - 0.01 * d, p, g), m, v, t), None
        t = t + 1
        m = tree(lambda a, d: 0.9 * a + 0.1 * d, m, g)
        v = tree(lambda a, d: 0.999 * a + 0.001 * d * d, v, g)
        p = tree(lambda a, b, c: a - 1e-3 / (1 - 0.9 ** t) * b
                 / (jnp.sqrt(c) / jnp.sqrt(1 - 0.999 ** t) + 1e-8), p, m, v)
        return (p, m, v, t), None
    rows = jax.random.permutation(key, len(y)).reshape(-1, batch)
    return jax.lax.scan(step, carry, rows)[0]
def fit(x, y):
    p = init()
    carry = jax.device_put((p, tree(np.zeros_like, p), tree(np.zeros_like, p), np.float32(0)))
    jax.block_until_ready(epoch(carry, x, y.astype(np.int32), jax.random.key(0)))
n = len(y) // batch * batch
x, y = x[:n], y[:n]
fit(x, y)  # compiled for these shapes before the timing
best_of_3(fit)
""",
}

# (hidden, batch, input): the notebook net at two batch sizes, uint8 too, and 784-128-10 Adam
CHECKS = [(16, 128, "float32"), (16, 1024, "float32"), (16, 128, "uint8"), (128, 128, "float32")]


def run(system: str, hidden: int, batch: int, input_type: str) -> float:
    done = subprocess.run([sys.executable, "-c", SYSTEMS[system], str(hidden), str(batch),
                           input_type], capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        raise RuntimeError(f"{system} failed:\n{done.stderr[-2000:]}")
    return float(done.stdout.split()[-1])


def report_ratios(path: Path) -> dict:
    """(network, batch, input) -> {"× PyTorch": str, "× scikit-learn": str} from the report."""
    sys.path.insert(0, str(Path(__file__).parent))
    import report

    rows = report.parse_tables(path.read_text()).get("system|network", [])
    return {(r["network"], r["batch"], r["input"]): r for r in rows
            if r["system"] == "fastmlp" and r["dtype"] == "float32"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--report", type=Path, default=REPO / "docs" / "benchmarks" / "latest.md")
    args = parser.parse_args()
    if "FASTMLP_DATA_DIR" not in os.environ and (REPO / ".benchmarks" / "data").is_dir():
        os.environ["FASTMLP_DATA_DIR"] = str(REPO / ".benchmarks" / "data")
    systems = ["fastmlp"] + [s for s, module in (("JAX", "jax"), ("PyTorch", "torch"))
                             if importlib.util.find_spec(module)] + ["scikit-learn"]
    reported = report_ratios(args.report) if args.report.is_file() else {}
    print(f"load average before: {os.getloadavg()}")
    print("| network | batch | input | system | isolated samples/s (median, min-max) "
          "| isolated ratio | report's ratio | isolated / report |")
    print("|---|---|---|---|---|---|---|---|")
    for hidden, batch, input_type in CHECKS:
        names = [s for s in systems if not (s == "scikit-learn" and input_type == "uint8")]
        rates: dict[str, list[float]] = {s: [] for s in names}
        for r in range(args.rounds):
            for system in names if r % 2 == 0 else names[::-1]:
                rates[system].append(run(system, hidden, batch, input_type))
        median = {s: statistics.median(v) for s, v in rates.items()}
        network = f"784-{hidden}-10"
        row = reported.get((network, str(batch), input_type), {})
        for system in names:
            spread = f"{median[system] / 1e3:.0f} k ({min(rates[system]) / 1e3:.0f}–" \
                     f"{max(rates[system]) / 1e3:.0f} k)"
            if system == "fastmlp":
                print(f"| {network} | {batch} | {input_type} | {system} | {spread} | | | |")
                continue
            mine = median["fastmlp"] / median[system]
            theirs = row.get(f"× {system}", "–")
            agree = (f"{mine / float(theirs.rstrip('×')):.2f}"
                     if theirs not in ("–", "") else "–")
            print(f"| {network} | {batch} | {input_type} | {system} | {spread} | {mine:.2f}× "
                  f"| {theirs} | {agree} |")
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
