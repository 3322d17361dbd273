"""Time one system's epochs on the generated text corpus (``worker.py``'s task ``text``).

Every system trains the same network (``n_terms``-``hidden``-20, ReLU,
softmax and log loss, Adam 1e-3, no L2, float32) at the same batch size on
the same float32 CSR matrix (``textcorpus.generate``, ``n_docs`` documents,
made untimed in the worker process):

- ``fastmlp``: ``MLPClassifier(...).fit(X, y)`` on the CSR matrix (its first
  layer over each batch's stored entries);
- ``scikit-learn``: its ``MLPClassifier`` on the same matrix (SciPy's sparse
  products);
- ``PyTorch``: eager, the first layer ``torch.sparse.mm`` of each batch (a
  COO tensor built from the batch's CSR rows, inside the timing) with the
  dense weights, the other layers dense; a fresh permutation per epoch.

As in the ``epoch`` task, a warm-up fit on a slice comes first, untimed, then
``epochs`` timed one-epoch fits of fresh models; the fastest counts.
"""

from __future__ import annotations

import numpy as np
import textcorpus

WARM_UP_DOCS = 1024


def corpus(spec: dict):
    """The spec's corpus: (X float32 CSR, y int64)."""
    return textcorpus.generate(spec["n_docs"], n_terms=spec["n_terms"], seed=spec.get("seed", 0))


def _params(spec: dict) -> dict:
    return dict(hidden_layer_sizes=tuple(spec["hidden"]), activation="relu", solver="adam",
                learning_rate_init=1e-3, alpha=0.0, batch_size=spec["batch"], max_iter=1)


def fastmlp_fit(spec: dict, X, y, seed: int) -> None:
    from fastmlp import MLPClassifier

    MLPClassifier(**_params(spec), dtype="float32", random_state=seed).fit(X, y)


def sklearn_fit(spec: dict, X, y, seed: int) -> None:
    from sklearn.neural_network import MLPClassifier

    MLPClassifier(**_params(spec), shuffle=True, random_state=seed).fit(X, y)


def torch_fit(spec: dict, X, y, seed: int) -> float:
    """One epoch of PyTorch eager with a torch.sparse first layer; the mean batch loss."""
    import torch
    from worker import TORCH_THREADS

    torch.set_num_threads(TORCH_THREADS)
    torch.manual_seed(seed)
    sizes = (X.shape[1], *spec["hidden"], int(y.max()) + 1)
    first = torch.nn.Linear(sizes[0], sizes[1])
    rest: list = [torch.nn.ReLU()]
    for fan_in, fan_out in zip(sizes[1:-1], sizes[2:], strict=True):
        rest += [torch.nn.Linear(fan_in, fan_out), torch.nn.ReLU()]
    tail = torch.nn.Sequential(*rest[:-1])
    weight = torch.nn.Parameter(first.weight.detach().T.contiguous())  # (n_terms, hidden)
    bias = first.bias
    optimizer = torch.optim.Adam([weight, bias, *tail.parameters()], lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    targets = torch.from_numpy(y)
    order = torch.randperm(X.shape[0]).numpy()
    total, batches = 0.0, 0
    for start in range(0, X.shape[0], spec["batch"]):
        rows = order[start:start + spec["batch"]]
        optimizer.zero_grad(set_to_none=True)
        logits = tail(torch.sparse.mm(_coo(X[rows]), weight) + bias)
        loss = loss_fn(logits, targets[rows])
        loss.backward()
        optimizer.step()
        total += float(loss.detach())
        batches += 1
    return total / batches


def _coo(batch):
    """A SciPy CSR batch as a torch COO tensor (float32)."""
    import torch

    rows = np.repeat(np.arange(batch.shape[0]), np.diff(batch.indptr))
    index = torch.from_numpy(np.vstack([rows, batch.indices]).astype(np.int64))
    return torch.sparse_coo_tensor(index, torch.from_numpy(batch.data), batch.shape,
                                   check_invariants=False)


FITS = {"fastmlp": fastmlp_fit, "scikit-learn": sklearn_fit, "PyTorch": torch_fit}


def run(spec: dict) -> dict:
    """Generate the corpus, warm up, then time ``spec["epochs"]`` one-epoch fits."""
    import time
    import warnings

    X, y = corpus(spec)
    fit = FITS[spec["system"]]
    seconds = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one epoch: convergence warnings by design
        warm = min(WARM_UP_DOCS, X.shape[0])
        fit(spec, X[:warm], y[:warm], 0)
        for epoch in range(spec["epochs"]):
            started = time.perf_counter()
            fit(spec, X, y, epoch)
            seconds.append(time.perf_counter() - started)
    return {"epoch_seconds": seconds, "n_samples": int(X.shape[0]),
            "n_terms": int(X.shape[1]), "nonzeros_per_row": float(X.nnz / X.shape[0])}
